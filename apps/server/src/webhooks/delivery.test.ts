import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberAccount, ownerAccount, project, RICH_SETTINGS, submit, webhook, type Account } from '../../../../test/factories.js';
import { startTestServer, TEST_USER_AGENT, type TestServer } from '../../../../test/server.js';
import { startMailingTestServer, type TestSmtp } from '../../../../test/smtp.js';
import { startWebhookReceiver, verifyWebhook, type WebhookReceiver } from '../../../../test/webhook-receiver.js';
import { withTenant } from '../db/tenant.js';
import { emitEvent, type EventType } from '../events/service.js';
import { sweepExpired } from '../jobs/housekeeping.js';
import { fanOutToWebhooks, PER_WEBHOOK } from './delivery.js';
import { deleteWebhook, updateWebhook, type Caller } from './service.js';

// The delivery queue end to end: which webhooks hear an event, what they
// receive (signed, no personal data), retries with backoff on the fake clock
// until the delivery fails and its owner is mailed (a real SMTP server), and
// what the outbound client refuses to do: follow redirects, wait past its
// deadline, read more than 64 KB, trust an unknown certificate.

const LOOPBACK = { PARLEY_WEBHOOK_ALLOW_HTTP: 'true', PARLEY_WEBHOOK_ALLOWED_RANGES: 'loopback' };
const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let server: TestServer;
let smtp: TestSmtp;
let receiver: WebhookReceiver;
let tlsReceiver: WebhookReceiver;
let certDir: string;
let owner: Account;

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: 'webhook-receiver.test' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  certDir = await mkdtemp(path.join(os.tmpdir(), 'parley-webhook-ca-'));
  await writeFile(path.join(certDir, 'ca.pem'), pems.cert);
  ({ server, smtp } = await startMailingTestServer({ ...LOOPBACK, PARLEY_WEBHOOK_CA_FILE: path.join(certDir, 'ca.pem') }));
  receiver = await startWebhookReceiver();
  tlsReceiver = await startWebhookReceiver({ tls: { key: pems.private, cert: pems.cert } });
  owner = await ownerAccount(server);
});
afterAll(async () => {
  await server.close();
  await receiver.close();
  await tlsReceiver.close();
  await rm(certDir, { recursive: true, force: true });
});

const callerOf = (account: Account): Caller => ({ actor: { type: 'user', id: account.userId }, userId: account.userId, scope: null });
const at = (path: string) => receiver.received.filter((r) => r.path === path);

async function emit(on: TestServer, orgId: string, type: EventType, projectId: string | null = null, data: Record<string, unknown> = { n: 1 }) {
  await withTenant(on.ctx.db.app, orgId, (tx) => emitEvent(tx, orgId, { type, projectId, subjectId: orgId, data }, on.clock.now()));
}

type DeliveryRow = { id: string; status: string; attempts: number; next_attempt_at: Date; completed_at: Date | null };

async function deliveriesOf(on: TestServer, webhookId: string): Promise<DeliveryRow[]> {
  const { rows } = await on.db.superuser.query<DeliveryRow>('SELECT id, status, attempts, next_attempt_at, completed_at FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY created_at, id', [webhookId]);
  return rows;
}

async function attemptsOf(on: TestServer, deliveryId: string) {
  const { rows } = await on.db.superuser.query('SELECT attempt, at, status_code, error, manual FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt', [deliveryId]);
  return rows;
}

/**
 * Works the queues, moving the fake clock to each next attempt of the
 * webhook's pending deliveries, until none is pending; `onRound` sees the
 * clock after each round.
 */
async function retryUntilDone(webhookId: string, onRound: () => void = () => {}): Promise<void> {
  for (;;) {
    await server.jobsDone();
    onRound();
    const pending = (await deliveriesOf(server, webhookId)).filter((d) => d.status === 'pending');
    if (pending.length === 0) return;
    const next = Math.min(...pending.map((d) => d.next_attempt_at.getTime()));
    server.clock.advance(Math.max(0, next - server.clock.now().getTime()));
  }
}

