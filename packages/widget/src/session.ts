// The session chunk: loaded by the loader in parallel with the project's
// settings. It shows the launcher where the display rules allow, starts the
// opt-in error capture, and loads the dialog chunk when it is needed.
import type { ProjectConfig } from './config.js';
import { watchConsoleErrors } from './console-errors.js';
import { isShownHere, noteShown } from './display-rules.js';
import { createHost } from './host.js';
import { createLauncher } from './launcher.js';
import { pickLocale } from './locale.js';
import type { ConsoleError } from './public-types.js';
import type { App, OpenTrigger, Runtime, Shared, StartOptions } from './runtime.js';
import { createStore } from './storage.js';

export type Session = { open(trigger: OpenTrigger): void; close(): void; stop(): void };

export function startSession(options: StartOptions, config: Promise<ProjectConfig>, { events, visitor, chunks, report }: Shared): Session {
  const { project, nonce } = options;
  const store = createStore(project, options.storage);
  const host = createHost();
  const consoleErrors: ConsoleError[] = [];
  let stopWatchingErrors = () => {};
  let autoOpenTimer: ReturnType<typeof setTimeout> | undefined;
  let runtime: Runtime | undefined;
  let app: Promise<App | void> | undefined;
  // open() before the settings arrived: done once they are here.
  let requested: OpenTrigger | undefined;
  let isStopped = false;

  const loadApp = () =>
    (app ??= chunks.dialog(nonce).then(
      (module) => (isStopped ? undefined : module.startApp(runtime!)),
      () => {
        app = undefined;
        report('widget_load_failed', 'The feedback dialog did not load.');
      },
    ));

  const open = (trigger: OpenTrigger) => {
    if (!runtime) {
      requested = trigger;
      return;
    }
    host.attach();
    void loadApp().then((started) => started?.open(trigger));
  };

  const start = ({ settings, protection }: ProjectConfig) => {
    if (isStopped) return;
    const locale = pickLocale(settings.locale);
    const { root } = host;
    root.dataset.theme = settings.theme;
    root.style.setProperty('--accent', settings.launcher.color);
    root.style.setProperty('--accent-text', settings.launcher.textColor);
    const isShown = isShownHere(settings.display, store, location.pathname, Date.now());
    const label = options.texts?.launcher || settings.launcher.label || settings.texts.launcher;
    const launcher = isShown && options.launcher !== false ? createLauncher(settings.launcher.position, label || locale, () => open('launcher')) : null;
    runtime = { options, settings, protection, locale, store, host, launcher, events, visitor, consoleErrors, loadScreenshot: () => chunks.screenshot(nonce), loadPow: () => chunks.pow(nonce), loadCaptcha: () => chunks.captcha(nonce), report };
    if (settings.context.consoleErrors) stopWatchingErrors = watchConsoleErrors(consoleErrors);
    if (launcher) {
      // A pointer or focus on the launcher announces a click: the dialog chunk
      // is fetched and the (closed) dialog built now, in tasks of their own,
      // so the click itself only shows it.
      const prepare = () => void loadApp().then((started) => setTimeout(() => started?.prepare()));
      for (const intent of ['pointerenter', 'focus']) launcher.addEventListener(intent, prepare, { once: true });
      root.append(launcher);
      host.attach();
      noteShown(settings.display, store);
    }
    const seconds = settings.display.autoOpenSeconds;
    if (isShown && seconds !== null) {
      autoOpenTimer = setTimeout(() => {
        if (!launcher) noteShown(settings.display, store);
        open('auto');
      }, seconds * 1000);
    }
    // Feedback a previous page could not deliver: the dialog chunk retries it.
    if (store.get('queue')) void loadApp();
    events.emit('load', { project });
    if (requested) open(requested);
  };

  config.then(start, (error: unknown) => {
    if (!isStopped) {
      report('config_failed', `The project's settings did not load (${String(error)}): check the project key, that this site is in the project's allowed domains, and that ${options.apiOrigin} is reachable.`);
    }
  });

  return {
    open,
    close() {
      requested = undefined;
      void app?.then((started) => started?.close());
    },
    stop() {
      isStopped = true;
      clearTimeout(autoOpenTimer);
      stopWatchingErrors();
      void app?.then((started) => started?.destroy());
      host.remove();
      events.reset(false);
    },
  };
}
