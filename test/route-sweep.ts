import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { AccessEntry } from '../apps/server/src/auth/access.js';
import type { Permission } from '../apps/server/src/auth/permissions.js';
import type { Role } from '../apps/server/src/orgs/service.js';
import { DEFAULT_PROTECTION } from '../apps/server/src/projects/protection.js';
import { apiKey, feedbackWithScreenshot, memberAccount, ownerAccount, project, SCREENSHOTS_ON, webhook, webhookTestDelivery, type Account } from './factories.js';
import type { Reply, RequestOptions, TestServer } from './server.js';

// Sweeps over the route table: call every route the same wrong way and
// check each refusal, and that the database did not change. Used by the
// session sweeps (auth/access.test.ts) and the API-key sweeps.

const credential = (response: Record<string, string>) => ({ id: 'AAAA', rawId: 'AAAA', type: 'public-key', clientExtensionResults: {}, response });
const ASSERTION = credential({ clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' });
const ATTESTATION = credential({ clientDataJSON: 'AAAA', attestationObject: 'AAAA' });

/**
 * A body that passes each route's schema, so the refusal a sweep sees is
 * about authorization, not validation. Routes without a body are absent.
 */
export const SAMPLE_BODIES: Record<string, unknown> = {
  'POST /api/v1/setup': { token: 'x', email: 'setup@example.test', password: 'a long enough test password', name: 'Setup', organization: 'Setup' },
  'POST /api/v1/auth/login': { email: 'nobody@example.test', password: 'wrong password' },
  'POST /api/v1/auth/mfa/totp': { code: '123456' },
  'POST /api/v1/auth/mfa/recovery': { code: 'abcd-efgh-ijkl' },
  'POST /api/v1/auth/mfa/webauthn': { response: ASSERTION },
  'POST /api/v1/auth/reauth': { password: 'wrong password' },
  'POST /api/v1/auth/password/forgot': { email: 'nobody@example.test' },
  'POST /api/v1/auth/password/reset': { token: 'x', password: 'a long enough test password' },
  'POST /api/v1/me/password': { currentPassword: 'wrong password', newPassword: 'another long enough password' },
  'POST /api/v1/me/mfa/totp/confirm': { code: '123456' },
  'POST /api/v1/me/mfa/passkeys': { name: 'Key', response: ATTESTATION },
  'POST /api/v1/invites/lookup': { token: 'x' },
  'POST /api/v1/invites/accept': { token: 'x' },
  'POST /api/v1/orgs/:orgId/projects': { name: 'Sweep', domains: ['example.com'] },
  'PATCH /api/v1/orgs/:orgId/projects/:projectId': { name: 'Renamed by a sweep' },
  'PATCH /api/v1/orgs/:orgId/feedback/:feedbackId': { status: 'archived' },
  'POST /api/v1/orgs/:orgId/projects/:projectId/feedback': { message: 'Sent by a sweep' },
  'POST /api/v1/orgs/:orgId/feedback/:feedbackId/notes': { body: 'Written by a sweep' },
  'POST /api/v1/orgs/:orgId/labels': { name: 'Sweep', color: '#123456' },
  'PATCH /api/v1/orgs/:orgId/labels/:labelId': { name: 'Renamed by a sweep' },
  'PATCH /api/v1/orgs/:orgId/members/:userId': { role: 'viewer' },
  'POST /api/v1/orgs/:orgId/invites': { email: 'sweep@example.test', role: 'viewer' },
  'POST /api/v1/orgs/:orgId/api-keys': { name: 'Sweep', scopes: ['feedback_read'] },
  'PUT /api/v1/orgs/:orgId/security': { requireMfa: false, sessionIdleMinutes: 5, sessionAbsoluteHours: 1 },
  'PUT /api/v1/orgs/:orgId/projects/:projectId/protection': { ...DEFAULT_PROTECTION, minSeconds: 9 },
  'PUT /api/v1/orgs/:orgId/projects/:projectId/protection/captcha-secret': { secret: 'sweep-secret' },
  // Any well-formed ids pass the schema; the sweeps refuse before they are looked at.
  'PUT /api/v1/me/notifications': { orgId: '00000000-0000-4000-8000-000000000001', projectId: '00000000-0000-4000-8000-000000000002', mode: 'instant' },
  'POST /api/v1/orgs/:orgId/webhooks': { url: 'https://hooks.example.com/parley', events: ['feedback.created'] },
  'PATCH /api/v1/orgs/:orgId/webhooks/:webhookId': { description: 'Renamed by a sweep' },
  'POST /api/v1/orgs/:orgId/webhooks/:webhookId/rotate-secret': { overlapHours: 1 },
};

export const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The organization every sweep works on: its people, and real ids for every route parameter. */
export type SweepFixture = {
  owner: Account;
  /** The owner of another organization. */
  stranger: Account;
  accounts: Record<Exclude<Role, 'owner'>, Account>;
  /** A member limited to the project of `ids`. */
  limited: Account;
  /** Real ids of the fixture organization's objects, one per route parameter. */
  ids: Record<string, string>;
  /** The same, with a project (and its feedback) the limited member may not see. */
  hiddenIds: Record<string, string>;
};

export async function createSweepFixture(server: TestServer): Promise<SweepFixture> {
  const owner = await ownerAccount(server);
  const stranger = await ownerAccount(server);
  const granted = await project(server, owner.orgId, ['example.com'], SCREENSHOTS_ON);
  const hidden = await project(server, owner.orgId, ['example.com'], SCREENSHOTS_ON);
  const accounts = {
    admin: await memberAccount(server, owner.orgId, 'admin'),
    member: await memberAccount(server, owner.orgId, 'member'),
    viewer: await memberAccount(server, owner.orgId, 'viewer'),
  };
  const limited = await memberAccount(server, owner.orgId, 'member', [granted.id]);
  const invite = await server.request('POST', `/api/v1/orgs/${owner.orgId}/invites`, { cookie: owner.cookie, body: { email: 'pending@example.test', role: 'member' } });
  const feedbackId = await feedbackWithScreenshot(server, granted);
  const label = await server.request('POST', `/api/v1/orgs/${owner.orgId}/labels`, { cookie: owner.cookie, body: { name: 'Fixture', color: '#abcdef' } });
  // Disabled, and on an address the sweeps' servers refuse: its one delivery is attempted here, never again during a sweep.
  const hook = await webhook(server, owner, { url: 'https://localhost/sweep', enabled: false });
  const ids: Record<string, string> = {
    orgId: owner.orgId,
    projectId: granted.id,
    feedbackId,
    noteId: await noteOn(server, owner, feedbackId),
    labelId: label.body.id,
    userId: accounts.member.userId,
    inviteId: invite.body.invite.id,
    keyId: (await apiKey(server, owner, { scopes: ['org_read'] })).id,
    webhookId: hook.id,
    deliveryId: await webhookTestDelivery(server, owner, hook.id),
    // Not organization objects: any well-formed id does for the sweeps.
    sessionId: randomUUID(),
    passkeyId: 'AAAA',
  };
  const hiddenFeedbackId = await feedbackWithScreenshot(server, hidden);
  const hiddenIds = { ...ids, projectId: hidden.id, feedbackId: hiddenFeedbackId, noteId: await noteOn(server, owner, hiddenFeedbackId) };
  return { owner, stranger, accounts, limited, ids, hiddenIds };
}

async function noteOn(server: TestServer, author: Account, feedbackId: string): Promise<string> {
  const note = await server.request('POST', `/api/v1/orgs/${author.orgId}/feedback/${feedbackId}/notes`, { cookie: author.cookie, body: { body: 'A fixture note' } });
  return note.body.id;
}

export const routeKey = (route: AccessEntry) => `${route.method} ${route.url}`;
// HEAD runs the GET handler and answers no body to read a code from.
export const declaredRoutes = (server: TestServer) => server.app.accessTable.filter((r) => r.method !== 'HEAD');
export const apiRoutes = (server: TestServer) => declaredRoutes(server).filter((r) => r.url.startsWith('/api/v1/'));
export const permissionOf = (route: AccessEntry): Permission | null => (typeof route.access === 'object' ? route.access.permission : null);
export const orgRoutes = (server: TestServer) => apiRoutes(server).filter((r) => permissionOf(r) !== null);

export function pathOf(route: AccessEntry, values: Record<string, string>): string {
  return route.url.replace(/:(\w+)/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${routeKey(route)}: the sweeps have no sample id for :${name}; add one to \`ids\``);
    return value;
  });
}

