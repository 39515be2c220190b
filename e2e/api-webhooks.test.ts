// API keys, webhooks and the audit log in real Chromium against the real
// `parley serve` (webhooks to plain http on loopback allowed, as an operator
// may for a receiver on the same machine). The owner creates an API key on
// its page and sees it once; the test uses it as a script would: lists the
// projects, turns on the project's server submissions and sends feedback. A
// label changed through the key while the owner edits it is not overwritten
// (412). The owner adds a webhook to a receiver on loopback that checks every
// signature with the secret shown once, sends a test event and sees it
// delivered with 200 in the delivery log, then the feedback.created of the
// next API feedback, opens a delivery and redelivers it. A webhook saved
// elsewhere meanwhile is not overwritten (412), and a rotated secret signs
// alongside the old one for the overlap. The key is revoked
// and refused at once; the audit log shows what it did and exports it as JSON
// Lines. Notification settings are saved per project. axe finds no WCAG 2.1
// AA violation on any of these pages, at desktop and phone widths, and none
// of them scrolls sideways on a phone.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowserStory,
  CLEAN_UP_TIMEOUT_MS,
  SET_UP_TIMEOUT_MS,
  axeViolations,
  browserSkipReason,
  closeServer,
  createProject,
  overflowingElements,
  setUpOwner,
} from './support.js';

const skipReason = browserSkipReason('API keys and webhooks story');

const OWNER = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery staple', organization: 'Acme Inc.' };
const PROJECT = 'Acme shop';
const KEY_NAME = 'CRM sync';
const VIEWER = { name: 'Grace Hopper', email: 'grace@example.com', password: 'a ship in port is safe' };

const story = new BrowserStory({
  builtFiles: ['apps/server/dist/main.js', 'apps/dashboard/dist/index.html'],
  dataDirPrefix: 'parley-e2e-api-',
  screenshotDirPrefix: 'parley-e2e-api-screenshots-',
  env: { PARLEY_WEBHOOK_ALLOW_HTTP: 'true', PARLEY_WEBHOOK_ALLOWED_RANGES: 'loopback' },
});
const { step, screenshot } = story;

/** A webhook receiver on loopback: what it was sent, answered 200. */
type Received = { headers: IncomingHttpHeaders; body: string };
const received: Received[] = [];
let receiver: Server | null = null;
let receiverUrl = '';

// What the story hands from one step to the next.
let page: Page;
let orgId = '';
let projectId = '';
let token = '';
let webhookId = '';
let webhookSecret = '';
/** Every page of the story, visited again at a phone's width. */
const pages: Record<string, string> = {};

type Answer = { status: number; body: { code?: string; [key: string]: unknown } };

/** A REST API call with the key, as a script would make it (no browser, no cookie). */
async function withKey(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${story.origin}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) };
}

/**
 * Clicks `button` and waits for `done`; if the server asks the owner to
 * confirm it is them first (the dashboard's re-authentication dialog), the
 * password is given and the action then runs.
 */
async function confirmingIfAsked(button: ReturnType<Page['getByRole']>, done: ReturnType<Page['getByTestId']>): Promise<void> {
  await button.click();
  const reauth = page.getByRole('dialog', { name: 'Confirm it’s you' });
  await Promise.race([done.waitFor(), reauth.waitFor()]);
  if (await reauth.isVisible()) {
    await reauth.getByLabel('Password').fill(OWNER.password);
    await reauth.getByRole('button', { name: 'Continue' }).click();
    await done.waitFor();
  }
}

const orgNav = () => page.getByRole('navigation', { name: 'Organization' });

