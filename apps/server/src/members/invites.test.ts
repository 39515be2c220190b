import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, logIn, memberAccount, ownerAccount, PASSWORD, project, type Account } from '../../../../test/factories.js';
import { PUBLIC_URL, sessionCookie, startTestServer, type TestServer } from '../../../../test/server.js';
import { linkIn, startTestSmtp, type TestSmtp } from '../../../../test/smtp.js';
import { INVITE_TTL_MS } from './invites.js';

let smtp: TestSmtp;
let server: TestServer;
let owner: Account;
let other: Account;

beforeAll(async () => {
  smtp = await startTestSmtp();
  server = await startTestServer({ SMTP_URL: smtp.url });
  owner = await ownerAccount(server);
  other = await ownerAccount(server);
});
afterAll(async () => {
  await server.close();
  await smtp.close();
});

const invitesOf = (orgId: string) => `/api/v1/orgs/${orgId}/invites`;
const invite = (by: Account, body: Record<string, unknown>) => server.request('POST', invitesOf(by.orgId), { cookie: by.cookie, body });
const tokenOf = (link: string) => new URL(link).hash.slice('#token='.length);
const lookup = (token: string) => server.request('POST', '/api/v1/invites/lookup', { body: { token } });
const accept = (body: Record<string, unknown>, cookie?: string) => server.request('POST', '/api/v1/invites/accept', { body, cookie });

let n = 0;
const newAddress = () => `invitee-${++n}-${Date.now()}@example.test`;

async function membership(orgId: string, email: string) {
  const { rows } = await server.db.superuser.query(
    'SELECT m.role, m.project_ids FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND u.email = $2',
    [orgId, email],
  );
  return rows[0];
}

/** The state an invite acceptance may change, to show a refused one changed nothing. */
async function snapshot() {
  const { rows } = await server.db.superuser.query('SELECT id, accepted_at, revoked_at FROM invites ORDER BY id');
  return { invites: rows, users: await countRows(server, 'users'), memberships: await countRows(server, 'memberships'), sessions: await countRows(server, 'sessions') };
}

