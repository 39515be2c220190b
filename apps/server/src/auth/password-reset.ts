import type { Context } from '../context.js';
import { withoutTenant } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { queueMail } from '../mail/mailer.js';
import { normalizeEmail, setPassword, type User } from '../users/service.js';
import { recordAttempt, type AttemptClient } from './attempts.js';
import { passwordChangedMail, passwordResetMail } from './notices.js';
import { auditForUser } from './service.js';
import { endUserSessions } from './sessions.js';
import { hashToken, newSecretToken } from './tokens.js';

// ASVS 6.4.1: a 256-bit token, stored hashed, single use, 30 minutes.
export const RESET_TTL_MS = 30 * 60_000;
// Nobody can turn the form into a way to flood someone's mailbox, nor, from
// one address, everybody's.
export const RESET_MAILS_PER_HOUR = 3;
export const RESET_REQUESTS_PER_IP_HOUR = 30;
const HOUR_MS = 60 * 60_000;

const TRACKED_MAX = 10_000;

/**
 * Reset requests per client address in the last hour, counted in memory:
 * each instance counts its own, which bounds mail per address well enough
 * without a table. The map is bounded: when full, lapsed addresses go, then
 * the oldest (first counted, so closest to lapsing anyway).
 */
export class ResetRequestCounter {
  private readonly counts = new Map<string, { since: number; n: number }>();

  /** Counts a request from `ip`; false once the address is over the hourly limit. */
  take(ip: string, now: Date): boolean {
    const t = now.getTime();
    if (this.counts.size >= TRACKED_MAX) {
      for (const [key, entry] of this.counts) if (t - entry.since >= HOUR_MS) this.counts.delete(key);
      for (const key of this.counts.keys()) {
        if (this.counts.size < TRACKED_MAX / 2) break;
        this.counts.delete(key);
      }
    }
    const entry = this.counts.get(ip);
    if (!entry || t - entry.since >= HOUR_MS) {
      this.counts.set(ip, { since: t, n: 1 });
      return true;
    }
    entry.n++;
    return entry.n <= RESET_REQUESTS_PER_IP_HOUR;
  }
}

/**
 * Mails a reset link when the address has an account and has not had
 * RESET_MAILS_PER_HOUR of them in the last hour, and the client is within
 * RESET_REQUESTS_PER_IP_HOUR; otherwise does nothing.
 * The caller answers the same either way, and both ways do the same reads in
 * one transaction. The known case's writes do not wait for the WAL flush, so
 * the two differ by two small inserts, not by a disk flush that timing could
 * tell apart (a crash in that instant loses one reset mail: ask again).
 */
export async function requestPasswordReset(ctx: Context, counter: ResetRequestCounter, email: string, ip: string): Promise<void> {
  const now = ctx.clock.now();
  // Over the limit the answer is the same; skipping the work depends on the
  // address only, never on the account, so its timing tells nothing.
  if (!counter.take(ip, now)) return;
  const { token, hash } = newSecretToken();
  await withoutTenant(ctx.db.app, async (tx) => {
    await tx.query('SET LOCAL synchronous_commit = off');
    const { rows } = await tx.query<User & { recent: string }>(
      `SELECT u.id, u.email, u.name, (SELECT count(*) FROM password_resets r WHERE r.user_id = u.id AND r.created_at > $2) AS recent
         FROM users u WHERE u.email = $1`,
      [normalizeEmail(email), new Date(now.getTime() - HOUR_MS)],
    );
    const user = rows[0];
    if (!user || Number(user.recent) >= RESET_MAILS_PER_HOUR) return;
    await tx.query('INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
      hash, user.id, now, new Date(now.getTime() + RESET_TTL_MS),
    ]);
    // In the fragment: never sent to a server, so never in an access log or a Referer.
    const link = `${ctx.config.publicUrl.origin}/reset-password#token=${token}`;
    await queueMail(tx, ctx.keyring, passwordResetMail(user.email, link, RESET_TTL_MS / 60_000), now);
  });
}

/**
 * Sets a new password with a reset token: every token of the user is spent
 * and every session ends (whoever knew the old password is signed out). The
 * password policy is checked before anything changes, so a refused password
 * leaves the token usable. MFA still applies at the next login.
 */
export async function resetPassword(ctx: Context, token: string, password: string, client: AttemptClient): Promise<void> {
  const pool = ctx.db.app;
  const now = ctx.clock.now();
  const user = await withoutTenant(pool, async (tx) => {
    const { rows } = await tx.query<User>(
      `SELECT u.id, u.email, u.name FROM password_resets r JOIN users u ON u.id = r.user_id
        WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 FOR UPDATE OF r`,
      [hashToken(token), now],
    );
    const found = rows[0];
    if (!found) throw new AppError('token_invalid', 'This reset link is invalid, used or expired. Ask for a new one.');
    await setPassword(tx, found, password);
    await tx.query('UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL', [found.id, now]);
    await endUserSessions(tx, found.id);
    await queueMail(tx, ctx.keyring, passwordChangedMail(found.email, 'reset', now), now);
    return found;
  });
  // Not a completed sign-in (reason set): the account's failure count stands,
  // or a reset every few guesses would clear the way to guessing codes.
  await recordAttempt(pool, { email: user.email, userId: user.id, method: 'reset', client }, 'success', 'password_reset', now);
  await auditForUser(pool, user.id, { type: 'user', id: user.id, label: user.email, ip: client.ip }, { action: 'password.reset', target: { type: 'user', id: user.id } }, now);
}
