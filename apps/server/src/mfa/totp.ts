import { generateSecret, generateURI, verify } from 'otplib';
import type pg from 'pg';
import type { Tx } from '../db/tenant.js';
import type { Keyring } from '../keys/service.js';

// RFC 6238 as authenticator apps expect it: SHA-1, 6 digits, 30-second steps
// (otplib's defaults). A code of the step before or after now is accepted for
// clock drift (SECURITY.md: ±1 step), and every step only once.
const PERIOD_SECONDS = 30;

const sealedAt = (userId: string) => ({ table: 'totp_credentials', column: 'secret_enc', rowId: userId });

/** The time step of a 6-digit code within ±1 step of `now`, or null. */
async function matchStep(secret: string, code: string, now: Date): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const result = await verify({ secret, token: code, epoch: Math.floor(now.getTime() / 1000), epochTolerance: PERIOD_SECONDS });
  // otplib's result type covers HOTP too; a TOTP match always carries its step.
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}

/**
 * A new secret (160 bits, otplib's default), pending until a code from it is
 * confirmed; it replaces an earlier pending one. Null when the user already
 * has a confirmed secret.
 */
export async function startTotp(pool: pg.Pool, keyring: Keyring, user: { id: string; email: string }, now: Date): Promise<{ secret: string; otpauthUrl: string } | null> {
  const secret = generateSecret();
  const { rowCount } = await pool.query(
    `INSERT INTO totp_credentials (user_id, secret_enc, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, created_at = EXCLUDED.created_at, last_step = 0
      WHERE totp_credentials.confirmed_at IS NULL`,
    [user.id, keyring.sealSystem(secret, sealedAt(user.id)), now],
  );
  if (rowCount === 0) return null;
  return { secret, otpauthUrl: generateURI({ issuer: 'Parley', label: user.email, secret }) };
}

/**
 * Checks `code` against the user's secret (pending ones only when `pending`)
 * and records its step, so the same code, or one of an earlier step, is
 * refused afterwards (replay). The step is claimed in one conditional UPDATE:
 * two requests racing with one code cannot both win.
 */
async function acceptCode(tx: Tx | pg.Pool, keyring: Keyring, userId: string, code: string, now: Date, pending: boolean): Promise<boolean> {
  const { rows } = await tx.query<{ secret_enc: Buffer; last_step: string }>(
    `SELECT secret_enc, last_step FROM totp_credentials WHERE user_id = $1 AND (confirmed_at IS NULL) = $2`,
    [userId, pending],
  );
  if (!rows[0]) return false;
  const step = await matchStep(keyring.openSystem(rows[0].secret_enc, sealedAt(userId)), code, now);
  if (step === null || step <= Number(rows[0].last_step)) return false;
  const { rowCount } = await tx.query(
    `UPDATE totp_credentials SET last_step = $2, confirmed_at = coalesce(confirmed_at, $3) WHERE user_id = $1 AND last_step < $2 AND (confirmed_at IS NULL) = $4`,
    [userId, step, now, pending],
  );
  return rowCount === 1;
}

/** A code of the user's confirmed authenticator app (sign-in, re-authentication). */
export function checkTotp(pool: pg.Pool, keyring: Keyring, userId: string, code: string, now: Date): Promise<boolean> {
  return acceptCode(pool, keyring, userId, code, now, false);
}

/** Confirms the pending secret with a first code from the app. */
export function confirmTotp(tx: Tx, keyring: Keyring, userId: string, code: string, now: Date): Promise<boolean> {
  return acceptCode(tx, keyring, userId, code, now, true);
}

/** Removes the user's authenticator app, confirmed or pending; false when there was none confirmed. */
export async function removeTotp(tx: Tx, userId: string): Promise<boolean> {
  const { rows } = await tx.query<{ confirmed: boolean }>('DELETE FROM totp_credentials WHERE user_id = $1 RETURNING confirmed_at IS NOT NULL AS confirmed', [userId]);
  return rows[0]?.confirmed ?? false;
}

export async function totpStatus(pool: pg.Pool, userId: string): Promise<{ enabled: boolean; createdAt: Date | null }> {
  const { rows } = await pool.query<{ confirmed_at: Date }>('SELECT confirmed_at FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL', [userId]);
  return { enabled: rows.length > 0, createdAt: rows[0]?.confirmed_at ?? null };
}
