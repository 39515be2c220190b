// Solves the server's proof-of-work challenge (ALTCHA v1) before a feedback
// is sent, so that each submission costs the sender some CPU time.
import { digestBytes, encodeSolution, searchRange } from './pow-search.js';

/** As GET /api/widget/v1/projects/:key/challenge answers it. */
export type Challenge = { algorithm: 'SHA-256'; challenge: string; maxnumber: number; salt: string; signature: string };

/** The main thread is never held longer than this in one go. */
const SLICE_MS = 8;
const CONCURRENCY = 32;

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The proof of work was aborted.', 'AbortError');
}

/** On the page's own thread, in slices of at most SLICE_MS, yielding to the page between slices. */
async function solveOnMainThread(challenge: Challenge, signal: AbortSignal | undefined): Promise<number> {
  const expected = digestBytes(challenge);
  let start = 0;
  while (start <= challenge.maxnumber) {
    const sliceEnd = performance.now() + SLICE_MS;
    while (start <= challenge.maxnumber && performance.now() < sliceEnd) {
      const found = await searchRange(challenge, expected, start, start + CONCURRENCY, CONCURRENCY);
      if (found !== null) return found;
      start += CONCURRENCY;
    }
    await nextTask();
    if (signal?.aborted) throw abortError(signal);
  }
  throw new Error('The proof-of-work challenge has no solution.');
}

/** Resolves with the base64 payload to send as the submission's `challenge`; rejects with the signal's reason when aborted. */
export async function solveChallenge(challenge: Challenge, signal?: AbortSignal): Promise<string> {
  if (signal?.aborted) throw abortError(signal);
  return encodeSolution(challenge, await solveOnMainThread(challenge, signal));
}
