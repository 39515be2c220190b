import { Readable } from 'node:stream';
import type { Context } from '../context.js';
import { withTenant, withTenantOn } from '../db/tenant.js';
import { AppError } from '../errors.js';
import type { ProjectScope } from '../projects/service.js';
import { recordAuditEvent, type Actor } from './service.js';
import { queryAuditEvents, toAuditItem, type AuditFilters, type AuditItem, type AuditRow } from './store.js';

// Reading the audit log: a page of it (newest first), and the whole of it as
// JSON Lines (oldest first, each line with the hashes that chain it to the
// one before, so a customer can check it with the documented recipe).

export const AUDIT_PAGE_DEFAULT = 50;
/** Rows per database round trip of an export: memory holds one page, never the log. */
export const EXPORT_PAGE = 1_000;
/**
 * An export whose client has not read for this long is cut off: a running
 * export holds a database connection and the organization's only export slot.
 */
export const EXPORT_STALL_MS = 60_000;
// Session-level advisory locks with two int keys never meet the single-key
// ones recordAuditEvent takes: this class means "an audit export of the
// organization hashed into the second key is running".
const EXPORT_LOCK_CLASS = 6_001;

export type AuditPage = { items: AuditItem[]; nextCursor: string | null };

/**
 * The audit log covers the whole organization; an API key limited to some
 * projects may not read it (its creator could, but the key was narrowed).
 */
function assertWholeOrganization(scope: ProjectScope): void {
  if (scope !== null) {
    throw new AppError('forbidden', 'This API key is limited to some projects, and the audit log covers the whole organization: use a key without project limits.');
  }
}

/** Newest first; `cursor` is the `nextCursor` of the page before (the seq of its last event). */
export async function listAuditLog(ctx: Context, orgId: string, scope: ProjectScope, filters: AuditFilters, cursor: number | undefined, limit: number): Promise<AuditPage> {
  assertWholeOrganization(scope);
  const rows = await withTenant(ctx.db.app, orgId, (tx) => queryAuditEvents(tx, orgId, filters, { order: 'newest', before: cursor, limit: limit + 1 }));
  const items = rows.slice(0, limit).map(toAuditItem);
  return { items, nextCursor: rows.length > limit ? String(items.at(-1)!.seq) : null };
}

/** One line of the export: the API's item plus what recomputing its hash needs (docs/api.md, "Verifying an export"). */
function exportLine(row: AuditRow): string {
  const { hash, ...item } = toAuditItem(row);
  return `${JSON.stringify({ orgId: row.org_id, ...item, prevHash: row.prev_hash.toString('hex'), hash })}\n`;
}

export type AuditExport = { stream: Readable; filename: string };

/**
 * Starts an export of the events matching the filters: refuses while another
 * export of the organization runs (on any instance: the lock lives in
 * PostgreSQL, on the connection the export reads through), records
 * `audit.exported` and commits it before the first byte goes out, then
 * streams every event up to and including that record, a page at a time.
 */
export async function startAuditExport(
  ctx: Context, orgId: string, scope: ProjectScope, filters: AuditFilters, actor: Actor, stallMs = EXPORT_STALL_MS,
): Promise<AuditExport> {
  assertWholeOrganization(scope);
  const client = await ctx.db.app.connect();
  let locked = false;
  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    if (locked) await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [EXPORT_LOCK_CLASS, orgId]).catch(() => {});
    client.release();
  };
  let through: number;
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [EXPORT_LOCK_CLASS, orgId]);
    locked = rows[0]!.locked;
    if (!locked) throw new AppError('conflict', 'An export of this audit log is already running. Try again when it has finished.', 30);
    through = await withTenantOn(client, orgId, async (tx) => {
      await recordAuditEvent(tx, orgId, actor, { action: 'audit.exported', target: { type: 'organization', id: orgId }, data: { filters } }, ctx.clock.now());
      const { rows: last } = await tx.query<{ seq: string }>('SELECT max(seq) AS seq FROM audit_events WHERE org_id = $1', [orgId]);
      return Number(last[0]!.seq);
    });
  } catch (error) {
    await finish();
    throw error;
  }

  // Waiting for the client since this time (null while reading the database).
  let waitingSince: number | null = Date.now();
  async function* pages() {
    waitingSince = null;
    for (let after = 0; ;) {
      const rows = await withTenantOn(client, orgId, (tx) => queryAuditEvents(tx, orgId, filters, { order: 'oldest', after, before: through + 1, limit: EXPORT_PAGE }));
      if (rows.length === 0) return;
      waitingSince = Date.now();
      yield rows.map(exportLine).join('');
      waitingSince = null;
      if (rows.length < EXPORT_PAGE) return;
      after = Number(rows.at(-1)!.seq);
    }
  }
  const stream = Readable.from(pages(), { objectMode: false });
  const watchdog = setInterval(() => {
    if (waitingSince !== null && Date.now() - waitingSince >= stallMs) stream.destroy(new Error(`audit export cut off: the client read nothing for ${stallMs} ms`));
  }, Math.min(1_000, stallMs));
  watchdog.unref();
  // After the last page, a failure or the client going away: the generator
  // has stopped using the connection by the time the stream closes.
  stream.once('close', () => {
    clearInterval(watchdog);
    void finish();
  });
  return { stream, filename: `parley-audit-${ctx.clock.now().toISOString().slice(0, 10)}.jsonl` };
}
