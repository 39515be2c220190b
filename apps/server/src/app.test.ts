import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { startTestServer, type TestServer } from '../../../test/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self';font-src 'self';object-src 'none';base-uri 'none';frame-ancestors 'none';form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
};

describe('every answer', () => {
  it.each([
    ['200', 'GET', '/healthz', undefined],
    ['401', 'GET', '/api/v1/me', undefined],
    ['404', 'GET', '/no/such/route', undefined],
    ['400', 'POST', '/api/v1/auth/login', '{"email":'],
    ['413', 'POST', '/api/v1/auth/login', JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(20_000) })],
  ])('%s carries the security headers and a request id', async (_status, method, path, raw) => {
    const reply = await server.request(method, path, raw === undefined ? {} : { raw, headers: { 'content-type': 'application/json' } });
    expect(String(reply.status)).toBe(_status);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(reply.headers.get(name), name).toBe(value);
    expect(reply.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(reply.text).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('has a CSP without unsafe-inline or unsafe-eval', async () => {
    const csp = (await server.request('GET', '/healthz')).headers.get('content-security-policy')!;
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  });

  it('ignores a client-chosen request id', async () => {
    const reply = await server.rawRequest('GET', '/healthz', { headers: { 'x-request-id': 'chosen-by-client' } });
    expect(reply.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with problem+json 404', async () => {
    const reply = await server.request('GET', '/api/v1/nothing');
    expect(reply.status).toBe(404);
    expect(reply.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(reply.body).toEqual({ type: 'https://parley.dev/problems/not-found', title: 'Not found', status: 404, detail: 'No route for GET /api/v1/nothing.', code: 'not_found' });
  });
});

describe('an unexpected failure', () => {
  it('answers 500 problem+json with no stack trace, SQL or message, and the security headers', async () => {
    const app = await buildApp(server.ctx);
    app.get('/boom', { config: { access: 'public' } }, async () => {
      await server.ctx.db.app.query('SELECT * FROM no_such_table_secret_name');
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const response = await fetch(`http://127.0.0.1:${(app.server.address() as import('node:net').AddressInfo).port}/boom`);
      const text = await response.text();
      expect(response.status).toBe(500);
      expect(JSON.parse(text)).toMatchObject({ status: 500, code: 'internal_error' });
      expect(text).not.toMatch(/no_such_table|SELECT|at .*:\d+/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    } finally {
      await app.close();
    }
  });
});

describe('health', () => {
  it('healthz says the process is up; readyz checks the database schema', async () => {
    expect((await server.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await server.request('GET', '/readyz')).body).toMatchObject({ status: 'ready', sharedState: { kind: server.ctx.config.redisUrl ? 'redis' : 'memory', degraded: false } });
  });
});
