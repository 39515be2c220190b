import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn, ownerAccount, PASSWORD, type Account } from '../../../../test/factories.js';
import { PUBLIC_URL, sessionCookie, startTestServer, type TestServer } from '../../../../test/server.js';

let server: TestServer;
let owner: Account;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
});
afterAll(() => server.close());

const login = (email: string, password: string, headers: Record<string, string> = {}) =>
  server.request('POST', '/api/v1/auth/login', { body: { email, password }, headers });

describe('POST /api/v1/auth/login', () => {
  it('answers the user and sets a __Host- session cookie (HttpOnly, Secure, SameSite=Lax, Path=/)', async () => {
    const reply = await login(owner.email, PASSWORD);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ user: { id: owner.userId, email: owner.email, name: 'Owner' }, stage: 'done', methods: [] });
    const cookie = reply.headers.getSetCookie().find((c) => c.startsWith('__Host-parley_session='))!;
    expect(cookie).toMatch(/^__Host-parley_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toMatch(/Domain=/);
  });

  it('treats case and surrounding spaces of the e-mail as the same account', async () => {
    expect((await login(`  ${owner.email.toUpperCase()} `, PASSWORD)).status).toBe(200);
  });

  it('answers a wrong password and an unknown e-mail identically', async () => {
    const wrong = await login(owner.email, 'not the right password');
    const unknown = await login('nobody@example.test', 'not the right password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body).toMatchObject({ code: 'invalid_credentials', detail: 'The e-mail or password is not right.' });
    expect(wrong.headers.getSetCookie()).toEqual([]);
  });

  it('records successful and failed logins in the organization audit log', async () => {
    await login(owner.email, 'wrong password here');
    await server.jobsDone();
    const { rows } = await server.db.superuser.query<{ action: string }>(`SELECT action FROM audit_events WHERE org_id = $1 AND action LIKE 'login.%' ORDER BY seq`, [owner.orgId]);
    expect(rows.map((r) => r.action)).toContain('login.failed');
    expect(rows.map((r) => r.action)).toContain('login.succeeded');
  });

  it('stores only a hash of the session token', async () => {
    const token = sessionCookie(await login(owner.email, PASSWORD)).split('=')[1]!;
    const { rows } = await server.db.superuser.query<{ id_hash: Buffer }>('SELECT id_hash FROM sessions');
    expect(rows.some((r) => r.id_hash.includes(Buffer.from(token)))).toBe(false);
    expect(rows.every((r) => r.id_hash.length === 32)).toBe(true);
  });

  it('gives a new session id at login and ends the one the browser had (fixation)', async () => {
    const first = await logIn(server, owner.email);
    const second = sessionCookie(await login(owner.email, PASSWORD, { cookie: first }));
    expect(second).not.toBe(first);
    expect((await server.request('GET', '/api/v1/me', { cookie: first })).status).toBe(401);
    expect((await server.request('GET', '/api/v1/me', { cookie: second })).status).toBe(200);
  });

  it('answers a 1 MB password fast with 413, before any hashing', async () => {
    const reply = await login(owner.email, 'x'.repeat(1024 * 1024));
    expect(reply.status).toBe(413);
    expect(reply.body.code).toBe('body_too_large');
  });
});

describe('GET /api/v1/me', () => {
  it('lists the organizations of the signed-in user', async () => {
    const reply = await server.request('GET', '/api/v1/me', { cookie: owner.cookie });
    expect(reply.status).toBe(200);
    expect(reply.body.organizations).toEqual([{ id: owner.orgId, name: expect.any(String), role: 'owner', requireMfa: false }]);
  });

  it.each([
    ['no cookie', undefined],
    ['a forged token', '__Host-parley_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['a malformed token', '__Host-parley_session=../../etc/passwd'],
    ['the cookie without the __Host- prefix', `parley_session=${'A'.repeat(43)}`],
  ])('answers 401 unauthenticated for %s', async (_case, cookie) => {
    const reply = await server.request('GET', '/api/v1/me', { cookie });
    expect(reply.status).toBe(401);
    expect(reply.body.code).toBe('unauthenticated');
  });
});

describe('session expiry', () => {
  it('ends a session idle for 30 minutes, on the server', async () => {
    const cookie = await logIn(server, owner.email);
    server.clock.advance(29 * 60_000);
    expect((await server.request('GET', '/api/v1/me', { cookie })).status).toBe(200);
    server.clock.advance(29 * 60_000);
    expect((await server.request('GET', '/api/v1/me', { cookie })).status).toBe(200);
    server.clock.advance(30 * 60_000);
    expect((await server.request('GET', '/api/v1/me', { cookie })).status).toBe(401);
  });

  it('ends any session 12 hours after login, however active', async () => {
    const cookie = await logIn(server, owner.email);
    for (let i = 0; i < 24; i++) {
      server.clock.advance(29 * 60_000);
      expect((await server.request('GET', '/api/v1/me', { cookie })).status).toBe(200);
    }
    server.clock.advance(29 * 60_000);
    expect((await server.request('GET', '/api/v1/me', { cookie })).status).toBe(401);
  });
});

describe('POST /api/v1/auth/logout', () => {
  it('deletes the session so the cookie stops working', async () => {
    const cookie = await logIn(server, owner.email);
    const reply = await server.request('POST', '/api/v1/auth/logout', { cookie });
    expect(reply.status).toBe(204);
    expect(reply.headers.getSetCookie()[0]).toMatch(/^__Host-parley_session=;/);
    expect((await server.request('GET', '/api/v1/me', { cookie })).status).toBe(401);
  });
});

describe('CSRF', () => {
  const logout = (cookie: string, headers: Record<string, string>) => server.rawRequest('POST', '/api/v1/auth/logout', { cookie, headers });

  it.each([
    ['a cross-site request', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }],
    ['a same-site (sibling subdomain) request', { 'sec-fetch-site': 'same-site', origin: 'https://evil.localhost' }],
    ['a request with neither Fetch Metadata nor Origin', {}],
    ['a foreign Origin without Fetch Metadata', { origin: 'https://evil.example' }],
    ['Origin: null', { origin: 'null' }],
  ])('refuses %s carrying a valid cookie with 403, and changes nothing', async (_case, headers) => {
    const cookie = await logIn(server, owner.email);
    const reply = await logout(cookie, headers);
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('csrf_rejected');
    expect((await server.request('GET', '/api/v1/me', { cookie })).status).toBe(200);
  });

  it('accepts the dashboard origin when a browser sends no Fetch Metadata', async () => {
    const cookie = await logIn(server, owner.email);
    expect((await logout(cookie, { origin: PUBLIC_URL })).status).toBe(204);
  });

  it('also guards login itself (login CSRF)', async () => {
    const reply = await server.rawRequest('POST', '/api/v1/auth/login', { body: { email: owner.email, password: PASSWORD }, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(reply.status).toBe(403);
    expect(reply.headers.getSetCookie()).toEqual([]);
  });
});
