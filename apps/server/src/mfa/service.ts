import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type pg from 'pg';
import type { Actor, AuditEvent } from '../audit/service.js';
import { assertAttemptAllowed, recordAttempt, type Attempt, type AttemptClient } from '../auth/attempts.js';
import { verifyPassword } from '../auth/passwords.js';
import { auditForUser, lockedAccount } from '../auth/service.js';
import { endUserSessions, replaceSession, sessionPolicyFor, type Session } from '../auth/sessions.js';
import type { Context } from '../context.js';
import { withoutTenant, type Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { normalizeEmail } from '../users/service.js';
import { queueMail } from '../mail/mailer.js';
import { saveChallenge, takeChallenge } from './challenge.js';
import { mfaMethods, mfaRequiredFor } from './methods.js';
import { factorAddedMail, factorRemovedMail, recoveryCodeUsedMail } from '../auth/notices.js';
import { authenticationOptions, deletePasskey, insertPasskey, listPasskeys, registrationOptions, verifyAssertion, verifyRegistration, type Passkey } from './passkeys.js';
import { countRecoveryCodesLeft, removeRecoveryCodes, replaceRecoveryCodes, useRecoveryCode } from './recovery-codes.js';
import { checkTotp, confirmTotp, removeTotp, startTotp, totpStatus } from './totp.js';

/** Who is asking: the session the route's access declaration guaranteed, and where the request came from. */
export type Caller = { session: Session; client: AttemptClient };

/** One proof of identity, at the MFA step of a login or to re-authenticate. */
export type FactorProof =
  | { method: 'password'; password: string }
  | { method: 'totp'; code: string }
  | { method: 'recovery'; code: string }
  | { method: 'webauthn'; response: AuthenticationResponseJSON };

export type MfaOverview = { totp: { enabled: boolean; createdAt: Date | null }; passkeys: Passkey[]; recoveryCodes: { left: number } };

/** What adding a factor answers: recovery codes when it was the first, and a new session when it finished enrollment. */
export type FactorAdded = { recoveryCodes: string[] | null; token: string | null };

const actorOf = ({ session, client }: Caller): Actor => ({ type: 'user', id: session.userId, label: session.email, ip: client.ip });

function refusal(method: FactorProof['method']): AppError {
  if (method === 'password') return new AppError('invalid_credentials', 'The password is not right.');
  if (method === 'webauthn') return new AppError('invalid_code', 'The passkey could not be verified. Try again.');
  return new AppError('invalid_code', 'The code is not right, or it was already used.');
}

async function checkProof(ctx: Context, session: Session, proof: FactorProof, now: Date): Promise<boolean> {
  const pool = ctx.db.app;
  switch (proof.method) {
    case 'password': {
      const { rows } = await pool.query<{ password_hash: string | null }>('SELECT password_hash FROM users WHERE id = $1', [session.userId]);
      return verifyPassword(rows[0]?.password_hash ?? null, proof.password);
    }
    case 'totp':
      return checkTotp(pool, ctx.keyring, session.userId, proof.code, now);
    case 'recovery':
      return useRecoveryCode(pool, session.userId, proof.code, now);
    case 'webauthn': {
      const challenge = await takeChallenge(pool, session.hash, 'authenticate', now);
      return challenge !== null && verifyAssertion(pool, ctx.config, session.userId, proof.response, challenge, now);
    }
  }
}

/**
 * Checks one factor under the account's brute-force limits (checked before
 * anything is verified, counted on the account's e-mail like the password)
 * and logs the attempt. A lock and a spent recovery code are told to the owner.
 */
async function proveFactor(ctx: Context, caller: Caller, proof: FactorProof): Promise<boolean> {
  const pool = ctx.db.app;
  const now = ctx.clock.now();
  const { session } = caller;
  const attempt: Attempt = { email: session.email, userId: session.userId, method: proof.method, client: caller.client };
  await assertAttemptAllowed(pool, attempt, now);
  const ok = await checkProof(ctx, session, proof, now);
  const { locked } = await recordAttempt(pool, attempt, ok ? 'success' : 'failure', ok ? null : `wrong_${proof.method}`, now);
  if (locked) await lockedAccount(ctx, { id: session.userId, email: session.email, name: session.name }, actorOf(caller));
  if (ok && proof.method === 'recovery') {
    await queueMail(pool, ctx.keyring, recoveryCodeUsedMail(session.email, await countRecoveryCodesLeft(pool, session.userId), now), now);
    await auditForUser(pool, session.userId, actorOf(caller), { action: 'mfa.recovery_code_used', target: { type: 'user', id: session.userId } }, now);
  }
  return ok;
}

/** The second step of a login. Success replaces the session with a new id in stage 'done' (session fixation). */
export async function completeMfaStep(ctx: Context, caller: Caller, proof: Exclude<FactorProof, { method: 'password' }>): Promise<string> {
  const pool = ctx.db.app;
  const now = ctx.clock.now();
  const { session } = caller;
  const ok = await proveFactor(ctx, caller, proof);
  const event: AuditEvent = { action: ok ? 'login.succeeded' : 'login.failed', target: { type: 'user', id: session.userId }, data: { method: proof.method } };
  await auditForUser(pool, session.userId, actorOf(caller), event, now);
  if (!ok) throw refusal(proof.method);
  const policy = await sessionPolicyFor(pool, ctx.config, session.userId);
  return replaceSession(pool, session, { stage: 'done', factorAt: now, policy }, now);
}

/** Re-authentication for a sensitive action: a proved factor makes the session's factor time now. */
export async function reauthenticate(ctx: Context, caller: Caller, proof: FactorProof): Promise<void> {
  if (!(await proveFactor(ctx, caller, proof))) throw refusal(proof.method);
  await ctx.db.app.query('UPDATE sessions SET factor_at = $2 WHERE id_hash = $1', [caller.session.hash, ctx.clock.now()]);
}

/** Passkey options for the MFA step or re-authentication; the challenge is kept on the session for 5 minutes. */
export async function passkeyChallenge(ctx: Context, session: Session): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await authenticationOptions(ctx.db.app, ctx.config, session.userId);
  if (!options) throw new AppError('conflict', 'This account has no passkey. Use another way to confirm.');
  await saveChallenge(ctx.db.app, session.hash, 'authenticate', options.challenge, ctx.clock.now());
  return options;
}

