// The feedback form as a visitor uses it: every rating mode, e-mail mode,
// feedback types, custom fields and consent, validation, the keyboard alone.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { cspViolations, feedbackDialog, skipReason } from '../../test/browser.js';
import { storedBodies } from '../../test/fake-parley.js';
import { useWidgetPage } from '../../test/widget-page.js';

const widget = useWidgetPage();

/** Opens the dialog, runs `fill`, sends, and returns the stored body. */
async function submit(page: Page, fill: () => Promise<void>): Promise<Record<string, unknown>> {
  const { launcher, message, send, sent } = feedbackDialog(page);
  await launcher.click();
  await message.fill('Feedback.');
  await fill();
  await send.click();
  await sent.waitFor();
  return storedBodies(widget.fake).at(-1)!;
}

/** The part of a stored body the form decides (context left out). */
const formPart = ({ message, type, rating, email, custom, consent }: Record<string, unknown>) =>
  Object.fromEntries(Object.entries({ message, type, rating, email, custom, consent }).filter(([, value]) => value !== undefined));

describe.skipIf(skipReason !== '')('the feedback dialog', () => {
  const ratings = [
    ['stars', 'How would you rate your experience?', ['1 of 5 stars', '2 of 5 stars', '3 of 5 stars', '4 of 5 stars', '5 of 5 stars'], [1, 2, 3, 4, 5]],
    ['emoji', 'How do you feel about it?', ['Very unhappy', 'Unhappy', 'Neutral', 'Happy', 'Very happy'], [1, 2, 3, 4, 5]],
    ['thumbs', 'Was this helpful?', ['Yes', 'No'], [1, 0]],
    ['nps', 'How likely are you to recommend us to a friend or colleague?', ['0 – Not likely', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10 – Very likely'], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
  ] as const;

  for (const [mode, question, names, values] of ratings) {
    it(`asks for a ${mode} rating as a radio group and sends its value`, async () => {
      widget.fake.settings.rating = mode;
      const { page } = await widget.visit();
      await feedbackDialog(page).launcher.click();
      const group = page.getByRole('group', { name: question });
      await group.waitFor();
      expect(await group.getByRole('radio').evaluateAll((radios) => radios.map((radio) => radio.getAttribute('aria-label') ?? radio.parentElement!.textContent))).toEqual(names);
      await feedbackDialog(page).close.click();
      // The lowest and the highest value of the mode reach the server.
      for (const index of [0, names.length - 1]) {
        const body = await submit(page, () => group.getByRole('radio', { name: names[index], exact: true }).check());
        expect(body.rating).toBe(values[index]);
        await feedbackDialog(page).close.click();
      }
    });
  }

  it('asks for no rating in mode none', async () => {
    widget.fake.settings.rating = 'none';
    const { page } = await widget.visit();
    const body = await submit(page, async () => {
      expect(await page.getByRole('radio').count()).toBe(0);
    });
    expect(body).not.toHaveProperty('rating');
  });

  it('hides the e-mail field when the project says hidden', async () => {
    widget.fake.settings.email = 'hidden';
    const { page } = await widget.visit();
    const body = await submit(page, async () => expect(await feedbackDialog(page).email.count()).toBe(0));
    expect(body).not.toHaveProperty('email');
  });

  it('leaves an optional e-mail out when empty, and checks its form when given', async () => {
    const { page } = await widget.visit();
    const { launcher, message, email, send, sent, dialog, close } = feedbackDialog(page);
    expect(formPart(await submit(page, async () => expect(await email.getAttribute('aria-required')).toBeNull()))).toEqual({ message: 'Feedback.' });
    await close.click();
    await launcher.click();
    await message.fill('Second.');
    await email.fill('not an address');
    await send.click();
    await dialog.getByText('Please enter a valid e-mail address.').waitFor();
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.querySelector('parley-widget')!.shadowRoot!.activeElement?.id)).toBe('p-email');
    await email.fill('grace@example.org');
    await send.click();
    await sent.waitFor();
    expect(storedBodies(widget.fake).at(-1)!.email).toBe('grace@example.org');
  });

  it('requires the e-mail when the project says required', async () => {
    widget.fake.settings.email = 'required';
    const { page } = await widget.visit();
    const { launcher, message, email, send, dialog } = feedbackDialog(page);
    await launcher.click();
    // Named without "(optional)", and required for assistive technology too.
    expect(await dialog.getByRole('textbox', { name: 'E-mail', exact: true }).evaluate((input: HTMLInputElement) => input.required)).toBe(true);
    await message.fill('Hello.');
    await send.click();
    await dialog.getByText('Please fill in this field.').waitFor();
    expect(widget.fake.feedbackRequests).toHaveLength(0);
    await email.fill('ada@example.com');
    await send.click();
    await feedbackDialog(page).sent.waitFor();
    expect(storedBodies(widget.fake).at(-1)!.email).toBe('ada@example.com');
  });

  it('offers the feedback types, custom fields and the consent with its privacy link', async () => {
    Object.assign(widget.fake.settings, {
      types: [
        { id: 'bug', label: '' },
        { id: 'idea', label: '' },
        { id: 'billing', label: 'Billing question' },
      ],
      customFields: [
        { id: 'order', label: 'Order number', type: 'text', options: [], required: true },
        { id: 'plan', label: 'Your plan', type: 'select', options: ['Free', 'Team', 'Enterprise'], required: false },
      ],
      consent: { required: true, privacyUrl: 'https://shop.example/privacy' },
    });
    const watched = await widget.visit();
    const { page } = watched;
    const { launcher, message, send, dialog, sent } = feedbackDialog(page);
    await launcher.click();
    const types = dialog.getByRole('group', { name: 'What is it about?' });
    expect(await types.getByRole('radio').evaluateAll((radios) => radios.map((radio) => radio.parentElement!.textContent))).toEqual(['Bug', 'Idea', 'Billing question']);
    const privacy = dialog.getByRole('link', { name: 'Privacy policy' });
    expect(await privacy.getAttribute('href')).toBe('https://shop.example/privacy');
    expect(await privacy.getAttribute('rel')).toBe('noopener noreferrer');

    await message.fill('Charged twice.');
    await send.click();
    // Each missing answer is marked, and focus goes to the first.
    await dialog.getByText('Please agree to continue.').waitFor();
    expect(await dialog.getByText('Please fill in this field.').count()).toBe(1);
    expect(await page.evaluate(() => document.querySelector('parley-widget')!.shadowRoot!.activeElement?.id)).toBe('p-custom-order');
    expect(widget.fake.feedbackRequests).toHaveLength(0);

    await types.getByRole('radio', { name: 'Billing question' }).check();
    await dialog.getByRole('textbox', { name: 'Order number' }).fill('  A-1042 ');
    await dialog.getByRole('combobox', { name: 'Your plan (optional)' }).selectOption('Team');
    await dialog.getByRole('checkbox', { name: /^I agree/ }).check();
    // Fixed fields lose their errors at once.
    expect(await dialog.locator('.field-error:not([hidden])').count()).toBe(0);
    await send.click();
    await sent.waitFor();
    expect(formPart(storedBodies(widget.fake)[0]!)).toEqual({ message: 'Charged twice.', type: 'billing', custom: { order: 'A-1042', plan: 'Team' }, consent: true });
    expect(await cspViolations(watched)).toEqual([]);
  });

  it('can be used with the keyboard alone: arrow keys in radio groups, Tab stays inside, Esc closes, focus returns', async () => {
    widget.fake.settings.rating = 'emoji';
    const { page } = await widget.visit();
    const focused = () => page.evaluate(() => {
      const active = document.querySelector('parley-widget')!.shadowRoot!.activeElement;
      return active ? active.getAttribute('aria-label') || active.id || active.textContent : null;
    });
    // Tab from the page (past its coupon field) to the launcher, Enter opens.
    await feedbackDialog(page).launcher.waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Feedback');
    await page.keyboard.press('Enter');
    await expect.poll(focused).toBe('Very unhappy');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await focused()).toBe('Happy');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Only keys were used.');
    // Tab past Send wraps to the close button, Shift+Tab back to Send.
    for (const _ of ['email', 'remember', 'cancel', 'send']) await page.keyboard.press('Tab');
    expect(await focused()).toBe('Send');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Close');
    await page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('Send');
    await page.keyboard.press('Enter');
    await feedbackDialog(page).sent.waitFor();
    expect(await focused()).toBe('Close');
    expect(formPart(storedBodies(widget.fake)[0]!)).toEqual({ message: 'Only keys were used.', rating: 4 });

    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    expect(await focused()).toBe('Feedback');
  });

  it('keeps a draft when dismissed, starts empty after sending, and returns focus to what opened it', async () => {
    const { page } = await widget.visit();
    const { message, send, sent, dialog } = feedbackDialog(page);
    await page.evaluate(() => {
      const button = Object.assign(document.createElement('button'), { textContent: 'Help' });
      button.addEventListener('click', () => (window as unknown as { Parley: { open(): void } }).Parley.open());
      document.body.append(button);
    });
    await page.getByRole('button', { name: 'Help' }).click();
    await message.fill('Half written');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Help');
    await page.getByRole('button', { name: 'Help' }).click();
    expect(await message.inputValue()).toBe('Half written');
    await send.click();
    await sent.waitFor();
    await dialog.getByText('Close', { exact: true }).click();
    await page.getByRole('button', { name: 'Help' }).click();
    expect(await message.inputValue()).toBe('');
  });

  it("shows the server's refusal and keeps the form; the next try is a new submission", async () => {
    widget.fake.answers = [{ status: 400, code: 'validation_failed', detail: 'The message is too long.' }];
    const { page } = await widget.visit();
    const { launcher, message, send, alert, sent } = feedbackDialog(page);
    await launcher.click();
    await message.fill('Keep me.');
    await send.click();
    await expect.poll(() => alert.textContent()).toBe('The message is too long.');
    expect(await message.inputValue()).toBe('Keep me.');
    await send.click();
    await sent.waitFor();
    const [refused, accepted] = widget.fake.feedbackRequests.map((request) => request.headers['idempotency-key']);
    expect(accepted).not.toBe(refused);
  });
});
