import { readFile } from 'node:fs/promises';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiRoutes, callRoute, createSweepFixture, declaredRoutes, MUTATING, orgRoutes, permissionOf, refusal, routeKey, sweep, type SweepFixture,
} from '../../../../test/route-sweep.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { registerAccessControl } from './access.js';
import { hasPermission, permissionMatrix } from './permissions.js';

// The route table, and sweeps over it: every route declares who may call it,
// and every organization route refuses the wrong role, the wrong tenant, the
// wrong project, no session and a cross-site request, changing nothing.

/** Routes anyone may call: adding one here is a deliberate decision. */
const PUBLIC_API = [
  'GET /api/v1/openapi.json',
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
  'GET /api/v1/orgs/:orgId/audit/export',
  'POST /api/v1/orgs/:orgId/projects/:projectId/identity-secret',
  'DELETE /api/v1/orgs/:orgId/projects/:projectId',
  'PUT /api/v1/orgs/:orgId/projects/:projectId/protection/captcha-secret',
  'POST /api/v1/orgs/:orgId/api-keys',
  'POST /api/v1/orgs/:orgId/webhooks',
  'PATCH /api/v1/orgs/:orgId/webhooks/:webhookId',
  'POST /api/v1/orgs/:orgId/webhooks/:webhookId/rotate-secret',
  'POST /api/v1/me/mfa/totp',
  'DELETE /api/v1/me/mfa/totp',
  'POST /api/v1/me/mfa/passkeys/options',
  'DELETE /api/v1/me/mfa/passkeys/:passkeyId',
  'POST /api/v1/me/mfa/recovery-codes',
];

let server: TestServer;
let fixture: SweepFixture;

beforeAll(async () => {
  server = await startTestServer();
  fixture = await createSweepFixture(server);
});
afterAll(() => server.close());

describe('the route table', () => {
  it('refuses to register a route without an access declaration, or with a permission but no :orgId', async () => {
    const app = Fastify();
    registerAccessControl(app, server.ctx, server.app.shared);
    expect(() => app.get('/api/v1/undeclared', async () => 'x')).toThrow(/declares no access/);
    expect(() => app.get('/api/v1/no-org', { config: { access: { permission: 'feedback_read' } } }, async () => 'x')).toThrow(/has no :orgId/);
    await app.close();
  });

  it('declares every /api/v1 route: a permission under :orgId, a session kind, or public from the allowlist', () => {
    const routes = apiRoutes(server);
    expect(routes.length).toBeGreaterThan(20);
    for (const route of routes) {
      const permission = permissionOf(route);
      if (permission) {
        expect(route.url, routeKey(route)).toMatch(/^\/api\/v1\/orgs\/:orgId(\/|$)/);
      } else {
        expect(['public', 'any-session', 'mfa-step', 'enroll', 'session', 'principal'], routeKey(route)).toContain(route.access);
        expect(route.url, `${routeKey(route)} is under /orgs/:orgId but names no permission`).not.toMatch(/:orgId/);
      }
    }
    expect(routes.filter((r) => r.access === 'public').map(routeKey).sort()).toEqual([...PUBLIC_API].sort());
  });

  it('marks exactly the sensitive routes for re-authentication', () => {
    const marked = declaredRoutes(server).filter((r) => r.reauth).map(routeKey);
    expect(marked.sort()).toEqual([...REAUTH].sort());
  });
});

describe('sweeps over every organization route', () => {
  it.each([['a viewer', 'viewer'], ['a member', 'member'], ['an admin', 'admin']] as const)('%s gets 403 forbidden on every route the role lacks, and nothing changes', async (_, role) => {
    const denied = orgRoutes(server).filter((r) => !hasPermission(role, permissionOf(r)!));
    if (role !== 'admin') expect(denied.filter((r) => MUTATING.has(r.method)).length).toBeGreaterThan(3);
    await sweep(server, denied, (route) => callRoute(server, route, fixture.ids, fixture.accounts[role].cookie), refusal(403, ['forbidden']));
  });

  it("a member of another organization gets 404 on every route with this organization's ids, and nothing changes", async () => {
    await sweep(server, orgRoutes(server), (route) => callRoute(server, route, fixture.ids, fixture.stranger.cookie), refusal(404, ['not_found']));
  });

  it("a member of another organization gets 404 for this organization's objects under their own organization's id", async () => {
    const objectRoutes = orgRoutes(server).filter((r) => /:(projectId|feedbackId|userId|inviteId|keyId|webhookId|deliveryId|labelId|noteId)/.test(r.url));
    expect(objectRoutes.length).toBeGreaterThan(5);
    await sweep(
      server,
      objectRoutes,
      (route) => callRoute(server, route, { ...fixture.ids, orgId: fixture.stranger.orgId }, fixture.stranger.cookie),
      refusal(404, ['not_found', 'project_not_found']),
    );
  });

  it("a member limited to one project gets 404 on every project route with another project's ids (403 where the role lacks the permission)", async () => {
    const projectRoutes = orgRoutes(server).filter((r) => /:(projectId|feedbackId)/.test(r.url));
    expect(projectRoutes.length).toBeGreaterThan(5);
    await sweep(
      server,
      projectRoutes,
      (route) => callRoute(server, route, fixture.hiddenIds, fixture.limited.cookie),
      (route, reply) => (hasPermission('member', permissionOf(route)!) ? refusal(404, ['not_found', 'project_not_found']) : refusal(403, ['forbidden']))(route, reply),
    );
  });

  it('every route that needs a session answers 401 without a cookie, and nothing changes', async () => {
    const routes = apiRoutes(server).filter((r) => r.access !== 'public');
    await sweep(server, routes, (route) => callRoute(server, route, fixture.ids, undefined), refusal(401, ['unauthenticated']));
  });

  it('every state-changing route refuses a cross-site request or one without Fetch Metadata or Origin (403 csrf_rejected), even with a valid cookie', async () => {
    const routes = apiRoutes(server).filter((r) => MUTATING.has(r.method));
    const variants: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }, {}];
    for (const headers of variants) {
      await sweep(server, routes, (route) => callRoute(server, route, fixture.ids, fixture.owner.cookie, headers), refusal(403, ['csrf_rejected']));
    }
  });
});

describe('re-authentication', () => {
  it('every sensitive route answers 403 reauth_required once the last factor is over 10 minutes old, and nothing changes', async () => {
    server.clock.advance(11 * 60_000);
    await sweep(server, declaredRoutes(server).filter((r) => r.reauth), (route) => callRoute(server, route, fixture.ids, fixture.owner.cookie), refusal(403, ['reauth_required']));
  });
});

/** The permission table of docs/permissions.md, rendered from the code. */
function renderMatrix(): string {
  const { roles, permissions } = permissionMatrix();
  return [
    `| Permission (scope) | What it allows | ${roles.join(' | ')} | API keys |`,
    `| --- | --- | ${roles.map(() => ':-:').join(' | ')} | :-: |`,
    ...permissions.map((p) => `| \`${p.id}\` | ${p.description} | ${roles.map((r) => (p.roles.includes(r) ? '✓' : '')).join(' | ')} | ${p.apiKey ? '✓' : ''} |`),
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