export async function mfaOverview(pool: pg.Pool, userId: string): Promise<MfaOverview> {
  return { totp: await totpStatus(pool, userId), passkeys: await listPasskeys(pool, userId), recoveryCodes: { left: await countRecoveryCodesLeft(pool, userId) } };
}

/**
 * Changes to a user's factors run one at a time per user, so two removals
 * racing cannot both see "another factor is left" and remove the last two.
 */
function withFactorsLocked<T>(pool: pg.Pool, userId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return withoutTenant(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`parley:mfa:${userId}`]);
    return fn(tx);
  });
}

const hasFactor = async (tx: Tx, userId: string) => (await mfaMethods(tx, userId)).length > 0;

/**
 * Adds a factor (`add` stores it or throws), with recovery codes when it is
 * the user's first, a notice and an audit event. A session in stage
 * 'enroll' has now met its organization's rule: it is replaced by a full one.
 */
async function addFactor(ctx: Context, caller: Caller, factor: string, action: string, add: (tx: Tx) => Promise<void>): Promise<FactorAdded> {
  const pool = ctx.db.app;
  const now = ctx.clock.now();
  const { session } = caller;
  const recoveryCodes = await withFactorsLocked(pool, session.userId, async (tx) => {
    const first = !(await hasFactor(tx, session.userId));
    await add(tx);
    await queueMail(tx, ctx.keyring, factorAddedMail(session.email, factor, now), now);
    return first ? replaceRecoveryCodes(tx, session.userId) : null;
  });
  const target = { type: 'user', id: session.userId };
  await auditForUser(pool, session.userId, actorOf(caller), { action, target }, now);
  if (recoveryCodes) await auditForUser(pool, session.userId, actorOf(caller), { action: 'mfa.recovery_codes_generated', target }, now);
  const token = session.stage === 'enroll' ? await replaceSession(pool, session, { stage: 'done', factorAt: now }, now) : null;
  return { recoveryCodes, token };
}

/**
 * Removes a factor (`remove` answers whether there was one). The last factor
 * stays while an organization of the user requires MFA; without factors the
 * recovery codes go too. The user's other sessions end (SECURITY.md: an MFA
 * change ends sessions).
 */
async function removeFactor(ctx: Context, caller: Caller, factor: string, action: string, remove: (tx: Tx) => Promise<boolean>): Promise<void> {
  const pool = ctx.db.app;
  const now = ctx.clock.now();
  const { session } = caller;
  const required = await mfaRequiredFor(pool, session.userId);
  await withFactorsLocked(pool, session.userId, async (tx) => {
    if (!(await remove(tx))) throw new AppError('not_found', `${factor} is not set up on your account.`);
    if (!(await hasFactor(tx, session.userId))) {
      if (required) throw new AppError('conflict', 'An organization you belong to requires two-factor authentication. Add another method before removing this one.');
      await removeRecoveryCodes(tx, session.userId);
    }
    await endUserSessions(tx, session.userId, session.hash);
    await queueMail(tx, ctx.keyring, factorRemovedMail(session.email, factor, now), now);
  });
  await auditForUser(pool, session.userId, actorOf(caller), { action, target: { type: 'user', id: session.userId } }, now);
}

