import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGENERATE, renderClient } from '../../../../packages/client/generate.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { REPO_ROOT } from '../paths.js';
import { TAGS } from './openapi.js';

let server: TestServer;
let document: any;

beforeAll(async () => {
  server = await startTestServer();
  const reply = await server.request('GET', '/api/v1/openapi.json');
  expect(reply.status).toBe(200);
  document = reply.body;
});
afterAll(() => server.close());

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

/** Every operation of the document as "METHOD /path" with its object. */
function operations(): [string, any][] {
  return Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([url, item]) =>
    Object.entries(item).filter(([method]) => METHODS.includes(method)).map(([method, operation]): [string, any] => [`${method.toUpperCase()} ${url}`, operation]),
  );
}

describe('GET /api/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document that passes the specification\'s structural rules', async () => {
    expect(document.openapi).toBe('3.1.0');
    // openapi-typescript lints the document (Redocly's struct rules) and throws on an error.
    await expect(renderClient(document)).resolves.toBeDefined();
  });

  it('documents every /api/v1 route of the access table, and nothing else', () => {
    const documented = operations().map(([name]) => name).sort();
    const routes = server.app.accessTable
      .filter((route) => route.url.startsWith('/api/v1/') && route.method !== 'HEAD')
      .map((route) => `${route.method} ${route.url.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    expect(documented).toEqual(routes);
  });

  it('gives every operation a summary, one known tag, its credentials and a typed success answer', () => {
    const tags = TAGS.map((tag) => tag.name) as string[];
    const problems: string[] = [];
    for (const [name, operation] of operations()) {
      if (typeof operation.summary !== 'string' || operation.summary.length < 4) problems.push(`${name}: no summary`);
      if (operation.tags?.length !== 1 || !tags.includes(operation.tags[0])) problems.push(`${name}: tags ${JSON.stringify(operation.tags)} (one of ${tags.join(', ')})`);
      if (!Array.isArray(operation.security)) problems.push(`${name}: no security`);
      const success = Object.entries(operation.responses as Record<string, any>).filter(([status]) => /^2\d\d$/.test(status));
      if (success.length === 0) problems.push(`${name}: no 2xx response`);
      for (const [status, response] of success) {
        const typed = status === '204' ? response.content === undefined : Object.values(response.content ?? {}).some((media: any) => media.schema !== undefined);
        if (!typed) problems.push(`${name}: ${status} answer without a schema (204: Type.Null())`);
      }
      if (operation.responses.default?.$ref !== '#/components/responses/Problem') problems.push(`${name}: errors are not documented as problems`);
    }
    expect(problems).toEqual([]);
  });

  it('names the scope of organization routes and marks session-only and public ones', () => {
    const entry = (method: string, url: string) => operations().find(([name]) => name === `${method} ${url}`)![1];
    expect(entry('GET', '/api/v1/orgs/{orgId}').security).toEqual([{ apiKey: ['org_read'] }, { session: [] }]);
    expect(entry('GET', '/api/v1/orgs').security).toEqual([{ apiKey: [] }, { session: [] }]);
    expect(entry('GET', '/api/v1/me').security).toEqual([{ session: [] }]);
    expect(entry('POST', '/api/v1/auth/login').security).toEqual([]);
    const invite = entry('POST', '/api/v1/orgs/{orgId}/invites');
    expect(invite.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' });
    expect(entry('POST', '/api/v1/auth/login').parameters).toBeUndefined();
    const csv = entry('GET', '/api/v1/orgs/{orgId}/logins.csv');
    expect(csv['x-reauth']).toBe(true);
    expect(Object.keys(csv.responses['200'].content)).toEqual(['text/csv']);
  });

  it('lists every problem code', () => {
    expect(document.components.schemas.Problem.properties.code.enum).toEqual(expect.arrayContaining(['validation_failed', 'reauth_required', 'precondition_failed']));
  });
});

describe('packages/client', () => {
  // PARLEY_WRITE_CLIENT=1 (npm run generate -w @parley/client) writes the files instead of comparing.
  const write = process.env.PARLEY_WRITE_CLIENT === '1';
  const file = (name: string) => path.join(REPO_ROOT, 'packages/client', name);
  const committed = (name: string) => (fs.existsSync(file(name)) ? fs.readFileSync(file(name), 'utf8') : '');

  it('has the live document and the types generated from it', async () => {
    const { document: json, types } = await renderClient(document);
    if (write) {
      fs.writeFileSync(file('openapi.json'), json);
      fs.writeFileSync(file('src/schema.ts'), types);
    }
    expect(committed('openapi.json') === json, `packages/client/openapi.json differs from the server's document: run \`${REGENERATE}\` and commit the result`).toBe(true);
    expect(committed('src/schema.ts') === types, `packages/client/src/schema.ts differs from openapi.json: run \`${REGENERATE}\` and commit the result`).toBe(true);
  });
});
