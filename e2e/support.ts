// What the browser stories share: the skip rule, the real `parley serve` on a
// free port with a fresh data directory, Chromium with the same flags, the
// step-by-step `it` that stops a story at its first failure, the owner's
// sign-up on the setup page, and the clean-up. Each story keeps its own
// pages, data and checks.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { it } from 'vitest';
import { freePort } from '../apps/server/src/db/embedded.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';
const SERVER_START_TIMEOUT_MS = 60_000;
const SERVER_STOP_TIMEOUT_MS = 30_000;
/** For a story's beforeAll: the server's start plus the browser's. */
export const SET_UP_TIMEOUT_MS = SERVER_START_TIMEOUT_MS + 60_000;
/** For a story's afterAll: the server's stop plus the rest of the clean-up. */
export const CLEAN_UP_TIMEOUT_MS = SERVER_STOP_TIMEOUT_MS + 30_000;

/**
 * Why the story `name` is skipped, or '' when it runs. On a laptop without
 * Chromium the suite is skipped; in CI it must run (its set-up then fails).
 */
export function browserSkipReason(name: string): string {
  const isCi = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
  const skipReason = !existsSync(CHROMIUM) && !isCi ? `${CHROMIUM} is missing (apt-get install chromium); in CI this fails instead` : '';
  if (skipReason) console.warn(`e2e: skipping the ${name}: ${skipReason}`);
  return skipReason;
}

export function closeServer(server: Server | null): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The first account, made on the setup page. */
export type Owner = { name: string; email: string; password: string; organization: string };

/** Fills in the setup page the one-time link opened and waits for the owner's (empty) Projects page. */
export async function setUpOwner(page: Page, owner: Owner): Promise<void> {
  await page.getByRole('heading', { name: 'Set up Parley' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill(owner.name);
  await page.getByLabel('E-mail').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await page.getByLabel('Organization').fill(owner.organization);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
}

/** Creates a project on the signed-in owner's Projects page and opens its inbox; the ids from its address. */
export async function createProject(page: Page, name: string, domain: string): Promise<{ orgId: string; projectId: string }> {
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Allowed domains').fill(domain);
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.getByTestId('project-created').getByRole('link', { name: 'open its inbox' }).click();
  await page.getByTestId('project-name').waitFor();
  const [, orgId = '', projectId = ''] = /^\/orgs\/([^/]+)\/projects\/([^/]+)$/.exec(new URL(page.url()).pathname) ?? [];
  return { orgId, projectId };
}

const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
let axeSource = '';

export type AxeViolation = { id: string; help: string; nodes: { target: unknown }[] };

/** axe-core's WCAG 2.1 AA violations on the page as it is (run through the debugger, so the dashboard's CSP stays as it is). */
export async function axeViolations(on: Page): Promise<AxeViolation[]> {
  axeSource ||= readFileSync(path.join(REPO_ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
  await on.evaluate(axeSource);
  const violations = await on.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document, { runOnly: { type: 'tag', values: tags } })).violations;
  }, WCAG_21_AA);
  return violations.map(({ id, help, nodes }) => ({ id, help, nodes: nodes.map(({ target }) => ({ target })) }));
}

/**
 * The elements reaching past the page's right edge (section tabs scroll on
 * their own and are left out), named for a failure message: none means the
 * page fits its width without sideways scrolling.
 */
export function overflowingElements(on: Page): Promise<string[]> {
  return on.locator('body').evaluate((root) =>
    [...root.querySelectorAll('*')]
      .filter((element) => element.closest('.tabs') === null)
      .filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
      .map((element) => `${element.tagName.toLowerCase()}.${element.className} ${element.textContent?.slice(0, 40)}`),
  );
}

/** A Content Security Policy violation, and the page it happened on. */
export type CspReport = { url: string; text: string };

