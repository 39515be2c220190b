import type pg from 'pg';
import { withoutTenant } from '../db/tenant.js';
import { hashToken, newSecretToken } from './tokens.js';

export const SESSION_COOKIE = '__Host-parley_session';

export type SessionPolicy = { idleMs: number; absoluteMs: number };

export type SessionUser = { sessionHash: Buffer; userId: string; email: string; name: string };

// last_seen_at is written at most once a minute per session, so busy
// dashboards do not turn every read into a write.
const TOUCH_INTERVAL_MS = 60_000;

export async function createSession(pool: pg.Pool, userId: string, now: Date, policy: SessionPolicy, client: { ip: string; userAgent: string | undefined }): Promise<string> {
  const { token, hash } = newSecretToken();
  await pool.query(
    'INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent) VALUES ($1, $2, $3, $3, $4, $5, $6)',
    [hash, userId, now, new Date(now.getTime() + policy.absoluteMs), client.ip, client.userAgent?.slice(0, 500) ?? null],
  );
  return token;
}

/** The session's user, or null when the token is unknown, idle too long or past its absolute lifetime. */
export async function findSession(pool: pg.Pool, token: string, now: Date, policy: SessionPolicy): Promise<SessionUser | null> {
  if (token.length !== 43) return null;
  const hash = hashToken(token);
  return withoutTenant(pool, async (tx) => {
    const { rows } = await tx.query<{ user_id: string; email: string; name: string; last_seen_at: Date; expires_at: Date }>(
      'SELECT s.user_id, u.email, u.name, s.last_seen_at, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1',
      [hash],
    );
    const row = rows[0];
    if (!row) return null;
    if (now >= row.expires_at || now.getTime() - row.last_seen_at.getTime() >= policy.idleMs) {
      await tx.query('DELETE FROM sessions WHERE id_hash = $1', [hash]);
      return null;
    }
    if (now.getTime() - row.last_seen_at.getTime() >= TOUCH_INTERVAL_MS) {
      await tx.query('UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1', [hash, now]);
    }
    return { sessionHash: hash, userId: row.user_id, email: row.email, name: row.name };
  });
}

export async function deleteSession(pool: pg.Pool, sessionHash: Buffer): Promise<void> {
  await pool.query('DELETE FROM sessions WHERE id_hash = $1', [sessionHash]);
}
