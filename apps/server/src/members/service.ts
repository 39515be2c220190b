import type pg from 'pg';
import { narrowCreatorKeys } from '../apikeys/service.js';
import { unassignBeyond } from '../feedback/service.js';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { hasPermission, outranks } from '../auth/permissions.js';
import { endUserSessions } from '../auth/sessions.js';
import { withTenant, type Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { emitEvent } from '../events/service.js';
import { ROLES, type Role } from '../orgs/service.js';
import type { ProjectScope } from '../projects/service.js';

export type MemberView = { userId: string; email: string; name: string; role: Role; projectIds: ProjectScope; mfa: boolean; joinedAt: Date };

/** Who is acting: their user id and role in the organization, and the actor for the audit log. */
export type Manager = { userId: string; role: Role; actor: Actor };

const MEMBERS = `SELECT m.user_id AS "userId", u.email, u.name, m.role, m.project_ids AS "projectIds", m.created_at AS "joinedAt",
                        (EXISTS (SELECT 1 FROM totp_credentials t WHERE t.user_id = m.user_id AND t.confirmed_at IS NOT NULL)
                         OR EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.user_id = m.user_id)) AS mfa
                   FROM memberships m JOIN users u ON u.id = m.user_id`;

export async function listMembers(pool: pg.Pool, orgId: string): Promise<MemberView[]> {
  return withTenant(pool, orgId, async (tx) => (await tx.query<MemberView>(`${MEMBERS} WHERE m.org_id = $1 ORDER BY m.created_at, u.email`, [orgId])).rows);
}

/** Owners and admins see every project: a project limit on them would be a false sense of safety. */
const isUnlimitedRole = (role: Role) => role === 'owner' || role === 'admin';

/**
 * The project limits of a membership about to be stored: only for members
 * and viewers, only projects of this organization (`tx` is scoped to it, so
 * another tenant's project is simply not found). Duplicates are dropped.
 */
export async function checkProjectLimits(tx: Tx, role: Role, projectIds: ProjectScope): Promise<ProjectScope> {
  if (projectIds === null) return null;
  if (isUnlimitedRole(role)) throw new AppError('validation_failed', 'Owners and admins always see every project: projectIds must be null for them.');
  const unique = [...new Set(projectIds)];
  const { rows } = await tx.query<{ id: string }>('SELECT id FROM projects WHERE id = ANY($1::uuid[])', [unique]);
  const found = new Set(rows.map((r) => r.id));
  const unknown = unique.filter((id) => !found.has(id));
  if (unknown.length > 0) throw new AppError('validation_failed', `projectIds: ${unknown.join(', ')} ${unknown.length === 1 ? 'is not a project' : 'are not projects'} of this organization.`);
  return unique.sort();
}

/** Only an owner may make, change or remove an owner; nobody grants a role above their own. */
export function assertMayGrant(granter: Role, role: Role): void {
  if (role === 'owner' && granter !== 'owner') throw new AppError('forbidden', 'Only an owner can make someone an owner.');
  if (!outranks(granter, role)) throw new AppError('forbidden', 'You cannot grant a role above your own.');
}

type Target = { role: Role; projectIds: ProjectScope };

/**
 * Locks the organization's owner rows and the target's row, in one order
 * (owners first), so two concurrent demotions or removals of the last two
 * owners cannot both see "another owner is left".
 */
async function lockTarget(tx: Tx, orgId: string, userId: string): Promise<{ target: Target; owners: number }> {
  const owners = await tx.query("SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner' ORDER BY user_id FOR UPDATE", [orgId]);
  const { rows } = await tx.query<{ role: Role; project_ids: ProjectScope }>('SELECT role, project_ids FROM memberships WHERE org_id = $1 AND user_id = $2 FOR UPDATE', [orgId, userId]);
  if (!rows[0]) throw new AppError('not_found', 'No such member.');
  return { target: { role: rows[0].role, projectIds: rows[0].project_ids }, owners: owners.rowCount ?? 0 };
}

function assertNotLastOwner(target: Target, owners: number): void {
  if (target.role === 'owner' && owners <= 1) {
    throw new AppError('last_owner', 'This is the only owner. Make someone else an owner first.');
  }
}

/**
 * Revokes the pending invites the user sent that they could not send with
 * `role` (null: no longer a member), so a demoted or removed admin leaves no
 * live links behind.
 */
async function revokeInvitesBeyond(tx: Tx, orgId: string, userId: string, role: Role | null, now: Date): Promise<void> {
  const sendable = role && hasPermission(role, 'members_write') ? ROLES.filter((r) => outranks(role, r)) : [];
  await tx.query(
    'UPDATE invites SET revoked_at = $3 WHERE org_id = $1 AND invited_by = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND NOT (role = ANY($4::text[]))',
    [orgId, userId, now, sendable],
  );
}

export type MemberChanges = { role?: Role; projectIds?: ProjectScope };

/**
 * Changes a member's role or project limits. A role change flags all the
 * user's sessions for a new id (their next request gets one; the old cookie
 * stops working), and the API keys the user created are narrowed to what
 * they may now do, in the same transaction: no request with one of them can
 * see the old rights once the change is committed. Feedback assigned to them
 * in projects they can no longer see is unassigned.
 */
export async function changeMember(pool: pg.Pool, orgId: string, manager: Manager, userId: string, changes: MemberChanges, now: Date): Promise<MemberView> {
  return withTenant(pool, orgId, async (tx) => {
    const { target, owners } = await lockTarget(tx, orgId, userId);
    const role = changes.role ?? target.role;
    if (target.role === 'owner' && manager.role !== 'owner') throw new AppError('forbidden', 'Only an owner can change an owner.');
    if (role !== target.role) {
      assertMayGrant(manager.role, role);
      assertNotLastOwner(target, owners);
    }
    // Promoted to owner or admin without new limits: the old limits lapse.
    const requested = changes.projectIds !== undefined ? changes.projectIds : isUnlimitedRole(role) ? null : target.projectIds;
    const projectIds = await checkProjectLimits(tx, role, requested);
    await tx.query('UPDATE memberships SET role = $3, project_ids = $4 WHERE org_id = $1 AND user_id = $2', [orgId, userId, role, projectIds]);
    const subject = { type: 'user', id: userId };
    if (role !== target.role) {
      await tx.query('UPDATE sessions SET rotate = true WHERE user_id = $1', [userId]);
      await revokeInvitesBeyond(tx, orgId, userId, role, now);
      await recordAuditEvent(tx, orgId, manager.actor, { action: 'member.role_changed', target: subject, data: { from: target.role, to: role } }, now);
    }
    const projectsChanged = JSON.stringify(projectIds) !== JSON.stringify(target.projectIds);
    if (projectsChanged) {
      await recordAuditEvent(tx, orgId, manager.actor, { action: 'member.projects_changed', target: subject, data: { from: target.projectIds, to: projectIds } }, now);
    }
    if (role !== target.role || projectsChanged) {
      await narrowCreatorKeys(tx, orgId, userId, { role, projectIds }, manager.actor, now);
      await unassignBeyond(tx, orgId, userId, projectIds, manager.actor, now);
      await emitEvent(tx, orgId, { type: 'member.updated', projectId: null, subjectId: userId, data: { userId, role, projectIds } }, now);
    }
    const { rows } = await tx.query<MemberView>(`${MEMBERS} WHERE m.org_id = $1 AND m.user_id = $2`, [orgId, userId]);
    return rows[0]!;
  });
}

/**
 * Removes a member (or lets one leave): every session of the user ends at
 * once, in every organization, but the session the user leaves with, every
 * API key they created in this organization is revoked, and their feedback
 * is unassigned.
 */
export async function removeMember(pool: pg.Pool, orgId: string, manager: Manager & { sessionHash: Buffer }, userId: string, now: Date): Promise<void> {
  await withTenant(pool, orgId, async (tx) => {
    const { target, owners } = await lockTarget(tx, orgId, userId);
    if (target.role === 'owner' && manager.role !== 'owner') throw new AppError('forbidden', 'Only an owner can remove an owner.');
    assertNotLastOwner(target, owners);
    await tx.query('DELETE FROM memberships WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
    await endUserSessions(tx, userId, manager.sessionHash);
    await revokeInvitesBeyond(tx, orgId, userId, null, now);
    await narrowCreatorKeys(tx, orgId, userId, null, manager.actor, now);
    await unassignBeyond(tx, orgId, userId, [], manager.actor, now);
    await emitEvent(tx, orgId, { type: 'member.removed', projectId: null, subjectId: userId, data: { userId, role: target.role, projectIds: target.projectIds } }, now);
    await recordAuditEvent(tx, orgId, manager.actor, { action: 'member.removed', target: { type: 'user', id: userId }, data: { role: target.role, left: userId === manager.userId } }, now);
  });
}
