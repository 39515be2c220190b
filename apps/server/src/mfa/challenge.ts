import type pg from 'pg';

// A WebAuthn challenge lives on the session that asked for it, so it is bound
// to that browser and cannot be used from another one. The purpose is stored
// with it: a registration challenge never passes as a sign-in challenge.
export type ChallengePurpose = 'register' | 'authenticate';

export const CHALLENGE_MS = 5 * 60_000;

export async function saveChallenge(pool: pg.Pool, sessionHash: Buffer, purpose: ChallengePurpose, challenge: string, now: Date): Promise<void> {
  await pool.query('UPDATE sessions SET challenge = $2, challenge_expires_at = $3 WHERE id_hash = $1', [
    sessionHash,
    `${purpose}:${challenge}`,
    new Date(now.getTime() + CHALLENGE_MS),
  ]);
}

/**
 * The session's challenge for `purpose`, cleared in the same statement so it
 * is used once (two concurrent verifications cannot both get it). Null when
 * there is none, it is for another purpose, or it expired.
 */
export async function takeChallenge(pool: pg.Pool, sessionHash: Buffer, purpose: ChallengePurpose, now: Date): Promise<string | null> {
  const { rows } = await pool.query<{ challenge: string | null; expires_at: Date | null }>(
    `UPDATE sessions s SET challenge = NULL, challenge_expires_at = NULL
       FROM (SELECT id_hash, challenge, challenge_expires_at FROM sessions WHERE id_hash = $1 FOR UPDATE) old
      WHERE s.id_hash = old.id_hash
      RETURNING old.challenge, old.challenge_expires_at AS expires_at`,
    [sessionHash],
  );
  const row = rows[0];
  if (!row?.challenge || !row.expires_at || row.expires_at <= now) return null;
  const prefix = `${purpose}:`;
  return row.challenge.startsWith(prefix) ? row.challenge.slice(prefix.length) : null;
}
