import type pg from 'pg';

export type Tx = pg.ClientBase;

async function transaction<T>(client: Tx, settings: Record<string, string>, fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    await client.query('BEGIN');
    for (const [name, value] of Object.entries(settings)) {
      // `true`: local to this transaction, so a pooled connection never
      // carries one tenant's scope into the next request.
      await client.query('SELECT set_config($1, $2, true)', [name, value]);
    }
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function inTransaction<T>(pool: pg.Pool, settings: Record<string, string>, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await transaction(client, settings, fn);
  } finally {
    client.release();
  }
}

/** Runs `fn` in a transaction scoped to one organization; row-level security hides every other tenant. */
export function withTenant<T>(pool: pg.Pool, orgId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inTransaction(pool, { 'app.org_id': orgId }, fn);
}

/**
 * Like withTenant, on a connection the caller holds across several
 * transactions (the audit export keeps its session lock on it).
 */
export function withTenantOn<T>(client: pg.PoolClient, orgId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return transaction(client, { 'app.org_id': orgId }, fn);
}

/** A transaction that may read the user's own memberships (and their organizations) across tenants. */
export function withUser<T>(pool: pg.Pool, userId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inTransaction(pool, { 'app.user_id': userId }, fn);
}

/** A transaction for global tables (users, sessions, setup tokens): no tenant rows are visible. */
export function withoutTenant<T>(pool: pg.Pool, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inTransaction(pool, {}, fn);
}

/**
 * Moves an open transaction into another organization's scope (only the
 * event dispatcher and the daily digest do this: each works the
 * organizations its claim named, one by one, in the one transaction that
 * made the claim).
 */
export async function enterTenant(tx: Tx, orgId: string): Promise<void> {
  await tx.query("SELECT set_config('app.org_id', $1, true)", [orgId]);
}
