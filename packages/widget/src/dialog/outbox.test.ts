// Nothing lost: feedback sent while the network or Parley is down waits, is
// retried with the same Idempotency-Key, and is stored exactly once.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { feedbackDialog, recordEvents, recordedEvents, skipReason } from '../../test/browser.js';
import { PROJECT_KEY, storedBodies } from '../../test/fake-parley.js';
import { hostPage, snippet } from '../../test/host-site.js';
import { useWidgetPage } from '../../test/widget-page.js';

const widget = useWidgetPage();
const QUEUE_KEY = `parley:${PROJECT_KEY}:queue`;

/** Opens the dialog, lets `goDown` cut the network or Parley off, and sends. */
async function sendWhileDown(page: Page, text: string, goDown: () => Promise<void> = async () => {}): Promise<void> {
  const { launcher, message, send, queued } = feedbackDialog(page);
  await launcher.click();
  await message.fill(text);
  await goDown();
  await send.click();
  await queued.waitFor();
}

const keysSeen = () => new Set(widget.fake.feedbackRequests.map((request) => request.headers['idempotency-key']));
const storedQueue = (page: Page) => page.evaluate((key) => localStorage.getItem(key), QUEUE_KEY);

describe.skipIf(skipReason !== '')('the outbox', () => {
  it('keeps feedback sent offline and delivers it once when the browser is back online', async () => {
    const { page, context } = await widget.visit({ before: ({ context }) => recordEvents(context) });
    await sendWhileDown(page, 'Written on a train.', () => context.setOffline(true));
    expect(widget.fake.feedbackRequests).toHaveLength(0);
    // Kept across page loads: the body without screenshot, with its key.
    const [parcel] = JSON.parse((await storedQueue(page))!);
    expect(parcel).toMatchObject({ key: expect.any(String), body: { message: 'Written on a train.' } });

    await context.setOffline(false);
    await expect.poll(() => widget.fake.stored.size).toBe(1);
    expect([...keysSeen()]).toEqual([parcel.key]);
    expect(storedBodies(widget.fake)[0]!.message).toBe('Written on a train.');
    await expect.poll(() => storedQueue(page)).toBeNull();
    const submitted = (await recordedEvents(page)).filter(([name]) => name === 'submit');
    expect(submitted).toEqual([['submit', { id: 'fb-1', feedback: expect.objectContaining({ message: 'Written on a train.' }) }]]);
  });

  it('retries dropped connections and a 503 with backoff and one Idempotency-Key: stored once', async () => {
    widget.fake.answers = ['drop', 'unavailable', 'store'];
    const { page } = await widget.visit();
    await sendWhileDown(page, 'Parley had a bad minute.');
    // 1 s, then 2 s of backoff.
    await expect.poll(() => widget.fake.feedbackRequests.length, { timeout: 10_000 }).toBe(3);
    expect(keysSeen().size).toBe(1);
    expect(widget.fake.stored.size).toBe(1);
  });

  it('delivers on the next page load what an earlier page could not send', async () => {
    const { page } = await widget.visit();
    await page.route('**/api/widget/v1/projects/*/feedback', (route) => route.abort('internetdisconnected'));
    await sendWhileDown(page, 'Sent before leaving.');
    const [parcel] = JSON.parse((await storedQueue(page))!);
    await page.unroute('**/api/widget/v1/projects/*/feedback');

    await page.goto(`${widget.site.origin}/next-page`);
    await expect.poll(() => widget.fake.stored.size).toBe(1);
    expect([...widget.fake.stored.keys()]).toEqual([parcel.key]);
    await expect.poll(() => storedQueue(page)).toBeNull();
    // Delivered in the background: the dialog never opened.
    expect(await page.getByRole('dialog').count()).toBe(0);
  });

  it("with storage: 'none' keeps the queue in memory only", async () => {
    const { page, context } = await widget.visit({ html: hostPage({ body: snippet(widget.fake, { 'data-storage': 'none' }) }) });
    await sendWhileDown(page, 'Remember nothing.', () => context.setOffline(true));
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await context.setOffline(false);
    await expect.poll(() => widget.fake.stored.size).toBe(1);
  });

  it('drops a queued feedback the server refuses later, and says so through the error event', async () => {
    const { page } = await widget.visit({ before: ({ context }) => recordEvents(context) });
    await page.route('**/api/widget/v1/projects/*/feedback', (route) => route.abort('internetdisconnected'));
    await sendWhileDown(page, 'Will be refused.');
    await page.unroute('**/api/widget/v1/projects/*/feedback');
    widget.fake.answers = [{ status: 403, code: 'identity_invalid', detail: 'The identity signature is wrong.' }];
    await page.goto(`${widget.site.origin}/again`);
    await expect.poll(async () => (await recordedEvents(page)).filter(([name]) => name === 'error')).toEqual([['error', { code: 'identity_invalid', message: 'The identity signature is wrong.' }]]);
    await expect.poll(() => storedQueue(page)).toBeNull();
  });
});
