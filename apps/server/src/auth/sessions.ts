import type pg from 'pg';
import type { Config } from '../config.js';
import { withoutTenant, withUser, type Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { hashToken, newSecretToken } from './tokens.js';

/**
 * mfa: the password was right and a second factor is due; enroll: an
 * organization requires MFA the user has not set up; done: a full session.
 */
export type SessionStage = 'mfa' | 'enroll' | 'done';

export type Session = {
  hash: Buffer;
  publicId: string;
  userId: string;
  email: string;
  name: string;
  stage: SessionStage;
  /** When the user last proved a factor (password, code, passkey). */
  factorAt: Date | null;
  /** A role changed since the id was issued: the next request gets a new id. */
  rotate: boolean;
};

export type SessionPolicy = { idleMs: number; absoluteMs: number };

export type SessionClient = { ip: string; userAgent: string | undefined };

export type NewSession = { userId: string; stage: SessionStage; factorAt: Date | null; policy: SessionPolicy; client: SessionClient };

// A half-finished login (password right, second factor due) lives briefly.
const MFA_STAGE_MS = 10 * 60_000;

// last_seen_at is written at most once a minute per session, so busy
// dashboards do not turn every read into a write.
const TOUCH_INTERVAL_MS = 60_000;

/** The strictest timeouts of the installation and of every organization the user belongs to. */
export async function sessionPolicyFor(pool: pg.Pool, config: Config, userId: string): Promise<SessionPolicy> {
  const { rows } = await withUser(pool, userId, (tx) =>
    tx.query<{ idle: number | null; absolute: number | null }>(
      `SELECT min(o.session_idle_minutes) AS idle, min(o.session_absolute_hours) AS absolute
         FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = $1`,
      [userId],
    ),
  );
  const idleMinutes = Math.min(config.sessionIdleMinutes, rows[0]?.idle ?? Infinity);
  const absoluteHours = Math.min(config.sessionAbsoluteHours, rows[0]?.absolute ?? Infinity);
  return { idleMs: idleMinutes * 60_000, absoluteMs: absoluteHours * 3_600_000 };
}

export async function createSession(db: pg.Pool | Tx, session: NewSession, now: Date): Promise<string> {
  const { token, hash } = newSecretToken();
  const lifetime = session.stage === 'mfa' ? Math.min(MFA_STAGE_MS, session.policy.absoluteMs) : session.policy.absoluteMs;
  await db.query(
    `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, idle_ms, stage, factor_at, ip, user_agent)
     VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9)`,
    [hash, session.userId, now, new Date(now.getTime() + lifetime), session.policy.idleMs, session.stage, session.factorAt, session.client.ip, session.client.userAgent?.slice(0, 500) ?? null],
  );
  return token;
}

/** The session of a cookie value, or null when it is unknown, idle too long or past its absolute lifetime. */
export async function findSession(pool: pg.Pool, token: string, now: Date): Promise<Session | null> {
  if (token.length !== 43) return null;
  const hash = hashToken(token);
  return withoutTenant(pool, async (tx) => {
    const { rows } = await tx.query<{
      public_id: string; user_id: string; email: string; name: string; stage: SessionStage; factor_at: Date | null; rotate: boolean;
      last_seen_at: Date; expires_at: Date; idle_ms: number;
    }>(
      `SELECT s.public_id, s.user_id, u.email, u.name, s.stage, s.factor_at, s.rotate, s.last_seen_at, s.expires_at, s.idle_ms
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`,
      [hash],
    );
    const row = rows[0];
    if (!row) return null;
    if (now >= row.expires_at || now.getTime() - row.last_seen_at.getTime() >= row.idle_ms) {
      await tx.query('DELETE FROM sessions WHERE id_hash = $1', [hash]);
      return null;
    }
    if (now.getTime() - row.last_seen_at.getTime() >= TOUCH_INTERVAL_MS) {
      await tx.query('UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1', [hash, now]);
    }
    return { hash, publicId: row.public_id, userId: row.user_id, email: row.email, name: row.name, stage: row.stage, factorAt: row.factor_at, rotate: row.rotate };
  });
}

/**
 * Replaces a session with a new id (OWASP: a new id at every change of
 * privilege): the old cookie stops working at once. Stage and factor time
 * change when given; with a policy (a finished MFA step) the lifetimes are
 * set from it, counted from the original login.
 */
export async function replaceSession(
  pool: pg.Pool,
  session: Session,
  changes: { stage?: SessionStage; factorAt?: Date; policy?: SessionPolicy },
  now: Date,
): Promise<string> {
  const { token, hash } = newSecretToken();
  // Deleting first locks the row: of two concurrent replacements one wins, the other finds nothing.
  const { rowCount } = await pool.query(
    `WITH old AS (DELETE FROM sessions WHERE id_hash = $1 RETURNING *)
     INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, idle_ms, stage, factor_at, ip, user_agent)
     SELECT $2, user_id, created_at, $3,
            coalesce(created_at + make_interval(secs => $6::float8 / 1000), expires_at),
            coalesce($7, idle_ms), coalesce($4, stage), coalesce($5, factor_at), ip, user_agent
       FROM old`,
    [session.hash, hash, now, changes.stage ?? null, changes.factorAt ?? null, changes.policy?.absoluteMs ?? null, changes.policy?.idleMs ?? null],
  );
  // Another request replaced or ended it first (a double-submitted MFA step).
  if (rowCount === 0) throw new AppError('unauthenticated', 'This session has ended. Log in again.');
  return token;
}

export async function deleteSession(pool: pg.Pool, sessionHash: Buffer): Promise<void> {
  await pool.query('DELETE FROM sessions WHERE id_hash = $1', [sessionHash]);
}

/** Ends every session of a user, but the one named in `except`. Returns how many ended. */
export async function endUserSessions(db: pg.Pool | Tx, userId: string, except?: Buffer): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR id_hash <> $2)', [userId, except ?? null]);
  return rowCount ?? 0;
}