/**
 * Calls a route with its sample body: as the dashboard does (with `cookie`), or
 * with exactly `headers` (nothing added) when given.
 */
export function callRoute(server: TestServer, route: AccessEntry, values: Record<string, string>, cookie: string | undefined, headers?: Record<string, string>): Promise<Reply> {
  const options: RequestOptions = { cookie, body: SAMPLE_BODIES[routeKey(route)] };
  return headers ? server.rawRequest(route.method, pathOf(route, values), { ...options, headers }) : server.request(route.method, pathOf(route, values), options);
}

// Everything a refused request could have touched, as one comparable value.
export const WATCHED: Record<string, string> = {
  ...Object.fromEntries(
    ['organizations', 'memberships', 'users', 'projects', 'feedback', 'screenshots', 'invites', 'audit_events', 'outbox',
      'totp_credentials', 'webauthn_credentials', 'recovery_codes', 'password_resets', 'login_attempts',
      'labels', 'feedback_labels', 'feedback_notes', 'events', 'webhooks', 'webhook_deliveries', 'webhook_attempts',
      'notification_settings', 'idempotency_keys'].map((table) => [table, table]),
  ),
  // last_seen_at moves on any request with a live session, refused or not.
  sessions: '(SELECT id_hash, user_id, stage, factor_at, rotate, expires_at, idle_ms, challenge FROM sessions)',
  // Likewise the last use of an API key.
  api_keys: '(SELECT id, org_id, name, scopes, project_ids, allowed_ips, expires_at, created_by, revoked_at, revoked_reason, version FROM api_keys)',
};
/**
 * The watched tables as comparable lines; `except` leaves some out (a key's
 * own request log, say). Background work (events, mail) is settled first, so
 * a job that finishes meanwhile is not taken for a change; a row a refused
 * request queued still shows.
 */
