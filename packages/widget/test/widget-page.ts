// One Chromium, one fake Parley and one host site per test file, and a page
// with the widget on it per test.
import type { Browser, BrowserContextOptions } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchChromium, newWatchedPage, type Watched } from './browser.js';
import { startFakeParley, type FakeParley } from './fake-parley.js';
import { hostPage, snippet, startHostSite, strictCsp, type HostSite } from './host-site.js';

export type Fixture = {
  fake: FakeParley;
  site: HostSite;
  browser: Browser;
  /**
   * Opens the host page with the widget (strict CSP, unless `csp` says
   * otherwise) in a fresh browser context; `before` runs before navigation
   * (clock, init scripts).
   */
  visit(options?: { path?: string; html?: string; csp?: string | null; scripts?: Map<string, Uint8Array>; context?: BrowserContextOptions; before?(watched: Watched): Promise<void> }): Promise<Watched>;
};

export function useWidgetPage(): Fixture {
  const opened: Watched[] = [];
  const fixture = {
    async visit({ path = '/', html, csp, scripts, context, before } = {}) {
      fixture.site.page = { html: html ?? hostPage({ body: snippet(fixture.fake) }), csp: csp === undefined ? strictCsp(fixture.fake.origin) : csp, css: '', scripts };
      const watched = await newWatchedPage(fixture.browser, context);
      opened.push(watched);
      await before?.(watched);
      await watched.page.goto(fixture.site.origin + path);
      return watched;
    },
  } as Fixture;

  beforeAll(async () => {
    [fixture.fake, fixture.site, fixture.browser] = await Promise.all([startFakeParley(), startHostSite(), launchChromium()]);
  }, 60_000);
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((watched) => watched.context.close()));
    fixture.fake.reset();
  });
  afterAll(async () => {
    await fixture.browser?.close();
    await Promise.all([fixture.fake?.close(), fixture.site?.close()]);
  });
  return fixture;
}
