// Attacks on the third-party captcha check, against a loopback HTTPS peer
// that speaks each provider's siteverify protocol (test/captcha-providers.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCaptchaProviders, type CaptchaProviders, type ProgrammedAnswer } from '../../../../test/captcha-providers.js';
import { CaptchaVerifier, type CaptchaCheck, type CaptchaProvider } from './captcha.js';

let providers: CaptchaProviders;
/** A second peer with its own self-signed certificate, which nobody told the verifier to trust. */
let stranger: CaptchaProviders;
const warnings: { provider: string; detail: string }[] = [];
const log = { warn: (fields: { provider: string; detail: string }) => void warnings.push(fields) };

const PROVIDERS: CaptchaProvider[] = ['recaptcha', 'turnstile', 'hcaptcha'];
const HCAPTCHA_SITE_KEY = '20000000-ffff-ffff-ffff-000000000002';

beforeAll(async () => {
  [providers, stranger] = await Promise.all([startCaptchaProviders({ hcaptchaSiteKey: HCAPTCHA_SITE_KEY }), startCaptchaProviders()]);
});
afterAll(async () => {
  await Promise.all([providers.close(), stranger.close()]);
});

const verifier = (timeoutMs = 5000) => new CaptchaVerifier(providers.config(timeoutMs), log);

function check(provider: CaptchaProvider, answer?: ProgrammedAnswer, overrides: Partial<CaptchaCheck> = {}): CaptchaCheck {
  return {
    provider,
    secret: providers.secrets[provider],
    token: providers.issue(provider, answer),
    remoteIp: '203.0.113.7',
    expectedHostname: 'shop.example',
    expectedAction: 'feedback',
    minScore: 0.5,
    failOpen: false,
    siteKey: provider === 'hcaptcha' ? HCAPTCHA_SITE_KEY : null,
    ...overrides,
  };
}

const refused = (code: 'captcha_failed' | 'captcha_unavailable', detail: string | RegExp) => ({ code, status: code === 'captcha_failed' ? 403 : 503, detail });

describe('a token the provider vouches for', () => {
  it.each(PROVIDERS)('%s: accepted, after a form POST of secret, response and remoteip', async (provider) => {
    const accepted = check(provider);
    await expect(verifier().verify(accepted)).resolves.toBeUndefined();
    const sent = providers.requests.at(-1)!;
    expect(sent.provider).toBe(provider);
    expect(sent.form).toEqual({
      secret: providers.secrets[provider],
      response: accepted.token,
      remoteip: '203.0.113.7',
      ...(provider === 'hcaptcha' ? { sitekey: HCAPTCHA_SITE_KEY } : {}),
    });
  });

  it('hostnames compare case-insensitively; no expected hostname (no Origin) skips the check', async () => {
    await expect(verifier().verify(check('turnstile', { verdict: 'pass', hostname: 'Shop.Example' }))).resolves.toBeUndefined();
    await expect(verifier().verify(check('hcaptcha', { verdict: 'pass', hostname: 'elsewhere.example' }, { expectedHostname: null }))).resolves.toBeUndefined();
  });

  it('reCAPTCHA: a score exactly at the threshold passes', async () => {
    await expect(verifier().verify(check('recaptcha', { verdict: 'pass', score: 0.5 }))).resolves.toBeUndefined();
  });

  it('Turnstile: an answer without an action (widget rendered without one) is not refused for it', async () => {
    // The peer always names one, so ask for the documented shape through a raw answer.
    const body = JSON.stringify({ success: true, 'error-codes': [], challenge_ts: new Date().toISOString(), hostname: 'shop.example' });
    await expect(verifier().verify(check('turnstile', { verdict: 'http', status: 200, body }))).resolves.toBeUndefined();
  });
});

