import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { withTenant, type Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { unlabelAll } from '../feedback/service.js';
import { assertVersion } from '../http/etag.js';

// Labels sort feedback across every project of an organization. Names are
// unique whatever their case ("Bug" and "bug" are one label); colours are
// stored as lower-case #rrggbb.

export const MAX_LABELS = 200;

export type Label = { id: string; name: string; color: string; version: number; createdAt: Date; updatedAt: Date };
export type LabelInput = { name: string; color: string };

type Row = { id: string; name: string; color: string; version: number; created_at: Date; updated_at: Date };

const COLUMNS = 'id, name, color, version, created_at, updated_at';

const toLabel = (row: Row): Label => ({ id: row.id, name: row.name, color: row.color, version: row.version, createdAt: row.created_at, updatedAt: row.updated_at });

const labelNotFound = () => new AppError('not_found', 'No such label.');

/** Runs a write; a name taken by another label answers 409 instead of a constraint error. */
async function withUniqueName<T>(name: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'labels_name_key') throw new AppError('conflict', `There is already a label named "${name}" (names are compared without case).`);
    throw error;
  }
}

export async function listLabels(pool: pg.Pool, orgId: string): Promise<Label[]> {
  return withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM labels ORDER BY lower(name), id`);
    return rows.map(toLabel);
  });
}

export async function createLabel(pool: pg.Pool, orgId: string, input: LabelInput, actor: Actor, now: Date): Promise<Label> {
  const name = input.name.trim();
  const color = input.color.toLowerCase();
  return withTenant(pool, orgId, async (tx) => {
    // One creation at a time per organization, so two cannot both take the 200th place.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`parley:labels:${orgId}`]);
    const { rows: counted } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM labels');
    if (counted[0]!.n >= MAX_LABELS) throw new AppError('conflict', `This organization has ${MAX_LABELS} labels, the most allowed. Delete one it no longer needs first.`);
    const { rows } = await withUniqueName(name, () =>
      tx.query<Row>(`INSERT INTO labels (id, org_id, name, color, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING ${COLUMNS}`, [randomUUID(), orgId, name, color, now]),
    );
    const label = toLabel(rows[0]!);
    await recordAuditEvent(tx, orgId, actor, { action: 'label.created', target: { type: 'label', id: label.id }, data: { name, color } }, now);
    return label;
  });
}

async function lockLabel(tx: Tx, labelId: string, expectedVersion: number | undefined): Promise<Row> {
  const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM labels WHERE id = $1 FOR UPDATE`, [labelId]);
  if (!rows[0]) throw labelNotFound();
  assertVersion(rows[0].version, expectedVersion);
  return rows[0];
}

/** Renames or recolours a label (If-Match); audited with from and to. */
export async function updateLabel(
  pool: pg.Pool, orgId: string, labelId: string, input: Partial<LabelInput>, expectedVersion: number | undefined, actor: Actor, now: Date,
): Promise<Label> {
  return withTenant(pool, orgId, async (tx) => {
    const before = await lockLabel(tx, labelId, expectedVersion);
    const name = input.name?.trim() ?? before.name;
    const color = input.color?.toLowerCase() ?? before.color;
    const changes: Record<string, { from: string; to: string }> = {};
    if (name !== before.name) changes.name = { from: before.name, to: name };
    if (color !== before.color) changes.color = { from: before.color, to: color };
    if (Object.keys(changes).length === 0) return toLabel(before);
    const { rows } = await withUniqueName(name, () =>
      tx.query<Row>(`UPDATE labels SET name = $2, color = $3, updated_at = $4, version = version + 1 WHERE id = $1 RETURNING ${COLUMNS}`, [labelId, name, color, now]),
    );
    await recordAuditEvent(tx, orgId, actor, { action: 'label.updated', target: { type: 'label', id: labelId }, data: changes }, now);
    return toLabel(rows[0]!);
  });
}

/** Deletes a label and takes it off every feedback that had it (see unlabelAll). */
export async function deleteLabel(pool: pg.Pool, orgId: string, labelId: string, expectedVersion: number | undefined, actor: Actor, now: Date): Promise<void> {
  await withTenant(pool, orgId, async (tx) => {
    const before = await lockLabel(tx, labelId, expectedVersion);
    const feedback = await unlabelAll(tx, orgId, labelId, now);
    await tx.query('DELETE FROM labels WHERE id = $1', [labelId]);
    await recordAuditEvent(tx, orgId, actor, { action: 'label.deleted', target: { type: 'label', id: labelId }, data: { name: before.name, feedback } }, now);
  });
}