export async function snapshot(server: TestServer, except: string[] = []): Promise<string[]> {
  await server.jobsDone();
  return Promise.all(
    Object.entries(WATCHED)
      .filter(([name]) => !except.includes(name))
      .map(async ([name, source]) => {
      const { rows } = await server.db.superuser.query(`SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM ${source} t`);
      return `${name}: ${rows[0].n} ${rows[0].h}`;
    }),
  );
}

/** Makes one request that must be refused with `status` and `code`, and checks that the database did not change; returns the answer. */
export async function refusedUnchanged(server: TestServer, attempt: () => Promise<Reply>, status: number, code: string): Promise<Reply> {
  const before = await snapshot(server);
  const reply = await attempt();
  expect(`${reply.status} ${reply.body?.code}`, reply.text.slice(0, 300)).toBe(`${status} ${code}`);
  expect(await snapshot(server)).toEqual(before);
  return reply;
}

export type Check = (route: AccessEntry, reply: Reply) => string | null;

/**
 * Runs `attempt` on each route and `check` on each answer; lists every route
 * that answered otherwise, and fails if the database changed.
 */
export async function sweep(server: TestServer, routes: AccessEntry[], attempt: (route: AccessEntry) => Promise<Reply>, check: Check, except: string[] = []): Promise<void> {
  const before = await snapshot(server, except);
  const wrong: string[] = [];
  for (const route of routes) {
    const problem = check(route, await attempt(route));
    if (problem) wrong.push(problem);
  }
  expect(wrong).toEqual([]);
  expect(await snapshot(server, except)).toEqual(before);
}

/** A refusal with this status and one of these codes, or what was answered instead. */
export const refusal = (status: number, codes: string[]): Check => (route, reply) =>
  reply.status === status && codes.includes(reply.body?.code) ? null : `${routeKey(route)}: expected ${status} ${codes.join('|')}, got ${reply.status} ${reply.text.slice(0, 300)}`;

