import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findApiKey, touchApiKey, type ApiKey } from '../apikeys/authenticate.js';
import { API_KEY_IN_TEXT, isWellFormedApiKey } from '../apikeys/token.js';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import type { Context } from '../context.js';
import { withTenant } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { findMembership, type Role } from '../orgs/service.js';
import type { ProjectScope } from '../projects/service.js';
import { blockListOf, isInRanges, parseIpRange, type IpRange } from '../security/ip-ranges.js';
import { consumeLimit, refusalOf, setRateLimitHeaders } from '../security/rate-limit.js';
import type { SharedState } from '../security/shared-state.js';
import { authorize, hasPermission, isApiScope, isPermission, type Permission } from './permissions.js';
import { clearSessionCookie, SESSION_COOKIE, setSessionCookie } from './session-cookie.js';
import { findSession, replaceSession, type Session } from './sessions.js';

/**
 * What a route requires, declared on the route (`config.access`) so a test
 * can read the whole table:
 * - public: anyone (the widget, health checks, login itself);
 * - any-session: a session in any stage (who am I, logout);
 * - mfa-step: a session whose second factor is due;
 * - enroll: a full session, or one that must first set up MFA;
 * - session: a full session (the dashboard's own pages: never an API key);
 * - principal: a full session or a valid API key;
 * - { permission }: under `:orgId`, a full session of a member whose role has
 *   the permission, or an API key of that organization holding it as a scope
 *   while its creator's role still has it.
 */
export type Access = 'public' | 'any-session' | 'mfa-step' | 'enroll' | 'session' | 'principal' | { permission: Permission };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** A sensitive action: a session's last factor must be under 10 minutes old (an API key is its own credential). */
    reauth?: boolean;
  }
  interface FastifyRequest {
    session: Session | null;
    /** The API key the request was made with (Authorization: Bearer), if any. */
    apiKey: ApiKey | null;
    member: Member | null;
  }
  interface FastifyInstance {
    /** Every route with its declared access, for the route-table test and the docs. */
    accessTable: AccessEntry[];
  }
}

export type AccessEntry = { method: string; url: string; access: Access; reauth: boolean };

/** The caller's standing in the route's organization: a member's role, or an API key's creator's, with the projects they may reach. */
export type Member = { role: Role; projectIds: ProjectScope };

export const REAUTH_WINDOW_MS = 10 * 60_000;

// SECURITY.md "API limits": per key 300 and per session 1,500 requests in 5
// minutes by default.
const LIMIT_SECONDS = 300;

