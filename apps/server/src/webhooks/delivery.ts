import type { FastifyBaseLogger } from 'fastify';
import { hasPermission } from '../auth/permissions.js';
import type { Context } from '../context.js';
import { withTenant, type Tx } from '../db/tenant.js';
import type { Subscriber } from '../events/dispatcher.js';
import { wakeQueue } from '../jobs/queue.js';
import { queueMail } from '../mail/mailer.js';
import { webhookFailingMail } from '../notifications/mails.js';
import type { Role } from '../orgs/service.js';
import type { AttemptOutcome, WebhookClient } from './outbound.js';
import { originOf, payloadOf, secretField, WEBHOOKS_CHANNEL } from './message.js';
import { signedHeaders } from './signing.js';

// The delivery queue. Each event a webhook subscribes to becomes one delivery
// row (unique per webhook and event); any instance claims due rows with a
// lease (claim_webhook_deliveries, FOR UPDATE SKIP LOCKED), POSTs the signed
// message, and records the attempt. A 2xx answer ends it; anything else is
// retried with exponential backoff for 24 hours after the first attempt, then
// the delivery fails and the webhook's creator (else the owners) gets one
// e-mail a day at most. An instance that dies mid-attempt leaves its lease to
// lapse: another instance sends the same message again (same webhook-id), so
// delivery is at least once and receivers deduplicate by webhook-id.
//
// Attempts run concurrently, up to CONCURRENCY per instance and PER_WEBHOOK
// per webhook (across instances): a receiver that hangs until the deadline
// holds a few slots, never the queue, so other webhooks' deliveries go on.

/** Attempts under way at once in one instance. */
const CONCURRENCY = 64;
/** Deliveries claimed at most per round: one batch is recorded while the next is sent. */
const CLAIM = 32;
/** Attempts under way at once for one webhook, across instances. */
export const PER_WEBHOOK = 16;
/** While attempts are under way and none ends, how often to look for newly due deliveries. */
const LOOK_AGAIN_MS = 200;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const RETRY_WINDOW_MS = 24 * HOUR;
/** Waits after the 1st, 2nd, … failed attempt; the last one repeats until the window ends. */
const BACKOFF_MS = [5_000, 30_000, 2 * MINUTE, 10 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR];
/** Beyond the attempt's own deadline, time to record it before another instance may take the delivery over. */
const LEASE_MARGIN_MS = 60_000;
/** At most one "deliveries are failing" mail per webhook in this time. */
const NOTICE_INTERVAL_MS = 24 * HOUR;

function retryDelayMs(attempt: number): number {
  return BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length) - 1]!;
}

/** The dispatcher's subscriber: a delivery per event and enabled webhook that subscribes to its type (and project). */
export const fanOutToWebhooks: Subscriber = async (tx, orgId, events, now) => {
  if (events.length === 0) return;
  const { rowCount } = await tx.query(
    `INSERT INTO webhook_deliveries (id, org_id, webhook_id, event_id, next_attempt_at, created_at)
     SELECT gen_random_uuid(), w.org_id, w.id, e.id, $2, $2
       FROM unnest($3::uuid[], $4::text[], $5::uuid[]) AS e(id, type, project_id)
       JOIN webhooks w ON w.org_id = $1 AND w.enabled AND e.type = ANY(w.events) AND (w.project_id IS NULL OR w.project_id = e.project_id)
     ON CONFLICT (webhook_id, event_id) DO NOTHING`,
    [orgId, now, events.map((e) => e.id), events.map((e) => e.type), events.map((e) => e.projectId)],
  );
  if (rowCount) await wakeQueue(tx, WEBHOOKS_CHANNEL);
};

type Claim = { id: string; org_id: string; webhook_id: string; attempts: number; manual: boolean };
type Message = { claim: Claim; webhookId: string; url: string; body: string; secrets: string[] };
type Sent = { message: Message; at: Date; outcome: AttemptOutcome };
type Status = 'pending' | 'succeeded' | 'failed';
type DeliveryState = { id: string; status: Status; locked_until: Date | null; first_attempt_at: Date; next_attempt_at: Date; event_type: string };

/**
 * What an attempt makes of its delivery: a 2xx ends it; a failed attempt of
 * a pending delivery is retried after the backoff, but never past 24 hours
 * after the first attempt, and fails for good at that point. A manual attempt
 * of a finished delivery leaves it as it was unless it succeeds.
 */
function nextState(state: Pick<DeliveryState, 'status' | 'first_attempt_at' | 'next_attempt_at'>, attempt: number, at: Date, ok: boolean) {
  if (ok) return { status: 'succeeded' as Status, next: state.next_attempt_at, completed: at };
  if (state.status !== 'pending') return { status: state.status, next: state.next_attempt_at, completed: null };
  const end = state.first_attempt_at.getTime() + RETRY_WINDOW_MS;
  if (at.getTime() >= end) return { status: 'failed' as Status, next: state.next_attempt_at, completed: at };
  return { status: state.status, next: new Date(Math.min(at.getTime() + retryDelayMs(attempt), end)), completed: null };
}

