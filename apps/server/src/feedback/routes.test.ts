import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiKey, bearer, countRows, feedbackWithScreenshot, memberAccount, ownerAccount, project, RICH_SETTINGS, SCREENSHOTS_ON, setProtection, submit, type Account,
} from '../../../../test/factories.js';
import { refusedUnchanged, snapshot } from '../../../../test/route-sweep.js';
import { startTestServer, TEST_USER_AGENT, type TestServer } from '../../../../test/server.js';
import type { Project } from '../projects/service.js';

// One feedback item through the API: reading it (never with personal data),
// reading the reporter's data (audited), triage with If-Match, deletion, and
// feedback sent by the customer's own server.

let server: TestServer;
let owner: Account;
let other: Account;
let inbox: Project;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  other = await ownerAccount(server);
  inbox = await project(server, owner.orgId, ['example.com'], { ...RICH_SETTINGS, ...SCREENSHOTS_ON });
});
afterAll(() => server.close());

const org = (account: Account = owner) => `/api/v1/orgs/${account.orgId}`;
const one = (id: string, account: Account = owner) => `${org(account)}/feedback/${id}`;

async function send(p: Project, body: Record<string, unknown>) {
  server.clock.advance(1000);
  const reply = await submit(server, p.key, body);
  expect(reply.status, reply.text).toBe(201);
  return reply.body.id as string;
}

const PERSONAL = {
  message: 'Broken on mobile', rating: 2, type: 'bug', email: 'Jane@Example.test', pageUrl: 'https://example.com/checkout', locale: 'de-DE',
  viewport: { width: 390, height: 844 }, custom: { plan: 'pro', note: 'private note 42' }, metadata: { account: 'acme-7' }, identity: { id: 'user-77', name: 'Jane Roe' },
};

async function auditOf(targetId: string) {
  const { rows } = await server.db.superuser.query('SELECT action, actor_type, actor_id, target_type, data FROM audit_events WHERE target_id = $1 ORDER BY seq', [targetId]);
  return rows;
}

async function eventsOf(subjectId: string) {
  const { rows } = await server.db.superuser.query('SELECT type, project_id, data FROM events WHERE subject_id = $1 ORDER BY seq', [subjectId]);
  return rows;
}

async function newLabel(name: string, account: Account = owner): Promise<string> {
  const reply = await server.request('POST', `${org(account)}/labels`, { cookie: account.cookie, body: { name, color: '#336699' } });
  expect(reply.status, reply.text).toBe(201);
  return reply.body.id;
}

describe('GET /api/v1/orgs/:orgId/feedback/:feedbackId', () => {
  it('shows the item with its ETag and without any personal data of the reporter', async () => {
    const id = await send(inbox, PERSONAL);
    const reply = await server.request('GET', one(id), { cookie: owner.cookie });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('etag')).toBe('"1"');
    expect(reply.body).toEqual({
      id, projectId: inbox.id, status: 'new', rating: 2, ratingScale: 'stars', type: 'bug', message: 'Broken on mobile', pageUrl: 'https://example.com/checkout',
      hasScreenshot: false, assigneeId: null, labelIds: [], noteCount: 0, version: 1, locale: 'de-DE', viewport: { width: 390, height: 844 }, identityVerified: false,
      createdAt: expect.any(String), updatedAt: expect.any(String),
    });
    for (const secret of ['jane@example.test', '127.0.0.1', TEST_USER_AGENT, 'private note 42', 'acme-7', 'user-77', 'Jane Roe']) expect(reply.text).not.toContain(secret);
  });

  it('stores SQL and HTML payloads verbatim and returns them as inert JSON text', async () => {
    for (const payload of [`'; DROP TABLE feedback; --`, `<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`, `" OR 1=1 --`, 'emoji 🙂 and ünïcödé']) {
      const id = await send(inbox, { message: payload, type: 'bug' });
      const reply = await server.request('GET', one(id), { cookie: owner.cookie });
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expect(reply.body.message).toBe(payload);
    }
    expect(await countRows(server, 'feedback')).toBeGreaterThan(0);
  });

  it("answers 404 for another tenant's feedback, under either organization id, and for ids that do not exist", async () => {
    const theirs = await send(await project(server, other.orgId), { message: 'private to the other tenant' });
    for (const path of [one(theirs), one(theirs, other), one('00000000-0000-4000-8000-000000000000')]) {
      const reply = await server.request('GET', path, { cookie: owner.cookie });
      expect(`${reply.status} ${reply.body.code}`).toBe('404 not_found');
      expect(reply.text).not.toContain('private to the other tenant');
    }
  });
});

