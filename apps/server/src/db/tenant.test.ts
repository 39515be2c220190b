import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerAccount, project, submit, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { withTenant, withoutTenant } from './tenant.js';

let server: TestServer;
let a: Account;
let b: Account;

const TENANT_TABLES = ['organizations', 'memberships', 'org_keys', 'projects', 'feedback', 'audit_events', 'screenshots'];

beforeAll(async () => {
  server = await startTestServer();
  a = await ownerAccount(server);
  b = await ownerAccount(server);
  const image = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).png().toBuffer();
  for (const account of [a, b]) {
    const p = await project(server, account.orgId, ['example.com'], { screenshot: { enabled: true, mode: 'dom' } });
    const shot = await server.rawRequest('POST', `/api/widget/v1/projects/${p.key}/screenshots`, {
      raw: image as unknown as string,
      headers: { origin: 'https://example.com', 'content-type': 'image/png' },
    });
    expect((await submit(server, p.key, { message: 'hello', email: 'v@example.test', screenshotId: shot.body.id })).status).toBe(201);
  }
});
afterAll(() => server.close());

describe('row-level security', () => {
  it('the application role is not superuser, has no BYPASSRLS and owns no table', async () => {
    const { rows } = await server.db.app.query(
      `SELECT r.rolsuper, r.rolbypassrls, (SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user)::int AS owned
         FROM pg_roles r WHERE r.rolname = current_user`,
    );
    expect(rows[0]).toEqual({ rolsuper: false, rolbypassrls: false, owned: 0 });
  });

  it('every tenant table has row-level security enabled', async () => {
    const { rows } = await server.db.superuser.query<{ relname: string; relrowsecurity: boolean }>(
      `SELECT relname, relrowsecurity FROM pg_class WHERE relname = ANY($1)`,
      [TENANT_TABLES],
    );
    expect(rows).toHaveLength(TENANT_TABLES.length);
    expect(rows.every((r) => r.relrowsecurity)).toBe(true);
  });

  it.each(TENANT_TABLES)('outside a tenant scope, %s shows no rows at all', async (table) => {
    const { rows: all } = await server.db.superuser.query(`SELECT count(*)::int AS n FROM ${table}`);
    expect(all[0].n).toBeGreaterThan(0);
    const plain = await server.db.app.query(`SELECT * FROM ${table}`);
    expect(plain.rowCount).toBe(0);
    const scoped = await withoutTenant(server.db.app, (tx) => tx.query(`SELECT * FROM ${table}`));
    expect(scoped.rowCount).toBe(0);
  });

  it('inside one tenant scope, only that tenant is visible', async () => {
    for (const table of ['projects', 'feedback', 'audit_events', 'org_keys', 'screenshots']) {
      const { rows } = await withTenant(server.db.app, a.orgId, (tx) => tx.query<{ org_id: string }>(`SELECT org_id FROM ${table}`));
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.org_id === a.orgId)).toBe(true);
    }
  });

  it("cannot write a row into another tenant, even by naming its org_id", async () => {
    await expect(
      withTenant(server.db.app, a.orgId, (tx) =>
        tx.query(`INSERT INTO projects (id, org_id, name, public_key, allowed_domains, created_at, updated_at) VALUES (gen_random_uuid(), $1, 'x', 'pk_x', '{}', now(), now())`, [b.orgId]),
      ),
    ).rejects.toThrow(/row-level security/);
    const updated = await withTenant(server.db.app, a.orgId, (tx) => tx.query(`UPDATE feedback SET message = 'owned' WHERE org_id = $1`, [b.orgId]));
    expect(updated.rowCount).toBe(0);
    const { rows } = await server.db.superuser.query(`SELECT count(*)::int AS n FROM feedback WHERE message = 'owned'`);
    expect(rows[0].n).toBe(0);
  });

  it("ingestion's batch insert cannot attach a row to another tenant's project", async () => {
    const theirs = await server.db.superuser.query<{ id: string }>('SELECT id FROM projects WHERE org_id = $1', [b.orgId]);
    await expect(
      server.db.app.query(
        `SELECT insert_feedback_batch($1, ARRAY[gen_random_uuid()], $2, ARRAY[NULL]::text[], ARRAY[NULL]::smallint[], ARRAY[NULL]::text[], ARRAY['x'],
           ARRAY[NULL]::bytea[], ARRAY[NULL]::bytea[], ARRAY['\\x00'::bytea], ARRAY[NULL]::bytea[], ARRAY[NULL]::bytea[], ARRAY[NULL]::text[], ARRAY[NULL]::text[],
           ARRAY[NULL]::int[], ARRAY[NULL]::int[], ARRAY[now()], ARRAY[NULL]::boolean[], ARRAY[NULL]::bytea[], ARRAY[NULL]::boolean[],
           ARRAY[NULL]::bytea[], ARRAY[NULL]::bytea[], ARRAY[NULL]::uuid[], ARRAY[NULL]::text[])`,
        [a.orgId, [theirs.rows[0]!.id]],
      ),
    ).rejects.toThrow(/foreign key/);
  });

  it('does not carry one request’s tenant into the next use of a pooled connection', async () => {
    await withTenant(server.db.app, a.orgId, (tx) => tx.query('SELECT 1'));
    const { rowCount } = await server.db.app.query('SELECT * FROM projects');
    expect(rowCount).toBe(0);
  });
});
