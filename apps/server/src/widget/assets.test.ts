import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { widgetManifest } from './assets.js';

// The widget's files as the built package left them (npm test builds first).
const manifest = widgetManifest();

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

// In CI the build must have produced the manifest; locally a run without a build skips.
describe.skipIf(!manifest && !process.env.CI)('widget files', () => {
  it('serves the loader briefly cached and every hashed chunk immutable, to any site', async () => {
    const loader = await server.rawRequest('GET', '/widget/v1/loader.js');
    expect(loader.status).toBe(200);
    expect(loader.headers.get('cache-control')).toBe('public, max-age=300');
    expect(loader.headers.get('access-control-allow-origin')).toBe('*');
    expect(loader.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    for (const file of Object.values(manifest!.files)) {
      const chunk = await server.rawRequest('GET', `/widget/v1/${file}`);
      expect(chunk.status, file).toBe(200);
      expect(chunk.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(chunk.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
  });

  it('serves the versioned loader immutable, matching the SRI hash in the manifest', async () => {
    const response = await fetch(`${server.url}/widget/${manifest!.version}/loader.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const digest = await crypto.subtle.digest('SHA-384', await response.arrayBuffer());
    expect(`sha384-${Buffer.from(digest).toString('base64')}`).toBe(manifest!.integrity);
  });

  it.each(['/widget/v1/manifest.json', '/widget/v1/..%2F..%2Fpackage.json', '/widget/v1/nope.js', '/widget/0.0.0-nope/loader.js', '/widget/v1/.env'])(
    'answers %s with 404',
    async (path) => {
      const reply = await server.rawRequest('GET', path);
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe('not_found');
    },
  );
});
