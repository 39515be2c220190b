import type { components, paths } from './schema.js';

export type { components, paths } from './schema.js';

// A small fetch wrapper typed by the paths openapi-typescript generates from
// the server's OpenAPI document: a wrong path, a missing parameter or body, or
// a misread answer is a compile error. It has no dependencies and runs in
// browsers and in Node.js 20+.

export type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';

/** The paths that have an operation for `method`. */
export type PathsWith<M extends Method> = { [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never }[keyof paths];

type OperationOf<M extends Method, P extends PathsWith<M>> = paths[P][M];
type ParametersOf<O> = O extends { parameters: infer X } ? X : never;
type PathParametersOf<O> = ParametersOf<O> extends { path: infer X } ? X : never;
type QueryOf<O> = ParametersOf<O> extends { query?: infer X } ? Exclude<X, undefined> : never;
type BodyOf<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;
type ResponsesOf<O> = O extends { responses: infer R } ? R : never;
type ContentOf<R> = R extends { content: infer C } ? C[keyof C] : undefined;
type SuccessStatus = 200 | 201 | 202 | 204;
type AnswerOf<O> = { [S in keyof ResponsesOf<O>]: S extends SuccessStatus ? ContentOf<ResponsesOf<O>[S]> : never }[keyof ResponsesOf<O>];

/** What a successful call answers (undefined for 204). */
export type Answer<M extends Method, P extends PathsWith<M>> = AnswerOf<OperationOf<M, P>>;
/** The JSON body an operation takes. */
export type Body<M extends Method, P extends PathsWith<M>> = BodyOf<OperationOf<M, P>>;
/** The query parameters an operation takes. */
export type Query<M extends Method, P extends PathsWith<M>> = QueryOf<OperationOf<M, P>>;

/** An RFC 9457 problem as the server sends it. */
export type Problem = components['schemas']['Problem'];
/** The server's stable error codes, plus the client's own `network_error`; codes from a newer server are strings too. */
export type ErrorCode = Problem['code'] | 'network_error' | (string & Record<never, never>);

/** Per-request options every operation takes. */
export type RequestOptions = {
  /** Sent as If-Match: the `version` you read (or the ETag as received); a change made since answers 412 precondition_failed. */
  ifMatch?: number | string;
  /** Idempotency-Key of a POST (default: 128 random bits). Send the same key again to retry the same request safely. */
  idempotencyKey?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
};

// A part the operation has is required (optional when all its members are);
// a part it does not have cannot be given.
type Part<K extends string, T, Required extends boolean = false> = [T] extends [never]
  ? { [_ in K]?: never }
  : Required extends false
    ? Record<never, never> extends T
      ? { [_ in K]?: T }
      : { [_ in K]: T }
    : { [_ in K]: T };

export type Input<O> = Part<'path', PathParametersOf<O>> & Part<'query', QueryOf<O>> & Part<'body', BodyOf<O>, true> & RequestOptions;
type Args<O> = Record<never, never> extends Input<O> ? [input?: Input<O>] : [input: Input<O>];
type Call<M extends Method> = <P extends PathsWith<M>>(path: P, ...args: Args<OperationOf<M, P>>) => Promise<Answer<M, P>>;

export type Client = {
  get: Call<'get'>;
  post: Call<'post'>;
  put: Call<'put'>;
  patch: Call<'patch'>;
  delete: Call<'delete'>;
  /** The answer itself, checked like the others: for files (CSV, JSON Lines, images) and headers such as ETag. */
  fetch<M extends Method, P extends PathsWith<M>>(method: M, path: P, ...args: Args<OperationOf<M, P>>): Promise<Response>;
  /** The address of a GET, with its parameters filled in and encoded (links, `<img src>`). */
  url<P extends PathsWith<'get'>>(path: P, ...args: Args<OperationOf<'get', P>>): string;
};

export type ClientOptions = {
  /** The installation's address, such as `https://feedback.example.com`. Default: the page's own origin (the dashboard). */
  baseUrl?: string;
  /** An API key (`prl_…`), sent as `Authorization: Bearer`. Without one, a browser sends its session cookie (same origin only). */
  apiKey?: string;
  /** Headers for every request (a User-Agent naming your integration, say). */
  headers?: Record<string, string>;
  /** Another fetch implementation (a test double, a proxy). */
  fetch?: typeof fetch;
  /**
   * Called when a session request answers 403 reauth_required (its last
   * factor is too old for a sensitive action). Resolve true once the user has
   * confirmed who they are, and the request is sent once more; false, and the
   * call fails with that error.
   */
  onReauthRequired?: () => Promise<boolean>;
};

/**
 * A failed call. `code` is the stable problem code from the server's RFC 9457
 * answer (`network_error` when no answer came, `http_<status>` when the answer
 * was not a problem); branch on it, never on `detail`, which is for people.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  /** From Retry-After (429 and some 409 answers): seconds until trying again makes sense. */
  readonly retryAfterSeconds: number | null;

  constructor(status: number, code: ErrorCode, detail: string, retryAfterSeconds: number | null = null) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function isApiError(error: unknown, code?: ErrorCode): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}

