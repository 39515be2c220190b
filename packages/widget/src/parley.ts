import { fetchConfig } from './config.js';
import { createEvents } from './events.js';
import type { Parley, WidgetOptions } from './public-types.js';
import type { Chunks, Visitor } from './runtime.js';
import type { Session } from './session.js';

/**
 * The API object behind window.Parley and the npm module. `defaults` are the
 * script tag's data-* options; init() options win over them.
 */
export function createParley(chunks: Chunks, defaults: Partial<WidgetOptions> = {}): Parley {
  // The host page's console is not ours: one warning at most, and none when
  // the site listens for `error` itself.
  let hasWarned = false;
  const warnOnce = (...details: unknown[]) => {
    if (!hasWarned) console.warn('[parley]', ...details);
    hasWarned = true;
  };
  const events = createEvents((error) => warnOnce('an event handler threw:', error));
  const report = (code: string, message: string) => {
    events.emit('error', { code, message });
    if (events.handlers('error').length === 0) warnOnce(`${message} (${code})`);
  };
  // Kept as given; checked against the server's limits when a feedback is
  // sent (dialog/submission.ts). No prototype, so a "__proto__" key is inert.
  const visitor: Visitor = { identity: null, metadata: Object.create(null) };
  let session: Promise<Session | void> | undefined;

  const stop = () => {
    void session?.then((started) => started?.stop());
    session = undefined;
  };
  const whenStarted = (task: (started: Session) => void) => void session?.then((started) => started && task(started));

  return Object.freeze({
    init(given: WidgetOptions) {
      stop();
      const options = { ...defaults, ...given };
      const { project, apiOrigin } = options;
      if (!project || !apiOrigin) return report('invalid_options', 'init() needs project and apiOrigin.');
      // Both at once: the project's settings and the code that shows them.
      const config = fetchConfig(apiOrigin, project);
      config.catch(() => {}); // the session reports it; this keeps it from counting as unhandled meanwhile
      session = chunks.session(options.nonce).then(
        (module) => module.startSession({ ...options, apiOrigin }, config, { events, visitor, chunks, report }),
        () => report('widget_load_failed', 'The widget did not load.'),
      );
    },
    open() {
      if (session) whenStarted((started) => started.open('api'));
      else report('not_initialized', 'Call init() first.');
    },
    close: () => whenStarted((started) => started.close()),
    on: events.on,
    off: events.off,
    identify(identity) {
      visitor.identity = identity ?? null;
    },
    setMetadata(metadata) {
      Object.assign(visitor.metadata, metadata);
    },
    destroy() {
      stop();
      events.reset(true);
      visitor.identity = null;
      visitor.metadata = Object.create(null);
    },
  } satisfies Parley);
}
