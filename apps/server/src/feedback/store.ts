import type { Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { assertVersion } from '../http/etag.js';
import { inProjectScope, type ProjectScope } from '../projects/service.js';
import type { Feedback, Status } from './schema.js';

// How feedback rows become the API's items: the columns read (never a sealed
// one), and the labels and note count, computed for a page's rows only.

/** A feedback item as a caller may reach it: its organization, and the projects the caller may see. */
export type FeedbackTarget = { orgId: string; feedbackId: string; scope: ProjectScope };

type Row = {
  id: string; project_id: string; created_at: Date; updated_at: Date; status: Status; rating: number | null; rating_scale: Feedback['ratingScale'];
  type: string | null; message: string; page_url: string | null; has_screenshot: boolean; assignee_id: string | null; version: number;
  locale: string | null; viewport_width: number | null; viewport_height: number | null; identity_verified: boolean | null;
  label_ids: string[]; note_count: number;
};

export const ITEM_COLUMNS = `f.id, f.project_id, f.created_at, f.updated_at, f.status, f.rating, f.rating_scale, f.type, f.message, f.page_url,
  f.screenshot_id IS NOT NULL AS has_screenshot, f.assignee_id, f.version, f.locale, f.viewport_width, f.viewport_height, f.identity_verified`;

/**
 * The rows of `page` (a SELECT of ITEM_COLUMNS) with their labels and note
 * count. Computed outside `page` so a sorted page pays for its own rows only,
 * not for every row the sort looked at.
 */
export function withLabelsAndNotes(page: string): string {
  return `SELECT p.*,
            coalesce((SELECT array_agg(l.label_id ORDER BY l.label_id) FROM feedback_labels l WHERE l.feedback_id = p.id), '{}') AS label_ids,
            (SELECT count(*)::int FROM feedback_notes n WHERE n.feedback_id = p.id) AS note_count
          FROM (${page}) p ORDER BY p.created_at DESC, p.id DESC`;
}

export function toFeedback(row: Row): Feedback {
  return {
    id: row.id, projectId: row.project_id, createdAt: row.created_at, updatedAt: row.updated_at, status: row.status, rating: row.rating,
    ratingScale: row.rating_scale, type: row.type, message: row.message, pageUrl: row.page_url, hasScreenshot: row.has_screenshot,
    assigneeId: row.assignee_id, labelIds: row.label_ids, noteCount: row.note_count, version: row.version, locale: row.locale,
    viewport: row.viewport_width === null || row.viewport_height === null ? null : { width: row.viewport_width, height: row.viewport_height },
    identityVerified: row.identity_verified,
  };
}

export const feedbackNotFound = () => new AppError('not_found', 'No such feedback (or it is in a project you cannot see).');

/** The items `page` selects (`tx` scoped to the organization). */
export async function selectFeedback(tx: Tx, page: string, values: unknown[]): Promise<Feedback[]> {
  const { rows } = await tx.query<Row>(withLabelsAndNotes(page), values);
  return rows.map(toFeedback);
}

/** One item, or 404 when it does not exist or lies outside the caller's projects. */
export async function findFeedback(tx: Tx, target: FeedbackTarget): Promise<Feedback> {
  const [feedback] = await selectFeedback(tx, `SELECT ${ITEM_COLUMNS} FROM feedback f WHERE f.id = $1 AND ${inProjectScope('f.project_id', 2)}`, [target.feedbackId, target.scope]);
  if (!feedback) throw feedbackNotFound();
  return feedback;
}

/** Locks an item for a change and checks the version the caller read (If-Match); 404 outside the caller's projects. */
export async function lockFeedback(tx: Tx, target: FeedbackTarget, expectedVersion: number | undefined) {
  const { rows } = await tx.query<{ project_id: string; status: Status; assignee_id: string | null; screenshot_id: string | null; created_at: Date; version: number }>(
    `SELECT project_id, status, assignee_id, screenshot_id, created_at, version FROM feedback WHERE id = $1 AND ${inProjectScope('project_id', 2)} FOR UPDATE`,
    [target.feedbackId, target.scope],
  );
  if (!rows[0]) throw feedbackNotFound();
  assertVersion(rows[0].version, expectedVersion);
  return rows[0];
}
