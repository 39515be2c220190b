import type { Locale } from '../locale.js';
import type { Problem } from './delivery.js';
import type { Translate } from './messages.js';

// A person never trips these on purpose (a browser's autofill in the hidden
// field, a clock gone wrong): no accusing detail, and nothing that tells a
// bot which check caught it.
const GENTLE = ['honeypot_filled', 'too_fast'];
// Limits the visitor reached themselves; the others are the project's or the server's.
const VISITOR_LIMITS = ['rate_limit_reporter', 'rate_limit_ip'];

/**
 * What the dialog says when a feedback was refused: the server's `detail`, or
 * a gentle generic text. The widget's own refusals (status 0: a captcha that
 * did not run, a chunk that did not load) are the site owner's to fix and go
 * to the `error` event; the visitor reads the generic text.
 */
export function refusalText(problem: Problem, t: Translate): string {
  return problem.status === 0 || GENTLE.includes(problem.code) ? t('error.generic') : problem.detail;
}

/** "… Please try again in 3 minutes.", in the dialog's language, after a 429. */
export function limitText(afterMs: number, problem: Problem, t: Translate, locale: Locale): string {
  const seconds = Math.max(1, Math.ceil(afterMs / 1000));
  const [value, unit]: [number, Intl.RelativeTimeFormatUnit] = seconds < 60 ? [seconds, 'second'] : seconds < 3600 ? [Math.ceil(seconds / 60), 'minute'] : [Math.ceil(seconds / 3600), 'hour'];
  const when = new Intl.RelativeTimeFormat(locale).format(value, unit);
  return t(VISITOR_LIMITS.includes(problem.code) ? 'error.tooMuch' : 'error.busy', { when });
}
