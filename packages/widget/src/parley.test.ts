// The JavaScript API a site uses: events and their payloads, beforeSubmit
// amending or cancelling, identify() and setMetadata(), and what other
// scripts on the page may see.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { callParley, feedbackDialog, recordEvents, recordedEvents, skipReason } from '../test/browser.js';
import { storedBodies } from '../test/fake-parley.js';
import { hostPage, snippet } from '../test/host-site.js';
import { useWidgetPage } from '../test/widget-page.js';

const widget = useWidgetPage();
const SIGNATURE = 'a'.repeat(64);

async function send(page: Page, text = 'About the API.'): Promise<void> {
  const { launcher, message, email, send, sent } = feedbackDialog(page);
  await launcher.click();
  await message.fill(text);
  if (await email.count()) await email.fill('ada@example.com');
  await send.click();
  await sent.waitFor();
}

type Handler = 'redact-card-numbers-later' | 'billing-type-for-cards' | 'cancel' | 'throw';

/** Adds one of these beforeSubmit handlers in the page, as a site would. */
function onBeforeSubmit(page: Page, handler: Handler): Promise<void> {
  return page.evaluate((name) => {
    type Feedback = { message: string };
    const handlers: Record<Handler, (feedback: Feedback) => unknown> = {
      'redact-card-numbers-later': (feedback) =>
        new Promise((resolve) => setTimeout(() => resolve({ message: feedback.message.replace(/\d{4}-\d{4}/g, '[card]'), metadata: { redacted: true } }), 50)),
      'billing-type-for-cards': (feedback) => ({ type: feedback.message.includes('[card]') ? 'billing' : undefined }),
      cancel: () => false,
      throw: () => {
        throw new Error('redaction service down');
      },
    };
    (window as unknown as { Parley: { on(event: string, handler: unknown): void } }).Parley.on('beforeSubmit', handlers[name]);
  }, handler);
}

