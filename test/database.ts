import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../apps/server/src/db/connect.js';

export const TEST_APP_ROLE = 'parley_test_app';

export type TestDatabase = Database & {
  /** Superuser/owner connection to this test's database, for tampering and inspection. */
  superuser: pg.Pool;
  name: string;
  masterKey: Buffer;
  drop(): Promise<void>;
};

/** A fresh database for one test file, cloned from the migrated template (fast: a file copy). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminUrl');
  const masterKey = Buffer.from(inject('masterKey'), 'base64');
  const name = `parley_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ adminUrl: url.href, appRole: TEST_APP_ROLE, masterKey, poolSize: 5 });
  const superuser = new pg.Pool({ connectionString: url.href, max: 2 });
  // DROP DATABASE ... WITH (FORCE) ends any connection still closing.
  superuser.on('error', () => {});
  return {
    ...db,
    superuser,
    name,
    masterKey,
    async drop() {
      await db.close();
      await superuser.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
