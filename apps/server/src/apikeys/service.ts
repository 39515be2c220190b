import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { narrowScope } from '../auth/access.js';
import { API_SCOPES, hasPermission, isApiScope, isPermission, type Permission } from '../auth/permissions.js';
import { withTenant, type Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { decodeCursor, pageOf } from '../http/cursor.js';
import type { Keyring } from '../keys/service.js';
import type { Role } from '../orgs/service.js';
import { inProjectScope, type ProjectScope } from '../projects/service.js';
import { parseIpRange } from '../security/ip-ranges.js';
import { apiKeyHash } from './authenticate.js';
import { newApiKey } from './token.js';

// Creating, listing and revoking API keys, and keeping each key within what
// its creator may still do. The key itself is shown once, at creation; the
// database keeps only its keyed hash (authenticate.ts) and its prefix.

/** Keys that can still be used (not revoked, not expired), per organization: a bound on what a compromised admin can spread. */
export const MAX_LIVE_KEYS = 100;
/** The furthest expiry a key may have: long-lived credentials leak; rotate instead. `null` (never) stays possible, and visible in the list. */
export const MAX_EXPIRY_MS = 366 * 24 * 3_600_000;
export const MAX_KEY_PROJECTS = 200;
export const MAX_ALLOWED_IPS = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const API_KEY_STATUSES = ['active', 'expired', 'revoked'] as const;
export type ApiKeyStatus = (typeof API_KEY_STATUSES)[number];
export const REVOKED_REASONS = ['revoked', 'creator_removed', 'creator_demoted'] as const;
export type RevokedReason = (typeof REVOKED_REASONS)[number];

/** A key as owners and admins see it: everything but the key. */
export type ApiKeyView = {
  id: string;
  name: string;
  prefix: string;
  scopes: Permission[];
  projectIds: ProjectScope;
  allowedIps: string[];
  expiresAt: Date | null;
  createdAt: Date;
  createdBy: { id: string; name: string; email: string } | null;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  revokedAt: Date | null;
  revokedReason: RevokedReason | null;
  status: ApiKeyStatus;
  version: number;
};

type ViewRow = Omit<ApiKeyView, 'status' | 'scopes'> & { scopes: string[] };

const VIEW = `SELECT k.id, k.name, k.prefix, k.scopes, k.project_ids AS "projectIds", k.allowed_ips AS "allowedIps", k.expires_at AS "expiresAt",
                     k.created_at AS "createdAt", k.last_used_at AS "lastUsedAt", k.last_used_ip AS "lastUsedIp", k.revoked_at AS "revokedAt",
                     k.revoked_reason AS "revokedReason", k.version,
                     CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'name', u.name, 'email', u.email) END AS "createdBy"
                FROM api_keys k LEFT JOIN users u ON u.id = k.created_by`;

// Whether a key can still be used, in SQL; $1 is now.
const LIVE = 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)';

function statusOf(key: { revokedAt: Date | null; expiresAt: Date | null }, now: Date): ApiKeyStatus {
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt && key.expiresAt <= now) return 'expired';
  return 'active';
}

const toView = (row: ViewRow, now: Date): ApiKeyView => ({ ...row, scopes: row.scopes.filter(isPermission), status: statusOf(row, now) });

export type ApiKeyQuery = { status?: ApiKeyStatus; cursor?: string; limit: number };

/** The organization's keys, newest first, a page at a time. */
export async function listApiKeys(pool: pg.Pool, orgId: string, query: ApiKeyQuery, now: Date): Promise<{ items: ApiKeyView[]; nextCursor: string | null }> {
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
  const { rows } = await withTenant(pool, orgId, (tx) =>
    tx.query<ViewRow>(
      `${VIEW}
        WHERE ($2::text IS NULL OR CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked' WHEN k.expires_at <= $1 THEN 'expired' ELSE 'active' END = $2)
          AND ($3::timestamptz IS NULL OR (k.created_at, k.id) < ($3, $4::uuid))
        ORDER BY k.created_at DESC, k.id DESC LIMIT $5`,
      [now, query.status ?? null, after?.createdAt ?? null, after?.id ?? null, query.limit + 1],
    ),
  );
  const page = pageOf(rows, query.limit, (row) => row);
  return { items: page.items.map((row) => toView(row, now)), nextCursor: page.nextCursor };
}

/** Who a new key acts for, and how the audit log names who created it (the user, or the command line). */
export type KeyCreator = { userId: string; actor: Actor };

export type NewApiKey = { name: string; scopes: string[]; projectIds: string[] | null; allowedIps: string[]; expiresAt: Date | null };

