// Stable error codes and the one place that maps them to HTTP. Clients branch
// on `code`, never on the human-readable `detail`.
const CODES = {
  validation_failed: [400, 'The request is not valid'],
  invalid_json: [400, 'The body is not valid JSON'],
  domain_invalid: [400, 'Allowed domain is not valid'],
  password_too_short: [400, 'Password too short'],
  password_too_long: [400, 'Password too long'],
  password_weak: [400, 'Password too easy to guess'],
  token_invalid: [400, 'Link is not valid'],
  idempotency_key_invalid: [400, 'Idempotency-Key header is not valid'],
  consent_required: [400, 'Consent required'],
  screenshot_invalid: [400, 'Screenshot is not a valid image'],
  screenshot_unknown: [400, 'Screenshot not found'],
  unauthenticated: [401, 'Authentication required'],
  invalid_credentials: [401, 'Invalid e-mail or password'],
  invalid_code: [401, 'Code not accepted'],
  forbidden: [403, 'Not allowed'],
  csrf_rejected: [403, 'Cross-site request refused'],
  mfa_required: [403, 'Second factor required'],
  mfa_enrollment_required: [403, 'Set up a second factor first'],
  reauth_required: [403, 'Confirm it is you'],
  origin_missing: [403, 'Origin header required'],
  origin_not_allowed: [403, 'Origin not allowed'],
  identity_invalid: [403, 'Identity not accepted'],
  screenshots_disabled: [403, 'Screenshots are not enabled'],
  setup_token_invalid: [403, 'Setup link is not valid'],
  not_found: [404, 'Not found'],
  project_not_found: [404, 'Project not found'],
  method_not_allowed: [405, 'Method not allowed'],
  setup_done: [409, 'Parley is already set up'],
  conflict: [409, 'Conflict'],
  last_owner: [409, 'The organization needs an owner'],
  body_too_large: [413, 'Request body too large'],
  unsupported_media_type: [415, 'Unsupported media type'],
  too_many_attempts: [429, 'Too many attempts'],
  not_ready: [503, 'Not ready'],
  internal_error: [500, 'Internal server error'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof CODES;

export class AppError extends Error {
  readonly status: number;
  readonly title: string;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string = CODES[code][1],
    /** Seconds until trying again makes sense; sent as Retry-After. */
    readonly retryAfter?: number,
  ) {
    super(detail);
    this.status = CODES[code][0];
    this.title = CODES[code][1];
  }
}

export type Problem = { type: string; title: string; status: number; detail: string; code: ErrorCode };

export function toProblem(error: AppError): Problem {
  return {
    type: `https://parley.dev/problems/${error.code.replaceAll('_', '-')}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
  };
}
