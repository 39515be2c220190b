import type pg from 'pg';
import { recordAuditEvent } from '../audit/service.js';
import { withTenant, withUser } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { normalizeEmail, type User } from '../users/service.js';
import { verifyPassword } from './passwords.js';
import { createSession, type SessionPolicy } from './sessions.js';

export type LoginClient = { ip: string; userAgent: string | undefined };

/**
 * E-mail and password login. The answer for an unknown e-mail and for a wrong
 * password is the same, and costs the same (a dummy hash is verified).
 * Attempts on known accounts are written to the audit log of each of the
 * account's organizations.
 */
export async function logIn(pool: pg.Pool, email: string, password: string, client: LoginClient, policy: SessionPolicy, now: Date): Promise<{ user: User; token: string }> {
  const normalized = normalizeEmail(email);
  const { rows } = await pool.query<{ id: string; email: string; name: string; password_hash: string | null }>(
    'SELECT id, email, name, password_hash FROM users WHERE email = $1',
    [normalized],
  );
  const account = rows[0];
  const ok = await verifyPassword(account?.password_hash ?? null, password);
  if (account) {
    await auditLogin(pool, account.id, { type: 'user', id: account.id, label: account.email, ip: client.ip }, ok, now);
  }
  if (!account || !ok) throw new AppError('invalid_credentials', 'The e-mail or password is not right.');
  const token = await createSession(pool, account.id, now, policy, client);
  return { user: { id: account.id, email: account.email, name: account.name }, token };
}

async function auditLogin(pool: pg.Pool, userId: string, actor: { type: 'user'; id: string; label: string; ip: string }, ok: boolean, now: Date): Promise<void> {
  const orgs = await withUser(pool, userId, (tx) => tx.query<{ org_id: string }>('SELECT org_id FROM memberships WHERE user_id = $1', [userId]));
  for (const { org_id: orgId } of orgs.rows) {
    await withTenant(pool, orgId, (tx) =>
      recordAuditEvent(tx, orgId, actor, { action: ok ? 'login.succeeded' : 'login.failed', target: { type: 'user', id: userId }, data: { method: 'password' } }, now),
    );
  }
}
