import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import type { Tx } from '../db/tenant.js';
import { withTenant, withUser } from '../db/tenant.js';
import { AppError } from '../errors.js';
import type { Keyring } from '../keys/service.js';

export const ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export type Organization = { id: string; name: string };
export type Membership = Organization & { role: Role; requireMfa: boolean };

/** Creates an organization with its data key. `tx` must be scoped to `orgId` (withTenant). */
export async function createOrganization(tx: Tx, keyring: Keyring, orgId: string, name: string, actor: Actor, now: Date): Promise<Organization> {
  const { rowCount } = await tx.query('INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [orgId, name.trim(), now]);
  if (rowCount === 0) throw new AppError('conflict', 'An organization with this name already exists.');
  await keyring.createOrganizationKey(tx, orgId, now);
  await recordAuditEvent(tx, orgId, actor, { action: 'organization.created', target: { type: 'organization', id: orgId }, data: { name: name.trim() } }, now);
  return { id: orgId, name: name.trim() };
}

export async function addMember(tx: Tx, orgId: string, userId: string, role: Role, actor: Actor, now: Date): Promise<void> {
  await tx.query('INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)', [orgId, userId, role, now]);
  await recordAuditEvent(tx, orgId, actor, { action: 'member.added', target: { type: 'user', id: userId }, data: { role } }, now);
}

export function newOrganizationId(): string {
  return randomUUID();
}

/** Looks an organization up by name across tenants (CLI only). */
export async function findOrganizationIdByName(pool: pg.Pool, name: string): Promise<string | null> {
  const { rows } = await pool.query<{ id: string | null }>('SELECT organization_id_by_name($1) AS id', [name.trim()]);
  return rows[0]?.id ?? null;
}

/** One organization as the API shows it. */
export async function getOrganization(pool: pg.Pool, orgId: string): Promise<Organization & { createdAt: Date }> {
  const { rows } = await withTenant(pool, orgId, (tx) => tx.query<Organization & { createdAt: Date }>('SELECT id, name, created_at AS "createdAt" FROM organizations WHERE id = $1', [orgId]));
  if (!rows[0]) throw new AppError('not_found');
  return rows[0];
}

export async function listMemberships(pool: pg.Pool, userId: string): Promise<Membership[]> {
  return withUser(pool, userId, async (tx) => {
    const { rows } = await tx.query<Membership>(
      'SELECT o.id, o.name, m.role, o.require_mfa AS "requireMfa" FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = $1 ORDER BY o.created_at, o.id',
      [userId],
    );
    return rows;
  });
}

/** The user's role and project limits in the organization, or null when not a member. */
export async function findMembership(pool: pg.Pool, userId: string, orgId: string): Promise<{ role: Role; projectIds: string[] | null } | null> {
  const { rows } = await withUser(pool, userId, (tx) =>
    tx.query<{ role: Role; project_ids: string[] | null }>('SELECT role, project_ids FROM memberships WHERE user_id = $1 AND org_id = $2', [userId, orgId]),
  );
  return rows[0] ? { role: rows[0].role, projectIds: rows[0].project_ids } : null;
}
