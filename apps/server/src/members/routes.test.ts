import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn, memberAccount, ownerAccount, project, type Account } from '../../../../test/factories.js';
import { sessionCookie, startTestServer, type TestServer } from '../../../../test/server.js';
import type { Role } from '../orgs/service.js';

let server: TestServer;
let owner: Account;
let other: Account;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  other = await ownerAccount(server);
});
afterAll(() => server.close());

const membersOf = (orgId: string) => `/api/v1/orgs/${orgId}/members`;
const patch = (by: Account, userId: string, body: unknown) => server.request('PATCH', `${membersOf(by.orgId)}/${userId}`, { cookie: by.cookie, body });
const remove = (by: Account, userId: string) => server.request('DELETE', `${membersOf(by.orgId)}/${userId}`, { cookie: by.cookie });

async function roleOf(account: Account): Promise<{ role: Role; project_ids: string[] | null } | undefined> {
  const { rows } = await server.db.superuser.query('SELECT role, project_ids FROM memberships WHERE org_id = $1 AND user_id = $2', [account.orgId, account.userId]);
  return rows[0];
}

async function auditActions(orgId: string, targetId: string): Promise<{ action: string; data: Record<string, unknown> }[]> {
  const { rows } = await server.db.superuser.query('SELECT action, data FROM audit_events WHERE org_id = $1 AND target_id = $2 ORDER BY seq', [orgId, targetId]);
  return rows;
}

/** A fresh organization: tests that change roles must not disturb each other. */
async function team() {
  const boss = await ownerAccount(server);
  return { boss, admin: await memberAccount(server, boss.orgId, 'admin'), member: await memberAccount(server, boss.orgId, 'member') };
}

describe('GET /api/v1/orgs/:orgId/members', () => {
  it('lists every member with role, project limits and MFA, for any role', async () => {
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    const reply = await server.request('GET', membersOf(owner.orgId), { cookie: viewer.cookie });
    expect(reply.status).toBe(200);
    expect(reply.body.items).toContainEqual({ userId: owner.userId, email: owner.email, name: 'Owner', role: 'owner', projectIds: null, mfa: false, joinedAt: expect.any(String) });
    expect(reply.body.items).toContainEqual(expect.objectContaining({ userId: viewer.userId, role: 'viewer' }));
    expect(Object.keys(reply.body.items[0]).sort()).toEqual(['email', 'joinedAt', 'mfa', 'name', 'projectIds', 'role', 'userId']);
  });

  it('answers 404 to a member of another organization', async () => {
    const reply = await server.request('GET', membersOf(owner.orgId), { cookie: other.cookie });
    expect(reply.status).toBe(404);
    expect(reply.body.code).toBe('not_found');
  });
});

