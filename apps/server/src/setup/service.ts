import type pg from 'pg';
import { newSecretToken, hashToken } from '../auth/tokens.js';
import type { Actor } from '../audit/service.js';
import { withoutTenant, withTenant, type Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import type { Keyring } from '../keys/service.js';
import { addMember, createOrganization, newOrganizationId } from '../orgs/service.js';
import { countUsers, createUser, type NewUser, type User } from '../users/service.js';

export const SETUP_TOKEN_TTL_MS = 60 * 60 * 1000;

/** While no account exists, a one-time token for the setup link (1 hour, single use); null once set up. */
export async function issueSetupToken(pool: pg.Pool, now: Date): Promise<string | null> {
  return withoutTenant(pool, async (tx) => {
    if ((await countUsers(tx)) > 0) return null;
    const { token, hash } = newSecretToken();
    await tx.query('INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)', [hash, new Date(now.getTime() + SETUP_TOKEN_TTL_MS)]);
    return token;
  });
}

export async function isSetupRequired(pool: pg.Pool): Promise<boolean> {
  return withoutTenant(pool, async (tx) => (await countUsers(tx)) === 0);
}

export type SetupInput = NewUser & { token: string; organization: string };

/** Creates the first owner and organization, all or nothing, and spends the token. */
export async function completeSetup(pool: pg.Pool, keyring: Keyring, input: SetupInput, now: Date, ip: string): Promise<{ user: User; orgId: string }> {
  const orgId = newOrganizationId();
  return withTenant(pool, orgId, async (tx) => {
    // One setup at a time: two browsers racing cannot both create an owner.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('parley:setup'))`);
    if ((await countUsers(tx)) > 0) throw new AppError('setup_done', 'Parley is already set up. Log in instead.');
    const spent = await tx.query('UPDATE setup_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2', [hashToken(input.token), now]);
    if (spent.rowCount !== 1) throw new AppError('setup_token_invalid', 'This setup link is invalid, used or expired. Restart Parley to print a new one.');
    const user = await createOwner(tx, keyring, orgId, input.organization, input, (u) => ({ type: 'user', id: u.id, label: u.email, ip }), now);
    return { user, orgId };
  });
}

/**
 * Creates a user as owner of `orgId`; with `newOrganization` set, creates
 * that organization first. `tx` must be scoped to `orgId`.
 */
export async function createOwner(
  tx: Tx, keyring: Keyring, orgId: string, newOrganization: string | null, input: NewUser, actorFor: (user: User) => Actor, now: Date,
): Promise<User> {
  const user = await createUser(tx, input, now);
  const actor = actorFor(user);
  if (newOrganization !== null) await createOrganization(tx, keyring, orgId, newOrganization, actor, now);
  await addMember(tx, orgId, user.id, 'owner', actor, now);
  return user;
}
