import type { Context } from '../context.js';
import { enterTenant, withoutTenant, type Tx } from '../db/tenant.js';
import { queueMail } from '../mail/mailer.js';
import { dashboardLinks, digestMail, DIGEST_ITEMS, type DigestProject, type FeedbackSummary, type Links } from './mails.js';
import { memberSeesProject } from './service.js';

/** The digest's queue (see Queues): nothing notifies it, the poll and settle() run its round. */
export const DIGEST_CHANNEL = 'parley_digest';

const DAY_MS = 24 * 3_600_000;

/** Today's digest time (PARLEY_DIGEST_HOUR, UTC) once it has come, else null. */
export function digestTimeToday(now: Date, hour: number): Date | null {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour));
  return now >= at ? at : null;
}

type Subscription = { user_id: string; email: string; project_id: string; project_name: string };
type News = { project_id: string; count: number; newest: FeedbackSummary[] };

/**
 * The daily digest. Once the day's hour has come, the first instance to
 * insert the day into digest_runs sends it; the insert, the reads and every
 * mail it queues are one transaction, so a crash sends nothing and the next
 * round (on any instance) sends it all, and two instances never both send.
 * Each digest covers the 24 hours before the day's digest time, so a late
 * run (the server was down at the hour) neither skips nor repeats feedback.
 * Days the server was down for entirely are not caught up.
 */
export class DailyDigest {
  // The day this instance knows to be done, to spare the database a question every poll.
  private doneDay: string | null = null;
  private readonly links: Links;

  constructor(private readonly ctx: Context) {
    this.links = dashboardLinks(ctx.config.publicUrl);
  }

  /** One round (see Queues): true when it sent the day's digest. */
  readonly round = async (): Promise<boolean> => {
    const now = this.ctx.clock.now();
    const due = digestTimeToday(now, this.ctx.config.digestHour);
    const day = due?.toISOString().slice(0, 10);
    if (!due || day === this.doneDay) return false;
    const ran = await withoutTenant(this.ctx.db.app, async (tx) => {
      const { rowCount } = await tx.query('INSERT INTO digest_runs (day, started_at) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING', [day, now]);
      if (rowCount === 0) return false;
      const window = { from: new Date(due.getTime() - DAY_MS), to: due };
      const { rows } = await tx.query<{ id: string }>('SELECT id FROM digest_org_ids() AS id');
      for (const { id } of rows) {
        await enterTenant(tx, id);
        await this.digestOrganization(tx, id, window, now);
      }
      return true;
    });
    this.doneDay = day!;
    return ran;
  };

  /** Queues each member's digest of the organization (`tx` scoped to it); none for a member with nothing new. */
  private async digestOrganization(tx: Tx, orgId: string, window: { from: Date; to: Date }, now: Date): Promise<void> {
    const { rows: subscriptions } = await tx.query<Subscription>(
      `SELECT s.user_id, u.email, s.project_id, p.name AS project_name
         FROM notification_settings s
         JOIN memberships m ON m.org_id = s.org_id AND m.user_id = s.user_id
         JOIN users u ON u.id = s.user_id
         JOIN projects p ON p.id = s.project_id
        WHERE s.org_id = $1 AND s.mode = 'daily' AND ${memberSeesProject('s.project_id')}
        ORDER BY p.created_at, p.id`,
      [orgId],
    );
    const news = await this.newsOf(tx, [...new Set(subscriptions.map((s) => s.project_id))], window);
    if (news.size === 0) return;
    const byUser = new Map<string, { email: string; projects: DigestProject[] }>();
    for (const subscription of subscriptions) {
      const found = news.get(subscription.project_id);
      if (!found) continue;
      const entry = byUser.get(subscription.user_id) ?? { email: subscription.email, projects: [] };
      entry.projects.push({ id: subscription.project_id, name: subscription.project_name, count: found.count, newest: found.newest });
      byUser.set(subscription.user_id, entry);
    }
    const { rows: orgs } = await tx.query<{ name: string }>('SELECT name FROM organizations WHERE id = $1', [orgId]);
    const org = { id: orgId, name: orgs[0]!.name };
    for (const { email, projects } of byUser.values()) {
      await queueMail(tx, this.ctx.keyring, digestMail(email, this.links, org, window, projects), now);
    }
  }

  /** Per project with new feedback in the window: how much, and the newest few (the inbox index serves both). */
  private async newsOf(tx: Tx, projectIds: string[], window: { from: Date; to: Date }): Promise<Map<string, News>> {
    const { rows } = await tx.query<News>(
      `SELECT p.id AS project_id, c.count, n.newest
         FROM unnest($1::uuid[]) AS p(id)
         CROSS JOIN LATERAL (SELECT count(*)::int AS count FROM feedback f WHERE f.project_id = p.id AND f.created_at >= $2 AND f.created_at < $3) c
         CROSS JOIN LATERAL (
           SELECT json_agg(json_build_object('id', f.id, 'type', f.type, 'rating', f.rating, 'ratingScale', f.rating_scale, 'message', left(f.message, 1000))
                           ORDER BY f.created_at DESC, f.id DESC) AS newest
             FROM (SELECT * FROM feedback f WHERE f.project_id = p.id AND f.created_at >= $2 AND f.created_at < $3
                    ORDER BY f.created_at DESC, f.id DESC LIMIT $4) f
         ) n
        WHERE c.count > 0`,
      [projectIds, window.from, window.to, DIGEST_ITEMS],
    );
    return new Map(rows.map((row) => [row.project_id, row]));
  }
}
