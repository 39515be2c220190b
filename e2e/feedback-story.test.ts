// The story a new user walks, end to end, in real Chromium against the real
// `parley serve` (embedded PostgreSQL, built dashboard and widget): set up the
// owner account from the one-time link, create a project, paste its snippet
// into a site that sends a strict CSP, send feedback through the widget, then
// triage it in the dashboard. Plus the attack the allowed-domains list exists
// for: the same snippet on a site that is not listed gets nothing in.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const BUILT_FILES = ['apps/server/dist/main.js', 'apps/dashboard/dist/index.html', 'packages/widget/dist/loader.js'];
const SERVER_START_TIMEOUT_MS = 60_000;
const SERVER_STOP_TIMEOUT_MS = 30_000;

// On a laptop without Chromium the suite is skipped; in CI it must run.
const isCi = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
const skipReason = !existsSync(CHROMIUM) && !isCi ? `${CHROMIUM} is missing (apt-get install chromium); in CI this fails instead` : '';
if (skipReason) console.warn(`e2e: skipping the browser story: ${skipReason}`);

const OWNER = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery staple', organization: 'Acme Inc.' };
const XSS_MESSAGE = '<img src=x onerror="window.__xss=1">Checkout is broken';
const REPORTER_EMAIL = 'grace@example.org';
const FIRST_MESSAGE = 'Love the new search.';
const SCREENSHOT_MESSAGE = 'The total on this page looks wrong.';

type CspReport = { url: string; text: string };
type Fixture = {
  server: ChildProcess | null;
  serverLog: string[];
  dataDir: string;
  origin: string;
  hostServer: Server | null;
  hostOrigin: string;
  strangerServer: Server | null;
  strangerOrigin: string;
  browser: Browser | null;
  context: BrowserContext | null;
  cspReports: CspReport[];
  pageErrors: string[];
  screenshotDir: string;
};

const f: Fixture = {
  server: null,
  serverLog: [],
  dataDir: '',
  origin: '',
  hostServer: null,
  hostOrigin: '',
  strangerServer: null,
  strangerOrigin: '',
  browser: null,
  context: null,
  cspReports: [],
  pageErrors: [],
  screenshotDir: '',
};

// What the story hands from one step to the next.
let dashboard: Page;
let snippet = '';
let projectKey = '';
let orgId = '';
let projectId = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createTcpServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The strict CSP a careful site sends: only what the widget needs from Parley, and its own stylesheet. */
let siteCsp = (parleyOrigin: string) => `default-src 'none'; script-src ${parleyOrigin}; connect-src ${parleyOrigin}; style-src 'self'`;

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

/** Starts `parley serve` and resolves with the one-time setup link it logs. */
function startParley(port: number): Promise<string> {
  const child = spawn(process.execPath, ['apps/server/bin/parley.js', 'serve'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PARLEY_DATA_DIR: f.dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      PARLEY_PUBLIC_URL: f.origin,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  f.server = child;
  const remember = (line: string) => {
    f.serverLog.push(line);
  };
  createInterface({ input: child.stderr! }).on('line', (line) => remember(`stderr: ${line}`));
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`parley serve ${why}. Its output:\n${f.serverLog.slice(-40).join('\n')}`));
    };
    const timer = setTimeout(() => fail(`printed no setup link within ${SERVER_START_TIMEOUT_MS / 1000} s`), SERVER_START_TIMEOUT_MS);
    child.once('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
    child.once('error', (error) => fail(`could not start: ${error.message}`));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      remember(line);
      let entry: { setupUrl?: unknown };
      try {
        entry = JSON.parse(line) as { setupUrl?: unknown };
      } catch {
        return;
      }
      if (typeof entry.setupUrl === 'string') {
        clearTimeout(timer);
        resolve(entry.setupUrl);
      }
    });
  });
}

/** SIGTERM, then wait: Parley finishes requests and stops its PostgreSQL. SIGKILL if it hangs (its watchdog still stops PostgreSQL). */
async function stopParley(): Promise<void> {
  const child = f.server;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), SERVER_STOP_TIMEOUT_MS)));
  const hung = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (hung) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`parley serve did not stop within ${SERVER_STOP_TIMEOUT_MS / 1000} s of SIGTERM`);
  }
}

function closeServer(server: Server | null): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * One step of the story: each builds on the ones before, so after a failure
 * the rest are skipped instead of failing for the same reason; the failing
 * step leaves a screenshot of every open page.
 */
let failedStep = '';
function step(name: string, run: () => Promise<void>) {
  it(name, async (ctx) => {
    ctx.skip(failedStep !== '', `skipped: an earlier step failed ("${failedStep}")`);
    try {
      await run();
    } catch (error) {
      failedStep = name;
      const pages = f.context?.pages() ?? [];
      await Promise.all(pages.map((page, i) => screenshot(page, `failed-${i}`).catch(() => undefined)));
      throw error;
    }
  });
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(f.screenshotDir, `${name}.png`), fullPage: true });
}

