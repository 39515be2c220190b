import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../../test/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('GET /api-reference', () => {
  it('is a public page of the dashboard: the SPA fallback answers it like /login, under the strict CSP', async () => {
    expect(server.app.accessTable).toContainEqual({ method: 'GET', url: '/api-reference', access: 'public', reauth: false });
    const reference = await server.rawRequest('GET', '/api-reference');
    const login = await server.rawRequest('GET', '/login');
    // Built: index.html with no-cache; not built (tests run before `npm run build`): the same 404 for both.
    expect(reference.status).toBe(login.status);
    expect(reference.text).toBe(login.text);
    expect(reference.headers.get('cache-control')).toBe(login.headers.get('cache-control'));
    const csp = reference.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('reads the public document, which needs no session', async () => {
    const document = await server.rawRequest('GET', '/api/v1/openapi.json');
    expect(document.status).toBe(200);
    expect(document.headers.get('cache-control')).toBe('no-cache');
    expect(document.body.openapi).toBe('3.1.0');
  });
});
