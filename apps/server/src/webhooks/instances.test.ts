import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../../../../test/cli.js';
import { createTestDatabase, TEST_APP_ROLE, type TestDatabase } from '../../../../test/database.js';
import { ownerAccount, webhook, type Account } from '../../../../test/factories.js';
import { startTwoInstances } from '../../../../test/instances.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { startWebhookReceiver, verifyWebhook, type ReceivedWebhook, type WebhookReceiver } from '../../../../test/webhook-receiver.js';
import { withTenant } from '../db/tenant.js';
import { emitEvent, type EventType } from '../events/service.js';

// Exactly once per event and subscriber across instances, at least once over
// the wire. A real `parley serve` (the build: npm test builds first) is
// killed with SIGKILL while a receiver holds its requests open; the other
// instance sends the same messages (same webhook-id) once their lease
// lapses. And two live instances working one queue never work a delivery
// twice.

const LOOPBACK = { PARLEY_WEBHOOK_ALLOW_HTTP: 'true', PARLEY_WEBHOOK_ALLOWED_RANGES: 'loopback' };

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(() => receiver.close());

async function emitMany(server: TestServer, orgId: string, type: EventType, count: number): Promise<void> {
  await withTenant(server.ctx.db.app, orgId, async (tx) => {
    for (let i = 0; i < count; i++) await emitEvent(tx, orgId, { type, projectId: null, subjectId: orgId, data: { n: i } }, server.clock.now());
  });
}

