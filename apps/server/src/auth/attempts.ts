import type pg from 'pg';
import { AppError } from '../errors.js';

// Brute-force limits (SECURITY.md): per account, 5 failures in 15 minutes
// start an exponential delay and 10 lock it for 15 minutes; per IP, 100
// failures in 15 minutes block it for an hour. Counted in PostgreSQL so every
// instance sees the same numbers.
export const ACCOUNT_WINDOW_MS = 15 * 60_000;
export const ACCOUNT_DELAY_AFTER = 5;
export const ACCOUNT_LOCK_AFTER = 10;
export const ACCOUNT_LOCK_MS = 15 * 60_000;
export const IP_WINDOW_MS = 15 * 60_000;
export const IP_BLOCK_AFTER = 100;
export const IP_BLOCK_MS = 60 * 60_000;

export const ATTEMPT_METHODS = ['password', 'totp', 'webauthn', 'recovery', 'reset', 'invite'] as const;
export const ATTEMPT_RESULTS = ['success', 'failure', 'blocked'] as const;
export type AttemptMethod = (typeof ATTEMPT_METHODS)[number];
export type AttemptResult = (typeof ATTEMPT_RESULTS)[number];
export type AttemptClient = { ip: string; userAgent: string | undefined };

export type Attempt = {
  /** The account's normalised e-mail, or the address typed when no account has it. */
  email: string;
  userId: string | null;
  method: AttemptMethod;
  client: AttemptClient;
};

/**
 * Refuses an attempt while the account or the IP is locked, blocked or in its
 * delay, before any password hash is computed. The refusal is the same for
 * known and unknown e-mails and for right and wrong passwords; it is logged
 * as 'blocked' and does not extend the lock.
 */
export async function assertAttemptAllowed(pool: pg.Pool, attempt: Attempt, now: Date): Promise<void> {
  const { rows } = await pool.query<{ kind: 'account' | 'ip'; until: Date }>(
    `SELECT kind, until FROM login_blocks WHERE ((kind = 'account' AND key = $1) OR (kind = 'ip' AND key = $2)) AND until > $3 ORDER BY until DESC LIMIT 1`,
    [attempt.email, attempt.client.ip, now],
  );
  let waitMs = rows[0] ? rows[0].until.getTime() - now.getTime() : 0;
  let reason = rows[0] ? `${rows[0].kind === 'ip' ? 'ip_blocked' : 'account_locked'}` : null;
  if (!reason) {
    const { failures, last } = await recentFailures(pool, attempt.email, now);
    if (failures >= ACCOUNT_DELAY_AFTER && last) {
      const nextAt = last.getTime() + 1000 * 2 ** (failures - ACCOUNT_DELAY_AFTER);
      if (nextAt > now.getTime()) {
        waitMs = nextAt - now.getTime();
        reason = 'account_delayed';
      }
    }
  }
  if (!reason) return;
  await insertAttempt(pool, attempt, 'blocked', reason, now);
  throw new AppError('too_many_attempts', `Too many attempts. Try again in ${describeWait(waitMs)}.`, waitMs / 1000);
}

function describeWait(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/**
 * Failures on the account in the window since its last completed sign-in.
 * A right password with the second factor still due ('second_factor_due')
 * does not reset the count, or knowing the password would allow endless
 * guessing of codes.
 */
async function recentFailures(pool: pg.Pool, email: string, now: Date): Promise<{ failures: number; last: Date | null }> {
  const { rows } = await pool.query<{ failures: string; last: Date | null }>(
    `SELECT count(*) AS failures, max(at) AS last FROM login_attempts
      WHERE email = $1 AND result = 'failure' AND at > $2
        AND at > coalesce((SELECT max(at) FROM login_attempts WHERE email = $1 AND result = 'success' AND reason IS NULL), '-infinity')`,
    [email, new Date(now.getTime() - ACCOUNT_WINDOW_MS)],
  );
  return { failures: Number(rows[0]!.failures), last: rows[0]!.last };
}

export type AttemptOutcome = {
  /** This failure locked the account: the caller audits it and tells the owner. */
  locked: boolean;
};

/** Logs an attempt; a failure may lock the account or block the IP. */
export async function recordAttempt(pool: pg.Pool, attempt: Attempt, result: 'success' | 'failure', reason: string | null, now: Date): Promise<AttemptOutcome> {
  await insertAttempt(pool, attempt, result, reason, now);
  if (result === 'success') return { locked: false };
  const { failures } = await recentFailures(pool, attempt.email, now);
  const locked = failures >= ACCOUNT_LOCK_AFTER;
  if (locked) await block(pool, 'account', attempt.email, new Date(now.getTime() + ACCOUNT_LOCK_MS));
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM login_attempts WHERE ip = $1 AND result = 'failure' AND at > $2`,
    [attempt.client.ip, new Date(now.getTime() - IP_WINDOW_MS)],
  );
  if (Number(rows[0]!.n) >= IP_BLOCK_AFTER) await block(pool, 'ip', attempt.client.ip, new Date(now.getTime() + IP_BLOCK_MS));
  return { locked };
}

async function block(pool: pg.Pool, kind: 'account' | 'ip', key: string, until: Date): Promise<void> {
  await pool.query(
    `INSERT INTO login_blocks (kind, key, until) VALUES ($1, $2, $3) ON CONFLICT (kind, key) DO UPDATE SET until = EXCLUDED.until`,
    [kind, key, until],
  );
}

async function insertAttempt(pool: pg.Pool, attempt: Attempt, result: AttemptResult, reason: string | null, now: Date): Promise<void> {
  await pool.query(
    `INSERT INTO login_attempts (at, user_id, email, ip, user_agent, method, result, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [now, attempt.userId, attempt.email.slice(0, 254), attempt.client.ip, attempt.client.userAgent?.slice(0, 500) ?? null, attempt.method, result, reason],
  );
}
