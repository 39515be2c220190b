import { hash, verify, type Options } from '@node-rs/argon2';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { AppError } from '../errors.js';

// OWASP Password Storage cheat sheet: argon2id, m=19 MiB, t=2, p=1.
// The package declares its Algorithm enum as `const enum`, which cannot be
// imported here; 2 is its Argon2id.
const ARGON2ID = 2 as Options['algorithm'];
const PARAMS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } satisfies Options;

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

// zxcvbn's cost grows with the length and with the number of characters that
// could be l33t substitutions: with its defaults a random 128-character
// password takes seconds of CPU. Scoring the first 64 characters with at most
// 5 substitutions stays under ~100 ms and still recognises "P@ssw0rd"-style
// words; 64 characters are far more than a strong password needs, and the
// context words below are looked for in the whole password.
// Loaded at the first password set, not at start: its dictionaries take
// ~0.4 s and ~50 MB, which every CLI command and most requests do not need.
let zxcvbn: Promise<ZxcvbnFactory> | undefined;

function strengthEstimator(): Promise<ZxcvbnFactory> {
  zxcvbn ??= Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]).then(
    ([{ ZxcvbnFactory }, common, en]) =>
      new ZxcvbnFactory({
        dictionary: { ...common.dictionary, ...en.dictionary },
        graphs: common.adjacencyGraphs,
        translations: en.translations,
        maxLength: 64,
        l33tMaxSubstitutions: 5,
      }),
  );
  return zxcvbn;
}

/** zxcvbn's "safely unguessable" (≥ 10^8 guesses, ASVS 6.2). */
const MIN_SCORE = 3;

/** Context words shorter than this would forbid too much ("Al", "jo@…"). */
const MIN_CONTEXT_WORD = 4;

/** Whose password it is: words from the account a guesser would try first. */
export type PasswordOwner = { email: string; name: string };

function contextWords(owner: PasswordOwner): string[] {
  const email = owner.email.trim().toLowerCase();
  const local = email.split('@')[0] ?? '';
  const parts = [email, local, ...local.split(/[._+-]+/), ...owner.name.toLowerCase().split(/[\s.,'_-]+/), 'parley'];
  return [...new Set(parts.filter((word) => [...word].length >= MIN_CONTEXT_WORD))];
}

/**
 * ASVS 6.2 / NIST SP 800-63B: 12–128 characters (code points), any
 * characters, no composition rules, never truncated; refused when it is easy
 * to guess or built from the account's own e-mail or name, or "parley".
 * Applied wherever a password is set: setup, CLI, invite, change, reset.
 */
export async function checkPasswordPolicy(password: string, owner: PasswordOwner): Promise<void> {
  const length = [...password].length;
  if (length < PASSWORD_MIN) throw new AppError('password_too_short', `Use at least ${PASSWORD_MIN} characters.`);
  if (length > PASSWORD_MAX) throw new AppError('password_too_long', `Use at most ${PASSWORD_MAX} characters.`);
  const words = contextWords(owner);
  const lower = password.toLowerCase();
  const found = words.find((word) => lower.includes(word));
  if (found) {
    const what = found === 'parley' ? 'the name of this application' : 'your e-mail address or name';
    throw new AppError('password_weak', `Do not use ${what} in your password.`);
  }
  const { score, feedback } = (await strengthEstimator()).check(password, words);
  if (score < MIN_SCORE) {
    const why = [feedback.warning ?? 'This password is easy to guess.', ...feedback.suggestions].join(' ');
    throw new AppError('password_weak', `${why} A few unusual words together make a strong password.`);
  }
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMS);
}

/**
 * Whether a stored hash was made with other parameters than today's (they
 * were raised since): it is rehashed at the next successful login. The PHC
 * string reads `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`.
 */
export function needsRehash(storedHash: string): boolean {
  const [, algorithm, , params] = storedHash.split('$');
  const values = new Map((params ?? '').split(',').map((pair) => pair.split('=') as [string, string]));
  return (
    algorithm !== 'argon2id' ||
    values.get('m') !== String(PARAMS.memoryCost) ||
    values.get('t') !== String(PARAMS.timeCost) ||
    values.get('p') !== String(PARAMS.parallelism)
  );
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
