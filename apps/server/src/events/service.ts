import { randomUUID } from 'node:crypto';
import type { Tx } from '../db/tenant.js';

// What integrators can subscribe to. Each is written as an event row in the
// transaction that made the change (emitEvent), so an event exists exactly
// when its change was committed.
export const EVENT_TYPES = [
  'feedback.created',
  'feedback.updated',
  'feedback.deleted',
  'feedback.note_added',
  'project.created',
  'project.updated',
  'project.deleted',
  'member.added',
  'member.updated',
  'member.removed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export type NewEvent = {
  type: EventType;
  /** The project it happened in; null for organization-wide events (members). */
  projectId: string | null;
  /** The object it is about (the feedback, project or user id). */
  subjectId: string;
  /** The payload's `data`: what integrators see. Never personal data of reporters (see docs/api.md). */
  data: Record<string, unknown>;
};

/** Records an event in the caller's transaction, which must be scoped to `orgId`. */
export async function emitEvent(tx: Tx, orgId: string, event: NewEvent, now: Date): Promise<void> {
  await emitEvents(tx, orgId, [event], now);
}

/** Records events, in this order, in one statement (a change to many items at once). */
export async function emitEvents(tx: Tx, orgId: string, events: NewEvent[], now: Date): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO events (id, org_id, project_id, type, subject_id, data, created_at)
     SELECT e.id, $1, e.project_id, e.type, e.subject_id, e.data, $2
       FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::uuid[], $7::jsonb[]) WITH ORDINALITY AS e(id, project_id, type, subject_id, data, n)
      ORDER BY e.n`,
    [
      orgId, now, events.map(() => randomUUID()), events.map((e) => e.projectId), events.map((e) => e.type), events.map((e) => e.subjectId),
      events.map((e) => JSON.stringify(e.data)),
    ],
  );
}

/** An event as the dispatcher hands it to its subscribers. */
export type StoredEvent = {
  id: string;
  orgId: string;
  projectId: string | null;
  type: EventType;
  subjectId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
};
