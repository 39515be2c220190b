// When the launcher shows: path patterns, snooze after a dismiss or submit,
// a show limit, and auto-open; in Chromium with a fake clock.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WIDGET_SETTINGS } from '../../../apps/server/src/projects/widget-settings.js';
import { feedbackDialog, recordEvents, recordedEvents, skipReason } from '../test/browser.js';
import { useWidgetPage } from '../test/widget-page.js';
import { isShownHere, matchesPathPattern, noteClosed, noteShown } from './display-rules.js';
import type { Store, StoreName } from './storage.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-23T10:00:00Z');

function memoryStore(): Store & { entries: Map<StoreName, string> } {
  const entries = new Map<StoreName, string>();
  return { entries, get: (name) => entries.get(name) ?? null, set: (name, value) => void entries.set(name, value), remove: (name) => void entries.delete(name) };
}

const display = (rules: Partial<typeof DEFAULT_WIDGET_SETTINGS.display>) => ({ ...DEFAULT_WIDGET_SETTINGS.display, ...rules });

describe('path patterns', () => {
  it.each([
    ['/pricing', '/pricing', true],
    ['/pricing', '/pricing/', false],
    ['/docs/*', '/docs/', true],
    ['/docs/*', '/docs/api/v1', true],
    ['/docs/*', '/doc', false],
    ['*/checkout', '/shop/de/checkout', true],
    ['/shop/*/checkout', '/shop/de/cart', false],
    ['*', '/anything', true],
    ['/a*b*c', '/aXbYc', true],
    ['/a*b*c', '/aXbY', false],
    ['/a.b', '/aXb', false],
  ])('%s against %s: %s', (pattern, path, expected) => {
    expect(matchesPathPattern(pattern, path)).toBe(expected);
  });

  it('stays fast on patterns built to make a matcher backtrack', () => {
    const started = performance.now();
    expect(matchesPathPattern(`${'*a'.repeat(100)}b`, `/${'a'.repeat(2000)}`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('display rules', () => {
  it('shows everywhere, always, and stores nothing by default', () => {
    const store = memoryStore();
    expect(isShownHere(DEFAULT_WIDGET_SETTINGS.display, store, '/any', NOW)).toBe(true);
    noteShown(DEFAULT_WIDGET_SETTINGS.display, store);
    noteClosed(DEFAULT_WIDGET_SETTINGS.display, store, false, NOW);
    expect(store.entries.size).toBe(0);
  });

  it('snoozes for whole days after a dismiss or a submit', () => {
    const rules = display({ snoozeDays: 3 });
    for (const submitted of [false, true]) {
      const store = memoryStore();
      noteClosed(rules, store, submitted, NOW);
      expect(isShownHere(rules, store, '/', NOW + 3 * DAY - 1)).toBe(false);
      expect(isShownHere(rules, store, '/', NOW + 3 * DAY)).toBe(true);
    }
  });

  it('counts shows up to the limit', () => {
    const rules = display({ maxShows: 2 });
    const store = memoryStore();
    for (const expected of [true, true, false]) {
      expect(isShownHere(rules, store, '/', NOW)).toBe(expected);
      if (expected) noteShown(rules, store);
    }
    expect(store.entries).toEqual(new Map([['shows', '2']]));
  });
});

const widget = useWidgetPage();

/** Waits until the widget decided (its load event), then tells whether the launcher is there. */
async function launcherShown(page: Page): Promise<boolean> {
  await expect.poll(async () => (await recordedEvents(page)).some(([name]) => name === 'load')).toBe(true);
  return (await feedbackDialog(page).launcher.count()) === 1;
}

describe.skipIf(skipReason !== '')('display rules in Chromium', () => {
  it('shows the launcher only on matching paths', async () => {
    widget.fake.settings.display.urlPatterns = ['/docs/*', '/pricing'];
    const { page } = await widget.visit({ path: '/docs/setup?x=1', before: ({ context }) => recordEvents(context) });
    expect(await launcherShown(page)).toBe(true);
    await page.goto(`${widget.site.origin}/blog/post`);
    expect(await launcherShown(page)).toBe(false);
  });

  it('opens by itself after the configured seconds', async () => {
    widget.fake.settings.display.autoOpenSeconds = 5;
    const { page } = await widget.visit({ before: async ({ page, context }) => (await recordEvents(context), page.clock.install({ time: NOW })) });
    expect(await launcherShown(page)).toBe(true);
    await page.clock.fastForward(4000);
    expect(await page.getByRole('dialog').count()).toBe(0);
    await page.clock.fastForward(1500);
    await feedbackDialog(page).dialog.waitFor();
    expect((await recordedEvents(page)).filter(([name]) => name === 'open')).toEqual([['open', { trigger: 'auto' }]]);
  });

  it('after a dismiss, stays away for the snooze days, then comes back', async () => {
    widget.fake.settings.display.snoozeDays = 2;
    const { page } = await widget.visit({ before: async ({ page, context }) => (await recordEvents(context), page.clock.install({ time: NOW })) });
    const { launcher, close } = feedbackDialog(page);
    await launcher.click();
    await close.click();
    await page.reload();
    expect(await launcherShown(page)).toBe(false);
    await page.clock.setSystemTime(NOW + 2 * DAY + 60_000);
    await page.reload();
    expect(await launcherShown(page)).toBe(true);
  });

  it('after a submit, stays away for the snooze days too', async () => {
    widget.fake.settings.display.snoozeDays = 1;
    const { page } = await widget.visit({ before: ({ context }) => recordEvents(context) });
    const { launcher, message, send, sent } = feedbackDialog(page);
    await launcher.click();
    await message.fill('Done here.');
    await send.click();
    await sent.waitFor();
    await page.reload();
    expect(await launcherShown(page)).toBe(false);
  });

  it('shows at most the configured number of times', async () => {
    widget.fake.settings.display.maxShows = 2;
    const { page } = await widget.visit({ before: ({ context }) => recordEvents(context) });
    expect(await launcherShown(page)).toBe(true);
    await page.reload();
    expect(await launcherShown(page)).toBe(true);
    await page.reload();
    expect(await launcherShown(page)).toBe(false);
  });
});
