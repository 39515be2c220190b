import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { withTenant } from '../db/tenant.js';
import { AppError } from '../errors.js';
import type { Keyring } from '../keys/service.js';
import { normalizeDomains } from './domains.js';
import { DEFAULT_WIDGET_SETTINGS, type WidgetSettings } from './widget-settings.js';

export type Project = {
  id: string;
  name: string;
  key: string;
  domains: string[];
  settings: WidgetSettings;
  hasIdentitySecret: boolean;
  createdAt: Date;
  updatedAt: Date;
};

type ProjectRow = {
  id: string; name: string; public_key: string; allowed_domains: string[]; widget_settings: Partial<WidgetSettings>;
  has_identity_secret: boolean; created_at: Date; updated_at: Date;
};

const COLUMNS = 'id, name, public_key, allowed_domains, widget_settings, identity_secret_enc IS NOT NULL AS has_identity_secret, created_at, updated_at';

/**
 * Stored settings over the defaults, one level deep: a setting added in a
 * later version gets its default on projects saved before it existed.
 */
const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

export function withDefaults(stored: Partial<WidgetSettings>): WidgetSettings {
  const merged: Record<string, unknown> = { ...DEFAULT_WIDGET_SETTINGS };
  for (const [key, value] of Object.entries(stored)) {
    const fallback = (DEFAULT_WIDGET_SETTINGS as Record<string, unknown>)[key];
    merged[key] = isObject(fallback) && isObject(value) && key !== 'texts' ? { ...(fallback as object), ...(value as object) } : value;
  }
  return merged as WidgetSettings;
}

const toProject = (row: ProjectRow): Project => ({
  id: row.id, name: row.name, key: row.public_key, domains: row.allowed_domains, settings: withDefaults(row.widget_settings),
  hasIdentitySecret: row.has_identity_secret, createdAt: row.created_at, updatedAt: row.updated_at,
});

/** Public (not secret) widget key: names the project in the snippet. 128 random bits so keys cannot be guessed. */
function newProjectKey(): string {
  return `pk_${randomBytes(16).toString('base64url')}`;
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

/** The projects a membership may see: null for all of them (owners and admins always), else these ids. */
export type ProjectScope = string[] | null;

/**
 * The one SQL condition for project limits: `column` (a project id) lies in
 * the scope bound as parameter `$param`. Rows outside it are simply not
 * found, so a limited member cannot tell them from missing ones.
 */
export function inProjectScope(column: string, param: number): string {
  return `($${param}::uuid[] IS NULL OR ${column} = ANY($${param}::uuid[]))`;
}

export async function listProjects(pool: pg.Pool, orgId: string, scope: ProjectScope): Promise<Project[]> {
  return withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE org_id = $1 AND ${inProjectScope('id', 2)} ORDER BY created_at, id`, [orgId, scope]);
    return rows.map(toProject);
  });
}

export async function getProject(pool: pg.Pool, orgId: string, projectId: string, scope: ProjectScope): Promise<Project> {
  return withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE id = $1 AND ${inProjectScope('id', 2)}`, [projectId, scope]);
    if (!rows[0]) throw new AppError('project_not_found', 'No such project.');
    return toProject(rows[0]);
  });
}

export type ProjectChanges = { name?: string; domains?: string[]; settings?: WidgetSettings };

export async function updateProject(pool: pg.Pool, orgId: string, projectId: string, changes: ProjectChanges, actor: Actor, now: Date): Promise<Project> {
  const domains = changes.domains && normalizeDomains(changes.domains);
  return withTenant(pool, orgId, async (tx) => {
    const before = await tx.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE id = $1 FOR UPDATE`, [projectId]);
    if (!before.rows[0]) throw new AppError('project_not_found', 'No such project.');
    const old = toProject(before.rows[0]);
    const { rows } = await tx.query<ProjectRow>(
      `UPDATE projects SET name = $2, allowed_domains = $3, widget_settings = $4, updated_at = $5 WHERE id = $1 RETURNING ${COLUMNS}`,
      [projectId, changes.name?.trim() ?? old.name, domains ?? old.domains, JSON.stringify(changes.settings ?? old.settings), now],
    );
    const project = toProject(rows[0]!);
    const data: Record<string, unknown> = {};
    if (project.name !== old.name) data.name = { from: old.name, to: project.name };
    if (domains) {
      const added = project.domains.filter((d) => !old.domains.includes(d));
      const removed = old.domains.filter((d) => !project.domains.includes(d));
      if (added.length || removed.length) data.domains = { added, removed };
    }
    if (changes.settings) {
      const changed = Object.keys(changes.settings).filter((key) => JSON.stringify(changes.settings![key as keyof WidgetSettings]) !== JSON.stringify(old.settings[key as keyof WidgetSettings]));
      if (changed.length) data.settings = changed;
    }
    if (Object.keys(data).length > 0) {
      await recordAuditEvent(tx, orgId, actor, { action: 'project.updated', target: { type: 'project', id: projectId }, data }, now);
    }
    return project;
  });
}

/** Creates or replaces the secret a site's backend signs visitor identities with; shown once, stored sealed. */
export async function replaceIdentitySecret(pool: pg.Pool, keyring: Keyring, orgId: string, projectId: string, actor: Actor, now: Date): Promise<string> {
  const secret = `pis_${randomBytes(32).toString('base64url')}`;
  return withTenant(pool, orgId, async (tx) => {
    const sealed = await keyring.seal(tx, secret, identitySecretField(orgId, projectId));
    const { rowCount } = await tx.query('UPDATE projects SET identity_secret_enc = $2, updated_at = $3 WHERE id = $1', [projectId, sealed, now]);
    if (rowCount === 0) throw new AppError('project_not_found', 'No such project.');
    await recordAuditEvent(tx, orgId, actor, { action: 'project.identity_secret_replaced', target: { type: 'project', id: projectId } }, now);
    return secret;
  });
}

export const identitySecretField = (orgId: string, projectId: string) => ({ orgId, table: 'projects', column: 'identity_secret', rowId: projectId });
