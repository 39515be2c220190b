import type { Answer, Body, Query } from '@parley/client';

// The API's shapes under the names the pages use. Each is the generated type
// of an operation's answer (packages/client, from the server's OpenAPI
// document), so a change on the server is a compile error here.

export type Me = Answer<'get', '/api/v1/me'>;
export type User = Me['user'];
export type Membership = Me['organizations'][number];
export type OrgRole = Membership['role'];
/** `mfa`: the password was right, a second factor is due; `enroll`: an organization requires MFA the user has not set up. */
export type SessionStage = Me['session']['stage'];
export type SecondFactor = Me['session']['methods'][number];
/** The answer of /auth/login, /auth/mfa/* and /invites/accept. */
export type LoginAnswer = Answer<'post', '/api/v1/auth/login'>;

export type MfaState = Answer<'get', '/api/v1/me/mfa'>;
export type Passkey = MfaState['passkeys'][number];
/** A pending authenticator-app secret, waiting for its first code. */
export type TotpSetup = Answer<'post', '/api/v1/me/mfa/totp'>;
/** Recovery codes are in an answer only when they were just made: shown once. */
export type NewRecoveryCodes = Answer<'post', '/api/v1/me/mfa/totp/confirm'>;
export type Session = Answer<'get', '/api/v1/me/sessions'>['items'][number];

/** Newest first; `next` is passed back as `before` for the older ones. */
export type HistoryPage = Answer<'get', '/api/v1/me/logins'> | Answer<'get', '/api/v1/orgs/{orgId}/logins'>;
export type LoginAttempt = Answer<'get', '/api/v1/me/logins'>['items'][number];
/** An organization's history also names the account an attempt matched, if any. */
export type OrgLoginAttempt = Answer<'get', '/api/v1/orgs/{orgId}/logins'>['items'][number];
export type LoginMethod = LoginAttempt['method'];
export type LoginResult = LoginAttempt['result'];

export type Member = Answer<'get', '/api/v1/orgs/{orgId}/members'>['items'][number];
export type Invite = Answer<'get', '/api/v1/orgs/{orgId}/invites'>['items'][number];
export type InviteLookup = Answer<'post', '/api/v1/invites/lookup'>;
export type Permissions = Answer<'get', '/api/v1/permissions'>;
export type SecurityPolicy = Answer<'get', '/api/v1/orgs/{orgId}/security'>;
export type SetupState = Answer<'get', '/api/v1/setup'>;

export type Project = Answer<'get', '/api/v1/orgs/{orgId}/projects/{projectId}'>;
/** How a project's widget looks and behaves (apps/server/src/projects/widget-settings.ts). */
export type WidgetSettings = Project['settings'];
export type CustomField = WidgetSettings['customFields'][number];
export type RatingMode = WidgetSettings['rating'];
export type RatingScale = Exclude<RatingMode, 'none'>;

/** GET/PUT …/protection. The captcha secret is write-only: only whether one is stored. */
export type Protection = Answer<'get', '/api/v1/orgs/{orgId}/projects/{projectId}/protection'>;
/** How a project's ingestion endpoint defends itself (apps/server/src/projects/protection.ts). */
export type ProtectionSettings = Protection['settings'];
export type CaptchaProvider = ProtectionSettings['captcha']['provider'];
/** A limit of `points` requests per `seconds`. */
export type LimitWindow = ProtectionSettings['limits']['perIp'];
/** Refused submissions of the last 24 hours, by problem code and by hour. */
export type Refusals = Answer<'get', '/api/v1/orgs/{orgId}/projects/{projectId}/protection/refusals'>;

export type FeedbackPage = Answer<'get', '/api/v1/orgs/{orgId}/feedback'>;
export type FeedbackSummary = FeedbackPage['items'][number];
export type Feedback = Answer<'get', '/api/v1/orgs/{orgId}/feedback/{feedbackId}'>;
export type FeedbackStatus = Feedback['status'];
/** The reporter's personal data of one feedback (a separate, audited read). */
export type Reporter = Answer<'get', '/api/v1/orgs/{orgId}/feedback/{feedbackId}/reporter'>;
export type ConsoleError = Reporter['consoleErrors'][number];
export type Note = Answer<'get', '/api/v1/orgs/{orgId}/feedback/{feedbackId}/notes'>['items'][number];
export type Label = Answer<'get', '/api/v1/orgs/{orgId}/labels'>['items'][number];

