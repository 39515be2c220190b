import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberAccount, ownerAccount, PASSWORD, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ PARLEY_SESSION_IDLE_MINUTES: '20', PARLEY_SESSION_ABSOLUTE_HOURS: '8' });
});
afterAll(() => server.close());

const securityOf = (orgId: string) => `/api/v1/orgs/${orgId}/security`;
const put = (by: Account, body: unknown) => server.request('PUT', securityOf(by.orgId), { cookie: by.cookie, body });
const strict = { requireMfa: false, sessionIdleMinutes: 10, sessionAbsoluteHours: 2 };

async function stored(orgId: string) {
  const { rows } = await server.db.superuser.query('SELECT require_mfa, session_idle_minutes, session_absolute_hours FROM organizations WHERE id = $1', [orgId]);
  return rows[0];
}

async function sessionsOf(userId: string): Promise<{ stage: string; idle_ms: number; lifetime_ms: number }[]> {
  const { rows } = await server.db.superuser.query(
    'SELECT stage, idle_ms, (extract(epoch FROM expires_at - created_at) * 1000)::int AS lifetime_ms FROM sessions WHERE user_id = $1',
    [userId],
  );
  return rows;
}

describe('GET /api/v1/orgs/:orgId/security', () => {
  it("shows the policy as enforced (capped by the installation's limits) and the limits, to any member", async () => {
    const owner = await ownerAccount(server);
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    const reply = await server.request('GET', securityOf(owner.orgId), { cookie: viewer.cookie });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ requireMfa: false, sessionIdleMinutes: 20, sessionAbsoluteHours: 8, limits: { idleMinutesMax: 20, absoluteHoursMax: 8 } });
  });

  it('answers 404 to another organization', async () => {
    const owner = await ownerAccount(server);
    const stranger = await ownerAccount(server);
    expect((await server.request('GET', securityOf(owner.orgId), { cookie: stranger.cookie })).body.code).toBe('not_found');
  });
});

