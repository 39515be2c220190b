import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKey, bearer, logIn, memberAccount, project, type Account } from '../../../../test/factories.js';
import {
  apiRoutes, callRoute, createSweepFixture, MUTATING, orgRoutes, pathOf, permissionOf, refusal, routeKey, SAMPLE_BODIES, snapshot, sweep,
  type Check, type SweepFixture,
} from '../../../../test/route-sweep.js';
import { startTestServer, type Reply, type TestServer } from '../../../../test/server.js';
import type { AccessEntry } from '../auth/access.js';
import { API_SCOPES, isApiScope, type Permission } from '../auth/permissions.js';
import { newApiKey } from './token.js';

// The key sweep: every /api/v1 route called with every kind of wrong API
// key, each refusal exact, nothing changed but the audit rows that record
// key use. Then what a good key may do, how fast a creator's demotion or
// removal reaches their keys, the per-key limit, and the Idempotency-Key
// and ETag rules every route shares.

let server: TestServer;
let fixture: SweepFixture;

beforeAll(async () => {
  server = await startTestServer();
  fixture = await createSweepFixture(server);
});
afterAll(() => server.close());

const nonPublic = () => apiRoutes(server).filter((r) => r.access !== 'public');
/** Organization routes a key may be given the scope of. */
const keyRoutes = () => orgRoutes(server).filter((r) => isApiScope(permissionOf(r)!));
/** A new session of the fixture's owner (a fresh factor), its login's background jobs done. */
async function freshCookie(): Promise<string> {
  const cookie = await logIn(server, fixture.owner.email);
  await server.jobsDone();
  return cookie;
}
const withKey = (route: AccessEntry, values: Record<string, string>, token: string) => callRoute(server, route, values, undefined, bearer(token));

/** The audit events written since `mark` (see auditMark), by action. */
async function auditMark(): Promise<Record<string, number>> {
  const { rows } = await server.db.superuser.query<{ org_id: string; seq: string }>('SELECT org_id, max(seq) AS seq FROM audit_events GROUP BY org_id');
  return Object.fromEntries(rows.map((r) => [r.org_id, Number(r.seq)]));
}
async function auditSince(mark: Record<string, number>): Promise<{ action: string; actor_type: string; data: Record<string, unknown> }[]> {
  const { rows } = await server.db.superuser.query('SELECT action, actor_type, data FROM audit_events e WHERE e.seq > coalesce(($1::jsonb ->> e.org_id::text)::int, 0) ORDER BY org_id, seq', [mark]);
  return rows;
}

/**
 * A sweep with API keys: like `sweep`, but the audit rows the access check
 * writes for each key use (api_key.request, api_key.refused) may be added.
 * Nothing else may change. Returns those rows.
 */
async function keySweep(routes: AccessEntry[], attempt: (route: AccessEntry) => Promise<Reply>, check: Check) {
  const mark = await auditMark();
  await sweep(server, routes, attempt, check, ['audit_events']);
  const added = await auditSince(mark);
  expect(added.filter((e) => !e.action.startsWith('api_key.'))).toEqual([]);
  return added;
}

/** A 401 for a refused Bearer credential, naming the scheme as RFC 6750 §3 asks. */
const tokenRefusal = (code: string): Check => (route, reply) =>
  refusal(401, [code])(route, reply) ??
  (/^Bearer realm="parley", error="invalid_token", error_description="[^"]+"$/.test(reply.headers.get('www-authenticate') ?? '') ? null : `${routeKey(route)}: no WWW-Authenticate Bearer challenge`);

describe('the route table', () => {
  it('declares, for every /api/v1 route, an access a key is judged by: a scope, any key (principal), none (sessions only) or public', () => {
    const kinds = new Map<string, string[]>();
    for (const route of apiRoutes(server)) {
      const permission = permissionOf(route);
      const kind = permission ? (isApiScope(permission) ? 'scope' : 'session-only permission') : route.access === 'principal' ? 'any key' : route.access === 'public' ? 'public' : 'session only';
      kinds.set(kind, [...(kinds.get(kind) ?? []), routeKey(route)]);
      expect(route.access, routeKey(route)).toBeDefined();
    }
    expect(kinds.get('scope')!.length).toBeGreaterThan(10);
    expect(kinds.get('session only')!.length).toBeGreaterThan(10);
    expect(kinds.get('any key')).toEqual(['GET /api/v1/orgs']);
    expect(kinds.get('session-only permission')).toEqual(expect.arrayContaining(['POST /api/v1/orgs/:orgId/api-keys', 'PATCH /api/v1/orgs/:orgId/members/:userId']));
  });
});

