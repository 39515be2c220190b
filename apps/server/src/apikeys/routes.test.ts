import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKey, bearer, memberAccount, ownerAccount, project, type Account } from '../../../../test/factories.js';
import { snapshot } from '../../../../test/route-sweep.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { API_SCOPES } from '../auth/permissions.js';
import { createApiKey, MAX_LIVE_KEYS, revokeApiKey, type NewApiKey } from './service.js';

// The API key routes: what a key looks like when created and listed, every
// rule on creation (each refusal changes nothing), and revocation.

let server: TestServer;
let owner: Account;
let other: Account;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  other = await ownerAccount(server);
});
afterAll(() => server.close());

const keysOf = (orgId: string) => `/api/v1/orgs/${orgId}/api-keys`;
const create = (by: Account, body: unknown, headers: Record<string, string> = {}) => server.request('POST', keysOf(by.orgId), { cookie: by.cookie, body, headers });
const list = (by: Account, query = '') => server.request('GET', `${keysOf(by.orgId)}${query}`, { cookie: by.cookie });
const revoke = (by: Account, id: string) => server.request('DELETE', `${keysOf(by.orgId)}/${id}`, { cookie: by.cookie });
const DAY = 24 * 3_600_000;
const inDays = (days: number) => new Date(server.clock.now().getTime() + days * DAY).toISOString();

async function auditOf(orgId: string, action: string) {
  const { rows } = await server.db.superuser.query('SELECT actor_type, actor_id, target_id, data FROM audit_events WHERE org_id = $1 AND action = $2 ORDER BY seq', [orgId, action]);
  return rows;
}

