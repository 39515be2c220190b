import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, memberAccount, ownerAccount, project, submit, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { widgetSnippet } from '../widget/assets.js';
import { DEFAULT_WIDGET_SETTINGS } from './widget-settings.js';

let server: TestServer;
let owner: Account;
let other: Account;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  other = await ownerAccount(server);
});
afterAll(() => server.close());

const projectsOf = (orgId: string) => `/api/v1/orgs/${orgId}/projects`;

describe('POST /api/v1/orgs/:orgId/projects', () => {
  it('creates a project with normalised domains, its key and snippet, and audits it', async () => {
    const reply = await server.request('POST', projectsOf(owner.orgId), { cookie: owner.cookie, body: { name: 'Shop', domains: ['Shop.Example.com', '*.bücher.example'] } });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      id: expect.any(String),
      name: 'Shop',
      key: expect.stringMatching(/^pk_[A-Za-z0-9_-]{22}$/),
      domains: ['shop.example.com', '*.xn--bcher-kva.example'],
      settings: DEFAULT_WIDGET_SETTINGS,
      hasIdentitySecret: false,
      snippet: widgetSnippet(new URL('http://localhost:3000'), reply.body.key),
      csp: { 'script-src': ['http://localhost:3000'], 'connect-src': ['http://localhost:3000'], 'worker-src': ['blob:'] },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      version: 1,
    });
    const { rows } = await server.db.superuser.query(`SELECT action, data FROM audit_events WHERE org_id = $1 AND target_id = $2`, [owner.orgId, reply.body.id]);
    expect(rows).toEqual([{ action: 'project.created', data: { name: 'Shop', domains: ['shop.example.com', '*.xn--bcher-kva.example'] } }]);
  });

  it('stores an HTML or SQL payload in the name verbatim and returns it as JSON text', async () => {
    const name = `<script>alert(1)</script>'; DROP TABLE projects; --`;
    const reply = await server.request('POST', projectsOf(owner.orgId), { cookie: owner.cookie, body: { name, domains: ['example.com'] } });
    expect(reply.status).toBe(201);
    const read = await server.request('GET', `${projectsOf(owner.orgId)}/${reply.body.id}`, { cookie: owner.cookie });
    expect(read.headers.get('content-type')).toMatch(/^application\/json/);
    expect(read.body.name).toBe(name);
  });

  it.each([['*'], ['*.com'], ['https://example.com/path'], ['ftp://example.com']])('refuses the allowed domain %j with domain_invalid', async (domain) => {
    const before = await countRows(server, 'projects');
    const reply = await server.request('POST', projectsOf(owner.orgId), { cookie: owner.cookie, body: { name: 'Bad', domains: [domain] } });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('domain_invalid');
    expect(await countRows(server, 'projects')).toBe(before);
  });

  it('refuses an org_id or key in the body (mass assignment)', async () => {
    for (const extra of [{ org_id: other.orgId }, { key: 'pk_chosenbyattacker00000' }]) {
      const reply = await server.request('POST', projectsOf(owner.orgId), { cookie: owner.cookie, body: { name: 'X', domains: ['example.com'], ...extra } });
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe('validation_failed');
    }
  });

  it('refuses members and viewers (403) and strangers to the organization (404)', async () => {
    const member = await memberAccount(server, owner.orgId, 'member');
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    const body = { name: 'X', domains: ['example.com'] };
    expect((await server.request('POST', projectsOf(owner.orgId), { cookie: member.cookie, body })).body.code).toBe('forbidden');
    expect((await server.request('POST', projectsOf(owner.orgId), { cookie: viewer.cookie, body })).status).toBe(403);
    const stranger = await server.request('POST', projectsOf(owner.orgId), { cookie: other.cookie, body });
    expect(stranger.status).toBe(404);
    expect(stranger.body.code).toBe('not_found');
  });
});

describe('GET and PATCH a project', () => {
  it('lists and reads the organization’s projects, and 404s another tenant’s', async () => {
    const mine = await project(server, owner.orgId);
    const theirs = await project(server, other.orgId);
    const list = await server.request('GET', projectsOf(owner.orgId), { cookie: owner.cookie });
    expect(list.body.items.map((p: { id: string }) => p.id)).toContain(mine.id);
    expect(list.body.items.map((p: { id: string }) => p.id)).not.toContain(theirs.id);
    expect((await server.request('GET', `${projectsOf(owner.orgId)}/${mine.id}`, { cookie: owner.cookie })).body.key).toBe(mine.key);
    // Another tenant's project id under my organization, and under theirs.
    expect((await server.request('GET', `${projectsOf(owner.orgId)}/${theirs.id}`, { cookie: owner.cookie })).status).toBe(404);
    expect((await server.request('GET', `${projectsOf(other.orgId)}/${theirs.id}`, { cookie: owner.cookie })).status).toBe(404);
    expect((await server.request('GET', `${projectsOf(owner.orgId)}/not-a-uuid`, { cookie: owner.cookie })).status).toBe(400);
  });

  it('changes allowed domains at once for ingestion and audits what was added and removed', async () => {
    const p = await project(server, owner.orgId, ['example.com']);
    const send = (origin: string) => submit(server, p.key, { message: 'x' }, origin);
    expect((await send('https://new.example')).status).toBe(403);
    const reply = await server.request('PATCH', `${projectsOf(owner.orgId)}/${p.id}`, { cookie: owner.cookie, body: { domains: ['new.example'] } });
    expect(reply.status).toBe(200);
    expect(reply.body.domains).toEqual(['new.example']);
    expect((await send('https://new.example')).status).toBe(201);
    expect((await send('https://example.com')).status).toBe(403);
    const { rows } = await server.db.superuser.query(`SELECT data FROM audit_events WHERE target_id = $1 AND action = 'project.updated'`, [p.id]);
    expect(rows).toEqual([{ data: { domains: { added: ['new.example'], removed: ['example.com'] } } }]);
  });

  it('cannot patch another tenant’s project', async () => {
    const theirs = await project(server, other.orgId, ['their.example']);
    const reply = await server.request('PATCH', `${projectsOf(owner.orgId)}/${theirs.id}`, { cookie: owner.cookie, body: { domains: ['evil.example'] } });
    expect(reply.status).toBe(404);
    const { rows } = await server.db.superuser.query(`SELECT allowed_domains FROM projects WHERE id = $1`, [theirs.id]);
    expect(rows[0].allowed_domains).toEqual(['their.example']);
  });
});
