// Chromium for the widget's browser tests: the system's /usr/bin/chromium,
// driven by playwright-core. Without it the suites are skipped on a laptop
// but fail in CI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const isCi = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
export const skipReason = !existsSync(CHROMIUM) && !isCi ? `${CHROMIUM} is missing (apt-get install chromium); in CI this fails instead` : '';
if (skipReason) console.warn(`widget: skipping the Chromium tests: ${skipReason}`);

export const VIEWPORT = { width: 1000, height: 720 };

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`CI is set but ${CHROMIUM} is missing: install it (apt-get install chromium).`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** What a page said: console messages by type, uncaught errors, and CSP violations (the shadow root's too). */
export type Watched = { page: Page; context: BrowserContext; console: { type: string; text: string }[]; pageErrors: string[] };

type Window = globalThis.Window & { cspViolations: string[] };

export async function newWatchedPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Watched> {
  const context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-GB', ...options });
  await context.addInitScript(() => {
    const violations: string[] = [];
    (window as unknown as Window).cspViolations = violations;
    document.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.violatedDirective} ${event.blockedURI}`), true);
  });
  const page = await context.newPage();
  const watched: Watched = { page, context, console: [], pageErrors: [] };
  page.on('console', (message) => watched.console.push({ type: message.type(), text: message.text() }));
  page.on('pageerror', (error) => watched.pageErrors.push(error.message));
  return watched;
}

export async function cspViolations({ page, console }: Watched): Promise<string[]> {
  const fromEvents = await page.evaluate(() => (window as unknown as Window).cspViolations);
  return [...fromEvents, ...console.filter((message) => message.text.includes('Content Security Policy')).map((message) => message.text)];
}

/** Calls window.Parley[method](...args) in the page. */
export function callParley(page: Page, method: string, ...args: unknown[]): Promise<void> {
  return page.evaluate(([name, values]) => (window as unknown as { Parley: Record<string, (...a: unknown[]) => void> }).Parley[name as string]!(...(values as unknown[])), [method, args] as const);
}

/** Records every Parley event in window.parleyEvents (call before the widget loads: it queues through window.Parley = [...]). */
export async function recordEvents(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const events: [string, unknown][] = [];
    (window as unknown as { parleyEvents: unknown }).parleyEvents = events;
    const record = (name: string) => ['on', name, (payload: unknown) => events.push([name, payload])];
    (window as unknown as { Parley: unknown }).Parley = ['load', 'open', 'beforeSubmit', 'submit', 'close', 'error'].map(record);
  });
}

export function recordedEvents(page: Page): Promise<[string, Record<string, unknown>][]> {
  return page.evaluate(() => (window as unknown as { parleyEvents: [string, Record<string, unknown>][] }).parleyEvents.map(([name, payload]) => [name, JSON.parse(JSON.stringify(payload))]));
}

/** The English dialog's parts, as a visitor finds them. */
export function feedbackDialog(page: Page) {
  const dialog = page.getByRole('dialog', { name: 'Send feedback' });
  return {
    dialog,
    launcher: page.getByRole('button', { name: 'Feedback' }),
    message: dialog.getByRole('textbox', { name: 'Your feedback' }),
    email: dialog.getByRole('textbox', { name: /^E-mail/ }),
    send: dialog.getByRole('button', { name: 'Send' }),
    /** The × in the dialog's corner. */
    close: dialog.getByLabel('Close', { exact: true }),
    alert: dialog.getByRole('alert'),
    sent: dialog.getByText('Your feedback has been sent.', { exact: true }),
    queued: dialog.getByText('You seem to be offline. Your feedback will be sent as soon as the connection is back.', { exact: true }),
  };
}

/**
 * A test's page script as one ES module a host page can load: `source`
 * imports the module under test by a path relative to `from` (the test's
 * import.meta.url); `define` replaces build-time constants as build.mjs does.
 */
export async function bundlePageScript(source: string, from: string, define: Record<string, string> = {}): Promise<Uint8Array> {
  const { outputFiles } = await build({
    stdin: { contents: source, resolveDir: fileURLToPath(new URL('.', from)), loader: 'js' },
    bundle: true,
    format: 'esm',
    write: false,
    define,
  });
  return outputFiles[0]!.contents;
}