describe('fan-out', () => {
  it('a feedback item sent through the widget reaches every webhook that subscribes to it, once, signed, without the reporter\'s personal data', async () => {
    const shop = await project(server, owner.orgId, ['example.com'], RICH_SETTINGS);
    const blog = await project(server, owner.orgId);
    const everywhere = await webhook(server, owner, { url: `${receiver.url}/everywhere`, events: ['feedback.created'] });
    const shopOnly = await webhook(server, owner, { url: `${receiver.url}/shop`, events: ['feedback.created'], projectId: shop.id });
    await webhook(server, owner, { url: `${receiver.url}/blog`, events: ['feedback.created'], projectId: blog.id });
    await webhook(server, owner, { url: `${receiver.url}/projects`, events: ['project.updated'] });
    await webhook(server, owner, { url: `${receiver.url}/off`, events: ['feedback.created'], enabled: false });

    const sent = await submit(server, shop.key, { message: 'The checkout button does nothing', email: 'reporter@example.test', rating: 2, type: 'bug', pageUrl: 'https://example.com/cart' });
    expect(sent.status).toBe(201);
    await server.jobsDone();
    const { rows: [stored] } = await server.db.superuser.query('SELECT created_at FROM feedback WHERE id = $1', [sent.body.id]);

    expect(at('/blog')).toEqual([]);
    expect(at('/projects')).toEqual([]);
    expect(at('/off')).toEqual([]);
    for (const [hook, path] of [[everywhere, '/everywhere'], [shopOnly, '/shop']] as const) {
      const [message, ...more] = at(path);
      expect(more).toEqual([]);
      const [delivery] = await deliveriesOf(server, hook.id);
      expect(message!.headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': 'Parley-Webhooks/1',
        'webhook-id': delivery!.id,
        'webhook-timestamp': String(server.clock.now().getTime() / 1000),
      });
      const payload = verifyWebhook(hook.secret, message!, server.clock.now());
      expect(payload).toEqual({
        type: 'feedback.created',
        timestamp: server.clock.now().toISOString(),
        data: {
          id: sent.body.id, projectId: shop.id, status: 'new', rating: 2, ratingScale: 'stars', type: 'bug', message: 'The checkout button does nothing',
          pageUrl: 'https://example.com/cart', locale: null, assigneeId: null, labelIds: [], hasScreenshot: false,
          createdAt: stored.created_at.toISOString(), updatedAt: stored.created_at.toISOString(),
        },
      });
      for (const secretOfTheReporter of ['reporter@example.test', TEST_USER_AGENT, 'email', 'userAgent', '"ip"']) expect(message!.body).not.toContain(secretOfTheReporter);
    }

    // The dispatcher runs again over the same events (a crash after sending, say): no second delivery.
    const { rows: events } = await server.db.superuser.query("SELECT id, org_id, project_id, type FROM events WHERE subject_id = $1 AND type = 'feedback.created'", [sent.body.id]);
    await withTenant(server.ctx.db.app, owner.orgId, (tx) =>
      fanOutToWebhooks(tx, owner.orgId, events.map((e) => ({ id: e.id, orgId: e.org_id, projectId: e.project_id, type: e.type, subjectId: sent.body.id, data: {}, createdAt: server.clock.now() })), server.clock.now()),
    );
    expect(await deliveriesOf(server, everywhere.id)).toHaveLength(1);
  });
});