describe('GET /api/v1/orgs/:orgId/feedback/:feedbackId/reporter', () => {
  it('opens every sealed field, marks the answer no-store and records who read it', async () => {
    const id = await send(inbox, { ...PERSONAL, browser: 'Firefox 140', os: 'Linux' });
    const reply = await server.request('GET', `${one(id)}/reporter`, { cookie: owner.cookie });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body).toEqual({
      email: 'jane@example.test', ip: '127.0.0.1', userAgent: TEST_USER_AGENT, identity: { id: 'user-77', email: null, name: 'Jane Roe', verified: false },
      custom: { plan: 'pro', note: 'private note 42' }, metadata: { account: 'acme-7' }, browser: 'Firefox 140', os: 'Linux', consoleErrors: [], consent: null,
    });
    expect(await auditOf(id)).toEqual([{ action: 'feedback.reporter_viewed', actor_type: 'user', actor_id: owner.userId, target_type: 'feedback', data: { projectId: inbox.id } }]);
  });

  it('records reads with an API key as the key', async () => {
    const id = await send(inbox, PERSONAL);
    const key = await apiKey(server, owner, { scopes: ['feedback_read'] });
    const reply = await server.rawRequest('GET', `${one(id)}/reporter`, { headers: bearer(key.token) });
    expect(reply.body.email).toBe('jane@example.test');
    const { rows } = await server.db.superuser.query("SELECT actor_type, actor_id FROM audit_events WHERE action = 'feedback.reporter_viewed' AND target_id = $1", [id]);
    expect(rows).toEqual([{ actor_type: 'api_key', actor_id: key.id }]);
  });

  it('answers 404 to a member limited to another project, and to another tenant, recording nothing', async () => {
    const id = await send(inbox, PERSONAL);
    const limited = await memberAccount(server, owner.orgId, 'viewer', [(await project(server, owner.orgId)).id]);
    await refusedUnchanged(server, () => server.request('GET', `${one(id)}/reporter`, { cookie: limited.cookie }), 404, 'not_found');
    await refusedUnchanged(server, () => server.request('GET', `${one(id, other)}/reporter`, { cookie: other.cookie }), 404, 'not_found');
  });
});

describe('GET /api/v1/orgs/:orgId/feedback/:feedbackId/screenshot', () => {
  it('records each read of a screenshot; feedback without one answers 404 and records nothing', async () => {
    const withPicture = await feedbackWithScreenshot(server, inbox);
    expect((await server.request('GET', `${one(withPicture)}/screenshot`, { cookie: owner.cookie })).status).toBe(200);
    expect((await auditOf(withPicture)).map((row) => row.action)).toEqual(['feedback.screenshot_viewed']);
    const without = await send(inbox, { message: 'no picture' });
    await refusedUnchanged(server, () => server.request('GET', `${one(without)}/screenshot`, { cookie: owner.cookie }), 404, 'not_found');
  });
});

