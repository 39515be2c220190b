import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import { withTenant } from '../db/tenant.js';
import { AppError } from '../errors.js';
import type { Keyring } from '../keys/service.js';
import { compileDomains, isOriginAllowed, type DomainRule } from '../projects/domains.js';
import { protectionWithDefaults, type ProtectionSettings } from '../projects/protection.js';
import { captchaSecretField, identitySecretField, withDefaults } from '../projects/service.js';
import { compileSpamRules, type SpamRules } from '../security/spam.js';
import { verifySubmissionToken } from '../security/submission-token.js';
import { RATING_RANGE, type WidgetSettings } from '../projects/widget-settings.js';
import { sealField } from '../security/crypto.js';
import { normalizeEmail } from '../users/service.js';
import type { FeedbackWriter } from './writer.js';

export type IngestProject = {
  id: string;
  orgId: string;
  /** The public key the snippet names it by. */
  key: string;
  rules: DomainRule[];
  settings: WidgetSettings;
  identitySecret: string | null;
  protection: ProtectionSettings;
  spam: SpamRules;
  captchaSecret: string | null;
};

const PROJECT_KEY = /^pk_[A-Za-z0-9_-]{22}$/;
const MAX_CACHED = 10_000;

type Row = {
  id: string; org_id: string; public_key: string; allowed_domains: string[]; widget_settings: Partial<WidgetSettings>; identity_secret_enc: Buffer | null;
  protection: Partial<ProtectionSettings>; captcha_secret_enc: Buffer | null;
};

/**
 * Resolves public widget keys to projects. Ingestion must not pay a database
 * round trip per request, so answers (unknown keys too) are kept for a few
 * seconds; a settings change reaches every instance within that time.
 */
export class ProjectDirectory {
  private readonly cache = new Map<string, { project: IngestProject | null; until: number }>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly keyring: Keyring,
    private readonly ttlMs: number,
  ) {}

  async find(key: string, nowMs: number): Promise<IngestProject | null> {
    if (!PROJECT_KEY.test(key)) return null;
    const hit = this.cache.get(key);
    if (hit && hit.until > nowMs) return hit.project;
    const { rows } = await this.pool.query<Row>('SELECT * FROM project_by_public_key($1)', [key]);
    const project = rows[0] ? await this.load(rows[0]) : null;
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, { project, until: nowMs + this.ttlMs });
    return project;
  }

  forget(key: string): void {
    this.cache.delete(key);
  }

  private async load(row: Row): Promise<IngestProject> {
    const { identity_secret_enc: identitySealed, captcha_secret_enc: captchaSealed } = row;
    const [identitySecret, captchaSecret] = await withTenant(this.pool, row.org_id, (tx) =>
      Promise.all([
        identitySealed ? this.keyring.open(tx, identitySealed, identitySecretField(row.org_id, row.id)) : null,
        captchaSealed ? this.keyring.open(tx, captchaSealed, captchaSecretField(row.org_id, row.id)) : null,
      ]),
    );
    const protection = protectionWithDefaults(row.protection);
    return {
      id: row.id, orgId: row.org_id, key: row.public_key, rules: compileDomains(row.allowed_domains), settings: withDefaults(row.widget_settings),
      identitySecret, protection, spam: compileSpamRules(protection.spam), captchaSecret,
    };
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
  consent?: boolean;
  custom?: Record<string, string>;
  metadata?: Record<string, string | number | boolean>;
  identity?: { id: string; email?: string; name?: string; signature?: string; token?: string };
  pageUrl?: string;
  locale?: string;
  viewport?: { width: number; height: number };
  browser?: string;
  os?: string;
  consoleErrors?: { message: string; stack?: string }[];
  screenshotId?: string;
  reporter?: string;
  challenge?: string;
  captcha?: string;
  honeypot?: string;
  elapsedMs?: number;
};

export type SubmissionContext = {
  ip: string;
  userAgent: string | undefined;
  idempotencyKey: string | undefined;
  now: Date;
  /**
   * Called once the submission is valid, just before it is stored, with the
   * id it will get: may refuse it (the project's budget) or answer with an
   * earlier feedback's id instead (a duplicate).
   */
  admit?: (id: string) => Promise<string | null>;
  /**
   * Sent by the site's own server with an API key: the identity it names is
   * taken as verified (the key vouches for it, as a signature would).
   */
  isFromServer?: boolean;
};