describe('the verifiers of docs/api.md', () => {
  /** A real delivery, and what each verifier must answer: its payload for the right secret and a recent time, else the reason. */
  async function deliveryCases(language: string) {
    const hook = await webhook(server, owner, { url: `${receiver.url}/documented-${language}`, events: ['project.deleted'] });
    await emit(server, owner.orgId, 'project.deleted', null, { id: owner.orgId, name: 'Gone' });
    await server.jobsDone();
    const message = at(`/documented-${language}`).at(-1)!;
    const now = server.clock.now().getTime();
    const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const cases: { secret: string; body: string; now: number; expected: unknown }[] = [
      { secret: hook.secret, body: message.body, now, expected: { ok: JSON.parse(message.body) } },
      { secret: hook.secret, body: message.body.replace('Gone', 'Here'), now, expected: { error: 'no matching signature' } },
      { secret: other, body: message.body, now, expected: { error: 'no matching signature' } },
      { secret: hook.secret, body: message.body, now: now + 6 * 60 * SECOND, expected: { error: 'timestamp too old or too new' } },
    ];
    return { headers: message.headers, cases };
  }

  async function snippet(pattern: RegExp, what: string): Promise<string> {
    const code = pattern.exec(await readFile(new URL('../../../../docs/api.md', import.meta.url), 'utf8'))?.[1];
    expect(code, `docs/api.md has the ${what}`).toBeDefined();
    return code!;
  }

  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'parley-verify-webhook-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('Node: accepts a real delivery, refuses a tampered body, another secret and an old timestamp', async () => {
    await writeFile(path.join(dir, 'verify.mjs'), await snippet(/Without a library, in Node[^\n]*\n\n```js\n([\s\S]*?)```/, 'Node verifier'));
    const { verifyParleyWebhook } = await import(pathToFileURL(path.join(dir, 'verify.mjs')).href);
    const { headers, cases } = await deliveryCases('node');
    for (const { secret, body, now, expected } of cases) {
      let answer: unknown;
      try {
        answer = { ok: verifyParleyWebhook(secret, headers, body, now) };
      } catch (error) {
        answer = { error: (error as Error).message };
      }
      expect(answer).toEqual(expected);
    }
  });

  const hasPython = (() => {
    try {
      execFileSync('python3', ['--version']);
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasPython)('Python: the same', async () => {
    await writeFile(path.join(dir, 'verify.py'), await snippet(/In Python \(standard library only\):\n\n```python\n([\s\S]*?)```/, 'Python verifier'));
    const harness = [
      'import json, sys',
      'exec(open(sys.argv[1]).read())',
      'c = json.load(sys.stdin)',
      'try:',
      '    print(json.dumps({"ok": verify_parley_webhook(c["secret"], c["headers"], c["body"], c["now"])}))',
      'except ValueError as e:',
      '    print(json.dumps({"error": str(e)}))',
    ].join('\n');
    await writeFile(path.join(dir, 'harness.py'), harness);
    const { headers, cases } = await deliveryCases('python');
    for (const { secret, body, now, expected } of cases) {
      const input = JSON.stringify({ secret, headers, body, now: now / 1000 });
      expect(JSON.parse(execFileSync('python3', [path.join(dir, 'harness.py'), path.join(dir, 'verify.py')], { input }).toString())).toEqual(expected);
    }
  });
});

