import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiKey, bearer, countRows, feedbackWithScreenshot, memberAccount, ownerAccount, project, SCREENSHOTS_ON, submit, type Account,
} from '../../../../test/factories.js';
import { refusedUnchanged, snapshot } from '../../../../test/route-sweep.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { DEFAULT_PROTECTION } from './protection.js';
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

async function eventsOf(projectId: string) {
  const { rows } = await server.db.superuser.query('SELECT type, data FROM events WHERE subject_id = $1 ORDER BY seq', [projectId]);
  return rows;
}

describe('versions, ETag and If-Match', () => {
  it('answers the version as ETag, raises it with every change, and refuses a change based on an older one (412), changing nothing', async () => {
    const p = await project(server, owner.orgId);
    const url = `${projectsOf(owner.orgId)}/${p.id}`;
    const read = await server.request('GET', url, { cookie: owner.cookie });
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body.version).toBe(1);
    const renamed = await server.request('PATCH', url, { cookie: owner.cookie, headers: { 'if-match': '"1"' }, body: { name: 'Renamed' } });
    expect(renamed.headers.get('etag')).toBe('"2"');
    const protection = await server.request('GET', `${url}/protection`, { cookie: owner.cookie });
    expect(protection.headers.get('etag')).toBe('"2"');
    const stale = { cookie: owner.cookie, headers: { 'if-match': '"1"' } };
    await refusedUnchanged(server, () => server.request('PATCH', url, { ...stale, body: { name: 'Lost update' } }), 412, 'precondition_failed');
    await refusedUnchanged(server, () => server.request('PUT', `${url}/protection`, { ...stale, body: { ...DEFAULT_PROTECTION, minSeconds: 9 } }), 412, 'precondition_failed');
    await refusedUnchanged(server, () => server.request('POST', `${url}/identity-secret`, stale), 412, 'precondition_failed');
    await refusedUnchanged(server, () => server.request('PUT', `${url}/protection/captcha-secret`, { ...stale, body: { secret: 'x' } }), 412, 'precondition_failed');
    const saved = await server.request('PUT', `${url}/protection`, { cookie: owner.cookie, headers: { 'if-match': '"2"' }, body: { ...DEFAULT_PROTECTION, minSeconds: 9 } });
    expect(saved.body.version).toBe(3);
    const secret = await server.request('POST', `${url}/identity-secret`, { cookie: owner.cookie, headers: { 'if-match': '"3"' } });
    expect(secret.body).toEqual({ secret: expect.stringMatching(/^pis_/), version: 4 });
    expect(secret.headers.get('etag')).toBe('"4"');
    const captcha = await server.request('PUT', `${url}/protection/captcha-secret`, { cookie: owner.cookie, body: { secret: 'provider-secret' } });
    expect(captcha.headers.get('etag')).toBe('"5"');
  });

  it('announces project.created and project.updated (what changed; never secrets or protection rules)', async () => {
    const created = await server.request('POST', projectsOf(owner.orgId), { cookie: owner.cookie, body: { name: 'Announced', domains: ['example.com'] } });
    const url = `${projectsOf(owner.orgId)}/${created.body.id}`;
    await server.request('PATCH', url, { cookie: owner.cookie, body: { domains: ['example.com', 'shop.example.com'] } });
    await server.request('PUT', `${url}/protection`, { cookie: owner.cookie, body: { ...DEFAULT_PROTECTION, spam: { ...DEFAULT_PROTECTION.spam, blockedWords: ['casino'] } } });
    const secret = (await server.request('POST', `${url}/identity-secret`, { cookie: owner.cookie })).body.secret;
    const base = { id: created.body.id, name: 'Announced' };
    const events = await eventsOf(created.body.id);
    expect(events.map((e) => e.type)).toEqual(['project.created', 'project.updated', 'project.updated', 'project.updated']);
    expect(events.map((e) => e.data)).toEqual([
      { ...base, domains: ['example.com'] },
      { ...base, domains: ['example.com', 'shop.example.com'], changes: ['domains'] },
      { ...base, domains: ['example.com', 'shop.example.com'], changes: ['protection'] },
      { ...base, domains: ['example.com', 'shop.example.com'], changes: ['identitySecret'] },
    ]);
    expect(JSON.stringify(events)).not.toMatch(new RegExp(`casino|${secret}`));
  });

  it("keeps an API key limited to one project off the others' settings (404), changing nothing", async () => {
    const [allowed, other] = [await project(server, owner.orgId), await project(server, owner.orgId)];
    const key = await apiKey(server, owner, { scopes: ['project_read', 'project_write'], projectIds: [allowed.id] });
    const before = await snapshot(server, ['audit_events']);
    const url = `${projectsOf(owner.orgId)}/${other.id}`;
    for (const [method, path, body] of [
      ['PATCH', url, { name: 'Not yours' }], ['PUT', `${url}/protection`, DEFAULT_PROTECTION], ['POST', `${url}/identity-secret`, undefined],
      ['PUT', `${url}/protection/captcha-secret`, { secret: 'x' }], ['DELETE', url, undefined],
    ] as const) {
      const reply = await server.rawRequest(method, path, { headers: bearer(key.token), body });
      expect(`${reply.status} ${reply.body.code}`, `${method} ${path}`).toBe('404 project_not_found');
    }
    expect(await snapshot(server, ['audit_events'])).toEqual(before);
    const mine = await server.rawRequest('PATCH', `${projectsOf(owner.orgId)}/${allowed.id}`, { headers: bearer(key.token), body: { name: 'Mine to rename' } });
    expect(mine.status).toBe(200);
  });
});