/** The If-Match value for a version read from a resource (its strong ETag, RFC 9110 §8.8.3). */
export function ifMatch(version: number | string): string {
  return typeof version === 'number' ? `"${version}"` : version;
}

const FALLBACK_DETAIL: Record<number, string> = {
  0: 'Could not reach the server. Check your connection and try again.',
  401: 'Your session has ended. Please log in again.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  429: 'Too many requests. Please wait a moment and try again.',
};

// application/json and application/problem+json, not application/jsonl.
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json(?:\s*;|$)/i;

async function readProblem(response: Response): Promise<ApiError> {
  const fallback = FALLBACK_DETAIL[response.status] ?? `The server answered ${response.status}. Please try again.`;
  const fields: Record<string, unknown> = JSON_TYPE.test(response.headers.get('Content-Type') ?? '') ? ((await response.json().catch(() => null)) ?? {}) : {};
  const code = typeof fields.code === 'string' ? fields.code : `http_${response.status}`;
  const detail = [fields.detail, fields.title].find((text): text is string => typeof text === 'string' && text !== '') ?? fallback;
  const retryAfter = Number(response.headers.get('Retry-After') ?? NaN);
  return new ApiError(response.status, code, detail, Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null);
}

type AnyInput = { path?: Record<string, string>; query?: Record<string, unknown>; body?: unknown } & RequestOptions;

/** `/orgs/{orgId}` with each parameter encoded, then `?name=value…` for the query members that are set (arrays repeat the name). */
function addressOf(base: string, path: string, input: AnyInput): string {
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = input.path?.[name];
    if (value === undefined) throw new TypeError(`${path} needs the path parameter ${name}`);
    return encodeURIComponent(value);
  });
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(input.query ?? {})) {
    for (const item of [value].flat()) if (item !== undefined && item !== null) query.append(name, String(item));
  }
  const text = query.toString();
  return base + filled + (text === '' ? '' : `?${text}`);
}

/** 128 random bits in hex (crypto.getRandomValues, unlike randomUUID, works outside secure contexts too). */
function newIdempotencyKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

// A request that got no answer is sent once more when repeating it cannot do
// a thing twice: GET, PUT and DELETE by their HTTP meaning, POST thanks to
// its Idempotency-Key (the server answers a repeat with the first answer).
const REPEATABLE = new Set<Method>(['get', 'put', 'delete', 'post']);

export function createClient(options: ClientOptions = {}): Client {
  const base = (options.baseUrl ?? '').replace(/\/+$/, '');
  // Bound: a browser's fetch called on another object throws "Illegal invocation".
  const fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);

  async function exchange(method: Method, path: string, input: AnyInput = {}): Promise<Response> {
    const headers = new Headers({ ...options.headers, ...input.headers });
    headers.set('Accept', 'application/json, application/problem+json');
    if (options.apiKey !== undefined) headers.set('Authorization', `Bearer ${options.apiKey}`);
    if (input.ifMatch !== undefined) headers.set('If-Match', ifMatch(input.ifMatch));
    if (method === 'post') headers.set('Idempotency-Key', input.idempotencyKey ?? newIdempotencyKey());
    const init: RequestInit = {
      method: method.toUpperCase(),
      headers,
      // A key is the whole credential: no cookie rides along with it.
      credentials: options.apiKey !== undefined ? 'omit' : 'same-origin',
    };
    if (input.signal) init.signal = input.signal;
    if (input.body !== undefined) {
      headers.set('Content-Type', 'application/json');
      init.body = JSON.stringify(input.body);
    }
    const address = addressOf(base, path, input);

    const send = async (): Promise<Response> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await fetcher(address, init);
        } catch (error) {
          if (input.signal?.aborted) throw error;
          if (attempt === 0 && REPEATABLE.has(method)) continue;
          throw new ApiError(0, 'network_error', FALLBACK_DETAIL[0]!);
        }
      }
    };

    let response = await send();
    if (!response.ok) {
      const problem = await readProblem(response);
      // Ask once; the repeated request's answer stands, whatever it is. The
      // access check refuses before an Idempotency-Key is claimed, so the
      // repeat may carry the same key.
      if (problem.code !== 'reauth_required' || !options.onReauthRequired || !(await options.onReauthRequired())) throw problem;
      response = await send();
      if (!response.ok) throw await readProblem(response);
    }
    return response;
  }

  const call =
    <M extends Method>(method: M): Call<M> =>
    async (path, ...args) => {
      const response = await exchange(method, path, args[0] as AnyInput | undefined);
      if (response.status === 204) return undefined as Answer<M, typeof path>;
      const text = await response.text();
      return (JSON_TYPE.test(response.headers.get('Content-Type') ?? '') ? JSON.parse(text) : text) as Answer<M, typeof path>;
    };

  return {
    get: call('get'),
    post: call('post'),
    put: call('put'),
    patch: call('patch'),
    delete: call('delete'),
    fetch: (method, path, ...args) => exchange(method, path, args[0] as AnyInput | undefined),
    url: (path, ...args) => addressOf(base, path, (args[0] ?? {}) as AnyInput),
  };
}
