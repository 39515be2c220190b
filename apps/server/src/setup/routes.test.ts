import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countRows, PASSWORD } from '../../../../test/factories.js';
import { sessionCookie, startTestServer, type TestServer } from '../../../../test/server.js';
import { issueSetupToken } from './service.js';

let server: TestServer;
let token: string;

beforeEach(async () => {
  server = await startTestServer();
  token = (await issueSetupToken(server.ctx.db.app, server.clock.now()))!;
});
afterEach(() => server.close());

const setup = (body: Record<string, unknown>) =>
  server.request('POST', '/api/v1/setup', { body: { token, email: 'Founder@Example.test', password: PASSWORD, name: 'Founder', organization: 'Acme', ...body } });

describe('first run setup', () => {
  it('says setup is required while there is no account', async () => {
    expect((await server.request('GET', '/api/v1/setup')).body).toEqual({ required: true });
  });

  it('creates the owner and the organization, logs in, and audits it', async () => {
    const reply = await setup({});
    expect(reply.status).toBe(201);
    expect(reply.body.user).toMatchObject({ email: 'founder@example.test', name: 'Founder' });
    const me = await server.request('GET', '/api/v1/me', { cookie: sessionCookie(reply) });
    expect(me.body.organizations).toEqual([{ id: expect.any(String), name: 'Acme', role: 'owner', requireMfa: false }]);
    const { rows } = await server.db.superuser.query<{ action: string }>('SELECT action FROM audit_events ORDER BY seq');
    expect(rows.map((r) => r.action)).toEqual(['organization.created', 'member.added']);
    expect((await server.request('GET', '/api/v1/setup')).body).toEqual({ required: false });
  });

  it('is single use: a second setup with the same link is refused', async () => {
    expect((await setup({})).status).toBe(201);
    const again = await setup({ email: 'intruder@example.test' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('setup_done');
    expect(await countRows(server, 'users')).toBe(1);
  });

  it.each([
    ['a wrong token', { token: 'x'.repeat(43) }],
    ['an empty-ish token', { token: '-' }],
  ])('refuses %s with 403 and creates nothing', async (_case, body) => {
    const reply = await setup(body);
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('setup_token_invalid');
    expect(await countRows(server, 'users')).toBe(0);
    expect(await countRows(server, 'organizations')).toBe(0);
  });

  it('refuses a link older than one hour', async () => {
    server.clock.advance(60 * 60_000 + 1);
    const reply = await setup({});
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('setup_token_invalid');
  });

  it('refuses a short password without spending the link', async () => {
    const reply = await setup({ password: 'short' });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('password_too_short');
    expect(await countRows(server, 'users')).toBe(0);
    expect((await setup({})).status).toBe(201);
  });

  it('refuses unknown fields such as a role (mass assignment)', async () => {
    const reply = await setup({ role: 'owner', org_id: '00000000-0000-0000-0000-000000000000' });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('validation_failed');
  });

  it('issues no link once an account exists', async () => {
    await setup({});
    expect(await issueSetupToken(server.ctx.db.app, server.clock.now())).toBeNull();
  });
});