type StoryOptions = {
  /** What must have been built before the story can run, relative to the repository. */
  builtFiles: string[];
  /** mkdtemp prefixes of the server's data directory and of the screenshots. */
  dataDirPrefix: string;
  screenshotDirPrefix: string;
  /** More settings for `parley serve` (e.g. PARLEY_WEBHOOK_ALLOW_HTTP). */
  env?: Record<string, string>;
};

/**
 * One story's server, browser and what they reported. Its steps each build
 * on the ones before, so after a failure the rest are skipped instead of
 * failing for the same reason; the failing step leaves a screenshot of
 * every open page.
 */
export class BrowserStory {
  server: ChildProcess | null = null;
  serverLog: string[] = [];
  dataDir = '';
  screenshotDir = '';
  port = 0;
  origin = '';
  browser: Browser | null = null;
  context: BrowserContext | null = null;
  cspReports: CspReport[] = [];
  pageErrors: string[] = [];
  failedStep = '';

  constructor(private readonly options: StoryOptions) {}

  /** Checks Chromium and the build, makes the temporary directories and picks the server's port and origin. */
  async prepare(): Promise<void> {
    if (!existsSync(CHROMIUM)) throw new Error(`CI is set but ${CHROMIUM} is missing: install it (apt-get install chromium) — the browser tests must run in CI.`);
    const missing = this.options.builtFiles.filter((file) => !existsSync(path.join(REPO_ROOT, file)));
    if (missing.length > 0) throw new Error(`Not built: ${missing.join(', ')}. Run \`npm run build\` first (\`npm test\` does).`);

    this.dataDir = await mkdtemp(path.join(tmpdir(), this.options.dataDirPrefix));
    this.screenshotDir = await mkdtemp(path.join(tmpdir(), this.options.screenshotDirPrefix));
    this.port = await freePort();
    // localhost, not 127.0.0.1: passkeys need a host name as their relying party.
    this.origin = `http://localhost:${this.port}`;
  }