describe.skipIf(skipReason !== '')('the Parley API', () => {
  it('tells a site what happens, in order, without the e-mail or identity', async () => {
    const { page } = await widget.visit({ before: ({ context }) => recordEvents(context) });
    await page.waitForFunction(() => (window as unknown as { Parley?: unknown }).Parley);
    await callParley(page, 'identify', { id: 'user-42', email: 'ada@corp.example', name: 'Ada', signature: SIGNATURE });
    await callParley(page, 'setMetadata', { plan: 'team', seats: 12, trial: false });
    await send(page);
    await feedbackDialog(page).close.click();
    await expect.poll(async () => (await recordedEvents(page)).map(([name]) => name)).toEqual(['load', 'open', 'beforeSubmit', 'submit', 'close']);
    const [open, beforeSubmit, submit, close] = (await recordedEvents(page)).slice(1).map(([, payload]) => payload);
    expect(open).toEqual({ trigger: 'launcher' });
    expect(beforeSubmit).toMatchObject({ message: 'About the API.', metadata: { plan: 'team', seats: 12, trial: false } });
    expect(beforeSubmit).not.toHaveProperty('email');
    expect(beforeSubmit).not.toHaveProperty('identity');
    expect(submit).toEqual({ id: 'fb-1', feedback: beforeSubmit });
    expect(close).toEqual({ submitted: true });
    // The server gets them all; the signature is passed through for it to check.
    expect(storedBodies(widget.fake)[0]).toMatchObject({
      email: 'ada@example.com',
      identity: { id: 'user-42', email: 'ada@corp.example', name: 'Ada', signature: SIGNATURE },
      metadata: { plan: 'team', seats: 12, trial: false },
    });
  });

  it('shows personal data to handlers when the site opts in', async () => {
    const { page } = await widget.visit({
      html: hostPage({ body: snippet(widget.fake, { 'data-expose-personal-data': '' }) }),
      before: ({ context }) => recordEvents(context),
    });
    await page.waitForFunction(() => (window as unknown as { Parley?: unknown }).Parley);
    await callParley(page, 'identify', { id: 'user-42' });
    await send(page);
    const [, beforeSubmit] = (await recordedEvents(page)).find(([name]) => name === 'beforeSubmit')!;
    expect(beforeSubmit).toMatchObject({ email: 'ada@example.com', identity: { id: 'user-42' } });
  });

  it('lets beforeSubmit amend the feedback, also asynchronously', async () => {
    const { page } = await widget.visit();
    await feedbackDialog(page).launcher.waitFor();
    await onBeforeSubmit(page, 'redact-card-numbers-later');
    await onBeforeSubmit(page, 'billing-type-for-cards');
    await send(page, 'My card 4111-1111 was charged twice.');
    expect(storedBodies(widget.fake)[0]).toMatchObject({ message: 'My card [card] was charged twice.', metadata: { redacted: true }, type: 'billing' });
  });

  it('lets beforeSubmit cancel: nothing is sent and the form stays', async () => {
    const { page } = await widget.visit();
    await feedbackDialog(page).launcher.waitFor();
    await onBeforeSubmit(page, 'cancel');
    const { launcher, message, send: sendButton } = feedbackDialog(page);
    await launcher.click();
    await message.fill('Never sent.');
    await sendButton.click();
    await expect.poll(() => sendButton.getAttribute('aria-disabled')).toBe('false');
    expect(widget.fake.feedbackRequests).toHaveLength(0);
    expect(await message.inputValue()).toBe('Never sent.');
  });

  it('sends nothing when a beforeSubmit handler throws (it may have meant to redact)', async () => {
    const { page } = await widget.visit({ before: ({ context }) => recordEvents(context) });
    await feedbackDialog(page).launcher.waitFor();
    await onBeforeSubmit(page, 'throw');
    const { launcher, message, send: sendButton, alert } = feedbackDialog(page);
    await launcher.click();
    await message.fill('Secret 1234.');
    await sendButton.click();
    await expect.poll(() => alert.textContent()).toBe('Something went wrong. Please try again.');
    expect(widget.fake.feedbackRequests).toHaveLength(0);
    expect((await recordedEvents(page)).find(([name]) => name === 'error')).toEqual(['error', { code: 'before_submit_failed', message: expect.stringContaining('redaction service down') }]);
  });

  it('leaves out and reports metadata and identities the server would refuse', async () => {
    const { page } = await widget.visit({ before: ({ context }) => recordEvents(context) });
    await page.waitForFunction(() => (window as unknown as { Parley?: unknown }).Parley);
    await page.evaluate(() => {
      const parley = (window as unknown as { Parley: { setMetadata(m: unknown): void; identify(i: unknown): void } }).Parley;
      parley.setMetadata(JSON.parse('{"__proto__": {"polluted": true}, "ok": "yes", "bad key": 1, "long": "' + 'x'.repeat(501) + '", "removed": "soon"}'));
      parley.setMetadata({ removed: null });
      parley.identify({ id: 'user-1', signature: 'not-hex' });
    });
    await send(page);
    const body = storedBodies(widget.fake)[0]!;
    expect(body.metadata).toEqual({ ok: 'yes' });
    expect(body).not.toHaveProperty('identity');
    expect(await page.evaluate(() => ({} as Record<string, unknown>).polluted)).toBeUndefined();
    const codes = (await recordedEvents(page)).filter(([name]) => name === 'error').map(([, payload]) => payload.code);
    expect(codes).toEqual(['invalid_metadata', 'invalid_metadata', 'invalid_metadata', 'invalid_identity']);
  });

  it('off() removes a handler; a site listening for errors gets no console warning', async () => {
    // Started by the site (no data-project): its handlers are in place before anything can fail.
    const watched = await widget.visit({ html: hostPage({ body: snippet(widget.fake).replace(' data-project="pk_test_widget"', '') }) });
    const { page } = watched;
    await page.waitForFunction(() => (window as unknown as { Parley?: unknown }).Parley);
    const error = await page.evaluate(
      () =>
        new Promise((resolve) => {
          type Api = { on(e: string, f: unknown): void; off(e: string, f: unknown): void; init(o: unknown): void };
          const parley = (window as unknown as { Parley: Api }).Parley;
          const removed = () => resolve('the removed handler ran');
          parley.on('error', removed);
          parley.off('error', removed);
          parley.on('error', resolve);
          parley.init({ project: 'pk_nobody' });
        }),
    );
    expect(error).toMatchObject({ code: 'config_failed' });
    expect(watched.console.filter((message) => message.type === 'warning')).toEqual([]);
  });

  it('reports open() before init() instead of throwing', async () => {
    const watched = await widget.visit({ html: hostPage({ body: snippet(widget.fake).replace(' data-project="pk_test_widget"', '') }) });
    await watched.page.waitForFunction(() => (window as unknown as { Parley?: unknown }).Parley);
    await callParley(watched.page, 'open');
    expect(watched.console.filter((message) => message.type === 'warning').map((message) => message.text)).toEqual(['[parley] Call init() first. (not_initialized)']);
    expect(watched.pageErrors).toEqual([]);
  });
});
