import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerAccount, PASSWORD, type Account } from '../../../../test/factories.js';
import { sessionCookie, type Reply, type TestServer } from '../../../../test/server.js';
import { startMailingTestServer, type TestSmtp } from '../../../../test/smtp.js';

let smtp: TestSmtp;
let server: TestServer;

beforeAll(async () => {
  ({ server, smtp } = await startMailingTestServer());
});
afterAll(() => server.close());

const CHROME_LINUX = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

const login = (email: string, headers: Record<string, string> = {}, from?: string) =>
  server.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD }, headers, from });
const me = (cookie: string) => server.request('GET', '/api/v1/me', { cookie });
const sessions = (cookie: string) => server.request('GET', '/api/v1/me/sessions', { cookie });
const auditCount = async (orgId: string, action: string) =>
  (await server.db.superuser.query('SELECT 1 FROM audit_events WHERE org_id = $1 AND action = $2', [orgId, action])).rowCount;

describe('GET /api/v1/me/sessions', () => {
  it('lists the user\'s live sessions newest first, with device, IP, times and which one is this', async () => {
    const owner = await ownerAccount(server);
    server.clock.advance(1000);
    const phone = sessionCookie(await login(owner.email, { 'user-agent': SAFARI_IPHONE }, '127.0.0.7'));
    server.clock.advance(1000);
    const laptop = sessionCookie(await login(owner.email, { 'user-agent': CHROME_LINUX }));
    const reply = await sessions(laptop);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    const now = server.clock.now().getTime();
    expect(reply.body.items).toEqual([
      { id: expect.any(String), current: true, device: 'Chrome 156 on Linux', ip: '127.0.0.1', createdAt: new Date(now).toISOString(), lastSeenAt: new Date(now).toISOString() },
      { id: expect.any(String), current: false, device: 'Mobile Safari 17 on iOS 17.1', ip: '127.0.0.7', createdAt: new Date(now - 1000).toISOString(), lastSeenAt: expect.any(String) },
      { id: expect.any(String), current: false, device: 'Unknown browser', ip: '127.0.0.1', createdAt: new Date(now - 2000).toISOString(), lastSeenAt: expect.any(String) },
    ]);
    expect((await sessions(phone)).body.items.map((s: { current: boolean }) => s.current)).toEqual([false, true, false]);
  });

  it('leaves out sessions past their idle limit and other users\' sessions', async () => {
    const owner = await ownerAccount(server);
    const stranger = await ownerAccount(server);
    server.clock.advance(25 * 60_000);
    const fresh = sessionCookie(await login(owner.email));
    server.clock.advance(10 * 60_000);
    const reply = await sessions(fresh);
    expect(reply.body.items).toHaveLength(1);
    expect((await sessions(stranger.cookie)).status).toBe(401);
  });
});

describe('DELETE /api/v1/me/sessions/:sessionId', () => {
  const end = (cookie: string, id: string) => server.request('DELETE', `/api/v1/me/sessions/${id}`, { cookie });
  const idOf = async (cookie: string) => (await sessions(cookie)).body.items.find((s: { current: boolean }) => s.current).id as string;

  it('ends one of the user\'s own sessions at once and audits it', async () => {
    const owner = await ownerAccount(server);
    const other = sessionCookie(await login(owner.email));
    const reply = await end(owner.cookie, await idOf(other));
    expect(reply.status).toBe(204);
    expect((await me(other)).status).toBe(401);
    expect((await me(owner.cookie)).status).toBe(200);
    expect(await auditCount(owner.orgId, 'session.revoked')).toBe(1);
  });

  it('answers 404 not_found for another user\'s session, which keeps working', async () => {
    const owner = await ownerAccount(server);
    const stranger = await ownerAccount(server);
    const reply = await end(owner.cookie, await idOf(stranger.cookie));
    expect(reply.status).toBe(404);
    expect(reply.body.code).toBe('not_found');
    expect((await me(stranger.cookie)).status).toBe(200);
    expect(await auditCount(owner.orgId, 'session.revoked')).toBe(0);
  });

  it('answers 400 validation_failed for an id that is not a UUID', async () => {
    const owner = await ownerAccount(server);
    const reply = await end(owner.cookie, 'not-a-uuid');
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('validation_failed');
  });

  it('ending the current session signs this browser out', async () => {
    const owner = await ownerAccount(server);
    const reply = await end(owner.cookie, await idOf(owner.cookie));
    expect(reply.status).toBe(204);
    expect(reply.headers.getSetCookie()).toContainEqual(expect.stringMatching(/^__Host-parley_session=;/));
    expect((await me(owner.cookie)).status).toBe(401);
  });
});