describe('sweeps with the wrong key over every route', () => {
  it('a key without the route\'s scope gets 403 forbidden; on routes for sessions only, any key does', async () => {
    const lacking = Object.fromEntries(
      await Promise.all(API_SCOPES.map(async (scope) => [scope, (await apiKey(server, fixture.owner, { scopes: API_SCOPES.filter((s) => s !== scope) })).token])),
    ) as Record<Permission, string>;
    const full = await apiKey(server, fixture.owner);
    const routes = nonPublic().filter((r) => r.access !== 'principal');
    const added = await keySweep(
      routes,
      (route) => {
        const permission = permissionOf(route);
        return withKey(route, fixture.ids, permission && isApiScope(permission) ? lacking[permission] : full.token);
      },
      (route, reply) => {
        const permission = permissionOf(route);
        const detail = permission && isApiScope(permission) ? `This API key does not have the ${permission} scope.` : permission ? `API keys cannot be given ${permission}: use the dashboard for this.` : 'This endpoint is for people signed in to the dashboard; API keys cannot use it.';
        return refusal(403, ['forbidden'])(route, reply) ?? (reply.body.detail === detail ? null : `${routeKey(route)}: detail ${reply.body.detail}`);
      },
    );
    // Each use, refused or not, is in the log with the route and the answer.
    expect(added.map((e) => e.action)).toEqual(routes.map(() => 'api_key.request'));
    expect(added.map((e) => `${e.data.method} ${e.data.route} ${e.data.status}`).sort()).toEqual(routes.map((r) => `${routeKey(r)} 403`).sort());
  });

  it("a key limited to one project gets 404 on every route with another project's ids", async () => {
    const limited = await apiKey(server, fixture.owner, { projectIds: [fixture.ids.projectId!] });
    const routes = keyRoutes().filter((r) => /:(projectId|feedbackId)/.test(r.url));
    expect(routes.length).toBeGreaterThan(5);
    await keySweep(routes, (route) => withKey(route, fixture.hiddenIds, limited.token), refusal(404, ['not_found', 'project_not_found']));
  });

  it('an expired key gets 401 api_key_expired on every route, each refusal audited', async () => {
    const key = await apiKey(server, fixture.owner, { expiresAt: new Date(server.clock.now().getTime() + 60_000) });
    server.clock.advance(60_000);
    const added = await keySweep(nonPublic(), (route) => withKey(route, fixture.ids, key.token), tokenRefusal('api_key_expired'));
    expect(new Set(added.map((e) => `${e.action} ${e.data.reason}`))).toEqual(new Set(['api_key.refused expired']));
  });

  it('a revoked key gets 401 api_key_revoked on every route', async () => {
    const key = await apiKey(server, fixture.owner);
    const cookie = await freshCookie();
    expect((await server.request('DELETE', `/api/v1/orgs/${fixture.owner.orgId}/api-keys/${key.id}`, { cookie })).status).toBe(204);
    const added = await keySweep(nonPublic(), (route) => withKey(route, fixture.ids, key.token), tokenRefusal('api_key_revoked'));
    expect(new Set(added.map((e) => `${e.action} ${e.data.reason}`))).toEqual(new Set(['api_key.refused revoked']));
  });

  it("a key of another organization gets 404 on every organization route, and on this organization's objects under its own", async () => {
    const foreign = await apiKey(server, fixture.stranger);
    await keySweep(orgRoutes(server), (route) => withKey(route, fixture.ids, foreign.token), refusal(404, ['not_found']));
    const objectRoutes = orgRoutes(server).filter((r) => /:(projectId|feedbackId|userId|inviteId|keyId|labelId|webhookId|deliveryId|noteId)/.test(r.url));
    expect(objectRoutes.length).toBeGreaterThan(5);
    await keySweep(
      objectRoutes,
      (route) => withKey(route, { ...fixture.ids, orgId: fixture.stranger.orgId }, foreign.token),
      (route, reply) => (isApiScope(permissionOf(route)!) ? refusal(404, ['not_found', 'project_not_found']) : refusal(403, ['forbidden']))(route, reply),
    );
  });

  it('a malformed Authorization header gets 401 api_key_invalid on every route, and nothing is written', async () => {
    const { token } = await apiKey(server, fixture.owner);
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    const everywhere = [
      'Bearer x',
      `Basic ${Buffer.from(`${fixture.owner.email}:secret`).toString('base64')}`,
      `Bearer ${token.slice(0, -1)}${last}`, // wrong checksum
      `Bearer ${token} Bearer ${token}`,
      `Bearer ${newApiKey().token}`, // well formed, but no such key
    ];
    for (const authorization of everywhere) {
      await sweep(server, nonPublic(), (route) => callRoute(server, route, fixture.ids, undefined, { authorization }), tokenRefusal('api_key_invalid'));
    }
    // More spellings, each refused by the same parse: one route is enough.
    const before = await snapshot(server);
    for (const authorization of [`Bearer Bearer ${token}`, 'Bearer ', token, `Bearer  ${token}`, `Token ${token}`]) {
      const reply = await server.rawRequest('GET', `/api/v1/orgs/${fixture.owner.orgId}`, { headers: { authorization } });
      expect([reply.status, reply.body.code], authorization).toEqual([401, 'api_key_invalid']);
      expect(reply.body.detail).toBe('Send an API key as "Authorization: Bearer prl_…"; this header is not one.');
    }
    expect(await snapshot(server)).toEqual(before);
  });

  it('a key in the query string gets 400 api_key_in_url on every /api/v1 route, with or without the header, and nothing is written', async () => {
    const { token } = await apiKey(server, fixture.owner);
    const encoded = [...token].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    const attempts: [string, Record<string, string>][] = [[`?api_key=${token}`, {}], [`?access_token=${token}`, {}], [`?limit=5&q=${encoded}`, {}], [`?api_key=${token}`, bearer(token)]];
    for (const [query, headers] of attempts) {
      await sweep(
        server,
        apiRoutes(server),
        (route) => server.rawRequest(route.method, pathOf(route, fixture.ids) + query, { body: SAMPLE_BODIES[routeKey(route)], headers: { 'sec-fetch-site': 'same-origin', ...headers } }),
        refusal(400, ['api_key_in_url']),
      );
    }
    for (const query of [`?key=${token}`, `?token=${token}`, `?APIKEY=${token}`, `?access_token=${encodeURIComponent(token)}`, `?filter=x+${token}`]) {
      const reply = await server.rawRequest('GET', `/api/v1/orgs/${fixture.owner.orgId}${query}`, { headers: bearer(token) });
      expect([reply.status, reply.body.code], query).toEqual([400, 'api_key_in_url']);
      expect(reply.body.detail).toMatch(/Treat this key as leaked: revoke it/);
    }
  });

  it('a key is judged alone: a cookie riding along with a bad key, or with a key lacking the scope, grants nothing', async () => {
    const cookie = await freshCookie();
    await keySweep(nonPublic(), (route) => callRoute(server, route, fixture.ids, cookie, { authorization: 'Bearer x' }), tokenRefusal('api_key_invalid'));
    const reader = await apiKey(server, fixture.owner, { scopes: ['org_read'] });
    const writes = keyRoutes().filter((r) => MUTATING.has(r.method));
    await keySweep(writes, (route) => callRoute(server, route, fixture.ids, cookie, { ...bearer(reader.token), 'sec-fetch-site': 'same-origin' }), refusal(403, ['forbidden']));
  });

  it("a key does not open the cookie's CSRF exemption: public state-changing routes still refuse cross-site requests that carry one", async () => {
    const cookie = await freshCookie();
    const { token } = await apiKey(server, fixture.owner);
    const publicWrites = apiRoutes(server).filter((r) => r.access === 'public' && MUTATING.has(r.method));
    expect(publicWrites.map(routeKey)).toContain('POST /api/v1/invites/accept');
    for (const authorization of ['Bearer x', `Bearer ${token}`]) {
      await sweep(server, publicWrites, (route) => callRoute(server, route, fixture.ids, cookie, { authorization, 'sec-fetch-site': 'cross-site' }), refusal(403, ['csrf_rejected']));
    }
  });
});

