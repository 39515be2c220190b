// Drives the built loader in real Chromium under the strict CSP a careful host
// page would send, against a fake ingestion endpoint on loopback.
import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildWidget } from '../build.mjs';

const PROJECT_KEY = 'pk_test 1/ä';
const FEEDBACK_PATH = `/api/widget/v1/projects/${encodeURIComponent(PROJECT_KEY)}/feedback`;
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const VIEWPORT = { width: 1000, height: 700 };
const GZIP_BUDGET_BYTES = 6 * 1024;

// Without Chromium the suite is skipped on a laptop, but fails in CI.
const CHROMIUM = '/usr/bin/chromium';
const isCi = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
const skipReason = !existsSync(CHROMIUM) && !isCi ? `${CHROMIUM} is missing (apt-get install chromium); in CI this fails instead` : '';
if (skipReason) console.warn(`widget: skipping the Chromium tests: ${skipReason}`);

// The snippet twice (re-inclusion must not add a second widget) and a hostile
// stylesheet that tries to restyle or hide everything, the widget included.
const HOST_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host shop</title>
<link rel="stylesheet" href="/host.css"></head>
<body><h1>Host shop</h1><p>Some product.</p>
<script src="/widget/v1/loader.js" data-project="${PROJECT_KEY}" async></script>
<script src="/widget/v1/loader.js" data-project="${PROJECT_KEY}" async></script>
</body></html>`;
const HOST_CSS = `body { font: 22px/2 monospace; color: #c00; background: #f4f1ea; }
div { display: none !important; } button { background: red !important; }`;

type Received = { method: string; path: string; headers: IncomingHttpHeaders; body: string };
type Answer = (response: ServerResponse) => void;

const answerCreated: Answer = (response) => {
  response.writeHead(201, { 'Content-Type': 'application/json' }).end('{"id":"fb_1"}');
};
const answerOriginNotAllowed: Answer = (response) => {
  response.writeHead(403, { 'Content-Type': 'application/problem+json' }).end(
    JSON.stringify({
      type: 'https://parley.dev/problems/origin-not-allowed',
      title: 'Origin not allowed',
      status: 403,
      detail: 'This site is not allowed to send feedback to this project.',
      code: 'origin_not_allowed',
    }),
  );
};
const dropConnection: Answer = (response) => {
  response.socket?.destroy();
};

let loaderJs = '';
let server: Server;
let origin = '';
let browser: Browser;
let context: BrowserContext;
let received: Received[] = [];
let answers: Answer[] = [];

function startServer(): Promise<void> {
  server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      if (path === FEEDBACK_PATH) {
        received.push({ method: request.method ?? '', path, headers: request.headers, body });
        (answers.shift() ?? answerCreated)(response);
      } else if (path === '/widget/v1/loader.js') {
        response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(loaderJs);
      } else if (path === '/host.css') {
        response.writeHead(200, { 'Content-Type': 'text/css; charset=utf-8' }).end(HOST_CSS);
      } else {
        response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CSP }).end(HOST_PAGE);
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve();
    });
  });
}

type Watched = { page: Page; cspConsoleMessages: string[] };

async function openHostPage(path = '/shop/item?order=secret-42#reviews'): Promise<Watched> {
  context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-GB' });
  // Counts every CSP violation, including ones raised inside the shadow root.
  await context.addInitScript(() => {
    const violations: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = violations;
    document.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.violatedDirective} ${event.blockedURI}`), true);
  });
  const page = await context.newPage();
  const cspConsoleMessages: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) cspConsoleMessages.push(message.text());
  });
  await page.goto(origin + path);
  await page.getByRole('button', { name: 'Feedback' }).waitFor();
  return { page, cspConsoleMessages };
}

async function expectNoCspViolations({ page, cspConsoleMessages }: Watched): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
  expect(cspConsoleMessages).toEqual([]);
}

function shadowActiveElement(page: Page): Promise<string | undefined> {
  return page.evaluate(() => {
    const active = document.querySelector('[data-parley-widget]')?.shadowRoot?.activeElement;
    return active ? `${active.tagName.toLowerCase()}:${active.textContent || active.getAttribute('name')}` : undefined;
  });
}

async function fillAndSend(page: Page, message: string): Promise<void> {
  const dialog = page.getByRole('dialog', { name: 'Send feedback' });
  await dialog.getByLabel('Your feedback').fill(message);
  await dialog.getByRole('button', { name: 'Send' }).click();
}

