// The API reference in real Chromium against the real `parley serve`: the
// public page at /api-reference draws the running server's OpenAPI document
// (tags, operations, credentials, parameters, bodies, responses, error codes)
// under the dashboard's strict CSP, without a session.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { BrowserStory, CLEAN_UP_TIMEOUT_MS, SET_UP_TIMEOUT_MS, browserSkipReason } from './support.js';

const skipReason = browserSkipReason('API reference story');

const story = new BrowserStory({
  builtFiles: ['apps/server/dist/main.js', 'apps/dashboard/dist/index.html'],
  dataDirPrefix: 'parley-e2e-reference-',
  screenshotDirPrefix: 'parley-e2e-reference-screenshots-',
});
const { step } = story;

let page: Page;
let operationCount = 0;

describe.skipIf(skipReason !== '')('the API reference in Chromium, against the real server', () => {
  beforeAll(async () => {
    await story.prepare();
    await story.startParley();
    await story.launchBrowser();
    await story.watchSecurityPolicyEvents();
    page = await story.context!.newPage();
  }, SET_UP_TIMEOUT_MS);

  afterAll(() => story.cleanUp(), CLEAN_UP_TIMEOUT_MS);

  step('opens without a session and lists every tag of the document', async () => {
    await page.goto(`${story.origin}/api-reference`);
    await page.getByRole('heading', { name: 'Parley API', level: 1 }).waitFor();
    const document = (await (await page.request.get(`${story.origin}/api/v1/openapi.json`)).json()) as {
      tags: { name: string }[];
      paths: Record<string, Record<string, unknown>>;
    };
    const tags = await page.getByTestId('reference-tag').getByRole('heading', { level: 2 }).allTextContents();
    const used = new Set(Object.values(document.paths).flatMap((item) => Object.values(item).map((operation) => (operation as { tags: string[] }).tags[0])));
    expect(tags).toEqual(document.tags.map((tag) => tag.name).filter((name) => used.has(name)));
    operationCount = Object.values(document.paths).reduce((count, item) => count + Object.keys(item).length, 0);
    expect(await page.getByTestId('operation').count()).toBe(operationCount);
    // The page is tens of thousands of pixels tall: the first screen only.
    await page.screenshot({ path: `${story.screenshotDir}/1-reference.png` });
  });

  step('shows an operation with its scope, parameters, body and answer', async () => {
    const operation = page.locator('#get-api-v1-orgs-orgId');
    expect(await operation.getByRole('heading', { name: 'Get an organization' }).isVisible()).toBe(true);
    expect(await operation.getByTestId('operation-credentials').textContent()).toBe('scope org_read');
    expect(await operation.getByText('Needs org_read: an API key with this scope, or a dashboard session whose role has it.').isVisible()).toBe(true);
    expect(await operation.getByRole('row', { name: /orgId/ }).first().textContent()).toContain('string (uuid)');
    expect(await operation.getByRole('cell', { name: 'string (date-time)' }).count()).toBe(1);

    const login = page.locator('#post-api-v1-auth-login');
    expect(await login.getByTestId('operation-credentials').textContent()).toBe('public');
    expect(await login.getByRole('row', { name: /password/ }).first().textContent()).toContain('required');

    const sessions = page.locator('#get-api-v1-me-sessions');
    expect(await sessions.getByTestId('operation-credentials').textContent()).toBe('dashboard session only');
    const csv = page.locator('#get-api-v1-orgs-orgId-logins-csv');
    expect(await csv.getByTestId('operation-credentials').textContent()).toBe('scope audit_readre-authentication');
    expect(await csv.getByText('text/csv', { exact: true }).isVisible()).toBe(true);
    expect(await page.getByTestId('error-codes').getByText('reauth_required', { exact: true }).isVisible()).toBe(true);
  });

  step('finds operations by text and follows a link to one', async () => {
    await page.getByLabel('Find an operation').fill('recovery');
    await page.getByTestId('operation').first().waitFor();
    const titles = await page.getByTestId('operation').getByRole('heading', { level: 3 }).allTextContents();
    expect(titles).toContain('Replace your recovery codes');
    expect(titles).not.toContain('Get an organization');
    await page.getByLabel('Find an operation').fill('');
    await expect.poll(() => page.getByTestId('operation').count()).toBe(operationCount);

    // The contents link, and an address naming an operation, both bring it to the top.
    const invite = page.locator('#post-api-v1-orgs-orgId-invites');
    await page.locator('.reference-toc').getByRole('link', { name: 'Invite someone by e-mail' }).click();
    await expect.poll(() => invite.evaluate((element) => Math.round(element.getBoundingClientRect().top))).toBeLessThan(100);
    await invite.getByText('Members of invite').click();
    expect(await invite.getByRole('row', { name: /expiresAt/ }).last().textContent()).toContain('string (date-time)');
    await page.screenshot({ path: `${story.screenshotDir}/2-operation.png` });

    const other = await story.context!.newPage();
    await other.goto(`${story.origin}/api-reference#delete-api-v1-me-sessions-sessionId`);
    const target = other.locator('#delete-api-v1-me-sessions-sessionId');
    await target.waitFor();
    await expect.poll(() => target.evaluate((element) => Math.round(element.getBoundingClientRect().top))).toBeLessThan(100);
    await other.close();
  });

  step('ran under the strict CSP with no violation and no script error', async () => {
    expect(story.cspReports).toEqual([]);
    expect(story.pageErrors).toEqual([]);
    expect(story.serverErrors()).toEqual([]);
  });
});
