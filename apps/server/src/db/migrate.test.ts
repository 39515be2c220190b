import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { TEST_APP_ROLE } from '../../../../test/database.js';
import { LATEST_MIGRATION, migrate } from './migrate.js';

// Upgrades of a database with work in flight: each starts from an empty
// database migrated to the version before.
let admin: pg.Client;
let pool: pg.Pool;
let name: string;
beforeAll(async () => {
  admin = new pg.Client({ connectionString: inject('adminUrl') });
  await admin.connect();
  name = `parley_m_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(inject('adminUrl'));
  url.pathname = `/${name}`;
  pool = new pg.Pool({ connectionString: url.href, max: 2 });
});
afterAll(async () => {
  await pool.end();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

describe('migration 9 (created-event-data)', () => {
  it('fills in the data of pending feedback.created events from their feedback (or, when it is gone, its id), then requires data', async () => {
    await migrate(pool, TEST_APP_ROLE, () => {}, 8);
    const [org, project, kept, gone] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const at = new Date('2026-11-30T09:15:00.123Z');
    await pool.query('INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)', [org, 'Acme', at]);
    await pool.query(
      `INSERT INTO projects (id, org_id, name, public_key, allowed_domains, created_at, updated_at) VALUES ($1, $2, 'Shop', 'pk_migrate', '{example.com}', $3, $3)`,
      [project, org, at],
    );
    await pool.query(
      `INSERT INTO feedback (id, org_id, project_id, rating, type, message, page_url, created_at, updated_at)
       VALUES ($1, $3, $4, 2, 'bug', 'kept', 'https://example.com/cart', $5, $5), ($2, $3, $4, NULL, NULL, 'gone', NULL, $5, $5)`,
      [kept, gone, org, project, at],
    );
    // As ingestion's batch insert wrote them until now: no data.
    await pool.query(
      `INSERT INTO events (id, org_id, project_id, type, subject_id, created_at)
       SELECT gen_random_uuid(), $1, $2, 'feedback.created', id, $3 FROM unnest($4::uuid[]) AS id`,
      [org, project, at, [kept, gone]],
    );
    await pool.query('DELETE FROM feedback WHERE id = $1', [gone]);

    await migrate(pool, TEST_APP_ROLE);

    expect((await pool.query('SELECT max(version)::int AS v FROM schema_migrations')).rows[0].v).toBe(LATEST_MIGRATION);
    const { rows } = await pool.query('SELECT subject_id, data FROM events ORDER BY seq');
    expect(rows).toEqual([
      {
        subject_id: kept,
        data: {
          id: kept, projectId: project, status: 'new', rating: 2, ratingScale: null, type: 'bug', message: 'kept', pageUrl: 'https://example.com/cart',
          locale: null, assigneeId: null, labelIds: [], hasScreenshot: false, createdAt: at.toISOString(), updatedAt: at.toISOString(),
        },
      },
      { subject_id: gone, data: { id: gone } },
    ]);
    await expect(
      pool.query(`INSERT INTO events (id, org_id, type, created_at) VALUES (gen_random_uuid(), $1, 'member.added', now())`, [org]),
    ).rejects.toThrow(/null value in column "data"/);
  });
});
