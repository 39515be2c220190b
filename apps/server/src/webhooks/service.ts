import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { withTenant, type Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { EVENT_TYPES, type EventType } from '../events/service.js';
import { decodeCursor, pageOf } from '../http/cursor.js';
import { assertVersion } from '../http/etag.js';
import { wakeQueue } from '../jobs/queue.js';
import type { Keyring } from '../keys/service.js';
import { inProjectScope, type ProjectScope } from '../projects/service.js';
import { originOf, payloadOf, secretField, WEBHOOKS_CHANNEL } from './message.js';
import { newWebhookSecret } from './signing.js';

// Managing webhooks: where events go, which ones, and the secret that signs
// them. A URL is checked when saved (scheme, credentials, internal IP
// addresses) by the same rules the delivery client applies before each
// attempt. The secret is shown once, when made; the database keeps it sealed
// under the organization's key.

export const MAX_WEBHOOKS = 50;
export const MAX_OVERLAP_HOURS = 72;
/** Events about the organization as a whole (no project): only organization-wide webhooks hear them. */
const ORGANIZATION_EVENTS: readonly EventType[] = EVENT_TYPES.filter((type) => type.startsWith('member.'));

export type Webhook = {
  id: string;
  url: string;
  description: string;
  events: EventType[];
  projectId: string | null;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  createdBy: { id: string; name: string; email: string } | null;
  /** Until when the secret replaced by the last rotation still signs too; null when only one secret signs. */
  previousSecretExpiresAt: Date | null;
  version: number;
};

/** Who acts: the audit actor, the user (a key's creator for API keys) and the projects they may reach. */
export type Caller = { actor: Actor; userId: string; scope: ProjectScope };

/** Judges a target URL (WebhookClient.targetProblem): why it may not be used, or null. */
export type TargetCheck = { targetProblem(url: string): string | null };

const VIEW = `SELECT w.id, w.url, w.description, w.events, w.project_id AS "projectId", w.enabled, w.created_at AS "createdAt",
                     w.updated_at AS "updatedAt", w.version, w.previous_secret_expires_at AS "previousSecretExpiresAt",
                     CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'name', u.name, 'email', u.email) END AS "createdBy"
                FROM webhooks w LEFT JOIN users u ON u.id = w.created_by`;

/** An expired overlap is no overlap. */
const present = (row: Webhook, now: Date): Webhook => ({
  ...row,
  previousSecretExpiresAt: row.previousSecretExpiresAt && row.previousSecretExpiresAt > now ? row.previousSecretExpiresAt : null,
});

/**
 * One webhook within the caller's projects (organization-wide webhooks are
 * beyond a caller limited to some projects), locked for a change when
 * `forUpdate`; 404 otherwise.
 */
async function findWebhook(tx: Tx, webhookId: string, scope: ProjectScope, now: Date, forUpdate = false): Promise<Webhook> {
  const lock = forUpdate ? 'FOR UPDATE OF w' : '';
  const { rows } = await tx.query<Webhook>(`${VIEW} WHERE w.id = $1 AND ${inProjectScope('w.project_id', 2)} ${lock}`, [webhookId, scope]);
  if (!rows[0]) throw new AppError('not_found', 'No such webhook.');
  return present(rows[0], now);
}

/** The target and subscription rules a webhook must meet, whoever saves it. */
async function checkSubscription(tx: Tx, targets: TargetCheck, caller: Caller, hook: { url: string; events: EventType[]; projectId: string | null }): Promise<void> {
  const problem = targets.targetProblem(hook.url);
  if (problem) throw new AppError('webhook_url_invalid', problem);
  if (hook.projectId === null) {
    if (caller.scope !== null) {
      throw new AppError('forbidden', 'You can reach only some projects, so you can manage only webhooks of those projects: give a projectId.');
    }
    return;
  }
  const { rowCount } = await tx.query(`SELECT 1 FROM projects WHERE id = $1 AND ${inProjectScope('id', 2)}`, [hook.projectId, caller.scope]);
  if (rowCount === 0) throw new AppError('project_not_found', 'No such project.');
  const orgWide = hook.events.filter((type) => ORGANIZATION_EVENTS.includes(type));
  if (orgWide.length > 0) {
    throw new AppError('validation_failed', `${orgWide.join(', ')} concern the whole organization, not a project: subscribe to them with an organization-wide webhook (projectId null).`);
  }
}

export async function listWebhooks(pool: pg.Pool, orgId: string, scope: ProjectScope, now: Date): Promise<Webhook[]> {
  return withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query<Webhook>(`${VIEW} WHERE ${inProjectScope('w.project_id', 1)} ORDER BY w.created_at, w.id`, [scope]);
    return rows.map((row) => present(row, now));
  });
}

