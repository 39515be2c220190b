// A token from the project's third-party captcha (reCAPTCHA v3, Cloudflare
// Turnstile or hCaptcha), for the server to check with the provider. Each
// provider's own script is loaded once, from its documented URL, with the
// page's CSP nonce; a lazily loaded chunk, only for projects that use one.
import { h } from '../dom.js';

export type CaptchaProvider = 'recaptcha' | 'turnstile' | 'hcaptcha';

export type CaptchaConfig = {
  provider: CaptchaProvider;
  siteKey: string;
  /** The action the server expects back (reCAPTCHA v3 and Turnstile report it). */
  action: string;
  /** The page's CSP nonce for the provider's <script> (the widget's `nonce` option). */
  nonce?: string;
};

/** Why no token came: the script did not load, the provider took too long, or the provider refused. */
export class CaptchaError extends Error {
  constructor(
    message: string,
    readonly reason: 'load' | 'timeout' | 'provider',
  ) {
    super(message);
    this.name = 'CaptchaError';
  }
}

/** A provider script neither loaded nor failed by then: most often blocked by the page's CSP without an error event. */
export const SCRIPT_TIMEOUT_MS = 15_000;
/**
 * From loaded script to token. Turnstile and hCaptcha may put a challenge in
 * front of the visitor, so this is generous; it stops a widget that never
 * calls back (its frame blocked by the page's frame-src) from hanging the send.
 */
export const TOKEN_TIMEOUT_MS = 120_000;

type Grecaptcha = { ready(callback: () => void): void; execute(siteKey: string, options: { action: string }): Promise<string> };
type TurnstileOptions = {
  sitekey: string;
  action: string;
  appearance: 'interaction-only';
  'response-field': false;
  callback(token: string): void;
  'error-callback'(code: string): boolean;
  'timeout-callback'(): void;
  'unsupported-callback'(): void;
};
type Turnstile = { render(container: HTMLElement, options: TurnstileOptions): string | undefined; remove(widgetId: string): void };
type Hcaptcha = {
  render(container: HTMLElement, options: { sitekey: string; size: 'invisible' }): string;
  execute(widgetId: string, options: { async: true }): Promise<{ response: string }>;
  remove(widgetId: string): void;
};
type ProviderWindow = Window & { grecaptcha?: Grecaptcha; turnstile?: Turnstile; hcaptcha?: Hcaptcha };

// Turnstile and hCaptcha call the function named by `onload=` once their API
// is set up (hCaptcha documents that its script's load event may come
// first); reCAPTCHA has grecaptcha.ready() for the same purpose.
const READY_CALLBACKS = { turnstile: 'parleyTurnstileReady', hcaptcha: 'parleyHcaptchaReady' } as const;

/** Each provider's documented script URL, in the form that lets us render and execute explicitly. */
export function scriptUrl({ provider, siteKey }: CaptchaConfig): string {
  switch (provider) {
    case 'recaptcha':
      return `https://www.google.com/recaptcha/api.js?render=${encodeURIComponent(siteKey)}`;
    case 'turnstile':
      return `https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit&onload=${READY_CALLBACKS.turnstile}`;
    case 'hcaptcha':
      return `https://js.hcaptcha.com/1/api.js?render=explicit&onload=${READY_CALLBACKS.hcaptcha}`;
  }
}

// One load per URL for the page's lifetime; a failed load is forgotten so
// the next send tries again.
const loads = new Map<string, Promise<void>>();

function loadScript(config: CaptchaConfig): Promise<void> {
  const src = scriptUrl(config);
  let load = loads.get(src);
  if (!load) {
    load = new Promise<void>((resolve, reject) => {
      const script = h('script', { src, async: true, nonce: config.nonce });
      const readyCallback = config.provider === 'recaptcha' ? undefined : READY_CALLBACKS[config.provider];
      const globals = window as unknown as Record<string, unknown>;
      const settle = () => {
        clearTimeout(timer);
        if (readyCallback) delete globals[readyCallback];
      };
      const fail = (error: CaptchaError) => {
        settle();
        script.remove();
        loads.delete(src);
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new CaptchaError(`${new URL(src).host} did not load within ${SCRIPT_TIMEOUT_MS / 1000} s (blocked by the page's Content-Security-Policy?)`, 'timeout')),
        SCRIPT_TIMEOUT_MS,
      );
      const ready = () => {
        settle();
        resolve();
      };
      if (readyCallback) globals[readyCallback] = ready;
      else script.onload = ready;
      script.onerror = () => fail(new CaptchaError(`${src} did not load (blocked by the page's Content-Security-Policy or the network)`, 'load'));
      document.head.append(script);
    });
    loads.set(src, load);
  }
  return load;
}