describe('a key with the scope', () => {
  it('reads every route it holds the scope of; reads that are audited name the key', async () => {
    const reader = await apiKey(server, fixture.owner);
    const reads = keyRoutes().filter((r) => r.method === 'GET');
    expect(reads.length).toBeGreaterThan(5);
    const mark = await auditMark();
    await sweep(server, reads, (route) => withKey(route, fixture.ids, reader.token), (route, reply) => (reply.status === 200 ? null : `${routeKey(route)}: ${reply.status} ${reply.text.slice(0, 200)}`), ['audit_events']);
    expect((await auditSince(mark)).filter((e) => e.actor_type !== 'api_key')).toEqual([]);
  });

  it('changes what it may, as itself in the audit log; a limited key sees only its projects', async () => {
    const { id, token } = await apiKey(server, fixture.owner, { scopes: ['org_read', 'project_read', 'project_write'] });
    const base = `/api/v1/orgs/${fixture.owner.orgId}`;
    const orgs = await server.rawRequest('GET', '/api/v1/orgs', { headers: bearer(token) });
    expect(orgs.body.items).toEqual([{ id: fixture.owner.orgId, name: expect.any(String), role: 'owner' }]);
    const created = await server.rawRequest('POST', `${base}/projects`, { headers: bearer(token), body: { name: 'Made by a key', domains: ['example.org'] } });
    expect(created.status).toBe(201);
    const { rows } = await server.db.superuser.query("SELECT actor_type, actor_id, actor_label, ip FROM audit_events WHERE action = 'project.created' AND target_id = $1", [created.body.id]);
    expect(rows).toEqual([{ actor_type: 'api_key', actor_id: id, actor_label: expect.stringMatching(/^Key \w+ \(prl_\w{8}…\)$/), ip: '127.0.0.1' }]);
    const request = await server.db.superuser.query("SELECT data FROM audit_events WHERE action = 'api_key.request' AND target_id = $1 ORDER BY seq", [id]);
    expect(request.rows.map((r) => r.data)).toEqual([
      { method: 'GET', route: '/api/v1/orgs', status: 200 },
      { method: 'POST', route: '/api/v1/orgs/:orgId/projects', status: 201 },
    ]);

    const limited = await apiKey(server, fixture.owner, { scopes: ['project_read'], projectIds: [fixture.ids.projectId!] });
    const projects = await server.rawRequest('GET', `${base}/projects`, { headers: bearer(limited.token) });
    expect(projects.body.items.map((p: { id: string }) => p.id)).toEqual([fixture.ids.projectId]);
  });

  it('works only from its allowed addresses: 403 api_key_ip_not_allowed elsewhere, audited, nothing else changed', async () => {
    const { token } = await apiKey(server, fixture.owner, { allowedIps: ['127.0.0.2', '10.0.0.0/8'] });
    const url = `/api/v1/orgs/${fixture.owner.orgId}`;
    expect((await server.rawRequest('GET', url, { headers: bearer(token), from: '127.0.0.2' })).status).toBe(200);
    const mark = await auditMark();
    const before = await snapshot(server, ['audit_events']);
    const refused = await server.rawRequest('GET', url, { headers: bearer(token), from: '127.0.0.3' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'api_key_ip_not_allowed', detail: 'This API key may not be used from 127.0.0.3.' });
    expect(await snapshot(server, ['audit_events'])).toEqual(before);
    expect(await auditSince(mark)).toEqual([{ action: 'api_key.refused', actor_type: 'api_key', data: { reason: 'address', method: 'GET', route: '/api/v1/orgs/:orgId' } }]);
  });
});

