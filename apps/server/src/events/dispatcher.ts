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

/**
 * Fills in the data of events written without it (feedback.created from
 * ingestion's batch insert): the map holds each event id's data.
 */
export type Hydrator = (tx: Tx, events: StoredEvent[]) => Promise<Map<string, Record<string, unknown>>>;

type Row = { id: string; org_id: string; project_id: string | null; type: EventType; subject_id: string | null; data: Record<string, unknown> | null; created_at: Date };

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
    private readonly hydrators: Partial<Record<EventType, Hydrator>>,
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
      id: row.id, orgId: row.org_id, projectId: row.project_id, type: row.type, subjectId: row.subject_id, data: row.data ?? {}, createdAt: row.created_at,
    }));
    const filled = new Map<string, Record<string, unknown>>();
    for (const [type, hydrate] of Object.entries(this.hydrators)) {
      const bare = events.filter((event, i) => event.type === type && rows[i]!.data === null);
      if (bare.length === 0) continue;
      const found = await hydrate!(tx, bare);
      for (const event of bare) {
        event.data = found.get(event.id) ?? { id: event.subjectId };
        filled.set(event.id, event.data);
      }
    }
    for (const subscriber of this.subscribers) await subscriber(tx, orgId, events, now);
    // One statement for the whole batch (ingestion writes thousands a second):
    // the dispatched mark, and the data of the events written without it.
    await tx.query(
      `UPDATE events e SET dispatched_at = $2, data = coalesce(f.data::jsonb, e.data)
         FROM unnest($1::uuid[]) AS claimed(id) LEFT JOIN unnest($3::uuid[], $4::text[]) AS f(id, data) ON f.id = claimed.id
        WHERE e.id = claimed.id`,
      [ids, now, [...filled.keys()], [...filled.values()].map((data) => JSON.stringify(data))],
    );
  }
}
