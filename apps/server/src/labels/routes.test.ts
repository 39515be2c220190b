import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberAccount, ownerAccount, project, submit, type Account } from '../../../../test/factories.js';
import { refusedUnchanged, snapshot } from '../../../../test/route-sweep.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { MAX_LABELS } from './service.js';

// Labels: one set per organization, names unique whatever their case,
// #rrggbb colours, at most 200, changed with If-Match.

let server: TestServer;
let owner: Account;
let other: Account;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  other = await ownerAccount(server);
});
afterAll(() => server.close());

const labels = (account: Account = owner) => `/api/v1/orgs/${account.orgId}/labels`;
const create = (body: unknown, account: Account = owner) => server.request('POST', labels(account), { cookie: account.cookie, body });

async function label(name: string, account: Account = owner): Promise<{ id: string; version: number }> {
  const reply = await create({ name, color: '#00AA55' }, account);
  expect(reply.status, reply.text).toBe(201);
  return reply.body;
}

describe('POST and GET /api/v1/orgs/:orgId/labels', () => {
  it('creates a label (trimmed name, lower-case colour, ETag), audits it, and lists labels by name whatever their case', async () => {
    const reply = await create({ name: '  Needs design ', color: '#AB12EF' });
    expect(reply.status).toBe(201);
    expect(reply.headers.get('etag')).toBe('"1"');
    expect(reply.body).toEqual({ id: expect.any(String), name: 'Needs design', color: '#ab12ef', version: 1, createdAt: expect.any(String), updatedAt: expect.any(String) });
    const audit = await server.db.superuser.query("SELECT action, actor_id, data FROM audit_events WHERE target_id = $1", [reply.body.id]);
    expect(audit.rows).toEqual([{ action: 'label.created', actor_id: owner.userId, data: { name: 'Needs design', color: '#ab12ef' } }]);
    await label('bug');
    await label('Answered');
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    const listed = await server.request('GET', labels(), { cookie: viewer.cookie });
    expect(listed.body.items.map((l: { name: string }) => l.name)).toEqual(['Answered', 'bug', 'Needs design']);
  });

  it('keeps HTML and SQL in a name as text', async () => {
    const name = `<b onmouseover=alert(1)>x</b>'--`;
    expect((await create({ name, color: '#000000' })).body.name).toBe(name);
  });

  it.each([
    ['the same name in another case', { name: 'DUPLICATE ', color: '#111111' }, 409, 'conflict'],
    ['a colour name', { name: 'Red', color: 'red' }, 400, 'validation_failed'],
    ['a short colour', { name: 'Red', color: '#f00' }, 400, 'validation_failed'],
    ['a colour that is not hex', { name: 'Red', color: '#gg0000' }, 400, 'validation_failed'],
    ['a blank name', { name: '   ', color: '#111111' }, 400, 'validation_failed'],
    ['a name of 51 characters', { name: 'x'.repeat(51), color: '#111111' }, 400, 'validation_failed'],
    ['another organization (mass assignment)', { name: 'Sneaky', color: '#111111', org_id: randomUUID() }, 400, 'validation_failed'],
  ])('refuses %s, storing nothing', async (_case, body, status, code) => {
    if (code === 'conflict') await label('duplicate');
    const reply = await refusedUnchanged(server, () => create(body), status, code);
    if (code === 'conflict') expect(reply.body.detail).toContain('DUPLICATE');
  });

  it(`refuses the label after the ${MAX_LABELS}th with 409 conflict`, async () => {
    const full = await ownerAccount(server);
    await server.db.superuser.query(
      `INSERT INTO labels (id, org_id, name, color, created_at, updated_at) SELECT gen_random_uuid(), $1, 'label ' || n, '#123456', now(), now() FROM generate_series(1, $2::int) n`,
      [full.orgId, MAX_LABELS - 1],
    );
    expect((await create({ name: 'The last one', color: '#123456' }, full)).status).toBe(201);
    const reply = await refusedUnchanged(server, () => create({ name: 'One too many', color: '#123456' }, full), 409, 'conflict');
    expect(reply.body.detail).toContain(String(MAX_LABELS));
  });

  it('lets members create labels but not viewers (403); another tenant sees none of them', async () => {
    const member = await memberAccount(server, owner.orgId, 'member');
    expect((await create({ name: 'From a member', color: '#222222' }, member)).status).toBe(201);
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    await refusedUnchanged(server, () => create({ name: 'From a viewer', color: '#222222' }, viewer), 403, 'forbidden');
    await refusedUnchanged(server, () => server.request('POST', labels(), { cookie: other.cookie, body: { name: 'Intruder', color: '#222222' } }), 404, 'not_found');
    expect((await server.request('GET', labels(other), { cookie: other.cookie })).body.items).toEqual([]);
  });
});

