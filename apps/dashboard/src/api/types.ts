// Shapes of the /api/v1 answers the dashboard reads. Written by hand for now;
// they will come from the generated client in packages/client once the
// server publishes /api/v1/openapi.json.

export type User = {
  id: string;
  email: string;
  name: string;
};

export const ORG_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

export type Membership = {
  id: string;
  name: string;
  role: OrgRole;
  requireMfa: boolean;
};

/** `mfa`: the password was right, a second factor is due; `enroll`: an organization requires MFA the user has not set up. */
export type SessionStage = 'mfa' | 'enroll' | 'done';
export type SecondFactor = 'totp' | 'webauthn' | 'recovery';

export type Me = {
  user: User;
  organizations: Membership[];
  session: { stage: SessionStage; methods: SecondFactor[]; factorAt: string | null };
};

/** The answer of /auth/login, /auth/mfa/* and /invites/accept. */
export type LoginAnswer = {
  user: User;
  stage: SessionStage;
  methods: SecondFactor[];
};

export type Passkey = {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
};

export type MfaState = {
  totp: { enabled: boolean; createdAt: string | null };
  passkeys: Passkey[];
  recoveryCodes: { left: number };
};

/** A pending authenticator-app secret, waiting for its first code. */
export type TotpSetup = {
  secret: string;
  otpauthUrl: string;
};

/** Recovery codes are in an answer only when they were just made: shown once. */
export type NewRecoveryCodes = { recoveryCodes: string[] | null };

export type Session = {
  id: string;
  current: boolean;
  /** e.g. "Chrome 156 on Linux" */
  device: string;
  ip: string | null;
  createdAt: string;
  lastSeenAt: string;
};

export const LOGIN_METHODS = ['password', 'totp', 'webauthn', 'recovery', 'reset', 'invite'] as const;
export const LOGIN_RESULTS = ['success', 'failure', 'blocked'] as const;
export type LoginMethod = (typeof LOGIN_METHODS)[number];
export type LoginResult = (typeof LOGIN_RESULTS)[number];

export type LoginAttempt = {
  id: string;
  at: string;
  email: string;
  ip: string | null;
  userAgent: string | null;
  method: LoginMethod;
  result: LoginResult;
  reason: string | null;
};

/** An organization's history also names the account an attempt matched, if any. */
export type OrgLoginAttempt = LoginAttempt & { user: User | null };

/** Newest first; `next` is passed back as `before` for the older ones. */
export type HistoryPage<T> = {
  items: T[];
  next: string | null;
};

export type Member = {
  userId: string;
  email: string;
  name: string;
  role: OrgRole;
  /** null: every project of the organization. */
  projectIds: string[] | null;
  mfa: boolean;
  joinedAt: string;
};

export type Invite = {
  id: string;
  email: string;
  role: OrgRole;
  projectIds: string[] | null;
  createdAt: string;
  expiresAt: string;
  /** null once the inviting account is gone. */
  invitedBy: { id: string; name: string } | null;
};

export type InviteLookup = {
  organization: { name: string };
  email: string;
  role: OrgRole;
  hasAccount: boolean;
};

export type Permission = {
  id: string;
  description: string;
  roles: OrgRole[];
};

export type Permissions = {
  roles: OrgRole[];
  permissions: Permission[];
};

export type SecurityPolicy = {
  requireMfa: boolean;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  limits: { idleMinutesMax: number; absoluteHoursMax: number };
};

export type SetupState = {
  required: boolean;
};

export const LAUNCHER_POSITIONS = ['bottom-right', 'bottom-left', 'top-right', 'top-left'] as const;
export const THEMES = ['light', 'dark', 'auto'] as const;
export const WIDGET_LOCALES = ['auto', 'en', 'de', 'fr', 'es'] as const;
export const RATING_MODES = ['stars', 'thumbs', 'emoji', 'nps', 'none'] as const;
export const EMAIL_MODES = ['hidden', 'optional', 'required'] as const;
export const SCREENSHOT_MODES = ['dom', 'native'] as const;
export const CUSTOM_FIELD_TYPES = ['text', 'select'] as const;

export type RatingMode = (typeof RATING_MODES)[number];
export type RatingScale = Exclude<RatingMode, 'none'>;

export type FeedbackType = { id: string; label: string };

export type CustomField = {
  id: string;
  label: string;
  type: (typeof CUSTOM_FIELD_TYPES)[number];
  /** For `select`: the choices. */
  options: string[];
  required: boolean;
};

/** How a project's widget looks and behaves (apps/server/src/projects/widget-settings.ts). */
export type WidgetSettings = {
  launcher: {
    position: (typeof LAUNCHER_POSITIONS)[number];
    /** Empty: the built-in, translated "Feedback". */
    label: string;
    color: string;
    textColor: string;
  };
  theme: (typeof THEMES)[number];
  locale: (typeof WIDGET_LOCALES)[number];
  types: FeedbackType[];
  rating: RatingMode;
  email: (typeof EMAIL_MODES)[number];
  customFields: CustomField[];
  consent: { required: boolean; privacyUrl: string | null };
  screenshot: { enabled: boolean; mode: (typeof SCREENSHOT_MODES)[number] };
  context: {
    pageUrl: boolean;
    keepQuery: boolean;
    browser: boolean;
    viewport: boolean;
    locale: boolean;
    consoleErrors: boolean;
  };
  display: {
    urlPatterns: string[];
    autoOpenSeconds: number | null;
    snoozeDays: number | null;
    maxShows: number | null;
  };
  identity: { required: boolean };
  /** Site-owner overrides of the widget's texts, by message key. */
  texts: Record<string, string>;
};

