// captchaToken() in Chromium, under the page's CSP. The providers' scripts
// cannot be fetched in tests, so each documented script URL is answered by a
// small stand-in (page.route) that offers the same JavaScript API and calls
// back as the real one documents: grecaptcha.ready/execute, turnstile.render
// with callback/error-callback and the onload= hook, hcaptcha.render +
// execute({ async: true }).
import type { Browser, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundlePageScript, cspViolations, launchChromium, newWatchedPage, skipReason, type Watched } from '../../test/browser.js';
import { startHostSite, type HostSite } from '../../test/host-site.js';
import { SCRIPT_TIMEOUT_MS, TOKEN_TIMEOUT_MS, type CaptchaConfig, type CaptchaProvider } from './captcha.js';

const NONCE = 'c2l0ZS1ub25jZS0xMjM0';

const SCRIPTS: Record<CaptchaProvider, RegExp> = {
  recaptcha: /^https:\/\/www\.google\.com\/recaptcha\/api\.js\?/,
  turnstile: /^https:\/\/challenges\.cloudflare\.com\/turnstile\/v0\/api\.js\?/,
  hcaptcha: /^https:\/\/js\.hcaptcha\.com\/1\/api\.js\?/,
};

// The stand-ins. The site key picks the behaviour: 'pass', 'refuse',
// 'silent' (never calls back, as when the provider's frame is blocked), or
// (Turnstile) 'malformed' (render() throws, as for a bad site key).
// Each records what it was asked in window.fakeCaptcha.
const FAKE_RECAPTCHA = `(() => {
  const rendered = new URL(document.currentScript.src).searchParams.get('render');
  const log = (window.fakeCaptcha ??= { calls: [], removed: 0 });
  window.grecaptcha = {
    ready(callback) { Promise.resolve().then(callback); },
    execute(siteKey, options) {
      log.calls.push({ method: 'execute', siteKey, options });
      if (siteKey !== rendered) return Promise.reject(new Error('Invalid site key or not loaded in api.js: ' + siteKey));
      if (siteKey === 'refuse') return Promise.reject(new Error('Invalid domain for site key'));
      if (siteKey === 'silent') return new Promise(() => {});
      return Promise.resolve('recaptcha-token:' + options.action);
    },
  };
})();`;

const FAKE_TURNSTILE = `(() => {
  const onload = new URL(document.currentScript.src).searchParams.get('onload');
  const log = (window.fakeCaptcha ??= { calls: [], removed: 0 });
  const widgets = new Map();
  window.turnstile = {
    render(element, options) {
      if (options.sitekey === 'malformed') throw new Error('[Cloudflare Turnstile] Invalid input for parameter "sitekey", got "malformed"');
      const id = 'cf-' + widgets.size;
      const frame = document.createElement('div');
      element.append(frame);
      widgets.set(id, frame);
      log.calls.push({ method: 'render', inShadowRoot: element.getRootNode() instanceof ShadowRoot, options: JSON.parse(JSON.stringify(options)) });
      if (options.sitekey === 'pass') Promise.resolve().then(() => options.callback('turnstile-token:' + options.action));
      if (options.sitekey === 'refuse') Promise.resolve().then(() => { if (options['error-callback']('110200') !== true) throw new Error('unhandled'); });
      return id;
    },
    remove(id) { widgets.get(id)?.remove(); widgets.delete(id); log.removed += 1; },
  };
  Promise.resolve().then(() => window[onload]());
})();`;

const FAKE_HCAPTCHA = `(() => {
  const onload = new URL(document.currentScript.src).searchParams.get('onload');
  const log = (window.fakeCaptcha ??= { calls: [], removed: 0 });
  const widgets = new Map();
  window.hcaptcha = {
    render(element, options) {
      const id = 'h-' + widgets.size;
      const frame = document.createElement('div');
      element.append(frame);
      widgets.set(id, { frame, options });
      log.calls.push({ method: 'render', inShadowRoot: element.getRootNode() instanceof ShadowRoot, options });
      return id;
    },
    execute(id, options) {
      const { sitekey } = widgets.get(id).options;
      log.calls.push({ method: 'execute', id, options });
      if (sitekey === 'refuse') return Promise.reject('challenge-closed');
      if (sitekey === 'silent') return new Promise(() => {});
      return Promise.resolve({ response: 'hcaptcha-token', key: 'E0_key' });
    },
    remove(id) { widgets.get(id)?.frame.remove(); widgets.delete(id); log.removed += 1; },
  };
  Promise.resolve().then(() => window[onload]());
})();`;

