import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKey, bearer, memberAccount, ownerAccount, project, submit, type Account } from '../../../../test/factories.js';
import { refusedUnchanged } from '../../../../test/route-sweep.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import type { Project } from '../projects/service.js';

// Internal notes on feedback: writing, reading in pages, who may delete
// which, and the limits on what a note may hold.

let server: TestServer;
let owner: Account;
let member: Account;
let inbox: Project;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  member = await memberAccount(server, owner.orgId, 'member');
  inbox = await project(server, owner.orgId);
});
afterAll(() => server.close());

const notes = (feedbackId: string) => `/api/v1/orgs/${owner.orgId}/feedback/${feedbackId}/notes`;

async function feedback(): Promise<string> {
  const reply = await submit(server, inbox.key, { message: 'needs a note' });
  expect(reply.status).toBe(201);
  return reply.body.id;
}

async function write(feedbackId: string, body: string, account: Account = owner): Promise<string> {
  server.clock.advance(1000);
  const reply = await server.request('POST', notes(feedbackId), { cookie: account.cookie, body: { body } });
  expect(reply.status, reply.text).toBe(201);
  return reply.body.id;
}

describe('POST /api/v1/orgs/:orgId/feedback/:feedbackId/notes', () => {
  it('adds a note by its author, counts it on the item, audits it and announces feedback.note_added', async () => {
    const id = await feedback();
    const reply = await server.request('POST', notes(id), { cookie: member.cookie, body: { body: 'Reproduced on Safari 18.' } });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({ id: expect.any(String), feedbackId: id, body: 'Reproduced on Safari 18.', author: { id: member.userId, name: 'member' }, apiKeyId: null, createdAt: expect.any(String) });
    expect((await server.request('GET', `/api/v1/orgs/${owner.orgId}/feedback/${id}`, { cookie: owner.cookie })).body.noteCount).toBe(1);
    const audit = await server.db.superuser.query("SELECT actor_id, data FROM audit_events WHERE action = 'feedback.note_added' AND target_id = $1", [id]);
    expect(audit.rows).toEqual([{ actor_id: member.userId, data: { noteId: reply.body.id } }]);
    const event = await server.db.superuser.query("SELECT project_id, data FROM events WHERE type = 'feedback.note_added' AND subject_id = $1", [id]);
    expect(event.rows).toEqual([{ project_id: inbox.id, data: { feedbackId: id, projectId: inbox.id, note: { id: reply.body.id, body: 'Reproduced on Safari 18.', authorId: member.userId, createdAt: reply.body.createdAt } } }]);
  });

  it('names the API key a note was written with, and its creator as the author', async () => {
    const id = await feedback();
    const key = await apiKey(server, member, { scopes: ['feedback_update'] });
    const reply = await server.rawRequest('POST', notes(id), { headers: bearer(key.token), body: { body: 'From our support tool' } });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ author: { id: member.userId }, apiKeyId: key.id });
  });

  it('keeps SQL, HTML and 10,000 characters of any script verbatim', async () => {
    const id = await feedback();
    for (const body of [`'); DELETE FROM feedback_notes; --`, '<img src=x onerror=alert(1)><script>alert(2)</script>', '🙂'.repeat(10_000), 'ü'.repeat(10_000)]) {
      const noteId = await write(id, body);
      const { rows } = await server.db.superuser.query('SELECT body FROM feedback_notes WHERE id = $1', [noteId]);
      expect(rows[0].body).toBe(body);
    }
    const listed = await server.request('GET', `${notes(id)}?limit=1`, { cookie: owner.cookie });
    expect(listed.headers.get('content-type')).toMatch(/^application\/json/);
    expect(listed.body.items[0].body).toBe('ü'.repeat(10_000));
  });

  it.each([
    ['an empty note', { body: '' }, 400, 'validation_failed'],
    ['a blank note', { body: ' \n\t ' }, 400, 'validation_failed'],
    ['10,001 characters', { body: 'x'.repeat(10_001) }, 400, 'validation_failed'],
    ['a NUL character', { body: 'a\u0000b' }, 400, 'validation_failed'],
    ['another author (mass assignment)', { body: 'x', authorId: '00000000-0000-4000-8000-000000000000' }, 400, 'validation_failed'],
    ['a body over 64 KB', { body: '"'.repeat(40_000) }, 413, 'body_too_large'],
  ])('refuses %s, storing nothing', async (_case, body, status, code) => {
    const id = await feedback();
    await refusedUnchanged(server, () => server.request('POST', notes(id), { cookie: owner.cookie, body }), status, code);
  });

  it('refuses a viewer (403), feedback of a project out of reach and of another tenant (404)', async () => {
    const id = await feedback();
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    const limited = await memberAccount(server, owner.orgId, 'member', [(await project(server, owner.orgId)).id]);
    const stranger = await ownerAccount(server);
    await refusedUnchanged(server, () => server.request('POST', notes(id), { cookie: viewer.cookie, body: { body: 'x' } }), 403, 'forbidden');
    await refusedUnchanged(server, () => server.request('POST', notes(id), { cookie: limited.cookie, body: { body: 'x' } }), 404, 'not_found');
    await refusedUnchanged(server, () => server.request('POST', notes(id).replace(owner.orgId, stranger.orgId), { cookie: stranger.cookie, body: { body: 'x' } }), 404, 'not_found');
  });
});

