// What the lazily loaded chunks receive: one started widget's options,
// settings and state. Types only; nothing here is bundled.
import type { Events } from './events.js';
import type { WidgetHost } from './host.js';
import type { Locale } from './locale.js';
import type { ConsoleError, Identity, Metadata, ParleyEvents, WidgetOptions } from './public-types.js';
import type { WidgetProtection, WidgetSettings } from './settings.js';
import type { Store } from './storage.js';

/** Set through the API; lives across restarts until destroy(). */
export type Visitor = { identity: Identity | null; metadata: Metadata };

export type OpenTrigger = ParleyEvents['open']['trigger'];

export type CaptureScreenshot = typeof import('./screenshot/index.js').captureScreenshot;
export type SolveChallenge = typeof import('./protection/pow.js').solveChallenge;
export type CaptchaToken = typeof import('./protection/captcha.js').captchaToken;

/** The options a session runs with: the script tag's or init()'s, apiOrigin known. */
export type StartOptions = WidgetOptions & { apiOrigin: string };

export type Runtime = {
  options: StartOptions;
  settings: WidgetSettings;
  protection: WidgetProtection;
  locale: Locale;
  store: Store;
  host: WidgetHost;
  launcher: HTMLButtonElement | null;
  events: Events;
  visitor: Visitor;
  /** Filled while the page runs, when the project opted in. */
  consoleErrors: ConsoleError[];
  loadScreenshot(): Promise<{ captureScreenshot: CaptureScreenshot }>;
  /** The proof-of-work solver and the third-party captcha, each its own chunk: only projects using them load them. */
  loadPow(): Promise<{ solveChallenge: SolveChallenge }>;
  loadCaptcha(): Promise<{ captchaToken: CaptchaToken }>;
  /** Emits `error`; warns once in the console when nobody listens. */
  report(code: string, message: string): void;
};

/** The dialog chunk, started. prepare() builds the closed dialog ahead of open(). */
export type App = { prepare(): void; open(trigger: OpenTrigger): void; close(): void; destroy(): void };

/** How the lazily loaded chunks are fetched: verified files beside the loader, or the site's bundler. */
export type Chunks = {
  session(nonce: string | undefined): Promise<typeof import('./session.js')>;
  dialog(nonce: string | undefined): Promise<{ startApp(runtime: Runtime): App }>;
  screenshot(nonce: string | undefined): Promise<{ captureScreenshot: CaptureScreenshot }>;
  pow(nonce: string | undefined): Promise<{ solveChallenge: SolveChallenge }>;
  captcha(nonce: string | undefined): Promise<{ captchaToken: CaptchaToken }>;
};

/** What every session of one Parley object shares: it outlives restarts. */
export type Shared = { events: Events; visitor: Visitor; chunks: Chunks; report: Runtime['report'] };
