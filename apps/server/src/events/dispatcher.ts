import type pg from 'pg';
import type { Clock } from '../context.js';
import { enterTenant, withoutTenant, type Tx } from '../db/tenant.js';
import type { EventType, StoredEvent } from './service.js';

export const EVENTS_CHANNEL = 'parley_events';
const BATCH = 100;

/**
 * Turns one organization's new events into its subscribers' work (webhook
 * deliveries, e-mail jobs), inside the dispatcher's transaction: `tx` is
 * scoped to `orgId`, and what it writes commits together with the events
 * being marked dispatched.
 */
export type Subscriber = (tx: Tx, orgId: string, events: StoredEvent[], now: Date) => Promise<void>;

type Row = { id: string; org_id: string; project_id: string | null; type: EventType; subject_id: string | null; data: Record<string, unknown>; created_at: Date };

/**
 * Fans each event out to every subscriber exactly once: a round claims a
 * batch of pending events (FOR UPDATE SKIP LOCKED, so instances share the
 * work), and writes what the subscribers make of them and the "dispatched"
 * mark in one transaction. A crash rolls all of it back, and the events are
 * claimed again.
 */
export class EventDispatcher {
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
    private readonly subscribers: Subscriber[],
  ) {}

  readonly round = async (): Promise<boolean> =>
    withoutTenant(this.pool, async (tx) => {
      const { rows: claimed } = await tx.query<{ id: string; org_id: string }>('SELECT * FROM claim_pending_events($1)', [BATCH]);
      const byOrg = new Map<string, string[]>();
      for (const { id, org_id } of claimed) byOrg.set(org_id, [...(byOrg.get(org_id) ?? []), id]);
      const now = this.clock.now();
      for (const [orgId, ids] of byOrg) {
        await enterTenant(tx, orgId);
        await this.dispatch(tx, orgId, ids, now);
      }
      return claimed.length > 0;
    });

  private async dispatch(tx: Tx, orgId: string, ids: string[], now: Date): Promise<void> {
    const { rows } = await tx.query<Row>('SELECT id, org_id, project_id, type, subject_id, data, created_at FROM events WHERE id = ANY($1::uuid[]) ORDER BY seq', [ids]);
    const events: StoredEvent[] = rows.map((row) => ({
      id: row.id, orgId: row.org_id, projectId: row.project_id, type: row.type, subjectId: row.subject_id, data: row.data, createdAt: row.created_at,
    }));
    for (const subscriber of this.subscribers) await subscriber(tx, orgId, events, now);
    await tx.query('UPDATE events SET dispatched_at = $2 WHERE id = ANY($1::uuid[])', [ids, now]);
  }
}
