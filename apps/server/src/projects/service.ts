import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { withTenant, type Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { emitEvent } from '../events/service.js';
import { assertVersion } from '../http/etag.js';
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
  /** Raised by every change (settings, protection, secrets); the ETag. */
  version: number;
};

type ProjectRow = {
  id: string; name: string; public_key: string; allowed_domains: string[]; widget_settings: Partial<WidgetSettings>;
  has_identity_secret: boolean; protection: Partial<ProtectionSettings>; has_captcha_secret: boolean; created_at: Date; updated_at: Date; version: number;
};

const COLUMNS = `id, name, public_key, allowed_domains, widget_settings, identity_secret_enc IS NOT NULL AS has_identity_secret, protection,
                 captcha_secret_enc IS NOT NULL AS has_captcha_secret, created_at, updated_at, version`;

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
  version: row.version,
});

/** What integrators hear of a project (project.* events): never its secrets or protection rules. */
const eventData = (row: ProjectRow) => ({ id: row.id, name: row.name, domains: row.allowed_domains });

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
    await emitEvent(tx, orgId, { type: 'project.created', projectId: project.id, subjectId: project.id, data: eventData(rows[0]!) }, now);
    return project;
  });
}

/** The projects a membership may see: null for all of them (owners and admins always), else these ids. */
export type ProjectScope = string[] | null;

/** A project as a caller may reach it: its organization, and the projects the caller may see. */
export type ProjectTarget = { orgId: string; projectId: string; scope: ProjectScope };

const projectNotFound = () => new AppError('project_not_found', 'No such project (or you cannot see it).');

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
    if (!rows[0]) throw projectNotFound();
    return toProject(rows[0]);
  });
}

/**
 * Locks the project for a change: 404 outside the caller's projects, 412
 * when it changed since the version the caller read (If-Match).
 */
async function lockProject(tx: Tx, target: ProjectTarget, expectedVersion: number | undefined): Promise<ProjectRow> {
  const { rows } = await tx.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE id = $1 AND ${inProjectScope('id', 2)} FOR UPDATE`, [target.projectId, target.scope]);
  if (!rows[0]) throw projectNotFound();
  assertVersion(rows[0].version, expectedVersion);
  return rows[0];
}

/** Writes a change of the locked project (raising its version), and announces it as project.updated naming what changed. */
async function changeProject(tx: Tx, target: ProjectTarget, assignments: string, values: unknown[], changes: string[], now: Date): Promise<ProjectRow> {
  const { rows } = await tx.query<ProjectRow>(
    `UPDATE projects SET ${assignments}, updated_at = $2, version = version + 1 WHERE id = $1 RETURNING ${COLUMNS}`,
    [target.projectId, now, ...values],
  );
  const row = rows[0]!;
  await emitEvent(tx, target.orgId, { type: 'project.updated', projectId: row.id, subjectId: row.id, data: { ...eventData(row), changes } }, now);
  return row;
}

export type ProjectChanges = { name?: string; domains?: string[]; settings?: WidgetSettings };

export async function updateProject(pool: pg.Pool, target: ProjectTarget, changes: ProjectChanges, expectedVersion: number | undefined, actor: Actor, now: Date): Promise<Project> {
  const domains = changes.domains && normalizeDomains(changes.domains);
  return withTenant(pool, target.orgId, async (tx) => {
    const old = toProject(await lockProject(tx, target, expectedVersion));
    const name = changes.name?.trim() ?? old.name;
    const data: Record<string, unknown> = {};
    if (name !== old.name) data.name = { from: old.name, to: name };
    if (domains) {
      const added = domains.filter((d) => !old.domains.includes(d));
      const removed = old.domains.filter((d) => !domains.includes(d));
      if (added.length || removed.length) data.domains = { added, removed };
    }
    if (changes.settings) {
      const changed = Object.keys(changes.settings).filter((key) => JSON.stringify(changes.settings![key as keyof WidgetSettings]) !== JSON.stringify(old.settings[key as keyof WidgetSettings]));
      if (changed.length) data.settings = changed;
    }
    if (Object.keys(data).length === 0) return old;
    const row = await changeProject(tx, target, 'name = $3, allowed_domains = $4, widget_settings = $5', [name, domains ?? old.domains, JSON.stringify(changes.settings ?? old.settings)], Object.keys(data), now);
    await recordAuditEvent(tx, target.orgId, actor, { action: 'project.updated', target: { type: 'project', id: target.projectId }, data }, now);
    return toProject(row);
  });
}

/** Creates or replaces the secret a site's backend signs visitor identities with; shown once, stored sealed. */
export async function replaceIdentitySecret(
  pool: pg.Pool, keyring: Keyring, target: ProjectTarget, expectedVersion: number | undefined, actor: Actor, now: Date,
): Promise<{ secret: string; project: Project }> {
  const secret = `pis_${randomBytes(32).toString('base64url')}`;
  const { orgId, projectId } = target;
  return withTenant(pool, orgId, async (tx) => {
    await lockProject(tx, target, expectedVersion);
    const sealed = await keyring.seal(tx, secret, identitySecretField(orgId, projectId));
    const row = await changeProject(tx, target, 'identity_secret_enc = $3', [sealed], ['identitySecret'], now);
    await recordAuditEvent(tx, orgId, actor, { action: 'project.identity_secret_replaced', target: { type: 'project', id: projectId } }, now);
    return { secret, project: toProject(row) };
  });
}

export const identitySecretField = (orgId: string, projectId: string) => ({ orgId, table: 'projects', column: 'identity_secret', rowId: projectId });

export type ProjectProtection = { settings: ProtectionSettings; hasCaptchaSecret: boolean; domains: string[]; version: number };

const protectionOf = (row: ProjectRow): ProjectProtection => ({
  settings: protectionWithDefaults(row.protection),
  hasCaptchaSecret: row.has_captcha_secret,
  domains: row.allowed_domains,
  version: row.version,
});

export async function getProtection(pool: pg.Pool, target: ProjectTarget): Promise<ProjectProtection> {
  return withTenant(pool, target.orgId, async (tx) => {
    const { rows } = await tx.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE id = $1 AND ${inProjectScope('id', 2)}`, [target.projectId, target.scope]);
    if (!rows[0]) throw projectNotFound();
    return protectionOf(rows[0]);
  });
}

