import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberAccount, ownerAccount, project, RICH_SETTINGS, submit, type Account } from '../../../../test/factories.js';
import { startTestServer, TEST_USER_AGENT, type TestServer } from '../../../../test/server.js';
import type { Project } from '../projects/service.js';

let server: TestServer;
let owner: Account;
let other: Account;
let inbox: Project;
let theirInbox: Project;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  other = await ownerAccount(server);
  inbox = await project(server, owner.orgId, ['example.com'], RICH_SETTINGS);
  theirInbox = await project(server, other.orgId);
});
afterAll(() => server.close());

const list = (account: Account, p: Project, query = '') => server.request('GET', `/api/v1/orgs/${account.orgId}/projects/${p.id}/feedback${query}`, { cookie: account.cookie });

async function send(p: Project, body: Record<string, unknown>) {
  server.clock.advance(1000);
  const reply = await submit(server, p.key, body);
  expect(reply.status).toBe(201);
  return reply.body.id as string;
}

describe('the inbox', () => {
  it('lists newest first with cursor pagination', async () => {
    const p = await project(server, owner.orgId);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await send(p, { message: `message ${i}` }));
    const first = await list(owner, p, '?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items.map((f: { message: string }) => f.message)).toEqual(['message 4', 'message 3']);
    const second = await list(owner, p, `?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((f: { message: string }) => f.message)).toEqual(['message 2', 'message 1']);
    const third = await list(owner, p, `?limit=2&cursor=${second.body.nextCursor}`);
    expect(third.body.items.map((f: { id: string }) => f.id)).toEqual([ids[0]]);
    expect(third.body.nextCursor).toBeNull();
  });

  it('filters by status and refuses bad query values', async () => {
    const p = await project(server, owner.orgId);
    const id = await send(p, { message: 'to be done' });
    await send(p, { message: 'still new' });
    await server.request('PATCH', `/api/v1/orgs/${owner.orgId}/feedback/${id}`, { cookie: owner.cookie, body: { status: 'done' } });
    expect((await list(owner, p, '?status=done')).body.items.map((f: { id: string }) => f.id)).toEqual([id]);
    for (const query of ['?status=deleted', '?limit=0', '?limit=1000', '?limit=abc', '?cursor=bm9wZQ', '?other=1']) {
      const reply = await list(owner, p, query);
      expect(reply.status, query).toBe(400);
      expect(reply.body.code).toBe('validation_failed');
    }
  });

  it('shows every field of one item, personal data decrypted, and marks it no-store', async () => {
    const id = await send(inbox, {
      message: 'Broken on mobile', rating: 2, type: 'bug', email: 'Jane@Example.test', pageUrl: 'https://example.com/checkout',
      locale: 'de-DE', viewport: { width: 390, height: 844 }, custom: { plan: 'pro', note: '42' },
    });
    const reply = await server.request('GET', `/api/v1/orgs/${owner.orgId}/feedback/${id}`, { cookie: owner.cookie });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body).toEqual({
      id, projectId: inbox.id, status: 'new', rating: 2, ratingScale: 'stars', type: 'bug', message: 'Broken on mobile', email: 'jane@example.test',
      pageUrl: 'https://example.com/checkout', locale: 'de-DE', viewport: { width: 390, height: 844 }, custom: { plan: 'pro', note: '42' },
      userAgent: TEST_USER_AGENT, ip: '127.0.0.1', createdAt: expect.any(String), updatedAt: expect.any(String),
      consent: null, identity: null, metadata: {}, browser: null, os: null, consoleErrors: [], hasScreenshot: false,
    });
  });

  it('stores SQL and HTML payloads verbatim and returns them as inert JSON text', async () => {
    const payloads = [`'; DROP TABLE feedback; --`, `<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`, `" OR 1=1 --`, 'emoji 🙂 and ünïcödé'];
    for (const payload of payloads) {
      const id = await send(inbox, { message: payload, type: 'bug', custom: { note: payload } });
      const reply = await server.request('GET', `/api/v1/orgs/${owner.orgId}/feedback/${id}`, { cookie: owner.cookie });
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expect(reply.body.message).toBe(payload);
      expect(reply.body.custom.note).toBe(payload);
    }
    const { rows } = await server.db.superuser.query(`SELECT to_regclass('feedback') IS NOT NULL AS present`);
    expect(rows[0].present).toBe(true);
  });
});

describe('PATCH /api/v1/orgs/:orgId/feedback/:id', () => {
  it('changes the status and audits from/to', async () => {
    const id = await send(inbox, { message: 'status me' });
    const reply = await server.request('PATCH', `/api/v1/orgs/${owner.orgId}/feedback/${id}`, { cookie: owner.cookie, body: { status: 'in_progress' } });
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('in_progress');
    const { rows } = await server.db.superuser.query(`SELECT action, data, actor_id FROM audit_events WHERE target_id = $1`, [id]);
    expect(rows).toEqual([{ action: 'feedback.status_changed', data: { from: 'new', to: 'in_progress' }, actor_id: owner.userId }]);
  });

  it('refuses unknown statuses and extra fields, changing nothing', async () => {
    const id = await send(inbox, { message: 'keep me' });
    for (const body of [{ status: 'deleted' }, { status: 'done', message: 'rewritten' }, { status: 'done', org_id: other.orgId }, {}]) {
      const reply = await server.request('PATCH', `/api/v1/orgs/${owner.orgId}/feedback/${id}`, { cookie: owner.cookie, body });
      expect(reply.status).toBe(400);
    }
    const { rows } = await server.db.superuser.query(`SELECT status, message FROM feedback WHERE id = $1`, [id]);
    expect(rows[0]).toEqual({ status: 'new', message: 'keep me' });
  });

  it('lets a viewer read but not change status', async () => {
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    const id = await send(inbox, { message: 'viewer test' });
    expect((await server.request('GET', `/api/v1/orgs/${owner.orgId}/feedback/${id}`, { cookie: viewer.cookie })).status).toBe(200);
    const reply = await server.request('PATCH', `/api/v1/orgs/${owner.orgId}/feedback/${id}`, { cookie: viewer.cookie, body: { status: 'done' } });
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('forbidden');
  });
});

describe('tenant isolation', () => {
  it('answers 404 for another tenant’s feedback and project, under either organization id, and changes nothing', async () => {
    const theirs = await send(theirInbox, { message: 'private to the other tenant' });
    const attempts = [
      server.request('GET', `/api/v1/orgs/${owner.orgId}/feedback/${theirs}`, { cookie: owner.cookie }),
      server.request('GET', `/api/v1/orgs/${other.orgId}/feedback/${theirs}`, { cookie: owner.cookie }),
      server.request('PATCH', `/api/v1/orgs/${owner.orgId}/feedback/${theirs}`, { cookie: owner.cookie, body: { status: 'archived' } }),
      server.request('PATCH', `/api/v1/orgs/${other.orgId}/feedback/${theirs}`, { cookie: owner.cookie, body: { status: 'archived' } }),
      list(owner, theirInbox),
      server.request('GET', `/api/v1/orgs/${other.orgId}/projects/${theirInbox.id}/feedback`, { cookie: owner.cookie }),
    ];
    for (const reply of await Promise.all(attempts)) {
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe('not_found');
      expect(reply.text).not.toContain('private to the other tenant');
    }
    const { rows } = await server.db.superuser.query(`SELECT status FROM feedback WHERE id = $1`, [theirs]);
    expect(rows[0].status).toBe('new');
  });
});
