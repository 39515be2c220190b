// A loopback stand-in for the three captcha providers' siteverify endpoints
// (we cannot reach Google, Cloudflare or hCaptcha from tests, nor make them
// answer "score 0.2"). It is a real HTTPS server with a self-signed
// certificate that the code under test must be told to trust, and it speaks
// each provider's documented protocol: a form POST of secret, response and
// remoteip, checked against the secret and the tokens it handed out, answered
// with that provider's JSON fields as the test programmed for each token.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import type { Config } from '../apps/server/src/config.js';
import type { CaptchaProvider } from '../apps/server/src/security/captcha.js';

/** How the provider answers when a token is verified. */
export type ProgrammedAnswer =
  /** success: true with the provider's documented fields; omitted ones take the peer's defaults. */
  | { verdict: 'pass'; hostname?: string; action?: string; score?: number }
  /** success: false with these error-codes. */
  | { verdict: 'refuse'; errorCodes: string[] }
  /** Never answers: the client must give up on its own. */
  | { verdict: 'hang' }
  /** Sends the status line and the start of a JSON answer, then nothing more. */
  | { verdict: 'stall' }
  /** Exactly this status and body (5xx, HTML, oversized...); chunked: no Content-Length. */
  | { verdict: 'http'; status: number; body: string; chunked?: boolean };

export type VerifyRequest = { provider: CaptchaProvider; form: Record<string, string> };

export type CaptchaProviders = {
  /** The self-signed certificate, to trust as a CA. */
  caPem: string;
  /** caPem written to a file, for PARLEY_CAPTCHA_CA_FILE. */
  caFile: string;
  verifyUrls: Config['captcha']['verifyUrls'];
  /** The captcha settings of a server that uses this peer. */
  config(timeoutMs?: number): Config['captcha'];
  /** For startTestServer's env. */
  env: Record<string, string>;
  /** Each provider's secret key as the project owner would have pasted it. */
  secrets: Record<CaptchaProvider, string>;
  /** A token the visitor's browser would have got, answered as programmed (once: tokens are single-use). */
  issue(provider: CaptchaProvider, answer?: ProgrammedAnswer): string;
  /** Every siteverify request received, in order. */
  requests: VerifyRequest[];
  close(): Promise<void>;
};

export type CaptchaProvidersOptions = {
  /** The hostname a passing answer names unless programmed otherwise. */
  hostname?: string;
  /** The action a passing answer names unless programmed otherwise. */
  action?: string;
  /** hCaptcha: the site key the secret belongs to (a `sitekey` sent must match it). */
  hcaptchaSiteKey?: string;
};

/** The provider's path, as on the real host. */
const PATHS: Record<CaptchaProvider, string> = {
  recaptcha: '/recaptcha/api/siteverify',
  turnstile: '/turnstile/v0/siteverify',
  hcaptcha: '/siteverify',
};

// Each provider's documented error-code for the same mistake.
const ERRORS = {
  missingSecret: 'missing-input-secret',
  badSecret: 'invalid-input-secret',
  missingToken: 'missing-input-response',
  badToken: 'invalid-input-response',
  duplicate: { recaptcha: 'timeout-or-duplicate', turnstile: 'timeout-or-duplicate', hcaptcha: 'already-seen-response' },
  badRequest: { recaptcha: 'bad-request', turnstile: 'bad-request', hcaptcha: 'bad-request' },
} as const;

type Defaults = Required<CaptchaProvidersOptions>;

/** A success answer with the fields each provider documents. */
function passAnswer(provider: CaptchaProvider, answer: Extract<ProgrammedAnswer, { verdict: 'pass' }>, defaults: Defaults): object {
  const challenge_ts = new Date().toISOString();
  const hostname = answer.hostname ?? defaults.hostname;
  switch (provider) {
    case 'recaptcha':
      return { success: true, score: answer.score ?? 0.9, action: answer.action ?? defaults.action, challenge_ts, hostname };
    case 'turnstile':
      return { success: true, 'error-codes': [], challenge_ts, hostname, action: answer.action ?? defaults.action, cdata: '' };
    case 'hcaptcha':
      // score is hCaptcha Enterprise only (a risk score: higher is worse).
      return { success: true, challenge_ts, hostname, credit: false, ...(answer.score === undefined ? {} : { score: answer.score }) };
  }
}