const cspReportsFrom = (origin: string) => f.cspReports.filter((report) => report.url.startsWith(`${origin}/`));

/** A labelled value in the feedback detail's facts list. */
const fact = (page: Page, label: string) => page.getByTestId('feedback-details').locator('.fact').filter({ has: page.getByText(label, { exact: true }) }).locator('dd');

type LogEntry = { reqId?: string; code?: string; req?: { method: string } };

/** Methods of the requests the server refused with `code`, from its log lines since `mark`. */
function refusedMethods(mark: number, code: string): string[] {
  const entries = f.serverLog.slice(mark).flatMap((line): LogEntry[] => {
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
  }, `/api/v1/orgs/${encodeURIComponent(orgId)}/projects/${encodeURIComponent(projectId)}/feedback?limit=100`);
}

describe.skipIf(skipReason !== '')('the feedback story in Chromium, against the real server', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`CI is set but ${CHROMIUM} is missing: install it (apt-get install chromium) — the browser tests must run in CI.`);
    const missing = BUILT_FILES.filter((file) => !existsSync(path.join(REPO_ROOT, file)));
    if (missing.length > 0) throw new Error(`Not built: ${missing.join(', ')}. Run \`npm run build\` first (\`npm test\` does).`);

    f.dataDir = await mkdtemp(path.join(tmpdir(), 'parley-e2e-data-'));
    f.screenshotDir = await mkdtemp(path.join(tmpdir(), 'parley-e2e-screenshots-'));
    const port = await freePort();
    f.origin = `http://localhost:${port}`;
    const setupUrl = startParley(port);
    setupUrl.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled

    // The host page's port is fixed before the project is created: its origin
    // goes into the allowed domains.
    ({ server: f.hostServer, origin: f.hostOrigin } = await startSite(() => sitePage('Acme shop'), f.origin));
    ({ server: f.strangerServer, origin: f.strangerOrigin } = await startSite(() => sitePage('Copycat shop'), f.origin));

    f.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    f.context = await f.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
    // Every CSP violation on every page of the context, across navigations and
    // reloads, including ones raised inside the widget's shadow root.
    await f.context.exposeBinding('__reportCspViolation', ({ frame }, text: string) => {
      f.cspReports.push({ url: frame.url(), text });
    });
    await f.context.addInitScript(() => {
      document.addEventListener(
        'securitypolicyviolation',
        (event) => (window as unknown as { __reportCspViolation(text: string): void }).__reportCspViolation(`${event.violatedDirective} ${event.blockedURI}`),
        true,
      );
    });
    f.context.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) f.cspReports.push({ url: message.page()?.url() ?? '', text: message.text() });
    });
    f.context.on('weberror', (error) => f.pageErrors.push(`${error.page()?.url()}: ${error.error().message}`));

    dashboard = await f.context.newPage();
    await dashboard.goto(await setupUrl);
  }, SERVER_START_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    // Each step runs even when an earlier one failed, so nothing is left behind.
    const steps = [
      () => f.browser?.close(),
      () => closeServer(f.hostServer),
      () => closeServer(f.strangerServer),
      () => stopParley(),
      () => (f.dataDir ? rm(f.dataDir, { recursive: true, force: true }) : undefined),
    ];
    const errors: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (f.screenshotDir) console.info(`e2e: screenshots in ${f.screenshotDir}`);
    if (errors.length > 0) throw new AggregateError(errors, 'e2e clean-up failed');
  }, SERVER_STOP_TIMEOUT_MS + 30_000);

  step('sets up the owner account from the one-time link', async () => {
    await dashboard.getByRole('heading', { name: 'Set up Parley' }).waitFor();
    // The token is taken from the fragment and removed from the address bar.
    expect(dashboard.url()).toBe(`${f.origin}/setup`);
    await dashboard.getByLabel('Name', { exact: true }).fill(OWNER.name);
    await dashboard.getByLabel('E-mail').fill(OWNER.email);
    await dashboard.getByLabel('Password').fill(OWNER.password);
    await dashboard.getByLabel('Organization').fill(OWNER.organization);
    await dashboard.getByRole('button', { name: 'Create account' }).click();

    await dashboard.getByRole('heading', { name: 'Projects' }).waitFor();
    expect(new URL(dashboard.url()).pathname).toBe('/');
    await expect(dashboard.getByTestId('current-org').textContent()).resolves.toContain(OWNER.organization);
    await dashboard.getByTestId('no-projects').waitFor();

    // The session is a __Host- cookie the page's scripts cannot read.
    const cookies = await f.context!.cookies();
    expect(cookies.map((c) => ({ name: c.name.slice(0, 7), domain: c.domain, httpOnly: c.httpOnly, secure: c.secure, path: c.path }))).toEqual([
      { name: '__Host-', domain: 'localhost', httpOnly: true, secure: true, path: '/' },
    ]);
    expect(await dashboard.evaluate(() => document.cookie)).toBe('');
  });

  step('creates a project for the host site and shows its snippet', async () => {
    await dashboard.getByLabel('Name', { exact: true }).fill('Acme shop');
    await dashboard.getByLabel('Allowed domains').fill(f.hostOrigin);
    await dashboard.getByRole('button', { name: 'Create project' }).click();

    const created = dashboard.getByTestId('project-created');
    await created.waitFor();
    projectKey = (await created.getByTestId('project-key').textContent()) ?? '';
    expect(projectKey).toMatch(/^pk_[A-Za-z0-9_-]{22}$/);
    snippet = (await created.getByTestId('project-snippet').textContent()) ?? '';
    // The versioned loader with its Subresource Integrity hash, as built.
    const manifest = JSON.parse(await readFile(path.join(REPO_ROOT, 'packages/widget/dist/manifest.json'), 'utf8')) as { version: string; integrity: string };
    expect(snippet).toBe(`<script src="${f.origin}/widget/${manifest.version}/loader.js" integrity="${manifest.integrity}" crossorigin="anonymous" data-project="${projectKey}" async></script>`);
    await dashboard.getByTestId('project-list').getByText('Acme shop').waitFor();

    await created.getByRole('link', { name: 'open its inbox' }).click();
    await dashboard.getByTestId('project-name').waitFor();
    [, orgId = '', projectId = ''] = /^\/orgs\/([^/]+)\/projects\/([^/]+)$/.exec(new URL(dashboard.url()).pathname) ?? [];
    expect(orgId).not.toBe('');
    await dashboard.getByTestId('inbox-empty').waitFor();
  });

  step('sends feedback from the host site under its strict CSP, storing nothing there', async () => {
    const page = await f.context!.newPage();
    // The query and fragment are the visitor's business: the widget must drop them.
    await page.goto(`${f.hostOrigin}/shop/checkout?session=secret-42#pay`);
    const launcher = page.getByRole('button', { name: 'Feedback' });
    const dialog = page.getByRole('dialog', { name: 'Send feedback' });
    const send = async (message: string, stars: number, email: string) => {
      await launcher.click();
      await dialog.getByRole('radio', { name: `${stars} of 5 stars` }).check();
      await dialog.getByRole('textbox', { name: 'Your feedback' }).fill(message);
      await dialog.getByRole('textbox', { name: 'E-mail (optional)' }).fill(email);
      if (message === XSS_MESSAGE) await screenshot(page, '1-host-page-widget-open');
      const accepted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().startsWith(`${f.origin}/api/widget/v1/projects/`));
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
        localStorage: localStorage.length,
        sessionStorage: sessionStorage.length,
        indexedDB: (await indexedDB.databases()).length,
        xss: (window as unknown as { __xss?: unknown }).__xss,
      })),
    ).toEqual({ cookie: '', localStorage: 0, sessionStorage: 0, indexedDB: 0, xss: undefined });
    expect(await f.context!.cookies(f.hostOrigin)).toEqual([]);
    expect(cspReportsFrom(f.hostOrigin)).toEqual([]);
    await page.close();
  });

  step('shows the feedback in the inbox as text, newest first, and keeps a status change', async () => {
    await dashboard.reload();
    const items = dashboard.getByTestId('feedback-item');
    await expect.poll(() => items.count()).toBe(2);
    await expect(items.nth(0).textContent()).resolves.toContain(XSS_MESSAGE);
    await expect(items.nth(0).textContent()).resolves.toContain(REPORTER_EMAIL);
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
    expect(await fact(dashboard, 'E-mail').textContent()).toBe(REPORTER_EMAIL);
    expect(await fact(dashboard, 'Rating').textContent()).toBe('4');
    expect(await fact(dashboard, 'Page URL').textContent()).toBe(`${f.hostOrigin}/shop/checkout`);
    expect(await fact(dashboard, 'Locale').textContent()).toBe('en-GB');
    expect(await fact(dashboard, 'Browser').textContent()).toMatch(/^(HeadlessChrome|Chrome|Chromium) \d+$/);

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
    const logMark = f.serverLog.length;
    const before = await listFeedbackViaApi();
    expect(before.items).toHaveLength(2);

    const page = await f.context!.newPage();
    const warnings: string[] = [];
    page.on('console', (message) => message.type() === 'warning' && warnings.push(message.text()));
    await page.goto(`${f.strangerOrigin}/`);

    // The server refuses the widget's settings request without
    // Access-Control-Allow-Origin: the widget never shows, and says so once.
    await expect.poll(() => warnings).toEqual([expect.stringMatching(/^\[parley\] The project's settings did not load .*\(config_failed\)$/)]);
    expect(await page.locator('parley-widget').count()).toBe(0);
    await screenshot(page, '5-stranger-site-refused');
    // A page can skip the preflight with a "simple" no-cors request; then only
    // the server's own Origin check stands between it and the inbox.
    await page.evaluate(async (url) => {
      await fetch(url, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ message: 'Sneaked past CORS.' }) });
    }, `${f.origin}/api/widget/v1/projects/${projectKey}/feedback`);
    expect(cspReportsFrom(f.strangerOrigin)).toEqual([]);
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
    await dashboard.getByLabel('Privacy policy URL').fill(`${f.hostOrigin}/privacy`);
    await dashboard.getByRole('checkbox', { name: 'Let visitors attach a screenshot' }).check();
    await dashboard.getByRole('button', { name: 'Save widget settings' }).click();
    await dashboard.getByText('Saved', { exact: true }).waitFor();
    // The site owner adds what the Install tab lists to the site's policy.
    await dashboard.getByTestId('tab-install').click();
    const directives = (await dashboard.getByTestId('project-csp').textContent()) ?? '';
    expect(directives).toContain('img-src data: blob:');
    siteCsp = () => `default-src 'none'; ${directives}; style-src 'self'`;

    const page = await f.context!.newPage();
    // Sites cache the settings for a minute (max-age=60); a visitor arriving later sees the change.
    await (await f.context!.newCDPSession(page)).send('Network.setCacheDisabled', { cacheDisabled: true });
    await page.goto(`${f.hostOrigin}/shop/checkout`);
    await page.getByRole('button', { name: 'Feedback' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send feedback' });
    await dialog.getByRole('group', { name: 'Was this helpful?' }).getByRole('radio', { name: 'No' }).check();
    await dialog.getByRole('textbox', { name: 'Your feedback' }).fill(SCREENSHOT_MESSAGE);
    await dialog.getByRole('button', { name: 'Add a screenshot' }).click();
    await page.getByRole('dialog', { name: 'Mark up the screenshot' }).getByRole('button', { name: 'Done' }).click();
    await dialog.getByRole('img', { name: 'Screenshot to be sent' }).waitFor();
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.getByText('Please agree to continue.').waitFor();
    expect(await dialog.getByRole('link', { name: 'Privacy policy' }).getAttribute('href')).toBe(`${f.hostOrigin}/privacy`);
    await dialog.getByRole('checkbox', { name: /^I agree/ }).check();
    await screenshot(page, '6-host-page-settings-applied');
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.getByText('Your feedback has been sent.', { exact: true }).waitFor();
    expect(cspReportsFrom(f.hostOrigin)).toEqual([]);
    await page.close();

    // In the inbox: rated "down", with its screenshot (re-encoded by the server, shown from the API).
    await dashboard.getByTestId('tab-inbox').click();
    await dashboard.reload();
    await dashboard.getByRole('button', { name: 'All', exact: true }).click();
    const newest = dashboard.getByTestId('feedback-item').filter({ hasText: SCREENSHOT_MESSAGE });
    await newest.click();
    await dashboard.getByTestId('feedback-message').waitFor();
    expect(await fact(dashboard, 'Rating').textContent()).toBe('0');
    const image = dashboard.getByRole('img', { name: 'Screenshot sent with this feedback' });
    await expect.poll(() => image.evaluate((element: HTMLImageElement) => element.naturalWidth)).toBeGreaterThan(0);
    await screenshot(dashboard, '7-feedback-with-screenshot');
  });

  it('raised no CSP violation or script error on any page, and the dashboard stored nothing in the browser', async () => {
    expect(cspReportsFrom(f.origin)).toEqual([]);
    expect(f.cspReports).toEqual([]);
    expect(f.pageErrors).toEqual([]);
    expect(await dashboard.evaluate(() => ({ localStorage: localStorage.length, sessionStorage: sessionStorage.length }))).toEqual({ localStorage: 0, sessionStorage: 0 });
    // The server logged no error while all this happened.
    expect(f.serverLog.filter((line) => line.startsWith('stderr:') || /"level":(50|60)/.test(line))).toEqual([]);
  });

  it('would have noticed a CSP violation (control for the zero-violation checks)', async () => {
    const page = await f.context!.newPage();
    await page.goto(`${f.hostOrigin}/`);
    await page.evaluate(() => document.head.append(Object.assign(document.createElement('style'), { textContent: 'p {}' })));
    await expect.poll(() => cspReportsFrom(f.hostOrigin).length).toBeGreaterThan(0);
    await page.close();
  });
});