export async function getWebhook(pool: pg.Pool, orgId: string, webhookId: string, scope: ProjectScope, now: Date): Promise<Webhook> {
  return withTenant(pool, orgId, (tx) => findWebhook(tx, webhookId, scope, now));
}

export type NewWebhook = { url: string; description: string; events: EventType[]; projectId: string | null; enabled: boolean };

/** Creates a webhook and its secret (returned once). */
export async function createWebhook(
  pool: pg.Pool, keyring: Keyring, targets: TargetCheck, orgId: string, caller: Caller, input: NewWebhook, now: Date,
): Promise<{ webhook: Webhook; secret: string }> {
  return withTenant(pool, orgId, async (tx) => {
    await checkSubscription(tx, targets, caller, input);
    // One creation at a time per organization, so the count below holds.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`parley:webhooks:${orgId}`]);
    const { rows: counted } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM webhooks');
    if (counted[0]!.n >= MAX_WEBHOOKS) throw new AppError('conflict', `An organization can have at most ${MAX_WEBHOOKS} webhooks. Delete one you no longer use first.`);
    const id = randomUUID();
    const secret = newWebhookSecret();
    await tx.query(
      `INSERT INTO webhooks (id, org_id, project_id, url, description, events, enabled, secret_enc, created_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
      [id, orgId, input.projectId, input.url, input.description, input.events, input.enabled, await keyring.seal(tx, secret, secretField(orgId, id, 'secret')), caller.userId, now],
    );
    const data = { url: originOf(input.url), events: input.events, projectId: input.projectId, enabled: input.enabled };
    await recordAuditEvent(tx, orgId, caller.actor, { action: 'webhook.created', target: { type: 'webhook', id }, data }, now);
    return { webhook: await findWebhook(tx, id, caller.scope, now), secret };
  });
}

export type WebhookChanges = Partial<NewWebhook>;

/** Changes a webhook (If-Match: `expectedVersion`). */
export async function updateWebhook(
  pool: pg.Pool, targets: TargetCheck, orgId: string, webhookId: string, caller: Caller, changes: WebhookChanges, expectedVersion: number | undefined, now: Date,
): Promise<Webhook> {
  return withTenant(pool, orgId, async (tx) => {
    const before = await findWebhook(tx, webhookId, caller.scope, now, true);
    assertVersion(before.version, expectedVersion);
    const after = { ...before, ...changes };
    await checkSubscription(tx, targets, caller, after);
    await tx.query(
      `UPDATE webhooks SET url = $2, description = $3, events = $4, project_id = $5, enabled = $6, updated_at = $7, version = version + 1 WHERE id = $1`,
      [webhookId, after.url, after.description, after.events, after.projectId, after.enabled, now],
    );
    const data: Record<string, unknown> = {};
    if (after.url !== before.url) data.url = { from: originOf(before.url), to: originOf(after.url) };
    for (const field of ['description', 'projectId', 'enabled'] as const) {
      if (after[field] !== before[field]) data[field] = { from: before[field], to: after[field] };
    }
    if (after.events.join() !== before.events.join()) data.events = { from: before.events, to: after.events };
    await recordAuditEvent(tx, orgId, caller.actor, { action: 'webhook.updated', target: { type: 'webhook', id: webhookId }, data }, now);
    return findWebhook(tx, webhookId, caller.scope, now);
  });
}

/** Deletes a webhook with its delivery log; deliveries under way finish, unrecorded. */
export async function deleteWebhook(pool: pg.Pool, orgId: string, webhookId: string, caller: Caller, expectedVersion: number | undefined, now: Date): Promise<void> {
  await withTenant(pool, orgId, async (tx) => {
    const webhook = await findWebhook(tx, webhookId, caller.scope, now, true);
    assertVersion(webhook.version, expectedVersion);
    await tx.query('DELETE FROM webhooks WHERE id = $1', [webhookId]);
    await recordAuditEvent(tx, orgId, caller.actor, { action: 'webhook.deleted', target: { type: 'webhook', id: webhookId }, data: { url: originOf(webhook.url) } }, now);
  });
}

/**
 * Replaces the signing secret (returned once). For `overlapHours` the old
 * secret signs too, so receivers can switch without missing a message; 0
 * retires it at once (a leaked secret).
 */
export async function rotateWebhookSecret(
  pool: pg.Pool, keyring: Keyring, orgId: string, webhookId: string, caller: Caller, overlapHours: number, expectedVersion: number | undefined, now: Date,
): Promise<{ webhook: Webhook; secret: string }> {
  return withTenant(pool, orgId, async (tx) => {
    const webhook = await findWebhook(tx, webhookId, caller.scope, now, true);
    assertVersion(webhook.version, expectedVersion);
    const { rows } = await tx.query<{ secret_enc: Buffer }>('SELECT secret_enc FROM webhooks WHERE id = $1', [webhookId]);
    const secret = newWebhookSecret();
    const previous = overlapHours > 0 ? await keyring.open(tx, rows[0]!.secret_enc, secretField(orgId, webhookId, 'secret')) : null;
    await tx.query(
      `UPDATE webhooks SET secret_enc = $2, previous_secret_enc = $3, previous_secret_expires_at = $4, updated_at = $5, version = version + 1 WHERE id = $1`,
      [
        webhookId,
        await keyring.seal(tx, secret, secretField(orgId, webhookId, 'secret')),
        previous === null ? null : await keyring.seal(tx, previous, secretField(orgId, webhookId, 'previous_secret')),
        previous === null ? null : new Date(now.getTime() + overlapHours * 3_600_000),
        now,
      ],
    );
    await recordAuditEvent(tx, orgId, caller.actor, { action: 'webhook.secret_rotated', target: { type: 'webhook', id: webhookId }, data: { overlapHours } }, now);
    return { webhook: await findWebhook(tx, webhookId, caller.scope, now), secret };
  });
}

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export type Attempt = {
  attempt: number;
  at: Date;
  durationMs: number | null;
  statusCode: number | null;
  responseHead: string | null;
  error: string | null;
  manual: boolean;
};

export type Delivery = {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  /** Attempts started (one cut short by a crash is counted but not logged). */
  attemptCount: number;
  /** When the next attempt is due; null when none is. */
  nextAttemptAt: Date | null;
  createdAt: Date;
  completedAt: Date | null;
  lastAttempt: Pick<Attempt, 'at' | 'durationMs' | 'statusCode' | 'error'> | null;
};

export type DeliveryDetail = Delivery & {
  /** The body every attempt sends. */
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  attempts: Attempt[];
};

const DELIVERY_VIEW = `SELECT d.id, d.webhook_id AS "webhookId", d.event_id AS "eventId", e.type AS "eventType", d.status, d.attempts AS "attemptCount",
                              CASE WHEN (d.status = 'pending' AND w.enabled) OR d.manual THEN d.next_attempt_at END AS "nextAttemptAt",
                              d.created_at AS "createdAt", d.completed_at AS "completedAt",
                              (SELECT json_build_object('at', a.at, 'durationMs', a.duration_ms, 'statusCode', a.status_code, 'error', a.error)
                                 FROM webhook_attempts a WHERE a.delivery_id = d.id ORDER BY a.attempt DESC, a.id DESC LIMIT 1) AS "lastAttempt"
                         FROM webhook_deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id`;

type DeliveryRow = Omit<Delivery, 'lastAttempt'> & { lastAttempt: { at: string; durationMs: number | null; statusCode: number | null; error: string | null } | null };

const toDelivery = ({ lastAttempt, ...row }: DeliveryRow): Delivery => ({ ...row, lastAttempt: lastAttempt && { ...lastAttempt, at: new Date(lastAttempt.at) } });

async function findDelivery(tx: Tx, webhookId: string, deliveryId: string): Promise<Delivery> {
  const { rows } = await tx.query<DeliveryRow>(`${DELIVERY_VIEW} WHERE d.id = $1 AND d.webhook_id = $2`, [deliveryId, webhookId]);
  if (!rows[0]) throw new AppError('not_found', 'No such delivery of this webhook.');
  return toDelivery(rows[0]);
}

export type DeliveryQuery = { status?: DeliveryStatus; cursor?: string; limit: number };

/** A webhook's deliveries, newest first, a page at a time. */
export async function listDeliveries(
  pool: pg.Pool, orgId: string, webhookId: string, scope: ProjectScope, query: DeliveryQuery, now: Date,
): Promise<{ items: Delivery[]; nextCursor: string | null }> {
  const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
  return withTenant(pool, orgId, async (tx) => {
    await findWebhook(tx, webhookId, scope, now);
    const { rows } = await tx.query<DeliveryRow>(
      `${DELIVERY_VIEW}
        WHERE d.webhook_id = $1 AND ($2::text IS NULL OR d.status = $2)
          AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3, $4::uuid))
        ORDER BY d.created_at DESC, d.id DESC LIMIT $5`,
      [webhookId, query.status ?? null, after?.createdAt ?? null, after?.id ?? null, query.limit + 1],
    );
    return pageOf(rows.map(toDelivery), query.limit, (delivery) => ({ createdAt: delivery.createdAt, id: delivery.id }));
  });
}

/** One delivery with the body it sends and every attempt, oldest first. */
export async function getDelivery(pool: pg.Pool, orgId: string, webhookId: string, deliveryId: string, scope: ProjectScope, now: Date): Promise<DeliveryDetail> {
  return withTenant(pool, orgId, async (tx) => {
    await findWebhook(tx, webhookId, scope, now);
    const delivery = await findDelivery(tx, webhookId, deliveryId);
    const { rows: events } = await tx.query<{ created_at: Date; data: Record<string, unknown> }>('SELECT created_at, data FROM events WHERE id = $1', [delivery.eventId]);
    const { rows: attempts } = await tx.query<Attempt>(
      `SELECT attempt, at, duration_ms AS "durationMs", status_code AS "statusCode", response_head AS "responseHead", error, manual
         FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt, id`,
      [deliveryId],
    );
    return { ...delivery, payload: payloadOf({ type: delivery.eventType, createdAt: events[0]!.created_at, data: events[0]!.data }), attempts };
  });
}

/** Asks for one more attempt now, by a person: the same message (same webhook-id), whatever the delivery's state. */
export async function redeliver(pool: pg.Pool, orgId: string, webhookId: string, deliveryId: string, caller: Caller, now: Date): Promise<Delivery> {
  return withTenant(pool, orgId, async (tx) => {
    await findWebhook(tx, webhookId, caller.scope, now);
    const { rows } = await tx.query<{ locked_until: Date | null }>('SELECT locked_until FROM webhook_deliveries WHERE id = $1 AND webhook_id = $2 FOR UPDATE', [deliveryId, webhookId]);
    if (!rows[0]) throw new AppError('not_found', 'No such delivery of this webhook.');
    if (rows[0].locked_until && rows[0].locked_until > now) {
      throw new AppError('conflict', 'This delivery is being attempted right now. Look at its log again in a moment, then redeliver if it failed.');
    }
    await tx.query('UPDATE webhook_deliveries SET manual = true, next_attempt_at = $2 WHERE id = $1', [deliveryId, now]);
    await wakeQueue(tx, WEBHOOKS_CHANNEL);
    await recordAuditEvent(tx, orgId, caller.actor, { action: 'webhook.redelivered', target: { type: 'webhook', id: webhookId }, data: { deliveryId } }, now);
    return findDelivery(tx, webhookId, deliveryId);
  });
}

export const TEST_EVENT_TYPE = 'webhook.test';

/**
 * Sends a `webhook.test` event to this webhook alone (enabled or not): a
 * delivery like any other, in the log, retried the same way.
 */
export async function sendTestEvent(pool: pg.Pool, orgId: string, webhookId: string, caller: Caller, now: Date): Promise<Delivery> {
  return withTenant(pool, orgId, async (tx) => {
    const webhook = await findWebhook(tx, webhookId, caller.scope, now);
    const eventId = randomUUID();
    const deliveryId = randomUUID();
    const data = { webhookId, message: 'A test event from Parley: this webhook reaches you and its signature checks out.' };
    // Dispatched already: it is for this webhook only, not for every subscriber.
    await tx.query(
      'INSERT INTO events (id, org_id, project_id, type, subject_id, data, created_at, dispatched_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)',
      [eventId, orgId, webhook.projectId, TEST_EVENT_TYPE, webhookId, data, now],
    );
    await tx.query(
      'INSERT INTO webhook_deliveries (id, org_id, webhook_id, event_id, manual, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, true, $5, $5)',
      [deliveryId, orgId, webhookId, eventId, now],
    );
    await wakeQueue(tx, WEBHOOKS_CHANNEL);
    await recordAuditEvent(tx, orgId, caller.actor, { action: 'webhook.test_sent', target: { type: 'webhook', id: webhookId }, data: { deliveryId } }, now);
    return findDelivery(tx, webhookId, deliveryId);
  });
}