function providerGlobal<K extends 'grecaptcha' | 'turnstile' | 'hcaptcha'>(name: K): NonNullable<ProviderWindow[K]> {
  const value = (window as ProviderWindow)[name];
  if (!value) throw new CaptchaError(`the provider's script loaded but defined no window.${name}`, 'load');
  return value as NonNullable<ProviderWindow[K]>;
}

function recaptchaToken({ siteKey, action }: CaptchaConfig): Promise<string> {
  const grecaptcha = providerGlobal('grecaptcha');
  return new Promise<string>((resolve, reject) => {
    grecaptcha.ready(() => {
      // execute() throws rather than rejects for some mistakes (a key not loaded by api.js): either way, a refusal.
      Promise.resolve()
        .then(() => grecaptcha.execute(siteKey, { action }))
        .then(resolve, (error: unknown) => reject(new CaptchaError(`reCAPTCHA refused: ${String(error)}`, 'provider')));
    });
  });
}

/** Renders into a slot of its own inside `container`, removed (with the provider's widget) when done. */
function turnstileToken({ siteKey, action }: CaptchaConfig, slot: HTMLElement, onCleanup: (cleanup: () => void) => void): Promise<string> {
  const turnstile = providerGlobal('turnstile');
  return new Promise<string>((resolve, reject) => {
    const widgetId = turnstile.render(slot, {
      sitekey: siteKey,
      action,
      // Shown only when Cloudflare wants the visitor to interact.
      appearance: 'interaction-only',
      // The token comes through the callback; no hidden <input> in our form.
      'response-field': false,
      callback: resolve,
      // Returning true tells Turnstile the error is handled (no console throw); the send reports it.
      'error-callback': (code) => {
        reject(new CaptchaError(`Turnstile refused (error ${code})`, 'provider'));
        return true;
      },
      'timeout-callback': () => reject(new CaptchaError('the Turnstile challenge timed out', 'timeout')),
      'unsupported-callback': () => reject(new CaptchaError('Turnstile does not support this browser', 'provider')),
    });
    if (widgetId !== undefined) onCleanup(() => turnstile.remove(widgetId));
  });
}

function hcaptchaToken({ siteKey }: CaptchaConfig, slot: HTMLElement, onCleanup: (cleanup: () => void) => void): Promise<string> {
  const hcaptcha = providerGlobal('hcaptcha');
  const widgetId = hcaptcha.render(slot, { sitekey: siteKey, size: 'invisible' });
  onCleanup(() => hcaptcha.remove(widgetId));
  // Rejects with the provider's error string (challenge-closed, challenge-expired, ...).
  return hcaptcha.execute(widgetId, { async: true }).then(
    ({ response }) => response,
    (error: unknown) => Promise.reject(new CaptchaError(`hCaptcha refused: ${String(error)}`, 'provider')),
  );
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The captcha was cancelled', 'AbortError');
}

/**
 * Asks the project's provider for a token. `container` is an element inside
 * the widget's shadow DOM where Turnstile and hCaptcha may render when they
 * need the visitor; it is left as found. Rejects with a CaptchaError (or the
 * signal's reason when aborted).
 */
export async function captchaToken(config: CaptchaConfig, container: HTMLElement, signal?: AbortSignal): Promise<string> {
  signal?.throwIfAborted();
  const cleanups: (() => void)[] = [];
  const slot = h('div', { class: 'captcha' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const token = new Promise<string>((resolve, reject) => {
      onAbort = () => reject(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      const run = async () => {
        await loadScript(config);
        signal?.throwIfAborted();
        timer = setTimeout(() => reject(new CaptchaError(`no ${config.provider} token within ${TOKEN_TIMEOUT_MS / 1000} s`, 'timeout')), TOKEN_TIMEOUT_MS);
        if (config.provider === 'recaptcha') return recaptchaToken(config);
        container.append(slot);
        const onCleanup = (cleanup: () => void) => cleanups.push(cleanup);
        return config.provider === 'turnstile' ? turnstileToken(config, slot, onCleanup) : hcaptchaToken(config, slot, onCleanup);
      };
      // render() throws for a malformed site key: reported like any other refusal.
      run().then(resolve, (error: unknown) => reject(error instanceof CaptchaError ? error : new CaptchaError(`${config.provider} failed: ${String(error)}`, 'provider')));
    });
    const value = await token;
    if (!value) throw new CaptchaError(`${config.provider} answered an empty token`, 'provider');
    return value;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    for (const cleanup of cleanups) {
      try {
        cleanup();
      } catch {
        // The provider's widget already went away with its iframe; nothing left to remove.
      }
    }
    slot.remove();
  }
}
