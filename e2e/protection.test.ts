// The front door in real Chromium against the real `parley serve`: a project
// as created, with proof of work on by default. A visitor on the owner's site
// sends feedback (the widget solves the challenge while they type) and it
// arrives; a bot script that fills the form's hidden honeypot field is
// refused and nothing is stored; a visitor over the project's per-visitor
// limit (set to one feedback in 10 minutes for this shop) is told politely
// when to try again.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserStory, CLEAN_UP_TIMEOUT_MS, SET_UP_TIMEOUT_MS, browserSkipReason, closeServer, setUpOwner } from './support.js';

const skipReason = browserSkipReason('front-door story');

const OWNER = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery staple', organization: 'Acme Inc.' };
const HUMAN_MESSAGE = 'The new checkout is much faster, thank you.';
const BOT_MESSAGE = 'Cheap watches at https://spam.example';
const LIMITED_MESSAGE = 'One more thing about the checkout.';

const story = new BrowserStory({
  builtFiles: ['apps/server/dist/main.js', 'apps/dashboard/dist/index.html', 'packages/widget/dist/loader.js'],
  dataDirPrefix: 'parley-e2e-protection-',
  screenshotDirPrefix: 'parley-e2e-protection-screenshots-',
});
const { step, screenshot } = story;

let site: Server | null = null;
let siteOrigin = '';
let dashboard: Page;
let snippet = '';
let orgId = '';
let projectId = '';

/**
 * The owner's shop: a strict CSP with only what the widget needs, plus
 * `worker-src blob:` so the proof of work runs in its worker (docs/widget.md).
 */
