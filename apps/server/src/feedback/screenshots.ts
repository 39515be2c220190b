import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { recordAuditEvent, type Actor } from '../audit/service.js';
import { withTenant } from '../db/tenant.js';
import { AppError } from '../errors.js';
import type { Keyring } from '../keys/service.js';
import { inProjectScope } from '../projects/service.js';
import { reencodeScreenshot } from '../security/images.js';
import type { IngestProject } from './ingest.js';
import type { FeedbackTarget } from './store.js';

// An uploaded screenshot not attached to a feedback within this time is deleted.
const UNCLAIMED_MS = 60 * 60 * 1000;

const imageField = (orgId: string, id: string) => ({ orgId, table: 'screenshots', column: 'image', rowId: id });

/** Stores a visitor's screenshot, re-encoded and sealed; returns the id the feedback refers to. */
export async function storeScreenshot(pool: pg.Pool, keyring: Keyring, project: IngestProject, bytes: Buffer, now: Date): Promise<string> {
  if (!project.settings.screenshot.enabled) throw new AppError('screenshots_disabled', 'This project does not accept screenshots.');
  const image = await reencodeScreenshot(bytes);
  const id = randomUUID();
  return withTenant(pool, project.orgId, async (tx) => {
    const sealed = await keyring.seal(tx, image.data, imageField(project.orgId, id));
    await tx.query(
      'INSERT INTO screenshots (id, org_id, project_id, content_type, image_enc, width, height, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [id, project.orgId, project.id, image.contentType, sealed, image.width, image.height, now],
    );
    await tx.query(
      'DELETE FROM screenshots s WHERE s.org_id = $1 AND s.created_at < $2 AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.screenshot_id = s.id)',
      [project.orgId, new Date(now.getTime() - UNCLAIMED_MS)],
    );
    return id;
  });
}

/**
 * The screenshot sent with a feedback, or 404 (also for feedback outside the
 * caller's projects). A screenshot may show anything on the reporter's
 * screen, so each read is recorded (feedback.screenshot_viewed) in the same
 * transaction.
 */
export async function readScreenshot(pool: pg.Pool, keyring: Keyring, target: FeedbackTarget, actor: Actor, now: Date): Promise<{ data: Buffer; contentType: string }> {
  const { orgId, feedbackId } = target;
  return withTenant(pool, orgId, async (tx) => {
    const { rows } = await tx.query<{ id: string; project_id: string; content_type: string; image_enc: Buffer }>(
      `SELECT s.id, f.project_id, s.content_type, s.image_enc FROM feedback f JOIN screenshots s ON s.id = f.screenshot_id
        WHERE f.id = $1 AND ${inProjectScope('f.project_id', 2)}`,
      [feedbackId, target.scope],
    );
    if (!rows[0]) throw new AppError('not_found', 'This feedback has no screenshot (or it is in a project you cannot see).');
    const data = await keyring.openBytes(tx, rows[0].image_enc, imageField(orgId, rows[0].id));
    await recordAuditEvent(tx, orgId, actor, { action: 'feedback.screenshot_viewed', target: { type: 'feedback', id: feedbackId }, data: { projectId: rows[0].project_id } }, now);
    return { data, contentType: rows[0].content_type };
  });
}
