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
// the wire. A real `parley serve` (the build: npm test builds first) sends
// deliveries that a receiver holds open; a second instance started meanwhile
// leaves them alone; the first is killed with SIGKILL, and once the leases
// lapse the second sends the same messages (same webhook-id). And two live
// instances working one queue never work a delivery twice.

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
  let survivor: TestServer | undefined;
  let doomed: ServeProcess | undefined;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'parley-doomed-'));
  });
  afterAll(async () => {
    doomed?.child.kill('SIGKILL');
    await survivor?.close();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves its deliveries to the other instance after the lease: every event reaches every subscriber, under one webhook-id each', async () => {
    // The organization and its webhooks, made through an instance that then stops.
    const setup = await startTestServer(LOOPBACK, { database: db });
    const owner: Account = await ownerAccount(setup);
    const subscribers = [
      await webhook(setup, owner, { url: `${receiver.url}/one`, events: ['feedback.updated'] }),
      await webhook(setup, owner, { url: `${receiver.url}/two`, events: ['feedback.updated'] }),
    ];
    await setup.close();
    const secretOf = new Map(subscribers.map((hook) => [hook.id, hook.secret]));

    doomed = await startServe({
      ...LOOPBACK,
      DATABASE_URL: db.superuser.options.connectionString!,
      PARLEY_MASTER_KEY: db.masterKey.toString('base64'),
      PARLEY_DB_APP_ROLE: TEST_APP_ROLE,
      PARLEY_DATA_DIR: dataDir,
    });
    receiver.answer = () => 'hold';
    const events = 10;
    // Written as a change would write them; the running instance (on the real clock) dispatches and sends them.
    await withTenant(db.app, owner.orgId, async (tx) => {
      for (let i = 0; i < events; i++) await emitEvent(tx, owner.orgId, { type: 'feedback.updated', projectId: null, subjectId: owner.orgId, data: { n: i } }, new Date());
    });
    await receiver.waitFor(events * subscribers.length).catch((error: Error) => {
      throw new Error(`${error.message}; is the server built (npx tsc -p apps/server/tsconfig.build.json)? Its output: ${doomed!.output()}`);
    });
    const fromTheDoomed = [...receiver.received];

    // A second instance comes up while the first holds every delivery: it leaves them alone (leased, one claim each, nothing logged).
    survivor = await startTestServer(LOOPBACK, { database: db });
    survivor.clock.advance(Date.now() - survivor.clock.now().getTime());
    await survivor.jobsDone();
    const orphaned = await deliveries(db);
    expect(orphaned.map((d) => [d.status, d.attempts, d.logged])).toEqual(orphaned.map(() => ['pending', 1, 0]));

    doomed.child.kill('SIGKILL');
    await new Promise((resolve) => doomed!.child.once('exit', resolve));
    receiver.answer = () => ({ status: 204 });
    receiver.release(204);
    await survivor.jobsDone();
    expect(receiver.received).toHaveLength(events * subscribers.length);

    const lapse = Math.max(...orphaned.map((d) => d.locked_until!.getTime())) - survivor.clock.now().getTime() + 1000;
    survivor.clock.advance(lapse);
    await survivor.jobsDone();

    const final = await deliveries(db);
    expect(final.map((d) => [d.status, d.attempts, d.logged])).toEqual(final.map(() => ['succeeded', 2, 1]));
    // Every event to every subscriber: distinct webhook-ids = events x subscribers.
    const counts = countBy(receiver.received);
    expect(counts.size).toBe(events * subscribers.length);
    expect(new Set(final.map((d) => d.id))).toEqual(new Set(counts.keys()));
    // Each arrived twice, the same message each time: receivers deduplicate by webhook-id.
    for (const message of fromTheDoomed) {
      expect(counts.get(message.id)).toBe(2);
      const again = receiver.received.filter((m) => m.id === message.id).at(-1)!;
      expect(again.body).toBe(message.body);
      const secret = secretOf.get(final.find((d) => d.id === message.id)!.webhook_id)!;
      expect(verifyWebhook(secret, message, new Date())).toMatchObject({ type: 'feedback.updated' });
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