export class WebhookDeliveries {
  private readonly leaseMs: number;
  private readonly underWay = new Set<Promise<void>>();

  constructor(
    private readonly ctx: Context,
    private readonly client: WebhookClient,
    private readonly log: FastifyBaseLogger,
  ) {
    this.leaseMs = ctx.config.webhooks.timeoutMs + LEASE_MARGIN_MS;
  }

  /**
   * One round of the queue (see Queues): claims as many due deliveries as
   * there are free slots and starts them. True while attempts are under way,
   * so the queue keeps coming back (after one ends, or shortly, to pick up
   * new deliveries) and settles only once every attempt is recorded.
   */
  readonly round = async (): Promise<boolean> => {
    const room = Math.min(CLAIM, CONCURRENCY - this.underWay.size);
    let claimed = 0;
    if (room > 0) {
      const now = this.ctx.clock.now();
      const lease = new Date(now.getTime() + this.leaseMs);
      const { rows: claims } = await this.ctx.db.app.query<Claim>('SELECT * FROM claim_webhook_deliveries($1, $2, $3, $4)', [now, lease, room, PER_WEBHOOK]);
      claimed = claims.length;
      const byWebhook = new Map<string, Claim[]>();
      for (const claim of claims) byWebhook.set(claim.webhook_id, [...(byWebhook.get(claim.webhook_id) ?? []), claim]);
      for (const group of byWebhook.values()) this.start(this.deliver(group[0]!.org_id, group, now, lease));
    }
    if (this.underWay.size === 0) return false;
    // A full claim: more may be due already, look again at once. No room, or
    // fewer due than room: wait for an attempt to end, or shortly, for new deliveries.
    if (room === 0 || claimed < room) await Promise.race([...this.underWay, new Promise((resolve) => setTimeout(resolve, LOOK_AGAIN_MS).unref())]);
    return true;
  };

  /** Resolves once every attempt under way is recorded (at shutdown, after the queue stopped). */
  async drained(): Promise<void> {
    while (this.underWay.size > 0) await Promise.allSettled([...this.underWay]);
  }

  private start(work: Promise<void>): void {
    const tracked: Promise<void> = work
      .catch((error: unknown) => this.log.error({ err: error }, 'webhook attempts could not be recorded; they are made again once their lease lapses'))
      .finally(() => this.underWay.delete(tracked));
    this.underWay.add(tracked);
  }

  /**
   * One webhook's claimed deliveries: sent concurrently, then recorded in one
   * transaction (one commit per webhook and round, not one per attempt).
   */
  private async deliver(orgId: string, claims: Claim[], now: Date, lease: Date): Promise<void> {
    const messages = await this.messagesOf(orgId, claims, now);
    const sent = await Promise.all(messages.map(async (message): Promise<Sent> => {
      const at = this.ctx.clock.now();
      return { message, at, outcome: await this.client.post(message.url, message.body, signedHeaders(message.secrets, message.claim.id, at, message.body)) };
    }));
    await withTenant(this.ctx.db.app, orgId, (tx) => this.record(tx, orgId, sent, lease));
  }

  /** What to send for each claimed delivery of one organization (a delivery whose webhook was just deleted is skipped). */
  private messagesOf(orgId: string, claims: Claim[], now: Date): Promise<Message[]> {
    return withTenant(this.ctx.db.app, orgId, async (tx) => {
      const { rows } = await tx.query<{
        id: string; webhook_id: string; url: string; secret_enc: Buffer; previous_secret_enc: Buffer | null; previous_secret_expires_at: Date | null;
        type: string; data: Record<string, unknown>; created_at: Date;
      }>(
        `SELECT d.id, d.webhook_id, w.url, w.secret_enc, w.previous_secret_enc, w.previous_secret_expires_at, e.type, e.data, e.created_at
           FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id
          WHERE d.id = ANY($1::uuid[])`,
        [claims.map((claim) => claim.id)],
      );
      // Deliveries of one webhook share its secrets: each is opened once per round.
      const secretsOf = new Map<string, string[]>();
      const messages: Message[] = [];
      for (const row of rows) {
        let secrets = secretsOf.get(row.webhook_id);
        if (!secrets) {
          secrets = [await this.ctx.keyring.open(tx, row.secret_enc, secretField(orgId, row.webhook_id, 'secret'))];
          if (row.previous_secret_enc && row.previous_secret_expires_at && row.previous_secret_expires_at > now) {
            secrets.push(await this.ctx.keyring.open(tx, row.previous_secret_enc, secretField(orgId, row.webhook_id, 'previous_secret')));
          }
          secretsOf.set(row.webhook_id, secrets);
        }
        const body = JSON.stringify(payloadOf({ type: row.type, createdAt: row.created_at, data: row.data }));
        messages.push({ claim: claims.find((claim) => claim.id === row.id)!, webhookId: row.webhook_id, url: row.url, body, secrets });
      }
      return messages;
    });
  }

