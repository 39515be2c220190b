import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { withTenant } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { normalizeDomains } from './domains.js';

export type Project = { id: string; name: string; key: string; domains: string[]; createdAt: Date; updatedAt: Date };

type ProjectRow = { id: string; name: string; public_key: string; allowed_domains: string[]; created_at: Date; updated_at: Date };

const COLUMNS = 'id, name, public_key, allowed_domains, created_at, updated_at';

const toProject = (row: ProjectRow): Project => ({
  id: row.id, name: row.name, key: row.public_key, domains: row.allowed_domains, createdAt: row.created_at, updatedAt: row.updated_at,
});

/** Public (not secret) widget key: names the project in the snippet. 128 random bits so keys cannot be guessed. */
function newProjectKey(): string {
  return `pk_${randomBytes(16).toString('base64url')}`;
}

export function widgetSnippet(publicUrl: URL, key: string): string {
  return `<script src="${new URL('/widget/v1/loader.js', publicUrl).href}" data-project="${key}" async></script>`;
}

export type NewProject = { name: string; domains: string[] };

export async function createProject(pool: pg.Pool, orgId: string, input: NewProject, actor: Actor, now: Date): Promise<Project> {
  const domains = normalizeDomains(input.domains);
  return withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query<ProjectRow>(
      `INSERT INTO projects (id, org_id, name, public_key, allowed_domains, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ${COLUMNS}`,
      [randomUUID(), orgId, input.name.trim(), newProjectKey(), domains, now],
    );
    const project = toProject(rows[0]!);
    await recordAuditEvent(tx, orgId, actor, { action: 'project.created', target: { type: 'project', id: project.id }, data: { name: project.name, domains } }, now);
    return project;
  });
}

export async function listProjects(pool: pg.Pool, orgId: string): Promise<Project[]> {
  return withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE org_id = $1 ORDER BY created_at, id`, [orgId]);
    return rows.map(toProject);
  });
}

export async function getProject(pool: pg.Pool, orgId: string, projectId: string): Promise<Project> {
  return withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE id = $1`, [projectId]);
    if (!rows[0]) throw new AppError('not_found', 'No such project.');
    return toProject(rows[0]);
  });
}

export type ProjectChanges = { name?: string; domains?: string[] };

export async function updateProject(pool: pg.Pool, orgId: string, projectId: string, changes: ProjectChanges, actor: Actor, now: Date): Promise<Project> {
  const domains = changes.domains && normalizeDomains(changes.domains);
  return withTenant(pool, orgId, async (tx) => {
    const before = await tx.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE id = $1 FOR UPDATE`, [projectId]);
    if (!before.rows[0]) throw new AppError('not_found', 'No such project.');
    const old = toProject(before.rows[0]);
    const { rows } = await tx.query<ProjectRow>(
      `UPDATE projects SET name = $2, allowed_domains = $3, updated_at = $4 WHERE id = $1 RETURNING ${COLUMNS}`,
      [projectId, changes.name?.trim() ?? old.name, domains ?? old.domains, now],
    );
    const project = toProject(rows[0]!);
    const data: Record<string, unknown> = {};
    if (project.name !== old.name) data.name = { from: old.name, to: project.name };
    if (domains) {
      const added = project.domains.filter((d) => !old.domains.includes(d));
      const removed = old.domains.filter((d) => !project.domains.includes(d));
      if (added.length || removed.length) data.domains = { added, removed };
    }
    if (Object.keys(data).length > 0) {
      await recordAuditEvent(tx, orgId, actor, { action: 'project.updated', target: { type: 'project', id: projectId }, data }, now);
    }
    return project;
  });
}
