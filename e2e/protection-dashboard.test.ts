// The Protection page in real Chromium against the real `parley serve`
// (embedded PostgreSQL, built dashboard): the owner edits the allowed domains
// (a refused entry is named next to the list), switches to reCAPTCHA v3 with a
// write-only secret that no answer ever carries back, tightens the limits and
// spam rules; refusals sent to the ingestion endpoint show up by reason and
// by hour; a viewer sees everything and can change nothing. axe finds no
// WCAG 2.1 AA violation in any of these states.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowserStory,
  CLEAN_UP_TIMEOUT_MS,
  SET_UP_TIMEOUT_MS,
  axeViolations,
  browserSkipReason,
  overflowingElements,
  setUpOwner,
} from './support.js';

const skipReason = browserSkipReason('protection dashboard story');

const OWNER = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery staple', organization: 'Acme Inc.' };
const VIEWER = { name: 'Grace Hopper', email: 'grace@example.com', password: 'a ship in port is safe' };
const SITE = 'https://shop.example';
const SITE_KEY = '6LcTestSiteKey_for-e2e';
/** Printable, no spaces, and unlike anything else on the page: found only if it leaked. */
const CAPTCHA_SECRET = '6LcSecret-e2e-Zq7xW3vT9pLm';

const story = new BrowserStory({
  builtFiles: ['apps/server/dist/main.js', 'apps/dashboard/dist/index.html'],
  dataDirPrefix: 'parley-e2e-protection-',
  screenshotDirPrefix: 'parley-e2e-protection-screenshots-',
});
const { step, screenshot } = story;

// What the story hands from one step to the next.
let page: Page;
let orgId = '';
let projectId = '';
let projectKey = '';
/** Every API answer the owner's page received, to prove the secret never came back. */
const apiBodies: Promise<string>[] = [];
/** The API paths the owner's page asked for, in order. */
const apiPaths: string[] = [];

/** A row of the allowed-domains list (its Remove button is named after it too). */
const domainRow = (on: Page, n: number) => on.getByRole('textbox', { name: `Allowed domain ${n}`, exact: true });

const protectionUrl = () => `${story.origin}/orgs/${orgId}/projects/${projectId}?tab=protection`;

/** A submission to the public ingestion endpoint, as a script (not a browser) would send it. */
async function submit(origin: string, body: Record<string, unknown>): Promise<{ status: number; code: string }> {
  const response = await fetch(`${story.origin}/api/widget/v1/projects/${projectKey}/feedback`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: origin },
    body: JSON.stringify(body),
  });
  const problem = (await response.json()) as { code?: string };
  return { status: response.status, code: problem.code ?? '' };
}

