import type { CaptchaProvider, LimitWindow, ProtectionSettings } from '../api/types';
import { isIpRange } from './ip-range';

// The protection editor works on a draft: numbers and lists are edited as the
// text a person types. The draft becomes ProtectionSettings only when every
// field is valid; each problem is named next to its field. The bounds mirror
// apps/server/src/projects/protection.ts; the server still checks everything.

export const THIRD_PARTY_PROVIDERS: readonly CaptchaProvider[] = ['recaptcha', 'turnstile', 'hcaptcha'];

export const isThirdParty = (provider: CaptchaProvider): boolean => THIRD_PARTY_PROVIDERS.includes(provider);

export const PROVIDER_NAMES: Record<CaptchaProvider, string> = {
  pow: 'Built-in proof of work',
  recaptcha: 'Google reCAPTCHA v3',
  turnstile: 'Cloudflare Turnstile',
  hcaptcha: 'hCaptcha',
  none: 'None',
};

export const MAX_SITE_KEY = 200;
export const MAX_SECRET = 500;
export const MAX_ACTION = 100;
export const MAX_MIN_SECONDS = 60;
export const MAX_LIST_ENTRIES = 200;
export const MAX_LINKS = 100;
/** Longest window of a limit: a day. */
export const MAX_WINDOW_SECONDS = 86_400;
/** Highest limits the server takes: room for sites with real traffic. */
export const MAX_LIMITS = {
  perIp: 1_000_000,
  perReporter: 10_000,
  projectPerMinute: 1_000_000,
  projectPerDay: 100_000_000,
  challengesPerIp: 1_000_000,
} as const;

const SITE_KEY = /^[A-Za-z0-9_-]+$/;
/** Letters, digits, `_` and `/`: what reCAPTCHA accepts in an action name. */
const ACTION = /^[A-Za-z0-9_/]+$/;
/** A provider secret is printable ASCII without spaces. */
const SECRET = /^[\x21-\x7e]+$/;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
const WHOLE = /^\d{1,9}$/;

/** A limit window as typed: requests and seconds. */
export type WindowDraft = { points: string; seconds: string };

export type ProtectionDraft = {
  provider: CaptchaProvider;
  siteKey: string;
  minScore: string;
  action: string;
  failOpen: boolean;
  /** Write-only: empty keeps the stored secret. */
  secret: string;
  minSeconds: string;
  signedSubmissions: boolean;
  /** Feedback created through the REST API with an API key (feedback_create); off: 403 server_submissions_off. */
  serverSubmissions: boolean;
  perIp: WindowDraft;
  perReporter: WindowDraft;
  projectPerMinute: string;
  projectPerDay: string;
  challengesPerIp: WindowDraft;
  /** One entry per line. */
  blockedWords: string;
  blockedEmailDomains: string;
  blockedIpRanges: string;
  /** Empty: no limit. */
  maxLinks: string;
  dropDuplicates: boolean;
};

/** The fields a problem can be attached to. */
export type DraftField =
  | 'siteKey'
  | 'minScore'
  | 'action'
  | 'secret'
  | 'minSeconds'
  | 'perIp.points'
  | 'perIp.seconds'
  | 'perReporter.points'
  | 'perReporter.seconds'
  | 'projectPerMinute'
  | 'projectPerDay'
  | 'challengesPerIp.points'
  | 'challengesPerIp.seconds'
  | 'blockedWords'
  | 'blockedEmailDomains'
  | 'blockedIpRanges'
  | 'maxLinks';

export type DraftProblems = Partial<Record<DraftField, string>>;

export type ProtectionResult =
  | { ok: true; settings: ProtectionSettings; secret: string | null }
  | { ok: false; problems: DraftProblems };

const windowDraft = (limit: LimitWindow): WindowDraft => ({ points: String(limit.points), seconds: String(limit.seconds) });

export function toDraft(settings: ProtectionSettings): ProtectionDraft {
  const { captcha, limits, spam } = settings;
  return {
    provider: captcha.provider,
    siteKey: captcha.siteKey ?? '',
    minScore: String(captcha.minScore),
    action: captcha.action,
    failOpen: captcha.failOpen,
    secret: '',
    minSeconds: String(settings.minSeconds),
    signedSubmissions: settings.signedSubmissions,
    serverSubmissions: settings.serverSubmissions,
    perIp: windowDraft(limits.perIp),
    perReporter: windowDraft(limits.perReporter),
    projectPerMinute: String(limits.projectPerMinute),
    projectPerDay: String(limits.projectPerDay),
    challengesPerIp: windowDraft(limits.challengesPerIp),
    blockedWords: spam.blockedWords.join('\n'),
    blockedEmailDomains: spam.blockedEmailDomains.join('\n'),
    blockedIpRanges: spam.blockedIpRanges.join('\n'),
    maxLinks: spam.maxLinks === null ? '' : String(spam.maxLinks),
    dropDuplicates: spam.dropDuplicates,
  };
}

/** The non-empty lines of a list field, trimmed, each once. */
export function lines(text: string): string[] {
  return [...new Set(text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== ''))];
}

