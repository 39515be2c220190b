// The proof-of-work worker (its own file in the build, started from a blob:
// URL by pow.ts): searches the whole range off the page's thread and answers
// with the number, or null when there is none.
import type { Challenge } from './pow.js';
import { digestBytes, searchRange } from './pow-search.js';

/** What the worker answers: the solution, or why it has none. */
export type WorkerAnswer = { number: number | null } | { error: string };

// The DOM typings describe a window; this runs in a dedicated worker.
const scope = self as unknown as { onmessage: ((event: MessageEvent<Challenge>) => void) | null; postMessage(answer: WorkerAnswer): void };

scope.onmessage = ({ data: challenge }) => {
  searchRange(challenge, digestBytes(challenge), 0, challenge.maxnumber + 1).then(
    (number) => scope.postMessage({ number }),
    // No crypto.subtle (an insecure page) and the like: the page falls back to its own thread.
    (error: unknown) => scope.postMessage({ error: String(error) }),
  );
};