/** Replaces the protection settings; the audit event names the groups that changed. */
export async function updateProtection(
  pool: pg.Pool, target: ProjectTarget, input: ProtectionSettings, expectedVersion: number | undefined, actor: Actor, now: Date,
): Promise<{ key: string; protection: ProjectProtection }> {
  const settings = normalizeProtection(input);
  return withTenant(pool, target.orgId, async (tx) => {
    const before = await lockProject(tx, target, expectedVersion);
    const old = protectionWithDefaults(before.protection);
    const changed = (Object.keys(settings) as (keyof ProtectionSettings)[]).filter((group) => JSON.stringify(settings[group]) !== JSON.stringify(old[group]));
    if (changed.length === 0) return { key: before.public_key, protection: protectionOf(before) };
    const row = await changeProject(tx, target, 'protection = $3', [JSON.stringify(settings)], ['protection'], now);
    await recordAuditEvent(tx, target.orgId, actor, { action: 'project.protection_updated', target: { type: 'project', id: target.projectId }, data: { changed, captcha: settings.captcha.provider } }, now);
    return { key: row.public_key, protection: protectionOf(row) };
  });
}

/** Stores the third-party captcha secret sealed; it is never shown again. */
export async function replaceCaptchaSecret(
  pool: pg.Pool, keyring: Keyring, target: ProjectTarget, secret: string, expectedVersion: number | undefined, actor: Actor, now: Date,
): Promise<Project> {
  const { orgId, projectId } = target;
  return withTenant(pool, orgId, async (tx) => {
    await lockProject(tx, target, expectedVersion);
    const sealed = await keyring.seal(tx, secret, captchaSecretField(orgId, projectId));
    const row = await changeProject(tx, target, 'captcha_secret_enc = $3', [sealed], ['captchaSecret'], now);
    await recordAuditEvent(tx, orgId, actor, { action: 'project.captcha_secret_replaced', target: { type: 'project', id: projectId } }, now);
    return toProject(row);
  });
}

/**
 * Deletes a project with all its feedback, screenshots, notes, webhooks and
 * notification choices; members and API keys limited to it keep their other
 * projects. Audited, and announced as project.deleted. Returns its widget key.
 */
export async function deleteProject(pool: pg.Pool, target: ProjectTarget, expectedVersion: number | undefined, actor: Actor, now: Date): Promise<string> {
  const { orgId, projectId } = target;
  return withTenant(pool, orgId, async (tx) => {
    const before = await lockProject(tx, target, expectedVersion);
    await tx.query('DELETE FROM projects WHERE id = $1', [projectId]);
    // An emptied list stays a list (no projects), never NULL (all of them).
    await tx.query('UPDATE memberships SET project_ids = array_remove(project_ids, $1) WHERE org_id = $2 AND $1 = ANY(project_ids)', [projectId, orgId]);
    await tx.query('UPDATE api_keys SET project_ids = array_remove(project_ids, $1), version = version + 1 WHERE org_id = $2 AND $1 = ANY(project_ids)', [projectId, orgId]);
    await recordAuditEvent(tx, orgId, actor, { action: 'project.deleted', target: { type: 'project', id: projectId }, data: { name: before.name } }, now);
    await emitEvent(tx, orgId, { type: 'project.deleted', projectId, subjectId: projectId, data: { id: projectId, name: before.name } }, now);
    return before.public_key;
  });
}

export const captchaSecretField = (orgId: string, projectId: string) => ({ orgId, table: 'projects', column: 'captcha_secret', rowId: projectId });

export type RefusalSummary = { since: Date; total: number; reasons: { code: string; count: number }[]; hours: { hour: Date; count: number }[] };

/** The last 24 hours of refusals: by problem code, and hour by hour (hours without refusals included, as 0). */
export async function refusalSummary(pool: pg.Pool, orgId: string, projectId: string, scope: ProjectScope, now: Date): Promise<RefusalSummary> {
  const since = new Date(startOfHour(now.getTime()) - 23 * HOUR_MS);
  return withTenant(pool, orgId, async (tx) => {
    const project = await tx.query(`SELECT 1 FROM projects WHERE id = $1 AND ${inProjectScope('id', 2)}`, [projectId, scope]);
    if (project.rowCount === 0) throw projectNotFound();
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
