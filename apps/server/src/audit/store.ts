import type { Tx } from '../db/tenant.js';
import type { Actor } from './service.js';

/** What the audit log API and its export filter by; every filter is optional and they combine with AND. */
export type AuditFilters = {
  /** An exact action (`feedback.reporter_viewed`) or a prefix ending in `.*` (`feedback.*`). */
  action?: string;
  actorType?: Actor['type'];
  actorId?: string;
  targetType?: string;
  targetId?: string;
  /** Inclusive lower and exclusive upper bound of the time (ISO 8601). */
  from?: string;
  to?: string;
};

/** One event as the API shows it; `hash` is the chain's SHA-256 of it, in hex. */
export type AuditItem = {
  seq: number;
  at: Date;
  actor: { type: string; id: string | null; label: string | null; ip: string | null };
  action: string;
  target: { type: string | null; id: string | null } | null;
  data: Record<string, unknown>;
  hash: string;
};

export type AuditRow = {
  org_id: string; seq: string; at: Date; actor_type: string; actor_id: string | null; actor_label: string | null; ip: string | null;
  action: string; target_type: string | null; target_id: string | null; data: Record<string, unknown>; prev_hash: Buffer; hash: Buffer;
};

export function toAuditItem(row: AuditRow): AuditItem {
  return {
    seq: Number(row.seq),
    at: row.at,
    actor: { type: row.actor_type, id: row.actor_id, label: row.actor_label, ip: row.ip },
    action: row.action,
    target: row.target_type === null && row.target_id === null ? null : { type: row.target_type, id: row.target_id },
    data: row.data,
    hash: row.hash.toString('hex'),
  };
}

/**
 * The events of `orgId` matching the filters, `limit` at most, ordered by
 * seq; `after`/`before` bound seq exclusively. `tx` must be scoped to `orgId`.
 * Each filter is a parameter (`$n IS NULL OR …`), planned with its value, so
 * the indexes on target and action serve the questions a data-protection
 * officer asks.
 */
export async function queryAuditEvents(
  tx: Tx,
  orgId: string,
  filters: AuditFilters,
  page: { order: 'newest' | 'oldest'; after?: number; before?: number; limit: number },
): Promise<AuditRow[]> {
  const prefix = filters.action?.endsWith('.*') ? filters.action.slice(0, -1) : null;
  const exact = prefix === null ? (filters.action ?? null) : null;
  const { rows } = await tx.query<AuditRow>(
    `SELECT * FROM audit_events
      WHERE org_id = $1
        AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR starts_with(action, $3))
        AND ($4::text IS NULL OR actor_type = $4) AND ($5::text IS NULL OR actor_id = $5)
        AND ($6::text IS NULL OR target_type = $6) AND ($7::text IS NULL OR target_id = $7)
        AND ($8::timestamptz IS NULL OR at >= $8) AND ($9::timestamptz IS NULL OR at < $9)
        AND ($10::bigint IS NULL OR seq > $10) AND ($11::bigint IS NULL OR seq < $11)
      ORDER BY seq ${page.order === 'newest' ? 'DESC' : 'ASC'} LIMIT $12`,
    [
      orgId, exact, prefix, filters.actorType ?? null, filters.actorId ?? null, filters.targetType ?? null, filters.targetId ?? null,
      filters.from ?? null, filters.to ?? null, page.after ?? null, page.before ?? null, page.limit,
    ],
  );
  return rows;
}
