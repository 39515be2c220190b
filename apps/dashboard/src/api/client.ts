import type {
  Feedback,
  FeedbackStatus,
  FeedbackSummary,
  List,
  Me,
  Page,
  Project,
  SetupState,
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

  constructor(status: number, code: string, detail: string) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
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

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {
    Accept: 'application/json, application/problem+json',
  };
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network_error', FALLBACK_DETAIL[0]!);
  }

  if (!response.ok) {
    throw await readProblem(response);
  }
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
  return new ApiError(response.status, code, detail);
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

export type FeedbackListQuery = {
  limit: number;
  cursor: string | null;
  status: FeedbackStatus | null;
};

export const api = {
  getSetup: () => request<SetupState>('GET', '/api/v1/setup'),
  completeSetup: (input: SetupInput) => request<{ user: User }>('POST', '/api/v1/setup', input),

  logIn: (email: string, password: string) =>
    request<{ user: User }>('POST', '/api/v1/auth/login', { email, password }),
  logOut: () => request<void>('POST', '/api/v1/auth/logout'),
  getMe: () => request<Me>('GET', '/api/v1/me'),

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

  listFeedback: (orgId: string, projectId: string, query: FeedbackListQuery) => {
    const params = new URLSearchParams({ limit: String(query.limit) });
    if (query.cursor !== null) params.set('cursor', query.cursor);
    if (query.status !== null) params.set('status', query.status);
    return request<Page<FeedbackSummary>>(
      'GET',
      `${apiPath`/api/v1/orgs/${orgId}/projects/${projectId}/feedback`}?${params}`,
    );
  },
  getFeedback: (orgId: string, feedbackId: string) =>
    request<Feedback>('GET', apiPath`/api/v1/orgs/${orgId}/feedback/${feedbackId}`),
  updateFeedbackStatus: (orgId: string, feedbackId: string, status: FeedbackStatus) =>
    request<Feedback>('PATCH', apiPath`/api/v1/orgs/${orgId}/feedback/${feedbackId}`, { status }),
};

/** Same-origin address of a feedback's screenshot (an <img> source; the cookie goes along). */
export const screenshotUrl = (orgId: string, feedbackId: string) =>
  apiPath`/api/v1/orgs/${orgId}/feedback/${feedbackId}/screenshot`;
