import { randomUUID } from 'node:crypto';
import { recordAuditEvent } from '../audit/service.js';
import { recordAttempt, type AttemptClient } from '../auth/attempts.js';
import { startSession, type LoginResult } from '../auth/service.js';
import { replaceSession, sessionPolicyFor, type Session } from '../auth/sessions.js';
import { hashToken, newSecretToken } from '../auth/tokens.js';
import type { Context } from '../context.js';
import { withTenant, type Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { emitEvent } from '../events/service.js';
import { queueMail } from '../mail/mailer.js';
import { mfaMethods, mfaRequiredFor } from '../mfa/methods.js';
import type { Role } from '../orgs/service.js';
import type { ProjectScope } from '../projects/service.js';
import { createUser, normalizeEmail, type User } from '../users/service.js';
import { assertMayGrant, checkProjectLimits, type Manager } from './service.js';

// SECURITY.md: invite tokens are 256-bit, stored hashed, single use, 7 days.
export const INVITE_TTL_MS = 7 * 24 * 3_600_000;

export type InviteView = {
  id: string; email: string; role: Role; projectIds: ProjectScope; createdAt: Date; expiresAt: Date;
  invitedBy: { id: string; name: string } | null;
};

const PENDING = 'accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2';

const VIEW = `SELECT i.id, i.email, i.role, i.project_ids AS "projectIds", i.created_at AS "createdAt", i.expires_at AS "expiresAt",
                     CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'name', u.name) END AS "invitedBy"
                FROM invites i LEFT JOIN users u ON u.id = i.invited_by`;

export async function listInvites(ctx: Context, orgId: string): Promise<InviteView[]> {
  return withTenant(ctx.db.app, orgId, async (tx) => {
    const { rows } = await tx.query<InviteView>(`${VIEW} WHERE i.org_id = $1 AND ${PENDING} ORDER BY i.created_at, i.id`, [orgId, ctx.clock.now()]);
    return rows;
  });
}

/** Mail subjects are one line: a name with a line break must not start a new header. */
const oneLine = (text: string) => text.replace(/[\s\p{Cc}]+/gu, ' ').trim();

export type NewInvite = { email: string; role: Role; projectIds: ProjectScope };

/**
 * Invites an address to the organization and mails it the link. The answer is
 * the same whether or not an account has the address; only an existing
 * member of this organization (whom the inviter can list anyway) is refused.
 * A new invite replaces a pending one for the same address.
 */
export async function createInvite(ctx: Context, orgId: string, manager: Manager & { name: string; email: string }, input: NewInvite) {
  const now = ctx.clock.now();
  const email = normalizeEmail(input.email);
  assertMayGrant(manager.role, input.role);
  const { token, hash } = newSecretToken();
  const link = `${ctx.config.publicUrl.origin}/invite#token=${token}`;
  const invite = await withTenant(ctx.db.app, orgId, async (tx) => {
    const projectIds = await checkProjectLimits(tx, input.role, input.projectIds);
    const member = await tx.query('SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 AND u.email = $2', [orgId, email]);
    if (member.rowCount) throw new AppError('conflict', 'This person is already a member of the organization.');
    await tx.query(`UPDATE invites SET revoked_at = $2 WHERE org_id = $1 AND email = $3 AND ${PENDING}`, [orgId, now, email]);
    const id = randomUUID();
    const expiresAt = new Date(now.getTime() + INVITE_TTL_MS);
    await tx.query(
      'INSERT INTO invites (id, org_id, email, role, project_ids, token_hash, invited_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [id, orgId, email, input.role, projectIds, hash, manager.userId, now, expiresAt],
    );
    const org = await tx.query<{ name: string }>('SELECT name FROM organizations WHERE id = $1', [orgId]);
    const orgName = org.rows[0]!.name;
    await queueMail(tx, ctx.keyring, {
      to: email,
      subject: oneLine(`${manager.name} invited you to ${orgName} on Parley`),
      text: [
        `${manager.name} (${manager.email}) invited you to join the organization "${orgName}" on Parley as ${input.role}.`,
        '',
        'Accept the invitation here:',
        link,
        '',
        `The link works once and expires on ${expiresAt.toISOString().replace('T', ' ').slice(0, 16)} UTC.`,
        'If you did not expect this invitation, ignore this message.',
      ].join('\n'),
    }, now);
    await recordAuditEvent(tx, orgId, manager.actor, { action: 'member.invited', target: { type: 'invite', id }, data: { email, role: input.role, projectIds } }, now);
    const { rows } = await tx.query<InviteView>(`${VIEW} WHERE i.id = $1`, [id]);
    return rows[0]!;
  });
  return { invite, link };
}

export async function revokeInvite(ctx: Context, orgId: string, manager: Manager, inviteId: string): Promise<void> {
  const now = ctx.clock.now();
  await withTenant(ctx.db.app, orgId, async (tx) => {
    const { rows } = await tx.query<{ role: Role }>(`SELECT role FROM invites WHERE id = $1 AND ${PENDING} FOR UPDATE`, [inviteId, now]);
    if (!rows[0]) throw new AppError('not_found', 'No such pending invitation.');
    assertMayGrant(manager.role, rows[0].role);
    await tx.query('UPDATE invites SET revoked_at = $2 WHERE id = $1', [inviteId, now]);
    await recordAuditEvent(tx, orgId, manager.actor, { action: 'member.invite_revoked', target: { type: 'invite', id: inviteId } }, now);
  });
}

type TokenInvite = { id: string; org_id: string; org_name: string; email: string; role: Role; project_ids: ProjectScope };

/** The pending invite of a token; unknown, used, revoked and expired tokens all look the same. */
async function pendingInvite(ctx: Context, token: string): Promise<TokenInvite> {
  const { rows } = await ctx.db.app.query<TokenInvite & { expires_at: Date; accepted_at: Date | null; revoked_at: Date | null }>(
    'SELECT * FROM invite_by_token($1)',
    [hashToken(token)],
  );
  const invite = rows[0];
  if (!invite || invite.accepted_at || invite.revoked_at || invite.expires_at <= ctx.clock.now()) {
    throw new AppError('token_invalid', 'This invitation link is not valid: it was used, revoked or has expired. Ask for a new one.');
  }
  return invite;
}

async function accountOf(ctx: Context, email: string): Promise<User | null> {
  const { rows } = await ctx.db.app.query<User>('SELECT id, email, name FROM users WHERE email = $1', [email]);
  return rows[0] ?? null;
}

/** What the invitee's page shows before accepting. */
export async function lookupInvite(ctx: Context, token: string) {
  const invite = await pendingInvite(ctx, token);
  return { organization: { name: invite.org_name }, email: invite.email, role: invite.role, hasAccount: (await accountOf(ctx, invite.email)) !== null };
}

/**
 * Spends the token, then makes (or takes) the user and adds the membership,
 * all in the caller's transaction. The token goes first: a second acceptance
 * waits on its row and then finds nothing to spend.
 */
async function join(tx: Tx, invite: TokenInvite, now: Date, userFor: () => Promise<User>): Promise<User> {
  const spent = await tx.query(`UPDATE invites SET accepted_at = $2 WHERE id = $1 AND ${PENDING}`, [invite.id, now]);
  if (spent.rowCount !== 1) throw new AppError('token_invalid', 'This invitation link is not valid: it was used, revoked or has expired. Ask for a new one.');
  const user = await userFor();
  // Already a member (another invite won the race): the role stays as it is.
  const added = await tx.query(
    'INSERT INTO memberships (org_id, user_id, role, project_ids, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
    [invite.org_id, user.id, invite.role, invite.project_ids, now],
  );
  if (added.rowCount === 1) {
    const data = { userId: user.id, role: invite.role, projectIds: invite.project_ids };
    await emitEvent(tx, invite.org_id, { type: 'member.added', projectId: null, subjectId: user.id, data }, now);
  }
  const actor = { type: 'user' as const, id: user.id, label: user.email };
  await recordAuditEvent(tx, invite.org_id, actor, { action: 'member.joined', target: { type: 'user', id: user.id }, data: { role: invite.role, invite: invite.id } }, now);
  return user;
}

export type Acceptance = { token: string; name?: string; password?: string };

/**
 * Accepts an invite. Without an account the invitee sets a name and password
 * and gets a new session as after a login. With an account the request must
 * come from a session of that account (the token alone must never add a
 * membership to someone else's account); the session is replaced with a new
 * id, and goes to MFA enrollment if the organization requires it.
 */
export async function acceptInvite(ctx: Context, input: Acceptance, session: Session | null, client: AttemptClient): Promise<LoginResult> {
  const now = ctx.clock.now();
  const pool = ctx.db.app;
  const invite = await pendingInvite(ctx, input.token);
  const account = await accountOf(ctx, invite.email);
  let result: LoginResult;
  if (!account) {
    if (input.name === undefined || input.password === undefined) throw new AppError('validation_failed', 'Choose a name and a password to create your account.');
    const { name, password } = input;
    const user = await withTenant(pool, invite.org_id, (tx) => join(tx, invite, now, () => createUser(tx, { email: invite.email, name, password }, now)));
    result = await startSession(ctx, user, client);
  } else {
    if (!session || session.userId !== account.id) throw new AppError('unauthenticated', `Log in as ${invite.email} to accept this invitation.`);
    if (session.stage === 'mfa') throw new AppError('mfa_required', 'Finish signing in with your second factor.');
    await withTenant(pool, invite.org_id, (tx) => join(tx, invite, now, async () => account));
    const methods = await mfaMethods(pool, account.id);
    const stage = methods.length === 0 && (await mfaRequiredFor(pool, account.id)) ? 'enroll' : 'done';
    const token = await replaceSession(pool, session, { stage, policy: await sessionPolicyFor(pool, ctx.config, account.id) }, now);
    result = { user: account, stage, methods, token };
  }
  await recordAttempt(pool, { email: invite.email, userId: result.user.id, method: 'invite', client }, 'success', null, now);
  return result;
}
