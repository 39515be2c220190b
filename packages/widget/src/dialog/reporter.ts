import type { Store } from '../storage.js';

/** The server's pattern for `reporter` (contract). */
const REPORTER = /^[A-Za-z0-9_-]{16,64}$/;

// Where storage is 'none' or blocked: one id for this page load.
let pageReporter: string | null = null;

/** 128 random bits, base64url: it identifies nothing but this browser's widget, for the per-reporter rate limit. */
function randomReporter(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/**
 * The reporter id sent with each feedback: kept in `parley:<project>:reporter`
 * when storage allows (written at the first feedback, not before), else per
 * page load. A reload then does not reset the visitor's rate limit (the server
 * limits per IP as well, for whoever clears it).
 */
export function reporterId(store: Store): string {
  const kept = store.get('reporter');
  if (kept && REPORTER.test(kept)) return kept;
  pageReporter ??= randomReporter();
  store.set('reporter', pageReporter);
  return pageReporter;
}