/**
 * The server's defaults, kept only as a fallback: the server always answers
 * with a project's full `settings`, but an older server (or a section it has
 * not filled in) must not break the editor.
 */
export const DEFAULT_WIDGET_SETTINGS: WidgetSettings = {
  launcher: { position: 'bottom-right', label: '', color: '#2563eb', textColor: '#ffffff' },
  theme: 'auto',
  locale: 'auto',
  types: [],
  rating: 'stars',
  email: 'optional',
  customFields: [],
  consent: { required: false, privacyUrl: null },
  screenshot: { enabled: false, mode: 'dom' },
  context: { pageUrl: true, keepQuery: false, browser: true, viewport: true, locale: true, consoleErrors: false },
  display: { urlPatterns: [], autoOpenSeconds: null, snoozeDays: null, maxShows: null },
  identity: { required: false },
  texts: {},
};

/** CSP directives (name -> sources) the host site must allow for the widget. */
export type HostCsp = Record<string, string[]>;

export type Project = {
  id: string;
  name: string;
  key: string;
  domains: string[];
  createdAt: string;
  /** The embed snippet, with Subresource Integrity (`integrity`, `crossorigin`). */
  snippet: string;
  settings: WidgetSettings;
  hasIdentitySecret: boolean;
  csp: HostCsp;
};

export const FEEDBACK_STATUSES = ['new', 'in_progress', 'done', 'archived'] as const;
export type FeedbackStatus = (typeof FEEDBACK_STATUSES)[number];

export type FeedbackSummary = {
  id: string;
  createdAt: string;
  status: FeedbackStatus;
  rating: number | null;
  /** The scale the rating was given on; null for ratings from before scales existed (1–5). */
  ratingScale: RatingScale | null;
  type: string | null;
  message: string;
  email: string | null;
  hasScreenshot: boolean;
};

export type FeedbackIdentity = {
  id: string;
  email: string | null;
  name: string | null;
  /** True when the page signed the id with the project's identity secret. */
  verified: boolean;
};

export type ConsoleError = {
  message: string;
  stack: string | null;
};

export type Feedback = FeedbackSummary & {
  projectId: string;
  updatedAt: string;
  pageUrl: string | null;
  locale: string | null;
  viewport: { width: number; height: number } | null;
  custom: Record<string, string>;
  userAgent: string | null;
  ip: string | null;
  /** null: the widget did not ask for consent. */
  consent: boolean | null;
  identity: FeedbackIdentity | null;
  metadata: Record<string, string | number | boolean>;
  browser: string | null;
  os: string | null;
  consoleErrors: ConsoleError[];
};

export type Page<T> = {
  items: T[];
  nextCursor: string | null;
};

export type List<T> = {
  items: T[];
};

export const CAPTCHA_PROVIDERS = ['pow', 'recaptcha', 'turnstile', 'hcaptcha', 'none'] as const;
export type CaptchaProvider = (typeof CAPTCHA_PROVIDERS)[number];

/** A limit of `points` requests per `seconds`. */
export type LimitWindow = { points: number; seconds: number };

/** How a project's ingestion endpoint defends itself (apps/server/src/projects/protection.ts). */
export type ProtectionSettings = {
  captcha: {
    provider: CaptchaProvider;
    /** The third-party provider's public site key; null for pow and none. */
    siteKey: string | null;
    /** reCAPTCHA v3: the lowest score accepted, 0 to 1. */
    minScore: number;
    /** The action the widget names and the server expects back. */
    action: string;
    /** Accept submissions when the provider cannot be reached. */
    failOpen: boolean;
  };
  /** Least seconds from opening the dialog to sending, 0 to 60. */
  minSeconds: number;
  /** Every submission must carry a token minted by the site's backend with the identity secret. */
  signedSubmissions: boolean;
  /** Reserved for submissions authenticated by an API key. */
  serverSubmissions: boolean;
  limits: {
    perIp: LimitWindow;
    perReporter: LimitWindow;
    projectPerMinute: number;
    projectPerDay: number;
    challengesPerIp: LimitWindow;
  };
  spam: {
    blockedWords: string[];
    blockedEmailDomains: string[];
    blockedIpRanges: string[];
    /** null: no limit. */
    maxLinks: number | null;
    /** Identical messages from one reporter within an hour are stored once. */
    dropDuplicates: boolean;
  };
};

/** The server's default limits (../shared/SECURITY.md), shown next to each limit. */
export const DEFAULT_LIMITS: ProtectionSettings['limits'] = {
  perIp: { points: 300, seconds: 300 },
  perReporter: { points: 10, seconds: 600 },
  projectPerMinute: 600,
  projectPerDay: 50_000,
  challengesPerIp: { points: 600, seconds: 300 },
};

/** GET/PUT …/protection. The captcha secret is write-only: only whether one is stored. */
export type Protection = {
  settings: ProtectionSettings;
  hasCaptchaSecret: boolean;
  domains: string[];
};

/** Refused submissions of the last 24 hours, by problem code and by hour. */
export type Refusals = {
  since: string;
  total: number;
  reasons: { code: string; count: number }[];
  hours: { hour: string; count: number }[];
};
