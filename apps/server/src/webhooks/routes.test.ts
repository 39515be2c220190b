import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKey, bearer, logIn, ownerAccount, project, webhook, type Account } from '../../../../test/factories.js';
import { refusedUnchanged, snapshot } from '../../../../test/route-sweep.js';
import { startTestServer, type Reply, type TestServer } from '../../../../test/server.js';
import { startWebhookReceiver, verifyWebhook, type WebhookReceiver } from '../../../../test/webhook-receiver.js';
import { emitEvent, EVENT_TYPES } from '../events/service.js';
import { withTenant } from '../db/tenant.js';
import { MAX_WEBHOOKS } from './service.js';

// The webhook routes: creating (secret shown once), reading, changing with
// If-Match, deleting, rotating the secret with an overlap, the test event,
// the delivery log and redelivery. Each refusal has its status and code and
// changes nothing. Deliveries go to a receiver on loopback (allowed here).

let server: TestServer;
let receiver: WebhookReceiver;
let owner: Account;

beforeAll(async () => {
  server = await startTestServer({ PARLEY_WEBHOOK_ALLOW_HTTP: 'true', PARLEY_WEBHOOK_ALLOWED_RANGES: 'loopback' });
  receiver = await startWebhookReceiver();
  owner = await ownerAccount(server);
});
afterAll(async () => {
  await server.close();
  await receiver.close();
});

const hooksOf = (orgId: string) => `/api/v1/orgs/${orgId}/webhooks`;
const create = (by: Account, body: unknown, headers: Record<string, string> = {}) => server.request('POST', hooksOf(by.orgId), { cookie: by.cookie, body, headers });
const get = (by: Account, path = '') => server.request('GET', `${hooksOf(by.orgId)}${path}`, { cookie: by.cookie });
const patch = (by: Account, id: string, body: unknown, headers: Record<string, string> = {}) => server.request('PATCH', `${hooksOf(by.orgId)}/${id}`, { cookie: by.cookie, body, headers });
const post = (by: Account, path: string, body?: unknown) => server.request('POST', `${hooksOf(by.orgId)}${path}`, { cookie: by.cookie, body });
const HOUR = 3_600_000;

async function auditOf(orgId: string, action: string) {
  const { rows } = await server.db.superuser.query('SELECT actor_type, target_id, data FROM audit_events WHERE org_id = $1 AND action = $2 ORDER BY seq', [orgId, action]);
  return rows;
}

/** A refusal with this status and code that changed nothing, whose detail says `detail`. */
async function expectRefusal(attempt: () => Promise<Reply>, status: number, code: string, detail?: RegExp) {
  const reply = await refusedUnchanged(server, attempt, status, code);
  if (detail) expect(reply.body.detail).toMatch(detail);
}

/** Emits an event as a change in the organization would, and works the queues until it is delivered. */
async function emit(orgId: string, type: 'feedback.created' | 'member.added', projectId: string | null = null) {
  await withTenant(server.ctx.db.app, orgId, (tx) => emitEvent(tx, orgId, { type, projectId, subjectId: owner.userId, data: { note: 'emitted by a test' } }, server.clock.now()));
  await server.jobsDone();
}