describe('retries', () => {
  it('retries a failing receiver with backoff for 24 hours, then fails the delivery and mails the webhook\'s creator once a day', async () => {
    const org = await ownerAccount(server);
    const hook = await webhook(server, org, { url: `${receiver.url}/failing`, events: ['member.added'] });
    receiver.answer = (request) => (request.path === '/failing' ? { status: 500, body: 'down for maintenance' } : { status: 204 });
    const start = server.clock.now().getTime();
    await emit(server, org.orgId, 'member.added');
    await emit(server, org.orgId, 'member.added');
    await retryUntilDone(hook.id, () => {
      for (const message of at('/failing')) expect(verifyWebhook(hook.secret, message, new Date(Number(message.headers['webhook-timestamp']) * 1000))).toBeTruthy();
    });

    // Two deliveries, each tried at 0, 5 s, 35 s, 2 min 35 s, ... 23 h 42 min 35 s and 24 h after the first attempt.
    const expected = [0, 5, 35, 155, 755, 2555, 6155, 13355, 27755, 56555, 85355, 86400].map((s) => String(start / 1000 + s));
    const deliveries = await deliveriesOf(server, hook.id);
    expect(deliveries).toHaveLength(2);
    for (const delivery of deliveries) {
      expect(at('/failing').filter((m) => m.id === delivery.id).map((m) => m.headers['webhook-timestamp'])).toEqual(expected);
      expect(delivery).toMatchObject({ status: 'failed', attempts: 12, completed_at: new Date(start + DAY) });
      const attempts = await attemptsOf(server, delivery.id);
      expect(attempts.map((a) => [a.attempt, a.status_code, a.manual])).toEqual(expected.map((_, i) => [i + 1, 500, false]));
    }

    const mail = await smtp.nextMail(org.email, /^Webhook deliveries to 127\.0\.0\.1:\d+ are failing$/);
    expect(deliveries.map((d) => d.id)).toContain(/Delivery: (\S+)/.exec(mail.text)?.[1]);
    expect(mail.text).toContain(`Attempts: 12, the last at ${new Date(start + DAY).toISOString()}: HTTP 500`);
    expect(mail.text).toContain(`http://localhost:3000/orgs/${org.orgId}/webhooks/${hook.id}`);
    expect(mail.text).not.toContain('/failing');
    // Both deliveries failed in the same round: one mail.
    const mails = () => server.db.superuser.query("SELECT count(*)::int AS n FROM outbox WHERE kind = 'mail'").then((r) => r.rows[0].n);
    const sentSoFar = await mails();

    // Another failure within the day: no mail; the next day: a mail again.
    await emit(server, org.orgId, 'member.added');
    await retryUntilDone(hook.id);
    expect(await mails()).toBe(sentSoFar + 1);
    expect((await smtp.nextMail(org.email, /are failing/)).text).toMatch(/Attempts: 12/);
    receiver.answer = () => ({ status: 204 });
  });

  it('mails the owners instead when the creator may no longer see webhooks', async () => {
    const org = await ownerAccount(server);
    const admin = await memberAccount(server, org.orgId, 'admin');
    const hook = await webhook(server, admin, { url: `${receiver.url}/gone-admin`, events: ['member.added'] });
    await server.db.superuser.query("UPDATE memberships SET role = 'member' WHERE user_id = $1", [admin.userId]);
    receiver.answer = (request) => (request.path === '/gone-admin' ? { status: 503 } : { status: 204 });
    await emit(server, org.orgId, 'member.added');
    await retryUntilDone(hook.id);
    receiver.answer = () => ({ status: 204 });
    expect((await smtp.nextMail(org.email, /are failing/)).text).toMatch(/HTTP 503/);
    expect(smtp.received.some((m) => m.to.includes(admin.email))).toBe(false);
  });

  it('pauses the pending deliveries of a disabled webhook, queues none for it, and resumes when it is enabled', async () => {
    const hook = await webhook(server, owner, { url: `${receiver.url}/paused`, events: ['member.removed'] });
    receiver.answer = (request) => (request.path === '/paused' ? { status: 500 } : { status: 204 });
    await emit(server, owner.orgId, 'member.removed');
    await server.jobsDone();
    await updateWebhook(server.ctx.db.app, { targetProblem: () => null }, owner.orgId, hook.id, callerOf(owner), { enabled: false }, undefined, server.clock.now());
    await emit(server, owner.orgId, 'member.removed');
    server.clock.advance(HOUR);
    await server.jobsDone();
    const [delivery, ...none] = await deliveriesOf(server, hook.id);
    expect(none).toEqual([]);
    expect(await attemptsOf(server, delivery!.id)).toHaveLength(1);

    receiver.answer = () => ({ status: 204 });
    await updateWebhook(server.ctx.db.app, { targetProblem: () => null }, owner.orgId, hook.id, callerOf(owner), { enabled: true }, undefined, server.clock.now());
    await server.jobsDone();
    expect(await deliveriesOf(server, hook.id)).toEqual([expect.objectContaining({ status: 'succeeded', attempts: 2 })]);
  });
});