describe.skipIf(skipReason !== '')('the Protection page in Chromium, against the real server', () => {
  beforeAll(async () => {
    await story.prepare();
    const setupUrl = await story.startParley();
    page = await (await story.launchBrowser()).newPage();
    page.on('response', (response) => {
      const { pathname } = new URL(response.url());
      if (!pathname.startsWith('/api/')) return;
      apiPaths.push(pathname);
      apiBodies.push(response.text().catch(() => ''));
    });
    await page.goto(setupUrl);
  }, SET_UP_TIMEOUT_MS);

  afterAll(() => story.cleanUp(), CLEAN_UP_TIMEOUT_MS);

  step('sets up the owner and a project, and opens its Protection tab with the defaults', async () => {
    await setUpOwner(page, OWNER);

    await page.getByLabel('Name', { exact: true }).fill('Acme shop');
    await page.getByLabel('Allowed domains').fill(SITE);
    await page.getByRole('button', { name: 'Create project' }).click();
    const created = page.getByTestId('project-created');
    await created.waitFor();
    projectKey = (await created.getByTestId('project-key').textContent()) ?? '';
    await created.getByRole('link', { name: 'open its inbox' }).click();
    await page.getByTestId('project-name').waitFor();
    [, orgId = '', projectId = ''] = /^\/orgs\/([^/]+)\/projects\/([^/]+)$/.exec(new URL(page.url()).pathname) ?? [];
    expect(projectId).not.toBe('');

    // The inbox does not load the Protection tab's data; opening the tab does.
    await page.getByTestId('inbox-empty').waitFor();
    expect(apiPaths.filter((p) => p.includes('/protection'))).toEqual([]);
    await page.getByTestId('tab-protection').click();
    expect(new URL(page.url()).search).toBe('?tab=protection');
    await page.getByTestId('refusals-none').waitFor();
    expect(await domainRow(page, 1).inputValue()).toBe(SITE);
    // The built-in proof of work is the default; the limits are SECURITY.md's.
    expect(await page.getByRole('radio', { name: /Built-in proof of work/ }).isChecked()).toBe(true);
    const perIp = page.getByRole('group', { name: 'Per IP address', exact: true });
    expect(await perIp.getByLabel('Requests').inputValue()).toBe('300');
    expect(await perIp.getByLabel('Window (seconds)').inputValue()).toBe('300');
    expect(await perIp.textContent()).toContain('Default: 300 per 5 minutes.');
    expect(await page.getByLabel('Submissions per day').inputValue()).toBe('50000');
    expect(await page.getByLabel('Least time before sending (seconds)').inputValue()).toBe('3');
    expect(await page.getByLabel('Most links in a message').inputValue()).toBe('3');
    expect(await page.getByRole('checkbox', { name: /identical messages/ }).isChecked()).toBe(true);
    await screenshot(page, '1-defaults');
    expect(await axeViolations(page)).toEqual([]);
  });

  step('names a refused domain next to the list, then saves an international one in its normal form', async () => {
    await page.getByRole('button', { name: '+ Add a domain' }).click();
    // The new row has the focus: typing goes straight in.
    await page.keyboard.type('*.com');
    expect(await domainRow(page, 2).inputValue()).toBe('*.com');
    await page.getByRole('button', { name: 'Save domains' }).click();

    const error = page.getByTestId('domains-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('"*.com" is not an allowed domain');
    const row = domainRow(page, 2);
    expect((await row.getAttribute('aria-describedby'))?.split(' ')).toContain(await error.getAttribute('id'));
    await screenshot(page, '2-domain-refused');
    expect(await axeViolations(page)).toEqual([]);

    await row.fill('Bücher.example');
    expect(await error.count()).toBe(0);
    await page.getByRole('button', { name: 'Save domains' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).first().waitFor();
    expect(await domainRow(page, 2).inputValue()).toBe('xn--bcher-kva.example');
    await page.getByRole('button', { name: 'Remove allowed domain 2 (xn--bcher-kva.example)' }).click();
    await page.getByRole('button', { name: 'Save domains' }).click();
    await expect.poll(() => page.getByTestId('domain-rows').getByRole('listitem').count()).toBe(1);
  });

  step('switches to reCAPTCHA v3: the site key is required, the secret is stored and never shown', async () => {
    await page.getByRole('radio', { name: 'Google reCAPTCHA v3' }).check();
    const provider = page.getByTestId('captcha-provider-fields');
    expect(await provider.getByTestId('captcha-secret-status').textContent()).toBe('No secret stored yet.');
    await page.getByTestId('captcha-secret-missing').waitFor();
    await page.getByRole('button', { name: 'Save protection settings' }).click();

    const siteKey = page.getByLabel('Site key');
    expect(await siteKey.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByText('Google reCAPTCHA v3 needs the site key of your site.').count()).toBe(1);

    await siteKey.fill(SITE_KEY);
    const secret = page.getByLabel('Secret key');
    expect(await secret.getAttribute('type')).toBe('password');
    await secret.fill(CAPTCHA_SECRET);
    await page.getByLabel('Lowest score accepted').fill('0.7');
    await page.getByRole('checkbox', { name: 'Accept submissions when the provider cannot be reached' }).check();
    await page.getByTestId('fail-open-warning').waitFor();
    await screenshot(page, '3-recaptcha');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Save protection settings' }).click();
    await page.getByTestId('protection-save-status').filter({ hasText: 'Saved' }).waitFor();

    expect(await provider.getByTestId('captcha-secret-status').textContent()).toBe('A secret is stored.');
    expect(await secret.inputValue()).toBe('');
    expect(await page.getByTestId('captcha-secret-missing').count()).toBe(0);
    await page.reload();
    expect(await page.getByRole('radio', { name: 'Google reCAPTCHA v3' }).isChecked()).toBe(true);
    expect(await page.getByLabel('Site key').inputValue()).toBe(SITE_KEY);
    expect(await page.getByLabel('Lowest score accepted').inputValue()).toBe('0.7');
    expect(await page.getByTestId('captcha-secret-status').textContent()).toBe('A secret is stored.');
    expect(await page.content()).not.toContain(CAPTCHA_SECRET);
  });

  step('tightens the rate limits and adds spam rules, which the server keeps in its normal form', async () => {
    const perIp = page.getByRole('group', { name: 'Per IP address', exact: true });
    await perIp.getByLabel('Requests').fill('20');
    await perIp.getByLabel('Window (seconds)').fill('60');
    await page.getByLabel('Blocked words').fill('Casino\nviagra');
    await page.getByLabel('Blocked e-mail domains').fill('@Mailinator.com');
    await page.getByLabel('Blocked IP ranges').fill('203.0.113.0/24\n2001:DB8::/32');
    await page.getByLabel('Most links in a message').fill('');

    // A range the browser cannot take is named at its field, and nothing is sent.
    await page.getByLabel('Blocked IP ranges').fill('203.0.113.0/24\n2001:DB8::/32\n10.0.0.0/99');
    await page.getByRole('button', { name: 'Save protection settings' }).click();
    const ranges = page.getByLabel('Blocked IP ranges');
    expect(await ranges.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByText('“10.0.0.0/99” is not an IP address or CIDR range such as 203.0.113.0/24.').count()).toBe(1);
    await ranges.fill('203.0.113.0/24\n2001:DB8::/32');

    // Leaving the project with the draft unsaved asks first, and staying keeps it.
    expect(await page.getByTestId('tab-protection').textContent()).toContain('(unsaved changes)');
    await page.getByRole('link', { name: '← Projects' }).click();
    const leave = page.getByRole('alertdialog');
    expect(await leave.textContent()).toContain('The protection settings have unsaved changes.');
    await leave.getByRole('button', { name: 'Stay' }).click();
    expect(await perIp.getByLabel('Requests').inputValue()).toBe('20');

    await page.getByRole('button', { name: 'Save protection settings' }).click();
    await page.getByTestId('protection-save-status').filter({ hasText: 'Saved' }).waitFor();
    await page.reload();
    expect(await perIp.getByLabel('Requests').inputValue()).toBe('20');
    expect(await perIp.getByLabel('Window (seconds)').inputValue()).toBe('60');
    expect(await perIp.getByLabel('Window (seconds)').getAttribute('aria-describedby')).toBeTruthy();
    expect(await page.getByLabel('Blocked words').inputValue()).toBe('casino\nviagra');
    expect(await page.getByLabel('Blocked e-mail domains').inputValue()).toBe('mailinator.com');
    expect(await page.getByLabel('Blocked IP ranges').inputValue()).toBe('203.0.113.0/24\n2001:db8::/32');
    expect(await page.getByLabel('Most links in a message').inputValue()).toBe('');
    await screenshot(page, '4-limits-and-spam-rules');
  });

  step('counts refusals by reason and by hour', async () => {
    // Sent as a script would: the same refusals the widget's visitors could meet.
    for (let i = 0; i < 3; i++) expect(await submit('https://copycat.example', { message: 'Hello' })).toEqual({ status: 403, code: 'origin_not_allowed' });
    for (let i = 0; i < 2; i++) expect(await submit(SITE, { message: 'Cheap pills', honeypot: 'https://spam.example' })).toEqual({ status: 400, code: 'honeypot_filled' });
    expect(await submit(SITE, { message: 'Hi', elapsedMs: 200 })).toEqual({ status: 400, code: 'too_fast' });
    expect(await submit(SITE, { message: 'Hi', elapsedMs: 9000 })).toEqual({ status: 403, code: 'captcha_missing' });

    await page.reload();
    const refusals = page.getByTestId('refusals');
    await refusals.getByTestId('refusals-total').waitFor();
    expect(await refusals.getByTestId('refusals-total').textContent()).toBe('7');
    const rows = await refusals.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].map((cell) => (cell.firstChild?.textContent ?? '').trim())),
    );
    expect(rows).toEqual([
      ['Sent from a site not in the allowed domains', 'Domains', '3'],
      ['Hidden honeypot field filled in', 'Bot protection', '2'],
      ['Captcha token missing', 'Bot protection', '1'],
      ['Sent faster than the minimum time', 'Bot protection', '1'],
    ]);
    const chart = refusals.getByRole('img', { name: /Refusals per hour/ });
    expect(await chart.getAttribute('aria-labelledby')).toBeTruthy();
    expect(await chart.locator('rect').count()).toBe(24);
    // All seven fell in the current hour: the last bar, at full height.
    expect(await chart.locator('rect').last().locator('title').textContent()).toMatch(/: 7$/);
    expect(await chart.locator('rect.hour-bar-empty').count()).toBe(23);
    await refusals.scrollIntoViewIfNeeded();
    await screenshot(page, '5-refusals');
    expect(await axeViolations(page)).toEqual([]);
  });

  step('fits a phone’s width without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.getByTestId('refusals-chart').waitFor();
      await screenshot(page, '6-phone');
      expect(await overflowingElements(page)).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBe(390);
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  step('a viewer sees the protection and can change none of it', async () => {
    const viewer = await story.joinByInvite(page, orgId, VIEWER, 'viewer');
    try {
      await viewer.goto(protectionUrl());
      await viewer.getByTestId('protection-read-only').waitFor();
      await viewer.getByTestId('refusals-total').waitFor();
      expect(await domainRow(viewer, 1).isDisabled()).toBe(true);
      expect(await viewer.getByRole('radio', { name: 'Google reCAPTCHA v3' }).isDisabled()).toBe(true);
      expect(await viewer.getByLabel('Site key').isDisabled()).toBe(true);
      expect(await viewer.getByRole('group', { name: 'Per IP address', exact: true }).getByLabel('Requests').isDisabled()).toBe(true);
      expect(await viewer.getByLabel('Blocked words').isDisabled()).toBe(true);
      // No secret field to type into, only whether one is stored; no button that would be refused.
      expect(await viewer.getByLabel('Secret key').count()).toBe(0);
      expect(await viewer.getByTestId('captcha-secret-status').textContent()).toBe('A secret is stored.');
      expect(await viewer.getByRole('button', { name: /Save|Add a domain|Remove|default limits/ }).count()).toBe(0);
      await screenshot(viewer, '7-viewer-read-only');
      expect(await axeViolations(viewer)).toEqual([]);
    } finally {
      await viewer.context().close();
    }
  });

  it('would have noticed an accessibility violation (control for the axe checks)', async () => {
    await page.evaluate(() => document.querySelector('main')?.append(Object.assign(document.createElement('input'), { type: 'text' })));
    expect((await axeViolations(page)).map(({ id }) => id)).toContain('label');
  });

  it('never sent the captcha secret back, raised no CSP violation or script error, and the server logged no error', async () => {
    const bodies = await Promise.all(apiBodies);
    expect(bodies.length).toBeGreaterThan(10);
    expect(bodies.filter((body) => body.includes(CAPTCHA_SECRET))).toEqual([]);
    expect(story.cspReports).toEqual([]);
    expect(story.pageErrors).toEqual([]);
    expect(story.serverErrors()).toEqual([]);
  });
});