describe('POST /api/v1/orgs/:orgId/api-keys', () => {
  it('creates a key shown once (no-store), which works at once, and audits its creation without the key', async () => {
    const shop = await project(server, owner.orgId);
    const reply = await create(owner, { name: ' CI deploys ', scopes: ['feedback_read', 'org_read'], projectIds: [shop.id], allowedIps: ['127.0.0.1', '2001:DB8::/32'], expiresAt: inDays(90) });
    expect(reply.status).toBe(201);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    const { key, token } = reply.body;
    expect(token).toMatch(/^prl_[0-9A-Za-z]{38}$/);
    expect(key).toEqual({
      id: expect.any(String),
      name: 'CI deploys',
      prefix: token.slice(0, 12),
      // In the permission table's order, whatever order they were asked in.
      scopes: ['org_read', 'feedback_read'],
      projectIds: [shop.id],
      allowedIps: ['127.0.0.1', '2001:db8::/32'],
      expiresAt: inDays(90),
      createdAt: server.clock.now().toISOString(),
      createdBy: { id: owner.userId, name: 'Owner', email: owner.email },
      lastUsedAt: null,
      lastUsedIp: null,
      revokedAt: null,
      revokedReason: null,
      status: 'active',
      version: 1,
    });
    const used = await server.rawRequest('GET', `/api/v1/orgs/${owner.orgId}`, { headers: bearer(token) });
    expect(used.status).toBe(200);
    const [created] = await auditOf(owner.orgId, 'api_key.created');
    expect(created).toEqual({
      actor_type: 'user', actor_id: owner.userId, target_id: key.id,
      data: { name: 'CI deploys', prefix: key.prefix, scopes: ['org_read', 'feedback_read'], projectIds: [shop.id], allowedIps: ['127.0.0.1', '2001:db8::/32'], expiresAt: inDays(90), createdBy: owner.userId },
    });
    expect(JSON.stringify(created)).not.toContain(token.slice(4));
  });

  it('takes the optional limits as absent: every project, any address, no expiry', async () => {
    const reply = await create(owner, { name: 'Minimal', scopes: ['org_read'] });
    expect(reply.status).toBe(201);
    expect(reply.body.key).toMatchObject({ projectIds: null, allowedIps: [], expiresAt: null, status: 'active' });
  });

  describe('refuses, creating nothing', () => {
    const valid = { name: 'Valid', scopes: ['feedback_read'] };
    it.each([
      ['a scope for the dashboard only', { ...valid, scopes: ['members_write'] }, /scopes\/0 must be equal to one of the allowed values/],
      ['an unknown scope', { ...valid, scopes: ['root'] }, /scopes\/0/],
      ['no scope', { ...valid, scopes: [] }, /scopes must NOT have fewer than 1 items/],
      ['the same scope twice', { ...valid, scopes: ['org_read', 'org_read'] }, /duplicate items/],
      ['an empty project list', { ...valid, projectIds: [] }, /projectIds/],
      ['a project id that is not a uuid', { ...valid, projectIds: ['x'] }, /projectIds/],
      ['an address that is not one', { ...valid, allowedIps: ['localhost'] }, /allowedIps: "localhost" is not an IP address or CIDR range/],
      ['a prefix length out of range', { ...valid, allowedIps: ['10.0.0.0/33'] }, /allowedIps: "10.0.0.0\/33" is not/],
      ['an expiry in the past', { ...valid, expiresAt: '2026-05-01T00:00:00.000Z' }, /expiresAt must be in the future/],
      ['an expiry more than 366 days ahead', { ...valid, expiresAt: '2027-06-10T00:00:00.000Z' }, /at most one year \(366 days\) ahead/],
      ['an expiry that is not a date-time', { ...valid, expiresAt: 'tomorrow' }, /expiresAt must match format "date-time"/],
      ['a blank name', { ...valid, name: '   ' }, /name must match pattern/],
      ['a name over 100 characters', { ...valid, name: 'n'.repeat(101) }, /name must NOT have more than 100 characters/],
      ['a creator named in the body', { ...valid, createdBy: '00000000-0000-4000-8000-000000000000' }, /unknown property "createdBy"/],
      ['an organization named in the body', { ...valid, orgId: '00000000-0000-4000-8000-000000000000' }, /unknown property "orgId"/],
    ])('%s: 400 validation_failed', async (_, body, detail) => {
      const before = await snapshot(server);
      const reply = await create(owner, body);
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe('validation_failed');
      expect(reply.body.detail).toMatch(detail);
      expect(await snapshot(server)).toEqual(before);
    });

    it("another organization's project, named among its own: 400 naming only the foreign id", async () => {
      const mine = await project(server, owner.orgId);
      const theirs = await project(server, other.orgId);
      const before = await snapshot(server);
      const reply = await create(owner, { ...valid, projectIds: [mine.id, theirs.id] });
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ code: 'validation_failed', detail: `projectIds: ${theirs.id} is not a project of this organization that you can see.` });
      expect(await snapshot(server)).toEqual(before);
    });

    it('a creator limited to some projects cannot reach others through a key, nor hand out scopes their role lacks (403)', async () => {
      const seen = await project(server, owner.orgId);
      const unseen = await project(server, owner.orgId);
      const limited = await memberAccount(server, owner.orgId, 'member', [seen.id]);
      const before = await snapshot(server);
      await expect(apiKey(server, limited, { projectIds: [unseen.id] })).rejects.toMatchObject({ code: 'validation_failed', detail: expect.stringContaining(unseen.id) });
      await expect(apiKey(server, limited, { scopes: ['feedback_read', 'project_write', 'webhooks_read'] })).rejects.toMatchObject({
        status: 403, code: 'forbidden', detail: 'A key cannot do more than its creator: the member role does not have project_write, webhooks_read.',
      });
      expect(await snapshot(server)).toEqual(before);
      expect(await apiKey(server, limited, { projectIds: [seen.id] })).toMatchObject({ id: expect.any(String) });
    });

    it('what only the command line can send: unknown or dashboard-only scopes, ids that are not UUIDs, a year and a day, a creator from elsewhere', async () => {
      const before = await snapshot(server);
      const refusals = [
        [{ scopes: ['root', 'org_read'] }, 'scopes: root is not a scope; the scopes are org_read, project_read, project_write, feedback_read, feedback_create, feedback_update, feedback_delete, labels_write, members_read, webhooks_read, webhooks_write, audit_read.'],
        [{ scopes: ['members_write'] }, 'scopes: members_write cannot be given to API keys (the dashboard only).'],
        [{ scopes: [] }, `scopes: give at least one of ${API_SCOPES.join(', ')}.`],
        [{ projectIds: ['not-a-project'] }, 'projectIds: not-a-project is not a project of this organization that you can see.'],
        [{ name: ' ' }, 'name: 1 to 100 characters.'],
        [{ expiresAt: new Date(server.clock.now().getTime() + 367 * DAY) }, 'expiresAt may be at most one year (366 days) ahead; create a new key before then, or pass null for a key that never expires.'],
      ] as const;
      for (const [options, detail] of refusals) {
        await expect(apiKey(server, owner, options as Partial<NewApiKey>), detail).rejects.toMatchObject({ code: 'validation_failed', detail });
      }
      await expect(revokeApiKey(server.ctx.db.app, owner.orgId, 'nonsense', { type: 'system' }, server.clock.now())).rejects.toMatchObject({ code: 'not_found' });
      const stranger = { userId: other.userId, actor: { type: 'system' as const } };
      await expect(createApiKey(server.ctx.db.app, server.ctx.keyring, owner.orgId, stranger, { name: 'Foreign', scopes: ['org_read'], projectIds: null, allowedIps: [], expiresAt: null }, server.clock.now()))
        .rejects.toMatchObject({ code: 'forbidden', detail: 'An API key acts for a member of its organization; its creator is not one.' });
      expect(await snapshot(server)).toEqual(before);
    });

    it(`the ${MAX_LIVE_KEYS + 1}st live key of an organization: 409 conflict; revoked and expired keys do not count`, async () => {
      const busy = await ownerAccount(server);
      await apiKey(server, busy, { expiresAt: new Date(server.clock.now().getTime() + 60_000) });
      const keys = [];
      for (let i = 1; i < MAX_LIVE_KEYS; i++) keys.push(await apiKey(server, busy, { scopes: ['org_read'] }));
      const before = await snapshot(server);
      const refused = await create(busy, valid);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'conflict', detail: `This organization already has ${MAX_LIVE_KEYS} active API keys, the most it may have. Revoke the ones no longer in use first.` });
      expect(await snapshot(server)).toEqual(before);

      expect((await revoke(busy, keys[0]!.id)).status).toBe(204);
      expect((await create(busy, valid)).status).toBe(201);
      expect((await create(busy, valid)).status).toBe(409);
      server.clock.advance(61_000);
      expect((await create(busy, valid)).status).toBe(201);
    });
  });

  it('is not for API keys, even one holding every scope: 403 forbidden', async () => {
    const key = await apiKey(server, owner);
    const before = await snapshot(server, ['audit_events']);
    const reply = await server.rawRequest('POST', keysOf(owner.orgId), { headers: bearer(key.token), body: { name: 'Child', scopes: ['org_read'] } });
    expect(reply.status).toBe(403);
    expect(reply.body).toMatchObject({ code: 'forbidden', detail: 'API keys cannot be given apikeys_write: use the dashboard for this.' });
    expect(await snapshot(server, ['audit_events'])).toEqual(before);
  });
});

