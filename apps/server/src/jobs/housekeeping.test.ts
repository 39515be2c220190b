import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn, ownerAccount, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { sweepExpired } from './housekeeping.js';

let server: TestServer;
let owner: Account;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
});
afterAll(() => server.close());

const count = async (table: string) => Number((await server.db.superuser.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

describe('housekeeping', () => {
  it('deletes idle and expired sessions, keeps live ones', async () => {
    await server.db.superuser.query('DELETE FROM sessions');
    await logIn(server, owner.email);
    server.clock.advance(31 * 60_000);
    const live = await logIn(server, owner.email);
    const deleted = await sweepExpired(server.ctx.db.app, server.clock.now(), server.ctx.config);
    expect(deleted.sessions).toBe(1);
    expect(await count('sessions')).toBe(1);
    expect((await server.request('GET', '/api/v1/me', { cookie: live })).status).toBe(200);
  });

  it('keeps login attempts for the retention period only', async () => {
    const before = await count('login_attempts');
    expect(before).toBeGreaterThan(0);
    expect((await sweepExpired(server.ctx.db.app, server.clock.now(), server.ctx.config)).loginAttempts).toBe(0);
    server.clock.advance(91 * 24 * 3_600_000);
    expect((await sweepExpired(server.ctx.db.app, server.clock.now(), server.ctx.config)).loginAttempts).toBe(before);
    expect(await count('login_attempts')).toBe(0);
  });

  it('drops lapsed login blocks and finished outbox jobs after a week', async () => {
    const now = server.clock.now();
    await server.db.superuser.query(`INSERT INTO login_blocks (kind, key, until) VALUES ('ip', '192.0.2.1', $1), ('ip', '192.0.2.2', $2)`, [now, new Date(now.getTime() + 60_000)]);
    await server.db.superuser.query(
      `INSERT INTO outbox (id, kind, payload_enc, created_at, run_at, done_at) VALUES (gen_random_uuid(), 'mail', '\\x00', $1, $1, $1), (gen_random_uuid(), 'mail', '\\x00', $2, $2, $2)`,
      [new Date(now.getTime() - 8 * 24 * 3_600_000), now],
    );
    const deleted = await sweepExpired(server.ctx.db.app, now, server.ctx.config);
    expect(deleted).toMatchObject({ loginBlocks: 1, outbox: 1 });
    expect(await count('login_blocks')).toBe(1);
    expect(await count('outbox')).toBe(1);
  });
});
