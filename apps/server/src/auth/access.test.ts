import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedbackWithScreenshot, memberAccount, ownerAccount, project, SCREENSHOTS_ON, type Account } from '../../../../test/factories.js';
import { startTestServer, type Reply, type TestServer } from '../../../../test/server.js';
import type { Role } from '../orgs/service.js';
import { DEFAULT_PROTECTION } from '../projects/protection.js';
import { registerAccessControl, type AccessEntry } from './access.js';
import { hasPermission, permissionMatrix, type Permission } from './permissions.js';

// The route table, and sweeps over it: every route declares who may call it,
// and every organization route refuses the wrong role, the wrong tenant, the
// wrong project, no session and a cross-site request, changing nothing.

/** Routes anyone may call: adding one here is a deliberate decision. */
const PUBLIC_API = [
  'GET /api/v1/setup',
  'POST /api/v1/setup',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/password/forgot',
  'POST /api/v1/auth/password/reset',
  'POST /api/v1/invites/lookup',
  'POST /api/v1/invites/accept',
];

/** Sensitive actions: they need a factor proved in the last 10 minutes (SECURITY.md, re-authentication). */
const REAUTH = [
  'PUT /api/v1/orgs/:orgId/security',
  'GET /api/v1/orgs/:orgId/logins.csv',
  'POST /api/v1/orgs/:orgId/projects/:projectId/identity-secret',
  'PUT /api/v1/orgs/:orgId/projects/:projectId/protection/captcha-secret',
  'POST /api/v1/me/mfa/totp',
  'DELETE /api/v1/me/mfa/totp',
  'POST /api/v1/me/mfa/passkeys/options',
  'DELETE /api/v1/me/mfa/passkeys/:passkeyId',
  'POST /api/v1/me/mfa/recovery-codes',
];

const credential = (response: Record<string, string>) => ({ id: 'AAAA', rawId: 'AAAA', type: 'public-key', clientExtensionResults: {}, response });
const ASSERTION = credential({ clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' });
const ATTESTATION = credential({ clientDataJSON: 'AAAA', attestationObject: 'AAAA' });

/**
 * A body that passes each route's schema, so the refusal a sweep sees is
 * about authorization, not validation. Routes without a body are absent.
 */
const SAMPLE_BODIES: Record<string, unknown> = {
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
  'PATCH /api/v1/orgs/:orgId/members/:userId': { role: 'viewer' },
  'POST /api/v1/orgs/:orgId/invites': { email: 'sweep@example.test', role: 'viewer' },
  'PUT /api/v1/orgs/:orgId/security': { requireMfa: false, sessionIdleMinutes: 5, sessionAbsoluteHours: 1 },
  'PUT /api/v1/orgs/:orgId/projects/:projectId/protection': { ...DEFAULT_PROTECTION, minSeconds: 9 },
  'PUT /api/v1/orgs/:orgId/projects/:projectId/protection/captcha-secret': { secret: 'sweep-secret' },
};

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let server: TestServer;
let owner: Account;
let stranger: Account;
let accounts: Record<Exclude<Role, 'owner'>, Account>;
let limited: Account;
/** Real ids of the fixture organization, and of a second project the limited member may not see. */
let ids: Record<string, string>;
let hiddenIds: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  stranger = await ownerAccount(server);
  const granted = await project(server, owner.orgId, ['example.com'], SCREENSHOTS_ON);
  const hidden = await project(server, owner.orgId, ['example.com'], SCREENSHOTS_ON);
  accounts = {
    admin: await memberAccount(server, owner.orgId, 'admin'),
    member: await memberAccount(server, owner.orgId, 'member'),
    viewer: await memberAccount(server, owner.orgId, 'viewer'),
  };
  limited = await memberAccount(server, owner.orgId, 'member', [granted.id]);
  const invite = await server.request('POST', `/api/v1/orgs/${owner.orgId}/invites`, { cookie: owner.cookie, body: { email: 'pending@example.test', role: 'member' } });
  ids = {
    orgId: owner.orgId,
    projectId: granted.id,
    feedbackId: await feedbackWithScreenshot(server, granted),
    userId: accounts.member.userId,
    inviteId: invite.body.invite.id,
    // Not organization objects: any well-formed id does for the sweeps.
    sessionId: randomUUID(),
    passkeyId: 'AAAA',
  };
  hiddenIds = { ...ids, projectId: hidden.id, feedbackId: await feedbackWithScreenshot(server, hidden) };
});
afterAll(() => server.close());

