import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, ownerAccount, project, RICH_SETTINGS, submit } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import type { Project } from '../projects/service.js';

let server: TestServer;
let target: Project;

beforeAll(async () => {
  server = await startTestServer();
  const owner = await ownerAccount(server);
  target = await project(server, owner.orgId, ['example.com', '*.example.org', 'http://localhost:8080'], RICH_SETTINGS);
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

describe('ingestion body rules', () => {
  it('stores one row for a retried submission with the same Idempotency-Key', async () => {
    const before = await countRows(server, 'feedback');
    const headers = { 'idempotency-key': 'retry-7f3a' };
    const first = await submit(server, target.key, { message: 'once only' }, 'https://example.com', headers);
    const again = await submit(server, target.key, { message: 'once only' }, 'https://example.com', headers);
    const concurrent = await Promise.all([1, 2, 3].map(() => submit(server, target.key, { message: 'race' }, 'https://example.com', { 'idempotency-key': 'race-1' })));
    expect(first.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(new Set(concurrent.map((r) => r.body.id)).size).toBe(1);
    expect(await countRows(server, 'feedback')).toBe(before + 2);
  });

  it('refuses a malformed Idempotency-Key', async () => {
    const reply = await submit(server, target.key, { message: 'x' }, 'https://example.com', { 'idempotency-key': 'a b' });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('idempotency_key_invalid');
  });

  const deep = (n: number): unknown => (n === 0 ? 'x' : { a: deep(n - 1) });

  it.each([
    ['an empty message', { message: '' }, 'validation_failed'],
    ['a blank message', { message: '   \n ' }, 'validation_failed'],
    ['a message over 10,000 characters', { message: 'x'.repeat(10_001) }, 'validation_failed'],
    ['a NUL character', { message: 'a\u0000b' }, 'validation_failed'],
    ['a rating of 6', { message: 'x', rating: 6 }, 'validation_failed'],
    ['a rating as text', { message: 'x', rating: '4' }, 'validation_failed'],
    ['a fractional rating', { message: 'x', rating: 4.5 }, 'validation_failed'],
    ['a message as a number', { message: 42 }, 'validation_failed'],
    ['an invalid e-mail', { message: 'x', email: 'not-an-email' }, 'validation_failed'],
    ['a javascript: page URL', { message: 'x', pageUrl: 'javascript:alert(1)' }, 'validation_failed'],
    ['an unknown field', { message: 'x', admin: true }, 'validation_failed'],
    ['an org_id (mass assignment)', { message: 'x', org_id: '00000000-0000-0000-0000-000000000000' }, 'validation_failed'],
    ['21 custom fields', { message: 'x', custom: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, 'v'])) }, 'validation_failed'],
    ['a non-string custom value', { message: 'x', custom: { nested: { a: 1 } } }, 'validation_failed'],
    ['deeply nested JSON', { message: 'x', custom: deep(50) }, 'validation_failed'],
    ['an unknown viewport field', { message: 'x', viewport: { width: 1, height: 1, depth: 1 } }, 'validation_failed'],
  ])('refuses %s with 400 and stores nothing', async (_case, body, code) => {
    const before = await countRows(server, 'feedback');
    const reply = await submit(server, target.key, body);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe(code);
    expect(await countRows(server, 'feedback')).toBe(before);
  });

  it.each([
    ['__proto__', '{"message":"x","__proto__":{"polluted":true}}'],
    ['constructor.prototype', '{"message":"x","constructor":{"prototype":{"polluted":true}}}'],
    ['nested __proto__', '{"message":"x","custom":{"__proto__":{"polluted":true}}}'],
  ])('refuses %s keys and leaves Object.prototype alone', async (_case, raw) => {
    const reply = await server.rawRequest('POST', `/api/widget/v1/projects/${target.key}/feedback`, { raw, headers: { origin: 'https://example.com', 'content-type': 'application/json' } });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('invalid_json');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['malformed JSON', '{"message":', 'application/json', 400, 'invalid_json'],
    ['an empty body', '', 'application/json', 400, 'invalid_json'],
    ['form encoding', 'message=x', 'application/x-www-form-urlencoded', 415, 'unsupported_media_type'],
    ['a body over 64 KB', JSON.stringify({ message: 'x', pageUrl: `https://example.com/${'a'.repeat(70_000)}` }), 'application/json', 413, 'body_too_large'],
  ])('answers %s with %i %s', async (_case, raw, type, status, code) => {
    const reply = await server.rawRequest('POST', `/api/widget/v1/projects/${target.key}/feedback`, { raw, headers: { origin: 'https://example.com', 'content-type': type } });
    expect(reply.status).toBe(status);
    expect(reply.body.code).toBe(code);
    expect(reply.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
  });

  it('answers an unknown or malformed project key with 404 project_not_found', async () => {
    for (const key of ['pk_AAAAAAAAAAAAAAAAAAAAAA', 'nope', `pk_${"'".repeat(22)}`]) {
      const reply = await submit(server, encodeURIComponent(key), { message: 'x' });
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe('project_not_found');
    }
  });

  it("refuses another project's key from this project's site", async () => {
    const owner = await ownerAccount(server);
    const foreign = await project(server, owner.orgId, ['other.example']);
    const reply = await submit(server, foreign.key, { message: 'x' }, 'https://example.com');
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('origin_not_allowed');
  });
});

describe('CORS preflight', () => {
  const preflight = (origin: string) =>
    server.rawRequest('OPTIONS', `/api/widget/v1/projects/${target.key}/feedback`, {
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, idempotency-key' },
    });

  it('answers an allowed origin with exactly that origin, never *, and no credentials', async () => {
    const reply = await preflight('https://shop.example.org');
    expect(reply.status).toBe(204);
    expect(reply.headers.get('access-control-allow-origin')).toBe('https://shop.example.org');
    expect(reply.headers.get('access-control-allow-methods')).toBe('POST');
    expect(reply.headers.get('access-control-allow-headers')).toBe('content-type, idempotency-key');
    expect(reply.headers.get('access-control-allow-credentials')).toBeNull();
    expect(reply.headers.get('vary')).toMatch(/Origin/);
  });

  it.each(['https://evil.example', 'https://example.com.evil.net', 'null'])('gives %s no Access-Control-Allow-Origin', async (origin) => {
    const reply = await preflight(origin);
    expect(reply.status).toBe(403);
    expect(reply.headers.get('access-control-allow-origin')).toBeNull();
    expect(reply.headers.get('vary')).toMatch(/Origin/);
  });
});

describe('the widget script', () => {
  it('is served as JavaScript that any site may load', async () => {
    const reply = await server.rawRequest('GET', '/widget/v1/loader.js');
    if (reply.status === 404) return expect(reply.body.detail).toMatch(/not built/);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(reply.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