const refusal = (provider: CaptchaProvider, codes: string[]) => (provider === 'turnstile' ? { success: false, 'error-codes': codes, messages: [] } : { success: false, 'error-codes': codes });

/** Starts the peer on a random loopback port. */
export async function startCaptchaProviders(options: CaptchaProvidersOptions = {}): Promise<CaptchaProviders> {
  const defaults: Defaults = { hostname: 'shop.example', action: 'feedback', hcaptchaSiteKey: '10000000-ffff-ffff-ffff-000000000001', ...options };
  const pems = await generate([{ name: 'commonName', value: 'captcha-providers.test' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }],
  });
  const secrets: Record<CaptchaProvider, string> = {
    recaptcha: `6L${randomBytes(18).toString('base64url')}`,
    turnstile: `0x4AAAAAA${randomBytes(16).toString('hex')}`,
    hcaptcha: `0x${randomBytes(20).toString('hex')}`,
  };
  const tokens = new Map<string, { provider: CaptchaProvider; answer: ProgrammedAnswer; used: boolean }>();
  const requests: VerifyRequest[] = [];

  const server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    const provider = (Object.keys(PATHS) as CaptchaProvider[]).find((name) => PATHS[name] === req.url);
    if (!provider || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const json = (body: object) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (!req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) return json(refusal(provider, [ERRORS.badRequest[provider]]));
      const form = Object.fromEntries(new URLSearchParams(raw));
      requests.push({ provider, form });
      if (!form.secret) return json(refusal(provider, [ERRORS.missingSecret]));
      if (form.secret !== secrets[provider]) return json(refusal(provider, [ERRORS.badSecret]));
      if (provider === 'hcaptcha' && form.sitekey && form.sitekey !== defaults.hcaptchaSiteKey) return json(refusal(provider, ['sitekey-secret-mismatch']));
      if (!form.response) return json(refusal(provider, [ERRORS.missingToken]));
      const issued = tokens.get(form.response);
      if (!issued || issued.provider !== provider) return json(refusal(provider, [ERRORS.badToken]));
      if (issued.used) return json(refusal(provider, [ERRORS.duplicate[provider]]));
      issued.used = true;
      const { answer } = issued;
      switch (answer.verdict) {
        case 'pass':
          return json(passAnswer(provider, answer, defaults));
        case 'refuse':
          return json(refusal(provider, answer.errorCodes));
        case 'hang':
          return;
        case 'stall':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"success":');
          return;
        case 'http':
          res.writeHead(answer.status, { 'content-type': 'text/html', ...(answer.chunked ? {} : { 'content-length': Buffer.byteLength(answer.body) }) });
          if (answer.chunked) res.write(answer.body);
          res.end(answer.chunked ? undefined : answer.body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `https://127.0.0.1:${port}`;
  const verifyUrls = { recaptcha: new URL(PATHS.recaptcha, base), turnstile: new URL(PATHS.turnstile, base), hcaptcha: new URL(PATHS.hcaptcha, base) };

  const dir = await mkdtemp(path.join(os.tmpdir(), 'parley-captcha-'));
  const caFile = path.join(dir, 'ca.pem');
  await writeFile(caFile, pems.cert);

  return {
    caPem: pems.cert,
    caFile,
    verifyUrls,
    config: (timeoutMs = 5000) => ({ verifyUrls, caFile, timeoutMs }),
    env: {
      PARLEY_RECAPTCHA_VERIFY_URL: verifyUrls.recaptcha.href,
      PARLEY_TURNSTILE_VERIFY_URL: verifyUrls.turnstile.href,
      PARLEY_HCAPTCHA_VERIFY_URL: verifyUrls.hcaptcha.href,
      PARLEY_CAPTCHA_CA_FILE: caFile,
    },
    secrets,
    issue(provider, answer = { verdict: 'pass' }) {
      const token = `${provider}.${randomBytes(24).toString('base64url')}`;
      tokens.set(token, { provider, answer, used: false });
      return token;
    },
    requests,
    async close() {
      // Hanging and stalled answers (and the client's idle keep-alive sockets) would keep close() waiting.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
