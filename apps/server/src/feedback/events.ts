import type { Tx } from '../db/tenant.js';

/**
 * The event data of feedback items by id (`tx` scoped to their organization):
 * what webhooks say of an item, made by the database's feedback_event_data
 * (migration 9), which ingestion's batch insert calls too.
 */
export async function feedbackEventDataById(tx: Tx, ids: string[]): Promise<Map<string, Record<string, unknown>>> {
  const { rows } = await tx.query<{ id: string; data: Record<string, unknown> }>('SELECT f.id, feedback_event_data(f) AS data FROM feedback f WHERE f.id = ANY($1::uuid[])', [ids]);
  return new Map(rows.map((row) => [row.id, row.data]));
}
