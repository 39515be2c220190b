import type pg from 'pg';
import { recordAuditEvent, type Actor, type AuditEvent } from '../audit/service.js';
import type { Context } from '../context.js';
import { withTenant, withUser } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { mfaMethods, mfaRequiredFor, type MfaMethod } from '../mfa/methods.js';
import { normalizeEmail, type User } from '../users/service.js';
import { assertAttemptAllowed, recordAttempt, type Attempt, type AttemptClient } from './attempts.js';
import { verifyPassword } from './passwords.js';
import { createSession, sessionPolicyFor, type SessionStage } from './sessions.js';

export type LoginResult = { user: User; stage: SessionStage; methods: MfaMethod[]; token: string };

/**
 * E-mail and password, the first step of every login. Limits are checked
 * before the hash is computed; an unknown e-mail gets the same answer at the
 * same cost as a wrong password (a dummy hash is verified). With MFA the
 * session starts in stage 'mfa'; when an organization requires MFA the user
 * has not set up, in stage 'enroll'.
 */
export async function logIn(ctx: Context, email: string, password: string, client: AttemptClient): Promise<LoginResult> {
  const pool = ctx.db.app;
  const now = ctx.clock.now();
  const normalized = normalizeEmail(email);
  const { rows } = await pool.query<{ id: string; email: string; name: string; password_hash: string | null }>(
    'SELECT id, email, name, password_hash FROM users WHERE email = $1',
    [normalized],
  );
  const account = rows[0];
  const attempt: Attempt = { email: normalized, userId: account?.id ?? null, method: 'password', client };
  await assertAttemptAllowed(pool, attempt, now);
  const ok = await verifyPassword(account?.password_hash ?? null, password);
  const { locked } = await recordAttempt(pool, attempt, ok ? 'success' : 'failure', ok ? null : account ? 'wrong_password' : 'unknown_account', now);
  if (account) {
    const actor: Actor = { type: 'user', id: account.id, label: account.email, ip: client.ip };
    await auditForUser(pool, account.id, actor, { action: ok ? 'login.succeeded' : 'login.failed', target: { type: 'user', id: account.id }, data: { method: 'password' } }, now);
    if (locked) await auditForUser(pool, account.id, actor, { action: 'account.locked', target: { type: 'user', id: account.id } }, now);
  }
  if (!account || !ok) throw new AppError('invalid_credentials', 'The e-mail or password is not right.');
  return startSession(ctx, { id: account.id, email: account.email, name: account.name }, client);
}

/** A new session after a verified first step (password, invite, setup): stage from the user's factors and organizations. */
export async function startSession(ctx: Context, user: User, client: AttemptClient): Promise<LoginResult> {
  const pool = ctx.db.app;
  const now = ctx.clock.now();
  const methods = await mfaMethods(pool, user.id);
  const stage: SessionStage = methods.length > 0 ? 'mfa' : (await mfaRequiredFor(pool, user.id)) ? 'enroll' : 'done';
  const policy = await sessionPolicyFor(pool, ctx.config, user.id);
  const token = await createSession(pool, { userId: user.id, stage, factorAt: now, policy, client }, now);
  return { user, stage, methods, token };
}

/** Writes one event to the audit log of each organization the user belongs to. */
export async function auditForUser(pool: pg.Pool, userId: string, actor: Actor, event: AuditEvent, now: Date): Promise<void> {
  const orgs = await withUser(pool, userId, (tx) => tx.query<{ org_id: string }>('SELECT org_id FROM memberships WHERE user_id = $1', [userId]));
  for (const { org_id: orgId } of orgs.rows) {
    await withTenant(pool, orgId, (tx) => recordAuditEvent(tx, orgId, actor, event, now));
  }
}