describe("a creator's demotion or removal reaches their keys at once", () => {
  const base = () => `/api/v1/orgs/${fixture.owner.orgId}`;
  const use = (token: string, method = 'GET', path = '', body?: unknown) => server.rawRequest(method, `${base()}${path}`, { headers: bearer(token), body });
  const changeMember = (account: Account, body: unknown) => server.request('PATCH', `${base()}/members/${account.userId}`, { cookie: fixture.owner.cookie, body });
  async function keyRow(id: string) {
    const { rows } = await server.db.superuser.query('SELECT scopes, project_ids, revoked_at, revoked_reason, version FROM api_keys WHERE id = $1', [id]);
    return rows[0];
  }
  const auditOf = async (id: string) => (await server.db.superuser.query('SELECT action, actor_id, data FROM audit_events WHERE target_id = $1 AND action <> $2 ORDER BY seq', [id, 'api_key.request'])).rows;

  it('demotion drops the scopes the new role lacks (audited); with none left the key is revoked; promotion gives nothing back', async () => {
    const admin = await memberAccount(server, fixture.owner.orgId, 'admin');
    const wide = await apiKey(server, admin);
    const writer = await apiKey(server, admin, { scopes: ['project_write', 'webhooks_write'] });
    expect((await use(wide.token, 'POST', '/projects', { name: 'Before', domains: ['example.org'] })).status).toBe(201);

    expect((await changeMember(admin, { role: 'member' })).status).toBe(200);
    const refused = await use(wide.token, 'POST', '/projects', { name: 'After', domains: ['example.org'] });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe('This API key does not have the project_write scope.');
    expect((await use(wide.token, 'GET', '/projects')).status).toBe(200);
    const memberScopes = ['org_read', 'project_read', 'feedback_read', 'feedback_create', 'feedback_update', 'labels_write', 'members_read'];
    expect(await keyRow(wide.id)).toMatchObject({ scopes: memberScopes, revoked_at: null, version: 2 });
    expect(await auditOf(wide.id)).toContainEqual({
      action: 'api_key.narrowed', actor_id: fixture.owner.userId,
      data: { from: { scopes: API_SCOPES, projectIds: null }, to: { scopes: memberScopes, projectIds: null }, creator: admin.userId },
    });
    const gone = await use(writer.token);
    expect([gone.status, gone.body.code]).toEqual([401, 'api_key_revoked']);
    expect(await keyRow(writer.id)).toMatchObject({ scopes: ['project_write', 'webhooks_write'], revoked_reason: 'creator_demoted' });

    expect((await changeMember(admin, { role: 'admin' })).status).toBe(200);
    expect((await keyRow(wide.id)).scopes).toEqual(memberScopes);
    expect((await use(writer.token)).status).toBe(401);
  });

  it('new project limits shrink project lists (revoked when none is left); a key without a list follows its creator', async () => {
    const [a, b, c] = [fixture.ids.projectId!, fixture.hiddenIds.projectId!, (await project(server, fixture.owner.orgId)).id];
    const member = await memberAccount(server, fixture.owner.orgId, 'member');
    const listed = await apiKey(server, member, { scopes: ['project_read'], projectIds: [a, b] });
    const onlyB = await apiKey(server, member, { scopes: ['project_read'], projectIds: [b] });
    const open = await apiKey(server, member, { scopes: ['project_read'] });

    expect((await changeMember(member, { projectIds: [a, c] })).status).toBe(200);
    expect(await keyRow(listed.id)).toMatchObject({ project_ids: [a], revoked_at: null });
    expect((await use(listed.token, 'GET', `/projects/${b}`)).status).toBe(404);
    expect((await use(listed.token, 'GET', `/projects/${a}`)).status).toBe(200);
    expect(await keyRow(onlyB.id)).toMatchObject({ revoked_reason: 'creator_demoted' });
    expect((await use(onlyB.token)).body.code).toBe('api_key_revoked');
    expect(await keyRow(open.id)).toMatchObject({ project_ids: null, revoked_at: null, version: 1 });
    expect((await use(open.token, 'GET', `/projects/${b}`)).status).toBe(404);
    expect((await use(open.token, 'GET', `/projects/${c}`)).status).toBe(200);
  });

  it('removal, or leaving, revokes every key of the member at once (audited, creator_removed)', async () => {
    const leaver = await memberAccount(server, fixture.owner.orgId, 'member');
    const removed = await memberAccount(server, fixture.owner.orgId, 'admin');
    const keys = [await apiKey(server, leaver), await apiKey(server, removed), await apiKey(server, removed, { scopes: ['org_read'] })];
    for (const key of keys) expect((await use(key.token)).status).toBe(200);

    expect((await server.request('DELETE', `${base()}/members/me`, { cookie: leaver.cookie })).status).toBe(204);
    expect((await server.request('DELETE', `${base()}/members/${removed.userId}`, { cookie: fixture.owner.cookie })).status).toBe(204);
    for (const key of keys) {
      const reply = await use(key.token);
      expect([reply.status, reply.body.code]).toEqual([401, 'api_key_revoked']);
      expect(await keyRow(key.id)).toMatchObject({ revoked_reason: 'creator_removed' });
      expect((await auditOf(key.id)).filter((e) => e.action === 'api_key.revoked')).toHaveLength(1);
    }
  });

  it('even if a role or membership changed behind the service, the access check holds the key to its creator', async () => {
    const admin = await memberAccount(server, fixture.owner.orgId, 'admin');
    const key = await apiKey(server, admin, { scopes: ['org_read', 'project_write'] });
    await server.db.superuser.query("UPDATE memberships SET role = 'viewer' WHERE user_id = $1", [admin.userId]);
    const demoted = await use(key.token, 'POST', '/projects', { name: 'Nope', domains: ['example.org'] });
    expect([demoted.status, demoted.body.detail]).toEqual([403, "The role of this key's creator (viewer) no longer allows project_write."]);
    expect((await use(key.token)).status).toBe(200);
    await server.db.superuser.query('DELETE FROM memberships WHERE user_id = $1', [admin.userId]);
    const gone = await use(key.token);
    expect([gone.status, gone.body.code, gone.body.detail]).toEqual([401, 'api_key_revoked', 'This API key was revoked: its creator is no longer a member.']);
  });
});

