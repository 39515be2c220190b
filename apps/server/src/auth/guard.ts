import type { FastifyRequest } from 'fastify';
import type { Context } from '../context.js';
import { AppError } from '../errors.js';
import { requireMembership, type Role } from '../orgs/service.js';
import { authorize, type Permission } from './permissions.js';
import { findSession, SESSION_COOKIE, type SessionPolicy, type SessionUser } from './sessions.js';

export function sessionPolicy(ctx: Context): SessionPolicy {
  return { idleMs: ctx.config.sessionIdleMinutes * 60_000, absoluteMs: ctx.config.sessionAbsoluteHours * 3_600_000 };
}

export async function requireUser(ctx: Context, request: FastifyRequest): Promise<SessionUser> {
  const token = request.cookies[SESSION_COOKIE];
  const user = token ? await findSession(ctx.db.app, token, ctx.clock.now(), sessionPolicy(ctx)) : null;
  if (!user) throw new AppError('unauthenticated', 'Log in to continue.');
  return user;
}

/** The signed-in user, a member of `orgId` with `permission`; other tenants answer 404. */
export async function requirePermission(ctx: Context, request: FastifyRequest, orgId: string, permission: Permission): Promise<{ user: SessionUser; role: Role }> {
  const user = await requireUser(ctx, request);
  const role = await requireMembership(ctx.db.app, user.userId, orgId);
  authorize(role, permission);
  return { user, role };
}

export function actorOf(user: SessionUser, request: FastifyRequest) {
  return { type: 'user' as const, id: user.userId, label: user.email, ip: request.ip };
}
