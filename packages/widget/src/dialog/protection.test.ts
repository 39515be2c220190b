// The widget's side of the front door, against a fake Parley that checks
// proofs of work with the server's own Challenges: the challenge is solved
// while the visitor types and never reused, the honeypot and the minimum time
// work for people and against scripts, and a rate limit is explained politely
// and respected.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { callParley, feedbackDialog, recordEvents, recordedEvents, skipReason } from '../../test/browser.js';
import { storedBodies } from '../../test/fake-parley.js';
import { hostPage, snippet, strictCsp } from '../../test/host-site.js';
import { useWidgetPage } from '../../test/widget-page.js';

const widget = useWidgetPage();

const usePow = () => (widget.fake.protection.captcha.provider = 'pow');
const sentBodies = () => widget.fake.feedbackRequests.map((request) => JSON.parse(request.body.toString('utf8')) as Record<string, unknown>);

async function sendFeedback(page: Page, text: string): Promise<void> {
  const { launcher, message, send } = feedbackDialog(page);
  await launcher.click();
  await message.fill(text);
  await send.click();
}

describe.skipIf(skipReason !== '')('the front door, from the widget', () => {
  it('fetches the challenge when the dialog opens, before anything is sent, and sends its solution', async () => {
    usePow();
    const watched = await widget.visit();
    const { launcher, message, send, sent } = feedbackDialog(watched.page);
    expect(widget.fake.challengeRequests).toBe(0);
    await launcher.click();
    await expect.poll(() => widget.fake.challengeRequests).toBe(1);
    await message.fill('Solved while I typed.');
    await send.click();
    await sent.waitFor();
    // Verified by the server's code; one challenge for one feedback.
    expect(storedBodies(widget.fake)).toEqual([expect.objectContaining({ message: 'Solved while I typed.', challenge: expect.stringMatching(/^[A-Za-z0-9+/]+={0,2}$/) })]);
    expect(widget.fake.challengeRequests).toBe(1);
  });

  it('solves a fresh challenge and sends once more when Parley says the solution expired', async () => {
    usePow();
    widget.fake.answers = [{ status: 403, code: 'challenge_expired', detail: 'Proof of work expired' }];
    const { page } = await widget.visit();
    await sendFeedback(page, 'Typed slowly.');
    await feedbackDialog(page).sent.waitFor();
    const [expired, fresh] = sentBodies();
    expect(fresh!.challenge).not.toBe(expired!.challenge);
    expect(widget.fake.challengeRequests).toBe(2);
    expect(storedBodies(widget.fake)).toHaveLength(1);
  });

  it('gives every retry of queued feedback a fresh challenge (a solution is good once)', async () => {
    usePow();
    widget.fake.answers = ['unavailable', 'store'];
    const { page } = await widget.visit();
    await sendFeedback(page, 'Parley had a bad second.');
    await feedbackDialog(page).queued.waitFor();
    await expect.poll(() => widget.fake.stored.size, { timeout: 10_000 }).toBe(1);
    const challenges = sentBodies().map((body) => body.challenge);
    expect(challenges).toHaveLength(2);
    expect(new Set(challenges).size).toBe(2);
    expect(new Set(widget.fake.feedbackRequests.map((request) => request.headers['idempotency-key'])).size).toBe(1);
  });

  it('runs under the strict CSP without worker-src, solving on the main thread', async () => {
    usePow();
    const { page } = await widget.visit({ csp: strictCsp(widget.fake.origin) });
    await sendFeedback(page, 'No workers here.');
    await feedbackDialog(page).sent.waitFor();
    expect(storedBodies(widget.fake)).toHaveLength(1);
  });

  it('has a honeypot no person sees, reaches or autofills; a script that fills it is refused with a generic message', async () => {
    widget.fake.answers = [{ status: 400, code: 'honeypot_filled', detail: 'Looks like an automated submission' }];
    const { page } = await widget.visit();
    const { launcher, message, send, alert, dialog } = feedbackDialog(page);
    await launcher.click();
    const trap = dialog.locator('input[name="website"]');
    expect(await trap.evaluate((input: HTMLInputElement) => ({ tabIndex: input.tabIndex, autocomplete: input.autocomplete, hidden: input.closest('[aria-hidden="true"]') !== null }))).toEqual({
      tabIndex: -1,
      autocomplete: 'off',
      hidden: true,
    });
    // Inside a box taken out of the flow that clips everything (the visually-hidden pattern).
    const style = await trap.locator('..').evaluate((element) => ({ position: getComputedStyle(element).position, overflow: getComputedStyle(element).overflow, clipPath: getComputedStyle(element).clipPath }));
    expect(style).toEqual({ position: 'absolute', overflow: 'hidden', clipPath: 'inset(50%)' });
    expect(await dialog.getByRole('textbox').count()).toBe(2); // message and e-mail: the honeypot is not in the accessibility tree

    // A person: no honeypot field in the body.
    await message.fill('By hand.');
    // A bot fills every input it finds.
    await page.evaluate(() => {
      for (const input of document.querySelector('parley-widget')!.shadowRoot!.querySelectorAll('input[type="text"]')) (input as HTMLInputElement).value = 'https://spam.example';
    });
    await send.click();
    await expect.poll(() => alert.textContent()).toBe('Something went wrong. Please try again.');
    expect(sentBodies()[0]).toMatchObject({ honeypot: 'https://spam.example' });
    expect(widget.fake.stored.size).toBe(0);
  });

  it('leaves the honeypot out of what a person sends, with the reporter id and the time since opening', async () => {
    const { page } = await widget.visit();
    await sendFeedback(page, 'By hand.');
    await feedbackDialog(page).sent.waitFor();
    const [body] = storedBodies(widget.fake);
    expect(body).not.toHaveProperty('honeypot');
    expect(body).toMatchObject({ reporter: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), elapsedMs: expect.any(Number) });
  });

  it("waits out the project's minimum time before sending a quick visitor's feedback", async () => {
    widget.fake.protection.minSeconds = 2;
    const { page } = await widget.visit();
    const { sent, send } = feedbackDialog(page);
    await sendFeedback(page, 'Quick.');
    expect(await send.textContent()).toBe('Sending…');
    await sent.waitFor();
    expect(storedBodies(widget.fake)[0]!.elapsedMs).toBeGreaterThanOrEqual(2000);
  });

  it('tells a rate-limited visitor when to try again, keeps the text, and asks Parley nothing until then', async () => {
    widget.fake.answers = [{ status: 429, code: 'rate_limit_reporter', detail: 'Too many messages from this visitor', retryAfter: 180 }];
    const { page } = await widget.visit({ before: ({ context }) => recordEvents(context) });
    const { message, send, alert } = feedbackDialog(page);
    await sendFeedback(page, 'One more thing.');
    await expect.poll(() => alert.textContent()).toBe('You have sent a lot of feedback in a short time. Please try again in 3 minutes.');
    expect(await message.inputValue()).toBe('One more thing.');
    await send.click();
    await expect.poll(() => alert.textContent()).toBe('You have sent a lot of feedback in a short time. Please try again in 3 minutes.');
    expect(widget.fake.feedbackRequests).toHaveLength(1);
    expect((await recordedEvents(page)).filter(([name]) => name === 'error')).toEqual([['error', { code: 'rate_limit_reporter', message: 'Too many messages from this visitor' }]]);
  });

  it("says so in the visitor's language when the whole project is busy", async () => {
    widget.fake.settings.locale = 'de';
    widget.fake.answers = [{ status: 429, code: 'rate_limit_project', detail: 'This project receives too much feedback right now', retryAfter: 30 }];
    const { page } = await widget.visit();
    const dialog = page.getByRole('dialog', { name: 'Feedback senden' });
    await page.getByRole('button', { name: 'Feedback' }).click();
    await dialog.getByRole('textbox', { name: 'Ihr Feedback' }).fill('Hallo.');
    await dialog.getByRole('button', { name: 'Senden' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toBe('Wir erhalten gerade sehr viel Feedback. Bitte versuchen Sie es in 30 Sekunden noch einmal.');
  });

  it('sends the identity token but shows it to no event handler, and sends queued feedback with the newest token', async () => {
    const html = hostPage({ body: snippet(widget.fake, { 'data-expose-personal-data': 'true' }) });
    const { page, context } = await widget.visit({ html, before: ({ context }) => recordEvents(context) });
    await callParley(page, 'identify', { id: 'user-42', token: '1700000000.old' });
    const { launcher, message, send, queued } = feedbackDialog(page);
    await launcher.click();
    await message.fill('Signed, offline.');
    await context.setOffline(true);
    await send.click();
    await queued.waitFor();
    await callParley(page, 'identify', { id: 'user-42', token: '1700000600.new' });
    await context.setOffline(false);
    await expect.poll(() => widget.fake.stored.size).toBe(1);
    expect(storedBodies(widget.fake)[0]!.identity).toEqual({ id: 'user-42', token: '1700000600.new' });
    const events = await recordedEvents(page);
    for (const [name, payload] of events.filter(([name]) => name === 'beforeSubmit' || name === 'submit')) {
      const feedback = (name === 'submit' ? payload.feedback : payload) as Record<string, unknown>;
      expect(feedback.identity, name).toEqual({ id: 'user-42' });
      for (const field of ['reporter', 'challenge', 'captcha', 'honeypot', 'elapsedMs']) expect(feedback, `${name} ${field}`).not.toHaveProperty(field);
    }
  });

  it("sends a third-party captcha's token, made when the visitor sends", async () => {
    Object.assign(widget.fake.protection.captcha, { provider: 'recaptcha', siteKey: 'site-key-1', action: 'feedback' });
    const csp = `${strictCsp(widget.fake.origin).replace(`script-src ${widget.fake.origin}`, `script-src ${widget.fake.origin} https://www.google.com`)}`;
    const { page } = await widget.visit({ csp });
    // Google's script, as far as the widget uses it (this test has no internet).
    await page.route('https://www.google.com/recaptcha/api.js*', (route) =>
      route.fulfill({
        contentType: 'text/javascript',
        body: `window.grecaptcha = { ready: (f) => f(), execute: (key, { action }) => Promise.resolve('token-for-' + key + '-' + action) };`,
      }),
    );
    await sendFeedback(page, 'Checked by a provider.');
    await feedbackDialog(page).sent.waitFor();
    expect(storedBodies(widget.fake)[0]).toMatchObject({ captcha: 'token-for-site-key-1-feedback' });
  });

  it("tells the site owner, not the visitor, when the page's CSP blocks the captcha provider", async () => {
    Object.assign(widget.fake.protection.captcha, { provider: 'recaptcha', siteKey: 'site-key-1', action: 'feedback' });
    const { page } = await widget.visit({ before: ({ context }) => recordEvents(context) });
    await sendFeedback(page, 'Blocked provider.');
    await expect.poll(() => feedbackDialog(page).alert.textContent()).toBe('Something went wrong. Please try again.');
    const errors = (await recordedEvents(page)).filter(([name]) => name === 'error');
    expect(errors).toEqual([['error', { code: 'captcha_unavailable', message: expect.stringMatching(/^The recaptcha check did not run: .*Content-Security-Policy/) }]]);
    expect(widget.fake.feedbackRequests).toHaveLength(0);
  });
});
