import type { ParleyEventName, ParleyEvents, ParleyHandler } from './public-types.js';

type AnyHandler = (payload: never) => unknown;

export type Events = {
  on<E extends ParleyEventName>(event: E, handler: ParleyHandler<E>): void;
  off<E extends ParleyEventName>(event: E, handler: ParleyHandler<E>): void;
  /** Calls every handler; one that throws goes to `onHandlerError` and does not stop the others. */
  emit<E extends ParleyEventName>(event: E, payload: ParleyEvents[E]): void;
  handlers<E extends ParleyEventName>(event: E): ParleyHandler<E>[];
  /** Forgets that `load` happened (a restart), and with `everything` the handlers too (destroy). */
  reset(everything: boolean): void;
};

export function createEvents(onHandlerError: (error: unknown) => void): Events {
  const handlers = new Map<ParleyEventName, Set<AnyHandler>>();
  // `load` is remembered: a handler added after it is called at once, so a
  // site need not race the widget.
  let loaded: ParleyEvents['load'] | undefined;

  const call = (handler: AnyHandler, payload: unknown) => {
    try {
      handler(payload as never);
    } catch (error) {
      onHandlerError(error);
    }
  };
  const list = (event: ParleyEventName) => [...(handlers.get(event) ?? [])];

  return {
    on(event, handler) {
      if (typeof handler !== 'function') return;
      handlers.set(event, (handlers.get(event) ?? new Set()).add(handler));
      if (event === 'load' && loaded) call(handler, loaded);
    },
    off: (event, handler) => handlers.get(event)?.delete(handler),
    emit(event, payload) {
      if (event === 'load') loaded = payload as ParleyEvents['load'];
      for (const handler of list(event)) call(handler, payload);
    },
    handlers: (event) => list(event) as never,
    reset(everything) {
      loaded = undefined;
      if (everything) handlers.clear();
    },
  };
}
