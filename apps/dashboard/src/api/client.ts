import { createClient, type Body, type Query } from '@parley/client';
import type { ProtectionSettings } from './types';

export { ApiError, isApiError } from '@parley/client';

// The dashboard's calls, each one typed operation of the generated client
// (packages/client): same origin, with the session cookie, never a key.

/**
 * Asked when a request answers 403 reauth_required (the session's last
 * verified factor is too old for a sensitive action). It resolves true once
 * the user has confirmed who they are, false when they gave up. The reauth
 * dialog registers itself here, so every page gets it without asking.
 */
type ReauthHandler = () => Promise<boolean>;
let reauthHandler: ReauthHandler | null = null;

export function setReauthHandler(handler: ReauthHandler | null): void {
  reauthHandler = handler;
}

const parley = createClient({ onReauthRequired: () => (reauthHandler ? reauthHandler() : Promise.resolve(false)) });

export type SetupInput = Body<'post', '/api/v1/setup'>;
/** `settings` is always the full object: the server replaces it whole. */
export type ProjectUpdate = Body<'patch', '/api/v1/orgs/{orgId}/projects/{projectId}'>;
/** One way to confirm who you are again (POST /auth/reauth). */
export type ReauthProof = Body<'post', '/api/v1/auth/reauth'>;
/** `projectIds: null` opens every project of the organization. */
export type MemberChange = Body<'patch', '/api/v1/orgs/{orgId}/members/{userId}'>;
export type InviteInput = Body<'post', '/api/v1/orgs/{orgId}/invites'>;
export type SecurityPolicyInput = Body<'put', '/api/v1/orgs/{orgId}/security'>;
/** Filters of an organization's login history; `from` and `to` are ISO times. */
export type LoginFilter = Omit<Query<'get', '/api/v1/orgs/{orgId}/logins'>, 'before'>;

/** The inbox's filters (absent: no filter), as GET /orgs/{orgId}/feedback takes them. */
export type FeedbackFilter = Omit<Query<'get', '/api/v1/orgs/{orgId}/feedback'>, 'cursor' | 'limit'>;
/** What triage changes: any of status, assignee (null: nobody) and the whole set of labels. */
export type FeedbackChange = Body<'patch', '/api/v1/orgs/{orgId}/feedback/{feedbackId}'>;
export type LabelInput = Body<'post', '/api/v1/orgs/{orgId}/labels'>;

// Absent, not null: the API reads an absent query member as "no filter".
const unlessNull = <T>(value: T | null) => value ?? undefined;

export type ApiKeyInput = Body<'post', '/api/v1/orgs/{orgId}/api-keys'>;
export type ApiKeyStatus = NonNullable<Query<'get', '/api/v1/orgs/{orgId}/api-keys'>['status']>;
export type WebhookInput = Body<'post', '/api/v1/orgs/{orgId}/webhooks'>;
export type WebhookChange = Body<'patch', '/api/v1/orgs/{orgId}/webhooks/{webhookId}'>;
export type DeliveryStatus = NonNullable<Query<'get', '/api/v1/orgs/{orgId}/webhooks/{webhookId}/deliveries'>['status']>;
/** Filters of an organization's audit log; `from` and `to` are ISO times. */
export type AuditFilter = Omit<Query<'get', '/api/v1/orgs/{orgId}/audit'>, 'cursor' | 'limit'>;
export type NotificationChoice = Body<'put', '/api/v1/me/notifications'>;

/** The file name a download's Content-Disposition gives, or `fallback`. */
const attachmentName = (response: Response, fallback: string) =>
  /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') ?? '')?.[1] ?? fallback;

/** The address of an organization's login history as CSV, with the same filters as the list. */
export const orgLoginsCsvUrl = (orgId: string, filter: LoginFilter) =>
  parley.url('/api/v1/orgs/{orgId}/logins.csv', { path: { orgId }, query: filter });

/** The address of an organization's audit log as JSON Lines, with the same filters as the list. */
export const auditExportUrl = (orgId: string, filter: AuditFilter) =>
  parley.url('/api/v1/orgs/{orgId}/audit/export', { path: { orgId }, query: filter });

/** Same-origin address of a feedback's screenshot (an <img> source; the cookie goes along). */
export const screenshotUrl = (orgId: string, feedbackId: string) =>
  parley.url('/api/v1/orgs/{orgId}/feedback/{feedbackId}/screenshot', { path: { orgId, feedbackId } });

