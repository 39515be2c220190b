import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { withTenant, type Tx } from '../db/tenant.js';
import { emitEvent } from '../events/service.js';
import { AppError } from '../errors.js';
import { decodeCursor, pageOf } from '../http/cursor.js';
import { inProjectScope } from '../projects/service.js';
import type { Note } from './schema.js';
import { feedbackNotFound, type FeedbackTarget } from './store.js';

// Internal notes on feedback: the team's own words, never shown to the
// reporter. Anyone who may triage writes them; each author deletes their
// own, and whoever may delete feedback deletes any.

type Row = { id: string; feedback_id: string; body: string; author_id: string | null; author_name: string | null; api_key_id: string | null; created_at: Date };

const COLUMNS = 'n.id, n.feedback_id, n.body, n.author_id, u.name AS author_name, n.api_key_id, n.created_at';

const toNote = (row: Row): Note => ({
  id: row.id, feedbackId: row.feedback_id, body: row.body,
  author: row.author_id === null ? null : { id: row.author_id, name: row.author_name ?? '' },
  apiKeyId: row.api_key_id, createdAt: row.created_at,
});

/** The feedback's project, or 404 when the caller cannot see it. */
async function projectOfFeedback(tx: Tx, target: FeedbackTarget): Promise<string> {
  const { rows } = await tx.query<{ project_id: string }>(`SELECT project_id FROM feedback WHERE id = $1 AND ${inProjectScope('project_id', 2)}`, [target.feedbackId, target.scope]);
  if (!rows[0]) throw feedbackNotFound();
  return rows[0].project_id;
}

/** Newest first, a page at a time. */
export async function listNotes(pool: pg.Pool, target: FeedbackTarget, page: { cursor?: string; limit: number }) {
  const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  return withTenant(pool, target.orgId, async (tx) => {
    await projectOfFeedback(tx, target);
    const { rows } = await tx.query<Row>(
      `SELECT ${COLUMNS} FROM feedback_notes n LEFT JOIN users u ON u.id = n.author_id
        WHERE n.feedback_id = $1 AND ($2::timestamptz IS NULL OR (n.created_at, n.id) < ($2, $3::uuid))
        ORDER BY n.created_at DESC, n.id DESC LIMIT $4`,
      [target.feedbackId, after?.createdAt ?? null, after?.id ?? null, page.limit + 1],
    );
    return pageOf(rows.map(toNote), page.limit, (note) => note);
  });
}

export type NoteAuthor = { userId: string; apiKeyId: string | null; actor: Actor };

/** Adds a note; announced as feedback.note_added (with its text: notes are the team's, not the reporter's). */
export async function addNote(pool: pg.Pool, target: FeedbackTarget, body: string, author: NoteAuthor, now: Date): Promise<Note> {
  const { orgId, feedbackId } = target;
  return withTenant(pool, orgId, async (tx) => {
    const projectId = await projectOfFeedback(tx, target);
    const id = randomUUID();
    await tx.query('INSERT INTO feedback_notes (id, org_id, feedback_id, author_id, api_key_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      id, orgId, feedbackId, author.userId, author.apiKeyId, body, now,
    ]);
    const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM feedback_notes n LEFT JOIN users u ON u.id = n.author_id WHERE n.id = $1`, [id]);
    const note = toNote(rows[0]!);
    await recordAuditEvent(tx, orgId, author.actor, { action: 'feedback.note_added', target: { type: 'feedback', id: feedbackId }, data: { noteId: id } }, now);
    await emitEvent(tx, orgId, {
      type: 'feedback.note_added', projectId, subjectId: feedbackId,
      data: { feedbackId, projectId, note: { id, body, authorId: author.userId, createdAt: now.toISOString() } },
    }, now);
    return note;
  });
}

/**
 * Deletes a note: its author may, and so may whoever `mayDeleteAny` (the
 * feedback_delete permission). Another member's note answers 403, a note
 * that does not exist (or sits on feedback out of reach) 404.
 */
export async function deleteNote(pool: pg.Pool, target: FeedbackTarget, noteId: string, userId: string, mayDeleteAny: boolean, actor: Actor, now: Date): Promise<void> {
  const { orgId, feedbackId } = target;
  await withTenant(pool, orgId, async (tx) => {
    await projectOfFeedback(tx, target);
    const { rows } = await tx.query<{ author_id: string | null }>('SELECT author_id FROM feedback_notes WHERE id = $1 AND feedback_id = $2 FOR UPDATE', [noteId, feedbackId]);
    if (!rows[0]) throw new AppError('not_found', 'No such note on this feedback.');
    if (rows[0].author_id !== userId && !mayDeleteAny) throw new AppError('forbidden', 'Only the author of a note, an owner or an admin may delete it.');
    await tx.query('DELETE FROM feedback_notes WHERE id = $1', [noteId]);
    await recordAuditEvent(tx, orgId, actor, { action: 'feedback.note_deleted', target: { type: 'feedback', id: feedbackId }, data: { noteId, authorId: rows[0].author_id } }, now);
  });
}