describe('DELETE /api/v1/orgs/:orgId/projects/:projectId', () => {
  it('deletes the project with its feedback and screenshots, frees limits naming it, audits it and announces project.deleted', async () => {
    const doomed = await project(server, owner.orgId, ['example.com'], SCREENSHOTS_ON);
    const kept = await project(server, owner.orgId);
    const feedbackId = await feedbackWithScreenshot(server, doomed);
    const limited = await memberAccount(server, owner.orgId, 'member', [doomed.id, kept.id]);
    const onlyThere = await memberAccount(server, owner.orgId, 'member', [doomed.id]);
    const key = await apiKey(server, owner, { scopes: ['feedback_read'], projectIds: [doomed.id] });
    const reply = await server.request('DELETE', `${projectsOf(owner.orgId)}/${doomed.id}`, { cookie: owner.cookie, headers: { 'if-match': '"2"' } });
    expect(reply.status, reply.text).toBe(204);
    for (const [table, column] of [['projects', 'id'], ['feedback', 'project_id'], ['screenshots', 'project_id']]) {
      expect((await server.db.superuser.query(`SELECT 1 FROM ${table} WHERE ${column} = $1`, [doomed.id])).rowCount, table).toBe(0);
    }
    const limits = await server.db.superuser.query('SELECT user_id, project_ids FROM memberships WHERE user_id = ANY($1) ORDER BY user_id', [[limited.userId, onlyThere.userId]]);
    expect(Object.fromEntries(limits.rows.map((r) => [r.user_id, r.project_ids]))).toEqual({ [limited.userId]: [kept.id], [onlyThere.userId]: [] });
    expect((await server.db.superuser.query('SELECT project_ids FROM api_keys WHERE id = $1', [key.id])).rows[0].project_ids).toEqual([]);
    const audit = await server.db.superuser.query("SELECT actor_id, data FROM audit_events WHERE action = 'project.deleted' AND target_id = $1", [doomed.id]);
    expect(audit.rows).toEqual([{ actor_id: owner.userId, data: { name: doomed.name } }]);
    expect((await eventsOf(doomed.id)).filter((e) => e.type === 'project.deleted')).toEqual([{ type: 'project.deleted', data: { id: doomed.id, name: doomed.name } }]);
    expect((await server.request('GET', `/api/v1/orgs/${owner.orgId}/feedback/${feedbackId}`, { cookie: owner.cookie })).status).toBe(404);
    const late = await submit(server, doomed.key, { message: 'to a project that is gone' });
    expect(`${late.status} ${late.body.code}`).toBe('404 project_not_found');
  });

  it('refuses members (403), a stale If-Match (412) and another tenant (404), deleting nothing', async () => {
    const p = await project(server, owner.orgId);
    const url = `${projectsOf(owner.orgId)}/${p.id}`;
    const admin = await memberAccount(server, owner.orgId, 'admin');
    const member = await memberAccount(server, owner.orgId, 'member');
    await refusedUnchanged(server, () => server.request('DELETE', url, { cookie: member.cookie }), 403, 'forbidden');
    await refusedUnchanged(server, () => server.request('DELETE', url, { cookie: admin.cookie, headers: { 'if-match': '"5"' } }), 412, 'precondition_failed');
    await refusedUnchanged(server, () => server.request('DELETE', url, { cookie: other.cookie }), 404, 'not_found');
    await refusedUnchanged(server, () => server.request('DELETE', `${projectsOf(other.orgId)}/${p.id}`, { cookie: other.cookie }), 404, 'project_not_found');
  });

  it('needs a factor proved in the last 10 minutes (403 reauth_required), deleting nothing', async () => {
    const p = await project(server, owner.orgId);
    server.clock.advance(11 * 60_000);
    await refusedUnchanged(server, () => server.request('DELETE', `${projectsOf(owner.orgId)}/${p.id}`, { cookie: owner.cookie }), 403, 'reauth_required');
  });
});
