import type pg from 'pg';
import initial from './migrations/0001-initial.js';
import widget from './migrations/0002-widget.js';
import accounts from './migrations/0003-accounts.js';
import frontDoor from './migrations/0004-front-door.js';
import apiKeys from './migrations/0005-api-keys.js';
import triage from './migrations/0006-triage.js';
import eventsWebhooks from './migrations/0007-events-webhooks.js';
import notifications from './migrations/0008-notifications.js';
import createdEventData from './migrations/0009-created-event-data.js';

// Each migration runs once, in order, in its own transaction.
const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'widget', sql: widget },
  { version: 3, name: 'accounts', sql: accounts },
  { version: 4, name: 'front-door', sql: frontDoor },
  { version: 5, name: 'api-keys', sql: apiKeys },
  { version: 6, name: 'triage', sql: triage },
  { version: 7, name: 'events-webhooks', sql: eventsWebhooks },
  { version: 8, name: 'notifications', sql: notifications },
  { version: 9, name: 'created-event-data', sql: createdEventData },
];

export const LATEST_MIGRATION = MIGRATIONS.at(-1)!.version;

/**
 * Applies pending migrations as the owner role; an advisory lock lets several
 * instances start at once. `until` stops at an older version (upgrade tests).
 */
export async function migrate(admin: pg.Pool, appRole: string, log: (message: string) => void = () => {}, until = LATEST_MIGRATION): Promise<void> {
  const client = await admin.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('parley:migrate'))`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version) || migration.version > until) continue;
      log(`applying migration ${migration.version} (${migration.name})`);
      await client.query('BEGIN');
      try {
        await client.query(migration.sql.replaceAll(':app_role', client.escapeIdentifier(appRole)));
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtext('parley:migrate'))`).catch(() => {});
    client.release();
  }
}

export async function currentMigration(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
  return rows[0]?.version ?? 0;
}
