import { createHash } from 'node:crypto';

export type AuditRecord = {
  orgId: string;
  seq: number;
  at: Date;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  ip: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  data: Record<string, unknown>;
};

export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/** Stable JSON: object keys sorted, so the hash does not depend on jsonb's key order. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** hash = SHA-256(previous hash || canonical record); any edit, deletion, insertion or reorder breaks the chain. */
export function chainHash(prevHash: Buffer, record: AuditRecord): Buffer {
  return createHash('sha256')
    .update(prevHash)
    .update(canonical({ ...record, at: record.at.toISOString() }))
    .digest();
}