/** The scopes asked for, if the creator may hand every one of them out. */
function checkScopes(scopes: string[], role: Role): Permission[] {
  if (scopes.length === 0) throw new AppError('validation_failed', `scopes: give at least one of ${API_SCOPES.join(', ')}.`);
  const unique = [...new Set(scopes)];
  const unknown = unique.filter((s) => !isPermission(s));
  if (unknown.length > 0) throw new AppError('validation_failed', `scopes: ${unknown.join(', ')} ${unknown.length === 1 ? 'is not a scope' : 'are not scopes'}; the scopes are ${API_SCOPES.join(', ')}.`);
  const permissions = unique as Permission[];
  const sessionOnly = permissions.filter((p) => !isApiScope(p));
  if (sessionOnly.length > 0) throw new AppError('validation_failed', `scopes: ${sessionOnly.join(', ')} cannot be given to API keys (the dashboard only).`);
  const beyond = permissions.filter((p) => !hasPermission(role, p));
  if (beyond.length > 0) throw new AppError('forbidden', `A key cannot do more than its creator: the ${role} role does not have ${beyond.join(', ')}.`);
  // Stored in the table's order, so two keys with the same scopes read the same.
  return API_SCOPES.filter((s) => permissions.includes(s));
}

/** Addresses as written by people, stored in one canonical form (`203.0.113.7`, `2001:db8::/32`). */
function checkAllowedIps(entries: string[]): string[] {
  if (entries.length > MAX_ALLOWED_IPS) throw new AppError('validation_failed', `allowedIps: at most ${MAX_ALLOWED_IPS} addresses or ranges.`);
  const ranges = entries.map((entry) => {
    const range = parseIpRange(entry);
    if (!range) throw new AppError('validation_failed', `allowedIps: "${entry.slice(0, 64)}" is not an IP address or CIDR range (such as 203.0.113.7 or 2001:db8::/32).`);
    return range.bits === (range.family === 'ipv4' ? 32 : 128) ? range.address : `${range.address}/${range.bits}`;
  });
  return [...new Set(ranges)];
}

function checkExpiry(expiresAt: Date | null, now: Date): Date | null {
  if (expiresAt === null) return null;
  if (Number.isNaN(expiresAt.getTime())) throw new AppError('validation_failed', 'expiresAt is not a date.');
  if (expiresAt <= now) throw new AppError('validation_failed', 'expiresAt must be in the future.');
  if (expiresAt.getTime() - now.getTime() > MAX_EXPIRY_MS) throw new AppError('validation_failed', 'expiresAt may be at most one year (366 days) ahead; create a new key before then, or pass null for a key that never expires.');
  return expiresAt;
}

/**
 * The projects a key is limited to: projects of this organization (`tx` is
 * scoped to it) that the creator may see. Others read as unknown, so a
 * limited creator learns nothing about projects beyond their reach.
 */
async function checkKeyProjects(tx: Tx, projectIds: string[] | null, creatorScope: ProjectScope): Promise<string[] | null> {
  if (projectIds === null) return null;
  const unique = [...new Set(projectIds.map((id) => id.toLowerCase()))];
  if (unique.length === 0) throw new AppError('validation_failed', 'projectIds: give at least one project, or null for every project.');
  if (unique.length > MAX_KEY_PROJECTS) throw new AppError('validation_failed', `projectIds: at most ${MAX_KEY_PROJECTS} projects.`);
  // Ids that are not even UUIDs (from the command line) are simply not found.
  const wellFormed = unique.filter((id) => UUID.test(id));
  const { rows } = await tx.query<{ id: string }>(`SELECT id FROM projects WHERE id = ANY($1::uuid[]) AND ${inProjectScope('id', 2)}`, [wellFormed, creatorScope]);
  const found = new Set(rows.map((r) => r.id));
  const unknown = unique.filter((id) => !found.has(id));
  if (unknown.length > 0) throw new AppError('validation_failed', `projectIds: ${unknown.join(', ')} ${unknown.length === 1 ? 'is not a project' : 'are not projects'} of this organization that you can see.`);
  return unique.sort();
}