describe('PATCH /api/v1/orgs/:orgId/members/:userId', () => {
  it('changes a role, audits from/to, and gives the member a new session id on their next request', async () => {
    const { boss, member } = await team();
    const reply = await patch(boss, member.userId, { role: 'admin' });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ userId: member.userId, role: 'admin', projectIds: null });
    expect(await auditActions(boss.orgId, member.userId)).toContainEqual({ action: 'member.role_changed', data: { from: 'member', to: 'admin' } });

    const next = await server.request('GET', '/api/v1/me', { cookie: member.cookie });
    expect(next.status).toBe(200);
    const rotated = sessionCookie(next);
    expect(rotated).not.toBe(member.cookie);
    expect((await server.request('GET', '/api/v1/me', { cookie: member.cookie })).status).toBe(401);
    const after = await server.request('GET', '/api/v1/me', { cookie: rotated });
    expect(after.status).toBe(200);
    expect(after.headers.getSetCookie()).toEqual([]);
  });

  it('lets nobody grant a role above their own: an admin cannot make an owner, nor raise themself', async () => {
    const { boss, admin, member } = await team();
    for (const [target, body] of [[member, { role: 'owner' }], [admin, { role: 'owner' }]] as const) {
      const reply = await patch(admin, target.userId, body);
      expect(reply.status).toBe(403);
      expect(reply.body.code).toBe('forbidden');
      expect((await roleOf(target))!.role).toBe(target === admin ? 'admin' : 'member');
    }
    expect((await roleOf(boss))!.role).toBe('owner');
  });

  it('lets only an owner change an owner', async () => {
    const { boss, admin } = await team();
    for (const body of [{ role: 'member' }, { projectIds: null }]) {
      const reply = await patch(admin, boss.userId, body);
      expect(reply.status).toBe(403);
      expect(reply.body.code).toBe('forbidden');
    }
    expect((await roleOf(boss))!.role).toBe('owner');
  });

  it('lets an admin demote another admin and themself', async () => {
    const { boss, admin } = await team();
    const second = await memberAccount(server, boss.orgId, 'admin');
    expect((await patch(admin, second.userId, { role: 'viewer' })).body.role).toBe('viewer');
    expect((await patch(admin, admin.userId, { role: 'member' })).body.role).toBe('member');
  });

  it('refuses to demote the last owner (409 last_owner) and leaves the role as it was', async () => {
    const { boss } = await team();
    const reply = await patch(boss, boss.userId, { role: 'admin' });
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('last_owner');
    expect((await roleOf(boss))!.role).toBe('owner');
    expect((await auditActions(boss.orgId, boss.userId)).map((e) => e.action)).not.toContain('member.role_changed');
  });

  it('keeps an owner when two owners are demoted at the same moment (row lock)', async () => {
    for (let round = 0; round < 3; round++) {
      const { boss } = await team();
      const second = await memberAccount(server, boss.orgId, 'owner');
      const replies = await Promise.all([patch(boss, second.userId, { role: 'admin' }), patch(second, boss.userId, { role: 'admin' })]);
      // The loser is refused as the last owner (409), or, when its access
      // check ran after the winner's commit, as the admin it now is (403).
      const [won, lost] = replies.sort((a, b) => a.status - b.status);
      expect(won!.status).toBe(200);
      expect([[409, 'last_owner'], [403, 'forbidden']]).toContainEqual([lost!.status, lost!.body.code]);
      const { rows } = await server.db.superuser.query("SELECT count(*)::int AS n FROM memberships WHERE org_id = $1 AND role = 'owner'", [boss.orgId]);
      expect(rows[0].n).toBe(1);
    }
  });

  it('limits a member to projects of this organization, and audits the change', async () => {
    const { boss, member } = await team();
    const mine = await project(server, boss.orgId);
    const reply = await patch(boss, member.userId, { projectIds: [mine.id, mine.id] });
    expect(reply.status).toBe(200);
    expect(reply.body.projectIds).toEqual([mine.id]);
    expect(await auditActions(boss.orgId, member.userId)).toContainEqual({ action: 'member.projects_changed', data: { from: null, to: [mine.id] } });
    // Promoting to admin lifts the limit: admins always see every project.
    expect((await patch(boss, member.userId, { role: 'admin' })).body.projectIds).toBeNull();
  });

  it("refuses another organization's project, an unknown one, and limits on owners and admins (400 validation_failed)", async () => {
    const { boss, admin, member } = await team();
    const theirs = await project(server, other.orgId);
    const mine = await project(server, boss.orgId);
    const cases = [
      [member, { projectIds: [theirs.id] }, /not a project of this organization/],
      [member, { projectIds: ['00000000-0000-4000-8000-000000000000'] }, /not a project of this organization/],
      [admin, { projectIds: [mine.id] }, /always see every project/],
      [member, { role: 'admin', projectIds: [mine.id] }, /always see every project/],
    ] as const;
    for (const [target, body, detail] of cases) {
      const reply = await patch(boss, target.userId, body);
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe('validation_failed');
      expect(reply.body.detail).toMatch(detail);
      expect((await roleOf(target))!.project_ids).toBeNull();
    }
    expect(JSON.stringify(await patch(boss, member.userId, { projectIds: [theirs.id] }))).not.toContain(theirs.name);
  });

  it('refuses unknown roles and extra fields (mass assignment: orgId, userId, email) with 400 validation_failed', async () => {
    const { boss, member } = await team();
    for (const body of [{ role: 'superuser' }, { role: 'admin', orgId: other.orgId }, { role: 'admin', userId: boss.userId }, { email: 'x@example.test' }, {}]) {
      const reply = await patch(boss, member.userId, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.code).toBe('validation_failed');
    }
    expect((await roleOf(member))!.role).toBe('member');
  });

  it('answers 404 for a user who is not a member, and for a member of another organization', async () => {
    const { boss } = await team();
    for (const userId of [other.userId, '00000000-0000-4000-8000-000000000000']) {
      const reply = await patch(boss, userId, { role: 'viewer' });
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe('not_found');
    }
    expect((await roleOf(other))!.role).toBe('owner');
  });

  it('refuses members and viewers (403 forbidden)', async () => {
    const { boss, member } = await team();
    const viewer = await memberAccount(server, boss.orgId, 'viewer');
    for (const by of [member, viewer]) {
      const reply = await patch(by, by.userId, { role: 'admin' });
      expect(reply.status).toBe(403);
      expect(reply.body.code).toBe('forbidden');
    }
  });
});

