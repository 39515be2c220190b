import type pg from 'pg';
import { recordAuditEvent, type Actor, type AuditEvent } from '../audit/service.js';
import type { Context } from '../context.js';
import { withoutTenant, withTenant, withUser } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { enqueueJob, type JobHandler } from '../jobs/outbox.js';
import { queueMail } from '../mail/mailer.js';
import { mfaMethods, mfaRequiredFor, type MfaMethod } from '../mfa/methods.js';
import { normalizeEmail, setPassword, type User } from '../users/service.js';
import { ACCOUNT_LOCK_MS, assertAttemptAllowed, recordAttempt, type Attempt, type AttemptClient } from './attempts.js';
import { accountLockedMail, passwordChangedMail } from './notices.js';
import { oneAtATime } from './one-at-a-time.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { createSession, endUserSessions, sessionPolicyFor, type Session, type SessionStage } from './sessions.js';

export type LoginResult = { user: User; stage: SessionStage; methods: MfaMethod[]; token: string };

type Account = User & { passwordHash: string | null };

async function findAccount(pool: pg.Pool, where: 'email' | 'id', value: string): Promise<Account | undefined> {
  const { rows } = await pool.query<{ id: string; email: string; name: string; password_hash: string | null }>(
    `SELECT id, email, name, password_hash FROM users WHERE ${where === 'email' ? 'email' : 'id'} = $1`,
    [value],
  );
  const row = rows[0];
  return row && { id: row.id, email: row.email, name: row.name, passwordHash: row.password_hash };
}

const userActor = (user: User, client: AttemptClient): Actor => ({ type: 'user', id: user.id, label: user.email, ip: client.ip });

/**
 * Checks a password under the brute-force limits: refused before any hash is
 * computed while the account or IP is locked; an unknown e-mail costs the
 * same as a wrong password (a dummy hash is verified). A failure is logged,
 * audited and may lock the account, which its owner is told by mail. A right
 * password is logged with `successReason` (null: the sign-in is complete,
 * which resets the account's failure count).
 */
async function checkPassword(
  ctx: Context, email: string, account: Account | undefined, password: string, client: AttemptClient,
  successReason: (account: Account) => Promise<string | null> = async () => null,
): Promise<boolean> {
  const pool = ctx.db.app;
  const attempt: Attempt = { email, userId: account?.id ?? null, method: 'password', client };
  const { ok, locked } = await oneAtATime(email, async () => {
    // The time of this turn, not of the request's arrival: it may have waited.
    const at = ctx.clock.now();
    await assertAttemptAllowed(pool, attempt, at);
    const right = await verifyPassword(account?.passwordHash ?? null, password);
    const reason = account && right ? await successReason(account) : account ? 'wrong_password' : 'unknown_account';
    return { ok: right, ...(await recordAttempt(pool, attempt, right ? 'success' : 'failure', reason, at)) };
  });
  if (!ok) {
    // Audited by a job, queued for known and unknown e-mails alike: writing
    // the audit here only for real accounts made their answer ~5 ms slower.
    const failure: LoginFailure = { userId: account?.id ?? null, email: account?.email ?? email, name: account?.name ?? '', ip: client.ip, at: ctx.clock.now().toISOString(), locked };
    await enqueueJob(pool, ctx.keyring, LOGIN_FAILURE_JOB, failure, ctx.clock.now());
  }
  return ok;
}

export const LOGIN_FAILURE_JOB = 'login-failure';

type LoginFailure = { userId: string | null; email: string; name: string; ip: string; at: string; locked: boolean };

/** Writes a failed password check to the account's audit logs, and tells the owner of a lock. */
export function loginFailureJob(ctx: Context): JobHandler {
  return async (payload) => {
    const failure = payload as LoginFailure;
    // An e-mail without an account belongs to no organization: the login log has it.
    if (!failure.userId) return;
    const user = { id: failure.userId, email: failure.email, name: failure.name };
    const actor = userActor(user, { ip: failure.ip, userAgent: undefined });
    const at = new Date(failure.at);
    await auditForUser(ctx.db.app, user.id, actor, { action: 'login.failed', target: { type: 'user', id: user.id }, data: { method: 'password' } }, at);
    if (failure.locked) await lockedAccount(ctx, user, actor, at);
  };
}

/**
 * A failure just locked the account (ACCOUNT_LOCK_MS): audited, and its owner
 * is told by mail. For every check that counts towards the lock (password,
 * second factors); only called for accounts that exist.
 */
export async function lockedAccount(ctx: Context, user: User, actor: Actor, now = ctx.clock.now()): Promise<void> {
  await auditForUser(ctx.db.app, user.id, actor, { action: 'account.locked', target: { type: 'user', id: user.id } }, now);
  await queueMail(ctx.db.app, ctx.keyring, accountLockedMail(user.email, new Date(now.getTime() + ACCOUNT_LOCK_MS)), now);
}

/**
 * E-mail and password, the first step of every login. With MFA the session
 * starts in stage 'mfa'; when an organization requires MFA the user has not
 * set up, in stage 'enroll'. A hash made with weaker parameters than today's
 * is replaced while the password is at hand.
 */
export async function logIn(ctx: Context, email: string, password: string, client: AttemptClient): Promise<LoginResult> {
  const pool = ctx.db.app;
  const normalized = normalizeEmail(email);
  const account = await findAccount(pool, 'email', normalized);
  // With a second factor due the sign-in is not complete yet: the failure
  // count stands until the factor is proved, or the password alone would
  // buy endless code guesses.
  const secondFactorDue = async (a: Account) => ((await mfaMethods(pool, a.id)).length > 0 ? 'second_factor_due' : null);
  const ok = await checkPassword(ctx, normalized, account, password, client, secondFactorDue);
  if (!account || !ok) throw new AppError('invalid_credentials', 'The e-mail or password is not right.');
  if (account.passwordHash && needsRehash(account.passwordHash)) {
    // Only if unchanged meanwhile: a concurrent password change wins.
    await pool.query('UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2', [account.id, account.passwordHash, await hashPassword(password)]);
  }
  const user = { id: account.id, email: account.email, name: account.name };
  await auditForUser(pool, user.id, userActor(user, client), { action: 'login.succeeded', target: { type: 'user', id: user.id }, data: { method: 'password' } }, ctx.clock.now());
  return startSession(ctx, user, client);
}

/**
 * A signed-in user sets a new password. The current one is the
 * re-authentication, checked under the same limits as a login (a wrong one
 * counts as a failed attempt). The user's other sessions end.
 */
export async function changePassword(ctx: Context, session: Session, currentPassword: string, newPassword: string, client: AttemptClient): Promise<void> {
  const pool = ctx.db.app;
  const account = await findAccount(pool, 'id', session.userId);
  if (!account || !(await checkPassword(ctx, account.email, account, currentPassword, client))) {
    throw new AppError('invalid_credentials', 'The current password is not right.');
  }
  const user = { id: account.id, email: account.email, name: account.name };
  const now = ctx.clock.now();
  const ended = await withoutTenant(pool, async (tx) => {
    await setPassword(tx, user, newPassword);
    await queueMail(tx, ctx.keyring, passwordChangedMail(user.email, 'changed', now), now);
    return endUserSessions(tx, user.id, session.hash);
  });
  await auditForUser(pool, user.id, userActor(user, client), { action: 'password.changed', target: { type: 'user', id: user.id }, data: { sessionsEnded: ended } }, now);
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