describe('refused by what the provider says (captcha_failed)', () => {
  it('reCAPTCHA: a low score', async () => {
    await expect(verifier().verify(check('recaptcha', { verdict: 'pass', score: 0.2 }))).rejects.toMatchObject(refused('captcha_failed', 'reCAPTCHA: low score 0.2 < 0.5'));
  });

  it('reCAPTCHA: an answer without a score (a v2 key)', async () => {
    const body = JSON.stringify({ success: true, challenge_ts: new Date().toISOString(), hostname: 'shop.example' });
    await expect(verifier().verify(check('recaptcha', { verdict: 'http', status: 200, body }))).rejects.toMatchObject(
      refused('captcha_failed', 'reCAPTCHA: no score in the answer (is the site key a reCAPTCHA v3 key?)'),
    );
  });

  it.each([
    ['recaptcha', 'reCAPTCHA'],
    ['turnstile', 'Turnstile'],
  ] as const)('%s: a token solved for another action', async (provider, name) => {
    await expect(verifier().verify(check(provider, { verdict: 'pass', action: 'login' }))).rejects.toMatchObject(
      refused('captcha_failed', `${name}: action "login" expected "feedback"`),
    );
  });

  it.each([
    ['recaptcha', 'reCAPTCHA'],
    ['turnstile', 'Turnstile'],
    ['hcaptcha', 'hCaptcha'],
  ] as const)('%s: a token solved on another site', async (provider, name) => {
    await expect(verifier().verify(check(provider, { verdict: 'pass', hostname: 'evil.example' }))).rejects.toMatchObject(
      refused('captcha_failed', `${name}: hostname "evil.example" expected "shop.example"`),
    );
  });

  it.each([
    ['recaptcha', 'invalid-input-response'],
    ['turnstile', 'invalid-input-response'],
    ['hcaptcha', 'invalid-input-response'],
  ] as const)('%s: a made-up token', async (provider, errorCode) => {
    await expect(verifier().verify({ ...check(provider), token: `${provider}.made-up` })).rejects.toMatchObject(
      refused('captcha_failed', new RegExp(`token refused \\(error-codes: ${errorCode}\\)$`)),
    );
  });

  it.each([
    ['recaptcha', 'timeout-or-duplicate'],
    ['turnstile', 'timeout-or-duplicate'],
    ['hcaptcha', 'already-seen-response'],
  ] as const)('%s: a token replayed after it was accepted once', async (provider, errorCode) => {
    const first = check(provider);
    await verifier().verify(first);
    await expect(verifier().verify(first)).rejects.toMatchObject(refused('captcha_failed', new RegExp(`token refused \\(error-codes: ${errorCode}\\)$`)));
  });

  it('a token solved for another provider', async () => {
    const turnstileToken = providers.issue('turnstile');
    await expect(verifier().verify({ ...check('recaptcha'), token: turnstileToken })).rejects.toMatchObject(
      refused('captcha_failed', 'reCAPTCHA: token refused (error-codes: invalid-input-response)'),
    );
  });

  it.each(PROVIDERS)('%s: the wrong secret (names the provider error, never echoes the secret)', async (provider) => {
    const attempt = check(provider, undefined, { secret: 'not-the-secret' });
    const error = await verifier()
      .verify(attempt)
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject(refused('captcha_failed', /token refused \(error-codes: invalid-input-secret\)$/));
    expect(JSON.stringify(error)).not.toContain('not-the-secret');
  });

  it('hCaptcha: a token for another site key of the same account', async () => {
    await expect(verifier().verify(check('hcaptcha', undefined, { siteKey: '30000000-ffff-ffff-ffff-000000000003' }))).rejects.toMatchObject(
      refused('captcha_failed', 'hCaptcha: token refused (error-codes: sitekey-secret-mismatch)'),
    );
  });

  it('provider error-codes are listed, and only well-formed ones', async () => {
    await expect(verifier().verify(check('hcaptcha', { verdict: 'refuse', errorCodes: ['expired-input-response', 'x\n"<script>', 'bad-request'] }))).rejects.toMatchObject(
      refused('captcha_failed', 'hCaptcha: token refused (error-codes: expired-input-response, bad-request)'),
    );
  });

  it('quoted answer fields cannot inject lines into logs or problem details', async () => {
    const error = await verifier()
      .verify(check('recaptcha', { verdict: 'pass', action: 'x"\nlevel=fatal' }))
      .catch((caught: unknown) => caught as Error);
    expect(error).toMatchObject(refused('captcha_failed', 'reCAPTCHA: action "x\\"\\nlevel=fatal" expected "feedback"'));
    expect((error as Error).message).not.toContain('\n');
  });

  it('failOpen does not let a refused token through', async () => {
    await expect(verifier().verify(check('recaptcha', { verdict: 'pass', score: 0.1 }, { failOpen: true }))).rejects.toMatchObject(
      refused('captcha_failed', 'reCAPTCHA: low score 0.1 < 0.5'),
    );
  });
});

