import type { Context } from '../context.js';
import type { Subscriber } from '../events/dispatcher.js';
import { queueMail } from '../mail/mailer.js';
import { dashboardLinks, instantMail, type FeedbackSummary } from './mails.js';
import { memberSeesProject } from './service.js';

type Recipient = { project_id: string; project_name: string; email: string };

/** The event data of feedback.created (feedback_event_data, migration 9), as far as a mail uses it. */
function summaryOf(data: Record<string, unknown>): FeedbackSummary | null {
  if (typeof data.id !== 'string' || typeof data.message !== 'string') return null;
  return {
    id: data.id,
    message: data.message,
    type: typeof data.type === 'string' ? data.type : null,
    rating: typeof data.rating === 'number' ? data.rating : null,
    ratingScale: typeof data.ratingScale === 'string' ? data.ratingScale : null,
  };
}

/**
 * A mail for each new feedback to each member who chose "instant" for its
 * project and may still see it, queued in the dispatcher's transaction: the
 * event is marked dispatched exactly when its mails are in the outbox.
 */
export function instantNotifications(ctx: Context): Subscriber {
  const links = dashboardLinks(ctx.config.publicUrl);
  return async (tx, orgId, events, now) => {
    const announced = events.flatMap((event) => {
      const summary = event.type === 'feedback.created' && event.projectId ? summaryOf(event.data) : null;
      return summary ? [{ projectId: event.projectId!, summary }] : [];
    });
    if (announced.length === 0) return;
    const { rows: recipients } = await tx.query<Recipient>(
      `SELECT s.project_id, p.name AS project_name, u.email
         FROM notification_settings s
         JOIN memberships m ON m.org_id = s.org_id AND m.user_id = s.user_id
         JOIN users u ON u.id = s.user_id
         JOIN projects p ON p.id = s.project_id
        WHERE s.org_id = $1 AND s.mode = 'instant' AND s.project_id = ANY($2::uuid[]) AND ${memberSeesProject('s.project_id')}
        ORDER BY u.email`,
      [orgId, [...new Set(announced.map((c) => c.projectId))]],
    );
    if (recipients.length === 0) return;
    // Feedback deleted before its event was dispatched (spam, an erasure request) is not mailed out.
    const { rows: kept } = await tx.query<{ id: string }>('SELECT id FROM feedback WHERE id = ANY($1::uuid[])', [announced.map((c) => c.summary.id)]);
    const existing = new Set(kept.map((row) => row.id));
    const created = announced.filter((c) => existing.has(c.summary.id));
    if (created.length === 0) return;
    const { rows: orgs } = await tx.query<{ name: string }>('SELECT name FROM organizations WHERE id = $1', [orgId]);
    const org = { id: orgId, name: orgs[0]!.name };
    for (const { projectId, summary } of created) {
      for (const recipient of recipients.filter((r) => r.project_id === projectId)) {
        await queueMail(tx, ctx.keyring, instantMail(recipient.email, links, org, { name: recipient.project_name }, summary), now);
      }
    }
  };
}