const invalid = (detail: string) => new AppError('validation_failed', detail);

/** Checks a submission against what the project asks for; nothing the owner switched off is accepted. */
function checkAgainstSettings(submission: Submission, settings: WidgetSettings): void {
  const range = RATING_RANGE[settings.rating];
  if (submission.rating !== undefined) {
    if (!range) throw invalid('This project does not ask for a rating.');
    if (submission.rating < range.min || submission.rating > range.max) throw invalid(`rating must be from ${range.min} to ${range.max} for this project.`);
  }
  if (submission.type !== undefined && !settings.types.some((t) => t.id === submission.type)) {
    throw invalid(`type "${submission.type}" is not one of this project's feedback types.`);
  }
  if (settings.email === 'hidden' && submission.email !== undefined) throw invalid('This project does not collect e-mail addresses.');
  if (settings.email === 'required' && submission.email === undefined) throw invalid('An e-mail address is required.');
  if (settings.consent.required && submission.consent !== true) {
    throw new AppError('consent_required', 'Please agree to the processing of your feedback before sending it.');
  }
  checkCustomFields(submission.custom ?? {}, settings);
  const context = settings.context;
  const offered: [keyof Submission, boolean][] = [
    ['pageUrl', context.pageUrl], ['browser', context.browser], ['os', context.browser], ['viewport', context.viewport],
    ['locale', context.locale], ['consoleErrors', context.consoleErrors], ['screenshotId', settings.screenshot.enabled],
  ];
  for (const [field, enabled] of offered) {
    if (!enabled && submission[field] !== undefined) throw invalid(`This project does not collect ${field}.`);
  }
}

function checkCustomFields(custom: Record<string, string>, settings: WidgetSettings): void {
  const fields = new Map(settings.customFields.map((f) => [f.id, f]));
  for (const [id, value] of Object.entries(custom)) {
    const field = fields.get(id);
    if (!field) throw invalid(`custom field "${id}" is not defined for this project.`);
    if (field.type === 'select' && value !== '' && !field.options.includes(value)) throw invalid(`"${value}" is not a choice of ${field.label}.`);
  }
  for (const field of settings.customFields) {
    if (field.required && !custom[field.id]?.trim()) throw invalid(`${field.label} is required.`);
  }
}

/**
 * Signed identity: the site's backend signs the visitor's id with the
 * project's identity secret, so one visitor cannot pose as another: either
 * for good (`signature`) or, for signed submissions, for at most 10 minutes
 * (`token`). A wrong signature or token is always refused; a missing one only
 * when the project requires it. The site's server, sending with an API key,
 * needs neither. Returns whether the identity is verified.
 */
