import type { Identity } from '../public-types.js';
import type { Runtime } from '../runtime.js';
import type { Store } from '../storage.js';
import { deliver, type Delivery, type Parcel, type Problem } from './delivery.js';
import type { Prover } from './proof.js';
import { eventData } from './submission.js';

/** limited: a rate limit, the feedback was not kept (the visitor is told when to try again). */
export type Outcome = { kind: 'stored' } | { kind: 'queued' } | { kind: 'limited'; afterMs: number; problem: Problem } | { kind: 'refused'; problem: Problem };
export type Outbox = { send(parcel: Parcel): Promise<Outcome> };

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 5 * 60_000;
/** Older queued feedback is dropped instead of arriving out of context. */
const KEEP_MS = 7 * 86_400_000;
const MAX_QUEUED = 20;

type StoredParcel = Omit<Parcel, 'screenshot'>;

function readQueue(store: Store, now: number): Parcel[] {
  try {
    const stored = JSON.parse(store.get('queue') ?? '[]') as StoredParcel[];
    return stored
      .filter((parcel) => typeof parcel?.key === 'string' && typeof parcel.body?.message === 'string' && now - parcel.queuedAt < KEEP_MS)
      .map((parcel) => ({ ...parcel, screenshot: null }));
  } catch {
    return [];
  }
}

/**
 * A signed-submission token lives at most 10 minutes, so feedback queued
 * longer would be refused: it goes with the token the site gave since, when
 * that is for the same user.
 */
function refreshToken({ body }: Parcel, current: Identity | null): void {
  const token = current?.token;
  if (body.identity && current?.id === body.identity.id && typeof token === 'string' && token !== '' && token.length <= 200) body.identity.token = token;
}

/**
 * Nothing lost: a feedback the server could not take (offline, 408, 429, 5xx)
 * waits here and is retried with exponential backoff, at once when the
 * browser comes back online, and on the next page load (localStorage, unless
 * storage is 'none'). Every retry carries the parcel's Idempotency-Key and
 * a proof (challenge or captcha) made for that attempt. After a 429 nothing is
 * sent until its Retry-After has passed.
 */
export function createOutbox(runtime: Runtime, prover: Prover): Outbox & { stop(): void } {
  const { options, store, events, report } = runtime;
  const waiting = readQueue(store, Date.now());
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let isFlushing = false;
  let isStopped = false;
  let limit: { until: number; problem: Problem } | null = null;

  const attempt = async (parcel: Parcel): Promise<Delivery> => {
    refreshToken(parcel, runtime.visitor.identity);
    const delivery = await deliver(options.apiOrigin, options.project, parcel, prover.next);
    if (delivery.kind === 'limited') limit = { until: Date.now() + delivery.afterMs, problem: delivery.problem };
    return delivery;
  };
  /** The 429 still in force, with how long it lasts. */
  const activeLimit = () => (limit && limit.until > Date.now() ? { afterMs: limit.until - Date.now(), problem: limit.problem } : null);

  const persist = () => {
    // Screenshots stay in memory (too big for localStorage): feedback
    // delivered on a later page load goes without its screenshot unless it
    // was uploaded already.
    const stored: StoredParcel[] = waiting.map(({ key, body, queuedAt }) => ({ key, body, queuedAt }));
    if (stored.length > 0) store.set('queue', JSON.stringify(stored));
    else store.remove('queue');
  };

  const settle = (parcel: Parcel, delivery: Extract<Delivery, { kind: 'stored' | 'refused' }>) => {
    if (delivery.kind === 'stored') events.emit('submit', { id: delivery.id, feedback: eventData(parcel.body, parcel.screenshot, options) });
    else report(delivery.problem.code, delivery.problem.detail);
  };

  const retryLater = (afterMs: number) => {
    clearTimeout(timer);
    const backoff = Math.min(FIRST_RETRY_MS * 2 ** failures++, MAX_RETRY_MS);
    timer = setTimeout(flush, Math.max(afterMs, backoff));
  };

  async function flush(): Promise<void> {
    if (isFlushing || isStopped) return;
    isFlushing = true;
    clearTimeout(timer);
    try {
      const limited = activeLimit();
      if (limited && waiting.length > 0) {
        retryLater(limited.afterMs);
        return;
      }
      for (const parcel of [...waiting]) {
        const delivery = await attempt(parcel);
        if (isStopped) return;
        if (delivery.kind === 'retry' || delivery.kind === 'limited') {
          persist(); // keeps a screenshot id uploaded meanwhile
          retryLater(delivery.afterMs);
          return;
        }
        waiting.splice(waiting.indexOf(parcel), 1);
        persist();
        failures = 0;
        settle(parcel, delivery);
      }
    } finally {
      isFlushing = false;
    }
  }

  const onOnline = () => void flush();
  addEventListener('online', onOnline);
  persist(); // drops what expired
  void flush();

  return {
    async send(parcel) {
      // Asking again during a rate limit would only be refused (and counted).
      const limited = activeLimit();
      if (limited) return { kind: 'limited', ...limited };
      const delivery = await attempt(parcel);
      if (delivery.kind === 'limited') {
        report(delivery.problem.code, delivery.problem.detail);
        return delivery;
      }
      if (delivery.kind === 'retry') {
        waiting.push(parcel);
        if (waiting.length > MAX_QUEUED) waiting.shift();
        persist();
        if (!isFlushing) retryLater(delivery.afterMs);
        return { kind: 'queued' };
      }
      settle(parcel, delivery);
      return delivery.kind === 'stored' ? { kind: 'stored' } : delivery;
    },
    stop() {
      isStopped = true;
      clearTimeout(timer);
      removeEventListener('online', onOnline);
    },
  };
}
