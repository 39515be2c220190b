import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { withTenant, type Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import type { Keyring } from '../keys/service.js';
import { inProjectScope, type ProjectScope } from '../projects/service.js';

export const STATUSES = ['new', 'in_progress', 'done', 'archived'] as const;
export type Status = (typeof STATUSES)[number];

export type FeedbackSummary = {
  id: string;
  createdAt: Date;
  status: Status;
  rating: number | null;
  ratingScale: 'stars' | 'thumbs' | 'emoji' | 'nps' | null;
  type: string | null;
  message: string;
  email: string | null;
  hasScreenshot: boolean;
};

export type Feedback = FeedbackSummary & {
  projectId: string;
  updatedAt: Date;
  pageUrl: string | null;
  locale: string | null;
  viewport: { width: number; height: number } | null;
  custom: Record<string, string>;
  userAgent: string | null;
  ip: string | null;
  consent: boolean | null;
  identity: { id: string; email: string | null; name: string | null; verified: boolean } | null;
  metadata: Record<string, string | number | boolean>;
  browser: string | null;
  os: string | null;
  consoleErrors: { message: string; stack: string | null }[];
};

type Row = {
  id: string; project_id: string; status: Status; rating: number | null; rating_scale: FeedbackSummary['ratingScale']; type: string | null; message: string;
  email_enc: Buffer | null; ip_enc: Buffer | null; user_agent_enc: Buffer | null; custom_enc: Buffer | null;
  page_url: string | null; locale: string | null; viewport_width: number | null; viewport_height: number | null;
  created_at: Date; updated_at: Date; consent: boolean | null; identity_enc: Buffer | null; identity_verified: boolean | null;
  metadata_enc: Buffer | null; context_enc: Buffer | null; screenshot_id: string | null;
};

const COLUMNS = `id, project_id, status, rating, rating_scale, type, message, email_enc, ip_enc, user_agent_enc, custom_enc,
                 page_url, locale, viewport_width, viewport_height, created_at, updated_at,
                 consent, identity_enc, identity_verified, metadata_enc, context_enc, screenshot_id`;

type Opener = (row: Row, column: 'email' | 'ip' | 'user_agent' | 'custom' | 'identity' | 'metadata' | 'context', sealed: Buffer | null) => Promise<string | null>;

function opener(tx: Tx, keyring: Keyring, orgId: string): Opener {
  return async (row, column, sealed) => (sealed ? keyring.open(tx, sealed, { orgId, table: 'feedback', column, rowId: row.id }) : null);
}

async function toSummary(row: Row, open: Opener): Promise<FeedbackSummary> {
  return {
    id: row.id, createdAt: row.created_at, status: row.status, rating: row.rating, ratingScale: row.rating_scale, type: row.type, message: row.message,
    email: await open(row, 'email', row.email_enc),
    hasScreenshot: row.screenshot_id !== null,
  };
}

const parsed = async <T>(open: Opener, row: Row, column: Parameters<Opener>[1], sealed: Buffer | null): Promise<T | null> => {
  const text = await open(row, column, sealed);
  return text === null ? null : (JSON.parse(text) as T);
};

type BrowserContext = { browser?: string; os?: string; consoleErrors?: { message: string; stack?: string }[] };

async function toFeedback(row: Row, open: Opener): Promise<Feedback> {
  const identity = await parsed<{ id: string; email: string | null; name: string | null }>(open, row, 'identity', row.identity_enc);
  const context = (await parsed<BrowserContext>(open, row, 'context', row.context_enc)) ?? {};
  return {
    ...(await toSummary(row, open)),
    projectId: row.project_id,
    updatedAt: row.updated_at,
    pageUrl: row.page_url,
    locale: row.locale,
    viewport: row.viewport_width === null || row.viewport_height === null ? null : { width: row.viewport_width, height: row.viewport_height },
    custom: (await parsed<Record<string, string>>(open, row, 'custom', row.custom_enc)) ?? {},
    userAgent: await open(row, 'user_agent', row.user_agent_enc),
    ip: await open(row, 'ip', row.ip_enc),
    consent: row.consent,
    identity: identity && { ...identity, verified: row.identity_verified === true },
    metadata: (await parsed<Record<string, string | number | boolean>>(open, row, 'metadata', row.metadata_enc)) ?? {},
    browser: context.browser ?? null,
    os: context.os ?? null,
    consoleErrors: (context.consoleErrors ?? []).map((e) => ({ message: e.message, stack: e.stack ?? null })),
  };
}

// Cursor = position of the last item seen: (created_at, id), newest first.
function encodeCursor(row: Row): string {
  return Buffer.from(`${row.created_at.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (Number.isNaN(createdAt.getTime()) || !id || !/^[0-9a-f-]{36}$/.test(id)) throw new AppError('validation_failed', 'cursor is not valid.');
  return { createdAt, id };
}

export type InboxQuery = { status?: Status; cursor?: string; limit: number };

export async function listFeedback(pool: pg.Pool, keyring: Keyring, orgId: string, projectId: string, scope: ProjectScope, query: InboxQuery) {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  return withTenant(pool, orgId, async (tx) => {
    const project = await tx.query(`SELECT 1 FROM projects WHERE id = $1 AND ${inProjectScope('id', 2)}`, [projectId, scope]);
    if (project.rowCount === 0) throw new AppError('not_found', 'No such project.');
    const { rows } = await tx.query<Row>(
      `SELECT ${COLUMNS} FROM feedback
        WHERE project_id = $1 AND ($2::text IS NULL OR status = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $5`,
      [projectId, query.status ?? null, after?.createdAt ?? null, after?.id ?? null, query.limit + 1],
    );
    const page = rows.slice(0, query.limit);
    const open = opener(tx, keyring, orgId);
    return {
      items: await Promise.all(page.map((row) => toSummary(row, open))),
      nextCursor: rows.length > query.limit ? encodeCursor(page.at(-1)!) : null,
    };
  });
}

export async function getFeedback(pool: pg.Pool, keyring: Keyring, orgId: string, id: string, scope: ProjectScope): Promise<Feedback> {
  return withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM feedback WHERE id = $1 AND ${inProjectScope('project_id', 2)}`, [id, scope]);
    if (!rows[0]) throw new AppError('not_found', 'No such feedback.');
    return toFeedback(rows[0], opener(tx, keyring, orgId));
  });
}