function startSite(): Promise<void> {
  const server = createServer((request, response) => {
    if (request.url === '/favicon.ico') {
      response.writeHead(404).end();
      return;
    }
    const csp = `default-src 'none'; script-src ${story.origin}; connect-src ${story.origin}; worker-src blob:; style-src 'self'`;
    response
      .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': csp })
      .end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme shop</title></head><body><h1>Acme shop</h1><p>Checkout: 2 items, 48.00 EUR.</p>${snippet}</body></html>`);
  });
  site = server;
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      siteOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve();
    });
  });
}

/** A dashboard API call from the dashboard's own page (its session cookie, same origin); `path` is below the organization. */
function api<T>(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<T> {
  return dashboard.evaluate(
    async ({ method, url, body }) => {
      const response = await fetch(url, { method, headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as T;
    },
    { method, url: `/api/v1/orgs/${encodeURIComponent(orgId)}${path}`, body },
  );
}

const projectPath = () => `/projects/${encodeURIComponent(projectId)}`;
const storedMessages = async () =>
  (await api<{ items: { message: string }[] }>('GET', `/feedback?projectId=${encodeURIComponent(projectId)}&limit=100`)).items.map((item) => item.message);

const isFeedbackPost = (response: Response) => response.request().method() === 'POST' && /\/api\/widget\/v1\/projects\/[^/]+\/feedback$/.test(response.url());

/** The visitor's part: open the dialog, write, send; resolves with the server's answer to the feedback POST. */
async function sendFeedback(page: Page, message: string, beforeSending: () => Promise<void> = async () => {}): Promise<Response> {
  const dialog = page.getByRole('dialog', { name: 'Send feedback' });
  await page.getByRole('button', { name: 'Feedback' }).click();
  await dialog.getByRole('textbox', { name: 'Your feedback' }).fill(message);
  await beforeSending();
  const answer = page.waitForResponse(isFeedbackPost);
  await dialog.getByRole('button', { name: 'Send' }).click();
  return answer;
}

describe.skipIf(skipReason !== '')('the front door in Chromium, against the real server', () => {
  beforeAll(async () => {
    await story.prepare();
    const setupUrl = story.startParley();
    setupUrl.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
    await startSite();
    await story.launchBrowser();
    await story.watchSecurityPolicyEvents();
    dashboard = await story.context!.newPage();
    await dashboard.goto(await setupUrl);
  }, SET_UP_TIMEOUT_MS);

  afterAll(() => story.cleanUp(() => closeServer(site)), CLEAN_UP_TIMEOUT_MS);

  step('sets up the owner and a project for the shop, with proof of work on by default and one feedback per visitor in 10 minutes', async () => {
    await setUpOwner(dashboard, OWNER);

    await dashboard.getByLabel('Name', { exact: true }).fill('Acme shop');
    await dashboard.getByLabel('Allowed domains').fill(siteOrigin);
    await dashboard.getByRole('button', { name: 'Create project' }).click();
    const created = dashboard.getByTestId('project-created');
    await created.waitFor();
    snippet = (await created.getByTestId('project-snippet').textContent()) ?? '';
    await created.getByRole('link', { name: 'open its inbox' }).click();
    await dashboard.getByTestId('project-name').waitFor();
    [, orgId = '', projectId = ''] = /^\/orgs\/([^/]+)\/projects\/([^/]+)$/.exec(new URL(dashboard.url()).pathname) ?? [];

    const { settings } = await api<{ settings: { captcha: { provider: string }; minSeconds: number; limits: Record<string, unknown> } }>('GET', `${projectPath()}/protection`);
    expect(settings.captcha.provider).toBe('pow');
    expect(settings.minSeconds).toBe(3);
    await api('PUT', `${projectPath()}/protection`, { ...settings, limits: { ...settings.limits, perReporter: { points: 1, seconds: 600 } } });
  });

  step('a visitor sends feedback: the challenge is solved while they type, and the feedback arrives', async () => {
    const page = await story.context!.newPage();
    await page.goto(`${siteOrigin}/checkout`);
    // The challenge is fetched as the dialog opens, not when Send is pressed.
    const challenge = page.waitForResponse((response) => response.url().endsWith('/challenge'));
    const answer = await sendFeedback(page, HUMAN_MESSAGE, async () => {
      expect((await challenge).status()).toBe(200);
    });
    expect(answer.status()).toBe(201);
    const body = answer.request().postDataJSON() as Record<string, unknown>;
    expect(body).toMatchObject({ message: HUMAN_MESSAGE, challenge: expect.any(String), reporter: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
    expect(body).not.toHaveProperty('honeypot');
    // Quicker than the project's 3 seconds, the widget waited before sending.
    expect(body.elapsedMs).toBeGreaterThanOrEqual(3000);
    await page.getByText('Your feedback has been sent.', { exact: true }).waitFor();
    await screenshot(page, '1-visitor-sent');
    expect(await storedMessages()).toEqual([HUMAN_MESSAGE]);
    await page.close();
  });

  step('a bot script that fills the hidden honeypot field is refused, and nothing is stored', async () => {
    const page = await story.context!.newPage();
    await page.goto(`${siteOrigin}/checkout`);
    const answer = await sendFeedback(page, BOT_MESSAGE, () =>
      // Form-filling bots put something into every text field they find.
      page.evaluate(() => {
        for (const input of document.querySelector('parley-widget')!.shadowRoot!.querySelectorAll<HTMLInputElement>('input[type="text"]')) input.value = 'https://spam.example';
      }),
    );
    expect(answer.status()).toBe(400);
    expect(((await answer.json()) as { code: string }).code).toBe('honeypot_filled');
    // The visitor (here, the bot) learns nothing about which check caught it.
    const alert = page.getByRole('dialog', { name: 'Send feedback' }).getByRole('alert');
    await expect.poll(() => alert.textContent()).toBe('Something went wrong. Please try again.');
    await screenshot(page, '2-honeypot-refused');
    expect(await storedMessages()).toEqual([HUMAN_MESSAGE]);
    await page.close();
  });

  step('the visitor, sending a second feedback within 10 minutes, is told politely when to try again, and nothing is stored', async () => {
    // The same browser, so the same reporter id (localStorage) as the first feedback.
    const page = await story.context!.newPage();
    await page.goto(`${siteOrigin}/checkout`);
    const answer = await sendFeedback(page, LIMITED_MESSAGE);
    expect(answer.status()).toBe(429);
    expect(((await answer.json()) as { code: string }).code).toBe('rate_limit_reporter');
    const headers = await answer.allHeaders();
    const retryAfter = Number(headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(headers['ratelimit-remaining']).toBe('0');
    expect(headers['access-control-expose-headers']).toMatch(/Retry-After/i);

    const dialog = page.getByRole('dialog', { name: 'Send feedback' });
    const minutes = Math.ceil(retryAfter / 60);
    await expect.poll(() => dialog.getByRole('alert').textContent()).toBe(`You have sent a lot of feedback in a short time. Please try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`);
    // What they wrote is still there for later.
    expect(await dialog.getByRole('textbox', { name: 'Your feedback' }).inputValue()).toBe(LIMITED_MESSAGE);
    await screenshot(page, '3-rate-limited');
    expect(await storedMessages()).toEqual([HUMAN_MESSAGE]);
    await page.close();
  });

  it('raised no CSP violation or script error on the shop or the dashboard, and the server logged no error', () => {
    expect(story.cspReports).toEqual([]);
    expect(story.pageErrors).toEqual([]);
    expect(story.serverErrors()).toEqual([]);
  });
});
