import type { ConsoleError } from './public-types.js';

const KEEP = 20;

/**
 * Keeps the page's last uncaught errors and unhandled rejections in `into`
 * (opt-in per project). Listens beside the page's own handlers: nothing is
 * replaced, prevented or logged again. Returns the function that stops it.
 */
export function watchConsoleErrors(into: ConsoleError[]): () => void {
  const keep = (reason: unknown) => {
    const error = reason instanceof Error ? reason : null;
    into.push({ message: String(error ? `${error.name}: ${error.message}` : reason).slice(0, 1000), ...(error?.stack ? { stack: error.stack.slice(0, 4000) } : {}) });
    if (into.length > KEEP) into.shift();
  };
  const onError = (event: ErrorEvent) => keep(event.error ?? event.message);
  const onRejection = (event: PromiseRejectionEvent) => keep(event.reason);
  addEventListener('error', onError);
  addEventListener('unhandledrejection', onRejection);
  return () => {
    removeEventListener('error', onError);
    removeEventListener('unhandledrejection', onRejection);
  };
}
