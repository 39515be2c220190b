import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/browser';
import type {
  Feedback,
  FeedbackStatus,
  FeedbackSummary,
  HistoryPage,
  Invite,
  InviteLookup,
  List,
  LoginAnswer,
  LoginAttempt,
  LoginMethod,
  LoginResult,
  Me,
  Member,
  MfaState,
  NewRecoveryCodes,
  OrgLoginAttempt,
  OrgRole,
  Page,
  Passkey,
  Permissions,
  Project,
  Protection,
  ProtectionSettings,
  Refusals,
  SecurityPolicy,
  Session,
  SetupState,
  TotpSetup,
  User,
  WidgetSettings,
} from './types';

/**
 * A failed API call. `code` is the stable problem code from the server's
 * RFC 9457 answer; branch on it, never on `detail`, which is for people.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  /** From `Retry-After` (429 too_many_attempts): seconds until trying again makes sense. */
  readonly retryAfterSeconds: number | null;

  constructor(status: number, code: string, detail: string, retryAfterSeconds: number | null = null) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function isApiError(error: unknown, code?: string): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}

const FALLBACK_DETAIL: Record<number, string> = {
  0: 'Could not reach the server. Check your connection and try again.',
  401: 'Your session has ended. Please log in again.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  429: 'Too many requests. Please wait a moment and try again.',
};

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

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

async function send(method: Method, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {
    Accept: 'application/json, application/problem+json',
  };
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  const attempt = async () => {
    try {
      return await fetch(path, init);
    } catch {
      throw new ApiError(0, 'network_error', FALLBACK_DETAIL[0]!);
    }
  };

  let response = await attempt();
  if (!response.ok) {
    const problem = await readProblem(response);
    // Ask once; the repeated request's answer stands, whatever it is.
    if (problem.code !== 'reauth_required' || reauthHandler === null || !(await reauthHandler())) throw problem;
    response = await attempt();
    if (!response.ok) throw await readProblem(response);
  }
  return response;
}

async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  if (response.status === 204) {
    return undefined as T;
  }
  return (await response.json()) as T;
}

async function readProblem(response: Response): Promise<ApiError> {
  const fallback =
    FALLBACK_DETAIL[response.status] ??
    `The server answered ${response.status}. Please try again.`;
  let problem: unknown = null;
  if ((response.headers.get('Content-Type') ?? '').includes('json')) {
    problem = await response.json().catch(() => null);
  }
  const fields = (problem ?? {}) as Record<string, unknown>;
  const code = typeof fields.code === 'string' ? fields.code : `http_${response.status}`;
  const detail =
    typeof fields.detail === 'string' && fields.detail !== ''
      ? fields.detail
      : typeof fields.title === 'string' && fields.title !== ''
        ? fields.title
        : fallback;
  const retryAfter = Number(response.headers.get('Retry-After') ?? NaN);
  return new ApiError(response.status, code, detail, Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null);
}

/** Builds a path from fixed parts and ids, encoding each id. */
function apiPath(strings: TemplateStringsArray, ...ids: string[]): string {
  return strings.reduce(
    (path, part, i) => path + part + (i < ids.length ? encodeURIComponent(ids[i]!) : ''),
    '',
  );
}

export type SetupInput = {
  token: string;
  email: string;
  password: string;
  name: string;
  organization: string;
};

/** `settings` is always the full object: the server replaces it whole. */
export type ProjectUpdate = {
  name?: string;
  domains?: string[];
  settings?: WidgetSettings;
};

/** One way to confirm who you are again (POST /auth/reauth). */
export type ReauthProof =
  | { password: string }
  | { totpCode: string }
  | { recoveryCode: string }
  | { webauthn: AuthenticationResponseJSON };

/** `projectIds: null` opens every project of the organization. */
export type MemberChange = { role?: OrgRole; projectIds?: string[] | null };
export type InviteInput = { email: string; role: OrgRole; projectIds: string[] | null };
export type SecurityPolicyInput = Omit<SecurityPolicy, 'limits'>;

/** Filters of an organization's login history; `from` and `to` are ISO times. */
export type LoginFilter = {
  result?: LoginResult;
  method?: LoginMethod;
  userId?: string;
  from?: string;
  to?: string;
};

/** `path?key=value…` with the keys whose value is set. */
function withQuery(path: string, query: Record<string, string | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== '') params.set(key, value);
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

export type FeedbackListQuery = {
  limit: number;
  cursor: string | null;
  status: FeedbackStatus | null;
};