/** Polls until `check` holds (a condition, not a timing: fails after 20 s). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Row = { id: string; webhook_id: string; status: string; attempts: number; locked_until: Date | null; logged: number };

async function deliveries(db: TestDatabase): Promise<Row[]> {
  const { rows } = await db.superuser.query<Row>(
    `SELECT d.id, d.webhook_id, d.status, d.attempts, d.locked_until, (SELECT count(*)::int FROM webhook_attempts a WHERE a.delivery_id = d.id) AS logged
       FROM webhook_deliveries d ORDER BY d.id`,
  );
  return rows;
}

const countBy = (messages: ReceivedWebhook[]) => messages.reduce((counts, m) => counts.set(m.id, (counts.get(m.id) ?? 0) + 1), new Map<string, number>());

describe('an instance killed mid-delivery', () => {
  let db: TestDatabase;
  let survivor: TestServer;
  let doomed: ServeProcess | undefined;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    // A long deadline: the survivor's one held attempt must outlast the other instance's start on a busy machine.
    survivor = await startTestServer({ ...LOOPBACK, PARLEY_WEBHOOK_TIMEOUT_MS: '60000' }, { database: db });
    // The child runs on the real clock; the survivor's fake clock starts there too, so their leases compare.
    survivor.clock.advance(Date.now() - survivor.clock.now().getTime());
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'parley-doomed-'));
  });
  afterAll(async () => {
    doomed?.child.kill('SIGKILL');
    await survivor.close();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves its deliveries to the other instance after the lease: every event reaches every subscriber, under one webhook-id each', async () => {
    const owner: Account = await ownerAccount(survivor);
    const plug = await webhook(survivor, owner, { url: `${receiver.url}/plug`, events: ['member.added'] });
    const subscribers = [
      await webhook(survivor, owner, { url: `${receiver.url}/one`, events: ['feedback.updated'] }),
      await webhook(survivor, owner, { url: `${receiver.url}/two`, events: ['feedback.updated'] }),
    ];
    const secretOf = new Map([plug, ...subscribers].map((hook) => [hook.id, hook.secret]));
    receiver.answer = () => 'hold';

    // The survivor's queue takes one delivery and waits on it, so the events that follow stay for the other instance.
    await emitMany(survivor, owner.orgId, 'member.added', 1);
    await receiver.waitFor(1);
    const events = 10;
    await emitMany(survivor, owner.orgId, 'feedback.updated', events);
    await until(async () => (await deliveries(db)).length === 1 + events * subscribers.length, 'the events to become deliveries');

    doomed = await startServe({
      ...LOOPBACK,
      DATABASE_URL: db.superuser.options.connectionString!,
      PARLEY_MASTER_KEY: db.masterKey.toString('base64'),
      PARLEY_DB_APP_ROLE: TEST_APP_ROLE,
      PARLEY_DATA_DIR: dataDir,
    });
    await receiver.waitFor(1 + events * subscribers.length).catch((error: Error) => {
      throw new Error(`${error.message}; is the server built (npx tsc -p apps/server/tsconfig.build.json)? Its output: ${doomed!.output()}`);
    });
    const fromTheDoomed = receiver.received.slice(1);
    doomed.child.kill('SIGKILL');
    await new Promise((resolve) => doomed!.child.once('exit', resolve));

    receiver.answer = () => ({ status: 204 });
    receiver.release(204);
    await survivor.jobsDone();
    // The dead instance's leases have not lapsed yet: its deliveries wait, claimed once, with no attempt logged.
    const orphaned = (await deliveries(db)).filter((d) => d.webhook_id !== plug.id);
    expect(orphaned.map((d) => [d.status, d.attempts, d.logged])).toEqual(orphaned.map(() => ['pending', 1, 0]));
    expect(receiver.received).toHaveLength(1 + events * subscribers.length);

    const lapse = Math.max(...orphaned.map((d) => d.locked_until!.getTime())) - survivor.clock.now().getTime() + 1000;
    survivor.clock.advance(lapse);
    await survivor.jobsDone();

    const final = await deliveries(db);
    expect(final.map((d) => d.status)).toEqual(final.map(() => 'succeeded'));
    expect(final.filter((d) => d.webhook_id !== plug.id).map((d) => [d.attempts, d.logged])).toEqual(orphaned.map(() => [2, 1]));
    // Every event to every subscriber: distinct webhook-ids = events x subscribers (+ the plug's one).
    const counts = countBy(receiver.received);
    expect(counts.size).toBe(1 + events * subscribers.length);
    expect(new Set(final.map((d) => d.id))).toEqual(new Set(counts.keys()));
    // Those the dead instance had sent arrived twice, the same message each time (the receiver deduplicates by webhook-id).
    for (const message of fromTheDoomed) {
      expect(counts.get(message.id)).toBe(2);
      const again = receiver.received.filter((m) => m.id === message.id).at(-1)!;
      expect(again.body).toBe(message.body);
      const secret = secretOf.get(final.find((d) => d.id === message.id)!.webhook_id)!;
      expect(verifyWebhook(secret, message, new Date(Number(message.headers['webhook-timestamp']) * 1000))).toMatchObject({ type: 'feedback.updated' });
      expect(verifyWebhook(secret, again, survivor.clock.now())).toMatchObject({ type: 'feedback.updated' });
    }
  });
});

describe('two live instances', () => {
  it('share one queue without working any delivery twice', async () => {
    receiver.received.length = 0;
    const two = await startTwoInstances(LOOPBACK);
    try {
      const owner = await ownerAccount(two.a);
      const subscribers = 3;
      for (let i = 0; i < subscribers; i++) await webhook(two.a, owner, { url: `${receiver.url}/live-${i}`, events: ['member.updated'] });
      const events = 100;
      for (let batch = 0; batch < 4; batch++) {
        await emitMany(batch % 2 ? two.b : two.a, owner.orgId, 'member.updated', events / 4);
        await Promise.all([two.a.jobsDone(), two.b.jobsDone()]);
      }
      await Promise.all([two.a.jobsDone(), two.b.jobsDone()]);

      const rows = await deliveries(two.db);
      expect(rows).toHaveLength(events * subscribers);
      expect(rows.filter((d) => d.status !== 'succeeded' || d.attempts !== 1 || d.logged !== 1)).toEqual([]);
      const counts = countBy(receiver.received);
      expect(counts.size).toBe(events * subscribers);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await two.close();
    }
  });
});