const FAKES: Record<CaptchaProvider, string> = { recaptcha: FAKE_RECAPTCHA, turnstile: FAKE_TURNSTILE, hcaptcha: FAKE_HCAPTCHA };

type FakeLog = { calls: { method: string; inShadowRoot?: boolean; siteKey?: string; options?: Record<string, unknown> }[]; removed: number };
/** The harness never rejects: a token, or the error's name(reason): message. */
type Outcome = { token: string } | { error: string };
type HarnessWindow = Window & {
  parleyCaptcha: { token(config: CaptchaConfig): Promise<Outcome>; abort(): void; slots(): number };
  fakeCaptcha?: FakeLog;
};

describe.skipIf(skipReason)('captchaToken in Chromium', () => {
  let site: HostSite;
  let browser: Browser;
  let harness: Uint8Array;
  const opened: Watched[] = [];

  beforeAll(async () => {
    [site, browser] = await Promise.all([startHostSite(), launchChromium()]);
    // The module under test, bundled into a page script with a container in
    // a closed shadow root, as the dialog has.
    harness = await bundlePageScript(
      `import { captchaToken } from './captcha.ts';
        const host = document.createElement('div');
        document.body.append(host);
        const container = document.createElement('div');
        host.attachShadow({ mode: 'closed' }).append(container);
        let controller;
        window.parleyCaptcha = {
          token(config) {
            controller = new AbortController();
            return captchaToken(config, container, controller.signal).then(
              (token) => ({ token }),
              (error) => ({ error: error.name + '(' + (error.reason ?? '') + '): ' + error.message }),
            );
          },
          abort() { controller.abort(new Error('dialog closed')); },
          slots() { return container.childElementCount; },
        };`,
      import.meta.url,
    );
  }, 60_000);

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((watched) => watched.context.close()));
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  /** What the stand-in for `provider` does with each request for its script. */
  type ScriptAnswer = 'serve' | 'not-found' | 'hang' | 'empty';

  /**
   * The host page with the harness under `csp`; `answers` say how the
   * provider's script URL answers, request after request (the last repeats).
   */
  async function visit(provider: CaptchaProvider, { csp, answers = ['serve'], fakeClock = false }: { csp: string; answers?: ScriptAnswer[]; fakeClock?: boolean }) {
    site.page = {
      html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title></head><body><script type="module" src="/captcha-harness.js" nonce="${NONCE}"></script></body></html>`,
      csp,
      css: '',
      scripts: new Map([['/captcha-harness.js', harness]]),
    };
    const watched = await newWatchedPage(browser);
    opened.push(watched);
    const requested: string[] = [];
    await watched.context.route(SCRIPTS[provider], async (route: Route) => {
      requested.push(route.request().url());
      const answer = answers[Math.min(requested.length, answers.length) - 1];
      if (answer === 'hang') return;
      if (answer === 'not-found') return route.fulfill({ status: 404, body: 'not found' });
      await route.fulfill({ status: 200, contentType: 'text/javascript', body: answer === 'empty' ? '' : FAKES[provider] });
    });
    if (fakeClock) await watched.page.clock.install();
    await watched.page.goto(site.origin);
    await watched.page.waitForFunction(() => 'parleyCaptcha' in window);
    const { page } = watched;
    return {
      ...watched,
      requested,
      token: (config: Omit<CaptchaConfig, 'provider'>) => page.evaluate((given) => (window as unknown as HarnessWindow).parleyCaptcha.token(given), { provider, ...config }),
      fakeLog: () => page.evaluate(() => (window as unknown as HarnessWindow).fakeCaptcha),
      slots: () => page.evaluate(() => (window as unknown as HarnessWindow).parleyCaptcha.slots()),
      scripts: () => page.evaluate(() => [...document.querySelectorAll('script')].map((script) => ({ src: script.src, nonce: script.nonce }))),
    };
  }

  /** The site's CSP: its own scripts by nonce only, so a provider script runs only if it carries the nonce. */
  const nonceOnly = `default-src 'none'; script-src 'nonce-${NONCE}'; frame-src 'none'`;
  /** The sources docs/captcha.md lists, no nonce needed. */
  const bySource: Record<CaptchaProvider, string> = {
    recaptcha: `default-src 'none'; script-src 'nonce-${NONCE}' https://www.google.com/recaptcha/ https://www.gstatic.com/recaptcha/; frame-src https://www.google.com/recaptcha/`,
    turnstile: `default-src 'none'; script-src 'nonce-${NONCE}' https://challenges.cloudflare.com; frame-src https://challenges.cloudflare.com`,
    hcaptcha: `default-src 'none'; script-src 'nonce-${NONCE}' https://hcaptcha.com https://*.hcaptcha.com; frame-src https://hcaptcha.com https://*.hcaptcha.com; style-src https://hcaptcha.com https://*.hcaptcha.com; connect-src https://hcaptcha.com https://*.hcaptcha.com`,
  };

  describe('reCAPTCHA v3', () => {
    it('loads api.js?render=SITEKEY with the nonce and returns the token for the action', async () => {
      const page = await visit('recaptcha', { csp: nonceOnly });
      expect(await page.token({ siteKey: 'pass', action: 'feedback', nonce: NONCE })).toEqual({ token: 'recaptcha-token:feedback' });
      expect(page.requested).toEqual(['https://www.google.com/recaptcha/api.js?render=pass']);
      expect(await page.scripts()).toContainEqual({ src: 'https://www.google.com/recaptcha/api.js?render=pass', nonce: NONCE });
      expect((await page.fakeLog())!.calls).toEqual([{ method: 'execute', siteKey: 'pass', options: { action: 'feedback' } }]);
      expect(await page.slots()).toBe(0);
      expect(await cspViolations(page)).toEqual([]);
    });

    it('passes on the provider refusing', async () => {
      const page = await visit('recaptcha', { csp: bySource.recaptcha });
      expect(await page.token({ siteKey: 'refuse', action: 'feedback' })).toHaveProperty('error', 'CaptchaError(provider): reCAPTCHA refused: Error: Invalid domain for site key');
    });

    it('a script that defines no grecaptcha (an ad blocker’s empty stand-in)', async () => {
      const page = await visit('recaptcha', { csp: bySource.recaptcha, answers: ['empty'] });
      expect(await page.token({ siteKey: 'pass', action: 'feedback' })).toHaveProperty('error', "CaptchaError(load): the provider's script loaded but defined no window.grecaptcha");
    });
  });

  describe('Turnstile', () => {
    it('renders into a slot in the shadow-DOM container, returns the token and removes the widget', async () => {
      const page = await visit('turnstile', { csp: nonceOnly });
      expect(await page.token({ siteKey: 'pass', action: 'feedback', nonce: NONCE })).toEqual({ token: 'turnstile-token:feedback' });
      expect(page.requested).toEqual(['https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit&onload=parleyTurnstileReady']);
      const log = (await page.fakeLog())!;
      expect(log.calls).toEqual([
        { method: 'render', inShadowRoot: true, options: { sitekey: 'pass', action: 'feedback', appearance: 'interaction-only', 'response-field': false } },
      ]);
      expect(log.removed).toBe(1);
      expect(await page.slots()).toBe(0);
      // The documented onload hook is not left on window.
      expect(await page.page.evaluate(() => 'parleyTurnstileReady' in window)).toBe(false);
      expect(await cspViolations(page)).toEqual([]);
    });

    it('passes on error-callback (and tells Turnstile it was handled)', async () => {
      const page = await visit('turnstile', { csp: bySource.turnstile });
      expect(await page.token({ siteKey: 'refuse', action: 'feedback' })).toHaveProperty('error', 'CaptchaError(provider): Turnstile refused (error 110200)');
      expect((await page.fakeLog())!.removed).toBe(1);
      expect(page.pageErrors).toEqual([]);
    });

    it('passes on render() throwing for a malformed site key, and leaves the container empty', async () => {
      const page = await visit('turnstile', { csp: bySource.turnstile });
      expect(await page.token({ siteKey: 'malformed', action: 'feedback' })).toEqual({
        error: 'CaptchaError(provider): turnstile failed: Error: [Cloudflare Turnstile] Invalid input for parameter "sitekey", got "malformed"',
      });
      expect(await page.slots()).toBe(0);
    });

    it('stops waiting for the visitor when aborted, and removes the widget', async () => {
      const page = await visit('turnstile', { csp: bySource.turnstile });
      const pending = page.token({ siteKey: 'silent', action: 'feedback' });
      await expect.poll(async () => (await page.fakeLog())?.calls.length).toBe(1);
      expect(await page.slots()).toBe(1);
      await page.page.evaluate(() => (window as unknown as HarnessWindow).parleyCaptcha.abort());
      expect(await pending).toEqual({ error: 'Error(): dialog closed' });
      expect((await page.fakeLog())!.removed).toBe(1);
      expect(await page.slots()).toBe(0);
    });

    it(`gives up after ${TOKEN_TIMEOUT_MS / 1000} s without a callback (its frame blocked by the page)`, async () => {
      const page = await visit('turnstile', { csp: bySource.turnstile, fakeClock: true });
      const pending = page.token({ siteKey: 'silent', action: 'feedback' });
      await expect.poll(async () => (await page.fakeLog())?.calls.length).toBe(1);
      await page.page.clock.fastForward(TOKEN_TIMEOUT_MS);
      expect(await pending).toHaveProperty('error', `CaptchaError(timeout): no turnstile token within ${TOKEN_TIMEOUT_MS / 1000} s`);
      expect(await page.slots()).toBe(0);
    });
  });

  describe('hCaptcha', () => {
    it('renders invisible in the shadow-DOM container, executes asynchronously and removes the widget', async () => {
      const page = await visit('hcaptcha', { csp: nonceOnly });
      expect(await page.token({ siteKey: 'pass', action: 'feedback', nonce: NONCE })).toEqual({ token: 'hcaptcha-token' });
      expect(page.requested).toEqual(['https://js.hcaptcha.com/1/api.js?render=explicit&onload=parleyHcaptchaReady']);
      const log = (await page.fakeLog())!;
      expect(log.calls).toEqual([
        { method: 'render', inShadowRoot: true, options: { sitekey: 'pass', size: 'invisible' } },
        { method: 'execute', id: 'h-0', options: { async: true } },
      ]);
      expect(log.removed).toBe(1);
      expect(await page.slots()).toBe(0);
      expect(await cspViolations(page)).toEqual([]);
    });

    it('passes on the visitor closing the challenge', async () => {
      const page = await visit('hcaptcha', { csp: bySource.hcaptcha });
      expect(await page.token({ siteKey: 'refuse', action: 'feedback' })).toHaveProperty('error', 'CaptchaError(provider): hCaptcha refused: challenge-closed');
      expect(await page.slots()).toBe(0);
    });
  });

  describe('loading the script', () => {
    it.each(['recaptcha', 'turnstile', 'hcaptcha'] as const)('%s: once per page, however many tokens', async (provider) => {
      const page = await visit(provider, { csp: bySource[provider] });
      const tokens = await page.page.evaluate(async (config) => {
        const { parleyCaptcha } = window as unknown as HarnessWindow;
        const first = await parleyCaptcha.token(config);
        return [first, await parleyCaptcha.token(config)];
      }, { provider, siteKey: 'pass', action: 'feedback' });
      expect(tokens).toEqual([{ token: expect.any(String) }, { token: expect.any(String) }]);
      expect(page.requested).toHaveLength(1);
      expect((await page.scripts()).filter((script) => SCRIPTS[provider].test(script.src))).toHaveLength(1);
    });

    it.each(['recaptcha', 'turnstile', 'hcaptcha'] as const)("%s: without the page's nonce a nonce-only CSP blocks it, with a clear error", async (provider) => {
      const page = await visit(provider, { csp: nonceOnly });
      expect(await page.token({ siteKey: 'pass', action: 'feedback' })).toEqual({
        error: expect.stringMatching(/^CaptchaError\(load\): https:\/\/\S+ did not load \(blocked by the page's Content-Security-Policy or the network\)$/),
      });
      expect(page.requested).toEqual([]);
      expect((await cspViolations(page)).some((violation) => violation.startsWith('script-src'))).toBe(true);
    });

    it('a failed load is forgotten: the next send loads it again', async () => {
      const page = await visit('hcaptcha', { csp: bySource.hcaptcha, answers: ['not-found', 'serve'] });
      expect(await page.token({ siteKey: 'pass', action: 'feedback' })).toEqual({ error: expect.stringMatching(/^CaptchaError\(load\): /) });
      expect(await page.token({ siteKey: 'pass', action: 'feedback' })).toEqual({ token: 'hcaptcha-token' });
      expect(page.requested).toHaveLength(2);
      expect((await page.scripts()).filter((script) => SCRIPTS.hcaptcha.test(script.src))).toHaveLength(1);
    });

    it(`a script that never arrives times out after ${SCRIPT_TIMEOUT_MS / 1000} s`, async () => {
      const page = await visit('turnstile', { csp: bySource.turnstile, answers: ['hang'], fakeClock: true });
      const pending = page.token({ siteKey: 'pass', action: 'feedback' });
      await expect.poll(() => page.requested.length).toBe(1);
      await page.page.clock.fastForward(SCRIPT_TIMEOUT_MS);
      expect(await pending).toHaveProperty('error', `CaptchaError(timeout): challenges.cloudflare.com did not load within ${SCRIPT_TIMEOUT_MS / 1000} s (blocked by the page's Content-Security-Policy?)`);
      expect(await page.page.evaluate(() => 'parleyTurnstileReady' in window)).toBe(false);
    });
  });
});
