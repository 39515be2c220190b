// What the widget keeps in the visitor's browser: only the documented
// localStorage keys (docs/widget.md), each when its feature needs it; with
// storage: 'none', nothing at all. Never a cookie.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { feedbackDialog, skipReason, type Watched } from '../test/browser.js';
import { PROJECT_KEY, storedBodies } from '../test/fake-parley.js';
import { hostPage, snippet } from '../test/host-site.js';
import { useWidgetPage } from '../test/widget-page.js';

const widget = useWidgetPage();
const prefix = `parley:${PROJECT_KEY}:`;
/** 128 random bits in base64url. */
const REPORTER = /^[A-Za-z0-9_-]{22}$/;

const browserState = ({ page }: Watched) =>
  page.evaluate(async () => ({
    localStorage: Object.fromEntries(Object.entries(localStorage)),
    sessionStorage: sessionStorage.length,
    indexedDB: (await indexedDB.databases()).length,
    cookie: document.cookie,
  }));

/** Everything that could store something: a show limit and a snooze, "remember me", a dismiss, a submit, and a feedback queued offline. */
async function useEveryFeature(watched: Watched, canRemember: boolean): Promise<void> {
  const { page, context } = watched;
  const { launcher, message, email, send, sent, close, queued, dialog } = feedbackDialog(page);
  await launcher.click();
  await close.click();
  await launcher.click();
  await message.fill('One.');
  await email.fill('ada@example.com');
  const remember = dialog.getByRole('checkbox', { name: 'Remember my e-mail on this device' });
  expect(await remember.count()).toBe(canRemember ? 1 : 0);
  if (canRemember) await remember.check();
  await send.click();
  await sent.waitFor();
  await dialog.getByText('Close', { exact: true }).click();
  await launcher.click();
  await message.fill('Two, offline.');
  await context.setOffline(true);
  await send.click();
  await queued.waitFor();
}

const setEveryRule = () => Object.assign(widget.fake.settings.display, { maxShows: 50, snoozeDays: 1 });

async function noCookies(page: Page): Promise<void> {
  expect(await page.context().cookies()).toEqual([]);
}

describe.skipIf(skipReason !== '')('browser storage', () => {
  it("with storage: 'none' keeps nothing at all, whatever the project's rules", async () => {
    setEveryRule();
    const watched = await widget.visit({ html: hostPage({ body: snippet(widget.fake, { 'data-storage': 'none' }) }) });
    await useEveryFeature(watched, false);
    expect(await browserState(watched)).toEqual({ localStorage: {}, sessionStorage: 0, indexedDB: 0, cookie: '' });
    await noCookies(watched.page);
  });

  it("with storage: 'none' sends a reporter id that lives for the page load only", async () => {
    const { page } = await widget.visit({ html: hostPage({ body: snippet(widget.fake, { 'data-storage': 'none' }) }) });
    const { launcher, message, send, sent, close } = feedbackDialog(page);
    for (const text of ['One.', 'Two.']) {
      await launcher.click();
      await message.fill(text);
      await send.click();
      await sent.waitFor();
      await close.click();
    }
    await page.reload();
    await launcher.click();
    await message.fill('After a reload.');
    await send.click();
    await sent.waitFor();
    const [first, second, third] = storedBodies(widget.fake).map((body) => body.reporter);
    expect(first).toMatch(REPORTER);
    expect(second).toBe(first);
    expect(third).toMatch(REPORTER);
    expect(third).not.toBe(first);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
  });

  it('writes only the documented parley: keys, namespaced by project', async () => {
    setEveryRule();
    const watched = await widget.visit();
    await useEveryFeature(watched, true);
    const { localStorage, ...rest } = await browserState(watched);
    expect(rest).toEqual({ sessionStorage: 0, indexedDB: 0, cookie: '' });
    expect(Object.keys(localStorage).sort()).toEqual(['dismissedAt', 'email', 'queue', 'reporter', 'shows', 'submittedAt'].map((name) => prefix + name));
    expect(localStorage[`${prefix}shows`]).toBe('1');
    expect(localStorage[`${prefix}email`]).toBe('ada@example.com');
    expect(Number(localStorage[`${prefix}dismissedAt`])).toBeGreaterThan(Date.now() - 60_000);
    // One reporter id for the sent feedback and the queued one.
    const reporter = localStorage[`${prefix}reporter`];
    expect(reporter).toMatch(REPORTER);
    expect(storedBodies(widget.fake)[0]!.reporter).toBe(reporter);
    expect(JSON.parse(localStorage[`${prefix}queue`]!)).toEqual([{ key: expect.any(String), body: expect.objectContaining({ message: 'Two, offline.', reporter }), queuedAt: expect.any(Number) }]);
    await noCookies(watched.page);
  });

  it('stores only the reporter id, from the first feedback on, when the project sets no rule and the visitor asks for nothing', async () => {
    const watched = await widget.visit();
    const { launcher, message, send, sent, close } = feedbackDialog(watched.page);
    await launcher.click();
    await close.click();
    await launcher.click();
    expect((await browserState(watched)).localStorage).toEqual({});
    await message.fill('Plain.');
    await send.click();
    await sent.waitFor();
    const reporter = storedBodies(widget.fake)[0]!.reporter;
    expect((await browserState(watched)).localStorage).toEqual({ [`${prefix}reporter`]: reporter });

    // The same id after a reload, so reloading does not start a fresh per-reporter limit.
    await watched.page.reload();
    await launcher.click();
    await message.fill('Again.');
    await send.click();
    await sent.waitFor();
    expect(storedBodies(widget.fake)[1]!.reporter).toBe(reporter);
  });

  it('forgets the remembered e-mail when the visitor unticks "remember me"', async () => {
    const { page } = await widget.visit();
    const { launcher, message, email, send, sent, dialog } = feedbackDialog(page);
    const remember = dialog.getByRole('checkbox', { name: 'Remember my e-mail on this device' });
    await launcher.click();
    await message.fill('First.');
    await email.fill('grace@example.org');
    await remember.check();
    await send.click();
    await sent.waitFor();
    await page.reload();
    await launcher.click();
    expect(await email.inputValue()).toBe('grace@example.org');
    expect(await remember.isChecked()).toBe(true);
    await message.fill('Second.');
    await remember.uncheck();
    await send.click();
    await sent.waitFor();
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([`${prefix}reporter`]);
  });
});
