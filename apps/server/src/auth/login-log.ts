import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import type { Context } from '../context.js';
import { withTenant } from '../db/tenant.js';
import type { User } from '../users/service.js';
import type { AttemptMethod, AttemptResult } from './attempts.js';

export const LOGINS_PAGE = 50;
/** An export holds at most this many attempts, the newest; narrow the dates for older ones. */
export const LOGINS_EXPORT_MAX = 50_000;

export type LoginAttemptItem = {
  id: string;
  at: Date;
  email: string;
  ip: string | null;
  userAgent: string | null;
  method: AttemptMethod;
  result: AttemptResult;
  reason: string | null;
  user: User | null;
};

export type LoginFilters = { result?: AttemptResult; method?: AttemptMethod; userId?: string; from?: string; to?: string };

export type Page = { items: LoginAttemptItem[]; next: string | null };

type Row = {
  id: string; at: Date; email: string; ip: string | null; user_agent: string | null; method: AttemptMethod; result: AttemptResult; reason: string | null;
  user_id: string | null; user_email: string | null; user_name: string | null;
};

const COLUMNS = `a.id::text AS id, a.at, a.email, a.ip, a.user_agent, a.method, a.result, a.reason, u.id AS user_id, u.email AS user_email, u.name AS user_name`;

function toItem(row: Row): LoginAttemptItem {
  return {
    id: row.id, at: row.at, email: row.email, ip: row.ip, userAgent: row.user_agent, method: row.method, result: row.result, reason: row.reason,
    user: row.user_id ? { id: row.user_id, email: row.user_email!, name: row.user_name! } : null,
  };
}

/** Newest first by id (attempts are written in time order); `before` is the id of the last item seen. */
function toPage(rows: Row[], limit: number): Page {
  const items = rows.slice(0, limit).map(toItem);
  return { items, next: rows.length > limit ? items[items.length - 1]!.id : null };
}

/** Every attempt on the user's own account, theirs or someone else's. */
export async function listOwnLogins(pool: pg.Pool, userId: string, before: string | undefined): Promise<Page> {
  const { rows } = await pool.query<Row>(
    `SELECT ${COLUMNS} FROM login_attempts a JOIN users u ON u.id = a.user_id
      WHERE a.user_id = $1 AND ($2::bigint IS NULL OR a.id < $2) ORDER BY a.id DESC LIMIT $3`,
    [userId, before ?? null, LOGINS_PAGE + 1],
  );
  return toPage(rows, LOGINS_PAGE);
}

/**
 * Attempts on the accounts of the organization's members since they joined
 * it (what they did before is not the organization's business). Attempts on
 * e-mails without an account belong to no organization and show nowhere here.
 */
async function queryOrgLogins(pool: pg.Pool, orgId: string, filters: LoginFilters, before: string | undefined, limit: number): Promise<Row[]> {
  return withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query<Row>(
      `SELECT ${COLUMNS} FROM login_attempts a
         JOIN memberships m ON m.user_id = a.user_id AND m.org_id = $1
         JOIN users u ON u.id = a.user_id
        WHERE a.at >= m.created_at
          AND ($2::text IS NULL OR a.result = $2) AND ($3::text IS NULL OR a.method = $3) AND ($4::uuid IS NULL OR a.user_id = $4)
          AND ($5::timestamptz IS NULL OR a.at >= $5) AND ($6::timestamptz IS NULL OR a.at < $6) AND ($7::bigint IS NULL OR a.id < $7)
        ORDER BY a.id DESC LIMIT $8`,
      [orgId, filters.result ?? null, filters.method ?? null, filters.userId ?? null, filters.from ?? null, filters.to ?? null, before ?? null, limit],
    );
    return rows;
  });
}

export async function listOrgLogins(pool: pg.Pool, orgId: string, filters: LoginFilters, before: string | undefined): Promise<Page> {
  return toPage(await queryOrgLogins(pool, orgId, filters, before, LOGINS_PAGE + 1), LOGINS_PAGE);
}

// OWASP CSV injection: a cell a spreadsheet would read as a formula starts
// with a quote instead; every cell is quoted (RFC 4180), so commas, quotes and
// line breaks stay inside it.
function csvCell(value: string | null): string {
  const text = value ?? '';
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replaceAll('"', '""')}"`;
}

const CSV_HEADER = ['time', 'email', 'user id', 'name', 'ip', 'user agent', 'method', 'result', 'reason'];

/** The organization's attempts matching the filters as CSV, and the export in its audit log. */
export async function exportOrgLogins(ctx: Context, orgId: string, filters: LoginFilters, actor: Actor): Promise<{ csv: string; filename: string }> {
  const now = ctx.clock.now();
  const rows = await queryOrgLogins(ctx.db.app, orgId, filters, undefined, LOGINS_EXPORT_MAX);
  const lines = [CSV_HEADER, ...rows.map((r) => [r.at.toISOString(), r.email, r.user_id, r.user_name, r.ip, r.user_agent, r.method, r.result, r.reason])];
  const csv = lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
  await withTenant(ctx.db.app, orgId, (tx) =>
    recordAuditEvent(tx, orgId, actor, { action: 'logins.exported', target: { type: 'organization', id: orgId }, data: { filters, rows: rows.length } }, now),
  );
  return { csv, filename: `parley-logins-${now.toISOString().slice(0, 10)}.csv` };
}
