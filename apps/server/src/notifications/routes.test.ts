import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKey, bearer, memberAccount, ownerAccount, project, type Account } from '../../../../test/factories.js';
import { expectRefusal } from '../../../../test/refusal.js';
import { snapshot } from '../../../../test/route-sweep.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import type { Project } from '../projects/service.js';

let server: TestServer;
let owner: Account;
let stranger: Account;
let shop: Project;
let blog: Project;
let theirs: Project;
let limited: Account;

const URL_ = '/api/v1/me/notifications';

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server, 'Acme');
  stranger = await ownerAccount(server, 'Globex');
  shop = await project(server, owner.orgId);
  // Projects are listed in creation order: a second apart, so the order is known.
  server.clock.advance(1_000);
  blog = await project(server, owner.orgId);
  theirs = await project(server, stranger.orgId);
  limited = await memberAccount(server, owner.orgId, 'member', [shop.id]);
});
afterAll(() => server.close());

const get = (account: Account) => server.request('GET', URL_, { cookie: account.cookie });
const put = (account: Account, body: unknown) => server.request('PUT', URL_, { cookie: account.cookie, body });

describe('GET /api/v1/me/notifications', () => {
  it('lists every project the user can see, in every organization, with none by default', async () => {
    const reply = await get(owner);
    expect(reply.status).toBe(200);
    expect(reply.body.items).toEqual([
      { orgId: owner.orgId, orgName: 'Acme', projectId: shop.id, projectName: shop.name, mode: 'none' },
      { orgId: owner.orgId, orgName: 'Acme', projectId: blog.id, projectName: blog.name, mode: 'none' },
    ]);
  });

  it("covers each organization the user belongs to, and only the projects a limited member may see", async () => {
    const both = await memberAccount(server, stranger.orgId, 'viewer');
    await server.db.superuser.query(`INSERT INTO memberships (org_id, user_id, role, project_ids, created_at) VALUES ($1, $2, 'member', $3, now())`, [owner.orgId, both.userId, [blog.id]]);
    // Organizations come in creation order; these two were created at the same (fake) instant.
    expect((await get(both)).body.items.map((i: { projectId: string }) => i.projectId).sort()).toEqual([blog.id, theirs.id].sort());
    expect((await get(limited)).body.items.map((i: { projectId: string }) => i.projectId)).toEqual([shop.id]);
  });
});

describe('PUT /api/v1/me/notifications', () => {
  it('sets, changes and clears the choice for one project, for this user only', async () => {
    const admin = await memberAccount(server, owner.orgId, 'admin');
    const set = await put(admin, { orgId: owner.orgId, projectId: blog.id, mode: 'instant' });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ orgId: owner.orgId, orgName: 'Acme', projectId: blog.id, projectName: blog.name, mode: 'instant' });
    expect((await put(admin, { orgId: owner.orgId, projectId: blog.id, mode: 'daily' })).body.mode).toBe('daily');
    expect((await get(admin)).body.items.map((i: { mode: string }) => i.mode)).toEqual(['none', 'daily']);
    expect((await get(owner)).body.items.map((i: { mode: string }) => i.mode)).toEqual(['none', 'none']);
    expect((await put(admin, { orgId: owner.orgId, projectId: blog.id, mode: 'none' })).body.mode).toBe('none');
    const { rows } = await server.db.superuser.query('SELECT * FROM notification_settings WHERE user_id = $1', [admin.userId]);
    expect(rows).toEqual([]);
  });

  it('lets a viewer and a limited member choose for the projects they see', async () => {
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    expect((await put(viewer, { orgId: owner.orgId, projectId: shop.id, mode: 'daily' })).status).toBe(200);
    expect((await put(limited, { orgId: owner.orgId, projectId: shop.id, mode: 'instant' })).status).toBe(200);
  });

  it('is forgotten when the member leaves the organization', async () => {
    const leaving = await memberAccount(server, owner.orgId, 'member');
    await put(leaving, { orgId: owner.orgId, projectId: shop.id, mode: 'instant' });
    const removed = await server.request('DELETE', `/api/v1/orgs/${owner.orgId}/members/${leaving.userId}`, { cookie: owner.cookie });
    expect(removed.status).toBe(204);
    const { rows } = await server.db.superuser.query('SELECT * FROM notification_settings WHERE user_id = $1', [leaving.userId]);
    expect(rows).toEqual([]);
  });

  describe('refusals, each changing nothing', () => {
    it("404 project_not_found for another tenant's project under the user's own organization", async () => {
      const answer = await expectRefusal(server, () => put(owner, { orgId: owner.orgId, projectId: theirs.id, mode: 'instant' }), 404, 'project_not_found');
      expect(answer.body.detail).toMatch(/No such project/);
    });

    it("404 not_found for another tenant's organization, with its project or one of the user's own", async () => {
      const answer = await expectRefusal(server, () => put(owner, { orgId: stranger.orgId, projectId: theirs.id, mode: 'instant' }), 404, 'not_found');
      expect(answer.body.detail).toMatch(/No such organization/);
      await expectRefusal(server, () => put(owner, { orgId: stranger.orgId, projectId: shop.id, mode: 'instant' }), 404, 'not_found');
    });

    it('404 project_not_found for a project the limited member may not see, exactly as for one that does not exist', async () => {
      await expectRefusal(server, () => put(limited, { orgId: owner.orgId, projectId: blog.id, mode: 'instant' }), 404, 'project_not_found');
      await expectRefusal(server, () => put(limited, { orgId: owner.orgId, projectId: '6f1c0c7e-0000-4000-8000-000000000000', mode: 'instant' }), 404, 'project_not_found');
    });

    it.each([
      ['an unknown mode', { mode: 'hourly' }],
      ['a project id that is not a uuid', { projectId: "x' OR '1'='1" }],
      ['no mode', { mode: undefined }],
      ['another user (mass assignment)', { userId: '6f1c0c7e-0000-4000-8000-000000000000' }],
    ])('400 validation_failed for %s', async (_, change) => {
      await expectRefusal(server, () => put(owner, { orgId: owner.orgId, projectId: shop.id, mode: 'instant', ...change }), 400, 'validation_failed');
    });

    it('401 unauthenticated without a session, 403 for any API key (a preference of a person)', async () => {
      await expectRefusal(server, () => server.request('PUT', URL_, { body: { orgId: owner.orgId, projectId: shop.id, mode: 'instant' } }), 401, 'unauthenticated');
      const key = await apiKey(server, owner);
      const before = await snapshot(server, ['audit_events', 'api_keys']);
      for (const method of ['GET', 'PUT']) {
        const reply = await server.request(method, URL_, { headers: bearer(key.token), body: method === 'PUT' ? { orgId: owner.orgId, projectId: shop.id, mode: 'instant' } : undefined });
        expect([reply.status, reply.body.code]).toEqual([403, 'forbidden']);
      }
      expect(await snapshot(server, ['audit_events', 'api_keys'])).toEqual(before);
    });
  });
});
