export type FeedbackInput = { message: string; rating?: number; email?: string };

export type FeedbackBody = FeedbackInput & {
  pageUrl: string;
  locale: string;
  viewport: { width: number; height: number };
};

export const NETWORK_ERROR = 'Could not reach the server. Please try again.';
export const GENERIC_ERROR = 'Something went wrong. Please try again.';

const TIMEOUT_MS = 20_000;

// isRefusal: the server answered 4xx, so it stored nothing and a retry is a
// new submission. Network errors and 5xx leave that unknown.
export class SendError extends Error {
  constructor(
    message: string,
    readonly isRefusal: boolean,
  ) {
    super(message);
  }
}

export function buildFeedbackBody(input: FeedbackInput): FeedbackBody {
  return {
    ...input,
    // Query strings and fragments often carry tokens or personal data.
    pageUrl: location.origin + location.pathname,
    locale: navigator.language,
    viewport: { width: innerWidth, height: innerHeight },
  };
}

export async function sendFeedback(endpoint: string, body: FeedbackBody, idempotencyKey: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      mode: 'cors',
      credentials: 'omit',
      // The host page may allow full-URL referrers; never leak its query string.
      referrerPolicy: 'strict-origin',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    throw new SendError(NETWORK_ERROR, false);
  }
  if (!response.ok) throw new SendError(await readProblemDetail(response), response.status < 500);
}

// RFC 9457 problem+json; anything else (a proxy's HTML page) gets generic text.
async function readProblemDetail(response: Response): Promise<string> {
  try {
    const problem: unknown = await response.json();
    if (typeof problem === 'object' && problem !== null && 'detail' in problem) {
      const { detail } = problem;
      if (typeof detail === 'string' && detail) return detail;
    }
  } catch {
    // Not JSON: fall through to the generic text.
  }
  return GENERIC_ERROR;
}