describe.skipIf(skipReason !== '')('API keys, webhooks and the audit log in Chromium, against the real server', () => {
  beforeAll(async () => {
    await story.prepare();
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200, { 'Content-Type': 'text/plain', 'X-Receiver': 'e2e' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/parley`;
    const setupUrl = await story.startParley();
    page = await (await story.launchBrowser()).newPage();
    await page.goto(setupUrl);
  }, SET_UP_TIMEOUT_MS);

  afterAll(() => story.cleanUp(() => closeServer(receiver)), CLEAN_UP_TIMEOUT_MS);

  step('sets up the owner and a project', async () => {
    await setUpOwner(page, OWNER);
    ({ orgId, projectId } = await createProject(page, PROJECT, 'https://shop.example'));
    expect(projectId).not.toBe('');
  });

  step('creates an API key on its page and shows it once, with a command to try it', async () => {
    await page.goto(`${story.origin}/?org=${orgId}`);
    await orgNav().getByRole('link', { name: 'API keys' }).click();
    await page.getByTestId('api-keys-empty').waitFor();
    pages.apiKeys = page.url();
    expect(await axeViolations(page)).toEqual([]);

    await page.getByLabel('Name', { exact: true }).fill(KEY_NAME);
    // Nothing chosen yet: the form says what is missing instead of sending.
    await page.getByRole('button', { name: 'Create API key' }).click();
    await page.getByText('Choose at least one thing the key may do.').waitFor();
    for (const scope of [/See projects/, /Create, change and delete projects/, /Create feedback from a server/, /Create, rename and delete labels/]) {
      await page.getByRole('checkbox', { name: scope }).check();
    }
    await page.getByLabel('Allowed IP addresses').fill('127.0.0.1\n::1\nnot-an-address');
    await page.getByText('Not an IP address or CIDR range: not-an-address.').waitFor();
    await page.getByLabel('Allowed IP addresses').fill('127.0.0.1\n::1');
    expect(await page.getByRole('radio', { name: 'In 90 days' }).isChecked()).toBe(true);
    await screenshot(page, '1-api-key-form');
    await confirmingIfAsked(page.getByRole('button', { name: 'Create API key' }), page.getByTestId('api-key-created'));

    token = await page.getByTestId('api-key-token').inputValue();
    expect(token).toMatch(/^prl_[A-Za-z0-9]{38}$/);
    expect(await page.getByTestId('api-key-example').textContent()).toContain(`Authorization: Bearer ${token}`);
    expect(await page.getByText('it will not be shown again').isVisible()).toBe(true);
    const row = page.getByTestId('api-keys').getByRole('row', { name: new RegExp(KEY_NAME) });
    await row.waitFor();
    expect(await row.textContent()).toContain(`${token.slice(0, 12)}…`);
    expect(await row.textContent()).toContain('Active');
    expect(await row.textContent()).toContain('feedback_create');
    expect(await row.textContent()).toContain('From 127.0.0.1, ::1');
    await screenshot(page, '2-api-key-shown-once');
    expect(await axeViolations(page)).toEqual([]);

    // Gone once dismissed; the list never holds it.
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByRole('button', { name: 'Create API key' }).waitFor();
    expect(await page.content()).not.toContain(token);
  });

  step('the key works with Bearer: lists the projects, allows server submissions and sends feedback', async () => {
    const projects = await withKey('GET', `/orgs/${orgId}/projects`);
    expect(projects.status).toBe(200);
    expect((projects.body.items as { id: string; name: string }[]).map(({ name }) => name)).toEqual([PROJECT]);

    const refused = await withKey('POST', `/orgs/${orgId}/projects/${projectId}/feedback`, { message: 'From our backend' });
    expect([refused.status, refused.body.code]).toEqual([403, 'server_submissions_off']);
    const protection = await withKey('GET', `/orgs/${orgId}/projects/${projectId}/protection`);
    const settings = { ...(protection.body.settings as Record<string, unknown>), serverSubmissions: true };
    expect((await withKey('PUT', `/orgs/${orgId}/projects/${projectId}/protection`, settings)).status).toBe(200);
    const created = await withKey('POST', `/orgs/${orgId}/projects/${projectId}/feedback`, { message: 'From our backend' });
    expect(created.status).toBe(201);
    // The key may not read feedback: it was not given feedback_read.
    expect((await withKey('GET', `/orgs/${orgId}/feedback`)).body.code).toBe('forbidden');
  });

  step('manages labels; a label changed meanwhile through the API is not overwritten', async () => {
    await orgNav().getByRole('link', { name: 'Labels' }).click();
    await page.getByTestId('labels-empty').waitFor();
    pages.labels = page.url();
    await page.getByLabel('Name', { exact: true }).fill('Checkout');
    await page.getByRole('radio', { name: 'Red' }).check();
    expect(await page.getByLabel('Colour code').inputValue()).toBe('#d92d20');
    await page.getByRole('button', { name: 'Create label' }).click();
    const labels = page.getByTestId('labels');
    await labels.getByText('Checkout').waitFor();
    expect(await labels.textContent()).toContain('#d92d20');
    expect(await axeViolations(page)).toEqual([]);

    await labels.getByRole('button', { name: 'Edit label Checkout' }).click();
    const editor = page.getByRole('form', { name: 'Change label Checkout' });
    await editor.getByLabel('Name', { exact: true }).fill('Checkout flow');
    await editor.getByLabel('Colour code').fill('#12345');
    await editor.getByRole('button', { name: 'Save' }).click();
    await editor.getByText('A colour code is # and six hex digits').waitFor();
    await editor.getByLabel('Colour code').fill('#0e9384');
    await screenshot(page, '3-label-editing');

    // Meanwhile an integration renames it (its id read with the owner's session: the key may not read labels).
    const labelId = await page.evaluate(async (path) => ((await (await fetch(path)).json()) as { items: { id: string }[] }).items[0]!.id, `/api/v1/orgs/${orgId}/labels`);
    expect((await withKey('PATCH', `/orgs/${orgId}/labels/${labelId}`, { name: 'Payment' })).status).toBe(200);

    await editor.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Someone changed this label while you were editing it.').waitFor();
    await labels.getByText('Payment').waitFor();
    expect(await labels.textContent()).not.toContain('Checkout flow');
    await screenshot(page, '4-label-conflict');
    expect(await axeViolations(page)).toEqual([]);

    await page.getByLabel('Name', { exact: true }).fill('Billing');
    await page.getByRole('radio', { name: 'Green' }).check();
    await page.getByRole('button', { name: 'Create label' }).click();
    await labels.getByText('Billing').waitFor();
    await labels.getByRole('listitem').filter({ hasText: 'Payment' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByText('It is taken off all feedback that carries it.').waitFor();
    await page.getByRole('button', { name: 'Delete label' }).click();
    await expect.poll(() => labels.getByRole('listitem').allTextContents()).toEqual([expect.stringContaining('Billing')]);
  });

  step('adds a webhook to the loopback receiver and shows its secret once', async () => {
    await orgNav().getByRole('link', { name: 'Webhooks' }).click();
    await page.getByTestId('webhooks-empty').waitFor();
    pages.webhooks = page.url();
    expect(await axeViolations(page)).toEqual([]);

    await page.getByLabel('Payload URL').fill(receiverUrl);
    await page.getByLabel('Description').fill('CRM sync');
    expect(await page.getByRole('checkbox', { name: /New feedback arrives/ }).isChecked()).toBe(true);
    await page.getByRole('checkbox', { name: /Feedback’s status, assignee or labels change/ }).check();
    // Member events concern the organization: not offered to a webhook of one project.
    await page.getByRole('radio', { name: 'One project' }).check();
    expect(await page.getByRole('checkbox', { name: /Someone joins the organization/ }).count()).toBe(0);
    expect(await page.getByLabel('Project', { exact: true }).inputValue()).toBe(projectId);
    await screenshot(page, '5-webhook-form');
    await confirmingIfAsked(page.getByRole('button', { name: 'Add webhook' }), page.getByTestId('webhook-created'));

    webhookSecret = await page.getByTestId('webhook-secret').inputValue();
    expect(webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    const row = page.getByTestId('webhooks').getByRole('row', { name: new RegExp(receiverUrl) });
    await row.waitFor();
    expect(await row.textContent()).toContain('Enabled');
    expect(await row.textContent()).toContain(PROJECT);
    expect(await axeViolations(page)).toEqual([]);

    await page.getByRole('link', { name: 'Open the webhook' }).click();
    await page.getByTestId('deliveries-empty').waitFor();
    [, , webhookId = ''] = /^\/orgs\/([^/]+)\/webhooks\/([^/]+)$/.exec(new URL(page.url()).pathname) ?? [];
    expect(webhookId).not.toBe('');
    pages.webhook = page.url();
  });

  step('sends a test event: delivered with 200 and a valid signature, as the delivery log shows', async () => {
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByRole('status').filter({ hasText: 'Test event queued' }).waitFor();
    const log = page.getByTestId('deliveries');
    const test = log.getByRole('row', { name: /webhook\.test/ });
    await test.getByText('Succeeded').waitFor({ timeout: 30_000 });
    expect(await test.textContent()).toContain('200');
    expect(await test.textContent()).toMatch(/\d+ ms/);

    expect(received).toHaveLength(1);
    const [message] = received;
    const payload = new Webhook(webhookSecret).verify(message!.body, message!.headers as Record<string, string>) as { type: string; data: { webhookId: string } };
    expect(payload.type).toBe('webhook.test');
    expect(payload.data.webhookId).toBe(webhookId);
    await screenshot(page, '6-webhook-test-delivered');
    expect(await axeViolations(page)).toEqual([]);
  });

  step('feedback sent with the key reaches the webhook as feedback.created; a delivery opens and redelivers', async () => {
    expect((await withKey('POST', `/orgs/${orgId}/projects/${projectId}/feedback`, { message: 'Export to CSV is empty' })).status).toBe(201);
    const log = page.getByTestId('deliveries');
    // The log looks again on its own only while something is pending: reload until the event shows.
    await expect
      .poll(async () => {
        await page.reload();
        await log.waitFor();
        return log.getByRole('row', { name: /feedback\.created/ }).getByText('Succeeded').count();
      }, { timeout: 30_000, interval: 1_000 })
      .toBe(1);
    const created = received.map(({ body }) => JSON.parse(body) as { type: string; data: { message: string } }).find(({ type }) => type === 'feedback.created');
    expect(created?.data.message).toBe('Export to CSV is empty');

    await page.getByRole('link', { name: 'feedback.created' }).click();
    const summary = page.getByTestId('delivery-summary');
    await summary.getByText('Succeeded').waitFor();
    pages.delivery = page.url();
    const attempts = page.getByTestId('attempts');
    expect(await attempts.getByRole('listitem').count()).toBe(1);
    expect(await attempts.textContent()).toContain('200');
    expect(await page.getByTestId('delivery-payload').textContent()).toContain('Export to CSV is empty');
    await attempts.getByText('Response head').click();
    expect(await attempts.locator('pre').textContent()).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*x-receiver: e2e/i);
    expect(await axeViolations(page)).toEqual([]);

    const before = received.length;
    await page.getByRole('button', { name: 'Redeliver' }).click();
    await expect.poll(() => attempts.getByRole('listitem').count(), { timeout: 30_000 }).toBe(2);
    expect(await attempts.getByRole('listitem').last().textContent()).toContain('by hand');
    expect(received).toHaveLength(before + 1);
    // The same message again: the same webhook-id, for the receiver to deduplicate.
    expect(received.at(-1)!.headers['webhook-id']).toBe(received.at(-2)!.headers['webhook-id']);
    await screenshot(page, '7-delivery-redelivered');
  });

  step('a webhook changed meanwhile is not overwritten (412); a rotated secret signs alongside the old one', async () => {
    await page.goto(pages.webhook!);
    const description = page.getByLabel('Description');
    await description.fill('CRM sync (EU)');
    // Someone else saves the webhook meanwhile, from another tab.
    const changed = await page.evaluate(async (path) => {
      const read = await fetch(path);
      const response = await fetch(path, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json', 'If-Match': read.headers.get('ETag') ?? '' },
        body: JSON.stringify({ description: 'Changed elsewhere' }),
      });
      return response.status;
    }, `/api/v1/orgs/${orgId}/webhooks/${webhookId}`);
    expect(changed).toBe(200);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByTestId('webhook-conflict').waitFor();
    await expect.poll(() => description.inputValue()).toBe('Changed elsewhere');
    await screenshot(page, '8-webhook-conflict');

    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = page.getByTestId('webhook-new-secret');
    await rotated.waitFor();
    const newSecret = await rotated.inputValue();
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(webhookSecret);
    await page.getByTestId('previous-secret').waitFor();
    expect(await axeViolations(page)).toEqual([]);

    const before = received.length;
    await page.getByRole('button', { name: 'Send test event' }).click();
    await expect.poll(() => received.length, { timeout: 30_000 }).toBe(before + 1);
    const { headers, body } = received.at(-1)!;
    // Two signatures during the overlap: receivers holding either secret accept it.
    expect(String(headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [webhookSecret, newSecret]) expect(() => new Webhook(secret).verify(body, headers as Record<string, string>)).not.toThrow();
    await page.getByRole('button', { name: 'I have stored it' }).click();
  });

  step('revokes the key after asking; its next request is refused with 401', async () => {
    await page.goto(pages.apiKeys!);
    const row = page.getByTestId('api-keys').getByRole('row', { name: new RegExp(KEY_NAME) });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByText('Whatever uses it is refused from its next request on.').waitFor();
    await screenshot(page, '9-api-key-revoke-confirm');
    await row.getByRole('button', { name: 'Revoke key' }).click();
    await row.getByText('Revoked').waitFor();
    expect(await row.getByRole('button', { name: 'Revoke' }).count()).toBe(0);

    const refused = await withKey('GET', `/orgs/${orgId}/projects`);
    expect([refused.status, refused.body.code]).toEqual([401, 'api_key_revoked']);
  });

  step('the audit log shows what the key did, filtered by actor, and exports it as JSON Lines', async () => {
    await orgNav().getByRole('link', { name: 'Audit log' }).click();
    const events = page.getByTestId('audit-events');
    await events.waitFor();
    pages.audit = page.url();
    // Newest first: the refused request of the revoked key, then its revocation by the owner.
    expect((await events.locator('tbody tr').first().textContent()) ?? '').toContain('api_key.refused');
    const revoked = (await events.locator('tbody tr').nth(1).textContent()) ?? '';
    expect(revoked).toContain('api_key.revoked');
    expect(revoked).toContain(OWNER.email);
    expect(await axeViolations(page)).toEqual([]);

    await page.getByLabel('Actor', { exact: true }).selectOption('api_key');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => new URL(page.url()).search).toBe('?actorType=api_key');
    await expect.poll(async () => (await events.locator('tbody tr').allTextContents()).every((row) => row.includes(KEY_NAME))).toBe(true);
    const actions = await events.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(actions).toContain('api_key.request');
    expect(actions).toContain('label.updated');
    expect(actions).toContain('project.protection_updated');
    expect(actions).toContain('api_key.refused');
    await screenshot(page, '10-audit-by-key');

    const exportLink = page.getByRole('link', { name: 'Export (JSON Lines)' });
    expect(await exportLink.getAttribute('href')).toBe(`/api/v1/orgs/${orgId}/audit/export?actorType=api_key`);
    const reauth = page.getByRole('dialog', { name: 'Confirm it’s you' });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      exportLink.click().then(async () => {
        // Sessions export only with a recent sign-in: the dialog asks when it is too old.
        if (await reauth.waitFor({ timeout: 3_000 }).then(() => true, () => false)) {
          await reauth.getByLabel('Password').fill(OWNER.password);
          await reauth.getByRole('button', { name: 'Continue' }).click();
        }
      }),
    ]);
    const lines = (await readFile((await download.path())!, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { actor: { type: string }; action: string });
    expect(lines.length).toBe(actions.length);
    expect(lines.every(({ actor }) => actor.type === 'api_key')).toBe(true);
    expect(download.suggestedFilename()).toMatch(/^parley-audit-\d{4}-\d{2}-\d{2}\.jsonl$/);

    // The filter for "who saw this person's data" is one click away.
    await page.getByRole('link', { name: 'reporter details viewed' }).click();
    await expect.poll(() => new URL(page.url()).search).toBe('?action=feedback.reporter_viewed');
    await page.getByTestId('audit-empty').waitFor();
  });

  step('saves notification settings per project, from the account pages', async () => {
    await page.getByRole('link', { name: 'Account security' }).click();
    await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Notifications' }).click();
    const choice = page.getByLabel(`E-mails about ${PROJECT}`);
    await choice.waitFor();
    pages.notifications = page.url();
    expect(await choice.inputValue()).toBe('none');
    await choice.selectOption('daily');
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await page.reload();
    expect(await page.getByLabel(`E-mails about ${PROJECT}`).inputValue()).toBe('daily');
    await screenshot(page, '11-notifications');
    expect(await axeViolations(page)).toEqual([]);
  });

  step('a viewer sees the labels and no tab or page of what their role may not use', async () => {
    const viewer = await story.joinByInvite(page, orgId, VIEWER, 'viewer');
    try {
      const tabs = viewer.getByRole('navigation', { name: 'Organization' }).getByRole('link');
      expect(await tabs.allTextContents()).toEqual(['Projects', 'Members', 'Roles', 'Labels']);
      await tabs.getByText('Labels').click();
      await viewer.getByTestId('labels').getByText('Billing').waitFor();
      expect(await viewer.getByRole('button', { name: /Edit|Delete|Create label/ }).count()).toBe(0);
      expect(await axeViolations(viewer)).toEqual([]);
      for (const section of ['api-keys', 'webhooks', 'audit']) {
        await viewer.goto(`${story.origin}/orgs/${orgId}/${section}`);
        await viewer.getByTestId('not-allowed').waitFor();
      }
      await screenshot(viewer, '12-viewer-audit-not-allowed');
    } finally {
      await viewer.context().close();
    }
  });

  step('every new page fits a phone’s width without sideways scrolling, and stays accessible there', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [name, url] of Object.entries(pages)) {
        await page.goto(url);
        await page.locator('h1').waitFor();
        await page.getByText(/Loading/).first().waitFor({ state: 'detached' }).catch(() => undefined);
        await screenshot(page, `13-phone-${name}`);
        expect({ name, overflowing: await overflowingElements(page) }).toEqual({ name, overflowing: [] });
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBe(390);
        expect({ name, violations: await axeViolations(page) }).toEqual({ name, violations: [] });
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('raised no CSP violation or script error, and the server logged no error', async () => {
    expect(story.cspReports).toEqual([]);
    expect(story.pageErrors).toEqual([]);
    expect(story.serverErrors()).toEqual([]);
  });
});
