import type { Tx } from '../db/tenant.js';
import type { Hydrator } from '../events/dispatcher.js';

// What webhooks say about a feedback item: what the team reads in the inbox,
// never the reporter's personal data (e-mail, IP, identity, custom fields),
// which integrators fetch through the API, where each read is audited.

type Row = {
  id: string; project_id: string; status: string; rating: number | null; rating_scale: string | null; type: string | null; message: string;
  page_url: string | null; locale: string | null; assignee_id: string | null; screenshot_id: string | null; created_at: Date; updated_at: Date;
  label_ids: string[];
};

const COLUMNS = `f.id, f.project_id, f.status, f.rating, f.rating_scale, f.type, f.message, f.page_url, f.locale, f.assignee_id, f.screenshot_id,
                 f.created_at, f.updated_at,
                 coalesce((SELECT array_agg(l.label_id ORDER BY l.label_id) FROM feedback_labels l WHERE l.feedback_id = f.id), '{}') AS label_ids`;

export function feedbackEventData(row: Row): Record<string, unknown> {
  return {
    id: row.id, projectId: row.project_id, status: row.status, rating: row.rating, ratingScale: row.rating_scale, type: row.type, message: row.message,
    pageUrl: row.page_url, locale: row.locale, assigneeId: row.assignee_id, labelIds: row.label_ids, hasScreenshot: row.screenshot_id !== null,
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
  };
}

/** The event data of feedback items by id (`tx` scoped to their organization). */
export async function feedbackEventDataById(tx: Tx, ids: string[]): Promise<Map<string, Record<string, unknown>>> {
  const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM feedback f WHERE f.id = ANY($1::uuid[])`, [ids]);
  return new Map(rows.map((row) => [row.id, feedbackEventData(row)]));
}

/** feedback.created events from ingestion carry only the feedback id: their data is read when they are dispatched. */
export const hydrateCreatedFeedback: Hydrator = async (tx, events) => {
  const byFeedback = await feedbackEventDataById(tx, events.map((event) => event.subjectId!).filter(Boolean));
  return new Map(events.flatMap((event) => {
    const data = byFeedback.get(event.subjectId ?? '');
    return data ? [[event.id, data] as const] : [];
  }));
};