/** The settings the draft stands for (and a secret to store, if one was typed), or the problem of each refused field. */
export function fromDraft(draft: ProtectionDraft): ProtectionResult {
  const problems: DraftProblems = {};
  const refuse = (field: DraftField, problem: string) => {
    problems[field] ??= problem;
  };
  const whole = (field: DraftField, text: string, min: number, max: number): number => {
    const value = WHOLE.test(text.trim()) ? Number(text.trim()) : NaN;
    if (!(value >= min && value <= max)) refuse(field, `A whole number from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}.`);
    return value;
  };
  const limitWindow = (name: 'perIp' | 'perReporter' | 'challengesPerIp'): LimitWindow => ({
    points: whole(`${name}.points`, draft[name].points, 1, MAX_LIMITS[name]),
    seconds: whole(`${name}.seconds`, draft[name].seconds, 1, MAX_WINDOW_SECONDS),
  });
  const list = (field: DraftField, text: string, isValid: (entry: string) => boolean, what: string): string[] => {
    const entries = lines(text);
    const bad = entries.find((entry) => !isValid(entry));
    if (bad !== undefined) refuse(field, `“${bad.slice(0, 60)}” is not ${what}.`);
    else if (entries.length > MAX_LIST_ENTRIES) refuse(field, `At most ${MAX_LIST_ENTRIES} entries.`);
    return entries;
  };

  const thirdParty = isThirdParty(draft.provider);
  const siteKey = draft.siteKey.trim();
  if (thirdParty && siteKey === '') refuse('siteKey', `${PROVIDER_NAMES[draft.provider]} needs the site key of your site.`);
  // The built-in check and none keep no site key: whatever is left in the field is not saved.
  if (thirdParty && siteKey !== '' && !(SITE_KEY.test(siteKey) && siteKey.length <= MAX_SITE_KEY)) {
    refuse('siteKey', `Up to ${MAX_SITE_KEY} letters, digits, “_” or “-”, as the provider shows it.`);
  }
  const action = draft.action.trim();
  if (!(ACTION.test(action) && action.length <= MAX_ACTION)) refuse('action', `1 to ${MAX_ACTION} letters, digits, “_” or “/”.`);
  const scoreText = draft.minScore.trim();
  const minScore = DECIMAL.test(scoreText) ? Number(scoreText) : NaN;
  if (!(minScore >= 0 && minScore <= 1)) refuse('minScore', 'A number from 0 to 1, such as 0.5.');
  const secret = draft.secret.trim();
  if (thirdParty && secret !== '' && !(SECRET.test(secret) && secret.length <= MAX_SECRET)) {
    refuse('secret', `Up to ${MAX_SECRET} characters, without spaces, as the provider shows it.`);
  }

  const minSeconds = whole('minSeconds', draft.minSeconds, 0, MAX_MIN_SECONDS);
  const limits = {
    perIp: limitWindow('perIp'),
    perReporter: limitWindow('perReporter'),
    projectPerMinute: whole('projectPerMinute', draft.projectPerMinute, 1, MAX_LIMITS.projectPerMinute),
    projectPerDay: whole('projectPerDay', draft.projectPerDay, 1, MAX_LIMITS.projectPerDay),
    challengesPerIp: limitWindow('challengesPerIp'),
  };
  const spam = {
    blockedWords: list('blockedWords', draft.blockedWords, (word) => word.length <= 100, 'a word of at most 100 characters'),
    blockedEmailDomains: list('blockedEmailDomains', draft.blockedEmailDomains, isDomainName, 'a domain name such as mailinator.com'),
    blockedIpRanges: list('blockedIpRanges', draft.blockedIpRanges, isIpRange, 'an IP address or CIDR range such as 203.0.113.0/24'),
    maxLinks: draft.maxLinks.trim() === '' ? null : whole('maxLinks', draft.maxLinks, 0, MAX_LINKS),
    dropDuplicates: draft.dropDuplicates,
  };

  if (Object.keys(problems).length > 0) return { ok: false, problems };
  return {
    ok: true,
    secret: thirdParty && secret !== '' ? secret : null,
    settings: {
      captcha: {
        provider: draft.provider,
        // The server keeps a site key only for third-party providers.
        siteKey: thirdParty ? siteKey : null,
        minScore,
        action,
        failOpen: draft.failOpen,
      },
      minSeconds,
      signedSubmissions: draft.signedSubmissions,
      serverSubmissions: draft.serverSubmissions,
      limits,
      spam,
    },
  };
}

/** True when saving the draft would change something: the settings, or a new secret. */
export function isDraftChanged(draft: ProtectionDraft, settings: ProtectionSettings): boolean {
  const result = fromDraft(draft);
  if (!result.ok) return true;
  return result.secret !== null || JSON.stringify(result.settings) !== JSON.stringify(fromDraftOrNull(toDraft(settings)));
}

function fromDraftOrNull(draft: ProtectionDraft): ProtectionSettings | null {
  const result = fromDraft(draft);
  return result.ok ? result.settings : null;
}

/** A domain with at least two labels, Unicode allowed, an `@` in front tolerated; the server normalises it. */
function isDomainName(entry: string): boolean {
  return entry.length <= 253 && /^@?[^\s@/:*.]+(\.[^\s@/:*.]+)+\.?$/u.test(entry);
}
