import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberAccount, ownerAccount, PASSWORD, project, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';

// member.added / member.updated / member.removed: written with the change
// that makes them, organization-wide (no project), and never carrying the
// member's e-mail or name: webhook receivers get ids, roles and project
// limits only.

let server: TestServer;
let owner: Account;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
});
afterAll(() => server.close());

const base = () => `/api/v1/orgs/${owner.orgId}`;

async function memberEvents(subjectId: string) {
  const { rows } = await server.db.superuser.query(
    "SELECT type, project_id, data FROM events WHERE org_id = $1 AND subject_id = $2 AND type LIKE 'member.%' ORDER BY seq",
    [owner.orgId, subjectId],
  );
  return rows;
}

describe('member events', () => {
  it('an accepted invitation adds the member: member.added with id, role and project limits, no e-mail', async () => {
    const shop = await project(server, owner.orgId);
    const email = `joiner-${Date.now()}@example.test`;
    const invited = await server.request('POST', `${base()}/invites`, { cookie: owner.cookie, body: { email, role: 'viewer', projectIds: [shop.id] } });
    const token = new URL(invited.body.link).hash.slice('#token='.length);
    const accepted = await server.request('POST', '/api/v1/invites/accept', { body: { token, name: 'Joiner', password: PASSWORD } });
    expect(accepted.status).toBe(200);
    const userId = accepted.body.user.id;
    const events = await memberEvents(userId);
    expect(events).toEqual([{ type: 'member.added', project_id: null, data: { userId, role: 'viewer', projectIds: [shop.id] } }]);
    expect(JSON.stringify(events)).not.toContain(email);
  });

  it('a change of role or projects is member.updated with the new standing; a change that changes nothing writes none', async () => {
    const member = await memberAccount(server, owner.orgId, 'member');
    const shop = await project(server, owner.orgId);
    const patch = (body: unknown) => server.request('PATCH', `${base()}/members/${member.userId}`, { cookie: owner.cookie, body });
    expect((await patch({ role: 'viewer' })).status).toBe(200);
    expect((await patch({ projectIds: [shop.id] })).status).toBe(200);
    expect((await patch({ role: 'viewer', projectIds: [shop.id] })).status).toBe(200);
    expect(await memberEvents(member.userId)).toEqual([
      { type: 'member.updated', project_id: null, data: { userId: member.userId, role: 'viewer', projectIds: null } },
      { type: 'member.updated', project_id: null, data: { userId: member.userId, role: 'viewer', projectIds: [shop.id] } },
    ]);
  });

  it('a removal, or leaving, is member.removed with the role and limits the member had; a refused removal writes none', async () => {
    const removed = await memberAccount(server, owner.orgId, 'admin');
    const leaver = await memberAccount(server, owner.orgId, 'member');
    expect((await server.request('DELETE', `${base()}/members/${removed.userId}`, { cookie: owner.cookie })).status).toBe(204);
    expect((await server.request('DELETE', `${base()}/members/me`, { cookie: leaver.cookie })).status).toBe(204);
    expect(await memberEvents(removed.userId)).toEqual([{ type: 'member.removed', project_id: null, data: { userId: removed.userId, role: 'admin', projectIds: null } }]);
    expect(await memberEvents(leaver.userId)).toEqual([{ type: 'member.removed', project_id: null, data: { userId: leaver.userId, role: 'member', projectIds: null } }]);

    const lastOwner = await server.request('DELETE', `${base()}/members/me`, { cookie: owner.cookie });
    expect([lastOwner.status, lastOwner.body.code]).toEqual([409, 'last_owner']);
    expect(await memberEvents(owner.userId)).toEqual([]);
  });
});
