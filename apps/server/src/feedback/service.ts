import type { FastifyReply } from 'fastify';
import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { withTenant, type Tx } from '../db/tenant.js';
import { emitEvent, emitEvents } from '../events/service.js';
import { AppError } from '../errors.js';
import type { Keyring } from '../keys/service.js';
import { inProjectScope, type ProjectScope } from '../projects/service.js';
import type { FrontDoor } from '../widget/front-door.js';
import { feedbackEventDataById } from './events.js';
import { ingestFeedback, type ProjectDirectory, type Submission } from './ingest.js';
import type { Feedback, FeedbackChanges, Reporter } from './schema.js';
import { feedbackNotFound, findFeedback, lockFeedback, type FeedbackTarget } from './store.js';
import type { FeedbackWriter } from './writer.js';

export async function getFeedback(pool: pg.Pool, target: FeedbackTarget): Promise<Feedback> {
  return withTenant(pool, target.orgId, (tx) => findFeedback(tx, target));
}

type SealedRow = {
  id: string; project_id: string; email_enc: Buffer | null; ip_enc: Buffer | null; user_agent_enc: Buffer | null; custom_enc: Buffer | null;
  identity_enc: Buffer | null; identity_verified: boolean | null; metadata_enc: Buffer | null; context_enc: Buffer | null; consent: boolean | null;
};

type BrowserContext = { browser?: string; os?: string; consoleErrors?: { message: string; stack?: string }[] };

/**
 * The reporter's personal data, opened from its sealed columns. Each read is
 * recorded (feedback.reporter_viewed) in the same transaction, so nobody sees
 * it without the audit log saying who did and when.
 */
export async function readReporter(pool: pg.Pool, keyring: Keyring, target: FeedbackTarget, actor: Actor, now: Date): Promise<Reporter> {
  const { orgId } = target;
  return withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query<SealedRow>(
      `SELECT id, project_id, email_enc, ip_enc, user_agent_enc, custom_enc, identity_enc, identity_verified, metadata_enc, context_enc, consent
         FROM feedback WHERE id = $1 AND ${inProjectScope('project_id', 2)}`,
      [target.feedbackId, target.scope],
    );
    const row = rows[0];
    if (!row) throw feedbackNotFound();
    const open = async (column: string, sealed: Buffer | null) => (sealed ? keyring.open(tx, sealed, { orgId, table: 'feedback', column, rowId: row.id }) : null);
    const parsed = async <T>(column: string, sealed: Buffer | null): Promise<T | null> => {
      const text = await open(column, sealed);
      return text === null ? null : (JSON.parse(text) as T);
    };
    const identity = await parsed<{ id: string; email: string | null; name: string | null }>('identity', row.identity_enc);
    const context = (await parsed<BrowserContext>('context', row.context_enc)) ?? {};
    const reporter: Reporter = {
      email: await open('email', row.email_enc),
      ip: await open('ip', row.ip_enc),
      userAgent: await open('user_agent', row.user_agent_enc),
      identity: identity && { ...identity, verified: row.identity_verified === true },
      custom: (await parsed<Record<string, string>>('custom', row.custom_enc)) ?? {},
      metadata: (await parsed<Record<string, string | number | boolean>>('metadata', row.metadata_enc)) ?? {},
      browser: context.browser ?? null,
      os: context.os ?? null,
      consoleErrors: (context.consoleErrors ?? []).map((e) => ({ message: e.message, stack: e.stack ?? null })),
      consent: row.consent,
    };
    await recordAuditEvent(tx, orgId, actor, { action: 'feedback.reporter_viewed', target: { type: 'feedback', id: row.id }, data: { projectId: row.project_id } }, now);
    return reporter;
  });
}

/** What a change did, as the audit log and the feedback.updated event tell it. */
type ChangeRecord = {
  status?: { from: string; to: string };
  assigneeId?: { from: string | null; to: string | null };
  labelIds?: { added: string[]; removed: string[] };
};

const invalid = (detail: string) => new AppError('validation_failed', detail);

/** Refuses an assignee who is not a member able to see the project. */
async function checkAssignee(tx: Tx, orgId: string, projectId: string, userId: string): Promise<void> {
  const { rowCount } = await tx.query(
    'SELECT 1 FROM memberships WHERE org_id = $1 AND user_id = $2 AND (project_ids IS NULL OR $3 = ANY(project_ids))',
    [orgId, userId, projectId],
  );
  if (rowCount === 0) throw invalid(`assigneeId ${userId} is not a member of this organization who can see this feedback's project.`);
}