describe('sharing the queue', () => {
  it(`gives a receiver that hangs at most ${PER_WEBHOOK} attempts at once; other webhooks' deliveries go on meanwhile`, async () => {
    const org = await ownerAccount(server);
    const hanging = await webhook(server, org, { url: `${receiver.url}/hanging`, events: ['member.added'] });
    const healthy = await webhook(server, org, { url: `${receiver.url}/healthy`, events: ['member.updated'] });
    receiver.answer = (request) => (request.path === '/hanging' ? 'hold' : { status: 204 });
    const seen = receiver.received.length;
    await withTenant(server.ctx.db.app, org.orgId, async (tx) => {
      for (let i = 0; i < PER_WEBHOOK + 4; i++) await emitEvent(tx, org.orgId, { type: 'member.added', projectId: null, subjectId: org.orgId, data: { n: i } }, server.clock.now());
    });
    await receiver.waitFor(seen + PER_WEBHOOK);
    await emit(server, org.orgId, 'member.updated');
    await receiver.waitFor(seen + PER_WEBHOOK + 1);
    expect(at('/healthy')).toHaveLength(1);
    expect(at('/hanging')).toHaveLength(PER_WEBHOOK);
    const { rows } = await server.db.superuser.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1 AND locked_until IS NOT NULL', [hanging.id]);
    expect(rows[0].n).toBe(PER_WEBHOOK);

    receiver.answer = () => ({ status: 204 });
    receiver.release(204);
    await server.jobsDone();
    expect((await deliveriesOf(server, hanging.id)).map((d) => d.status)).toEqual(Array(PER_WEBHOOK + 4).fill('succeeded'));
    expect(await deliveriesOf(server, healthy.id)).toEqual([expect.objectContaining({ status: 'succeeded' })]);
  });
});

describe('the outbound client', () => {
  it('does not follow a redirect: the attempt fails, naming where it pointed, and the target hears nothing', async () => {
    const target = await startWebhookReceiver();
    try {
      const hook = await webhook(server, owner, { url: `${receiver.url}/moved`, events: ['member.updated'] });
      receiver.answer = (request) => (request.path === '/moved' ? { status: 307, headers: { location: `${target.url}/elsewhere` } } : { status: 204 });
      await emit(server, owner.orgId, 'member.updated');
      await server.jobsDone();
      receiver.answer = () => ({ status: 204 });
      const [delivery] = await deliveriesOf(server, hook.id);
      expect(await attemptsOf(server, delivery!.id)).toEqual([
        expect.objectContaining({ status_code: 307, error: `Redirect not followed (to ${target.url}/elsewhere): give the final URL.` }),
      ]);
      expect(delivery!.status).toBe('pending');
      expect(target.connections).toBe(0);
    } finally {
      await target.close();
    }
  });

  it('reads at most 64 KB of an answer, then closes the connection; the 2xx still counts', async () => {
    const hook = await webhook(server, owner, { url: `${receiver.url}/chatty`, events: ['member.updated'] });
    // 64 MB, more than any socket buffers hold: the receiver can only finish if all of it is read.
    receiver.answer = (request) => (request.path === '/chatty' ? { status: 200, bodyBytes: 64 * 1024 * 1024 } : { status: 204 });
    const abandoned = receiver.abandoned;
    await emit(server, owner.orgId, 'member.updated');
    await server.jobsDone();
    receiver.answer = () => ({ status: 204 });
    expect(await deliveriesOf(server, hook.id)).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    expect(receiver.abandoned).toBe(abandoned + 1);
  });

  it('trusts a receiver whose certificate comes from PARLEY_WEBHOOK_CA_FILE', async () => {
    const hook = await webhook(server, owner, { url: `${tlsReceiver.url}/tls`, events: ['member.updated'] });
    await emit(server, owner.orgId, 'member.updated');
    await server.jobsDone();
    expect(await deliveriesOf(server, hook.id)).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    expect(verifyWebhook(hook.secret, tlsReceiver.received.at(-1)!, server.clock.now())).toMatchObject({ type: 'member.updated' });
  });

  it('records what happened to a webhook deleted while its delivery was under way: nothing, and no error', async () => {
    const hook = await webhook(server, owner, { url: `${receiver.url}/deleted`, events: ['project.created'] });
    receiver.answer = () => 'hold';
    const seen = receiver.received.length;
    await emit(server, owner.orgId, 'project.created');
    const working = server.jobsDone();
    await receiver.waitFor(seen + 1);
    await deleteWebhook(server.ctx.db.app, owner.orgId, hook.id, callerOf(owner), undefined, server.clock.now());
    receiver.answer = () => ({ status: 204 });
    receiver.release(200);
    await working;
    expect(await server.db.superuser.query('SELECT 1 FROM webhook_deliveries WHERE webhook_id = $1', [hook.id])).toMatchObject({ rowCount: 0 });
  });

  describe('on a server with a 300 ms deadline and no extra CA', () => {
    let strict: TestServer;
    let account: Account;
    beforeAll(async () => {
      strict = await startTestServer({ ...LOOPBACK, PARLEY_WEBHOOK_TIMEOUT_MS: '300' });
      account = await ownerAccount(strict);
    });
    afterAll(() => strict.close());

    it('gives up on a receiver that does not answer within PARLEY_WEBHOOK_TIMEOUT_MS', async () => {
      const hook = await webhook(strict, account, { url: `${receiver.url}/slow`, events: ['member.added'] });
      receiver.answer = (request) => (request.path === '/slow' ? 'hold' : { status: 204 });
      await emit(strict, account.orgId, 'member.added');
      await strict.jobsDone();
      receiver.answer = () => ({ status: 204 });
      receiver.release();
      const [delivery] = await deliveriesOf(strict, hook.id);
      const [attempt] = await attemptsOf(strict, delivery!.id);
      expect(attempt).toMatchObject({ status_code: null, error: 'No complete answer within 300 ms.' });
      expect(delivery).toMatchObject({ status: 'pending', next_attempt_at: new Date(strict.clock.now().getTime() + 5 * SECOND) });
    });

    it('refuses a certificate it has no CA for', async () => {
      const hook = await webhook(strict, account, { url: `${tlsReceiver.url}/untrusted`, events: ['member.added'] });
      const seen = tlsReceiver.received.length;
      await emit(strict, account.orgId, 'member.added');
      await strict.jobsDone();
      const [delivery] = await deliveriesOf(strict, hook.id);
      expect((await attemptsOf(strict, delivery!.id))[0].error).toMatch(/^DEPTH_ZERO_SELF_SIGNED_CERT: /);
      expect(tlsReceiver.received.length).toBe(seen);
    });
  });
});

