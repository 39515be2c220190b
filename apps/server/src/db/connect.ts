import { createHmac } from 'node:crypto';
import pg from 'pg';
import { migrate } from './migrate.js';

export type Database = {
  /** The application role: not owner, not superuser, bound by row-level security. */
  app: pg.Pool;
  /** The owner role: migrations, role management and operator commands only. */
  admin: pg.Pool;
  close(): Promise<void>;
};

export type DatabaseOptions = {
  adminUrl: string;
  appRole: string;
  masterKey: Buffer;
  poolSize: number;
  log?: (message: string) => void;
};

// The app role's password is derived from the master key, so there is no
// second secret to store and every instance computes the same one.
function appRolePassword(masterKey: Buffer, role: string): string {
  return createHmac('sha256', masterKey).update(`parley:db-app-role:${role}`).digest('base64url');
}

async function canConnect(config: pg.PoolConfig): Promise<boolean> {
  const client = new pg.Client(config);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function ensureAppRole(admin: pg.Pool, appConfig: pg.PoolConfig, role: string, password: string): Promise<void> {
  if (await canConnect(appConfig)) return;
  const client = await admin.connect();
  try {
    const id = client.escapeIdentifier(role);
    const secret = client.escapeLiteral(password);
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    await client.query(rowCount ? `ALTER ROLE ${id} WITH LOGIN PASSWORD ${secret}` : `CREATE ROLE ${id} WITH LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD ${secret}`);
  } finally {
    client.release();
  }
}

/** Refuses to run if the app role could bypass row-level security. */
async function assertAppRoleIsUnprivileged(app: pg.Pool): Promise<void> {
  const { rows } = await app.query<{ rolsuper: boolean; rolbypassrls: boolean; owns: boolean }>(
    `SELECT r.rolsuper, r.rolbypassrls,
            EXISTS (SELECT 1 FROM pg_tables t WHERE t.schemaname = 'public' AND t.tableowner = current_user) AS owns
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  const role = rows[0];
  if (!role || role.rolsuper || role.rolbypassrls || role.owns) {
    throw new Error('The application database role must not be a superuser, have BYPASSRLS or own tables: row-level security would not bind it');
  }
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const adminConfig = { connectionString: options.adminUrl, max: 2 };
  const admin = new pg.Pool(adminConfig);
  admin.on('error', () => {});
  // Same server and database as the owner connection, another role.
  const appUrl = new URL(options.adminUrl);
  appUrl.username = options.appRole;
  appUrl.password = appRolePassword(options.masterKey, options.appRole);
  const appConfig: pg.PoolConfig = { connectionString: appUrl.href, max: options.poolSize };
  try {
    await ensureAppRole(admin, appConfig, options.appRole, appUrl.password);
    const db = await admin.query<{ current_database: string }>('SELECT current_database()');
    await admin.query(`GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(db.rows[0]!.current_database)} TO ${pg.escapeIdentifier(options.appRole)}`);
    await migrate(admin, options.appRole, options.log);
  } catch (error) {
    await admin.end();
    throw error;
  }
  const app = new pg.Pool(appConfig);
  // An idle client's error (e.g. the server restarting) must not crash the
  // process; the next query reports it.
  app.on('error', () => {});
  await assertAppRoleIsUnprivileged(app).catch(async (error) => {
    await Promise.all([app.end(), admin.end()]);
    throw error;
  });
  return {
    app,
    admin,
    async close() {
      await Promise.all([app.end(), admin.end()]);
    },
  };
}