/** The labels to add and remove; refuses ids that are not labels of the organization (locking those that are against deletion meanwhile). */
async function labelChanges(tx: Tx, feedbackId: string, wanted: string[]): Promise<{ added: string[]; removed: string[] }> {
  const known = await tx.query<{ id: string }>('SELECT id FROM labels WHERE id = ANY($1::uuid[]) FOR KEY SHARE', [wanted]);
  const unknown = wanted.filter((id) => !known.rows.some((row) => row.id === id));
  if (unknown.length > 0) throw invalid(`labelIds: ${unknown.join(', ')} ${unknown.length === 1 ? 'is not a label' : 'are not labels'} of this organization.`);
  const { rows } = await tx.query<{ label_id: string }>('SELECT label_id FROM feedback_labels WHERE feedback_id = $1', [feedbackId]);
  const current = rows.map((row) => row.label_id);
  return { added: wanted.filter((id) => !current.includes(id)).sort(), removed: current.filter((id) => !wanted.includes(id)).sort() };
}

/**
 * Triage: status, assignee and labels. Checked against the version the
 * caller read (If-Match) under the row's lock; a real change raises the
 * version, is audited with what changed from what, and emits
 * feedback.updated. Sending the values it already has changes nothing.
 */
export async function updateFeedback(
  pool: pg.Pool, target: FeedbackTarget, changes: FeedbackChanges, expectedVersion: number | undefined, actor: Actor, now: Date,
): Promise<Feedback> {
  const { orgId, feedbackId } = target;
  return withTenant(pool, orgId, async (tx) => {
    const before = await lockFeedback(tx, target, expectedVersion);
    const record: ChangeRecord = {};
    if (changes.status !== undefined && changes.status !== before.status) record.status = { from: before.status, to: changes.status };
    if (changes.assigneeId !== undefined && changes.assigneeId !== before.assignee_id) {
      if (changes.assigneeId !== null) await checkAssignee(tx, orgId, before.project_id, changes.assigneeId);
      record.assigneeId = { from: before.assignee_id, to: changes.assigneeId };
    }
    if (changes.labelIds !== undefined) {
      const labels = await labelChanges(tx, feedbackId, changes.labelIds);
      if (labels.added.length > 0 || labels.removed.length > 0) record.labelIds = labels;
    }
    if (Object.keys(record).length === 0) return findFeedback(tx, target);
    await tx.query('UPDATE feedback SET status = $2, assignee_id = $3, updated_at = $4, version = version + 1 WHERE id = $1', [
      feedbackId, record.status?.to ?? before.status, record.assigneeId ? record.assigneeId.to : before.assignee_id, now,
    ]);
    if (record.labelIds) {
      await tx.query('DELETE FROM feedback_labels WHERE feedback_id = $1 AND label_id = ANY($2::uuid[])', [feedbackId, record.labelIds.removed]);
      await tx.query(
        'INSERT INTO feedback_labels (org_id, feedback_id, label_id, created_at) SELECT $1, $2, unnest($3::uuid[]), $4',
        [orgId, feedbackId, record.labelIds.added, before.created_at],
      );
    }
    await recordAuditEvent(tx, orgId, actor, { action: 'feedback.updated', target: { type: 'feedback', id: feedbackId }, data: record }, now);
    await announceUpdated(tx, orgId, [{ id: feedbackId, project_id: before.project_id }], record, now);
    return findFeedback(tx, target);
  });
}

/**
 * Announces changed items as feedback.updated, each with what changed and its
 * data read after the change (within the changing statement, a removed label
 * is still seen).
 */
async function announceUpdated(tx: Tx, orgId: string, items: { id: string; project_id: string }[], changes: ChangeRecord, now: Date): Promise<void> {
  const data = await feedbackEventDataById(tx, items.map((item) => item.id));
  await emitEvents(tx, orgId, items.map((item) => ({ type: 'feedback.updated', projectId: item.project_id, subjectId: item.id, data: { ...data.get(item.id), changes } })), now);
}

/**
 * Takes a label off every feedback item that has it (the label is being
 * deleted): each gets a new version, so its ETag changes, and is announced as
 * feedback.updated like a triage change. The label's deletion is the audit
 * record. Answers how many items had it. `tx` is scoped to the organization.
 */
export async function unlabelAll(tx: Tx, orgId: string, labelId: string, now: Date): Promise<number> {
  const { rows } = await tx.query<{ id: string; project_id: string }>(
    `WITH removed AS (DELETE FROM feedback_labels WHERE label_id = $1 RETURNING feedback_id)
     UPDATE feedback f SET updated_at = $2, version = version + 1 FROM removed WHERE f.id = removed.feedback_id RETURNING f.id, f.project_id`,
    [labelId, now],
  );
  await announceUpdated(tx, orgId, rows, { labelIds: { added: [], removed: [labelId] } }, now);
  return rows.length;
}