describe('storage', () => {
  it('keeps only a keyed hash: the key is found nowhere in the database, not even the idempotent answer that held it', async () => {
    const cookie = await freshCookie();
    const created = await server.request('POST', `/api/v1/orgs/${fixture.owner.orgId}/api-keys`, { cookie, body: { name: 'Hashed', scopes: ['org_read'] }, headers: { 'idempotency-key': 'hashed-1' } });
    expect(created.status).toBe(201);
    const { token } = created.body;
    expect((await server.rawRequest('GET', `/api/v1/orgs/${fixture.owner.orgId}`, { headers: bearer(token) })).status).toBe(200);
    const tables = await server.db.superuser.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
    expect(tables.rows.length).toBeGreaterThan(20);
    for (const { name } of tables.rows) {
      const { rows } = await server.db.superuser.query(`SELECT coalesce(string_agg(t::text, ''), '') AS text FROM "${name}" t`);
      expect(rows[0].text.includes(token.slice(4)), name).toBe(false);
    }
  });
});

describe('per-key rate limit', () => {
  // The key's budget (300 in 5 minutes) is spent straight in the shared store
  // down to its last 3 requests, which then go over HTTP.
  const spendAllBut = async (keyId: string, left: number) => {
    const rule = { name: 'api-key', points: server.ctx.config.apiKeyRateLimit, seconds: 300 };
    await server.app.shared.consume(rule, keyId, rule.points - left);
  };

  it('answers 429 rate_limit_api_key with Retry-After and RateLimit headers past the limit, per key, changing nothing', async () => {
    const [busy, calm] = [await apiKey(server, fixture.owner), await apiKey(server, fixture.owner)];
    await spendAllBut(busy.id, 3);
    const url = `/api/v1/orgs/${fixture.owner.orgId}`;
    for (let remaining = 2; remaining >= 0; remaining--) {
      const ok = await server.rawRequest('GET', url, { headers: bearer(busy.token) });
      expect([ok.status, ok.headers.get('ratelimit-limit'), ok.headers.get('ratelimit-remaining')]).toEqual([200, '300', String(remaining)]);
    }
    const before = await snapshot(server);
    const refused = await server.rawRequest('GET', url, { headers: bearer(busy.token) });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'rate_limit_api_key', detail: expect.stringMatching(/^This API key has made too many requests\. Please try again in \d+ (seconds|minutes)\.$/) });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(200);
    expect([refused.headers.get('ratelimit-limit'), refused.headers.get('ratelimit-remaining')]).toEqual(['300', '0']);
    expect(Number(refused.headers.get('ratelimit-reset'))).toBeGreaterThan(200);
    expect(await snapshot(server)).toEqual(before);
    expect((await server.rawRequest('GET', url, { headers: bearer(calm.token) })).status).toBe(200);
  });

  it('a flood with a revoked key is refused as revoked, and audited only until its budget is spent', async () => {
    const revoked = await apiKey(server, fixture.owner);
    await server.db.superuser.query("UPDATE api_keys SET revoked_at = now(), revoked_reason = 'revoked' WHERE id = $1", [revoked.id]);
    await spendAllBut(revoked.id, 3);
    for (let i = 0; i < 6; i++) {
      const reply = await server.rawRequest('GET', `/api/v1/orgs/${fixture.owner.orgId}`, { headers: bearer(revoked.token) });
      expect([reply.status, reply.body.code]).toEqual([401, 'api_key_revoked']);
    }
    const { rows } = await server.db.superuser.query("SELECT count(*)::int AS n FROM audit_events WHERE action = 'api_key.refused' AND target_id = $1", [revoked.id]);
    expect(rows[0].n).toBe(3);
  });
});

