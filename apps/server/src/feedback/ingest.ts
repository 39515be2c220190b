import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { AppError } from '../errors.js';
import type { Keyring } from '../keys/service.js';
import { compileDomains, isOriginAllowed, type DomainRule } from '../projects/domains.js';
import { sealField } from '../security/crypto.js';
import { normalizeEmail } from '../users/service.js';
import type { FeedbackWriter } from './writer.js';

export type IngestProject = { id: string; orgId: string; rules: DomainRule[] };

const PROJECT_KEY = /^pk_[A-Za-z0-9_-]{22}$/;
const MAX_CACHED = 10_000;

/**
 * Resolves public widget keys to projects. Ingestion must not pay a database
 * round trip per request, so answers (unknown keys too) are kept for a few
 * seconds; an allowed-domain change reaches every instance within that time.
 */
export class ProjectDirectory {
  private readonly cache = new Map<string, { project: IngestProject | null; until: number }>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly ttlMs: number,
  ) {}

  async find(key: string, nowMs: number): Promise<IngestProject | null> {
    if (!PROJECT_KEY.test(key)) return null;
    const hit = this.cache.get(key);
    if (hit && hit.until > nowMs) return hit.project;
    const { rows } = await this.pool.query<{ id: string; org_id: string; allowed_domains: string[] }>('SELECT * FROM project_by_public_key($1)', [key]);
    const project = rows[0] ? { id: rows[0].id, orgId: rows[0].org_id, rules: compileDomains(rows[0].allowed_domains) } : null;
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, { project, until: nowMs + this.ttlMs });
    return project;
  }

  forget(key: string): void {
    this.cache.delete(key);
  }
}

/** The Origin check of SECURITY.md case 1: only a listed site may submit. */
export function checkOrigin(origin: string | undefined, project: IngestProject): void {
  if (origin === undefined || origin === '') throw new AppError('origin_missing', 'Feedback must be sent by the widget from a web page (no Origin header).');
  if (!isOriginAllowed(origin, project.rules)) throw new AppError('origin_not_allowed', 'This site is not allowed to send feedback to this project.');
}

export type Submission = {
  message: string;
  rating?: number;
  type?: string;
  email?: string;
  pageUrl?: string;
  locale?: string;
  viewport?: { width: number; height: number };
  custom?: Record<string, string>;
};

export type SubmissionContext = { ip: string; userAgent: string | undefined; idempotencyKey: string | undefined; now: Date };

export async function ingestFeedback(
  deps: { pool: pg.Pool; keyring: Keyring; writer: FeedbackWriter },
  project: IngestProject,
  submission: Submission,
  context: SubmissionContext,
): Promise<string> {
  if (submission.pageUrl !== undefined && !isWebUrl(submission.pageUrl)) {
    throw new AppError('validation_failed', 'pageUrl must be an http:// or https:// URL.');
  }
  const { orgId } = project;
  const key = await deps.keyring.currentKeyFor(deps.pool, orgId);
  const id = randomUUID();
  const seal = (column: string, value: string) => sealField(key, value, { orgId, table: 'feedback', column, rowId: id });
  const email = submission.email === undefined ? undefined : normalizeEmail(submission.email);
  return deps.writer.write({
    id,
    orgId,
    projectId: project.id,
    idempotencyKey: context.idempotencyKey ?? null,
    rating: submission.rating ?? null,
    type: submission.type ?? null,
    message: submission.message,
    emailEnc: email === undefined ? null : seal('email', email),
    emailIndex: email === undefined ? null : deps.keyring.blindIndex(orgId, 'email', email),
    ipEnc: seal('ip', context.ip),
    userAgentEnc: context.userAgent === undefined ? null : seal('user_agent', context.userAgent.slice(0, 1000)),
    customEnc: submission.custom === undefined ? null : seal('custom', JSON.stringify(submission.custom)),
    pageUrl: submission.pageUrl ?? null,
    locale: submission.locale ?? null,
    viewportWidth: submission.viewport?.width ?? null,
    viewportHeight: submission.viewport?.height ?? null,
    createdAt: context.now,
  });
}

function isWebUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
