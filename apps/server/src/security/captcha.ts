import https from 'node:https';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { AnswerCutOff, certificateAuthorities, exchange } from './outbound.js';

// Checks a visitor's third-party captcha token with the provider's documented
// siteverify endpoint (reCAPTCHA v3, Cloudflare Turnstile, hCaptcha): a form
// POST of secret, response and remoteip over HTTPS. A token is only worth
// something once the provider vouches for it *for this site and this form*,
// so the hostname, action and (reCAPTCHA) score are checked here, not trusted.

export type CaptchaProvider = 'recaptcha' | 'turnstile' | 'hcaptcha';

export type CaptchaCheck = {
  provider: CaptchaProvider;
  secret: string;
  token: string;
  remoteIp: string;
  /** The Origin's hostname; null skips the check (no Origin to compare with). */
  expectedHostname: string | null;
  expectedAction: string;
  /** reCAPTCHA v3 only: 0 (bot) .. 1 (human). */
  minScore: number;
  /** Accept the submission when the provider cannot be reached (the check is logged as skipped). */
  failOpen: boolean;
  /**
   * hCaptcha secrets belong to the account, not the site key: sending the
   * project's site key makes hCaptcha refuse tokens solved for another site.
   */
  siteKey?: string | null;
};

/** The provider's answer is small JSON; anything larger is not a siteverify answer. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** What each provider documents in its siteverify answer (the fields we use). */
type SiteverifyAnswer = {
  success: boolean;
  'error-codes'?: unknown;
  hostname?: unknown;
  /** reCAPTCHA v3 and Turnstile. */
  action?: unknown;
  /** reCAPTCHA v3 (hCaptcha Enterprise sends a risk score where higher is worse: not used). */
  score?: unknown;
};

/** The provider could not give an answer (timeout, 5xx, network, TLS, not JSON): fail closed unless failOpen. */
class ProviderUnavailable extends Error {}

const NAMES: Record<CaptchaProvider, string> = { recaptcha: 'reCAPTCHA', turnstile: 'Turnstile', hcaptcha: 'hCaptcha' };

/** Provider- or client-chosen text quoted in a refusal: bounded and JSON-quoted so it cannot forge log lines or markup. */
const quote = (value: unknown) => JSON.stringify(String(value).slice(0, 100));

function errorCodes(answer: SiteverifyAnswer): string[] {
  const codes = Array.isArray(answer['error-codes']) ? answer['error-codes'] : [];
  return codes.filter((code): code is string => typeof code === 'string' && /^[\w-]{1,64}$/.test(code)).slice(0, 5);
}

function parseAnswer(status: number, body: string): SiteverifyAnswer {
  if (status >= 500) throw new ProviderUnavailable(`answered HTTP ${status}`);
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    answer = undefined;
  }
  if (typeof answer !== 'object' || answer === null || typeof (answer as SiteverifyAnswer).success !== 'boolean') {
    // Also a 3xx: redirects are not followed, a verify URL must answer itself.
    throw new ProviderUnavailable(`answered HTTP ${status} without a siteverify JSON answer`);
  }
  return answer as SiteverifyAnswer;
}

/** Throws captcha_failed with what did not match; returns when the provider vouched for this site and form. */
function judge(check: CaptchaCheck, answer: SiteverifyAnswer): void {
  const name = NAMES[check.provider];
  const refuse = (why: string) => {
    throw new AppError('captcha_failed', `${name}: ${why}`);
  };
  const codes = errorCodes(answer);
  if (!answer.success) {
    // Turnstile documents internal-error as "can be retried": the provider's fault, not the visitor's.
    if (codes.includes('internal-error')) throw new ProviderUnavailable('reported an internal error');
    refuse(`token refused (error-codes: ${codes.join(', ') || 'none given'})`);
  }
  if (check.expectedHostname !== null) {
    if (typeof answer.hostname !== 'string') refuse(`no hostname in the answer, expected ${quote(check.expectedHostname)}`);
    else if (answer.hostname.toLowerCase() !== check.expectedHostname.toLowerCase()) {
      refuse(`hostname ${quote(answer.hostname)} expected ${quote(check.expectedHostname)}`);
    }
  }
  if (check.provider === 'recaptcha') {
    if (typeof answer.score !== 'number') refuse('no score in the answer (is the site key a reCAPTCHA v3 key?)');
    else if (answer.score < check.minScore) refuse(`low score ${answer.score} < ${check.minScore}`);
    if (answer.action !== check.expectedAction) refuse(`action ${quote(answer.action ?? '')} expected ${quote(check.expectedAction)}`);
  }
  // Turnstile returns the action given to the widget; older widgets without one return none.
  if (check.provider === 'turnstile' && answer.action !== undefined && check.expectedAction && answer.action !== check.expectedAction) {
    refuse(`action ${quote(answer.action)} expected ${quote(check.expectedAction)}`);
  }
}

export class CaptchaVerifier {
  readonly #agent: https.Agent;

  constructor(
    private readonly config: Config['captcha'],
    private readonly log: Pick<FastifyBaseLogger, 'warn'>,
  ) {
    const ca = certificateAuthorities(config.caFile);
    // Connections are reused, but an idle one is closed after 4 s, before the
    // provider would drop it: siteverify is not safe to retry (a token counts
    // once), so a request must not go out on a socket about to die.
    this.#agent = new https.Agent({ keepAlive: true, timeout: 4000, ca });
  }

  /** Resolves when accepted; throws AppError captcha_failed / captcha_unavailable (not when failOpen: resolves and logs). */
  async verify(check: CaptchaCheck): Promise<void> {
    const url = this.config.verifyUrls[check.provider];
    const form = new URLSearchParams({ secret: check.secret, response: check.token });
    if (check.remoteIp) form.set('remoteip', check.remoteIp);
    if (check.provider === 'hcaptcha' && check.siteKey) form.set('sitekey', check.siteKey);
    try {
      const { status, body } = await this.#post(url, form.toString());
      judge(check, parseAnswer(status, body));
    } catch (error) {
      if (!(error instanceof ProviderUnavailable)) throw error;
      const detail = `${NAMES[check.provider]} at ${url.host} ${error.message}`;
      if (!check.failOpen) throw new AppError('captcha_unavailable', detail);
      this.log.warn({ provider: check.provider, detail }, 'captcha check skipped: provider unavailable and the project fails open');
    }
  }

  /** One POST, answered within timeoutMs. */
  async #post(url: URL, body: string): Promise<{ status: number; body: string }> {
    if (url.protocol !== 'https:') throw new ProviderUnavailable(`is not an https: URL`);
    const signal = AbortSignal.timeout(this.config.timeoutMs);
    const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    try {
      const answer = await exchange(url, { method: 'POST', headers, body, agent: this.#agent, signal, maxBytes: MAX_ANSWER_BYTES });
      if (answer.truncated) throw new ProviderUnavailable(`answered more than ${MAX_ANSWER_BYTES / 1024} KB`);
      return { status: answer.status, body: answer.body.toString('utf8') };
    } catch (error) {
      if (error instanceof ProviderUnavailable) throw error;
      if (signal.aborted) throw new ProviderUnavailable(`did not answer within ${this.config.timeoutMs} ms`);
      if (error instanceof AnswerCutOff) throw new ProviderUnavailable(error.message);
      const code = (error as NodeJS.ErrnoException).code;
      throw new ProviderUnavailable(`could not be reached (${code ?? (error as Error).message})`);
    }
  }
}