const key = (route: AccessEntry) => `${route.method} ${route.url}`;
// HEAD runs the GET handler and answers no body to read a code from.
const declaredRoutes = () => server.app.accessTable.filter((r) => r.method !== 'HEAD');
const apiRoutes = () => declaredRoutes().filter((r) => r.url.startsWith('/api/v1/'));
const permissionOf = (route: AccessEntry): Permission | null => (typeof route.access === 'object' ? route.access.permission : null);
const orgRoutes = () => apiRoutes().filter((r) => permissionOf(r) !== null);

function pathOf(route: AccessEntry, values: Record<string, string>): string {
  return route.url.replace(/:(\w+)/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${key(route)}: the sweeps have no sample id for :${name}; add one to \`ids\``);
    return value;
  });
}

function call(route: AccessEntry, values: Record<string, string>, cookie: string | undefined, headers?: Record<string, string>): Promise<Reply> {
  const options = { cookie, body: SAMPLE_BODIES[key(route)] };
  return headers ? server.rawRequest(route.method, pathOf(route, values), { ...options, headers }) : server.request(route.method, pathOf(route, values), options);
}

// Everything a refused request could have touched, as one comparable value.
const WATCHED: Record<string, string> = {
  ...Object.fromEntries(
    ['organizations', 'memberships', 'users', 'projects', 'feedback', 'screenshots', 'invites', 'audit_events', 'outbox',
      'totp_credentials', 'webauthn_credentials', 'recovery_codes', 'password_resets', 'login_attempts'].map((table) => [table, table]),
  ),
  // last_seen_at moves on any request with a live session, refused or not.
  sessions: '(SELECT id_hash, user_id, stage, factor_at, rotate, expires_at, idle_ms, challenge FROM sessions)',
};
async function snapshot(): Promise<string[]> {
  return Promise.all(
    Object.entries(WATCHED).map(async ([name, source]) => {
      const { rows } = await server.db.superuser.query(`SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM ${source} t`);
      return `${name}: ${rows[0].n} ${rows[0].h}`;
    }),
  );
}

type Check = (route: AccessEntry, reply: Reply) => string | null;

/**
 * Runs `attempt` on each route and `check` on each answer; lists every route
 * that answered otherwise, and fails if the database changed.
 */
async function sweep(routes: AccessEntry[], attempt: (route: AccessEntry) => Promise<Reply>, check: Check): Promise<void> {
  const before = await snapshot();
  const wrong: string[] = [];
  for (const route of routes) {
    const problem = check(route, await attempt(route));
    if (problem) wrong.push(problem);
  }
  expect(wrong).toEqual([]);
  expect(await snapshot()).toEqual(before);
}

/** A refusal with this status and one of these codes, or what was answered instead. */
const refusal = (status: number, codes: string[]): Check => (route, reply) =>
  reply.status === status && codes.includes(reply.body?.code) ? null : `${key(route)}: expected ${status} ${codes.join('|')}, got ${reply.status} ${reply.text.slice(0, 300)}`;

describe('the route table', () => {
  it('refuses to register a route without an access declaration, or with a permission but no :orgId', async () => {
    const app = Fastify();
    registerAccessControl(app, server.ctx);
    expect(() => app.get('/api/v1/undeclared', async () => 'x')).toThrow(/declares no access/);
    expect(() => app.get('/api/v1/no-org', { config: { access: { permission: 'feedback.read' } } }, async () => 'x')).toThrow(/has no :orgId/);
    await app.close();
  });

  it('declares every /api/v1 route: a permission under :orgId, a session kind, or public from the allowlist', () => {
    const routes = apiRoutes();
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const permission = permissionOf(route);
      if (permission) {
        expect(route.url, key(route)).toMatch(/^\/api\/v1\/orgs\/:orgId\//);
      } else {
        expect(['public', 'any-session', 'mfa-step', 'enroll', 'session'], key(route)).toContain(route.access);
        expect(route.url, `${key(route)} is under /orgs/:orgId but names no permission`).not.toMatch(/:orgId/);
      }
    }
    expect(routes.filter((r) => r.access === 'public').map(key).sort()).toEqual([...PUBLIC_API].sort());
  });

  it('marks exactly the sensitive routes for re-authentication', () => {
    const marked = declaredRoutes().filter((r) => r.reauth).map(key);
    expect(marked.sort()).toEqual([...REAUTH].sort());
  });
});

