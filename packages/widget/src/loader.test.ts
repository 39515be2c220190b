// The loader on a host site (another origin than Parley) in real Chromium:
// under the strictest CSP a site can send, with the SRI snippet, against
// tampered files, hostile CSS, a wrong key and an unreachable server.
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORT, callParley, cspViolations, feedbackDialog, launchChromium, newWatchedPage, recordEvents, recordedEvents, skipReason, type Watched } from '../test/browser.js';
import { storedBodies, startFakeParley, type FakeParley } from '../test/fake-parley.js';
import { HOSTILE_CSS, hostPage, snippet, startHostSite, strictCsp, type HostSite } from '../test/host-site.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let fake: FakeParley;
let site: HostSite;
let browser: Browser;
let watched: Watched | undefined;

async function visit(path = '/', html = hostPage({ body: snippet(fake) }), csp: string | null = strictCsp(fake.origin)): Promise<Watched> {
  site.page = { html, csp, css: HOSTILE_CSS };
  watched ??= await newWatchedPage(browser);
  await watched.page.goto(site.origin + path);
  return watched;
}

/** Console lines the browser itself writes for failed requests: no script can prevent them. */
const isNetworkLog = (text: string) => text.startsWith('Failed to load resource') || text.includes('CORS policy');

beforeAll(async () => {
  [fake, site, browser] = await Promise.all([startFakeParley(), startHostSite(), launchChromium()]);
}, 60_000);

afterEach(async () => {
  await watched?.context.close();
  watched = undefined;
  fake.reset();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([fake?.close(), site?.close()]);
});