export const api = {
  getOpenApi: () => parley.get('/api/v1/openapi.json'),
  getSetup: () => parley.get('/api/v1/setup'),
  completeSetup: (input: SetupInput) => parley.post('/api/v1/setup', { body: input }),

  logIn: (email: string, password: string) => parley.post('/api/v1/auth/login', { body: { email, password } }),
  logOut: () => parley.post('/api/v1/auth/logout'),
  verifyTotp: (code: string) => parley.post('/api/v1/auth/mfa/totp', { body: { code } }),
  verifyRecoveryCode: (code: string) => parley.post('/api/v1/auth/mfa/recovery', { body: { code } }),
  getMfaPasskeyOptions: () => parley.post('/api/v1/auth/mfa/webauthn/options'),
  verifyPasskey: (response: Body<'post', '/api/v1/auth/mfa/webauthn'>['response']) =>
    parley.post('/api/v1/auth/mfa/webauthn', { body: { response } }),
  getReauthPasskeyOptions: () => parley.post('/api/v1/auth/reauth/webauthn/options'),
  reauthenticate: (proof: ReauthProof) => parley.post('/api/v1/auth/reauth', { body: proof }),
  forgotPassword: (email: string) => parley.post('/api/v1/auth/password/forgot', { body: { email } }),
  resetPassword: (token: string, password: string) => parley.post('/api/v1/auth/password/reset', { body: { token, password } }),

  getMe: () => parley.get('/api/v1/me'),
  changePassword: (currentPassword: string, newPassword: string) =>
    parley.post('/api/v1/me/password', { body: { currentPassword, newPassword } }),
  listSessions: () => parley.get('/api/v1/me/sessions'),
  endSession: (sessionId: string) => parley.delete('/api/v1/me/sessions/{sessionId}', { path: { sessionId } }),
  endOtherSessions: () => parley.delete('/api/v1/me/sessions'),
  listMyLogins: (before: string | null) => parley.get('/api/v1/me/logins', { query: { before: unlessNull(before) } }),
  getMfa: () => parley.get('/api/v1/me/mfa'),
  startTotpSetup: () => parley.post('/api/v1/me/mfa/totp'),
  confirmTotpSetup: (code: string) => parley.post('/api/v1/me/mfa/totp/confirm', { body: { code } }),
  removeTotp: () => parley.delete('/api/v1/me/mfa/totp'),
  getPasskeyCreationOptions: () => parley.post('/api/v1/me/mfa/passkeys/options'),
  addPasskey: (name: string, response: Body<'post', '/api/v1/me/mfa/passkeys'>['response']) =>
    parley.post('/api/v1/me/mfa/passkeys', { body: { name, response } }),
  removePasskey: (passkeyId: string) => parley.delete('/api/v1/me/mfa/passkeys/{passkeyId}', { path: { passkeyId } }),
  regenerateRecoveryCodes: () => parley.post('/api/v1/me/mfa/recovery-codes'),

  getPermissions: () => parley.get('/api/v1/permissions'),
  listMembers: (orgId: string) => parley.get('/api/v1/orgs/{orgId}/members', { path: { orgId } }),
  updateMember: (orgId: string, userId: string, change: MemberChange) =>
    parley.patch('/api/v1/orgs/{orgId}/members/{userId}', { path: { orgId, userId }, body: change }),
  removeMember: (orgId: string, userId: string) => parley.delete('/api/v1/orgs/{orgId}/members/{userId}', { path: { orgId, userId } }),
  listInvites: (orgId: string) => parley.get('/api/v1/orgs/{orgId}/invites', { path: { orgId } }),
  createInvite: (orgId: string, input: InviteInput) => parley.post('/api/v1/orgs/{orgId}/invites', { path: { orgId }, body: input }),
  revokeInvite: (orgId: string, inviteId: string) => parley.delete('/api/v1/orgs/{orgId}/invites/{inviteId}', { path: { orgId, inviteId } }),
  lookUpInvite: (token: string) => parley.post('/api/v1/invites/lookup', { body: { token } }),
  acceptInvite: (input: Body<'post', '/api/v1/invites/accept'>) => parley.post('/api/v1/invites/accept', { body: input }),
  getSecurityPolicy: (orgId: string) => parley.get('/api/v1/orgs/{orgId}/security', { path: { orgId } }),
  updateSecurityPolicy: (orgId: string, policy: SecurityPolicyInput) =>
    parley.put('/api/v1/orgs/{orgId}/security', { path: { orgId }, body: policy }),
  listOrgLogins: (orgId: string, filter: LoginFilter, before: string | null) =>
    parley.get('/api/v1/orgs/{orgId}/logins', { path: { orgId }, query: { ...filter, before: unlessNull(before) } }),
  /** The CSV export and the file name the server gives it (it may ask for re-authentication first). */
  downloadOrgLogins: async (orgId: string, filter: LoginFilter) => {
    const response = await parley.fetch('get', '/api/v1/orgs/{orgId}/logins.csv', { path: { orgId }, query: filter });
    return { name: attachmentName(response, 'logins.csv'), file: await response.blob() };
  },

  listApiKeys: (orgId: string, status: ApiKeyStatus | null, cursor: string | null) =>
    parley.get('/api/v1/orgs/{orgId}/api-keys', { path: { orgId }, query: { status: unlessNull(status), cursor: unlessNull(cursor) } }),
  /** The answer holds the key itself: the only time it is shown (a retry gets 409, never the key). */
  createApiKey: (orgId: string, input: ApiKeyInput) => parley.post('/api/v1/orgs/{orgId}/api-keys', { path: { orgId }, body: input }),
  revokeApiKey: (orgId: string, keyId: string) => parley.delete('/api/v1/orgs/{orgId}/api-keys/{keyId}', { path: { orgId, keyId } }),

  listWebhooks: (orgId: string) => parley.get('/api/v1/orgs/{orgId}/webhooks', { path: { orgId } }),
  getWebhook: (orgId: string, webhookId: string) => parley.get('/api/v1/orgs/{orgId}/webhooks/{webhookId}', { path: { orgId, webhookId } }),
  /** The answer holds the signing secret: the only time it is shown. */
  createWebhook: (orgId: string, input: WebhookInput) => parley.post('/api/v1/orgs/{orgId}/webhooks', { path: { orgId }, body: input }),
  /** Refused with 412 precondition_failed when someone changed the webhook since `version` was read. */
  updateWebhook: (orgId: string, webhookId: string, change: WebhookChange, version: number) =>
    parley.patch('/api/v1/orgs/{orgId}/webhooks/{webhookId}', { path: { orgId, webhookId }, body: change, ifMatch: version }),
  deleteWebhook: (orgId: string, webhookId: string) => parley.delete('/api/v1/orgs/{orgId}/webhooks/{webhookId}', { path: { orgId, webhookId } }),
  /** A new secret, shown once; the old one keeps signing too for `overlapHours`. */
  rotateWebhookSecret: (orgId: string, webhookId: string, overlapHours: number) =>
    parley.post('/api/v1/orgs/{orgId}/webhooks/{webhookId}/rotate-secret', { path: { orgId, webhookId }, body: { overlapHours } }),
  sendTestEvent: (orgId: string, webhookId: string) => parley.post('/api/v1/orgs/{orgId}/webhooks/{webhookId}/test', { path: { orgId, webhookId } }),
  listDeliveries: (orgId: string, webhookId: string, status: DeliveryStatus | null, cursor: string | null) =>
    parley.get('/api/v1/orgs/{orgId}/webhooks/{webhookId}/deliveries', {
      path: { orgId, webhookId },
      query: { status: unlessNull(status), cursor: unlessNull(cursor) },
    }),
  getDelivery: (orgId: string, webhookId: string, deliveryId: string) =>
    parley.get('/api/v1/orgs/{orgId}/webhooks/{webhookId}/deliveries/{deliveryId}', { path: { orgId, webhookId, deliveryId } }),
  redeliver: (orgId: string, webhookId: string, deliveryId: string) =>
    parley.post('/api/v1/orgs/{orgId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver', { path: { orgId, webhookId, deliveryId } }),

  /** Refused with 412 precondition_failed when someone changed the label since `version` was read. */
  updateLabel: (orgId: string, labelId: string, change: Partial<LabelInput>, version: number) =>
    parley.patch('/api/v1/orgs/{orgId}/labels/{labelId}', { path: { orgId, labelId }, body: change, ifMatch: version }),
  /** Also takes the label off every feedback that carries it. */
  deleteLabel: (orgId: string, labelId: string) => parley.delete('/api/v1/orgs/{orgId}/labels/{labelId}', { path: { orgId, labelId } }),

  listAudit: (orgId: string, filter: AuditFilter, cursor: string | null) =>
    parley.get('/api/v1/orgs/{orgId}/audit', { path: { orgId }, query: { ...filter, cursor: unlessNull(cursor) } }),
  /** Every matching event as JSON Lines and the file name the server gives it (it may ask for re-authentication first). */
  downloadAudit: async (orgId: string, filter: AuditFilter) => {
    const response = await parley.fetch('get', '/api/v1/orgs/{orgId}/audit/export', { path: { orgId }, query: filter });
    return { name: attachmentName(response, 'audit.jsonl'), file: await response.blob() };
  },

  listNotifications: () => parley.get('/api/v1/me/notifications'),
  setNotification: (choice: NotificationChoice) => parley.put('/api/v1/me/notifications', { body: choice }),

  listProjects: (orgId: string) => parley.get('/api/v1/orgs/{orgId}/projects', { path: { orgId } }),
  createProject: (orgId: string, input: Body<'post', '/api/v1/orgs/{orgId}/projects'>) =>
    parley.post('/api/v1/orgs/{orgId}/projects', { path: { orgId }, body: input }),
  getProject: (orgId: string, projectId: string) => parley.get('/api/v1/orgs/{orgId}/projects/{projectId}', { path: { orgId, projectId } }),
  updateProject: (orgId: string, projectId: string, input: ProjectUpdate) =>
    parley.patch('/api/v1/orgs/{orgId}/projects/{projectId}', { path: { orgId, projectId }, body: input }),
  /** Creates or replaces the project's identity secret; the answer is the only time it is shown. */
  createIdentitySecret: (orgId: string, projectId: string) =>
    parley.post('/api/v1/orgs/{orgId}/projects/{projectId}/identity-secret', { path: { orgId, projectId } }),
  getProtection: (orgId: string, projectId: string) =>
    parley.get('/api/v1/orgs/{orgId}/projects/{projectId}/protection', { path: { orgId, projectId } }),
  /** `settings` is always the full object: the server replaces it whole. */
  updateProtection: (orgId: string, projectId: string, settings: ProtectionSettings) =>
    parley.put('/api/v1/orgs/{orgId}/projects/{projectId}/protection', { path: { orgId, projectId }, body: settings }),
  /** Stores the third-party captcha secret sealed; it is never sent back. */
  setCaptchaSecret: (orgId: string, projectId: string, secret: string) =>
    parley.put('/api/v1/orgs/{orgId}/projects/{projectId}/protection/captcha-secret', { path: { orgId, projectId }, body: { secret } }),
  getRefusals: (orgId: string, projectId: string) =>
    parley.get('/api/v1/orgs/{orgId}/projects/{projectId}/protection/refusals', { path: { orgId, projectId } }),

  /** Deleting a project needs a recent factor: the client asks for it (reauth dialog) and sends the request again. */
  deleteProject: (orgId: string, projectId: string, version: number) =>
    parley.delete('/api/v1/orgs/{orgId}/projects/{projectId}', { path: { orgId, projectId }, ifMatch: version }),

  listFeedback: (orgId: string, filter: FeedbackFilter, limit: number, cursor: string | null) =>
    parley.get('/api/v1/orgs/{orgId}/feedback', {
      path: { orgId },
      query: { ...filter, limit: String(limit), cursor: unlessNull(cursor) },
    }),
  getFeedback: (orgId: string, feedbackId: string) =>
    parley.get('/api/v1/orgs/{orgId}/feedback/{feedbackId}', { path: { orgId, feedbackId } }),
  /** The reporter's personal data: each read is recorded in the audit log. */
  getReporter: (orgId: string, feedbackId: string) =>
    parley.get('/api/v1/orgs/{orgId}/feedback/{feedbackId}/reporter', { path: { orgId, feedbackId } }),
  /** Refused with 412 precondition_failed when someone changed the feedback since `version` was read. */
  updateFeedback: (orgId: string, feedbackId: string, change: FeedbackChange, version: number) =>
    parley.patch('/api/v1/orgs/{orgId}/feedback/{feedbackId}', { path: { orgId, feedbackId }, body: change, ifMatch: version }),
  deleteFeedback: (orgId: string, feedbackId: string, version: number) =>
    parley.delete('/api/v1/orgs/{orgId}/feedback/{feedbackId}', { path: { orgId, feedbackId }, ifMatch: version }),
  listNotes: (orgId: string, feedbackId: string, cursor: string | null) =>
    parley.get('/api/v1/orgs/{orgId}/feedback/{feedbackId}/notes', { path: { orgId, feedbackId }, query: { cursor: unlessNull(cursor) } }),
  addNote: (orgId: string, feedbackId: string, body: string) =>
    parley.post('/api/v1/orgs/{orgId}/feedback/{feedbackId}/notes', { path: { orgId, feedbackId }, body: { body } }),
  deleteNote: (orgId: string, feedbackId: string, noteId: string) =>
    parley.delete('/api/v1/orgs/{orgId}/feedback/{feedbackId}/notes/{noteId}', { path: { orgId, feedbackId, noteId } }),

  listLabels: (orgId: string) => parley.get('/api/v1/orgs/{orgId}/labels', { path: { orgId } }),
  createLabel: (orgId: string, input: LabelInput) => parley.post('/api/v1/orgs/{orgId}/labels', { path: { orgId }, body: input }),
};
