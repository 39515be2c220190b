import type pg from 'pg';
import { withTenant, type Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { listMemberships } from '../orgs/service.js';

// Each member chooses, per project they can see, how they hear of new
// feedback: a mail for each (instant), one summary a day (daily), or
// nothing (none, the default, stored as no row).

export const NOTIFICATION_MODES = ['instant', 'daily', 'none'] as const;
export type NotificationMode = (typeof NOTIFICATION_MODES)[number];

export type NotificationSetting = { orgId: string; orgName: string; projectId: string; projectName: string; mode: NotificationMode };

/**
 * The SQL condition "the member `m` may see project `project`": a limited
 * member sees only the projects named in the membership. Notifications
 * follow it at send time too, so narrowing a member's projects silences them
 * at once even though their stored choice stays.
 */
export const memberSeesProject = (project: string) => `(m.project_ids IS NULL OR ${project} = ANY(m.project_ids))`;

/** Every project the user can see, in every organization they belong to, with their choice for it. */
export async function listNotificationSettings(pool: pg.Pool, userId: string): Promise<NotificationSetting[]> {
  const settings: NotificationSetting[] = [];
  for (const org of await listMemberships(pool, userId)) {
    const { rows } = await withTenant(pool, org.id, (tx) =>
      tx.query<{ id: string; name: string; mode: NotificationMode }>(
        `SELECT p.id, p.name, coalesce(s.mode, 'none') AS mode
           FROM projects p
           JOIN memberships m ON m.org_id = p.org_id AND m.user_id = $2
           LEFT JOIN notification_settings s ON s.project_id = p.id AND s.user_id = $2
          WHERE p.org_id = $1 AND ${memberSeesProject('p.id')}
          ORDER BY p.created_at, p.id`,
        [org.id, userId],
      ),
    );
    settings.push(...rows.map((row) => ({ orgId: org.id, orgName: org.name, projectId: row.id, projectName: row.name, mode: row.mode })));
  }
  return settings;
}

/**
 * The organization and project as `userId` may see them, locked against a
 * concurrent removal until the transaction ends; 404 otherwise, alike for a
 * project that does not exist, belongs to another organization or lies
 * outside the member's projects.
 */
async function visibleProject(tx: Tx, orgId: string, userId: string, projectId: string): Promise<{ orgName: string; projectName: string }> {
  const { rows: members } = await tx.query<{ org_name: string }>(
    `SELECT o.name AS org_name FROM memberships m JOIN organizations o ON o.id = m.org_id
      WHERE m.org_id = $1 AND m.user_id = $2 FOR SHARE OF m`,
    [orgId, userId],
  );
  const member = members[0];
  if (!member) throw new AppError('not_found', 'No such organization.');
  const { rows: projects } = await tx.query<{ name: string }>(
    `SELECT p.name FROM projects p JOIN memberships m ON m.org_id = p.org_id AND m.user_id = $3
      WHERE p.org_id = $1 AND p.id = $2 AND ${memberSeesProject('p.id')} FOR SHARE OF p`,
    [orgId, projectId, userId],
  );
  if (!projects[0]) throw new AppError('project_not_found', 'No such project in this organization, or you cannot see it.');
  return { orgName: member.org_name, projectName: projects[0].name };
}

/** Sets the user's choice for one project (`none` forgets it). */
export async function setNotificationSetting(pool: pg.Pool, userId: string, input: { orgId: string; projectId: string; mode: NotificationMode }): Promise<NotificationSetting> {
  const { orgId, projectId, mode } = input;
  return withTenant(pool, orgId, async (tx) => {
    const names = await visibleProject(tx, orgId, userId, projectId);
    if (mode === 'none') {
      await tx.query('DELETE FROM notification_settings WHERE project_id = $1 AND user_id = $2', [projectId, userId]);
    } else {
      await tx.query(
        `INSERT INTO notification_settings (org_id, user_id, project_id, mode) VALUES ($1, $2, $3, $4)
         ON CONFLICT (project_id, user_id) DO UPDATE SET mode = excluded.mode`,
        [orgId, userId, projectId, mode],
      );
    }
    return { orgId, projectId, mode, ...names };
  });
}