export async function beginTotpSetup(ctx: Context, session: Session): Promise<{ secret: string; otpauthUrl: string }> {
  const setup = await startTotp(ctx.db.app, ctx.keyring, { id: session.userId, email: session.email }, ctx.clock.now());
  if (!setup) throw new AppError('conflict', 'An authenticator app is already set up. Remove it before setting up another.');
  return setup;
}

export function finishTotpSetup(ctx: Context, caller: Caller, code: string): Promise<FactorAdded> {
  return addFactor(ctx, caller, 'An authenticator app', 'mfa.totp_enabled', async (tx) => {
    if (!(await confirmTotp(tx, ctx.keyring, caller.session.userId, code, ctx.clock.now()))) {
      throw new AppError('invalid_code', 'The code is not right. Check the time on your phone and enter the newest code; start again if the setup is older than you think.');
    }
  });
}

export function disableTotp(ctx: Context, caller: Caller): Promise<void> {
  return removeFactor(ctx, caller, 'The authenticator app', 'mfa.totp_disabled', (tx) => removeTotp(tx, caller.session.userId));
}

export async function beginPasskeySetup(ctx: Context, session: Session): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const options = await registrationOptions(ctx.db.app, ctx.config, { id: session.userId, email: session.email, name: session.name });
  await saveChallenge(ctx.db.app, session.hash, 'register', options.challenge, ctx.clock.now());
  return options;
}

export async function addPasskey(ctx: Context, caller: Caller, name: string, response: RegistrationResponseJSON): Promise<FactorAdded & { passkey: Passkey }> {
  const pool = ctx.db.app;
  const now = ctx.clock.now();
  const challenge = await takeChallenge(pool, caller.session.hash, 'register', now);
  const verified = challenge === null ? null : await verifyRegistration(ctx.config, response, challenge);
  if (!verified) throw new AppError('invalid_code', 'The passkey could not be verified. Start again.');
  const passkey: Passkey = { id: verified.id, name: name.trim(), createdAt: now, lastUsedAt: null };
  const added = await addFactor(ctx, caller, `The passkey "${passkey.name}"`, 'mfa.passkey_added', async (tx) => {
    if (!(await insertPasskey(tx, caller.session.userId, verified, passkey.name, now))) throw new AppError('conflict', 'This passkey is already registered.');
  });
  return { ...added, passkey };
}

export function removePasskey(ctx: Context, caller: Caller, passkeyId: string): Promise<void> {
  return removeFactor(ctx, caller, 'A passkey', 'mfa.passkey_removed', (tx) => deletePasskey(tx, caller.session.userId, passkeyId));
}

/** Ten new recovery codes; the old ones stop working and the user's other sessions end. */
export async function regenerateRecoveryCodes(ctx: Context, caller: Caller): Promise<string[]> {
  const pool = ctx.db.app;
  const { session } = caller;
  const codes = await withFactorsLocked(pool, session.userId, async (tx) => {
    if (!(await hasFactor(tx, session.userId))) throw new AppError('conflict', 'Set up an authenticator app or a passkey first; recovery codes come with it.');
    await endUserSessions(tx, session.userId, session.hash);
    return replaceRecoveryCodes(tx, session.userId);
  });
  await auditForUser(pool, session.userId, actorOf(caller), { action: 'mfa.recovery_codes_generated', target: { type: 'user', id: session.userId } }, ctx.clock.now());
  return codes;
}

export type MfaReset = { email: string; removed: { totp: boolean; passkeys: number; recoveryCodes: number; sessions: number } };

/**
 * For an operator, when a user lost every factor: removes them all and ends
 * every session. The user sets MFA up again at the next login (enrollment
 * when an organization requires it). Null when no account has the e-mail.
 */
export async function resetMfa(ctx: Context, email: string, actor: Actor): Promise<MfaReset | null> {
  const pool = ctx.db.app;
  const now = ctx.clock.now();
  const { rows } = await pool.query<{ id: string; email: string }>('SELECT id, email FROM users WHERE email = $1', [normalizeEmail(email)]);
  const user = rows[0];
  if (!user) return null;
  const removed = await withFactorsLocked(pool, user.id, async (tx) => {
    const passkeys = await tx.query('DELETE FROM webauthn_credentials WHERE user_id = $1', [user.id]);
    const result = {
      totp: await removeTotp(tx, user.id),
      passkeys: passkeys.rowCount ?? 0,
      recoveryCodes: await removeRecoveryCodes(tx, user.id),
      sessions: await endUserSessions(tx, user.id),
    };
    await queueMail(tx, ctx.keyring, factorRemovedMail(user.email, 'Every second factor (authenticator app, passkeys, recovery codes)', now), now);
    return result;
  });
  await auditForUser(pool, user.id, actor, { action: 'mfa.reset', target: { type: 'user', id: user.id }, data: removed }, now);
  return { email: user.email, removed };
}
