import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Tx } from '../db/tenant.js';

// 10 codes of 16 characters from a 32-character alphabet: 80 bits each
// (SECURITY.md asks for at least 50). Crockford's base32 alphabet leaves out
// I, L, O and U, so a code copied from paper reads back one way.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const CODE_LENGTH = 16;
export const RECOVERY_CODE_COUNT = 10;

function newRecoveryCode(): string {
  // 256 is a multiple of 32: masking a random byte to 5 bits keeps every character equally likely.
  const chars = [...randomBytes(CODE_LENGTH)].map((byte) => ALPHABET[byte & 31]).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/**
 * A code as typed: any case, with or without dashes and spaces; O, I and L
 * are read as the digits they look like. Null when it cannot be a code.
 */
export function normalizeRecoveryCode(input: string): string | null {
  const code = input.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
  return code.length === CODE_LENGTH && [...code].every((c) => ALPHABET.includes(c)) ? code : null;
}

function hashRecoveryCode(normalized: string): Buffer {
  return createHash('sha256').update(normalized).digest();
}

/** Voids the user's codes and stores 10 new ones (their hashes). The codes are shown once, from the answer. */
export async function replaceRecoveryCodes(tx: Tx, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await removeRecoveryCodes(tx, userId);
  await tx.query('INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::bytea[])', [
    userId,
    codes.map((code) => hashRecoveryCode(normalizeRecoveryCode(code)!)),
  ]);
  return codes;
}

/** Removes all the user's codes; answers how many of them were unused. */
export async function removeRecoveryCodes(tx: Tx, userId: string): Promise<number> {
  const { rows } = await tx.query<{ unused: string }>(
    'WITH gone AS (DELETE FROM recovery_codes WHERE user_id = $1 RETURNING used_at) SELECT count(*) FILTER (WHERE used_at IS NULL) AS unused FROM gone',
    [userId],
  );
  return Number(rows[0]!.unused);
}

/** Marks the code used if it is one of the user's unused codes; one statement, so it works once even under concurrency. */
export async function useRecoveryCode(pool: pg.Pool, userId: string, input: string, now: Date): Promise<boolean> {
  const normalized = normalizeRecoveryCode(input);
  if (!normalized) return false;
  const { rowCount } = await pool.query('UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL', [
    userId,
    hashRecoveryCode(normalized),
    now,
  ]);
  return rowCount === 1;
}

export async function countRecoveryCodesLeft(db: pg.Pool | Tx, userId: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
  return Number(rows[0]!.n);
}
