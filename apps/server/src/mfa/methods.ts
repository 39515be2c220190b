import type pg from 'pg';
import { withUser, type Tx } from '../db/tenant.js';

export type MfaMethod = 'totp' | 'webauthn' | 'recovery';

/** The second factors the user can sign in with. Recovery codes count only beside a real factor. */
export async function mfaMethods(db: pg.Pool | Tx, userId: string): Promise<MfaMethod[]> {
  const { rows } = await db.query<{ totp: boolean; passkeys: boolean; recovery: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL) AS totp,
            EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = $1) AS passkeys,
            EXISTS (SELECT 1 FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL) AS recovery`,
    [userId],
  );
  const { totp, passkeys, recovery } = rows[0]!;
  const methods: MfaMethod[] = [];
  if (totp) methods.push('totp');
  if (passkeys) methods.push('webauthn');
  if (methods.length > 0 && recovery) methods.push('recovery');
  return methods;
}

/** Whether any organization of the user requires MFA. */
export async function mfaRequiredFor(pool: pg.Pool, userId: string): Promise<boolean> {
  const { rows } = await withUser(pool, userId, (tx) =>
    tx.query('SELECT 1 FROM memberships m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = $1 AND o.require_mfa LIMIT 1', [userId]),
  );
  return rows.length > 0;
}