describe('PATCH /api/v1/orgs/:orgId/feedback/:feedbackId', () => {
  it('changes status, assignee and labels at once: new version and ETag, audited from/to, feedback.updated without personal data', async () => {
    const id = await send(inbox, PERSONAL);
    const [bug, ux] = [await newLabel('Bug patch'), await newLabel('UX patch')];
    const member = await memberAccount(server, owner.orgId, 'member');
    const reply = await server.request('PATCH', one(id), { cookie: owner.cookie, headers: { 'if-match': '"1"' }, body: { status: 'in_progress', assigneeId: member.userId, labelIds: [ux, bug] } });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.headers.get('etag')).toBe('"2"');
    expect(reply.body).toMatchObject({ status: 'in_progress', assigneeId: member.userId, labelIds: [bug, ux].sort(), version: 2 });
    const changes = { status: { from: 'new', to: 'in_progress' }, assigneeId: { from: null, to: member.userId }, labelIds: { added: [bug, ux].sort(), removed: [] } };
    expect(await auditOf(id)).toEqual([{ action: 'feedback.updated', actor_type: 'user', actor_id: owner.userId, target_type: 'feedback', data: changes }]);
    const updated = (await eventsOf(id)).find((event) => event.type === 'feedback.updated');
    expect(updated).toMatchObject({ project_id: inbox.id, data: { id, status: 'in_progress', assigneeId: member.userId, labelIds: [bug, ux].sort(), changes } });
    expect(JSON.stringify(updated)).not.toMatch(/jane@example|127\.0\.0\.1|private note|acme-7|user-77/);
  });

  it('takes labels off and unassigns; sending the values it already has changes nothing (same version, no audit)', async () => {
    const id = await send(inbox, { message: 'relabel me' });
    const label = await newLabel('Relabel');
    await server.request('PATCH', one(id), { cookie: owner.cookie, body: { labelIds: [label], assigneeId: owner.userId } });
    const cleared = await server.request('PATCH', one(id), { cookie: owner.cookie, body: { labelIds: [], assigneeId: null } });
    expect(cleared.body).toMatchObject({ labelIds: [], assigneeId: null, version: 3 });
    expect((await auditOf(id)).at(-1)!.data).toEqual({ assigneeId: { from: owner.userId, to: null }, labelIds: { added: [], removed: [label] } });
    const before = await snapshot(server);
    const same = await server.request('PATCH', one(id), { cookie: owner.cookie, body: { status: 'new', labelIds: [], assigneeId: null } });
    expect(same.status).toBe(200);
    expect(same.headers.get('etag')).toBe('"3"');
    expect(await snapshot(server)).toEqual(before);
  });

  it('unassigns a member from what they can no longer see: projects taken from them, then everything when they leave', async () => {
    const member = await memberAccount(server, owner.orgId, 'member');
    const kept = await project(server, owner.orgId);
    const [here, there] = [await send(inbox, { message: 'assigned in the inbox' }), await send(kept, { message: 'assigned in the kept project' })];
    for (const id of [here, there]) await server.request('PATCH', one(id), { cookie: owner.cookie, body: { assigneeId: member.userId } });
    const members = `${org()}/members/${member.userId}`;
    expect((await server.request('PATCH', members, { cookie: owner.cookie, body: { projectIds: [kept.id] } })).status).toBe(200);
    expect((await server.request('GET', one(here), { cookie: owner.cookie })).body).toMatchObject({ assigneeId: null, version: 3 });
    expect((await server.request('GET', one(there), { cookie: owner.cookie })).body).toMatchObject({ assigneeId: member.userId, version: 2 });
    expect((await auditOf(here)).at(-1)).toMatchObject({ action: 'feedback.updated', actor_id: owner.userId, data: { assigneeId: { from: member.userId, to: null } } });
    expect((await eventsOf(here)).at(-1)).toMatchObject({ type: 'feedback.updated', data: { id: here, assigneeId: null, changes: { assigneeId: { from: member.userId, to: null } } } });
    expect((await server.request('DELETE', members, { cookie: owner.cookie })).status).toBe(204);
    expect((await server.request('GET', one(there), { cookie: owner.cookie })).body).toMatchObject({ assigneeId: null, version: 3 });
  });

  it('refuses a stale or malformed If-Match with 412 precondition_failed and changes nothing', async () => {
    const id = await send(inbox, { message: 'two editors' });
    await server.request('PATCH', one(id), { cookie: owner.cookie, body: { status: 'done' } });
    for (const ifMatch of ['"1"', '"3"', 'W/"1"', '1', 'garbage']) {
      const reply = await refusedUnchanged(server, () => server.request('PATCH', one(id), { cookie: owner.cookie, headers: { 'if-match': ifMatch }, body: { status: 'archived' } }), 412, 'precondition_failed');
      expect(reply.body.detail).toMatch(/version|If-Match/);
    }
    expect((await server.request('PATCH', one(id), { cookie: owner.cookie, headers: { 'if-match': '"2"' }, body: { status: 'archived' } })).status).toBe(200);
  });

  it.each([
    ['a user of another organization', async () => other.userId],
    ['a member limited to another project', async () => (await memberAccount(server, owner.orgId, 'member', [(await project(server, owner.orgId)).id])).userId],
    ['an id that is nobody', async () => '00000000-0000-4000-8000-000000000000'],
  ])('refuses to assign %s (400 validation_failed) and changes nothing', async (_case, assignee) => {
    const id = await send(inbox, { message: 'assign me' });
    const userId = await assignee();
    const reply = await refusedUnchanged(server, () => server.request('PATCH', one(id), { cookie: owner.cookie, body: { assigneeId: userId } }), 400, 'validation_failed');
    expect(reply.body.detail).toContain(userId);
  });

  it("refuses unknown labels, another organization's labels, more than 20, twice the same, and changes nothing", async () => {
    const id = await send(inbox, { message: 'label me' });
    const theirs = await newLabel('Theirs', other);
    const ours = await newLabel('Ours');
    const many = Array.from({ length: 21 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    for (const labelIds of [[ours, theirs], ['00000000-0000-4000-8000-000000000000'], many, [ours, ours]]) {
      await refusedUnchanged(server, () => server.request('PATCH', one(id), { cookie: owner.cookie, body: { labelIds } }), 400, 'validation_failed');
    }
  });

  it('refuses unknown statuses, other fields (mass assignment) and an empty change with 400, changing nothing', async () => {
    const id = await send(inbox, { message: 'keep me' });
    for (const body of [{ status: 'deleted' }, { status: 'done', message: 'rewritten' }, { status: 'done', org_id: other.orgId }, { version: 9 }, {}, { assigneeId: 'bob' }]) {
      await refusedUnchanged(server, () => server.request('PATCH', one(id), { cookie: owner.cookie, body }), 400, 'validation_failed');
    }
  });

  it("lets a viewer read but not triage (403), and another tenant's item is 404", async () => {
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    const id = await send(inbox, { message: 'viewer test' });
    expect((await server.request('GET', one(id), { cookie: viewer.cookie })).status).toBe(200);
    await refusedUnchanged(server, () => server.request('PATCH', one(id), { cookie: viewer.cookie, body: { status: 'done' } }), 403, 'forbidden');
    await refusedUnchanged(server, () => server.request('PATCH', one(id, other), { cookie: other.cookie, body: { status: 'done' } }), 404, 'not_found');
  });
});

describe('DELETE /api/v1/orgs/:orgId/feedback/:feedbackId', () => {
  it('deletes the item with its screenshot, notes and labels; audited; feedback.deleted names only ids', async () => {
    const id = await feedbackWithScreenshot(server, inbox, 'delete me with my picture');
    const { rows } = await server.db.superuser.query('SELECT screenshot_id FROM feedback WHERE id = $1', [id]);
    await server.request('PATCH', one(id), { cookie: owner.cookie, body: { labelIds: [await newLabel('Doomed')] } });
    await server.request('POST', `${one(id)}/notes`, { cookie: owner.cookie, body: { body: 'a note that goes too' } });
    const reply = await server.request('DELETE', one(id), { cookie: owner.cookie, headers: { 'if-match': '"2"' } });
    expect(reply.status).toBe(204);
    for (const [table, column, value] of [['feedback', 'id', id], ['screenshots', 'id', rows[0].screenshot_id], ['feedback_labels', 'feedback_id', id], ['feedback_notes', 'feedback_id', id]]) {
      expect((await server.db.superuser.query(`SELECT 1 FROM ${table} WHERE ${column} = $1`, [value])).rowCount, table).toBe(0);
    }
    expect((await auditOf(id)).at(-1)).toEqual({ action: 'feedback.deleted', actor_type: 'user', actor_id: owner.userId, target_type: 'feedback', data: { projectId: inbox.id } });
    expect((await eventsOf(id)).find((event) => event.type === 'feedback.deleted')).toEqual({ type: 'feedback.deleted', project_id: inbox.id, data: { id, projectId: inbox.id } });
    expect((await server.request('GET', one(id), { cookie: owner.cookie })).status).toBe(404);
  });

  it('refuses a member (no feedback_delete), a stale If-Match and another tenant, and deletes nothing', async () => {
    const id = await send(inbox, { message: 'survivor' });
    const member = await memberAccount(server, owner.orgId, 'member');
    await refusedUnchanged(server, () => server.request('DELETE', one(id), { cookie: member.cookie }), 403, 'forbidden');
    await refusedUnchanged(server, () => server.request('DELETE', one(id), { cookie: owner.cookie, headers: { 'if-match': '"7"' } }), 412, 'precondition_failed');
    await refusedUnchanged(server, () => server.request('DELETE', one(id, other), { cookie: other.cookie }), 404, 'not_found');
  });
});

describe('POST /api/v1/orgs/:orgId/projects/:projectId/feedback (from a server)', () => {
  let site: Project;
  const create = (p: Project, body: unknown, headers: Record<string, string> = {}, account: Account = owner) =>
    server.request('POST', `${org(account)}/projects/${p.id}/feedback`, { cookie: account.cookie, headers, body });

  beforeAll(async () => {
    site = await project(server, owner.orgId, ['example.com'], { ...RICH_SETTINGS, identity: { required: true } });
    await setProtection(server, owner, site, { serverSubmissions: true, minSeconds: 3 });
  });

  it('is refused with 403 server_submissions_off while the project does not allow it, storing nothing', async () => {
    const closed = await project(server, owner.orgId);
    const reply = await refusedUnchanged(server, () => create(closed, { message: 'from our backend' }), 403, 'server_submissions_off');
    expect(reply.body.detail).toMatch(/serverSubmissions/);
  });

  it('stores it without a browser check: 201, ETag, Location, the identity verified, feedback.created without personal data', async () => {
    const key = await apiKey(server, owner, { scopes: ['feedback_create', 'feedback_read'] });
    const body = { message: 'Exported CSV is empty', rating: 1, type: 'bug', email: 'buyer@example.test', identity: { id: 'acct-9', email: 'buyer@example.test' }, custom: { plan: 'pro' } };
    const reply = await server.rawRequest('POST', `${org()}/projects/${site.id}/feedback`, { headers: { ...bearer(key.token), 'user-agent': 'acme-backend/2' }, body });
    expect(reply.status, reply.text).toBe(201);
    expect(reply.headers.get('etag')).toBe('"1"');
    expect(reply.headers.get('location')).toBe(`${org()}/feedback/${reply.body.id}`);
    expect(reply.body).toMatchObject({ projectId: site.id, status: 'new', rating: 1, type: 'bug', message: 'Exported CSV is empty', identityVerified: true, version: 1 });
    expect(reply.text).not.toContain('buyer@example.test');
    const reporter = await server.request('GET', `${one(reply.body.id)}/reporter`, { cookie: owner.cookie });
    expect(reporter.body).toMatchObject({ email: 'buyer@example.test', userAgent: 'acme-backend/2', identity: { id: 'acct-9', email: 'buyer@example.test', name: null, verified: true } });
    await server.jobsDone();
    const [created] = await eventsOf(reply.body.id);
    expect(created).toMatchObject({ type: 'feedback.created', data: { id: reply.body.id, message: 'Exported CSV is empty' } });
    expect(JSON.stringify(created.data)).not.toContain('buyer@example.test');
  });

  it('answers a retry with the same Idempotency-Key with the first answer, storing one row', async () => {
    const before = await countRows(server, 'feedback');
    const body = { message: 'sent twice', identity: { id: 'acct-1' } };
    const first = await create(site, body, { 'idempotency-key': 'server-retry-1' });
    const again = await create(site, body, { 'idempotency-key': 'server-retry-1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await countRows(server, 'feedback')).toBe(before + 1);
  });

  it.each([
    ['a rating outside the project scale', { rating: 9 }, 'validation_failed'],
    ['a type the project does not offer', { type: 'rant' }, 'validation_failed'],
    ['a custom field the project does not define', { custom: { secret: 'x' } }, 'validation_failed'],
    ['no identity where the project requires one', { identity: undefined }, 'identity_invalid'],
    ['a proof of work (a widget field)', { challenge: 'abc' }, 'validation_failed'],
    ['a honeypot (a widget field)', { honeypot: '' }, 'validation_failed'],
    ['a screenshot id', { screenshotId: '00000000-0000-4000-8000-000000000000' }, 'validation_failed'],
    ['a signed identity (a widget field)', { identity: { id: 'acct-1', signature: '0'.repeat(64) } }, 'validation_failed'],
    ['an org_id (mass assignment)', { org_id: '00000000-0000-4000-8000-000000000001' }, 'validation_failed'],
    ['a blank message', { message: '   ' }, 'validation_failed'],
  ])('refuses %s as the widget would, storing nothing', async (_case, change, code) => {
    const status = code === 'identity_invalid' ? 403 : 400;
    await refusedUnchanged(server, () => create(site, { message: 'valid otherwise', identity: { id: 'acct-1' }, ...change }), status, code);
  });

  it("applies the project's spam rules and budget (429 with Retry-After), storing nothing", async () => {
    const strict = await project(server, owner.orgId);
    await setProtection(server, owner, strict, { serverSubmissions: true, spam: { blockedWords: ['casino'] }, limits: { projectPerMinute: 1 } });
    await refusedUnchanged(server, () => create(strict, { message: 'Best CASINO bonus' }), 400, 'spam_blocked_word');
    expect((await create(strict, { message: 'first of the minute' })).status).toBe(201);
    const busy = await refusedUnchanged(server, () => create(strict, { message: 'second of the minute' }), 429, 'rate_limit_project');
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('refuses a body over 64 KB with 413 before reading it', async () => {
    await refusedUnchanged(server, () => create(site, { message: 'x'.repeat(70_000), identity: { id: 'acct-1' } }), 413, 'body_too_large');
  });

  it('answers 404 for a project the caller cannot see or of another tenant, and 403 to a viewer', async () => {
    const hidden = await project(server, owner.orgId);
    await setProtection(server, owner, hidden, { serverSubmissions: true });
    const limited = await memberAccount(server, owner.orgId, 'member', [site.id]);
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    await refusedUnchanged(server, () => create(hidden, { message: 'x' }, {}, limited), 404, 'project_not_found');
    await refusedUnchanged(server, () => server.request('POST', `${org()}/projects/${site.id}/feedback`, { cookie: other.cookie, body: { message: 'x' } }), 404, 'not_found');
    await refusedUnchanged(server, () => create(site, { message: 'x' }, {}, other), 404, 'project_not_found');
    await refusedUnchanged(server, () => create(site, { message: 'x', identity: { id: 'a' } }, {}, viewer), 403, 'forbidden');
  });
});
