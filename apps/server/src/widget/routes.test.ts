import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, ownerAccount, project, submit } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import type { Project } from '../projects/service.js';

let server: TestServer;
let target: Project;

beforeAll(async () => {
  server = await startTestServer();
  const owner = await ownerAccount(server);
  target = await project(server, owner.orgId, ['example.com', '*.example.org', 'http://localhost:8080']);
});
afterAll(() => server.close());

const valid = { message: 'The checkout button does nothing', rating: 2, email: 'Visitor@Mail.test', pageUrl: 'https://example.com/cart', locale: 'en-GB', viewport: { width: 1280, height: 720 }, custom: { plan: 'pro' } };

describe('POST /api/widget/v1/projects/:key/feedback', () => {
  it('stores feedback from an allowed origin and answers 201 with its id', async () => {
    const reply = await submit(server, target.key, valid);
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(reply.headers.get('access-control-allow-origin')).toBe('https://example.com');
    expect(reply.headers.get('vary')).toMatch(/Origin/);
    const { rows } = await server.db.superuser.query('SELECT message, rating, email_enc, ip_enc FROM feedback WHERE id = $1', [reply.body.id]);
    expect(rows[0].message).toBe(valid.message);
    expect(rows[0].email_enc.includes(Buffer.from('visitor@mail.test'))).toBe(false);
  });

  it.each([
    ['https://sub.example.org', 201],
    ['https://deep.sub.example.org', 201],
    ['http://example.com', 201],
    ['http://localhost:8080', 201],
  ])('accepts origin %s', async (origin, status) => {
    expect((await submit(server, target.key, { message: 'hi' }, origin)).status).toBe(status);
  });

  it.each([
    ['https://evilexample.com'],
    ['https://example.com.evil.net'],
    ['https://example.org'],
    ['https://example.com:8443'],
    ['ftp://example.com'],
    ['https://localhost:8080'],
    ['http://localhost:8081'],
    ['http://localhost'],
    ['https://EXAMPLE.com'],
    ['https://example.com.'],
    ['https://example.com/path'],
    ['null'],
  ])('refuses origin %s with 403 origin_not_allowed and stores nothing', async (origin) => {
    const before = await countRows(server, 'feedback');
    const reply = await submit(server, target.key, { message: 'spam' }, origin);
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('origin_not_allowed');
    expect(reply.headers.get('access-control-allow-origin')).toBeNull();
    expect(await countRows(server, 'feedback')).toBe(before);
  });

  it('refuses a request without Origin', async () => {
    const reply = await server.rawRequest('POST', `/api/widget/v1/projects/${target.key}/feedback`, { body: { message: 'hi' } });
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('origin_missing');
  });
});