describe('the provider cannot answer (captcha_unavailable, fail closed)', () => {
  const url = (provider: CaptchaProvider) => providers.verifyUrls[provider].host;

  it('no answer within timeoutMs', async () => {
    await expect(verifier(300).verify(check('turnstile', { verdict: 'hang' }))).rejects.toMatchObject(
      refused('captcha_unavailable', `Turnstile at ${url('turnstile')} did not answer within 300 ms`),
    );
  });

  it('an answer that starts and never finishes (the timeout covers the body too)', async () => {
    await expect(verifier(300).verify(check('recaptcha', { verdict: 'stall' }))).rejects.toMatchObject(
      refused('captcha_unavailable', `reCAPTCHA at ${url('recaptcha')} did not answer within 300 ms`),
    );
  });

  it.each([500, 502, 503])('HTTP %i', async (status) => {
    await expect(verifier().verify(check('hcaptcha', { verdict: 'http', status, body: '<html>down</html>' }))).rejects.toMatchObject(
      refused('captcha_unavailable', `hCaptcha at ${url('hcaptcha')} answered HTTP ${status}`),
    );
  });

  it('a 200 that is not JSON (a captive portal, a proxy error page)', async () => {
    await expect(verifier().verify(check('recaptcha', { verdict: 'http', status: 200, body: '<html>Sign in to the Wi-Fi</html>' }))).rejects.toMatchObject(
      refused('captcha_unavailable', `reCAPTCHA at ${url('recaptcha')} answered HTTP 200 without a siteverify JSON answer`),
    );
  });

  it('JSON without a boolean success is not taken as a pass', async () => {
    await expect(verifier().verify(check('turnstile', { verdict: 'http', status: 200, body: '{"success":"true","hostname":"shop.example"}' }))).rejects.toMatchObject(
      refused('captcha_unavailable', /answered HTTP 200 without a siteverify JSON answer$/),
    );
  });

  it('a redirect is not followed', async () => {
    await expect(verifier().verify(check('hcaptcha', { verdict: 'http', status: 302, body: '' }))).rejects.toMatchObject(
      refused('captcha_unavailable', /answered HTTP 302 without a siteverify JSON answer$/),
    );
  });

  it.each([
    ['announced in Content-Length', false],
    ['streamed without a length', true],
  ])('an answer over 64 KB, %s', async (_, chunked) => {
    const body = `{"success":true,"padding":"${'x'.repeat(70 * 1024)}"}`;
    await expect(verifier().verify(check('recaptcha', { verdict: 'http', status: 200, body, chunked }))).rejects.toMatchObject(
      refused('captcha_unavailable', `reCAPTCHA at ${url('recaptcha')} answered more than 64 KB`),
    );
  });

  it('Turnstile internal-error (documented as retryable) is the provider failing, not the visitor', async () => {
    await expect(verifier().verify(check('turnstile', { verdict: 'refuse', errorCodes: ['internal-error'] }))).rejects.toMatchObject(
      refused('captcha_unavailable', `Turnstile at ${url('turnstile')} reported an internal error`),
    );
  });

  it('a certificate not signed by a trusted CA: nothing is sent (the secret stays home)', async () => {
    const impostor = new CaptchaVerifier({ ...providers.config(), verifyUrls: stranger.verifyUrls }, log);
    await expect(impostor.verify(check('recaptcha'))).rejects.toMatchObject(
      refused('captcha_unavailable', `reCAPTCHA at ${stranger.verifyUrls.recaptcha.host} could not be reached (DEPTH_ZERO_SELF_SIGNED_CERT)`),
    );
    expect(stranger.requests).toEqual([]);
  });

  it('without the CA file the peer is not trusted either (the extra CA adds to the public roots, no bypass)', async () => {
    const unconfigured = new CaptchaVerifier({ ...providers.config(), caFile: undefined }, log);
    const before = providers.requests.length;
    await expect(unconfigured.verify(check('turnstile'))).rejects.toMatchObject(refused('captcha_unavailable', /could not be reached \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/));
    expect(providers.requests.length).toBe(before);
  });

  it('a plain http: verify URL is refused before connecting', async () => {
    const plain = new URL(providers.verifyUrls.hcaptcha);
    plain.protocol = 'http:';
    const downgraded = new CaptchaVerifier({ ...providers.config(), verifyUrls: { ...providers.verifyUrls, hcaptcha: plain } }, log);
    const before = providers.requests.length;
    await expect(downgraded.verify(check('hcaptcha'))).rejects.toMatchObject(refused('captcha_unavailable', `hCaptcha at ${plain.host} is not an https: URL`));
    expect(providers.requests.length).toBe(before);
  });

  it('nothing listening', async () => {
    const closed = await startCaptchaProviders();
    const { verifyUrls } = closed;
    await closed.close();
    const nowhere = new CaptchaVerifier({ ...providers.config(), verifyUrls }, log);
    await expect(nowhere.verify(check('turnstile'))).rejects.toMatchObject(refused('captcha_unavailable', `Turnstile at ${verifyUrls.turnstile.host} could not be reached (ECONNREFUSED)`));
  });
});