describe('POST /api/v1/orgs/:orgId/webhooks', () => {
  it('creates a webhook whose secret is shown once (no-store), stored only sealed, and audits it without the URL path', async () => {
    const reply = await create(owner, { url: `${receiver.url}/hooks/s3cret-path?token=abc`, description: 'CRM sync', events: ['feedback.created', 'member.added'] });
    expect(reply.status).toBe(201);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.headers.get('etag')).toBe('"1"');
    const { webhook: created, secret } = reply.body;
    expect(reply.headers.get('location')).toBe(`/api/v1/orgs/${owner.orgId}/webhooks/${created.id}`);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(created).toEqual({
      id: expect.any(String),
      url: `${receiver.url}/hooks/s3cret-path?token=abc`,
      description: 'CRM sync',
      events: ['feedback.created', 'member.added'],
      projectId: null,
      enabled: true,
      createdAt: server.clock.now().toISOString(),
      updatedAt: server.clock.now().toISOString(),
      createdBy: { id: owner.userId, name: 'Owner', email: owner.email },
      previousSecretExpiresAt: null,
      version: 1,
    });
    const { rows } = await server.db.superuser.query("SELECT count(*)::int AS n FROM webhooks WHERE row_to_json(webhooks)::text LIKE '%' || $1 || '%'", [secret.slice(6, 30)]);
    expect(rows[0].n).toBe(0);
    expect(await auditOf(owner.orgId, 'webhook.created')).toEqual([
      { actor_type: 'user', target_id: created.id, data: { url: receiver.url, events: ['feedback.created', 'member.added'], projectId: null, enabled: true } },
    ]);
    expect((await get(owner, `/${created.id}`)).body).toEqual(created);
    expect((await get(owner)).body.items).toContainEqual(created);
  });

  it.each([
    ['not a URL', 'hooks.example.com/parley', /not valid/],
    ['another scheme', 'ftp://hooks.example.com/parley', /must start with https:\/\/ \(not ftp:\/\/\)/],
    ['a user name and password', 'https://user:pw@hooks.example.com/parley', /user name or password/],
    ['a fragment', 'https://hooks.example.com/parley#x', /fragment/],
    ['a private address', 'https://10.0.0.1/parley', /points to 10\.0\.0\.1, a private address.*PARLEY_WEBHOOK_ALLOWED_RANGES/],
    ['a cloud metadata address', 'http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254, a link-local address/],
  ])('refuses a URL with %s (400 webhook_url_invalid), storing nothing', async (_, url, detail) => {
    await expectRefusal(() => create(owner, { url, events: ['feedback.created'] }), 400, 'webhook_url_invalid', detail);
  });

  it.each([
    ['no event type', { url: 'https://hooks.example.com/', events: [] }],
    ['an unknown event type', { url: 'https://hooks.example.com/', events: ['feedback.exploded'] }],
    ['an event type twice', { url: 'https://hooks.example.com/', events: ['feedback.created', 'feedback.created'] }],
    ['a URL over 2048 characters', { url: `https://hooks.example.com/${'a'.repeat(2030)}`, events: ['feedback.created'] }],
    ['a description over 200 characters', { url: 'https://hooks.example.com/', events: ['feedback.created'], description: 'd'.repeat(201) }],
    ['a secret of its own (mass assignment)', { url: 'https://hooks.example.com/', events: ['feedback.created'], secret: 'whsec_AAAA' }],
    ['another organization', { url: 'https://hooks.example.com/', events: ['feedback.created'], orgId: '00000000-0000-4000-8000-000000000000' }],
  ])('refuses %s (400 validation_failed), storing nothing', async (_, body) => {
    await expectRefusal(() => create(owner, body), 400, 'validation_failed');
  });

  it("refuses another organization's project (404) and organization-wide events on a project webhook (400)", async () => {
    const stranger = await ownerAccount(server);
    const theirs = await project(server, stranger.orgId);
    await expectRefusal(() => create(owner, { url: 'https://hooks.example.com/', events: ['feedback.created'], projectId: theirs.id }), 404, 'project_not_found');
    const ours = await project(server, owner.orgId);
    await expectRefusal(
      () => create(owner, { url: 'https://hooks.example.com/', events: ['feedback.created', 'member.removed'], projectId: ours.id }),
      400, 'validation_failed', /member\.removed concern the whole organization/,
    );
  });

  it(`stops at ${MAX_WEBHOOKS} webhooks per organization (409), storing nothing`, async () => {
    const full = await ownerAccount(server);
    for (let i = 0; i < MAX_WEBHOOKS; i++) await webhook(server, full, { url: `https://hooks.example.com/${i}` });
    await expectRefusal(() => create(full, { url: 'https://hooks.example.com/one-more', events: ['feedback.created'] }), 409, 'conflict', /at most 50 webhooks/);
  });

  it('answers a retry with the same Idempotency-Key without the secret (409), creating nothing more', async () => {
    const body = { url: 'https://hooks.example.com/once', events: ['project.updated'] };
    expect((await create(owner, body, { 'idempotency-key': 'hook-once' })).status).toBe(201);
    await expectRefusal(() => create(owner, body, { 'idempotency-key': 'hook-once' }), 409, 'idempotency_replay_unavailable');
  });
});