describe('DELETE /api/v1/me/sessions', () => {
  it('ends every other session of the user, keeps this one and other users\', and audits it', async () => {
    const owner = await ownerAccount(server);
    const stranger = await ownerAccount(server);
    const others = [sessionCookie(await login(owner.email)), sessionCookie(await login(owner.email))];
    const reply = await server.request('DELETE', '/api/v1/me/sessions', { cookie: owner.cookie });
    expect(reply.status).toBe(204);
    for (const cookie of others) expect((await me(cookie)).status).toBe(401);
    expect((await me(owner.cookie)).status).toBe(200);
    expect((await me(stranger.cookie)).status).toBe(200);
    const { rows } = await server.db.superuser.query(`SELECT data FROM audit_events WHERE org_id = $1 AND action = 'sessions.revoked'`, [owner.orgId]);
    expect(rows).toEqual([{ data: { count: 2 } }]);
  });
});

describe('new-device notice', () => {
  const deviceCookie = (reply: Reply) => reply.headers.getSetCookie().find((c) => c.startsWith('__Host-parley_device='));
  const noticesTo = async (email: string) => {
    await server.app.queues.settle();
    return smtp.received.filter((m) => m.to.includes(email) && m.subject === 'New sign-in to Parley');
  };
  let owner: Account;
  let device: string;

  beforeAll(async () => {
    owner = await ownerAccount(server);
  });

  it('gives the browser a long-lived __Host- device cookie at login (HttpOnly, Secure, SameSite=Lax, Path=/, 1 year)', async () => {
    const cookie = deviceCookie(await login(owner.email))!;
    expect(cookie).toMatch(/^__Host-parley_device=[A-Za-z0-9_-]{43}; Max-Age=31536000; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    device = cookie.split(';')[0]!;
    const { rows } = await server.db.superuser.query<{ device_hash: Buffer }>('SELECT device_hash FROM known_devices WHERE user_id = $1', [owner.userId]);
    expect(rows.some((r) => r.device_hash.includes(Buffer.from(device.split('=')[1]!)))).toBe(false);
  });

  it('does not call an account\'s very first browser new', async () => {
    // ownerAccount's own login was the account's first: no notice for it.
    expect((await server.db.superuser.query('SELECT 1 FROM known_devices WHERE user_id = $1', [owner.userId])).rowCount).toBe(2);
    const fresh = await ownerAccount(server);
    expect(await noticesTo(fresh.email)).toEqual([]);
  });

  it('mails the owner when a browser the account has not used signs in: time, device and IP', async () => {
    const notices = await noticesTo(owner.email);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).toMatch(/When: 2026-06-01 \d\d:\d\d UTC/);
    expect(notices[0]!.text).toMatch(/Device: Unknown browser/);
    expect(notices[0]!.text).toMatch(/IP address: 127\.0\.0\.1/);
  });

  it('stays quiet for a browser that presents its device cookie, and keeps the same cookie', async () => {
    const reply = await login(owner.email, { cookie: device, 'user-agent': CHROME_LINUX });
    expect(deviceCookie(reply)!.split(';')[0]).toBe(device);
    expect(await noticesTo(owner.email)).toHaveLength(1);
  });

  it('tells a new browser from a forged or malformed device cookie', async () => {
    const reply = await login(owner.email, { cookie: '__Host-parley_device=../../x', 'user-agent': CHROME_LINUX });
    expect(deviceCookie(reply)).not.toContain('../../x');
    const notices = await noticesTo(owner.email);
    expect(notices).toHaveLength(2);
    expect(notices[1]!.text).toMatch(/Device: Chrome 156 on Linux/);
  });

  it('sets no device cookie and sends no notice for a failed login', async () => {
    const reply = await server.request('POST', '/api/v1/auth/login', { body: { email: owner.email, password: 'not the right password' } });
    expect(reply.status).toBe(401);
    expect(reply.headers.getSetCookie()).toEqual([]);
    expect(await noticesTo(owner.email)).toHaveLength(2);
  });
});
