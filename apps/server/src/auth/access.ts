import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../context.js';
import { AppError } from '../errors.js';
import { findMembership, type Role } from '../orgs/service.js';
import { authorize, isPermission, type Permission } from './permissions.js';
import { clearSessionCookie, SESSION_COOKIE, setSessionCookie } from './session-cookie.js';
import { findSession, replaceSession, type Session } from './sessions.js';

/**
 * What a route requires, declared on the route (`config.access`) so a test
 * can read the whole table:
 * - public: anyone (the widget, health checks, login itself);
 * - any-session: a session in any stage (who am I, logout);
 * - mfa-step: a session whose second factor is due;
 * - enroll: a full session, or one that must first set up MFA;
 * - session: a full session;
 * - { permission }: a full session of a member of the route's `:orgId` whose role has the permission.
 */
export type Access = 'public' | 'any-session' | 'mfa-step' | 'enroll' | 'session' | { permission: Permission };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** A sensitive action: the last factor must be under 10 minutes old. */
    reauth?: boolean;
  }
  interface FastifyRequest {
    session: Session | null;
    member: Member | null;
  }
  interface FastifyInstance {
    /** Every route with its declared access, for the route-table test and the docs. */
    accessTable: AccessEntry[];
  }
}

export type AccessEntry = { method: string; url: string; access: Access; reauth: boolean };

export type Member = { role: Role; projectIds: string[] | null };

export const REAUTH_WINDOW_MS = 10 * 60_000;

/** Refuses to register a route without an access declaration, then checks it on every request. */
export function registerAccessControl(app: FastifyInstance, ctx: Context): void {
  app.decorateRequest('session', null);
  app.decorateRequest('member', null);
  const table: AccessEntry[] = [];
  app.decorate('accessTable', table);

  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (access === undefined) throw new Error(`route ${route.method} ${route.url} declares no access (config.access)`);
    for (const method of [route.method].flat()) table.push({ method, url: route.url, access, reauth: route.config?.reauth === true });
    if (typeof access === 'object') {
      if (!isPermission(access.permission)) throw new Error(`route ${route.method} ${route.url} names an unknown permission`);
      if (!route.url.includes(':orgId')) throw new Error(`route ${route.method} ${route.url} needs a permission but has no :orgId`);
    }
  });

  app.addHook('preHandler', async (request, reply) => {
    const { access, reauth } = request.routeOptions.config;
    if (access === undefined || access === 'public') return;
    const session = await currentSession(ctx, request, reply);
    if (!session) throw new AppError('unauthenticated', 'Log in to continue.');
    checkStage(access, session);
    if (typeof access === 'object') {
      const { orgId } = request.params as { orgId: string };
      const member = await findMembership(ctx.db.app, session.userId, orgId);
      // Not a member looks exactly like a missing organization.
      if (!member) throw new AppError('not_found');
      authorize(member.role, access.permission);
      request.member = member;
    }
    if (reauth && !isFresh(session, ctx.clock.now())) {
      throw new AppError('reauth_required', 'Confirm it is you: enter your password or a second factor, then try again.');
    }
  });
}

function checkStage(access: Exclude<Access, 'public'>, session: Session): void {
  if (access === 'any-session') return;
  if (access === 'mfa-step') {
    if (session.stage !== 'mfa') throw new AppError('conflict', 'There is no second factor to check for this session.');
    return;
  }
  if (session.stage === 'mfa') throw new AppError('mfa_required', 'Finish signing in with your second factor.');
  if (session.stage === 'enroll' && access !== 'enroll') {
    throw new AppError('mfa_enrollment_required', 'Your organization requires two-factor authentication. Set it up to continue.');
  }
}

export function isFresh(session: Session, now: Date): boolean {
  return session.factorAt !== null && now.getTime() - session.factorAt.getTime() < REAUTH_WINDOW_MS;
}

/**
 * The request's session, looked up once. A session flagged for rotation
 * (its user's role changed) gets a new id here, before anything else runs.
 */
export async function currentSession(ctx: Context, request: FastifyRequest, reply: FastifyReply): Promise<Session | null> {
  if (request.session) return request.session;
  const token = request.cookies[SESSION_COOKIE];
  let session = token ? await findSession(ctx.db.app, token, ctx.clock.now()) : null;
  if (session?.rotate) {
    const fresh = await replaceSession(ctx.db.app, session, {}, ctx.clock.now());
    setSessionCookie(reply, fresh);
    session = await findSession(ctx.db.app, fresh, ctx.clock.now());
  }
  if (!session && token) clearSessionCookie(reply);
  request.session = session;
  return session;
}

/** The session a route's access declaration guaranteed. */
export function sessionOf(request: FastifyRequest): Session {
  if (!request.session) throw new Error(`${request.routeOptions.url} reads a session it did not declare`);
  return request.session;
}

/** The membership a `{ permission }` route guaranteed. */
export function memberOf(request: FastifyRequest): Member {
  if (!request.member) throw new Error(`${request.routeOptions.url} reads a membership it did not declare`);
  return request.member;
}

export function actorOf(request: FastifyRequest) {
  const session = sessionOf(request);
  return { type: 'user' as const, id: session.userId, label: session.email, ip: request.clientIp };
}
