import { REQUEST_DEFAULTS, projectEndpoint } from '../http.js';
import type { FeedbackBody } from '../public-types.js';

/** A feedback on its way: the same Idempotency-Key on every attempt, so the server stores it once. */
export type Parcel = { key: string; body: FeedbackBody; screenshot: Blob | null; queuedAt: number };

/** The server's RFC 9457 answer to a refused request: the widget shows `detail` and branches on `code`. */
export type Problem = { status: number; code: string; detail: string };

/** What the front door wants with each attempt; single use, so never stored with the parcel. */
export type Proof = Pick<FeedbackBody, 'challenge' | 'captcha'>;

/**
 * stored: the server has it; retry: network, 408 or 5xx, try later; limited: a 429, not before `afterMs`;
 * refused: a 4xx, sending again will not help.
 */
export type Delivery =
  | { kind: 'stored'; id: string }
  | { kind: 'retry'; afterMs: number }
  | { kind: 'limited'; afterMs: number; problem: Problem }
  | { kind: 'refused'; problem: Problem };

export type Undelivered = Exclude<Delivery, { kind: 'stored' }>;

/** No proof could be had (challenge not fetched, captcha not loaded): what becomes of the feedback instead. */
export class ProofFailure extends Error {
  constructor(readonly delivery: Undelivered) {
    super(delivery.kind === 'retry' ? 'no proof yet' : `proof refused: ${delivery.problem.code}`);
  }
}

const TIMEOUT_MS = 20_000;
/** When a 429's Retry-After cannot be read (a proxy's answer without it). */
const DEFAULT_LIMITED_MS = 60_000;
/** A solved challenge is single use and expires after 5 minutes: one that went stale while queued gets one fresh try. */
const STALE_PROOF = ['challenge_expired', 'challenge_replayed', 'challenge_invalid'];

// A proxy's HTML error page yields a generic problem.
async function readProblem(response: Response): Promise<Problem> {
  const { status } = response;
  const body: { code?: unknown; detail?: unknown } = await response.json().catch(() => ({}));
  return { status, code: String(body.code ?? `http_${status}`), detail: String(body.detail ?? `HTTP ${status}`) };
}

// Readable only because the server lists it in Access-Control-Expose-Headers.
function retryAfterMs(response: Response): number {
  const seconds = Number(response.headers.get('Retry-After'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/** What a refused (not ok) answer means for the feedback. */
export async function undelivered(response: Response): Promise<Undelivered> {
  if (response.status === 429) return { kind: 'limited', afterMs: retryAfterMs(response) || DEFAULT_LIMITED_MS, problem: await readProblem(response) };
  if (response.status === 408 || response.status >= 500) return { kind: 'retry', afterMs: retryAfterMs(response) };
  return { kind: 'refused', problem: await readProblem(response) };
}

/** fetch() with the widget's defaults and a time limit; null when the network failed. */
export function request(url: string, init: RequestInit = {}): Promise<Response | null> {
  return fetch(url, { ...REQUEST_DEFAULTS, ...init, signal: AbortSignal.timeout(TIMEOUT_MS) }).catch(() => null);
}

async function post(url: string, body: BodyInit, headers: Record<string, string>): Promise<Delivery> {
  const response = await request(url, { method: 'POST', headers, body });
  if (!response) return { kind: 'retry', afterMs: 0 };
  if (!response.ok) return undelivered(response);
  try {
    return { kind: 'stored', id: String(((await response.json()) as { id: unknown }).id) };
  } catch {
    return { kind: 'retry', afterMs: 0 };
  }
}

async function proofOrFailure(prove: () => Promise<Proof>): Promise<Proof | Undelivered> {
  try {
    return await prove();
  } catch (error) {
    return error instanceof ProofFailure ? error.delivery : { kind: 'retry', afterMs: 0 };
  }
}

/**
 * Uploads the screenshot first (once: its id stays on the parcel), then posts
 * the feedback with a proof made for this attempt only.
 */
export async function deliver(apiOrigin: string, project: string, parcel: Parcel, prove: () => Promise<Proof>): Promise<Delivery> {
  if (parcel.screenshot && !parcel.body.screenshotId) {
    const upload = await post(projectEndpoint(apiOrigin, project, 'screenshots'), parcel.screenshot, { 'Content-Type': parcel.screenshot.type || 'image/png' });
    if (upload.kind !== 'stored') return upload;
    parcel.body.screenshotId = upload.id;
  }
  for (let attempt = 1; ; attempt++) {
    const proof = await proofOrFailure(prove);
    if ('kind' in proof) return proof;
    const delivery = await post(projectEndpoint(apiOrigin, project, 'feedback'), JSON.stringify({ ...parcel.body, ...proof }), {
      'Content-Type': 'application/json',
      'Idempotency-Key': parcel.key,
    });
    if (attempt === 1 && delivery.kind === 'refused' && STALE_PROOF.includes(delivery.problem.code)) continue;
    return delivery;
  }
}
