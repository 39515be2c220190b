// The story a new user walks, end to end, in real Chromium against the real
// `parley serve` (embedded PostgreSQL, built dashboard and widget): set up the
// owner account from the one-time link, create a project, paste its snippet
// into a site that sends a strict CSP, send feedback through the widget, then
// triage it in the dashboard. Plus the attack the allowed-domains list exists
// for: the same snippet on a site that is not listed gets nothing in.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserStory, CLEAN_UP_TIMEOUT_MS, REPO_ROOT, SET_UP_TIMEOUT_MS, browserSkipReason, closeServer, setUpOwner } from './support.js';

const skipReason = browserSkipReason('browser story');

const OWNER = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery staple', organization: 'Acme Inc.' };
const XSS_MESSAGE = '<img src=x onerror="window.__xss=1">Checkout is broken';
const REPORTER_EMAIL = 'grace@example.org';
const FIRST_MESSAGE = 'Love the new search.';
const SCREENSHOT_MESSAGE = 'The total on this page looks wrong.';

const story = new BrowserStory({
  builtFiles: ['apps/server/dist/main.js', 'apps/dashboard/dist/index.html', 'packages/widget/dist/loader.js'],
  dataDirPrefix: 'parley-e2e-data-',
  screenshotDirPrefix: 'parley-e2e-screenshots-',
});
const { step, screenshot } = story;

// The two sites that paste the snippet: one listed in the allowed domains, one not.
let hostServer: Server | null = null;
let hostOrigin = '';
let strangerServer: Server | null = null;
let strangerOrigin = '';

// What the story hands from one step to the next.
let dashboard: Page;
let snippet = '';
let projectKey = '';
let orgId = '';
let projectId = '';

/** The strict CSP a careful site sends: only what the widget needs from Parley, and its own stylesheet. */
let siteCsp = (parleyOrigin: string) => `default-src 'none'; script-src ${parleyOrigin}; connect-src ${parleyOrigin}; worker-src blob:; style-src 'self'`;

/** A site that embeds the widget: its page sends the strict CSP a careful site would. */
function startSite(body: () => string, parleyOrigin: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://site');
    if (url.pathname === '/site.css') {
      response.writeHead(200, { 'Content-Type': 'text/css; charset=utf-8' }).end('body { font: 16px/1.5 Georgia, serif; margin: 3rem; background: #fbf8f1; }');
    } else if (url.pathname === '/favicon.ico') {
      response.writeHead(404).end();
    } else {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': siteCsp(parleyOrigin) }).end(body());
    }
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}

