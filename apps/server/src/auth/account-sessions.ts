import type { Actor } from '../audit/service.js';
import type { Context } from '../context.js';
import { AppError } from '../errors.js';
import { describeDevice } from './devices.js';
import { auditForUser } from './service.js';
import { endUserSessions, type Session } from './sessions.js';

export type SessionItem = { id: string; current: boolean; device: string; ip: string | null; createdAt: Date; lastSeenAt: Date };

/** The user's live sessions (not past their idle or absolute limit), newest first. */
export async function listSessions(ctx: Context, session: Session): Promise<SessionItem[]> {
  const { rows } = await ctx.db.app.query<{ public_id: string; user_agent: string | null; ip: string | null; created_at: Date; last_seen_at: Date }>(
    `SELECT public_id, user_agent, ip, created_at, last_seen_at FROM sessions
      WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $2 - make_interval(secs => idle_ms / 1000.0)
      ORDER BY created_at DESC, public_id`,
    [session.userId, ctx.clock.now()],
  );
  return rows.map((row) => ({
    id: row.public_id,
    current: row.public_id === session.publicId,
    device: describeDevice(row.user_agent),
    ip: row.ip,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  }));
}

/** Ends one of the user's own sessions by its public id; another user's id is "not found". */
export async function endSession(ctx: Context, session: Session, publicId: string, actor: Actor): Promise<void> {
  const { rowCount } = await ctx.db.app.query('DELETE FROM sessions WHERE user_id = $1 AND public_id = $2', [session.userId, publicId]);
  if (rowCount === 0) throw new AppError('not_found', 'There is no such session.');
  await auditForUser(ctx.db.app, session.userId, actor, { action: 'session.revoked', target: { type: 'session', id: publicId } }, ctx.clock.now());
}

/** Ends every session of the user but the one making the request. */
export async function endOtherSessions(ctx: Context, session: Session, actor: Actor): Promise<void> {
  const ended = await endUserSessions(ctx.db.app, session.userId, session.hash);
  await auditForUser(ctx.db.app, session.userId, actor, { action: 'sessions.revoked', target: { type: 'user', id: session.userId }, data: { count: ended } }, ctx.clock.now());
}
