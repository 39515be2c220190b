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
  api_key_in_url: [400, 'API keys go in the Authorization header'],
  webhook_url_invalid: [400, 'Webhook URL not allowed'],
  consent_required: [400, 'Consent required'],
  honeypot_filled: [400, 'Looks like an automated submission'],
  too_fast: [400, 'Sent too quickly'],
  spam_blocked_word: [400, 'Message contains a blocked word'],
  spam_blocked_email: [400, 'E-mail domain is blocked'],
  spam_too_many_links: [400, 'Too many links'],
  screenshot_invalid: [400, 'Screenshot is not a valid image'],
  screenshot_unknown: [400, 'Screenshot not found'],
  unauthenticated: [401, 'Authentication required'],
  invalid_credentials: [401, 'Invalid e-mail or password'],
  invalid_code: [401, 'Code not accepted'],
  api_key_invalid: [401, 'API key not valid'],
  api_key_revoked: [401, 'API key revoked'],
  api_key_expired: [401, 'API key expired'],
  forbidden: [403, 'Not allowed'],
  api_key_ip_not_allowed: [403, 'API key not allowed from this address'],
  server_submissions_off: [403, 'Server submissions are turned off for this project'],
  csrf_rejected: [403, 'Cross-site request refused'],
  mfa_required: [403, 'Second factor required'],
  mfa_enrollment_required: [403, 'Set up a second factor first'],
  reauth_required: [403, 'Confirm it is you'],
  origin_missing: [403, 'Origin header required'],
  origin_not_allowed: [403, 'Origin not allowed'],
  identity_invalid: [403, 'Identity not accepted'],
  challenge_missing: [403, 'Proof of work required'],
  challenge_invalid: [403, 'Proof of work not valid'],
  challenge_expired: [403, 'Proof of work expired'],
  challenge_replayed: [403, 'Proof of work already used'],
  challenge_wrong_project: [403, 'Proof of work is for another project'],
  captcha_missing: [403, 'Captcha required'],
  captcha_failed: [403, 'Captcha not passed'],
  submission_token_missing: [403, 'Signed submission required'],
  submission_token_invalid: [403, 'Submission token not valid'],
  submission_token_expired: [403, 'Submission token expired'],
  spam_blocked_ip: [403, 'Address is blocked'],
  screenshots_disabled: [403, 'Screenshots are not enabled'],
  setup_token_invalid: [403, 'Setup link is not valid'],
  not_found: [404, 'Not found'],
  project_not_found: [404, 'Project not found'],
  method_not_allowed: [405, 'Method not allowed'],
  setup_done: [409, 'Parley is already set up'],
  conflict: [409, 'Conflict'],
  last_owner: [409, 'The organization needs an owner'],
  idempotency_key_in_use: [409, 'A request with this Idempotency-Key is still running'],
  idempotency_replay_unavailable: [409, 'The answer to this Idempotency-Key held a secret shown only once'],
  precondition_failed: [412, 'Changed since you read it'],
  body_too_large: [413, 'Request body too large'],
  unsupported_media_type: [415, 'Unsupported media type'],
  idempotency_key_reused: [422, 'Idempotency-Key already used for another request'],
  too_many_attempts: [429, 'Too many attempts'],
  rate_limit_ip: [429, 'Too many requests from this address'],
  rate_limit_reporter: [429, 'Too many messages from this visitor'],
  rate_limit_project: [429, 'This project receives too much feedback right now'],
  rate_limit_challenge: [429, 'Too many challenges from this address'],
  rate_limit_api_key: [429, 'Too many requests with this API key'],
  rate_limit_session: [429, 'Too many requests in this session'],
  not_ready: [503, 'Not ready'],
  captcha_unavailable: [503, 'Captcha check unavailable'],
  internal_error: [500, 'Internal server error'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof CODES;

/** Every code, as the OpenAPI document lists them. */
export const ERROR_CODES = Object.keys(CODES) as ErrorCode[];

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
