import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../apps/server/src/db/connect.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../apps/server/src/db/embedded.js';
import { TEST_APP_ROLE } from './database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
    masterKey: string;
  }
}

/**
 * Once per run: a PostgreSQL server (embedded, or TEST_DATABASE_URL) and a
 * migrated template database that each test file clones.
 */
export default async function setup(project: TestProject) {
  const target = project.config.env.PARLEY_TEST_DB ?? 'embedded';
  let embedded: EmbeddedPostgres | undefined;
  let dataDir: string | undefined;
  let adminUrl: string;
  if (target === 'embedded') {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-test-pg-'));
    embedded = await startEmbeddedPostgres({ dataDir, log: () => {} });
    adminUrl = embedded.url;
  } else {
    adminUrl = target;
  }
  const masterKey = randomBytes(32);
  const templateDatabase = `parley_template_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${templateDatabase}`);
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${templateDatabase}`;
  const db = await openDatabase({ adminUrl: templateUrl.href, appRole: TEST_APP_ROLE, masterKey, poolSize: 2 });
  await db.close();

  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);
  project.provide('masterKey', masterKey.toString('base64'));

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${templateDatabase}`).catch(() => {});
    await admin.end();
    await embedded?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  };
}
