import type { Store } from './storage.js';
import type { WidgetSettings } from './settings.js';

type Display = WidgetSettings['display'];

const DAY_MS = 86_400_000;

/**
 * `*` matches any run of characters; everything else matches itself, and the
 * whole path must match. A loop instead of a RegExp: a pattern with many
 * stars cannot make matching explode (at worst pattern length × path length).
 */
export function matchesPathPattern(pattern: string, path: string): boolean {
  let p = 0;
  let s = 0;
  let star = -1;
  let resumeAt = 0;
  while (s < path.length) {
    if (pattern[p] === '*') {
      star = p++;
      resumeAt = s;
    } else if (p < pattern.length && pattern[p] === path[s]) {
      p++;
      s++;
    } else if (star >= 0) {
      p = star + 1;
      s = ++resumeAt;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Whether the project's display rules let the launcher (and auto-open) appear on this page now. */
export function isShownHere(display: Display, store: Store, path: string, now: number): boolean {
  if (display.urlPatterns.length > 0 && !display.urlPatterns.some((pattern) => matchesPathPattern(pattern, path))) return false;
  if (display.maxShows !== null && Number(store.get('shows')) >= display.maxShows) return false;
  if (display.snoozeDays !== null) {
    const last = Math.max(Number(store.get('dismissedAt')), Number(store.get('submittedAt')));
    if (now - last < display.snoozeDays * DAY_MS) return false;
  }
  return true;
}

/** Counts a show, only when a limit needs the count (nothing is stored otherwise). */
export function noteShown(display: Display, store: Store): void {
  if (display.maxShows !== null) store.set('shows', String((Number(store.get('shows')) || 0) + 1));
}

/** Remembers when the visitor dismissed or submitted, only when a snooze needs it. */
export function noteClosed(display: Display, store: Store, submitted: boolean, now: number): void {
  if (display.snoozeDays !== null) store.set(submitted ? 'submittedAt' : 'dismissedAt', String(now));
}
