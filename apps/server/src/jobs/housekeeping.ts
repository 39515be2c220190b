import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { Clock } from '../context.js';
import { IDEMPOTENCY_TTL_MS } from '../http/idempotency.js';

const INTERVAL_MS = 10 * 60_000;
const DAY_MS = 24 * 3_600_000;
// Finished jobs are kept a week for "was it sent?" questions, then dropped.
const OUTBOX_KEEP_MS = 7 * DAY_MS;
// The Protection page shows a day; a month leaves room to compare.
const REFUSALS_KEEP_MS = 30 * DAY_MS;

/**
 * Deletes what has expired: sessions past their timeouts, reset tokens older
 * than an hour (they expire after 30 minutes), lapsed login blocks, login-log
 * rows older than the retention, finished outbox jobs, used challenges,
 * lapsed rate-limit windows, month-old refusal counts, day-old
 * Idempotency-Key answers, and dispatched events with their webhook
 * deliveries and attempts once the delivery log's retention is over.
 * Every statement is idempotent, so any number of
 * instances may run it.
 */
export async function sweepExpired(pool: pg.Pool, now: Date, retention: Pick<Config, 'loginLogDays' | 'webhooks'>): Promise<Record<string, number>> {
  const statements: Record<string, [string, unknown[]]> = {
    sessions: ['DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at + make_interval(secs => idle_ms / 1000.0) <= $1', [now]],
    // Kept an hour after they were asked for: the cap on reset mails per account counts them.
    passwordResets: ['DELETE FROM password_resets WHERE created_at <= $1', [new Date(now.getTime() - 3_600_000)]],
    loginBlocks: ['DELETE FROM login_blocks WHERE until <= $1', [now]],
    loginAttempts: ['DELETE FROM login_attempts WHERE at < $1', [new Date(now.getTime() - retention.loginLogDays * DAY_MS)]],
    outbox: ['DELETE FROM outbox WHERE coalesce(done_at, failed_at) < $1', [new Date(now.getTime() - OUTBOX_KEEP_MS)]],
    sharedKeys: ['DELETE FROM shared_keys WHERE expires_at <= $1', [now]],
    // rate-limiter-flexible stamps its windows with the real time in milliseconds, not our clock.
    rateLimits: ['DELETE FROM rate_limits WHERE expire < $1', [Date.now()]],
    refusals: ['SELECT * FROM delete_refusals_before($1)', [new Date(now.getTime() - REFUSALS_KEEP_MS)]],
    idempotencyKeys: ['DELETE FROM idempotency_keys WHERE created_at <= $1', [new Date(now.getTime() - IDEMPOTENCY_TTL_MS)]],
    // Across organizations, through a narrow SECURITY DEFINER function; events with a delivery still due stay.
    webhookHistory: ['SELECT * FROM delete_webhook_history_before($1)', [new Date(now.getTime() - retention.webhooks.logDays * DAY_MS)]],
  };
  const deleted: Record<string, number> = {};
  for (const [name, [sql, params]] of Object.entries(statements)) {
    deleted[name] = (await pool.query(sql, params)).rowCount ?? 0;
  }
  return deleted;
}

/** Runs sweepExpired every ten minutes in the background. */
export function startHousekeeping(pool: pg.Pool, clock: Clock, retention: Pick<Config, 'loginLogDays' | 'webhooks'>, log: FastifyBaseLogger): () => void {
  const timer = setInterval(() => {
    sweepExpired(pool, clock.now(), retention)
      .then((deleted) => log.debug({ deleted }, 'housekeeping'))
      .catch((error) => log.error({ err: error }, 'housekeeping failed'));
  }, INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
