import type pg from 'pg';
import type { Tx } from '../db/tenant.js';
import { chainHash, GENESIS_HASH, type AuditRecord } from './chain.js';

export type Actor = { type: 'user' | 'api_key' | 'cli' | 'system'; id?: string; label?: string; ip?: string };

export type AuditEvent = {
  action: string;
  target?: { type: string; id: string };
  data?: Record<string, unknown>;
};

// Log injection (ASVS 16): CR, LF and other control characters in logged
// values are escaped before they enter the chain.
function clean(value: string | undefined, max = 500): string | null {
  if (value === undefined) return null;
  // eslint-disable-next-line no-control-regex
  return value.slice(0, max).replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Appends one event to the organization's chain. `tx` must be scoped to `orgId`. */
export async function recordAuditEvent(tx: Tx, orgId: string, actor: Actor, event: AuditEvent, at: Date): Promise<void> {
  // Serialise appends per organization so two writers never fork the chain.
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`parley:audit:${orgId}`]);
  const { rows } = await tx.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_events WHERE org_id = $1 ORDER BY seq DESC LIMIT 1', [orgId]);
  const prevHash = rows[0]?.hash ?? GENESIS_HASH;
  const record: AuditRecord = {
    orgId,
    seq: rows[0] ? Number(rows[0].seq) + 1 : 1,
    at,
    actorType: actor.type,
    actorId: clean(actor.id),
    actorLabel: clean(actor.label),
    ip: clean(actor.ip),
    action: event.action,
    targetType: clean(event.target?.type),
    targetId: clean(event.target?.id),
    data: event.data ?? {},
  };
  await tx.query(
    `INSERT INTO audit_events (org_id, seq, at, actor_type, actor_id, actor_label, ip, action, target_type, target_id, data, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [orgId, record.seq, at, record.actorType, record.actorId, record.actorLabel, record.ip, record.action, record.targetType, record.targetId, JSON.stringify(record.data), prevHash, chainHash(prevHash, record)],
  );
}

export type ChainReport = { orgId: string; events: number; firstBroken?: { seq: number; reason: string } };

type Row = {
  org_id: string; seq: string; at: Date; actor_type: string; actor_id: string | null; actor_label: string | null; ip: string | null;
  action: string; target_type: string | null; target_id: string | null; data: Record<string, unknown>; prev_hash: Buffer; hash: Buffer;
};

/**
 * Recomputes every organization's chain (operator command: reads as the
 * owner role across tenants) and names the first broken link of each.
 */
export async function verifyAuditChains(admin: pg.Pool): Promise<ChainReport[]> {
  const orgs = await admin.query<{ id: string }>('SELECT id FROM organizations ORDER BY created_at, id');
  const reports: ChainReport[] = [];
  for (const { id } of orgs.rows) {
    const { rows } = await admin.query<Row>('SELECT * FROM audit_events WHERE org_id = $1 ORDER BY seq', [id]);
    reports.push(verifyChain(id, rows));
  }
  return reports;
}

function verifyChain(orgId: string, rows: Row[]): ChainReport {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  for (const row of rows) {
    const seq = Number(row.seq);
    const broken = (reason: string): ChainReport => ({ orgId, events: rows.length, firstBroken: { seq, reason } });
    if (seq !== expectedSeq) return broken(`expected event ${expectedSeq}, found ${seq} (an event was deleted or inserted)`);
    if (!row.prev_hash.equals(prevHash)) return broken('previous-hash link does not match the event before it');
    const record: AuditRecord = {
      orgId: row.org_id, seq, at: row.at, actorType: row.actor_type, actorId: row.actor_id, actorLabel: row.actor_label, ip: row.ip,
      action: row.action, targetType: row.target_type, targetId: row.target_id, data: row.data,
    };
    if (!chainHash(prevHash, record).equals(row.hash)) return broken('contents do not match their hash (the event was edited)');
    prevHash = row.hash;
    expectedSeq++;
  }
  return { orgId, events: rows.length };
}
