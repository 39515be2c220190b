// WCAG 2.1 AA: axe-core finds no violation in any state of the widget, light
// or dark; live regions announce errors and success; reduced motion is
// respected. The host page here sends no CSP so axe can be injected.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { feedbackDialog, skipReason } from '../test/browser.js';
import { useWidgetPage } from '../test/widget-page.js';

const AXE = readFileSync(new URL('../../../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const widget = useWidgetPage();

type Violation = { id: string; help: string; nodes: { target: unknown; failureSummary: string }[] };

async function axeViolations(page: Page): Promise<Violation[]> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: Violation[] }> } }).axe;
    return (await axe.run(document, { runOnly: { type: 'tag', values: tags } })).violations;
  }, WCAG_21_AA);
  return violations.map(({ id, help, nodes }) => ({ id, help, nodes: nodes.map(({ target, failureSummary }) => ({ target, failureSummary })) }));
}

/** Every form part the project can turn on. */
function useEveryField(theme: 'light' | 'dark'): void {
  Object.assign(widget.fake.settings, {
    theme,
    types: [
      { id: 'bug', label: '' },
      { id: 'idea', label: '' },
      { id: 'praise', label: '' },
    ],
    email: 'optional',
    customFields: [{ id: 'plan', label: 'Your plan', type: 'select', options: ['Free', 'Team'], required: true }],
    consent: { required: true, privacyUrl: 'https://shop.example/privacy' },
    screenshot: { enabled: true, mode: 'dom' },
  });
}

describe.skipIf(skipReason !== '')('accessibility', () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`has no axe violations closed, open, with errors, refused and sent (${theme})`, async () => {
      useEveryField(theme);
      widget.fake.answers = [{ status: 400, code: 'validation_failed', detail: 'The message is too long.' }];
      const { page } = await widget.visit({ csp: null, context: { colorScheme: theme, viewport: { width: 1000, height: 900 } } });
      const { launcher, dialog, message, send, alert, sent } = feedbackDialog(page);
      const check = async (state: string) => {
        await page.screenshot({ path: `/tmp/parley-widget-${theme}-${state}.png` });
        expect(await axeViolations(page), state).toEqual([]);
      };

      await launcher.waitFor();
      await check('closed');
      await launcher.click();
      await dialog.getByRole('radio', { name: '4 of 5 stars' }).check();
      await message.fill('The export button does nothing on Safari.');
      await check('open');
      await send.click();
      await dialog.getByText('Please agree to continue.').waitFor();
      await check('errors');
      await dialog.getByRole('combobox', { name: 'Your plan' }).selectOption('Team');
      await dialog.getByRole('checkbox', { name: /^I agree/ }).check();
      await send.click();
      await expect.poll(() => alert.textContent()).toBe('The message is too long.');
      await check('refused');
      await send.click();
      await sent.waitFor();
      expect(await dialog.getByRole('status').textContent()).toBe('Thank you! Your feedback has been sent.');
      await check('sent');
    });
  }

  it('would have found a violation inside the widget (control: axe reads its shadow root)', async () => {
    const { page } = await widget.visit({ csp: null });
    await feedbackDialog(page).launcher.click();
    await feedbackDialog(page).message.waitFor();
    await page.evaluate(() => document.querySelector('parley-widget')!.shadowRoot!.querySelector('.fields')!.append(document.createElement('input')));
    expect((await axeViolations(page)).map(({ id }) => id)).toContain('label');
  });

  it('does not animate for visitors who ask for reduced motion', async () => {
    const animation = async (reducedMotion: 'reduce' | 'no-preference') => {
      const { page } = await widget.visit({ context: { reducedMotion } });
      await feedbackDialog(page).launcher.click();
      await feedbackDialog(page).message.waitFor();
      return feedbackDialog(page).dialog.evaluate((element) => getComputedStyle(element).animationName);
    };
    expect(await animation('no-preference')).toBe('parley-rise');
    expect(await animation('reduce')).toBe('none');
  });
});