  /**
   * Logs the attempts and decides what comes next for each delivery, in
   * three statements whatever their number. A delivery that is gone (its
   * webhook deleted meanwhile) is skipped; one whose lease lapsed is logged
   * but left to the instance that holds it now.
   */
  private async record(tx: Tx, orgId: string, sent: Sent[], lease: Date): Promise<void> {
    const { rows } = await tx.query<DeliveryState>(
      `SELECT d.id, d.status, d.locked_until, d.first_attempt_at, d.next_attempt_at, e.type AS event_type
         FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = ANY($1::uuid[]) ORDER BY d.id FOR UPDATE OF d`,
      [sent.map(({ message }) => message.claim.id)],
    );
    const states = new Map(rows.map((row) => [row.id, row]));
    const logged = sent.filter(({ message }) => states.has(message.claim.id));
    const column = <T>(pick: (one: Sent) => T) => logged.map(pick);
    await tx.query(
      `INSERT INTO webhook_attempts (org_id, delivery_id, attempt, at, duration_ms, status_code, response_head, error, manual)
       SELECT $1, * FROM unnest($2::uuid[], $3::int[], $4::timestamptz[], $5::int[], $6::int[], $7::text[], $8::text[], $9::boolean[])`,
      [
        orgId, column((s) => s.message.claim.id), column((s) => s.message.claim.attempts), column((s) => s.at), column((s) => s.outcome.durationMs),
        column((s) => s.outcome.statusCode), column((s) => s.outcome.responseHead), column((s) => s.outcome.error), column((s) => s.message.claim.manual),
      ],
    );
    const held = logged.filter(({ message }) => states.get(message.claim.id)!.locked_until?.getTime() === lease.getTime());
    const decided = held.map((one) => {
      const before = states.get(one.message.claim.id)!;
      return { one, before, after: nextState(before, one.message.claim.attempts, one.at, one.outcome.ok) };
    });
    await tx.query(
      `UPDATE webhook_deliveries d SET status = u.status, next_attempt_at = u.next, completed_at = coalesce(u.completed, d.completed_at), manual = false, locked_until = NULL
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[]) AS u(id, status, next, completed) WHERE d.id = u.id`,
      [decided.map((d) => d.one.message.claim.id), decided.map((d) => d.after.status), decided.map((d) => d.after.next), decided.map((d) => d.after.completed)],
    );
    for (const { one, before, after } of decided) {
      if (after.status === 'failed' && before.status === 'pending') await this.tellOwners(tx, one, before.event_type);
    }
  }

  /** Mails the webhook's creator (else the owners) that a delivery failed for good: once a day per webhook at most. */
  private async tellOwners(tx: Tx, { message, at, outcome }: Sent, eventType: string): Promise<void> {
    const orgId = message.claim.org_id;
    const { rows: hooks } = await tx.query<{ created_by: string | null; description: string }>(
      `UPDATE webhooks SET failure_notified_at = $2 WHERE id = $1 AND (failure_notified_at IS NULL OR failure_notified_at <= $3) RETURNING created_by, description`,
      [message.webhookId, at, new Date(at.getTime() - NOTICE_INTERVAL_MS)],
    );
    if (!hooks[0]) return;
    const { rows: people } = await tx.query<{ user_id: string; email: string; role: Role }>(
      `SELECT m.user_id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND (m.user_id = $2 OR m.role = 'owner') ORDER BY u.email`,
      [orgId, hooks[0].created_by],
    );
    const creator = people.find((person) => person.user_id === hooks[0]!.created_by && hasPermission(person.role, 'webhooks_read'));
    const recipients = creator ? [creator] : people.filter((person) => person.role === 'owner');
    const { rows: orgs } = await tx.query<{ name: string }>('SELECT name FROM organizations WHERE id = $1', [orgId]);
    const failure = {
      orgName: orgs[0]?.name ?? 'your organization',
      origin: originOf(message.url),
      description: hooks[0].description,
      eventType,
      deliveryId: message.claim.id,
      attempts: message.claim.attempts,
      lastAt: at,
      lastError: outcome.error ?? `HTTP ${outcome.statusCode}`,
      logLink: new URL(`/orgs/${orgId}/webhooks/${message.webhookId}`, this.ctx.config.publicUrl).href,
    };
    for (const person of recipients) await queueMail(tx, this.ctx.keyring, webhookFailingMail(person.email, failure), at);
  }
}