/** The address of an organization's login history as CSV, with the same filters as the list. */
export const orgLoginsCsvUrl = (orgId: string, filter: LoginFilter) =>
  withQuery(apiPath`/api/v1/orgs/${orgId}/logins.csv`, filter);

export const api = {
  getSetup: () => request<SetupState>('GET', '/api/v1/setup'),
  completeSetup: (input: SetupInput) => request<{ user: User }>('POST', '/api/v1/setup', input),

  logIn: (email: string, password: string) =>
    request<LoginAnswer>('POST', '/api/v1/auth/login', { email, password }),
  logOut: () => request<void>('POST', '/api/v1/auth/logout'),
  verifyTotp: (code: string) => request<LoginAnswer>('POST', '/api/v1/auth/mfa/totp', { code }),
  verifyRecoveryCode: (code: string) => request<LoginAnswer>('POST', '/api/v1/auth/mfa/recovery', { code }),
  getMfaPasskeyOptions: () =>
    request<PublicKeyCredentialRequestOptionsJSON>('POST', '/api/v1/auth/mfa/webauthn/options'),
  verifyPasskey: (response: AuthenticationResponseJSON) =>
    request<LoginAnswer>('POST', '/api/v1/auth/mfa/webauthn', { response }),
  getReauthPasskeyOptions: () =>
    request<PublicKeyCredentialRequestOptionsJSON>('POST', '/api/v1/auth/reauth/webauthn/options'),
  reauthenticate: (proof: ReauthProof) => request<void>('POST', '/api/v1/auth/reauth', proof),
  forgotPassword: (email: string) => request<void>('POST', '/api/v1/auth/password/forgot', { email }),
  resetPassword: (token: string, password: string) =>
    request<void>('POST', '/api/v1/auth/password/reset', { token, password }),

  getMe: () => request<Me>('GET', '/api/v1/me'),
  changePassword: (currentPassword: string, newPassword: string) =>
    request<void>('POST', '/api/v1/me/password', { currentPassword, newPassword }),
  listSessions: () => request<List<Session>>('GET', '/api/v1/me/sessions'),
  endSession: (sessionId: string) => request<void>('DELETE', apiPath`/api/v1/me/sessions/${sessionId}`),
  endOtherSessions: () => request<void>('DELETE', '/api/v1/me/sessions'),
  listMyLogins: (before: string | null) =>
    request<HistoryPage<LoginAttempt>>('GET', withQuery('/api/v1/me/logins', { before })),
  getMfa: () => request<MfaState>('GET', '/api/v1/me/mfa'),
  startTotpSetup: () => request<TotpSetup>('POST', '/api/v1/me/mfa/totp'),
  confirmTotpSetup: (code: string) =>
    request<NewRecoveryCodes>('POST', '/api/v1/me/mfa/totp/confirm', { code }),
  removeTotp: () => request<void>('DELETE', '/api/v1/me/mfa/totp'),
  getPasskeyCreationOptions: () =>
    request<PublicKeyCredentialCreationOptionsJSON>('POST', '/api/v1/me/mfa/passkeys/options'),
  addPasskey: (name: string, response: RegistrationResponseJSON) =>
    request<NewRecoveryCodes & { passkey: Passkey }>('POST', '/api/v1/me/mfa/passkeys', { name, response }),
  removePasskey: (passkeyId: string) => request<void>('DELETE', apiPath`/api/v1/me/mfa/passkeys/${passkeyId}`),
  regenerateRecoveryCodes: () =>
    request<{ recoveryCodes: string[] }>('POST', '/api/v1/me/mfa/recovery-codes'),

  getPermissions: () => request<Permissions>('GET', '/api/v1/permissions'),
  listMembers: (orgId: string) => request<List<Member>>('GET', apiPath`/api/v1/orgs/${orgId}/members`),
  updateMember: (orgId: string, userId: string, change: MemberChange) =>
    request<Member>('PATCH', apiPath`/api/v1/orgs/${orgId}/members/${userId}`, change),
  removeMember: (orgId: string, userId: string) =>
    request<void>('DELETE', apiPath`/api/v1/orgs/${orgId}/members/${userId}`),
  listInvites: (orgId: string) => request<List<Invite>>('GET', apiPath`/api/v1/orgs/${orgId}/invites`),
  createInvite: (orgId: string, input: InviteInput) =>
    request<{ invite: Invite; link: string }>('POST', apiPath`/api/v1/orgs/${orgId}/invites`, input),
  revokeInvite: (orgId: string, inviteId: string) =>
    request<void>('DELETE', apiPath`/api/v1/orgs/${orgId}/invites/${inviteId}`),
  lookUpInvite: (token: string) => request<InviteLookup>('POST', '/api/v1/invites/lookup', { token }),
  acceptInvite: (input: { token: string; name?: string; password?: string }) =>
    request<LoginAnswer>('POST', '/api/v1/invites/accept', input),
  getSecurityPolicy: (orgId: string) =>
    request<SecurityPolicy>('GET', apiPath`/api/v1/orgs/${orgId}/security`),
  updateSecurityPolicy: (orgId: string, policy: SecurityPolicyInput) =>
    request<SecurityPolicy>('PUT', apiPath`/api/v1/orgs/${orgId}/security`, policy),
  listOrgLogins: (orgId: string, filter: LoginFilter, before: string | null) =>
    request<HistoryPage<OrgLoginAttempt>>('GET', withQuery(apiPath`/api/v1/orgs/${orgId}/logins`, { ...filter, before })),
  /** The CSV export and the file name the server gives it (it may ask for re-authentication first, so it goes through `send`). */
  downloadOrgLogins: async (orgId: string, filter: LoginFilter) => {
    const response = await send('GET', orgLoginsCsvUrl(orgId, filter));
    const name = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') ?? '')?.[1] ?? 'logins.csv';
    return { name, file: await response.blob() };
  },

  listProjects: (orgId: string) =>
    request<List<Project>>('GET', apiPath`/api/v1/orgs/${orgId}/projects`),
  createProject: (orgId: string, input: { name: string; domains: string[] }) =>
    request<Project>('POST', apiPath`/api/v1/orgs/${orgId}/projects`, input),
  getProject: (orgId: string, projectId: string) =>
    request<Project>('GET', apiPath`/api/v1/orgs/${orgId}/projects/${projectId}`),
  updateProject: (orgId: string, projectId: string, input: ProjectUpdate) =>
    request<Project>('PATCH', apiPath`/api/v1/orgs/${orgId}/projects/${projectId}`, input),
  /** Creates or replaces the project's identity secret; the answer is the only time it is shown. */
  createIdentitySecret: (orgId: string, projectId: string) =>
    request<{ secret: string }>('POST', apiPath`/api/v1/orgs/${orgId}/projects/${projectId}/identity-secret`),
  getProtection: (orgId: string, projectId: string) =>
    request<Protection>('GET', apiPath`/api/v1/orgs/${orgId}/projects/${projectId}/protection`),
  /** `settings` is always the full object: the server replaces it whole. */
  updateProtection: (orgId: string, projectId: string, settings: ProtectionSettings) =>
    request<Protection>('PUT', apiPath`/api/v1/orgs/${orgId}/projects/${projectId}/protection`, settings),
  /** Stores the third-party captcha secret sealed; it is never sent back. */
  setCaptchaSecret: (orgId: string, projectId: string, secret: string) =>
    request<void>('PUT', apiPath`/api/v1/orgs/${orgId}/projects/${projectId}/protection/captcha-secret`, { secret }),
  getRefusals: (orgId: string, projectId: string) =>
    request<Refusals>('GET', apiPath`/api/v1/orgs/${orgId}/projects/${projectId}/protection/refusals`),

  listFeedback: (orgId: string, projectId: string, query: FeedbackListQuery) =>
    request<Page<FeedbackSummary>>(
      'GET',
      withQuery(apiPath`/api/v1/orgs/${orgId}/projects/${projectId}/feedback`, {
        limit: String(query.limit),
        cursor: query.cursor,
        status: query.status,
      }),
    ),
  getFeedback: (orgId: string, feedbackId: string) =>
    request<Feedback>('GET', apiPath`/api/v1/orgs/${orgId}/feedback/${feedbackId}`),
  updateFeedbackStatus: (orgId: string, feedbackId: string, status: FeedbackStatus) =>
    request<Feedback>('PATCH', apiPath`/api/v1/orgs/${orgId}/feedback/${feedbackId}`, { status }),
};

/** Same-origin address of a feedback's screenshot (an <img> source; the cookie goes along). */
export const screenshotUrl = (orgId: string, feedbackId: string) =>
  apiPath`/api/v1/orgs/${orgId}/feedback/${feedbackId}/screenshot`;