describe('API keys and project limits', () => {
  it('a key limited to one project sees and makes only webhooks of that project', async () => {
    const org = await ownerAccount(server);
    const mine = await project(server, org.orgId);
    const other = await project(server, org.orgId);
    const orgWide = await webhook(server, org, { url: 'https://hooks.example.com/all' });
    const ofOther = await webhook(server, org, { url: 'https://hooks.example.com/other', events: ['feedback.created'], projectId: other.id });
    const key = await apiKey(server, org, { scopes: ['webhooks_read', 'webhooks_write'], projectIds: [mine.id] });
    const asKey = (method: string, path: string, body?: unknown) => server.rawRequest(method, `${hooksOf(org.orgId)}${path}`, { headers: bearer(key.token), body });

    const made = await asKey('POST', '', { url: 'https://hooks.example.com/mine', events: ['feedback.created'], projectId: mine.id });
    expect(made.status).toBe(201);
    expect((await asKey('GET', '')).body.items.map((w: { id: string }) => w.id)).toEqual([made.body.webhook.id]);
    const before = await snapshot(server, ['audit_events']);
    expect((await asKey('GET', `/${orgWide.id}`)).body.code).toBe('not_found');
    expect((await asKey('PATCH', `/${ofOther.id}`, { enabled: false })).body.code).toBe('not_found');
    expect((await asKey('DELETE', `/${ofOther.id}`)).body.code).toBe('not_found');
    const wide = await asKey('POST', '', { url: 'https://hooks.example.com/wide', events: ['feedback.created'] });
    expect({ status: wide.status, code: wide.body.code }).toEqual({ status: 403, code: 'forbidden' });
    expect((await asKey('POST', '', { url: 'https://hooks.example.com/x', events: ['feedback.created'], projectId: other.id })).body.code).toBe('project_not_found');
    expect(await snapshot(server, ['audit_events'])).toEqual(before);
    // The key's creator is recorded as the creator; the key as the actor.
    expect(made.body.webhook.createdBy.id).toBe(org.userId);
    expect((await auditOf(org.orgId, 'webhook.created')).at(-1).actor_type).toBe('api_key');
  });
});

describe('PATCH and DELETE /api/v1/orgs/:orgId/webhooks/:webhookId', () => {
  it('changes a webhook with If-Match, raises its version, audits what changed; a stale or malformed If-Match is 412 and changes nothing', async () => {
    const shop = await project(server, owner.orgId);
    const { id } = await webhook(server, owner, { url: `${receiver.url}/a`, events: ['feedback.created'] });
    const read = await get(owner, `/${id}`);
    expect(read.headers.get('etag')).toBe('"1"');
    const changed = await patch(owner, id, { url: `${receiver.url}/b`, projectId: shop.id, description: 'Shop only', events: ['feedback.created', 'feedback.deleted'] }, { 'if-match': '"1"' });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe('"2"');
    expect(changed.body).toMatchObject({ url: `${receiver.url}/b`, projectId: shop.id, description: 'Shop only', events: ['feedback.created', 'feedback.deleted'], version: 2 });
    // Origins only: a URL's path and query may be a credential.
    expect((await auditOf(owner.orgId, 'webhook.updated')).at(-1).data).toEqual({
      url: { from: receiver.url, to: receiver.url },
      description: { from: '', to: 'Shop only' },
      projectId: { from: null, to: shop.id },
      events: { from: ['feedback.created'], to: ['feedback.created', 'feedback.deleted'] },
    });
    await expectRefusal(() => patch(owner, id, { enabled: false }, { 'if-match': '"1"' }), 412, 'precondition_failed', /version 1, it is now 2/);
    await expectRefusal(() => patch(owner, id, { enabled: false }, { 'if-match': 'yesterday' }), 412, 'precondition_failed');
    await expectRefusal(() => patch(owner, id, { url: 'http://192.168.0.10/' }), 400, 'webhook_url_invalid');
    await expectRefusal(() => patch(owner, id, { events: ['member.added'] }), 400, 'validation_failed');
    await expectRefusal(() => patch(owner, id, {}), 400, 'validation_failed');
  });

  it('deletes a webhook with its delivery log (204); a stale If-Match is 412; afterwards it is 404', async () => {
    const { id } = await webhook(server, owner, { url: `${receiver.url}/gone`, events: ['member.added'] });
    await emit(owner.orgId, 'member.added');
    const path = `${hooksOf(owner.orgId)}/${id}`;
    await expectRefusal(() => server.request('DELETE', path, { cookie: owner.cookie, headers: { 'if-match': '"7"' } }), 412, 'precondition_failed');
    expect((await server.request('DELETE', path, { cookie: owner.cookie, headers: { 'if-match': '"1"' } })).status).toBe(204);
    expect((await get(owner, `/${id}`)).status).toBe(404);
    const { rows } = await server.db.superuser.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1', [id]);
    expect(rows[0].n).toBe(0);
    expect((await auditOf(owner.orgId, 'webhook.deleted')).at(-1)).toEqual({ actor_type: 'user', target_id: id, data: { url: receiver.url } });
    await expectRefusal(() => server.request('DELETE', path, { cookie: owner.cookie }), 404, 'not_found');
  });
});

