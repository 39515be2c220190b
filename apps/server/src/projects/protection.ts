import { domainToASCII } from 'node:url';
import { Type, type Static } from '@fastify/type-provider-typebox';
import { AppError } from '../errors.js';
import { OneOf, Text } from '../http/schemas.js';
import { parseIpRange } from '../security/ip-ranges.js';

// How a project's ingestion endpoint defends itself: bot protection, rate
// limits and spam rules. Defaults follow SECURITY.md (ingestion limits);
// limits may be raised within bounds, for sites with real traffic.

export const CAPTCHA_PROVIDERS = ['pow', 'recaptcha', 'turnstile', 'hcaptcha', 'none'] as const;
export type CaptchaMode = (typeof CAPTCHA_PROVIDERS)[number];

const Window = (maxPoints: number) =>
  Type.Object({ points: Type.Integer({ minimum: 1, maximum: maxPoints }), seconds: Type.Integer({ minimum: 1, maximum: 86_400 }) }, { additionalProperties: false });
const RuleList = (maxLength: number) => Type.Array(Text({ minLength: 1, maxLength }), { maxItems: 200 });

export const ProtectionSettingsSchema = Type.Object(
  {
    captcha: Type.Object(
      {
        provider: OneOf(CAPTCHA_PROVIDERS),
        /** The provider's public site key (third-party providers only). */
        siteKey: Type.Union([Text({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' }), Type.Null()]),
        /** reCAPTCHA v3: the lowest score accepted. */
        minScore: Type.Number({ minimum: 0, maximum: 1 }),
        /** The action name the widget reports and the server expects back. */
        action: Type.String({ pattern: '^[A-Za-z0-9_/]{1,100}$' }),
        /** Accept submissions when the provider cannot be reached (off: refuse them). */
        failOpen: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    /** Seconds from opening the dialog to sending, below which a submission is a bot's. */
    minSeconds: Type.Integer({ minimum: 0, maximum: 60 }),
    /** Only submissions carrying a token minted by the site's backend. */
    signedSubmissions: Type.Boolean(),
    /**
     * Accept feedback from the site's own server through the REST API
     * (POST /api/v1/orgs/:orgId/projects/:projectId/feedback with an API key
     * holding feedback_create); off, those answer 403 server_submissions_off.
     */
    serverSubmissions: Type.Boolean({ description: "Accept feedback from the site's own server through the REST API (an API key with feedback_create); off: 403 server_submissions_off." }),
    limits: Type.Object(
      {
        perIp: Window(1_000_000),
        perReporter: Window(10_000),
        projectPerMinute: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
        projectPerDay: Type.Integer({ minimum: 1, maximum: 100_000_000 }),
        challengesPerIp: Window(1_000_000),
      },
      { additionalProperties: false },
    ),
    spam: Type.Object(
      {
        blockedWords: RuleList(100),
        blockedEmailDomains: RuleList(253),
        blockedIpRanges: RuleList(50),
        /** Links allowed in a message; null: any number. */
        maxLinks: Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Null()]),
        /** The same message from the same reporter within an hour is stored once. */
        dropDuplicates: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type ProtectionSettings = Static<typeof ProtectionSettingsSchema>;

/** What the widget is told of a project's protection (never its secret, limits or rules). */
export const WidgetProtectionSchema = Type.Object({
  captcha: Type.Object({ provider: OneOf(CAPTCHA_PROVIDERS), siteKey: Type.Union([Type.String(), Type.Null()]), action: Type.String() }),
  minSeconds: Type.Integer(),
  signedSubmissions: Type.Boolean(),
});

export type WidgetProtection = Static<typeof WidgetProtectionSchema>;

export function widgetProtection({ captcha, minSeconds, signedSubmissions }: ProtectionSettings): WidgetProtection {
  return { captcha: { provider: captcha.provider, siteKey: captcha.siteKey, action: captcha.action }, minSeconds, signedSubmissions };
}

export const DEFAULT_PROTECTION: ProtectionSettings = {
  captcha: { provider: 'pow', siteKey: null, minScore: 0.5, action: 'feedback', failOpen: false },
  minSeconds: 3,
  signedSubmissions: false,
  serverSubmissions: false,
  limits: {
    perIp: { points: 300, seconds: 300 },
    perReporter: { points: 10, seconds: 600 },
    projectPerMinute: 600,
    projectPerDay: 50_000,
    challengesPerIp: { points: 600, seconds: 300 },
  },
  spam: { blockedWords: [], blockedEmailDomains: [], blockedIpRanges: [], maxLinks: 3, dropDuplicates: true },
};

/** Stored settings over the defaults, group by group: a setting added later gets its default. */
export function protectionWithDefaults(stored: Partial<ProtectionSettings>): ProtectionSettings {
  return {
    ...DEFAULT_PROTECTION,
    ...stored,
    captcha: { ...DEFAULT_PROTECTION.captcha, ...stored.captcha },
    limits: { ...DEFAULT_PROTECTION.limits, ...stored.limits },
    spam: { ...DEFAULT_PROTECTION.spam, ...stored.spam },
  };
}

const invalid = (detail: string) => new AppError('validation_failed', detail);

/** A CIDR range or single address, in one spelling; throws with the entry named. */
function normalizeRange(entry: string): string {
  const range = parseIpRange(entry);
  if (!range) throw invalid(`"${entry.slice(0, 60)}" is not an IP address or CIDR range (such as 203.0.113.0/24 or 2001:db8::/32).`);
  return `${range.address}/${range.bits}`;
}

function normalizeEmailDomain(entry: string): string {
  const domain = domainToASCII(entry.trim().toLowerCase().replace(/^@/, '').replace(/\.$/, ''));
  if (!domain || !domain.includes('.') || !/^[a-z0-9.-]+$/.test(domain)) throw invalid(`"${entry.slice(0, 60)}" is not an e-mail domain (such as mailinator.com).`);
  return domain;
}

/** Checks what the schema cannot (third-party keys, address ranges) and puts lists in one form. */
export function normalizeProtection(settings: ProtectionSettings): ProtectionSettings {
  const { captcha, spam } = settings;
  const isThirdParty = captcha.provider !== 'pow' && captcha.provider !== 'none';
  if (isThirdParty && captcha.siteKey === null) throw invalid(`A site key is required for ${captcha.provider}.`);
  const unique = (list: string[]) => [...new Set(list)];
  return {
    ...settings,
    captcha: { ...captcha, siteKey: isThirdParty ? captcha.siteKey : null },
    spam: {
      ...spam,
      blockedWords: unique(spam.blockedWords.map((word) => word.trim().toLowerCase()).filter(Boolean)),
      blockedEmailDomains: unique(spam.blockedEmailDomains.map(normalizeEmailDomain)),
      blockedIpRanges: unique(spam.blockedIpRanges.map(normalizeRange)),
    },
  };
}
