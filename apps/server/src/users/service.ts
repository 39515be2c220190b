import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { checkPasswordPolicy, hashPassword } from '../auth/passwords.js';

export type User = { id: string; email: string; name: string };

/** One spelling per address: case and surrounding space never make a second account. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export type NewUser = { email: string; name: string; password: string };

/** Inserts a user; the caller's transaction decides what else happens with it. */
export async function createUser(tx: Tx, input: NewUser, now: Date): Promise<User> {
  await checkPasswordPolicy(input.password, input);
  const user = { id: randomUUID(), email: normalizeEmail(input.email), name: input.name.trim() };
  const passwordHash = await hashPassword(input.password);
  const { rowCount } = await tx.query(
    'INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING',
    [user.id, user.email, user.name, passwordHash, now],
  );
  if (rowCount === 0) throw new AppError('conflict', 'An account with this e-mail already exists.');
  return user;
}

/** Applies the password policy for this user, then stores the new hash. */
export async function setPassword(db: Tx | pg.Pool, user: User, password: string): Promise<void> {
  await checkPasswordPolicy(password, user);
  await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [user.id, await hashPassword(password)]);
}

export async function countUsers(tx: Tx): Promise<number> {
  const { rows } = await tx.query<{ n: string }>('SELECT count(*) AS n FROM users');
  return Number(rows[0]!.n);
}