describe('POST /api/v1/orgs/:orgId/webhooks/:webhookId/rotate-secret', () => {
  it('signs with both secrets during the overlap, then with the new one only', async () => {
    receiver.received.length = 0;
    const hook = await webhook(server, owner, { url: `${receiver.url}/rotating`, events: ['member.added'] });
    const rotated = await post(owner, `/${hook.id}/rotate-secret`, { overlapHours: 2 });
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    expect(rotated.headers.get('etag')).toBe('"2"');
    const { secret, webhook: after } = rotated.body;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(hook.secret);
    expect(after.previousSecretExpiresAt).toBe(new Date(server.clock.now().getTime() + 2 * HOUR).toISOString());
    expect(await auditOf(owner.orgId, 'webhook.secret_rotated')).toEqual([{ actor_type: 'user', target_id: hook.id, data: { overlapHours: 2 } }]);

    await emit(owner.orgId, 'member.added');
    const during = receiver.received.filter((r) => r.path === '/rotating').at(-1)!;
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifyWebhook(hook.secret, during, server.clock.now())).toMatchObject({ type: 'member.added' });
    expect(verifyWebhook(secret, during, server.clock.now())).toMatchObject({ type: 'member.added' });

    server.clock.advance(2 * HOUR + 1000);
    await emit(owner.orgId, 'member.added');
    const later = receiver.received.filter((r) => r.path === '/rotating').at(-1)!;
    expect(later).not.toBe(during);
    expect(later.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(verifyWebhook(secret, later, server.clock.now())).toMatchObject({ type: 'member.added' });
    expect(() => verifyWebhook(hook.secret, later, server.clock.now())).toThrow(/No matching signature/);
    owner.cookie = await logIn(server, owner.email);
    expect((await get(owner, `/${hook.id}`)).body.previousSecretExpiresAt).toBeNull();
  });

  it('retires the old secret at once with overlapHours 0 (a leaked secret)', async () => {
    owner.cookie = await logIn(server, owner.email);
    const hook = await webhook(server, owner, { url: `${receiver.url}/leaked`, events: ['member.added'] });
    const { secret, webhook: after } = (await post(owner, `/${hook.id}/rotate-secret`, { overlapHours: 0 })).body;
    expect(after.previousSecretExpiresAt).toBeNull();
    await emit(owner.orgId, 'member.added');
    const message = receiver.received.filter((r) => r.path === '/leaked').at(-1)!;
    expect(verifyWebhook(secret, message, server.clock.now())).toBeTruthy();
    expect(() => verifyWebhook(hook.secret, message, server.clock.now())).toThrow(/No matching signature/);
  });

  it('refuses an overlap over 72 hours (400) and a stale If-Match (412), changing nothing', async () => {
    const hook = await webhook(server, owner, { url: `${receiver.url}/x`, events: ['member.added'] });
    await expectRefusal(() => post(owner, `/${hook.id}/rotate-secret`, { overlapHours: 73 }), 400, 'validation_failed');
    await expectRefusal(
      () => server.request('POST', `${hooksOf(owner.orgId)}/${hook.id}/rotate-secret`, { cookie: owner.cookie, body: {}, headers: { 'if-match': '"3"' } }),
      412, 'precondition_failed',
    );
  });
});