// Idempotency-Key and If-Match are the same for every route (http/idempotency.ts,
// http/etag.ts): tested once here, on a route each, with an API key.
describe('Idempotency-Key on POST', () => {
  const projects = () => `/api/v1/orgs/${fixture.owner.orgId}/projects`;
  const post = (token: string, idempotencyKey: string, body: unknown) => server.rawRequest('POST', projects(), { headers: { ...bearer(token), 'idempotency-key': idempotencyKey }, body });
  const named = async (name: string) => (await server.db.superuser.query('SELECT count(*)::int AS n FROM projects WHERE name = $1', [name])).rows[0].n;

  it('replays the first answer to a retry, refusals included, creating once; another caller has keys of its own', async () => {
    const { token } = await apiKey(server, fixture.owner);
    const first = await post(token, 'create-shop', { name: 'Idempotent shop', domains: ['example.org'] });
    expect(first.status).toBe(201);
    const retry = await post(token, 'create-shop', { name: 'Idempotent shop', domains: ['example.org'] });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(await named('Idempotent shop')).toBe(1);

    const refused = await post(token, 'bad-domain', { name: 'Refused', domains: ['*'] });
    expect(refused.status).toBe(400);
    const again = await post(token, 'bad-domain', { name: 'Refused', domains: ['*'] });
    expect([again.status, again.headers.get('idempotent-replayed'), again.body]).toEqual([400, 'true', refused.body]);

    const other = await apiKey(server, fixture.owner);
    expect((await post(other.token, 'create-shop', { name: 'Idempotent shop', domains: ['example.org'] })).status).toBe(201);
    expect(await named('Idempotent shop')).toBe(2);
  });

  it('refuses the same key with another request (422 idempotency_key_reused) and a malformed key (400), changing nothing', async () => {
    const { token } = await apiKey(server, fixture.owner);
    expect((await post(token, 'once', { name: 'Once', domains: ['example.org'] })).status).toBe(201);
    const before = await snapshot(server, ['audit_events']);
    const reused = await post(token, 'once', { name: 'Twice', domains: ['example.org'] });
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ code: 'idempotency_key_reused', detail: 'This Idempotency-Key was already used for a different request. Use a new key for each new request.' });
    for (const bad of ['has space', 'x'.repeat(256), 'naïve']) {
      const reply = await post(token, bad, { name: 'Bad key', domains: ['example.org'] });
      expect([reply.status, reply.body.code], bad).toEqual([400, 'idempotency_key_invalid']);
    }
    expect(await snapshot(server, ['audit_events'])).toEqual(before);
  });

  it('answers 409 idempotency_key_in_use while the first request runs, and lets an abandoned one be retried after a minute', async () => {
    const { id, token } = await apiKey(server, fixture.owner);
    // What an instance that died mid-request leaves behind: a claim without an answer.
    await server.db.superuser.query('INSERT INTO idempotency_keys (principal, key, request_hash, created_at) VALUES ($1, $2, $3, $4)', [`api_key:${id}`, 'running', Buffer.alloc(32), server.clock.now()]);
    const before = await snapshot(server, ['audit_events']);
    const busy = await post(token, 'running', { name: 'Running', domains: ['example.org'] });
    expect([busy.status, busy.body.code, busy.headers.get('retry-after')]).toEqual([409, 'idempotency_key_in_use', '1']);
    expect(await snapshot(server, ['audit_events'])).toEqual(before);
    server.clock.advance(61_000);
    expect((await post(token, 'running', { name: 'Running', domains: ['example.org'] })).status).toBe(201);
  });

  it('never replays an answer that held a secret: the retry of a key creation gets 409 idempotency_replay_unavailable, and no second key', async () => {
    const cookie = await freshCookie();
    const create = () => server.request('POST', `/api/v1/orgs/${fixture.owner.orgId}/api-keys`, { cookie, body: { name: 'Once only', scopes: ['org_read'] }, headers: { 'idempotency-key': 'new-key' } });
    const first = await create();
    expect(first.status).toBe(201);
    const retry = await create();
    expect(retry.status).toBe(409);
    expect(retry.body).toMatchObject({ code: 'idempotency_replay_unavailable', detail: 'A request with this Idempotency-Key already succeeded; its answer held a secret that is shown only once.' });
    expect(retry.text).not.toContain(first.body.token);
    const { rows } = await server.db.superuser.query("SELECT count(*)::int AS n FROM api_keys WHERE name = 'Once only'");
    expect(rows[0].n).toBe(1);
  });
});