function verifyIdentity(identity: Submission['identity'], project: IngestProject, now: Date, isFromServer: boolean): boolean {
  if (isFromServer) {
    if (!identity && project.settings.identity.required) throw new AppError('identity_invalid', 'This project only accepts feedback from signed-in visitors: send an identity.');
    return identity !== undefined;
  }
  if (project.protection.signedSubmissions || identity?.token !== undefined) {
    verifySubmissionToken(identity?.token, project.identitySecret, project.key, identity?.id, now);
  }
  const refused = (detail: string) => new AppError('identity_invalid', detail);
  if (!identity) {
    if (project.settings.identity.required) throw refused('This project only accepts feedback from signed-in visitors.');
    return false;
  }
  if (identity.signature === undefined) {
    if (identity.token !== undefined) return true;
    if (project.settings.identity.required) throw refused('The identity must be signed by the site.');
    return false;
  }
  if (!project.identitySecret) throw refused('This project has no identity secret to check the signature with.');
  const expected = createHmac('sha256', project.identitySecret).update(identity.id).digest();
  const given = Buffer.from(identity.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refused('The identity signature is not valid.');
  return true;
}

/** The page URL as the owner wants it kept: without query string and fragment unless asked for (they often carry personal data). */
function keptPageUrl(pageUrl: string | undefined, keepQuery: boolean): string | null {
  if (pageUrl === undefined) return null;
  let url: URL;
  try {
    url = new URL(pageUrl);
  } catch {
    throw invalid('pageUrl must be an http:// or https:// URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('pageUrl must be an http:// or https:// URL.');
  return keepQuery ? pageUrl : `${url.origin}${url.pathname}`;
}

/** A screenshot can go with one feedback of its own project; a retried submission finds its first feedback instead. */
async function claimScreenshot(pool: pg.Pool, project: IngestProject, screenshotId: string, idempotencyKey: string | undefined): Promise<string | null> {
  return withTenant(pool, project.orgId, async (tx) => {
    if (idempotencyKey !== undefined) {
      const earlier = await tx.query<{ id: string }>('SELECT id FROM feedback WHERE project_id = $1 AND idempotency_key = $2', [project.id, idempotencyKey]);
      if (earlier.rows[0]) return earlier.rows[0].id;
    }
    const { rowCount } = await tx.query(
      'SELECT 1 FROM screenshots s WHERE s.id = $1 AND s.project_id = $2 AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.screenshot_id = s.id)',
      [screenshotId, project.id],
    );
    if (rowCount === 0) throw new AppError('screenshot_unknown', 'The screenshot was not found or is already used. Upload it again.');
    return null;
  });
}

export async function ingestFeedback(
  deps: { pool: pg.Pool; keyring: Keyring; writer: FeedbackWriter },
  project: IngestProject,
  submission: Submission,
  context: SubmissionContext,
): Promise<string> {
  const { settings, orgId } = project;
  checkAgainstSettings(submission, settings);
  const pageUrl = keptPageUrl(submission.pageUrl, settings.context.keepQuery);
  const verified = verifyIdentity(submission.identity, project, context.now, context.isFromServer === true);
  if (submission.screenshotId !== undefined) {
    const earlier = await claimScreenshot(deps.pool, project, submission.screenshotId, context.idempotencyKey);
    if (earlier) return earlier;
  }
  const id = randomUUID();
  const earlier = await context.admit?.(id);
  if (earlier) return earlier;
  const key = await deps.keyring.currentKeyFor(deps.pool, orgId);
  const seal = (column: string, value: unknown) =>
    value === undefined ? null : sealField(key, typeof value === 'string' ? value : JSON.stringify(value), { orgId, table: 'feedback', column, rowId: id });
  const email = submission.email === undefined ? undefined : normalizeEmail(submission.email);
  const identity = submission.identity && { id: submission.identity.id, email: submission.identity.email ?? null, name: submission.identity.name ?? null };
  const browserContext = submission.browser ?? submission.os ?? submission.consoleErrors;
  const stored = deps.writer.write({
    id,
    orgId,
    projectId: project.id,
    idempotencyKey: context.idempotencyKey ?? null,
    rating: submission.rating ?? null,
    ratingScale: submission.rating === undefined || settings.rating === 'none' ? null : settings.rating,
    type: submission.type ?? null,
    message: submission.message,
    emailEnc: seal('email', email),
    emailIndex: email === undefined ? null : deps.keyring.blindIndex(orgId, 'email', email),
    ipEnc: seal('ip', context.ip)!,
    userAgentEnc: seal('user_agent', context.userAgent?.slice(0, 1000)),
    customEnc: seal('custom', submission.custom),
    pageUrl,
    locale: submission.locale ?? null,
    viewportWidth: submission.viewport?.width ?? null,
    viewportHeight: submission.viewport?.height ?? null,
    createdAt: context.now,
    consent: submission.consent ?? null,
    identityEnc: seal('identity', identity),
    identityVerified: identity ? verified : null,
    metadataEnc: seal('metadata', submission.metadata),
    contextEnc: seal('context', browserContext === undefined ? undefined : { browser: submission.browser, os: submission.os, consoleErrors: submission.consoleErrors }),
    screenshotId: submission.screenshotId ?? null,
  });
  // Two submissions racing for one screenshot: the second loses here.
  return stored.catch((error: unknown) => {
    if ((error as { constraint?: string }).constraint === 'feedback_screenshot_id_key') {
      throw new AppError('screenshot_unknown', 'The screenshot is already used by another feedback. Upload it again.');
    }
    throw error;
  });
}