describe('DELETE /api/v1/orgs/:orgId/members/:userId', () => {
  it('removes a member, ends all their sessions at once, and audits it', async () => {
    const { boss, member } = await team();
    const secondDevice = await logIn(server, member.email);
    const reply = await remove(boss, member.userId);
    expect(reply.status).toBe(204);
    expect(await roleOf(member)).toBeUndefined();
    for (const cookie of [member.cookie, secondDevice]) {
      const after = await server.request('GET', '/api/v1/me', { cookie });
      expect(after.status).toBe(401);
      expect(after.body.code).toBe('unauthenticated');
    }
    const { rows } = await server.db.superuser.query('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [member.userId]);
    expect(rows[0].n).toBe(0);
    expect(await auditActions(boss.orgId, member.userId)).toContainEqual({ action: 'member.removed', data: { role: 'member', left: false } });
  });

  it('lets only an owner remove an owner, and never the last one', async () => {
    const { boss, admin } = await team();
    const byAdmin = await remove(admin, boss.userId);
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.code).toBe('forbidden');
    const last = await remove(boss, boss.userId);
    expect(last.status).toBe(409);
    expect(last.body.code).toBe('last_owner');
    expect((await roleOf(boss))!.role).toBe('owner');
    expect((await server.request('GET', '/api/v1/me', { cookie: boss.cookie })).status).toBe(200);
  });

  it('revokes the pending invites a removed admin sent', async () => {
    const { boss, admin } = await team();
    const invite = await server.request('POST', `/api/v1/orgs/${boss.orgId}/invites`, { cookie: admin.cookie, body: { email: 'friend-of-admin@example.test', role: 'admin' } });
    expect(invite.status).toBe(201);
    await remove(boss, admin.userId);
    const lookup = await server.request('POST', '/api/v1/invites/lookup', { body: { token: new URL(invite.body.link).hash.slice('#token='.length) } });
    expect(lookup.body.code).toBe('token_invalid');
  });

  it('refuses members and viewers removing someone else (403), and strangers (404)', async () => {
    const { boss, member } = await team();
    const viewer = await memberAccount(server, boss.orgId, 'viewer');
    expect((await remove(viewer, member.userId)).body.code).toBe('forbidden');
    expect((await remove(member, viewer.userId)).body.code).toBe('forbidden');
    const stranger = await server.request('DELETE', `${membersOf(boss.orgId)}/${member.userId}`, { cookie: other.cookie });
    expect(stranger.status).toBe(404);
    expect(await roleOf(member)).toBeDefined();
  });
});

describe('DELETE /api/v1/orgs/:orgId/members/me', () => {
  it('lets any member leave; the session they leave with stays, without access to the organization', async () => {
    const { boss } = await team();
    const viewer = await memberAccount(server, boss.orgId, 'viewer');
    const otherDevice = await logIn(server, viewer.email);
    const reply = await server.request('DELETE', `${membersOf(boss.orgId)}/me`, { cookie: viewer.cookie });
    expect(reply.status).toBe(204);
    expect(await roleOf(viewer)).toBeUndefined();
    expect((await server.request('GET', '/api/v1/me', { cookie: viewer.cookie })).status).toBe(200);
    expect((await server.request('GET', '/api/v1/me', { cookie: otherDevice })).status).toBe(401);
    expect((await server.request('GET', membersOf(boss.orgId), { cookie: viewer.cookie })).status).toBe(404);
    expect(await auditActions(boss.orgId, viewer.userId)).toContainEqual({ action: 'member.removed', data: { role: 'viewer', left: true } });
  });

  it('does not let the last owner leave', async () => {
    const { boss } = await team();
    const reply = await server.request('DELETE', `${membersOf(boss.orgId)}/me`, { cookie: boss.cookie });
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('last_owner');
    expect((await roleOf(boss))!.role).toBe('owner');
  });
});