describe('ETag and If-Match', () => {
  it('a change with the ETag just read succeeds and moves it on; a stale or malformed one is 412 precondition_failed and changes nothing', async () => {
    const { token } = await apiKey(server, fixture.owner);
    const url = `/api/v1/orgs/${fixture.owner.orgId}/projects/${fixture.ids.projectId}`;
    const patch = (ifMatch: string | undefined, name: string) => server.rawRequest('PATCH', url, { headers: { ...bearer(token), ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }) }, body: { name } });
    const read = await server.rawRequest('GET', url, { headers: bearer(token) });
    const etag = read.headers.get('etag')!;
    expect(etag).toBe(`"${read.body.version}"`);

    const changed = await patch(etag, 'Renamed once');
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe(`"${read.body.version + 1}"`);
    expect(changed.body.version).toBe(read.body.version + 1);

    const before = await snapshot(server, ['audit_events']);
    const stale = await patch(etag, 'Lost update');
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ code: 'precondition_failed', detail: `Someone changed this since you read it (you read version ${read.body.version}, it is now ${read.body.version + 1}). Load it again, then make your change.` });
    for (const malformed of ['3', '"x"', '"1", "2"']) {
      const reply = await patch(malformed, 'Malformed');
      expect([reply.status, reply.body.code], malformed).toEqual([412, 'precondition_failed']);
    }
    expect(await snapshot(server, ['audit_events'])).toEqual(before);

    expect((await patch('*', 'Any version')).status).toBe(200);
    expect((await patch(undefined, 'No precondition')).status).toBe(200);
  });

  it('of several changes sent at once with the same ETag, exactly one wins', async () => {
    const { token } = await apiKey(server, fixture.owner);
    const url = `/api/v1/orgs/${fixture.owner.orgId}/projects/${fixture.ids.projectId}`;
    const etag = (await server.rawRequest('GET', url, { headers: bearer(token) })).headers.get('etag')!;
    const replies = await Promise.all([1, 2, 3, 4].map((n) => server.rawRequest('PATCH', url, { headers: { ...bearer(token), 'if-match': etag }, body: { name: `Racer ${n}` } })));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 412, 412, 412]);
  });
});

describe('Idempotency-Key lifetime', () => {
  it('is kept 24 hours: after that the same key starts a new request', async () => {
    const { token } = await apiKey(server, fixture.owner);
    const post = (name: string) => server.rawRequest('POST', `/api/v1/orgs/${fixture.owner.orgId}/projects`, { headers: { ...bearer(token), 'idempotency-key': 'daily' }, body: { name, domains: ['example.org'] } });
    expect((await post('Day one')).status).toBe(201);
    server.clock.advance(24 * 3_600_000 - 1000);
    expect((await post('Day two')).status).toBe(422);
    server.clock.advance(1000);
    expect((await post('Day two')).status).toBe(201);
  });
});