/** Refuses to register a route without an access declaration, then checks it on every request. */
export function registerAccessControl(app: FastifyInstance, ctx: Context, shared: SharedState): void {
  app.decorateRequest('session', null);
  app.decorateRequest('apiKey', null);
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

  // RFC 6750 §2.3 allows a token in the query; we do not: URLs end up in
  // logs, proxies and browser history.
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/api/') && hasKeyInQuery(request.url)) {
      throw new AppError('api_key_in_url', 'Send API keys only in the Authorization header ("Authorization: Bearer prl_…"), never in a URL: URLs are kept in logs and histories. Treat this key as leaked: revoke it and create a new one.');
    }
  });

  const keyLimit = { name: 'api-key', points: ctx.config.apiKeyRateLimit, seconds: LIMIT_SECONDS };
  const sessionLimit = { name: 'session', points: ctx.config.sessionRateLimit, seconds: LIMIT_SECONDS };

  app.addHook('preHandler', async (request, reply) => {
    const { access, reauth } = request.routeOptions.config;
    if (access === undefined || access === 'public') return;
    // A request that names a key is judged by the key alone, never by a cookie it also carries.
    if (request.headers.authorization !== undefined) return admitApiKey(ctx, shared, keyLimit, access, request, reply);
    const session = await currentSession(ctx, request, reply);
    if (!session) throw new AppError('unauthenticated', 'Log in to continue.');
    checkStage(access, session);
    if (session.stage === 'done') {
      await consumeLimit(shared, sessionLimit, session.publicId, { code: 'rate_limit_session', what: 'This session has made too many requests' }, reply, true);
    }
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

  // Everything a key does is in its organization's audit log: each request,
  // refused or not, next to whatever changes it made (with the key as actor).
  app.addHook('onSend', async (request, reply, payload) => {
    const key = request.apiKey;
    if (key) {
      const event = { action: 'api_key.request', target: { type: 'api_key', id: key.id }, data: { method: request.method, route: request.routeOptions.url ?? '', status: reply.statusCode } };
      await withTenant(ctx.db.app, key.orgId, (tx) => recordAuditEvent(tx, key.orgId, apiKeyActor(key, request.clientIp), event, ctx.clock.now()));
    }
    return payload;
  });
}

const KEY_PARAMETERS = new Set(['access_token', 'api_key', 'apikey', 'key', 'token']);

function hasKeyInQuery(url: string): boolean {
  const query = url.indexOf('?');
  if (query === -1) return false;
  let text = url.slice(query + 1);
  try {
    text = decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    // Malformed escapes: look at the query as it came.
  }
  if (API_KEY_IN_TEXT.test(text)) return true;
  return [...new URLSearchParams(url.slice(query + 1)).entries()].some(([name, value]) => KEY_PARAMETERS.has(name.toLowerCase()) && value.startsWith('prl_'));
}

/**
 * RFC 6750 §3: a refused Bearer credential names the scheme and the error.
 * error_description allows printable ASCII but the double quote and the
 * backslash (§3), and Node refuses to send a header with other characters
 * (the whole answer would be lost).
 */
function refuseToken(reply: FastifyReply, code: 'api_key_invalid' | 'api_key_revoked' | 'api_key_expired', detail: string): AppError {
  const description = detail.replaceAll('…', '...').replaceAll('"', "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
  reply.header('www-authenticate', `Bearer realm="parley", error="invalid_token", error_description="${description}"`);
  return new AppError(code, detail);
}

/** The key's permission check; on success `request.apiKey` and `request.member` are set. */
async function admitApiKey(
  ctx: Context, shared: SharedState, limit: { name: string; points: number; seconds: number }, access: Exclude<Access, 'public'>, request: FastifyRequest, reply: FastifyReply,
): Promise<void> {
  const token = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (token === undefined || !isWellFormedApiKey(token)) {
    throw refuseToken(reply, 'api_key_invalid', 'Send an API key as "Authorization: Bearer prl_…"; this header is not one.');
  }
  const key = await findApiKey(ctx.db.app, ctx.keyring, token);
  if (!key) throw refuseToken(reply, 'api_key_invalid', 'This API key does not exist (it may have been deleted).');
  const now = ctx.clock.now();
  // Counted before anything is written, so a flood with a revoked key costs a lookup, not an audit row each.
  const spent = await shared.consume(limit, key.id);
  setRateLimitHeaders(reply, spent);
  const refused = async (reason: string, error: AppError) => {
    if (spent.allowed) {
      const event = { action: 'api_key.refused', target: { type: 'api_key', id: key.id }, data: { reason, method: request.method, route: request.routeOptions.url ?? '' } };
      await withTenant(ctx.db.app, key.orgId, (tx) => recordAuditEvent(tx, key.orgId, apiKeyActor(key, request.clientIp), event, now));
    }
    return error;
  };
  if (key.revokedAt) throw await refused('revoked', refuseToken(reply, 'api_key_revoked', 'This API key was revoked.'));
  if (key.expiresAt && key.expiresAt <= now) throw await refused('expired', refuseToken(reply, 'api_key_expired', 'This API key has expired.'));
  if (!spent.allowed) throw refusalOf(spent, { code: 'rate_limit_api_key', what: 'This API key has made too many requests' });
  if (key.allowedIps.length > 0 && !isInRanges(blockListOf(key.allowedIps.map(parseIpRange).filter((r): r is IpRange => r !== null)), request.clientIp)) {
    throw await refused('address', new AppError('api_key_ip_not_allowed', `This API key may not be used from ${request.clientIp}.`));
  }
  const creator = key.createdBy ? await findMembership(ctx.db.app, key.createdBy, key.orgId) : null;
  // Keys are revoked when their creator leaves; this holds even if that failed.
  if (!creator) throw await refused('creator_gone', refuseToken(reply, 'api_key_revoked', 'This API key was revoked: its creator is no longer a member.'));
  request.apiKey = key;
  await touchApiKey(ctx.db.app, key, request.clientIp, now);
  if (access === 'principal') {
    request.member = { role: creator.role, projectIds: narrowScope(key.projectIds, creator.projectIds) };
    return;
  }
  if (typeof access !== 'object') throw new AppError('forbidden', 'This endpoint is for people signed in to the dashboard; API keys cannot use it.');
  const { orgId } = request.params as { orgId: string };
  if (orgId !== key.orgId) throw new AppError('not_found');
  const { permission } = access;
  if (!isApiScope(permission)) throw new AppError('forbidden', `API keys cannot be given ${permission}: use the dashboard for this.`);
  if (!key.scopes.includes(permission)) throw new AppError('forbidden', `This API key does not have the ${permission} scope.`);
  if (!hasPermission(creator.role, permission)) throw new AppError('forbidden', `The role of this key's creator (${creator.role}) no longer allows ${permission}.`);
  request.member = { role: creator.role, projectIds: narrowScope(key.projectIds, creator.projectIds) };
}

/** The projects reachable through both limits (null: no limit). */
export function narrowScope(a: ProjectScope, b: ProjectScope): ProjectScope {
  if (a === null) return b;
  if (b === null) return a;
  return a.filter((id) => b.includes(id));
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

/** The membership a `{ permission }` route guaranteed (for a key: its creator's, narrowed by the key's projects). */
export function memberOf(request: FastifyRequest): Member {
  if (!request.member) throw new Error(`${request.routeOptions.url} reads a membership it did not declare`);
  return request.member;
}

/** The user acting: the signed-in user, or the creator of the API key used. */
export function actingUserOf(request: FastifyRequest): string {
  if (request.apiKey?.createdBy) return request.apiKey.createdBy;
  return sessionOf(request).userId;
}

function apiKeyActor(key: ApiKey, ip: string): Actor {
  return { type: 'api_key', id: key.id, label: `${key.name} (${key.prefix}…)`, ip };
}

/** Who to name in the audit log: the user of the session, or the API key. */
export function actorOf(request: FastifyRequest): Actor {
  if (request.apiKey) return apiKeyActor(request.apiKey, request.clientIp);
  const session = sessionOf(request);
  return { type: 'user', id: session.userId, label: session.email, ip: request.clientIp };
}