describe('POST /api/v1/orgs/:orgId/invites', () => {
  it('answers the invite and its link, mails the link, stores only a hash of the token, and audits it', async () => {
    const email = newAddress();
    const reply = await invite(owner, { email: email.toUpperCase(), role: 'member' });
    expect(reply.status).toBe(201);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body.invite).toEqual({
      id: expect.any(String), email, role: 'member', projectIds: null, createdAt: '2026-06-01T12:00:00.000Z',
      expiresAt: new Date(Date.parse('2026-06-01T12:00:00.000Z') + INVITE_TTL_MS).toISOString(), invitedBy: { id: owner.userId, name: 'Owner' },
    });
    expect(reply.body.link).toMatch(new RegExp(`^${PUBLIC_URL}/invite#token=[A-Za-z0-9_-]{43}$`));

    const mail = await smtp.nextMail(email, /invited you/);
    expect(linkIn(mail, `${PUBLIC_URL}/invite#token=`)).toBe(reply.body.link);
    expect(mail.text).toContain(owner.email);
    expect(mail.text).toContain('as member');
    expect(mail.text).toContain('2026-06-08 12:00 UTC');

    const token = tokenOf(reply.body.link);
    const { rows } = await server.db.superuser.query('SELECT token_hash FROM invites WHERE id = $1', [reply.body.invite.id]);
    expect(rows[0].token_hash.length).toBe(32);
    expect(rows[0].token_hash.includes(Buffer.from(token))).toBe(false);
    const audit = await server.db.superuser.query('SELECT action, data FROM audit_events WHERE org_id = $1 AND target_id = $2', [owner.orgId, reply.body.invite.id]);
    expect(audit.rows).toEqual([{ action: 'member.invited', data: { email, role: 'member', projectIds: null } }]);
  });

  it('answers the same whether or not the address has an account (elsewhere)', async () => {
    const known = await invite(owner, { email: other.email, role: 'viewer' });
    const unknown = await invite(owner, { email: newAddress(), role: 'viewer' });
    expect(known.status).toBe(unknown.status);
    const shape = (body: { invite: Record<string, unknown>; link: string }) => ({ ...body.invite, id: 'x', email: 'x', link: body.link.length });
    expect(shape(known.body)).toEqual(shape(unknown.body));
    expect(Object.keys(known.body)).toEqual(Object.keys(unknown.body));
  });

  it('refuses an address that is already a member of this organization (409 conflict)', async () => {
    const member = await memberAccount(server, owner.orgId, 'member');
    const reply = await invite(owner, { email: member.email, role: 'admin' });
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('conflict');
  });

  it('lets nobody invite to a role above their own, nor members and viewers invite at all', async () => {
    const admin = await memberAccount(server, owner.orgId, 'admin');
    const member = await memberAccount(server, owner.orgId, 'member');
    const before = await countRows(server, 'invites');
    expect((await invite(admin, { email: newAddress(), role: 'owner' })).body.code).toBe('forbidden');
    expect((await invite(member, { email: newAddress(), role: 'viewer' })).body.code).toBe('forbidden');
    expect(await countRows(server, 'invites')).toBe(before);
    expect((await invite(admin, { email: newAddress(), role: 'admin' })).status).toBe(201);
  });

  it('refuses project limits on owners and admins, other organizations’ projects, and extra fields', async () => {
    const theirs = await project(server, other.orgId);
    const before = await countRows(server, 'invites');
    for (const body of [
      { email: newAddress(), role: 'admin', projectIds: [(await project(server, owner.orgId)).id] },
      { email: newAddress(), role: 'member', projectIds: [theirs.id] },
      { email: newAddress(), role: 'member', orgId: other.orgId },
      { email: 'not an address', role: 'member' },
      { email: `${newAddress()}\r\nBcc: victim@example.test`, role: 'member' },
      { email: newAddress(), role: 'root' },
    ]) {
      const reply = await invite(owner, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.code).toBe('validation_failed');
    }
    expect(await countRows(server, 'invites')).toBe(before);
  });

  it('replaces a pending invite for the same address: only the newest link works', async () => {
    const email = newAddress();
    const first = await invite(owner, { email, role: 'viewer' });
    const second = await invite(owner, { email, role: 'member' });
    expect((await lookup(tokenOf(first.body.link))).body.code).toBe('token_invalid');
    expect((await lookup(tokenOf(second.body.link))).body.role).toBe('member');
  });
});

describe('GET and DELETE /api/v1/orgs/:orgId/invites', () => {
  it('lists pending invites only, and revokes one (audited); the link then fails', async () => {
    const boss = await ownerAccount(server);
    const kept = await invite(boss, { email: newAddress(), role: 'member' });
    const revoked = await invite(boss, { email: newAddress(), role: 'viewer' });
    expect((await server.request('DELETE', `${invitesOf(boss.orgId)}/${revoked.body.invite.id}`, { cookie: boss.cookie })).status).toBe(204);
    const list = await server.request('GET', invitesOf(boss.orgId), { cookie: boss.cookie });
    expect(list.body.items).toEqual([kept.body.invite]);
    expect((await lookup(tokenOf(revoked.body.link))).body.code).toBe('token_invalid');
    const again = await server.request('DELETE', `${invitesOf(boss.orgId)}/${revoked.body.invite.id}`, { cookie: boss.cookie });
    expect(again.status).toBe(404);
    const { rows } = await server.db.superuser.query("SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1 AND action = 'member.invite_revoked'", [boss.orgId]);
    expect(rows[0].n).toBe(1);
  });

  it("answers 404 to another organization's invite and does not revoke it", async () => {
    const theirs = await invite(other, { email: newAddress(), role: 'member' });
    const reply = await server.request('DELETE', `${invitesOf(owner.orgId)}/${theirs.body.invite.id}`, { cookie: owner.cookie });
    expect(reply.status).toBe(404);
    expect((await lookup(tokenOf(theirs.body.link))).status).toBe(200);
  });

  it('does not let an admin revoke an invite to owner', async () => {
    const admin = await memberAccount(server, owner.orgId, 'admin');
    const toOwner = await invite(owner, { email: newAddress(), role: 'owner' });
    const reply = await server.request('DELETE', `${invitesOf(owner.orgId)}/${toOwner.body.invite.id}`, { cookie: admin.cookie });
    expect(reply.body.code).toBe('forbidden');
    expect((await lookup(tokenOf(toOwner.body.link))).status).toBe(200);
  });
});

