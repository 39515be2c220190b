import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerAccount, project, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import type { Project } from '../projects/service.js';
import { FeedbackWriter, type FeedbackRow } from './writer.js';

let server: TestServer;
let owner: Account;
let target: Project;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  target = await project(server, owner.orgId);
});
afterAll(() => server.close());

const row = (changes: Partial<FeedbackRow> = {}): FeedbackRow => ({
  id: randomUUID(), orgId: owner.orgId, projectId: target.id, idempotencyKey: null, rating: null, ratingScale: null, type: null, message: 'batched',
  emailEnc: null, emailIndex: null, ipEnc: Buffer.from([1]), userAgentEnc: null, customEnc: null, pageUrl: null, locale: null,
  viewportWidth: null, viewportHeight: null, createdAt: server.clock.now(), consent: null, identityEnc: null, identityVerified: null,
  metadataEnc: null, contextEnc: null, screenshotId: null, ...changes,
});

describe('FeedbackWriter', () => {
  it('batches rows that arrive while a write is in flight, and one bad row fails alone', async () => {
    const writer = new FeedbackWriter(server.db.app, 1);
    const good = [row(), row(), row()];
    const bad = row({ projectId: randomUUID() });
    // The first row is written at once; the rest queue behind it and form one batch.
    const results = await Promise.allSettled([good[0]!, bad, good[1]!, good[2]!].map((r) => writer.write(r)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const { rows } = await server.db.superuser.query<{ id: string }>('SELECT id FROM feedback WHERE id = ANY($1)', [[...good, bad].map((r) => r.id)]);
    expect(rows.map((r) => r.id).sort()).toEqual(good.map((r) => r.id).sort());
  });

  it('answers a repeated idempotency key, within one batch too, with the first row’s id', async () => {
    const writer = new FeedbackWriter(server.db.app, 1);
    const first = row({ idempotencyKey: 'same-key' });
    const ids = await Promise.all([first, row({ idempotencyKey: 'same-key' }), row({ idempotencyKey: 'same-key' })].map((r) => writer.write(r)));
    expect(ids).toEqual([first.id, first.id, first.id]);
  });

  it('drained() waits for everything queued', async () => {
    const writer = new FeedbackWriter(server.db.app, 1);
    const rows = [row(), row(), row()];
    const writes = rows.map((r) => writer.write(r));
    await writer.drained();
    const { rowCount } = await server.db.superuser.query('SELECT 1 FROM feedback WHERE id = ANY($1)', [rows.map((r) => r.id)]);
    expect(rowCount).toBe(3);
    await Promise.all(writes);
  });
});