describe('test events, the delivery log and redelivery', () => {
  it('sends a signed webhook.test event to this webhook only, and logs it with its attempt', async () => {
    owner.cookie = await logIn(server, owner.email);
    const hook = await webhook(server, owner, { url: `${receiver.url}/tested`, events: ['member.added'] });
    const bystander = await webhook(server, owner, { url: `${receiver.url}/bystander`, events: ['member.added'] });
    const sent = await post(owner, `/${hook.id}/test`);
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ webhookId: hook.id, eventType: 'webhook.test', status: 'pending', attemptCount: 0, lastAttempt: null });
    await server.jobsDone();
    const message = receiver.received.find((r) => r.id === sent.body.id)!;
    expect(message.path).toBe('/tested');
    expect(verifyWebhook(hook.secret, message, server.clock.now())).toEqual({
      type: 'webhook.test',
      timestamp: server.clock.now().toISOString(),
      data: { webhookId: hook.id, message: expect.stringMatching(/test event/) },
    });
    expect(receiver.received.some((r) => r.path === '/bystander')).toBe(false);
    const detail = await get(owner, `/${hook.id}/deliveries/${sent.body.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id: sent.body.id,
      status: 'succeeded',
      attemptCount: 1,
      nextAttemptAt: null,
      completedAt: server.clock.now().toISOString(),
      payload: JSON.parse(message.body),
      attempts: [{ attempt: 1, at: server.clock.now().toISOString(), durationMs: expect.any(Number), statusCode: 204, error: null, manual: true, responseHead: expect.stringMatching(/^HTTP\/1\.1 204 No Content\n/) }],
    });
    expect((await get(owner, `/${bystander.id}/deliveries/${sent.body.id}`)).status).toBe(404);
  });

  it('lists deliveries newest first with a status filter and cursor pages', async () => {
    const hook = await webhook(server, owner, { url: `${receiver.url}/paged`, events: ['member.added'] });
    receiver.answer = (request) => (request.path === '/paged' && receiver.received.filter((r) => r.path === '/paged').length === 2 ? { status: 500 } : { status: 204 });
    for (let i = 0; i < 5; i++) {
      await emit(owner.orgId, 'member.added');
      server.clock.advance(1000);
    }
    receiver.answer = () => ({ status: 204 });
    const all = await get(owner, `/${hook.id}/deliveries?limit=2`);
    expect(all.body.items).toHaveLength(2);
    const times = all.body.items.map((d: { createdAt: string }) => d.createdAt);
    expect(times).toEqual([...times].sort().reverse());
    const next = await get(owner, `/${hook.id}/deliveries?limit=2&cursor=${all.body.nextCursor}`);
    const last = await get(owner, `/${hook.id}/deliveries?limit=2&cursor=${next.body.nextCursor}`);
    expect(last.body).toMatchObject({ nextCursor: null });
    expect([...all.body.items, ...next.body.items, ...last.body.items]).toHaveLength(5);
    const failing = await get(owner, `/${hook.id}/deliveries?status=pending`);
    expect(failing.body.items).toEqual([
      expect.objectContaining({ status: 'pending', attemptCount: 1, nextAttemptAt: expect.any(String), lastAttempt: { at: expect.any(String), durationMs: expect.any(Number), statusCode: 500, error: null } }),
    ]);
    await expectRefusal(() => get(owner, `/${hook.id}/deliveries?cursor=nonsense`), 400, 'validation_failed');
    await expectRefusal(() => get(owner, `/${hook.id}/deliveries?limit=101`), 400, 'validation_failed');
  });

  it('redelivers the same message (same webhook-id) as a manual attempt, whatever the status; 409 while an attempt is under way', async () => {
    const hook = await webhook(server, owner, { url: `${receiver.url}/again`, events: ['member.added'] });
    await emit(owner.orgId, 'member.added');
    const [delivery] = (await get(owner, `/${hook.id}/deliveries`)).body.items;
    expect(delivery.status).toBe('succeeded');
    const first = receiver.received.find((r) => r.id === delivery.id)!;

    receiver.answer = () => 'hold';
    const seen = receiver.received.length;
    const again = await post(owner, `/${hook.id}/deliveries/${delivery.id}/redeliver`);
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id: delivery.id, status: 'succeeded', nextAttemptAt: server.clock.now().toISOString() });
    // Its NOTIFY wakes the queue at once; the receiver holds the attempt open.
    await receiver.waitFor(seen + 1);
    // (No snapshot here: it settles the queues first, which waits for the held attempt.)
    const state = () => server.db.superuser.query("SELECT d.manual, d.next_attempt_at, d.locked_until, (SELECT count(*) FROM audit_events WHERE action = 'webhook.redelivered') AS audits FROM webhook_deliveries d WHERE d.id = $1", [delivery.id]);
    const before = (await state()).rows;
    const busy = await post(owner, `/${hook.id}/deliveries/${delivery.id}/redeliver`);
    expect({ status: busy.status, code: busy.body.code }).toEqual({ status: 409, code: 'conflict' });
    expect(busy.body.detail).toMatch(/being attempted right now/);
    expect((await state()).rows).toEqual(before);
    receiver.answer = () => ({ status: 204 });
    receiver.release(200);
    await server.jobsDone();

    const copies = receiver.received.filter((r) => r.id === delivery.id);
    expect(copies).toHaveLength(2);
    expect(copies[1]!.body).toBe(first.body);
    const detail = await get(owner, `/${hook.id}/deliveries/${delivery.id}`);
    expect(detail.body.attempts.map((a: { attempt: number; manual: boolean; statusCode: number }) => [a.attempt, a.manual, a.statusCode])).toEqual([[1, false, 204], [2, true, 200]]);
    expect((await auditOf(owner.orgId, 'webhook.redelivered')).at(-1)).toEqual({ actor_type: 'user', target_id: hook.id, data: { deliveryId: delivery.id } });
  });

  it('answers 404 for a delivery or webhook that does not exist, changing nothing', async () => {
    const hook = await webhook(server, owner, { url: `${receiver.url}/none`, events: ['member.added'] });
    const missing = '00000000-0000-4000-8000-000000000000';
    await expectRefusal(() => get(owner, `/${hook.id}/deliveries/${missing}`), 404, 'not_found');
    await expectRefusal(() => post(owner, `/${hook.id}/deliveries/${missing}/redeliver`), 404, 'not_found');
    await expectRefusal(() => post(owner, `/${missing}/test`), 404, 'not_found');
    await expectRefusal(() => get(owner, `/${missing}/deliveries`), 404, 'not_found');
  });
});

describe('the OpenAPI document', () => {
  it('describes what Parley POSTs to webhook URLs (OpenAPI 3.1 webhooks), one entry per event type', async () => {
    const { webhooks } = (await server.request('GET', '/api/v1/openapi.json')).body;
    expect(Object.keys(webhooks).sort()).toEqual([...EVENT_TYPES, 'webhook.test'].sort());
    const created = webhooks['feedback.created'].post;
    expect(created.parameters.map((p: { name: string; in: string; required: boolean }) => [p.name, p.in, p.required])).toEqual([
      ['webhook-id', 'header', true], ['webhook-timestamp', 'header', true], ['webhook-signature', 'header', true],
    ]);
    expect(created.requestBody.content['application/json'].schema).toMatchObject({ required: ['type', 'timestamp', 'data'], properties: { type: { const: 'feedback.created' } } });
  });
});
