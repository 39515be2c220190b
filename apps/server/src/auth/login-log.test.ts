import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberAccount, ownerAccount, PASSWORD, type Account } from '../../../../test/factories.js';
import { startTestServer, TEST_USER_AGENT, type TestServer } from '../../../../test/server.js';

let server: TestServer;
let owner: Account;
let member: Account;
let viewer: Account;
let stranger: Account;

const login = (email: string, password: string, headers: Record<string, string> = {}) =>
  server.request('POST', '/api/v1/auth/login', { body: { email, password }, headers });

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  member = await memberAccount(server, owner.orgId, 'member');
  viewer = await memberAccount(server, owner.orgId, 'viewer');
  stranger = await ownerAccount(server);
  server.clock.advance(60_000);
  await login(member.email, 'not the right password');
  await login('nobody@example.test', 'not the right password');
  await login(stranger.email, 'not the right password');
  server.clock.advance(60_000);
});
afterAll(() => server.close());

describe('GET /api/v1/me/logins', () => {
  it('lists the attempts on the user\'s own account, newest first, and nobody else\'s', async () => {
    const reply = await server.request('GET', '/api/v1/me/logins', { cookie: member.cookie });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body).toEqual({
      items: [
        { id: expect.any(String), at: '2026-06-01T12:01:00.000Z', email: member.email, ip: '127.0.0.1', userAgent: TEST_USER_AGENT, method: 'password', result: 'failure', reason: 'wrong_password' },
        { id: expect.any(String), at: '2026-06-01T12:00:00.000Z', email: member.email, ip: '127.0.0.1', userAgent: TEST_USER_AGENT, method: 'password', result: 'success', reason: null },
      ],
      next: null,
    });
  });

  it('pages by 50 with an opaque cursor', async () => {
    const user = await ownerAccount(server);
    await server.db.superuser.query(
      `INSERT INTO login_attempts (at, user_id, email, ip, method, result) SELECT $2::timestamptz + make_interval(secs => n), $1, $3, '127.0.0.1', 'password', 'failure' FROM generate_series(1, 60) AS n`,
      [user.userId, server.clock.now(), user.email],
    );
    const first = await server.request('GET', '/api/v1/me/logins', { cookie: user.cookie });
    expect(first.body.items).toHaveLength(50);
    expect(first.body.next).toEqual(expect.any(String));
    const second = await server.request('GET', `/api/v1/me/logins?before=${first.body.next}`, { cookie: user.cookie });
    expect(second.body.items).toHaveLength(11);
    expect(second.body.next).toBeNull();
    const ids = [...first.body.items, ...second.body.items].map((i: { id: string }) => Number(i.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(61);
  });

  it.each([
    ['a cursor that is not a number', 'before=1%20OR%201=1'],
    ['a cursor beyond any id', 'before=99999999999999999999'],
    ['an unknown parameter', 'userId=x'],
  ])('answers 400 validation_failed for %s', async (_case, query) => {
    const reply = await server.request('GET', `/api/v1/me/logins?${query}`, { cookie: member.cookie });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('validation_failed');
  });
});

describe('GET /api/v1/orgs/:orgId/logins', () => {
  const orgLogins = (cookie: string, query = '', orgId = owner.orgId) => server.request('GET', `/api/v1/orgs/${orgId}/logins${query}`, { cookie });

  it('lists the attempts on its members\' accounts with the user, newest first; not unknown e-mails, not other organizations\' users', async () => {
    const reply = await orgLogins(owner.cookie);
    expect(reply.status).toBe(200);
    const emails = reply.body.items.map((i: { email: string }) => i.email);
    expect(new Set(emails)).toEqual(new Set([owner.email, member.email, viewer.email]));
    expect(reply.body.items[0]).toEqual({
      id: expect.any(String), at: '2026-06-01T12:01:00.000Z', email: member.email, ip: '127.0.0.1', userAgent: TEST_USER_AGENT,
      method: 'password', result: 'failure', reason: 'wrong_password', user: { id: member.userId, email: member.email, name: 'member' },
    });
  });

  it.each([
    ['result', '?result=failure', (i: { result: string }) => i.result === 'failure', 1],
    ['method', '?method=reset', () => false, 0],
    ['user', () => `?userId=${viewer.userId}`, (i: { email: string }) => i.email === viewer.email, 1],
    ['time', '?from=2026-06-01T12:00:30Z&to=2026-06-01T12:05:00Z', (i: { at: string }) => i.at === '2026-06-01T12:01:00.000Z', 1],
  ])('filters by %s', async (_case, query, keep, count) => {
    const reply = await orgLogins(owner.cookie, typeof query === 'function' ? query() : query);
    expect(reply.status).toBe(200);
    expect(reply.body.items).toHaveLength(count);
    expect(reply.body.items.every(keep)).toBe(true);
  });

  it.each([
    ['a result that does not exist', '?result=maybe'],
    ['a user id that is not a UUID', '?userId=1'],
    ['a date that is not a date', '?from=yesterday'],
    ['an unknown filter', '?orgId=x'],
  ])('answers 400 validation_failed for %s', async (_case, query) => {
    const reply = await orgLogins(owner.cookie, query);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('validation_failed');
  });

  it('is refused to members and viewers (403) and is not found for another organization\'s owner (404)', async () => {
    for (const account of [member, viewer]) {
      const reply = await orgLogins(account.cookie);
      expect(reply.status).toBe(403);
      expect(reply.body.code).toBe('forbidden');
    }
    const reply = await orgLogins(stranger.cookie);
    expect(reply.status).toBe(404);
    expect(reply.body.code).toBe('not_found');
  });
});

describe('GET /api/v1/orgs/:orgId/logins.csv', () => {
  const csv = (cookie: string, query = '') => server.request('GET', `/api/v1/orgs/${owner.orgId}/logins.csv${query}`, { cookie });

  it('downloads the filtered attempts as CSV with a server-made file name, formula cells defused, and audits the export', async () => {
    await login(viewer.email, 'not the right password', { 'user-agent': '=HYPERLINK("https://evil.example","click")' });
    await login(viewer.email, 'not the right password', { 'user-agent': '@SUM(1+1)*cmd|\' /C calc\'!A0' });
    const reply = await csv(owner.cookie, `?userId=${viewer.userId}&result=failure`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(reply.headers.get('content-disposition')).toBe('attachment; filename="parley-logins-2026-06-01.csv"');
    expect(reply.headers.get('cache-control')).toBe('no-store');
    const lines = reply.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('"time","email","user id","name","ip","user agent","method","result","reason"');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`"'@SUM(1+1)*cmd|' /C calc'!A0"`);
    expect(lines[2]).toContain(`"'=HYPERLINK(""https://evil.example"",""click"")"`);
    expect(lines[2]).toContain(`"${viewer.email}","${viewer.userId}","viewer","127.0.0.1"`);
    const { rows } = await server.db.superuser.query(`SELECT data FROM audit_events WHERE org_id = $1 AND action = 'logins.exported'`, [owner.orgId]);
    expect(rows).toEqual([{ data: { filters: { userId: viewer.userId, result: 'failure' }, rows: 2 } }]);
  });

  it('needs a recent factor: 403 reauth_required 11 minutes after login, nothing exported', async () => {
    const admin = await memberAccount(server, owner.orgId, 'admin');
    server.clock.advance(11 * 60_000);
    const reply = await csv(admin.cookie);
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('reauth_required');
    const { rowCount } = await server.db.superuser.query(`SELECT 1 FROM audit_events WHERE org_id = $1 AND action = 'logins.exported' AND actor_id = $2`, [owner.orgId, admin.userId]);
    expect(rowCount).toBe(0);
    const reauth = await server.request('POST', '/api/v1/auth/reauth', { cookie: admin.cookie, body: { password: PASSWORD } });
    expect(reauth.status).toBe(204);
    expect((await csv(admin.cookie)).status).toBe(200);
  });

  it('is refused to members (403 forbidden)', async () => {
    const reply = await csv(member.cookie);
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('forbidden');
  });
});
