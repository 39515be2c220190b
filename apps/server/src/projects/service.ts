import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { withTenant } from '../db/tenant.js';
import { AppError } from '../errors.js';
import type { Keyring } from '../keys/service.js';
import { normalizeDomains } from './domains.js';
import { HOUR_MS, startOfHour } from '../security/refusals.js';
import { normalizeProtection, protectionWithDefaults, type ProtectionSettings } from './protection.js';
import { DEFAULT_WIDGET_SETTINGS, type WidgetSettings } from './widget-settings.js';

export type Project = {
  id: string;
  name: string;
  key: string;
  domains: string[];
  settings: WidgetSettings;
  hasIdentitySecret: boolean;
  protection: ProtectionSettings;
  createdAt: Date;
  updatedAt: Date;
};

type ProjectRow = {
  id: string; name: string; public_key: string; allowed_domains: string[]; widget_settings: Partial<WidgetSettings>;
  has_identity_secret: boolean; protection: Partial<ProtectionSettings>; created_at: Date; updated_at: Date;
};

const COLUMNS = 'id, name, public_key, allowed_domains, widget_settings, identity_secret_enc IS NOT NULL AS has_identity_secret, protection, created_at, updated_at';

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
  hasIdentitySecret: row.has_identity_secret, protection: protectionWithDefaults(row.protection), createdAt: row.created_at, updatedAt: row.updated_at,
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

export type ProjectProtection = { settings: ProtectionSettings; hasCaptchaSecret: boolean; domains: string[] };

const protectionOf = (row: { protection: Partial<ProtectionSettings>; has_captcha_secret: boolean; allowed_domains: string[] }): ProjectProtection => ({
  settings: protectionWithDefaults(row.protection),
  hasCaptchaSecret: row.has_captcha_secret,
  domains: row.allowed_domains,
});

const PROTECTION_COLUMNS = 'protection, captcha_secret_enc IS NOT NULL AS has_captcha_secret, allowed_domains';

export async function getProtection(pool: pg.Pool, orgId: string, projectId: string, scope: ProjectScope): Promise<ProjectProtection> {
  return withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query(`SELECT ${PROTECTION_COLUMNS} FROM projects WHERE id = $1 AND ${inProjectScope('id', 2)}`, [projectId, scope]);
    if (!rows[0]) throw new AppError('project_not_found', 'No such project.');
    return protectionOf(rows[0]);
  });
}

/** Replaces the protection settings; the audit event names the groups that changed. */
export async function updateProtection(pool: pg.Pool, orgId: string, projectId: string, input: ProtectionSettings, actor: Actor, now: Date): Promise<{ key: string; protection: ProjectProtection }> {
  const settings = normalizeProtection(input);
  return withTenant(pool, orgId, async (tx) => {
    const before = await tx.query<{ protection: Partial<ProtectionSettings> }>('SELECT protection FROM projects WHERE id = $1 FOR UPDATE', [projectId]);
    if (!before.rows[0]) throw new AppError('project_not_found', 'No such project.');
    const old = protectionWithDefaults(before.rows[0].protection);
    const { rows } = await tx.query(`UPDATE projects SET protection = $2, updated_at = $3 WHERE id = $1 RETURNING public_key, ${PROTECTION_COLUMNS}`, [projectId, JSON.stringify(settings), now]);
    const changed = (Object.keys(settings) as (keyof ProtectionSettings)[]).filter((group) => JSON.stringify(settings[group]) !== JSON.stringify(old[group]));
    if (changed.length > 0) {
      await recordAuditEvent(tx, orgId, actor, { action: 'project.protection_updated', target: { type: 'project', id: projectId }, data: { changed, captcha: settings.captcha.provider } }, now);
    }
    return { key: rows[0].public_key, protection: protectionOf(rows[0]) };
  });
}

/** Stores the third-party captcha secret sealed; it is never shown again. */
export async function replaceCaptchaSecret(pool: pg.Pool, keyring: Keyring, orgId: string, projectId: string, secret: string, actor: Actor, now: Date): Promise<string> {
  return withTenant(pool, orgId, async (tx) => {
    const sealed = await keyring.seal(tx, secret, captchaSecretField(orgId, projectId));
    const { rows } = await tx.query<{ public_key: string }>('UPDATE projects SET captcha_secret_enc = $2, updated_at = $3 WHERE id = $1 RETURNING public_key', [projectId, sealed, now]);
    if (!rows[0]) throw new AppError('project_not_found', 'No such project.');
    await recordAuditEvent(tx, orgId, actor, { action: 'project.captcha_secret_replaced', target: { type: 'project', id: projectId } }, now);
    return rows[0].public_key;
  });
}

export const captchaSecretField = (orgId: string, projectId: string) => ({ orgId, table: 'projects', column: 'captcha_secret', rowId: projectId });

export type RefusalSummary = { since: Date; total: number; reasons: { code: string; count: number }[]; hours: { hour: Date; count: number }[] };

/** The last 24 hours of refusals: by problem code, and hour by hour (hours without refusals included, as 0). */
export async function refusalSummary(pool: pg.Pool, orgId: string, projectId: string, scope: ProjectScope, now: Date): Promise<RefusalSummary> {
  const since = new Date(startOfHour(now.getTime()) - 23 * HOUR_MS);
  return withTenant(pool, orgId, async (tx) => {
    const project = await tx.query(`SELECT 1 FROM projects WHERE id = $1 AND ${inProjectScope('id', 2)}`, [projectId, scope]);
    if (project.rowCount === 0) throw new AppError('project_not_found', 'No such project.');
    const { rows } = await tx.query<{ hour: Date; code: string; count: string }>(
      'SELECT hour, code, count FROM protection_refusals WHERE project_id = $1 AND hour >= $2',
      [projectId, since],
    );
    const byCode = new Map<string, number>();
    const byHour = new Map<number, number>();
    for (const row of rows) {
      const count = Number(row.count);
      byCode.set(row.code, (byCode.get(row.code) ?? 0) + count);
      byHour.set(row.hour.getTime(), (byHour.get(row.hour.getTime()) ?? 0) + count);
    }
    const reasons = [...byCode].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
    const hours = Array.from({ length: 24 }, (_, i) => since.getTime() + i * HOUR_MS).map((hour) => ({ hour: new Date(hour), count: byHour.get(hour) ?? 0 }));
    return { since, total: reasons.reduce((sum, r) => sum + r.count, 0), reasons, hours };
  });
}