  /** Starts `parley serve` and resolves with the one-time setup link it logs. */
  startParley(): Promise<string> {
    const child = spawn(process.execPath, ['apps/server/bin/parley.js', 'serve'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PARLEY_DATA_DIR: this.dataDir,
        HOST: '127.0.0.1',
        PORT: String(this.port),
        PARLEY_PUBLIC_URL: this.origin,
        LOG_LEVEL: 'info',
        ...this.options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.server = child;
    createInterface({ input: child.stderr! }).on('line', (line) => this.serverLog.push(`stderr: ${line}`));
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`parley serve ${why}. Its output:\n${this.serverLog.slice(-40).join('\n')}`));
      };
      const timer = setTimeout(() => fail(`printed no setup link within ${SERVER_START_TIMEOUT_MS / 1000} s`), SERVER_START_TIMEOUT_MS);
      child.once('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
      child.once('error', (error) => fail(`could not start: ${error.message}`));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        this.serverLog.push(line);
        let entry: { setupUrl?: unknown };
        try {
          entry = JSON.parse(line) as { setupUrl?: unknown };
        } catch {
          return;
        }
        if (typeof entry.setupUrl === 'string') {
          clearTimeout(timer);
          resolve(entry.setupUrl);
        }
      });
    });
  }

  /** SIGTERM, then wait: Parley finishes requests and stops its PostgreSQL. SIGKILL if it hangs (its watchdog still stops PostgreSQL). */
  async stopParley(): Promise<void> {
    const child = this.server;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), SERVER_STOP_TIMEOUT_MS)));
    const hung = await Promise.race([exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (hung) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`parley serve did not stop within ${SERVER_STOP_TIMEOUT_MS / 1000} s of SIGTERM`);
    }
  }

  /** Headless Chromium and one context, collecting script errors and the CSP violations the console reports. */
  async launchBrowser(): Promise<BrowserContext> {
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    this.context = await this.newContext();
    return this.context;
  }

  /** Another browser context (another person: its own cookies), watched for CSP reports and script errors like the first. */
  async newContext(): Promise<BrowserContext> {
    const context = await this.browser!.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
    context.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) this.cspReports.push({ url: message.page()?.url() ?? '', text: message.text() });
    });
    context.on('weberror', (error) => this.pageErrors.push(`${error.page()?.url()}: ${error.error().message}`));
    return context;
  }

  /**
   * Invites `person` with `role` from the owner's members page; they open the
   * link in a context of their own, create their account and land on the
   * Projects page (the organization must not require MFA). Their page.
   */
  async joinByInvite(owner: Page, orgId: string, person: { name: string; email: string; password: string }, role: 'admin' | 'member' | 'viewer'): Promise<Page> {
    await owner.goto(`${this.origin}/orgs/${orgId}/members`);
    await owner.getByLabel('E-mail').fill(person.email);
    await owner.getByLabel('Role', { exact: true }).selectOption(role);
    await owner.getByRole('button', { name: 'Send invitation' }).click();
    const inviteLink = await owner.getByTestId('invite-link').inputValue();

    const guest = await (await this.newContext()).newPage();
    await guest.goto(inviteLink);
    await guest.getByLabel('Your name').fill(person.name);
    await guest.getByLabel('Password').fill(person.password);
    await guest.getByRole('button', { name: 'Create account and join' }).click();
    await guest.getByRole('heading', { name: 'Projects' }).waitFor();
    return guest;
  }

  /**
   * Also every `securitypolicyviolation` event on every page of the context,
   * across navigations and reloads, including ones raised inside a shadow
   * root (the console does not report all of them).
   */
  async watchSecurityPolicyEvents(): Promise<void> {
    const context = this.context!;
    await context.exposeBinding('__reportCspViolation', ({ frame }, text: string) => {
      this.cspReports.push({ url: frame.url(), text });
    });
    await context.addInitScript(() => {
      document.addEventListener(
        'securitypolicyviolation',
        (event) => (window as unknown as { __reportCspViolation(text: string): void }).__reportCspViolation(`${event.violatedDirective} ${event.blockedURI}`),
        true,
      );
    });
  }

  readonly screenshot = async (page: Page, name: string): Promise<void> => {
    await page.screenshot({ path: path.join(this.screenshotDir, `${name}.png`), fullPage: true });
  };

  /** One step of the story (see the class). */
  readonly step = (name: string, run: () => Promise<void>): void => {
    it(name, async (ctx) => {
      ctx.skip(this.failedStep !== '', `skipped: an earlier step failed ("${this.failedStep}")`);
      try {
        await run();
      } catch (error) {
        this.failedStep = name;
        const pages = this.browser?.contexts().flatMap((context) => context.pages()) ?? [];
        await Promise.all(pages.map((page, i) => this.screenshot(page, `failed-${i}`).catch(() => undefined)));
        throw error;
      }
    });
  };

  /** The lines the server wrote to stderr or logged at level error or fatal. */
  serverErrors(): string[] {
    return this.serverLog.filter((line) => line.startsWith('stderr:') || /"level":(50|60)/.test(line));
  }

  /**
   * Closes the browser, then whatever `more` names, stops the server and
   * removes its data. Each runs even when an earlier one failed, so nothing
   * is left behind.
   */
  async cleanUp(...more: (() => unknown)[]): Promise<void> {
    const steps = [() => this.browser?.close(), ...more, () => this.stopParley(), () => (this.dataDir ? rm(this.dataDir, { recursive: true, force: true }) : undefined)];
    const errors: unknown[] = [];
    for (const cleanUpStep of steps) {
      try {
        await cleanUpStep();
      } catch (error) {
        errors.push(error);
      }
    }
    if (this.screenshotDir) console.info(`e2e: screenshots in ${this.screenshotDir}`);
    if (errors.length > 0) throw new AggregateError(errors, 'e2e clean-up failed');
  }
}