export type ApiKey = Answer<'get', '/api/v1/orgs/{orgId}/api-keys'>['items'][number];
/** A scope a key may hold: a permission the role table marks for API keys. */
export type ApiScope = Body<'post', '/api/v1/orgs/{orgId}/api-keys'>['scopes'][number];
export type NewApiKey = Answer<'post', '/api/v1/orgs/{orgId}/api-keys'>;

export type Webhook = Answer<'get', '/api/v1/orgs/{orgId}/webhooks/{webhookId}'>;
export type WebhookEvent = Webhook['events'][number];
/** A created webhook or a rotated secret: the secret is in this answer only. */
export type WebhookWithSecret = Answer<'post', '/api/v1/orgs/{orgId}/webhooks'>;
export type Delivery = Answer<'get', '/api/v1/orgs/{orgId}/webhooks/{webhookId}/deliveries'>['items'][number];
export type DeliveryDetail = Answer<'get', '/api/v1/orgs/{orgId}/webhooks/{webhookId}/deliveries/{deliveryId}'>;
export type DeliveryAttempt = DeliveryDetail['attempts'][number];

export type AuditEventPage = Answer<'get', '/api/v1/orgs/{orgId}/audit'>;
export type AuditEvent = AuditEventPage['items'][number];
export type AuditActorType = NonNullable<Query<'get', '/api/v1/orgs/{orgId}/audit'>['actorType']>;

export type NotificationSetting = Answer<'get', '/api/v1/me/notifications'>['items'][number];
export type NotificationMode = NotificationSetting['mode'];

/**
 * Every value of a generated union, in the order the pages list them: one
 * the server adds or drops makes the list a compile error.
 */
const allOf =
  <T extends string>() =>
  <const L extends readonly T[]>(values: L & ([T] extends [L[number]] ? unknown : { missing: Exclude<T, L[number]> })) =>
    values;

export const ORG_ROLES = allOf<OrgRole>()(['owner', 'admin', 'member', 'viewer']);
export const LOGIN_METHODS = allOf<LoginMethod>()(['password', 'totp', 'webauthn', 'recovery', 'reset', 'invite']);
export const LOGIN_RESULTS = allOf<LoginResult>()(['success', 'failure', 'blocked']);
export const FEEDBACK_STATUSES = allOf<FeedbackStatus>()(['new', 'in_progress', 'done', 'archived']);
export const WEBHOOK_EVENTS = allOf<WebhookEvent>()([
  'feedback.created',
  'feedback.updated',
  'feedback.deleted',
  'feedback.note_added',
  'project.created',
  'project.updated',
  'project.deleted',
  'member.added',
  'member.updated',
  'member.removed',
]);
export const API_SCOPES = allOf<ApiScope>()([
  'org_read',
  'project_read',
  'project_write',
  'feedback_read',
  'feedback_create',
  'feedback_update',
  'feedback_delete',
  'labels_write',
  'members_read',
  'webhooks_read',
  'webhooks_write',
  'audit_read',
]);
export const AUDIT_ACTOR_TYPES = allOf<AuditActorType>()(['user', 'api_key', 'cli', 'system']);
export const NOTIFICATION_MODES = allOf<NotificationMode>()(['instant', 'daily', 'none']);

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

/** The server's default limits (../shared/SECURITY.md), shown next to each limit. */
export const DEFAULT_LIMITS: ProtectionSettings['limits'] = {
  perIp: { points: 300, seconds: 300 },
  perReporter: { points: 10, seconds: 600 },
  projectPerMinute: 600,
  projectPerDay: 50_000,
  challengesPerIp: { points: 600, seconds: 300 },
};