beforeAll(async () => {
  loaderJs = await buildWidget({ write: false });
  await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 60_000);

afterEach(async () => {
  await context?.close();
  received = [];
  answers = [];
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

describe.skipIf(skipReason !== '')('widget loader in Chromium under a strict CSP', () => {
  it(`stays within the size budget (${GZIP_BUDGET_BYTES} bytes min+gzip) and contains no eval`, () => {
    expect(gzipSync(loaderJs).length).toBeLessThan(GZIP_BUDGET_BYTES);
    expect(loaderJs).not.toMatch(/\beval\(|new Function|innerHTML/);
  });

  it('sends feedback with the documented body, stores nothing and violates no CSP', async () => {
    const watched = await openHostPage();
    const { page } = watched;

    await expect(page.getByRole('button', { name: 'Feedback' }).isVisible()).resolves.toBe(true);
    expect(await page.locator('[data-parley-widget]').count()).toBe(1);
    expect(await page.evaluate(() => Object.keys((window as unknown as { Parley: object }).Parley))).toEqual(['open', 'close']);

    await page.getByRole('button', { name: 'Feedback' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send feedback' });
    await expect(dialog.isVisible()).resolves.toBe(true);
    expect(await shadowActiveElement(page)).toBe('textarea:message');

    await dialog.getByRole('radio', { name: '4' }).check();
    await dialog.getByLabel('Your feedback').fill('The checkout button is hard to find.');
    await dialog.getByLabel('Email').fill('ada@example.com');
    await page.screenshot({ path: '/tmp/widget-dialog.png' });
    await dialog.getByRole('button', { name: 'Send' }).click();

    await dialog.getByText('Thanks for your feedback!').waitFor();
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.method).toBe('POST');
    expect(JSON.parse(request!.body)).toStrictEqual({
      message: 'The checkout button is hard to find.',
      rating: 4,
      email: 'ada@example.com',
      pageUrl: `${origin}/shop/item`,
      locale: 'en-GB',
      viewport: VIEWPORT,
    });
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['idempotency-key']).toMatch(UUID);
    expect(request!.headers.cookie).toBeUndefined();
    expect(request!.headers.referer).toBe(`${origin}/`);

    expect(
      await page.evaluate(async () => ({
        cookie: document.cookie,
        localStorage: localStorage.length,
        sessionStorage: sessionStorage.length,
        indexedDB: (await indexedDB.databases()).length,
      })),
    ).toEqual({ cookie: '', localStorage: 0, sessionStorage: 0, indexedDB: 0 });
    expect(await context.cookies()).toEqual([]);
    await expectNoCspViolations(watched);
  });

  it('omits rating and email when the visitor gives none', async () => {
    const { page } = await openHostPage('/');
    await page.evaluate(() => (window as unknown as { Parley: { open(): void } }).Parley.open());
    await fillAndSend(page, 'Just a note.');
    await page.getByText('Thanks for your feedback!').waitFor();
    expect(Object.keys(JSON.parse(received[0]!.body))).toEqual(['message', 'pageUrl', 'locale', 'viewport']);
  });

  it("shows the server's problem detail and keeps the form filled", async () => {
    answers = [answerOriginNotAllowed];
    const watched = await openHostPage();
    const { page } = watched;
    await page.getByRole('button', { name: 'Feedback' }).click();
    await fillAndSend(page, 'Keep me.');

    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('This site is not allowed to send feedback to this project.');
    expect(await page.getByLabel('Your feedback').inputValue()).toBe('Keep me.');
    await expect(page.getByRole('dialog', { name: 'Send feedback' }).isVisible()).resolves.toBe(true);
    await expectNoCspViolations(watched);
  });

  it('reuses the Idempotency-Key when retrying after a network error, and not for the next submission', async () => {
    answers = [dropConnection, answerCreated, answerCreated];
    const { page } = await openHostPage();
    await page.getByRole('button', { name: 'Feedback' }).click();
    await fillAndSend(page, 'Sent twice, stored once.');
    await page.getByText('Could not reach the server. Please try again.').waitFor();

    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('Thanks for your feedback!').waitFor();
    await page.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Feedback' }).click();
    await fillAndSend(page, 'A second, different submission.');
    await page.getByText('Thanks for your feedback!').waitFor();

    const [first, retry, next] = received.map((request) => request.headers['idempotency-key']);
    expect(received).toHaveLength(3);
    expect(retry).toBe(first);
    expect(next).not.toBe(first);
  });

  it('closes on Escape and returns focus to the launcher; Parley.close() closes too', async () => {
    const { page } = await openHostPage();
    const dialog = page.getByRole('dialog', { name: 'Send feedback' });
    await page.getByRole('button', { name: 'Feedback' }).click();
    await page.keyboard.press('Escape');
    await expect(dialog.isVisible()).resolves.toBe(false);
    expect(await shadowActiveElement(page)).toBe('button:Feedback');

    await page.evaluate(() => (window as unknown as { Parley: { open(): void } }).Parley.open());
    await expect(dialog.isVisible()).resolves.toBe(true);
    await page.evaluate(() => (window as unknown as { Parley: { close(): void } }).Parley.close());
    await expect(dialog.isVisible()).resolves.toBe(false);
  });

  it('detects a CSP violation when one happens (control for the zero-violation checks)', async () => {
    const watched = await openHostPage();
    await watched.page.evaluate(() => document.head.append(Object.assign(document.createElement('style'), { textContent: 'p{}' })));
    await watched.page.waitForFunction(() => (window as unknown as { cspViolations: string[] }).cspViolations.length > 0);
  });
});
