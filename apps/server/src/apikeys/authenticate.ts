import type pg from 'pg';
import { withTenant } from '../db/tenant.js';
import type { Keyring } from '../keys/service.js';
import { isPermission, type Permission } from '../auth/permissions.js';

/** An API key as the access check sees it. */
export type ApiKey = {
  id: string;
  orgId: string;
  name: string;
  prefix: string;
  scopes: Permission[];
  /** null: every project its creator may see. */
  projectIds: string[] | null;
  /** Empty: any address. */
  allowedIps: string[];
  expiresAt: Date | null;
  /** null only when the creator's account was deleted (the key is then revoked). */
  createdBy: string | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

type Row = {
  id: string; org_id: string; name: string; prefix: string; scopes: string[]; project_ids: string[] | null; allowed_ips: string[];
  expires_at: Date | null; created_by: string | null; last_used_at: Date | null; revoked_at: Date | null;
};

/** What the database keeps instead of the key: see Keyring.secretHash. */
export function apiKeyHash(keyring: Keyring, token: string): Buffer {
  return keyring.secretHash('api-key', token);
}

/** The key a presented token belongs to, whatever its state, or null for an unknown token. */
export async function findApiKey(pool: pg.Pool, keyring: Keyring, token: string): Promise<ApiKey | null> {
  const { rows } = await pool.query<Row>('SELECT * FROM api_key_by_hash($1)', [apiKeyHash(keyring, token)]);
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id, orgId: row.org_id, name: row.name, prefix: row.prefix,
    // A scope dropped from the table in a later version simply stops counting.
    scopes: row.scopes.filter(isPermission),
    projectIds: row.project_ids, allowedIps: row.allowed_ips, expiresAt: row.expires_at, createdBy: row.created_by,
    lastUsedAt: row.last_used_at, revokedAt: row.revoked_at,
  };
}

// Written at most once a minute per key and address, so a busy integration
// does not turn every read into a write.
const TOUCH_INTERVAL_MS = 60_000;

/** Records when and from where the key was last used (shown in the key list). */
export async function touchApiKey(pool: pg.Pool, key: ApiKey, ip: string, now: Date): Promise<void> {
  if (key.lastUsedAt && now.getTime() - key.lastUsedAt.getTime() < TOUCH_INTERVAL_MS) return;
  await withTenant(pool, key.orgId, (tx) => tx.query('UPDATE api_keys SET last_used_at = $2, last_used_ip = $3 WHERE id = $1', [key.id, now, ip]));
}