describe('sweeps over every organization route', () => {
  it.each([['a viewer', 'viewer'], ['a member', 'member'], ['an admin', 'admin']] as const)('%s gets 403 forbidden on every route the role lacks, and nothing changes', async (_, role) => {
    const denied = orgRoutes().filter((r) => !hasPermission(role, permissionOf(r)!));
    if (role !== 'admin') expect(denied.filter((r) => MUTATING.has(r.method)).length).toBeGreaterThan(3);
    await sweep(denied, (route) => call(route, ids, accounts[role].cookie), refusal(403, ['forbidden']));
  });

  it("a member of another organization gets 404 on every route with this organization's ids, and nothing changes", async () => {
    await sweep(orgRoutes(), (route) => call(route, ids, stranger.cookie), refusal(404, ['not_found']));
  });

  it("a member of another organization gets 404 for this organization's objects under their own organization's id", async () => {
    const objectRoutes = orgRoutes().filter((r) => /:(projectId|feedbackId|userId|inviteId)/.test(r.url));
    expect(objectRoutes.length).toBeGreaterThan(5);
    await sweep(
      objectRoutes,
      (route) => call(route, { ...ids, orgId: stranger.orgId }, stranger.cookie),
      refusal(404, ['not_found', 'project_not_found']),
    );
  });

  it("a member limited to one project gets 404 on every project route with another project's ids (403 where the role lacks the permission)", async () => {
    const projectRoutes = orgRoutes().filter((r) => /:(projectId|feedbackId)/.test(r.url));
    expect(projectRoutes.length).toBeGreaterThan(5);
    await sweep(
      projectRoutes,
      (route) => call(route, hiddenIds, limited.cookie),
      (route, reply) => (hasPermission('member', permissionOf(route)!) ? refusal(404, ['not_found', 'project_not_found']) : refusal(403, ['forbidden']))(route, reply),
    );
  });

  it('every route that needs a session answers 401 without a cookie, and nothing changes', async () => {
    const routes = apiRoutes().filter((r) => r.access !== 'public');
    await sweep(routes, (route) => call(route, ids, undefined), refusal(401, ['unauthenticated']));
  });

  it('every state-changing route refuses a cross-site request or one without Fetch Metadata or Origin (403 csrf_rejected), even with a valid cookie', async () => {
    const routes = apiRoutes().filter((r) => MUTATING.has(r.method));
    const variants: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }, {}];
    for (const headers of variants) {
      await sweep(routes, (route) => call(route, ids, owner.cookie, headers), refusal(403, ['csrf_rejected']));
    }
  });
});

describe('re-authentication', () => {
  it('every sensitive route answers 403 reauth_required once the last factor is over 10 minutes old, and nothing changes', async () => {
    server.clock.advance(11 * 60_000);
    await sweep(declaredRoutes().filter((r) => r.reauth), (route) => call(route, ids, owner.cookie), refusal(403, ['reauth_required']));
  });
});

/** The permission table of docs/permissions.md, rendered from the code. */
function renderMatrix(): string {
  const { roles, permissions } = permissionMatrix();
  return [
    `| Permission | What it allows | ${roles.join(' | ')} |`,
    `| --- | --- | ${roles.map(() => ':-:').join(' | ')} |`,
    ...permissions.map((p) => `| \`${p.id}\` | ${p.description} | ${roles.map((r) => (p.roles.includes(r) ? '✓' : '')).join(' | ')} |`),
  ].join('\n');
}

describe('docs/permissions.md', () => {
  it('shows the permission table exactly as the code defines it', async () => {
    const doc = await readFile(new URL('../../../../docs/permissions.md', import.meta.url), 'utf8');
    const table = /<!-- matrix:start -->\n([\s\S]*?)\n<!-- matrix:end -->/.exec(doc)?.[1];
    const expected = renderMatrix();
    expect(table, `docs/permissions.md is out of date. Put this between <!-- matrix:start --> and <!-- matrix:end -->:\n\n${expected}\n`).toBe(expected);
  });
});