describe('housekeeping', () => {
  it(`deletes events, deliveries and attempts older than PARLEY_WEBHOOK_LOG_DAYS, keeping what is still due`, async () => {
    const org = await ownerAccount(server);
    const done = await webhook(server, org, { url: `${receiver.url}/kept-a-while`, events: ['member.added'] });
    const stuck = await webhook(server, org, { url: `${receiver.url}/stuck`, events: ['member.removed'] });
    receiver.answer = (request) => (request.path === '/stuck' ? { status: 500 } : { status: 204 });
    await emit(server, org.orgId, 'member.added');
    await emit(server, org.orgId, 'member.removed');
    await server.jobsDone();
    receiver.answer = () => ({ status: 204 });
    await updateWebhook(server.ctx.db.app, { targetProblem: () => null }, org.orgId, stuck.id, callerOf(org), { enabled: false }, undefined, server.clock.now());
    const [delivered] = await deliveriesOf(server, done.id);
    const eventsOf = async () => (await server.db.superuser.query('SELECT type FROM events WHERE org_id = $1 ORDER BY type', [org.orgId])).rows.map((r) => r.type);

    const logDays = server.ctx.config.webhooks.logDays;
    await sweepExpired(server.ctx.db.app, new Date(server.clock.now().getTime() + (logDays - 1) * DAY), server.ctx.config);
    expect(await deliveriesOf(server, done.id)).toHaveLength(1);
    const swept = await sweepExpired(server.ctx.db.app, new Date(server.clock.now().getTime() + (logDays + 1) * DAY), server.ctx.config);
    expect(swept.webhookHistory).toBeGreaterThan(0);
    expect(await deliveriesOf(server, done.id)).toEqual([]);
    expect(await attemptsOf(server, delivered!.id)).toEqual([]);
    expect(await eventsOf()).toEqual(['member.removed']);
    // The paused delivery and its event stay: it is still due once the webhook is enabled.
    expect(await deliveriesOf(server, stuck.id)).toEqual([expect.objectContaining({ status: 'pending' })]);
  });
});