describe('GET /api/v1/orgs/:orgId/feedback/:feedbackId/notes', () => {
  it('lists notes newest first in pages, to a viewer too', async () => {
    const id = await feedback();
    const written = [await write(id, 'one'), await write(id, 'two'), await write(id, 'three')];
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    const page = await server.request('GET', `${notes(id)}?limit=2`, { cookie: viewer.cookie });
    expect(page.body.items.map((n: { body: string }) => n.body)).toEqual(['three', 'two']);
    const rest = await server.request('GET', `${notes(id)}?limit=2&cursor=${page.body.nextCursor}`, { cookie: viewer.cookie });
    expect(rest.body).toEqual({ items: [expect.objectContaining({ id: written[0], body: 'one' })], nextCursor: null });
    for (const query of ['?limit=0', '?limit=101', '?cursor=x', '?order=asc']) {
      const reply = await server.request('GET', `${notes(id)}${query}`, { cookie: owner.cookie });
      expect(`${reply.status} ${reply.body.code}`, query).toBe('400 validation_failed');
    }
  });
});

describe('DELETE /api/v1/orgs/:orgId/feedback/:feedbackId/notes/:noteId', () => {
  it('lets the author delete their note, audited', async () => {
    const id = await feedback();
    const noteId = await write(id, 'my own', member);
    expect((await server.request('DELETE', `${notes(id)}/${noteId}`, { cookie: member.cookie })).status).toBe(204);
    const audit = await server.db.superuser.query("SELECT actor_id, data FROM audit_events WHERE action = 'feedback.note_deleted' AND target_id = $1", [id]);
    expect(audit.rows).toEqual([{ actor_id: member.userId, data: { noteId, authorId: member.userId } }]);
    expect((await server.request('GET', notes(id), { cookie: owner.cookie })).body.items).toEqual([]);
  });

  it("refuses another member's note to a member (403), and to a key without feedback_delete; an admin, or a key with it, may", async () => {
    const id = await feedback();
    const noteId = await write(id, 'written by the owner');
    const admin = await memberAccount(server, owner.orgId, 'admin');
    const narrowKey = await apiKey(server, admin, { scopes: ['feedback_update'] });
    const wideKey = await apiKey(server, admin, { scopes: ['feedback_update', 'feedback_delete'] });
    const path = `${notes(id)}/${noteId}`;
    const refused = await refusedUnchanged(server, () => server.request('DELETE', path, { cookie: member.cookie }), 403, 'forbidden');
    expect(refused.body.detail).toMatch(/author/);
    const keyed = await server.rawRequest('DELETE', path, { headers: bearer(narrowKey.token) });
    expect(`${keyed.status} ${keyed.body.code}`).toBe('403 forbidden');
    expect((await server.rawRequest('DELETE', path, { headers: bearer(wideKey.token) })).status).toBe(204);
    const other = await write(id, 'another');
    expect((await server.request('DELETE', `${notes(id)}/${other}`, { cookie: admin.cookie })).status).toBe(204);
  });

  it("answers 404 for a note that does not exist, or that belongs to other feedback, deleting nothing", async () => {
    const [id, elsewhere] = [await feedback(), await feedback()];
    const noteId = await write(elsewhere, 'stays');
    await refusedUnchanged(server, () => server.request('DELETE', `${notes(id)}/${noteId}`, { cookie: owner.cookie }), 404, 'not_found');
    await refusedUnchanged(server, () => server.request('DELETE', `${notes(id)}/00000000-0000-4000-8000-000000000000`, { cookie: owner.cookie }), 404, 'not_found');
  });
});