describe.skipIf(skipReason !== '')('the loader in Chromium', () => {
  it('sends feedback from a page with the strictest CSP, with the documented body, and violates nothing', async () => {
    const visited = await visit('/shop/item?order=secret-42#reviews');
    const { page } = visited;
    const { launcher, dialog, message, email, send, sent } = feedbackDialog(page);
    await launcher.click();
    await dialog.getByRole('radio', { name: '4 of 5 stars' }).check();
    await message.fill('The checkout button is hard to find.');
    await email.fill('ada@example.com');
    await send.click();
    await sent.waitFor();

    expect(fake.feedbackRequests).toHaveLength(1);
    const [request] = fake.feedbackRequests;
    expect(storedBodies(fake)).toStrictEqual([
      {
        message: 'The checkout button is hard to find.',
        rating: 4,
        email: 'ada@example.com',
        pageUrl: `${site.origin}/shop/item`,
        browser: expect.stringMatching(/^(Chrome|Chromium|HeadlessChrome) \d+$/),
        os: 'Linux',
        viewport: VIEWPORT,
        locale: 'en-GB',
        reporter: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        elapsedMs: expect.any(Number),
      },
    ]);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['idempotency-key']).toMatch(UUID);
    expect(request!.headers.cookie).toBeUndefined();
    // strict-origin: the page's path and query never leave in the Referer.
    expect(request!.headers.referer).toBe(`${site.origin}/`);
    expect(await cspViolations(visited)).toEqual([]);
    expect(visited.pageErrors).toEqual([]);
  });

  it('runs from the versioned SRI snippet the server prints, its chunks verified against the hashes built into the loader', async () => {
    const { version, integrity } = fake.manifest;
    const tag = `<script src="${fake.origin}/widget/${version}/loader.js" integrity="${integrity}" crossorigin="anonymous" data-project="pk_test_widget" async></script>`;
    const visited = await visit('/', hostPage({ body: tag }));
    await visited.page.getByRole('button', { name: 'Feedback' }).click();
    await visited.page.getByRole('dialog', { name: 'Send feedback' }).waitFor();
    expect(await cspViolations(visited)).toEqual([]);
    // Nothing of the preloading is left in the host's document.
    expect(await visited.page.locator('head link').count()).toBe(0);
  });

  it('refuses to run a chunk whose bytes differ from its built-in hash', async () => {
    const dialogFile = fake.manifest.files.dialog!;
    const original = fake.files.get(dialogFile)!;
    fake.files.set(dialogFile, Buffer.concat([original, Buffer.from('\nwindow.tampered = true;')]));
    try {
      const { page } = await visit();
      await page.evaluate(() => (window as unknown as { Parley: { on(e: string, f: (p: unknown) => void): void } }).Parley.on('error', (e) => ((window as unknown as { lastError: unknown }).lastError = e)));
      await page.getByRole('button', { name: 'Feedback' }).click();
      await page.waitForFunction(() => (window as unknown as { lastError?: unknown }).lastError);
      expect(await page.evaluate(() => (window as unknown as { lastError: unknown }).lastError)).toEqual({ code: 'widget_load_failed', message: 'The feedback dialog did not load.' });
      expect(await page.evaluate(() => (window as unknown as { tampered?: boolean }).tampered)).toBeUndefined();
      expect(await page.getByRole('dialog').count()).toBe(0);
    } finally {
      fake.files.set(dialogFile, original);
    }
  });

  it('starts one widget when the snippet is pasted twice, and adds no global but Parley', async () => {
    const { page } = await visit('/', hostPage());
    const before = await page.evaluate(() => Object.keys(window));
    await visit('/', hostPage({ body: snippet(fake) + snippet(fake) }));
    await page.getByRole('button', { name: 'Feedback' }).waitFor();
    const after = await page.evaluate(() => Object.keys(window));
    expect(after.filter((key) => !before.includes(key))).toEqual(['Parley']);
    expect(await page.locator('parley-widget').count()).toBe(1);
    expect(fake.configRequests).toBe(1);
    expect(Object.isFrozen(await page.evaluate(() => Object.isFrozen((window as unknown as { Parley: object }).Parley)))).toBe(true);
  });

  it('replays calls a site queued in window.Parley before the script ran; load reaches late listeners too', async () => {
    watched = await newWatchedPage(browser);
    await recordEvents(watched.context);
    const { page } = await visit();
    await page.getByRole('button', { name: 'Feedback' }).waitFor();
    expect(await recordedEvents(page)).toEqual([['load', { project: 'pk_test_widget' }]]);
    const late = await page.evaluate(
      () => new Promise((resolve) => (window as unknown as { Parley: { on(e: string, f: (p: unknown) => void): void } }).Parley.on('load', resolve)),
    );
    expect(late).toEqual({ project: 'pk_test_widget' });
  });

  it('takes options from data-* attributes: no launcher, the site opens the dialog itself', async () => {
    const { page } = await visit('/', hostPage({ body: snippet(fake, { 'data-launcher': 'false' }) }));
    await page.waitForFunction(() => (window as unknown as { Parley?: unknown }).Parley);
    await callParley(page, 'open');
    await page.getByRole('dialog', { name: 'Send feedback' }).waitFor();
    expect(await page.getByRole('button', { name: 'Feedback' }).count()).toBe(0);
    await callParley(page, 'close');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
  });

  // Port 9 (discard) has nothing listening; the page's CSP allows it, so the
  // failure is the network's, not the policy's.
  const NOBODY = 'http://127.0.0.1:9';
  for (const [name, attributes] of [
    ['a wrong project key', { 'data-project': 'pk_nobody' }],
    ['an unreachable Parley', { 'data-api-origin': NOBODY }],
  ] as const) {
    it(`stays quiet with ${name}: no launcher, no exception, one [parley] warning`, async () => {
      const tag = snippet(fake, attributes).replace(/data-project="pk_test_widget"( data-project=)/, '$1');
      const visited = await visit('/', hostPage({ body: tag }), strictCsp(fake.origin).replace('connect-src', `connect-src ${NOBODY}`));
      await expect.poll(() => visited.console.filter((message) => message.type === 'warning').length).toBe(1);
      await callParley(visited.page, 'open');
      await visited.page.waitForTimeout(300);
      const warnings = visited.console.filter((message) => message.type === 'warning');
      expect(warnings).toEqual([{ type: 'warning', text: expect.stringMatching(/^\[parley\] The project's settings did not load .*\(config_failed\)$/) }]);
      expect(visited.console.filter((message) => message.type === 'error' && !isNetworkLog(message.text))).toEqual([]);
      expect(visited.pageErrors).toEqual([]);
      expect(await visited.page.locator('parley-widget').count()).toBe(0);
    });
  }

  it('cannot be hidden or restyled by hostile host CSS, and leaves the host page alone until opened', async () => {
    const visited = await visit('/', hostPage({ body: snippet(fake), stylesheet: true }), `${strictCsp(fake.origin)} 'self'`);
    const { page } = visited;
    const { launcher } = feedbackDialog(page);
    await launcher.waitFor();
    const box = await launcher.boundingBox();
    expect(box!.x + box!.width).toBeCloseTo(VIEWPORT.width - 20, 0);
    expect(box!.y + box!.height).toBeCloseTo(VIEWPORT.height - 20, 0);
    expect(await launcher.evaluate((element) => getComputedStyle(element).backgroundColor)).toBe('rgb(37, 99, 235)');
    expect(await page.evaluate(() => [document.activeElement === document.body, scrollX, scrollY, document.documentElement.getAttribute('style')])).toEqual([true, 0, 0, null]);

    await launcher.click();
    const { dialog, message, send, sent } = feedbackDialog(page);
    await message.fill('Still readable.');
    expect(await send.evaluate((element) => getComputedStyle(element).backgroundColor)).toBe('rgb(37, 99, 235)');
    expect(await dialog.evaluate((element) => getComputedStyle(element).fontFamily)).not.toContain('monospace');
    await page.screenshot({ path: '/tmp/parley-widget-hostile-css.png' });
    await send.click();
    await sent.waitFor();
    expect(await cspViolations(visited)).toEqual([]);
  });

  it('destroy() takes everything away: element, listeners, timers', async () => {
    fake.settings.context.consoleErrors = true;
    fake.settings.display.autoOpenSeconds = 1;
    const { page } = await visit();
    await page.getByRole('button', { name: 'Feedback' }).waitFor();
    await callParley(page, 'destroy');
    expect(await page.locator('parley-widget').count()).toBe(0);
    await page.waitForTimeout(1500);
    expect(await page.getByRole('dialog').count()).toBe(0);
    // After destroy, the API still answers (init can start it again).
    await callParley(page, 'init', { project: 'pk_test_widget', apiOrigin: fake.origin });
    await page.getByRole('button', { name: 'Feedback' }).waitFor();
  });

  it('would have noticed a CSP violation (control for the zero-violation checks)', async () => {
    const visited = await visit();
    await visited.page.evaluate(() => document.head.append(Object.assign(document.createElement('style'), { textContent: 'p {}' })));
    await expect.poll(async () => (await cspViolations(visited)).length).toBeGreaterThan(0);
  });
});