describe('failOpen: the provider cannot answer, the submission goes through and a warning is logged', () => {
  it.each([
    ['no answer in time', { verdict: 'hang' }, /did not answer within 300 ms$/],
    ['HTTP 500', { verdict: 'http', status: 500, body: 'oops' }, /answered HTTP 500$/],
    ['not JSON', { verdict: 'http', status: 200, body: 'oops' }, /without a siteverify JSON answer$/],
    ['over 64 KB', { verdict: 'http', status: 200, body: 'x'.repeat(65 * 1024 + 1), chunked: true }, /answered more than 64 KB$/],
  ] as const)('%s', async (_, answer, detail) => {
    warnings.length = 0;
    await expect(verifier(300).verify(check('hcaptcha', answer, { failOpen: true }))).resolves.toBeUndefined();
    expect(warnings).toEqual([{ provider: 'hcaptcha', detail: expect.stringMatching(detail) }]);
  });

  it('an untrusted certificate', async () => {
    warnings.length = 0;
    const impostor = new CaptchaVerifier({ ...providers.config(), verifyUrls: stranger.verifyUrls }, log);
    await expect(impostor.verify(check('turnstile', undefined, { failOpen: true }))).resolves.toBeUndefined();
    expect(warnings).toEqual([{ provider: 'turnstile', detail: expect.stringMatching(/could not be reached \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/) }]);
  });
});

describe('configuration', () => {
  it('a CA file that cannot be read stops start-up, not every check', () => {
    expect(() => new CaptchaVerifier({ ...providers.config(), caFile: '/nonexistent/ca.pem' }, log)).toThrow(/ENOENT/);
  });
});
