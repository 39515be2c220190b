// Solves the server's proof-of-work challenge (ALTCHA v1) before a feedback
// is sent, so that each submission costs the sender some CPU time. The
// search runs in a Web Worker when the page allows one (CSP worker-src
// blob:), else on the page's thread in short slices.
import { BATCH, digestBytes, encodeSolution, searchRange } from './pow-search.js';
import type { WorkerAnswer } from './pow-worker.js';

/** As GET /api/widget/v1/projects/:key/challenge answers it. */
export type Challenge = { algorithm: 'SHA-256'; challenge: string; maxnumber: number; salt: string; signature: string };

/**
 * Written by build.mjs (as plain strings: esbuild would move an object into
 * a shared chunk). The script-tag build names the worker file beside this
 * chunk with its SRI hash (this chunk was itself verified by the loader, so
 * the pin holds all the way down); the npm build carries the worker's source
 * inline, in the site's own bundle. Undeclared when the source runs unbuilt
 * (unit tests in Node): the main thread then does the work.
 */
declare const PARLEY_POW_WORKER_FILE: string | null;
declare const PARLEY_POW_WORKER_INTEGRITY: string | null;
declare const PARLEY_POW_WORKER_SOURCE: string | null;

/** The main thread is never held longer than this in one go. */
const SLICE_MS = 8;

const abortError = (signal: AbortSignal): unknown => signal.reason ?? new DOMException('The proof of work was aborted.', 'AbortError');
const noSolution = () => new Error('The proof-of-work challenge has no solution.');

let workerUrl: Promise<string> | undefined;
/**
 * Once the page refused a worker, later solves go straight to the main
 * thread: each attempt would cost the site another CSP violation report.
 */
let isWorkerRefused = false;

/** A blob: URL of the worker's verified source, made once per page. */
function loadWorkerUrl(): Promise<string> {
  if (typeof PARLEY_POW_WORKER_FILE === 'undefined') return Promise.reject(new Error('this build has no proof-of-work worker'));
  workerUrl ??= (async () => {
    let source: BlobPart;
    if (PARLEY_POW_WORKER_SOURCE !== null) {
      source = PARLEY_POW_WORKER_SOURCE;
    } else {
      // fetch() with `integrity` refuses bytes whose hash differs, so a
      // swapped file on the server never runs.
      const response = await fetch(new URL(PARLEY_POW_WORKER_FILE!, import.meta.url), { integrity: PARLEY_POW_WORKER_INTEGRITY!, mode: 'cors', credentials: 'omit' });
      if (!response.ok) throw new Error(`the proof-of-work worker did not load (${response.status})`);
      source = await response.blob();
    }
    return URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  })();
  // A failed load (offline for a moment) is tried again on the next solve.
  workerUrl.catch(() => (workerUrl = undefined));
  return workerUrl;
}

class WorkerRefused extends Error {}

/**
 * Resolves with the number, rejects with WorkerRefused when no worker could
 * run (the page's CSP, an old browser, a worker without crypto.subtle).
 */
async function solveInWorker(challenge: Challenge, signal: AbortSignal | undefined): Promise<number> {
  if (isWorkerRefused) throw new WorkerRefused('the page refused a worker before');
  const url = await loadWorkerUrl().catch((error: unknown) => {
    throw new WorkerRefused(String(error));
  });
  if (signal?.aborted) throw abortError(signal);
  return new Promise((resolve, reject) => {
    const refused = (why: string) => {
      isWorkerRefused = true;
      return new WorkerRefused(why);
    };
    let worker: Worker;
    try {
      worker = new Worker(url);
    } catch (error) {
      return reject(refused(String(error)));
    }
    const finish = (settle: () => void) => {
      worker.terminate();
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const onAbort = () => finish(() => reject(abortError(signal!)));
    signal?.addEventListener('abort', onAbort);
    // A CSP that refuses blob: workers shows up here, not as a throw.
    worker.onerror = (event) => {
      event.preventDefault();
      finish(() => reject(refused(event.message || 'the proof-of-work worker did not start')));
    };
    worker.onmessage = ({ data }: MessageEvent<WorkerAnswer>) => {
      if ('error' in data) finish(() => reject(refused(data.error)));
      else if (data.number === null) finish(() => reject(noSolution()));
      else finish(() => resolve(data.number!));
    };
    worker.postMessage(challenge);
  });
}

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** On the page's own thread, in slices of at most SLICE_MS, yielding to the page between slices. */
async function solveOnMainThread(challenge: Challenge, signal: AbortSignal | undefined): Promise<number> {
  const expected = digestBytes(challenge);
  let start = 0;
  while (start <= challenge.maxnumber) {
    if (signal?.aborted) throw abortError(signal);
    const sliceEnd = performance.now() + SLICE_MS;
    while (start <= challenge.maxnumber && performance.now() < sliceEnd) {
      const found = await searchRange(challenge, expected, start, start + BATCH);
      if (found !== null) return found;
      start += BATCH;
    }
    await nextTask();
  }
  throw noSolution();
}

/** Resolves with the base64 payload to send as the submission's `challenge`; rejects with the signal's reason when aborted. */
export async function solveChallenge(challenge: Challenge, signal?: AbortSignal): Promise<string> {
  if (signal?.aborted) throw abortError(signal);
  const number = await solveInWorker(challenge, signal).catch((error: unknown) => {
    if (error instanceof WorkerRefused) return solveOnMainThread(challenge, signal);
    throw error;
  });
  return encodeSolution(challenge, number);
}