const sitePage = (title: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title><link rel="stylesheet" href="/site.css"></head>
<body><h1>${title}</h1><p>Checkout: 2 items, 48.00 EUR.</p>
${snippet}
</body></html>`;

const cspReportsFrom = (origin: string) => story.cspReports.filter((report) => report.url.startsWith(`${origin}/`));

/** A labelled value in one of the feedback page's facts lists (the reporter's once they are shown). */
const fact = (page: Page, label: string, list: 'feedback-details' | 'reporter-details' = 'feedback-details') =>
  page.getByTestId(list).locator('.fact').filter({ has: page.getByText(label, { exact: true }) }).locator('dd');

type LogEntry = { reqId?: string; code?: string; req?: { method: string } };

/** Methods of the requests the server refused with `code`, from its log lines since `mark`. */
function refusedMethods(mark: number, code: string): string[] {
  const entries = story.serverLog.slice(mark).flatMap((line): LogEntry[] => {
    try {
      return [JSON.parse(line) as LogEntry];
    } catch {
      return [];
    }
  });
  const refused = new Set(entries.filter((e) => e.code === code).map((e) => e.reqId));
  return entries.filter((e) => e.req && refused.has(e.reqId)).map((e) => e.req!.method);
}

async function listFeedbackViaApi(): Promise<{ items: { id: string; message: string; status: string }[] }> {
  return dashboard.evaluate(async (url) => {
    const response = await fetch(url, { headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return (await response.json()) as { items: { id: string; message: string; status: string }[] };
  }, `/api/v1/orgs/${encodeURIComponent(orgId)}/feedback?projectId=${encodeURIComponent(projectId)}&limit=100`);
}

describe.skipIf(skipReason !== '')('the feedback story in Chromium, against the real server', () => {
  beforeAll(async () => {
    await story.prepare();
    const setupUrl = story.startParley();
    setupUrl.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled

    // The host page's port is fixed before the project is created: its origin
    // goes into the allowed domains.
    ({ server: hostServer, origin: hostOrigin } = await startSite(() => sitePage('Acme shop'), story.origin));
    ({ server: strangerServer, origin: strangerOrigin } = await startSite(() => sitePage('Copycat shop'), story.origin));

    await story.launchBrowser();
    await story.watchSecurityPolicyEvents();
    dashboard = await story.context!.newPage();
    await dashboard.goto(await setupUrl);
  }, SET_UP_TIMEOUT_MS);

  afterAll(() => story.cleanUp(() => closeServer(hostServer), () => closeServer(strangerServer)), CLEAN_UP_TIMEOUT_MS);

  step('sets up the owner account from the one-time link', async () => {
    await dashboard.getByRole('heading', { name: 'Set up Parley' }).waitFor();
    // The token is taken from the fragment and removed from the address bar.
    expect(dashboard.url()).toBe(`${story.origin}/setup`);
    await setUpOwner(dashboard, OWNER);

    expect(new URL(dashboard.url()).pathname).toBe('/');
    await expect(dashboard.getByTestId('current-org').textContent()).resolves.toContain(OWNER.organization);
    await dashboard.getByTestId('no-projects').waitFor();

    // The session is a __Host- cookie the page's scripts cannot read.
    const cookies = await story.context!.cookies();
    expect(cookies.map((c) => ({ name: c.name.slice(0, 7), domain: c.domain, httpOnly: c.httpOnly, secure: c.secure, path: c.path }))).toEqual([
      { name: '__Host-', domain: 'localhost', httpOnly: true, secure: true, path: '/' },
    ]);
    expect(await dashboard.evaluate(() => document.cookie)).toBe('');
  });

  step('creates a project for the host site and shows its snippet', async () => {
    await dashboard.getByLabel('Name', { exact: true }).fill('Acme shop');
    await dashboard.getByLabel('Allowed domains').fill(hostOrigin);
    await dashboard.getByRole('button', { name: 'Create project' }).click();

    const created = dashboard.getByTestId('project-created');
    await created.waitFor();
    projectKey = (await created.getByTestId('project-key').textContent()) ?? '';
    expect(projectKey).toMatch(/^pk_[A-Za-z0-9_-]{22}$/);
    snippet = (await created.getByTestId('project-snippet').textContent()) ?? '';
    // The versioned loader with its Subresource Integrity hash, as built.
    const manifest = JSON.parse(await readFile(path.join(REPO_ROOT, 'packages/widget/dist/manifest.json'), 'utf8')) as { version: string; integrity: string };
    expect(snippet).toBe(`<script src="${story.origin}/widget/${manifest.version}/loader.js" integrity="${manifest.integrity}" crossorigin="anonymous" data-project="${projectKey}" async></script>`);
    await dashboard.getByTestId('project-list').getByText('Acme shop').waitFor();

    await created.getByRole('link', { name: 'open its inbox' }).click();
    await dashboard.getByTestId('project-name').waitFor();
    [, orgId = '', projectId = ''] = /^\/orgs\/([^/]+)\/projects\/([^/]+)$/.exec(new URL(dashboard.url()).pathname) ?? [];
    expect(orgId).not.toBe('');
    await dashboard.getByTestId('inbox-empty').waitFor();
  });

  step('sends feedback from the host site under its strict CSP, storing nothing there', async () => {
    const page = await story.context!.newPage();
    // The query and fragment are the visitor's business: the widget must drop them.
    await page.goto(`${hostOrigin}/shop/checkout?session=secret-42#pay`);
    const launcher = page.getByRole('button', { name: 'Feedback' });
    const dialog = page.getByRole('dialog', { name: 'Send feedback' });
    const send = async (message: string, stars: number, email: string) => {
      await launcher.click();
      await dialog.getByRole('radio', { name: `${stars} of 5 stars` }).check();
      await dialog.getByRole('textbox', { name: 'Your feedback' }).fill(message);
      await dialog.getByRole('textbox', { name: 'E-mail (optional)' }).fill(email);
      if (message === XSS_MESSAGE) await screenshot(page, '1-host-page-widget-open');
      const accepted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(`${story.origin}/api/widget/v1/projects/`));
      await dialog.getByRole('button', { name: 'Send' }).click();
      const response = await accepted;
      expect(response.status()).toBe(201);
      // The dashboard's session cookie lives in this same browser; the widget must not send it.
      expect(await response.request().headerValue('cookie')).toBeNull();
      await dialog.getByText('Your feedback has been sent.', { exact: true }).waitFor();
    };

    await send(FIRST_MESSAGE, 5, 'linus@example.net');
    await dialog.getByText('Close', { exact: true }).click();
    await send(XSS_MESSAGE, 4, REPORTER_EMAIL);
    await screenshot(page, '2-host-page-thanks');

    expect(
      await page.evaluate(async () => ({
        cookie: document.cookie,
        // Only the widget's documented key: the visitor's reporter id (rate limits, duplicates).
        localStorage: Object.keys(localStorage).map((key) => key.replace(/^parley:[^:]+:/, 'parley:<project>:')),
        sessionStorage: sessionStorage.length,
        indexedDB: (await indexedDB.databases()).length,
        xss: (window as unknown as { __xss?: unknown }).__xss,
      })),
    ).toEqual({ cookie: '', localStorage: ['parley:<project>:reporter'], sessionStorage: 0, indexedDB: 0, xss: undefined });
    expect(await story.context!.cookies(hostOrigin)).toEqual([]);
    expect(cspReportsFrom(hostOrigin)).toEqual([]);
    await page.close();
  });

  step('shows the feedback in the inbox as text, newest first, and keeps a status change', async () => {
    await dashboard.reload();
    const items = dashboard.getByTestId('feedback-item');
    await expect.poll(() => items.count()).toBe(2);
    await expect(items.nth(0).textContent()).resolves.toContain(XSS_MESSAGE);
    // The list carries no reporter data: the e-mail is on the feedback page, an audited read.
    await expect(items.nth(0).textContent()).resolves.not.toContain(REPORTER_EMAIL);
    await expect(items.nth(1).textContent()).resolves.toContain(FIRST_MESSAGE);
    await expect(items.nth(0).getByRole('img', { name: 'Rating 4 of 5' }).count()).resolves.toBe(1);
    await expect(items.nth(0).getByTestId('status-badge').textContent()).resolves.toBe('New');
    await screenshot(dashboard, '3-inbox');

    await items.nth(0).click();
    const message = dashboard.getByTestId('feedback-message');
    await message.waitFor();
    // Shown as text: the markup is visible, nothing was injected or run.
    expect(await message.textContent()).toBe(XSS_MESSAGE);
    await expect(message.isVisible()).resolves.toBe(true);
    expect(await message.locator('*').count()).toBe(0);
    expect(await dashboard.evaluate(() => ({ xss: (window as unknown as { __xss?: unknown }).__xss, injected: document.querySelectorAll('img[src="x"], [onerror]').length }))).toEqual({ xss: undefined, injected: 0 });
    expect(await fact(dashboard, 'Rating').textContent()).toBe('4');
    expect(await fact(dashboard, 'Page URL').textContent()).toBe(`${hostOrigin}/shop/checkout`);
    expect(await fact(dashboard, 'Locale').textContent()).toBe('en-GB');
    // The reporter's data is an audited read: only on request.
    expect(await dashboard.getByText(REPORTER_EMAIL).count()).toBe(0);
    await dashboard.getByRole('button', { name: 'Show reporter details' }).click();
    expect(await fact(dashboard, 'E-mail', 'reporter-details').textContent()).toBe(REPORTER_EMAIL);
    expect(await fact(dashboard, 'Browser', 'reporter-details').textContent()).toMatch(/^(HeadlessChrome|Chrome|Chromium) \d+$/);

    const status = dashboard.getByLabel('Status');
    expect(await status.inputValue()).toBe('new');
    await status.selectOption('done');
    await dashboard.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await screenshot(dashboard, '4-feedback-detail');

    await dashboard.reload();
    await dashboard.getByTestId('feedback-message').waitFor();
    expect(await dashboard.getByLabel('Status').inputValue()).toBe('done');
    expect(await fact(dashboard, 'Status').textContent()).toBe('Done');

    await dashboard.getByRole('link', { name: '← Inbox' }).click();
    await expect.poll(() => dashboard.getByTestId('feedback-item').count()).toBe(2);
    await expect(dashboard.getByTestId('feedback-item').nth(0).getByTestId('status-badge').textContent()).resolves.toBe('Done');
    await dashboard.getByRole('button', { name: 'Done', exact: true }).click();
    await expect.poll(() => dashboard.getByTestId('feedback-item').count()).toBe(1);
    expect(new URL(dashboard.url()).search).toBe('?status=done');
  });

  step('refuses the same snippet on a site that is not in the allowed domains', async () => {
    const logMark = story.serverLog.length;
    const before = await listFeedbackViaApi();
    expect(before.items).toHaveLength(2);

    const page = await story.context!.newPage();
    const warnings: string[] = [];
    page.on('console', (message) => message.type() === 'warning' && warnings.push(message.text()));
    await page.goto(`${strangerOrigin}/`);

    // The server refuses the widget's settings request without
    // Access-Control-Allow-Origin: the widget never shows, and says so once.
    await expect.poll(() => warnings).toEqual([expect.stringMatching(/^\[parley\] The project's settings did not load .*\(config_failed\)$/)]);
    expect(await page.locator('parley-widget').count()).toBe(0);
    await screenshot(page, '5-stranger-site-refused');
    // A page can skip the preflight with a "simple" no-cors request; then only
    // the server's own Origin check stands between it and the inbox.
    await page.evaluate(async (url) => {
      await fetch(url, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ message: 'Sneaked past CORS.' }) });
    }, `${story.origin}/api/widget/v1/projects/${projectKey}/feedback`);
    expect(cspReportsFrom(strangerOrigin)).toEqual([]);
    await page.close();

    // Both refusals are the server's (not a network accident): it logged them by code.
    await expect.poll(() => refusedMethods(logMark, 'origin_not_allowed')).toEqual(['GET', 'POST']);
    expect(await listFeedbackViaApi()).toEqual(before);
    await dashboard.reload();
    await dashboard.getByRole('button', { name: 'All', exact: true }).click();
    await expect.poll(() => dashboard.getByTestId('feedback-item').count()).toBe(2);
  });

  step("follows the project's widget settings from the dashboard: thumbs, consent, a marked-up screenshot", async () => {
    await dashboard.getByTestId('tab-widget').click();
    await dashboard.getByRole('radio', { name: 'Thumbs up or down' }).check();
    await dashboard.getByRole('checkbox', { name: 'Ask for consent before sending' }).check();
    await dashboard.getByLabel('Privacy policy URL').fill(`${hostOrigin}/privacy`);
    await dashboard.getByRole('checkbox', { name: 'Let visitors attach a screenshot' }).check();
    await dashboard.getByRole('button', { name: 'Save widget settings' }).click();
    await dashboard.getByText('Saved', { exact: true }).waitFor();
    // The site owner adds what the Install tab lists to the site's policy.
    await dashboard.getByTestId('tab-install').click();
    const directives = (await dashboard.getByTestId('project-csp').textContent()) ?? '';
    expect(directives).toContain('img-src data: blob:');
    siteCsp = () => `default-src 'none'; ${directives}; style-src 'self'`;

    const page = await story.context!.newPage();
    // Sites cache the settings for a minute (max-age=60); a visitor arriving later sees the change.
    await (await story.context!.newCDPSession(page)).send('Network.setCacheDisabled', { cacheDisabled: true });
    await page.goto(`${hostOrigin}/shop/checkout`);
    await page.getByRole('button', { name: 'Feedback' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send feedback' });
    await dialog.getByRole('group', { name: 'Was this helpful?' }).getByRole('radio', { name: 'No' }).check();
    await dialog.getByRole('textbox', { name: 'Your feedback' }).fill(SCREENSHOT_MESSAGE);
    await dialog.getByRole('button', { name: 'Add a screenshot' }).click();
    await page.getByRole('dialog', { name: 'Mark up the screenshot' }).getByRole('button', { name: 'Done' }).click();
    await dialog.getByRole('img', { name: 'Screenshot to be sent' }).waitFor();
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.getByText('Please agree to continue.').waitFor();
    expect(await dialog.getByRole('link', { name: 'Privacy policy' }).getAttribute('href')).toBe(`${hostOrigin}/privacy`);
    await dialog.getByRole('checkbox', { name: /^I agree/ }).check();
    await screenshot(page, '6-host-page-settings-applied');
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.getByText('Your feedback has been sent.', { exact: true }).waitFor();
    expect(cspReportsFrom(hostOrigin)).toEqual([]);
    await page.close();

    // In the inbox: rated "down", with its screenshot (re-encoded by the server, shown from the API).
    await dashboard.getByTestId('tab-inbox').click();
    await dashboard.reload();
    await dashboard.getByRole('button', { name: 'All', exact: true }).click();
    const newest = dashboard.getByTestId('feedback-item').filter({ hasText: SCREENSHOT_MESSAGE });
    await newest.click();
    await dashboard.getByTestId('feedback-message').waitFor();
    expect(await fact(dashboard, 'Rating').textContent()).toBe('0');
    // Viewing the screenshot is an audited read too: only on request.
    await dashboard.getByRole('button', { name: 'Show screenshot' }).click();
    const image = dashboard.getByRole('img', { name: 'Screenshot sent with this feedback' });
    await expect.poll(() => image.evaluate((element: HTMLImageElement) => element.naturalWidth)).toBeGreaterThan(0);
    await screenshot(dashboard, '7-feedback-with-screenshot');
  });

  it('raised no CSP violation or script error on any page, and the dashboard stored nothing in the browser', async () => {
    expect(cspReportsFrom(story.origin)).toEqual([]);
    expect(story.cspReports).toEqual([]);
    expect(story.pageErrors).toEqual([]);
    expect(await dashboard.evaluate(() => ({ localStorage: localStorage.length, sessionStorage: sessionStorage.length }))).toEqual({ localStorage: 0, sessionStorage: 0 });
    // The server logged no error while all this happened.
    expect(story.serverErrors()).toEqual([]);
  });

  it('would have noticed a CSP violation (control for the zero-violation checks)', async () => {
    const page = await story.context!.newPage();
    await page.goto(`${hostOrigin}/`);
    await page.evaluate(() => document.head.append(Object.assign(document.createElement('style'), { textContent: 'p {}' })));
    await expect.poll(() => cspReportsFrom(hostOrigin).length).toBeGreaterThan(0);
    await page.close();
  });
});
