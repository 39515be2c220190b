import { REQUEST_DEFAULTS, projectEndpoint } from '../http.js';
import type { FeedbackBody } from '../public-types.js';

/** A feedback on its way: the same Idempotency-Key on every attempt, so the server stores it once. */
export type Parcel = { key: string; body: FeedbackBody; screenshot: Blob | null; queuedAt: number };

/** The server's RFC 9457 answer to a refused request: the widget shows `detail` and branches on `code`. */
export type Problem = { status: number; code: string; detail: string };

/** stored: the server has it; retry: network, 408, 429 or 5xx, try later; refused: a 4xx, sending again will not help. */
export type Delivery = { kind: 'stored'; id: string } | { kind: 'retry'; afterMs: number } | { kind: 'refused'; problem: Problem };

const TIMEOUT_MS = 20_000;

// A proxy's HTML error page yields a generic problem.
async function readProblem(response: Response): Promise<Problem> {
  const { status } = response;
  const body: { code?: unknown; detail?: unknown } = await response.json().catch(() => ({}));
  return { status, code: String(body.code ?? `http_${status}`), detail: String(body.detail ?? `HTTP ${status}`) };
}

// Readable only when the server lists it in Access-Control-Expose-Headers.
function retryAfterMs(response: Response): number {
  const seconds = Number(response.headers.get('Retry-After'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

async function post(url: string, body: BodyInit, headers: Record<string, string>): Promise<Delivery> {
  let response: Response;
  try {
    response = await fetch(url, { ...REQUEST_DEFAULTS, method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch {
    return { kind: 'retry', afterMs: 0 };
  }
  if (response.ok) {
    try {
      return { kind: 'stored', id: String(((await response.json()) as { id: unknown }).id) };
    } catch {
      return { kind: 'retry', afterMs: 0 };
    }
  }
  if (response.status === 408 || response.status === 429 || response.status >= 500) return { kind: 'retry', afterMs: retryAfterMs(response) };
  return { kind: 'refused', problem: await readProblem(response) };
}

/** Uploads the screenshot first (once: its id stays on the parcel), then posts the feedback. */
export async function deliver(apiOrigin: string, project: string, parcel: Parcel): Promise<Delivery> {
  if (parcel.screenshot && !parcel.body.screenshotId) {
    const upload = await post(projectEndpoint(apiOrigin, project, 'screenshots'), parcel.screenshot, { 'Content-Type': parcel.screenshot.type || 'image/png' });
    if (upload.kind !== 'stored') return upload;
    parcel.body.screenshotId = upload.id;
  }
  return post(projectEndpoint(apiOrigin, project, 'feedback'), JSON.stringify(parcel.body), { 'Content-Type': 'application/json', 'Idempotency-Key': parcel.key });
}
