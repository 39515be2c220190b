import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ownerAccount, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { withTenant } from '../db/tenant.js';
import { recordAuditEvent, verifyAuditChains } from './service.js';

let server: TestServer;
let account: Account;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

// Each test gets its own organization with a fresh six-event chain:
// organization.created, member.added, login.succeeded and three test events.
beforeEach(async () => {
  account = await ownerAccount(server);
  for (let i = 0; i < 3; i++) {
    await withTenant(server.db.app, account.orgId, (tx) =>
      recordAuditEvent(tx, account.orgId, { type: 'user', id: account.userId, label: account.email, ip: '203.0.113.9' }, { action: 'test.event', data: { i } }, server.clock.now()),
    );
  }
});

async function report() {
  const reports = await verifyAuditChains(server.db.admin);
  return reports.find((r) => r.orgId === account.orgId)!;
}

/** Tampering as the database superuser, who can switch the append-only triggers off. */
async function tamper(...statements: string[]) {
  const client = await server.db.superuser.connect();
  try {
    await client.query(`SET session_replication_role = replica`);
    for (const sql of statements) await client.query(sql, [account.orgId]);
  } finally {
    await client.query(`RESET session_replication_role`);
    client.release();
  }
}

describe('audit chain', () => {
  it('verifies an untouched chain', async () => {
    expect(await report()).toEqual({ orgId: account.orgId, events: 6 });
  });

  it('names the first edited event', async () => {
    await tamper(`UPDATE audit_events SET data = '{"i": 99}' WHERE org_id = $1 AND seq = 4`);
    expect((await report()).firstBroken).toEqual({ seq: 4, reason: expect.stringMatching(/edited/) });
  });

  it('names a deleted event', async () => {
    await tamper(`DELETE FROM audit_events WHERE org_id = $1 AND seq = 3`);
    expect((await report()).firstBroken).toMatchObject({ seq: 4, reason: expect.stringMatching(/deleted or inserted/) });
  });

  it('names reordered events', async () => {
    await tamper(
      `UPDATE audit_events SET seq = -2 WHERE org_id = $1 AND seq = 2`,
      `UPDATE audit_events SET seq = 2 WHERE org_id = $1 AND seq = 3`,
      `UPDATE audit_events SET seq = 3 WHERE org_id = $1 AND seq = -2`,
    );
    expect((await report()).firstBroken?.seq).toBe(2);
  });

  it('names an inserted event', async () => {
    await tamper(
      `UPDATE audit_events SET seq = seq + 100 WHERE org_id = $1 AND seq >= 3`,
      `UPDATE audit_events SET seq = seq - 99 WHERE org_id = $1 AND seq >= 100`,
      `INSERT INTO audit_events SELECT org_id, 3, at, actor_type, actor_id, actor_label, ip, 'forged', target_type, target_id, data, prev_hash, hash FROM audit_events WHERE org_id = $1 AND seq = 2`,
    );
    expect((await report()).firstBroken?.seq).toBe(3);
  });

  it('the database refuses updates and deletes, even from the table owner', async () => {
    await expect(server.db.superuser.query(`UPDATE audit_events SET action = 'x' WHERE org_id = $1`, [account.orgId])).rejects.toThrow(/append-only/);
    await expect(server.db.superuser.query(`DELETE FROM audit_events WHERE org_id = $1`, [account.orgId])).rejects.toThrow(/append-only/);
    await expect(server.db.superuser.query(`TRUNCATE audit_events`)).rejects.toThrow(/append-only/);
    await expect(withTenant(server.db.app, account.orgId, (tx) => tx.query(`DELETE FROM audit_events`))).rejects.toThrow(/permission denied/);
    expect((await report()).events).toBe(6);
  });

  it('encodes CR, LF and other control characters in logged fields', async () => {
    await withTenant(server.db.app, account.orgId, (tx) =>
      recordAuditEvent(tx, account.orgId, { type: 'user', label: 'mallory\r\nFAKE ENTRY' }, { action: 'test.event' }, server.clock.now()),
    );
    const { rows } = await server.db.superuser.query(`SELECT actor_label FROM audit_events WHERE org_id = $1 AND seq = 7`, [account.orgId]);
    expect(rows[0].actor_label).toBe('mallory\\u000d\\u000aFAKE ENTRY');
    expect((await report()).firstBroken).toBeUndefined();
  });
});