describe('GET /api/v1/orgs/:orgId/api-keys', () => {
  it('lists the keys newest first with their state, last use and creator, never the key, a page at a time', async () => {
    const team = await ownerAccount(server);
    const admin = await memberAccount(server, team.orgId, 'admin');
    const revoked = await apiKey(server, team, { name: 'revoked' });
    server.clock.advance(1000);
    const expired = await apiKey(server, admin, { name: 'expired', expiresAt: new Date(server.clock.now().getTime() + 1000) });
    server.clock.advance(1000);
    const used = await apiKey(server, team, { name: 'used' });
    server.clock.advance(2000);
    expect((await revoke(team, revoked.id)).status).toBe(204);
    const usedAt = server.clock.now().toISOString();
    expect((await server.rawRequest('GET', `/api/v1/orgs/${team.orgId}`, { headers: bearer(used.token) })).status).toBe(200);

    const reply = await list(team);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.text).not.toContain(used.token.slice(12));
    expect(reply.body.nextCursor).toBeNull();
    expect(reply.body.items.map((k: { name: string; status: string; revokedReason: string | null }) => [k.name, k.status, k.revokedReason])).toEqual([
      ['used', 'active', null],
      ['expired', 'expired', null],
      ['revoked', 'revoked', 'revoked'],
    ]);
    expect(reply.body.items[0]).toMatchObject({ lastUsedAt: usedAt, lastUsedIp: '127.0.0.1', createdBy: { id: team.userId, email: team.email } });
    expect(reply.body.items[1]).toMatchObject({ id: expired.id, createdBy: { id: admin.userId, name: 'admin', email: admin.email } });
    expect(reply.body.items[2]).toMatchObject({ revokedAt: usedAt, version: 2 });

    const first = await list(team, '?limit=2');
    expect(first.body.items.map((k: { name: string }) => k.name)).toEqual(['used', 'expired']);
    const second = await list(team, `?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toEqual({ items: [expect.objectContaining({ name: 'revoked' })], nextCursor: null });
    expect((await list(team, '?status=expired')).body.items.map((k: { id: string }) => k.id)).toEqual([expired.id]);
    expect((await list(team, '?status=active')).body.items.map((k: { id: string }) => k.id)).toEqual([used.id]);
  });

  it("shows no other organization's keys", async () => {
    await apiKey(server, other, { name: 'theirs' });
    const names = (await list(owner)).body.items.map((k: { name: string }) => k.name);
    expect(names).not.toContain('theirs');
  });

  it.each([
    ['a cursor that is not one', '?cursor=bm90LWEtY3Vyc29y', /cursor is not valid/],
    ['a limit over 100', '?limit=101', /limit must match pattern/],
    ['an unknown status', '?status=deleted', /status/],
    ['an unknown parameter', '?orgId=x', /unknown property "orgId"/],
  ])('refuses %s: 400 validation_failed', async (_, query, detail) => {
    const reply = await list(owner, query);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('validation_failed');
    expect(reply.body.detail).toMatch(detail);
  });
});

describe('DELETE /api/v1/orgs/:orgId/api-keys/:keyId', () => {
  it('revokes at once (the next request is 401 api_key_revoked), audits once, and is idempotent', async () => {
    const key = await apiKey(server, owner);
    expect((await server.rawRequest('GET', `/api/v1/orgs/${owner.orgId}`, { headers: bearer(key.token) })).status).toBe(200);
    const reply = await revoke(owner, key.id);
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    const refused = await server.rawRequest('GET', `/api/v1/orgs/${owner.orgId}`, { headers: bearer(key.token) });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('api_key_revoked');
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer realm="parley", error="invalid_token"/);
    expect((await auditOf(owner.orgId, 'api_key.revoked')).filter((e) => e.target_id === key.id)).toEqual([
      { actor_type: 'user', actor_id: owner.userId, target_id: key.id, data: { reason: 'revoked' } },
    ]);

    const before = await snapshot(server);
    expect((await revoke(owner, key.id)).status).toBe(204);
    expect(await snapshot(server)).toEqual(before);
  });

  it("answers 404 for an unknown key and for another organization's key, which keeps working", async () => {
    const theirs = await apiKey(server, other);
    const before = await snapshot(server);
    for (const id of [theirs.id, '00000000-0000-4000-8000-000000000000']) {
      const reply = await revoke(owner, id);
      expect(reply.status).toBe(404);
      expect(reply.body).toMatchObject({ code: 'not_found', detail: 'No such API key in this organization.' });
    }
    expect(await snapshot(server)).toEqual(before);
    expect((await server.rawRequest('GET', `/api/v1/orgs/${other.orgId}`, { headers: bearer(theirs.token) })).status).toBe(200);
  });
});