/** Creates a key for `creator`; the answer is the only time the token exists outside the caller. */
export async function createApiKey(pool: pg.Pool, keyring: Keyring, orgId: string, creator: KeyCreator, input: NewApiKey, now: Date): Promise<{ key: ApiKeyView; token: string }> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) throw new AppError('validation_failed', 'name: 1 to 100 characters.');
  const allowedIps = checkAllowedIps(input.allowedIps);
  const expiresAt = checkExpiry(input.expiresAt, now);
  const { token, prefix } = newApiKey();
  const id = randomUUID();
  return withTenant(pool, orgId, async (tx) => {
    // The creator's standing, held until the key is stored: a demotion
    // committed meanwhile is read here, and one that comes later waits and
    // then narrows this key too.
    const standing = await tx.query<{ role: Role; project_ids: ProjectScope }>('SELECT role, project_ids FROM memberships WHERE org_id = $1 AND user_id = $2 FOR SHARE', [orgId, creator.userId]);
    if (!standing.rows[0]) throw new AppError('forbidden', 'An API key acts for a member of its organization; its creator is not one.');
    const { role, project_ids: reach } = standing.rows[0];
    const scopes = checkScopes(input.scopes, role);
    const projectIds = await checkKeyProjects(tx, input.projectIds, reach);
    // One creation at a time per organization, so two cannot both pass the count.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`parley:api-keys:${orgId}`]);
    const live = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM api_keys WHERE org_id = $2 AND ${LIVE}`, [now, orgId]);
    if (live.rows[0]!.n >= MAX_LIVE_KEYS) {
      throw new AppError('conflict', `This organization already has ${MAX_LIVE_KEYS} active API keys, the most it may have. Revoke the ones no longer in use first.`);
    }
    await tx.query(
      `INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, scopes, project_ids, allowed_ips, expires_at, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [id, orgId, name, prefix, apiKeyHash(keyring, token), scopes, projectIds, allowedIps, expiresAt, creator.userId, now],
    );
    await recordAuditEvent(tx, orgId, creator.actor, {
      action: 'api_key.created',
      target: { type: 'api_key', id },
      data: { name, prefix, scopes, projectIds, allowedIps, expiresAt: expiresAt?.toISOString() ?? null, createdBy: creator.userId },
    }, now);
    const { rows } = await tx.query<ViewRow>(`${VIEW} WHERE k.id = $1`, [id]);
    return { key: toView(rows[0]!, now), token };
  });
}

async function revokeKey(tx: Tx, orgId: string, keyId: string, reason: RevokedReason, actor: Actor, now: Date): Promise<void> {
  await tx.query('UPDATE api_keys SET revoked_at = $2, revoked_reason = $3, version = version + 1 WHERE id = $1', [keyId, now, reason]);
  await recordAuditEvent(tx, orgId, actor, { action: 'api_key.revoked', target: { type: 'api_key', id: keyId }, data: { reason } }, now);
}

/** Revokes a key at once: its next request is refused. Revoking a revoked key changes nothing. */
export async function revokeApiKey(pool: pg.Pool, orgId: string, keyId: string, actor: Actor, now: Date): Promise<void> {
  if (!UUID.test(keyId)) throw new AppError('not_found', 'No such API key in this organization.');
  await withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query<{ revoked_at: Date | null }>('SELECT revoked_at FROM api_keys WHERE id = $1 FOR UPDATE', [keyId]);
    if (!rows[0]) throw new AppError('not_found', 'No such API key in this organization.');
    if (!rows[0].revoked_at) await revokeKey(tx, orgId, keyId, 'revoked', actor, now);
  });
}

/** A creator's standing after a change: their role and project limits, or null once they left. */
export type CreatorStanding = { role: Role; projectIds: ProjectScope } | null;

/**
 * Keeps the keys `userId` created within what they may now do, in the
 * caller's transaction (scoped to `orgId`): scopes their role lost are
 * dropped and explicit project lists shrink to their new limits (a key
 * without a list already follows its creator's limits); a key left with no
 * scope or no project is revoked (`creator_demoted`), and every key is
 * revoked when the creator leaves (`creator_removed`). A key never regains
 * what it lost when its creator is promoted again.
 */
export async function narrowCreatorKeys(tx: Tx, orgId: string, userId: string, standing: CreatorStanding, actor: Actor, now: Date): Promise<void> {
  const { rows } = await tx.query<{ id: string; scopes: string[]; project_ids: string[] | null }>(
    'SELECT id, scopes, project_ids FROM api_keys WHERE org_id = $1 AND created_by = $2 AND revoked_at IS NULL ORDER BY created_at, id FOR UPDATE',
    [orgId, userId],
  );
  for (const key of rows) {
    if (!standing) {
      await revokeKey(tx, orgId, key.id, 'creator_removed', actor, now);
      continue;
    }
    const scopes = key.scopes.filter((s) => isPermission(s) && hasPermission(standing.role, s));
    const projectIds = key.project_ids === null ? null : narrowScope(key.project_ids, standing.projectIds);
    if (scopes.length === 0 || projectIds?.length === 0) {
      await revokeKey(tx, orgId, key.id, 'creator_demoted', actor, now);
      continue;
    }
    if (scopes.length === key.scopes.length && projectIds?.length === key.project_ids?.length) continue;
    await tx.query('UPDATE api_keys SET scopes = $2, project_ids = $3, version = version + 1 WHERE id = $1', [key.id, scopes, projectIds]);
    await recordAuditEvent(tx, orgId, actor, {
      action: 'api_key.narrowed',
      target: { type: 'api_key', id: key.id },
      data: { from: { scopes: key.scopes, projectIds: key.project_ids }, to: { scopes, projectIds }, creator: userId },
    }, now);
  }
}