export async function changeFeedbackStatus(
  pool: pg.Pool, keyring: Keyring, orgId: string, id: string, scope: ProjectScope, status: Status, actor: Actor, now: Date,
): Promise<Feedback> {
  return withTenant(pool, orgId, async (tx) => {
    const before = await tx.query<{ status: Status }>(`SELECT status FROM feedback WHERE id = $1 AND ${inProjectScope('project_id', 2)} FOR UPDATE`, [id, scope]);
    if (!before.rows[0]) throw new AppError('not_found', 'No such feedback.');
    const { rows } = await tx.query<Row>(`UPDATE feedback SET status = $2, updated_at = $3 WHERE id = $1 RETURNING ${COLUMNS}`, [id, status, now]);
    if (before.rows[0].status !== status) {
      await recordAuditEvent(tx, orgId, actor, { action: 'feedback.status_changed', target: { type: 'feedback', id }, data: { from: before.rows[0].status, to: status } }, now);
    }
    return toFeedback(rows[0]!, opener(tx, keyring, orgId));
  });
}

/** Refuses feedback outside the membership's project limits exactly as missing feedback (for routes that read it elsewhere). */
export async function assertFeedbackInScope(pool: pg.Pool, orgId: string, id: string, scope: ProjectScope): Promise<void> {
  if (scope === null) return;
  const { rowCount } = await withTenant(pool, orgId, (tx) => tx.query(`SELECT 1 FROM feedback WHERE id = $1 AND ${inProjectScope('project_id', 2)}`, [id, scope]));
  if (rowCount === 0) throw new AppError('not_found', 'No such feedback.');
}
