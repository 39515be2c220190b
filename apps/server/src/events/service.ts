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
  await tx.query('INSERT INTO events (id, org_id, project_id, type, subject_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    randomUUID(), orgId, event.projectId, event.type, event.subjectId, event.data, now,
  ]);
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
