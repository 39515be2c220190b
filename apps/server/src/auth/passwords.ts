import { hash, verify, type Options } from '@node-rs/argon2';
import { AppError } from '../errors.js';

// OWASP Password Storage cheat sheet: argon2id, m=19 MiB, t=2, p=1.
// The package declares its Algorithm enum as `const enum`, which cannot be
// imported here; 2 is its Argon2id.
const ARGON2ID = 2 as Options['algorithm'];
const PARAMS: Options = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

/** Length rules only, no composition rules (NIST SP 800-63B); never truncated. */
export function checkPasswordPolicy(password: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN) throw new AppError('password_too_short', `Use at least ${PASSWORD_MIN} characters.`);
  if (length > PASSWORD_MAX) throw new AppError('password_too_long', `Use at most ${PASSWORD_MAX} characters.`);
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMS);
}

// Verifying against this when the account does not exist makes unknown
// e-mails cost the same time as known ones, so timing does not reveal which
// accounts exist.
let dummyHash: Promise<string> | undefined;

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  dummyHash ??= hashPassword('parley-dummy-password-for-timing');
  const target = storedHash ?? (await dummyHash);
  const ok = await verify(target, password).catch(() => false);
  return ok && storedHash !== null;
}