describe('POST /api/v1/invites/lookup and /accept, without an account', () => {
  it('shows the invite, then creates the account and membership and signs in; the link then fails', async () => {
    const p = await project(server, owner.orgId);
    const email = newAddress();
    const created = await invite(owner, { email, role: 'member', projectIds: [p.id] });
    const token = tokenOf(created.body.link);
    const shown = await lookup(token);
    expect(shown.body).toEqual({ organization: { name: expect.any(String) }, email, role: 'member', hasAccount: false });

    const reply = await accept({ token, name: 'New Person', password: PASSWORD });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ user: { id: expect.any(String), email, name: 'New Person' }, stage: 'done', methods: [] });
    const cookie = sessionCookie(reply);
    expect((await server.request('GET', `/api/v1/orgs/${owner.orgId}/projects`, { cookie })).body.items.map((x: { id: string }) => x.id)).toEqual([p.id]);
    expect(await membership(owner.orgId, email)).toEqual({ role: 'member', project_ids: [p.id] });

    const { rows } = await server.db.superuser.query('SELECT method, result, user_id FROM login_attempts WHERE email = $1', [email]);
    expect(rows).toEqual([{ method: 'invite', result: 'success', user_id: reply.body.user.id }]);
    const audit = await server.db.superuser.query('SELECT action FROM audit_events WHERE org_id = $1 AND target_id = $2', [owner.orgId, reply.body.user.id]);
    expect(audit.rows.map((r) => r.action)).toContain('member.joined');

    const before = await snapshot();
    for (const again of [await accept({ token, name: 'Someone Else', password: PASSWORD }), await lookup(token)]) {
      expect(again.status).toBe(400);
      expect(again.body.code).toBe('token_invalid');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('needs a name and a password, and applies the password policy, changing nothing when refused', async () => {
    const email = newAddress();
    const token = tokenOf((await invite(owner, { email, role: 'viewer' })).body.link);
    const before = await snapshot();
    for (const [body, code] of [
      [{ token }, 'validation_failed'],
      [{ token, name: 'No Password' }, 'validation_failed'],
      [{ token, name: 'Short', password: 'short' }, 'password_too_short'],
      [{ token, name: 'Long', password: 'x'.repeat(129) }, 'password_too_long'],
      [{ token, name: 'Extra', password: PASSWORD, role: 'owner' }, 'validation_failed'],
    ] as const) {
      const reply = await accept(body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.code).toBe(code);
      expect(reply.headers.getSetCookie()).toEqual([]);
    }
    expect(await snapshot()).toEqual(before);
    expect((await accept({ token, name: 'Finally', password: PASSWORD })).status).toBe(200);
  });

  it('refuses unknown, expired and revoked tokens alike (400 token_invalid), changing nothing', async () => {
    const expired = tokenOf((await invite(owner, { email: newAddress(), role: 'viewer' })).body.link);
    const revoked = await invite(owner, { email: newAddress(), role: 'viewer' });
    await server.request('DELETE', `${invitesOf(owner.orgId)}/${revoked.body.invite.id}`, { cookie: owner.cookie });
    server.clock.advance(INVITE_TTL_MS);
    const before = await snapshot();
    const bodies = [];
    for (const token of [expired, tokenOf(revoked.body.link), 'A'.repeat(43), 'nonsense']) {
      const reply = await accept({ token, name: 'Late', password: PASSWORD });
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe('token_invalid');
      bodies.push(reply.body);
      expect((await lookup(token)).body.code).toBe('token_invalid');
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(await snapshot()).toEqual(before);
    // Fresh sessions for the tests that follow (the clock moved a week).
    owner.cookie = await logIn(server, owner.email);
    other.cookie = await logIn(server, other.email);
  });

  it('sends a new account of an organization that requires MFA to enrollment', async () => {
    const boss = await ownerAccount(server);
    await server.db.superuser.query('UPDATE organizations SET require_mfa = true WHERE id = $1', [boss.orgId]);
    const token = tokenOf((await invite(boss, { email: newAddress(), role: 'member' })).body.link);
    const reply = await accept({ token, name: 'Must Enroll', password: PASSWORD });
    expect(reply.body.stage).toBe('enroll');
    const blocked = await server.request('GET', `/api/v1/orgs/${boss.orgId}/members`, { cookie: sessionCookie(reply) });
    expect(blocked.body.code).toBe('mfa_enrollment_required');
  });

  it('lets only one of two simultaneous acceptances through', async () => {
    const email = newAddress();
    const token = tokenOf((await invite(owner, { email, role: 'viewer' })).body.link);
    const replies = await Promise.all([accept({ token, name: 'One', password: PASSWORD }), accept({ token, name: 'Two', password: PASSWORD })]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(await countRows(server, `users WHERE email = '${email}'`)).toBe(1);
  });
});

describe('POST /api/v1/invites/accept, with an account', () => {
  it('needs a session of that very account (401 otherwise), then adds the membership and replaces the session', async () => {
    const invitee = await ownerAccount(server);
    const token = tokenOf((await invite(owner, { email: invitee.email, role: 'viewer' })).body.link);
    expect((await lookup(token)).body.hasAccount).toBe(true);
    const before = await snapshot();
    for (const cookie of [undefined, other.cookie]) {
      const reply = await accept({ token }, cookie);
      expect(reply.status).toBe(401);
      expect(reply.body.code).toBe('unauthenticated');
    }
    // A password does not stand in for the session: the token alone never signs anyone in.
    expect((await accept({ token, name: 'X', password: PASSWORD })).body.code).toBe('unauthenticated');
    expect(await snapshot()).toEqual(before);
    expect((await server.request('GET', '/api/v1/me', { cookie: other.cookie })).status).toBe(200);

    const reply = await accept({ token }, invitee.cookie);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ user: { id: invitee.userId, email: invitee.email, name: 'Owner' }, stage: 'done', methods: [] });
    const fresh = sessionCookie(reply);
    expect(fresh).not.toBe(invitee.cookie);
    expect((await server.request('GET', '/api/v1/me', { cookie: invitee.cookie })).status).toBe(401);
    const me = await server.request('GET', '/api/v1/me', { cookie: fresh });
    expect(me.body.organizations.map((o: { id: string }) => o.id).sort()).toEqual([invitee.orgId, owner.orgId].sort());
    expect(await membership(owner.orgId, invitee.email)).toEqual({ role: 'viewer', project_ids: null });
  });

  it('moves the session to enrollment when the new organization requires MFA, and to its shorter timeouts', async () => {
    const boss = await ownerAccount(server);
    await server.db.superuser.query('UPDATE organizations SET require_mfa = true, session_idle_minutes = 10 WHERE id = $1', [boss.orgId]);
    const invitee = await ownerAccount(server);
    const token = tokenOf((await invite(boss, { email: invitee.email, role: 'member' })).body.link);
    const reply = await accept({ token }, invitee.cookie);
    expect(reply.body.stage).toBe('enroll');
    const { rows } = await server.db.superuser.query('SELECT stage, idle_ms FROM sessions WHERE user_id = $1', [invitee.userId]);
    expect(rows).toEqual([{ stage: 'enroll', idle_ms: 600_000 }]);
  });
});