describe('PATCH and DELETE /api/v1/orgs/:orgId/labels/:labelId', () => {
  it('renames with If-Match (new version and ETag, audited from/to); the same values change nothing', async () => {
    const { id } = await label('Triage');
    const reply = await server.request('PATCH', `${labels()}/${id}`, { cookie: owner.cookie, headers: { 'if-match': '"1"' }, body: { name: 'Triaged', color: '#FF0000' } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('etag')).toBe('"2"');
    expect(reply.body).toMatchObject({ name: 'Triaged', color: '#ff0000', version: 2 });
    const audit = await server.db.superuser.query("SELECT data FROM audit_events WHERE action = 'label.updated' AND target_id = $1", [id]);
    expect(audit.rows).toEqual([{ data: { name: { from: 'Triage', to: 'Triaged' }, color: { from: '#00aa55', to: '#ff0000' } } }]);
    const before = await snapshot(server);
    const same = await server.request('PATCH', `${labels()}/${id}`, { cookie: owner.cookie, body: { name: ' Triaged', color: '#ff0000' } });
    expect(same.status).toBe(200);
    expect(same.headers.get('etag')).toBe('"2"');
    expect(await snapshot(server)).toEqual(before);
  });

  it('refuses a stale If-Match, a name another label has, and an empty change, changing nothing', async () => {
    const { id } = await label('Stale');
    await label('Taken');
    await server.request('PATCH', `${labels()}/${id}`, { cookie: owner.cookie, body: { color: '#010101' } });
    await refusedUnchanged(server, () => server.request('PATCH', `${labels()}/${id}`, { cookie: owner.cookie, headers: { 'if-match': '"1"' }, body: { name: 'Fresh' } }), 412, 'precondition_failed');
    await refusedUnchanged(server, () => server.request('PATCH', `${labels()}/${id}`, { cookie: owner.cookie, body: { name: 'taken' } }), 409, 'conflict');
    await refusedUnchanged(server, () => server.request('PATCH', `${labels()}/${id}`, { cookie: owner.cookie, body: {} }), 400, 'validation_failed');
  });

  it('deletes a label and takes it off every feedback that had it: a new version of each, announced as feedback.updated; audited with the count', async () => {
    const p = await project(server, owner.orgId);
    const feedbackId = (await submit(server, p.key, { message: 'labelled' })).body.id;
    const untouched = (await submit(server, p.key, { message: 'not labelled' })).body.id;
    const [doomed, kept] = [await label('Doomed'), await label('Kept')];
    const item = `/api/v1/orgs/${owner.orgId}/feedback/${feedbackId}`;
    const labelled = await server.request('PATCH', item, { cookie: owner.cookie, body: { labelIds: [doomed.id, kept.id] } });
    await refusedUnchanged(server, () => server.request('DELETE', `${labels()}/${doomed.id}`, { cookie: owner.cookie, headers: { 'if-match': '"4"' } }), 412, 'precondition_failed');
    expect((await server.request('DELETE', `${labels()}/${doomed.id}`, { cookie: owner.cookie, headers: { 'if-match': '"1"' } })).status).toBe(204);
    const after = await server.request('GET', item, { cookie: owner.cookie });
    expect(after.body.labelIds).toEqual([kept.id]);
    expect([labelled.headers.get('etag'), after.headers.get('etag')]).toEqual(['"2"', '"3"']);
    // An editor who read the item before the label went cannot save over the change.
    await refusedUnchanged(
      server, () => server.request('PATCH', item, { cookie: owner.cookie, headers: { 'if-match': '"2"' }, body: { status: 'done' } }), 412, 'precondition_failed',
    );
    const { rows: events } = await server.db.superuser.query("SELECT subject_id, data FROM events WHERE type = 'feedback.updated' AND data->'changes' ? 'labelIds' AND subject_id = ANY($1::uuid[]) ORDER BY seq", [[feedbackId, untouched]]);
    expect(events.map((e) => [e.subject_id, e.data.labelIds, e.data.changes])).toEqual([
      [feedbackId, [doomed.id, kept.id].sort(), { labelIds: { added: [doomed.id, kept.id].sort(), removed: [] } }],
      [feedbackId, [kept.id], { labelIds: { added: [], removed: [doomed.id] } }],
    ]);
    const audit = await server.db.superuser.query("SELECT data FROM audit_events WHERE action = 'label.deleted' AND target_id = $1", [doomed.id]);
    expect(audit.rows).toEqual([{ data: { name: 'Doomed', feedback: 1 } }]);
    await refusedUnchanged(server, () => server.request('DELETE', `${labels()}/${doomed.id}`, { cookie: owner.cookie }), 404, 'not_found');
  });

  it("answers 404 for another tenant's label under either organization, and 403 to a viewer, changing nothing", async () => {
    const theirs = await label('Theirs', other);
    const mine = await label('Mine');
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    for (const [method, body] of [['PATCH', { name: 'Hijacked' }], ['DELETE', undefined]] as const) {
      await refusedUnchanged(server, () => server.request(method, `${labels()}/${theirs.id}`, { cookie: owner.cookie, body }), 404, 'not_found');
      await refusedUnchanged(server, () => server.request(method, `${labels(other)}/${theirs.id}`, { cookie: owner.cookie, body }), 404, 'not_found');
      await refusedUnchanged(server, () => server.request(method, `${labels()}/${mine.id}`, { cookie: viewer.cookie, body }), 403, 'forbidden');
    }
  });
});