/**
 * Unassigns a member from the feedback they can no longer see: outside
 * `reach` (their new project limits; an empty list when they left). Each
 * item is changed as a triage change would change it: new version, audited,
 * announced as feedback.updated. `tx` is scoped to the organization.
 */
export async function unassignBeyond(tx: Tx, orgId: string, userId: string, reach: ProjectScope, actor: Actor, now: Date): Promise<void> {
  if (reach === null) return;
  const { rows } = await tx.query<{ id: string; project_id: string }>(
    `UPDATE feedback SET assignee_id = NULL, updated_at = $4, version = version + 1
      WHERE org_id = $1 AND assignee_id = $2 AND NOT (project_id = ANY($3::uuid[])) RETURNING id, project_id`,
    [orgId, userId, reach, now],
  );
  const record: ChangeRecord = { assigneeId: { from: userId, to: null } };
  for (const row of rows) {
    await recordAuditEvent(tx, orgId, actor, { action: 'feedback.updated', target: { type: 'feedback', id: row.id }, data: record }, now);
  }
  await announceUpdated(tx, orgId, rows, record, now);
}

/** Deletes the item with its screenshot, notes and labels; audited, and announced as feedback.deleted. */
export async function deleteFeedback(pool: pg.Pool, target: FeedbackTarget, expectedVersion: number | undefined, actor: Actor, now: Date): Promise<void> {
  const { orgId, feedbackId } = target;
  await withTenant(pool, orgId, async (tx) => {
    const before = await lockFeedback(tx, target, expectedVersion);
    await tx.query('DELETE FROM feedback WHERE id = $1', [feedbackId]);
    if (before.screenshot_id) await tx.query('DELETE FROM screenshots WHERE id = $1', [before.screenshot_id]);
    await recordAuditEvent(tx, orgId, actor, { action: 'feedback.deleted', target: { type: 'feedback', id: feedbackId }, data: { projectId: before.project_id } }, now);
    // Only ids: the item is gone, and so should its words be from what integrators receive.
    await emitEvent(tx, orgId, { type: 'feedback.deleted', projectId: before.project_id, subjectId: feedbackId, data: { id: feedbackId, projectId: before.project_id } }, now);
  });
}

export type ServerSubmissionDeps = { pool: pg.Pool; keyring: Keyring; writer: FeedbackWriter; directory: ProjectDirectory; frontDoor: FrontDoor };

export type ServerSubmissionContext = {
  scope: ProjectScope;
  ip: string;
  userAgent: string | undefined;
  /** Who sent it and their Idempotency-Key: a retry finds the first row even if its answer was lost. */
  idempotency: { principal: string; key: string } | null;
  reply: FastifyReply;
  now: Date;
};

/**
 * Feedback from the customer's own server (REST API), for projects that
 * allow it. The widget's rules for the body apply, and the spam rules and
 * the project's budget; the browser checks (Origin, proof of work or
 * captcha, honeypot, per-visitor limits) do not: the API key stands for them.
 * feedback.created is written by the batch insert, as for the widget.
 */
export async function createServerFeedback(
  deps: ServerSubmissionDeps, orgId: string, projectId: string, submission: Submission, context: ServerSubmissionContext,
): Promise<Feedback> {
  const { rows } = await withTenant(deps.pool, orgId, (tx) =>
    tx.query<{ public_key: string }>(`SELECT public_key FROM projects WHERE id = $1 AND ${inProjectScope('id', 2)}`, [projectId, context.scope]),
  );
  const project = rows[0] && (await deps.directory.find(rows[0].public_key, context.now.getTime()));
  if (!project) throw new AppError('project_not_found', 'No such project (or you cannot see it).');
  if (!project.protection.serverSubmissions) {
    throw new AppError('server_submissions_off', 'This project does not accept feedback from servers. An admin can allow it under Protection ("serverSubmissions").');
  }
  deps.frontDoor.checkSpam(project, submission);
  const id = await ingestFeedback(deps, project, submission, {
    ip: context.ip,
    userAgent: context.userAgent,
    // Namespaced by the caller: a space never occurs in the widget's keys, and two callers' keys never meet.
    idempotencyKey: context.idempotency ? `${context.idempotency.principal} ${context.idempotency.key}` : undefined,
    now: context.now,
    admit: async () => {
      await deps.frontDoor.spendBudget(project, context.reply);
      return null;
    },
    isFromServer: true,
  });
  return getFeedback(deps.pool, { orgId, feedbackId: id, scope: context.scope });
}