describe('PUT /api/v1/orgs/:orgId/security', () => {
  it('stores the policy, audits before/after, and shortens the sessions of every member at once', async () => {
    const owner = await ownerAccount(server);
    const member = await memberAccount(server, owner.orgId, 'member');
    const reply = await put(owner, strict);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ ...strict, limits: { idleMinutesMax: 20, absoluteHoursMax: 8 } });
    expect(await stored(owner.orgId)).toEqual({ require_mfa: false, session_idle_minutes: 10, session_absolute_hours: 2 });
    const { rows } = await server.db.superuser.query("SELECT data FROM audit_events WHERE org_id = $1 AND action = 'security_policy.changed'", [owner.orgId]);
    expect(rows).toEqual([{ data: { before: { requireMfa: false, sessionIdleMinutes: 20, sessionAbsoluteHours: 8 }, after: strict } }]);
    for (const account of [owner, member]) {
      expect(await sessionsOf(account.userId)).toEqual([{ stage: 'done', idle_ms: 10 * 60_000, lifetime_ms: 2 * 3_600_000 }]);
    }
    // Idle for 11 minutes: the member's session is gone on the server.
    server.clock.advance(11 * 60_000);
    const idle = await server.request('GET', '/api/v1/me', { cookie: member.cookie });
    expect(idle.status).toBe(401);
    expect(idle.body.code).toBe('unauthenticated');
  });

  it('applies the strictest policy of all organizations of a user, and never lengthens a session', async () => {
    const strictOrg = await ownerAccount(server);
    const laxOrg = await ownerAccount(server);
    const both = await memberAccount(server, strictOrg.orgId, 'viewer');
    await server.db.superuser.query("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, 'viewer', now())", [laxOrg.orgId, both.userId]);
    await put(strictOrg, strict);
    await put(laxOrg, { requireMfa: false, sessionIdleMinutes: 15, sessionAbsoluteHours: 4 });
    expect(await sessionsOf(both.userId)).toEqual([{ stage: 'done', idle_ms: 10 * 60_000, lifetime_ms: 2 * 3_600_000 }]);
    await put(strictOrg, { requireMfa: false, sessionIdleMinutes: 20, sessionAbsoluteHours: 8 });
    // Now the lax organization is the strictest: 15 minutes idle; the lifetime already given is not extended.
    expect(await sessionsOf(both.userId)).toEqual([{ stage: 'done', idle_ms: 15 * 60_000, lifetime_ms: 2 * 3_600_000 }]);
  });

  it.each([
    [{ sessionIdleMinutes: 21 }, /sessionIdleMinutes must be between 5 and 20/],
    [{ sessionIdleMinutes: 4 }, /sessionIdleMinutes must be between 5 and 20/],
    [{ sessionAbsoluteHours: 9 }, /sessionAbsoluteHours must be between 1 and 8/],
  ])('refuses %j beyond the limits with a detail naming them, changing nothing', async (change, detail) => {
    const owner = await ownerAccount(server);
    const before = await stored(owner.orgId);
    const reply = await put(owner, { ...strict, ...change });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('validation_failed');
    expect(reply.body.detail).toMatch(detail);
    expect(await stored(owner.orgId)).toEqual(before);
  });

  it('refuses malformed bodies and extra fields (400 validation_failed)', async () => {
    const owner = await ownerAccount(server);
    for (const body of [{ ...strict, orgId: owner.orgId }, { ...strict, sessionIdleMinutes: '10' }, { ...strict, sessionIdleMinutes: 10.5 }, { requireMfa: true }]) {
      const reply = await put(owner, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.code).toBe('validation_failed');
    }
  });

  it('is for owners only (403 for admins) and needs a recent factor (403 reauth_required)', async () => {
    const owner = await ownerAccount(server);
    const admin = await memberAccount(server, owner.orgId, 'admin');
    const before = await stored(owner.orgId);
    expect((await put(admin, strict)).body.code).toBe('forbidden');
    server.clock.advance(11 * 60_000);
    const stale = await put(owner, strict);
    expect(stale.status).toBe(403);
    expect(stale.body.code).toBe('reauth_required');
    expect(await stored(owner.orgId)).toEqual(before);
  });

  it('refuses to require MFA while the owner setting it has none (409 conflict)', async () => {
    const owner = await ownerAccount(server);
    const reply = await put(owner, { ...strict, requireMfa: true });
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('conflict');
    expect((await stored(owner.orgId)).require_mfa).toBe(false);
    expect((await sessionsOf(owner.userId)).map((s) => s.stage)).toEqual(['done']);
  });

  it('sends members without a second factor to enrollment at once when MFA becomes required, and back when it is not', async () => {
    const owner = await ownerAccount(server);
    await server.db.superuser.query("INSERT INTO totp_credentials (user_id, secret_enc, confirmed_at, created_at) VALUES ($1, '\\x00', now(), now())", [owner.userId]);
    const member = await memberAccount(server, owner.orgId, 'member');
    expect((await put(owner, { ...strict, requireMfa: true })).status).toBe(200);
    expect((await sessionsOf(member.userId)).map((s) => s.stage)).toEqual(['enroll']);
    expect((await sessionsOf(owner.userId)).map((s) => s.stage)).toEqual(['done']);
    const blocked = await server.request('GET', `/api/v1/orgs/${owner.orgId}/members`, { cookie: member.cookie });
    expect(blocked.status).toBe(403);
    expect(blocked.body.code).toBe('mfa_enrollment_required');
    expect((await server.request('GET', '/api/v1/me', { cookie: member.cookie })).body.session.stage).toBe('enroll');
    // A new login goes to enrollment too.
    const again = await server.request('POST', '/api/v1/auth/login', { body: { email: member.email, password: PASSWORD } });
    expect(again.body.stage).toBe('enroll');

    expect((await put(owner, strict)).status).toBe(200);
    expect((await sessionsOf(member.userId)).map((s) => s.stage)).toEqual(['done', 'done']);
    expect((await server.request('GET', `/api/v1/orgs/${owner.orgId}/members`, { cookie: member.cookie })).status).toBe(200);
  });
});
