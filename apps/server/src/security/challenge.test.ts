import { createHash, createHmac, randomBytes } from 'node:crypto';
import { verifySolution } from 'altcha-lib/v1';
import { beforeEach, describe, expect, it } from 'vitest';
import { solve, solvedPayload } from '../../../../test/pow.js';
import { AppError, type ErrorCode } from '../errors.js';
import { CHALLENGE_LIFETIME_MS, Challenges, DIFFICULTY, type Challenge } from './challenge.js';
import type { SharedState } from './shared-state.js';

const PROJECT = '0b8f3c52-6a7e-4d0f-9a43-3a1c2f0e9d11';
const OTHER_PROJECT = '5d2e9a10-1f3b-4c7e-8a6d-0e4b7c9f2a33';

/** Only claimOnce matters here; the shared stores themselves are tested in shared-state.test.ts. */
function claimsInMemory(): SharedState {
  const claims = new Map<string, number>();
  return {
    claimOnce: async (key: string, ttlMs: number) => {
      if (claims.has(key)) return false;
      claims.set(key, ttlMs);
      return true;
    },
  } as Pick<SharedState, 'claimOnce'> as SharedState;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
const payloadOf = solvedPayload;

async function refusal(promise: Promise<unknown>): Promise<ErrorCode> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error.code;
}

let now: Date;
const clock = { now: () => now };
let key: Buffer;
let state: SharedState;
let challenges: Challenges;

beforeEach(() => {
  now = new Date('2026-11-23T15:00:00.000Z');
  key = randomBytes(32);
  state = claimsInMemory();
  challenges = new Challenges(state, key, clock);
});

describe('issuing', () => {
  it('binds the project and a five-minute expiry into the salt, at the level asked', async () => {
    const normal = await challenges.issue(PROJECT, 'normal');
    expect(normal).toMatchObject({ algorithm: 'SHA-256', maxnumber: DIFFICULTY.normal });
    expect(normal.salt).toMatch(new RegExp(`^[0-9a-f]{24}\\?project=${PROJECT}&expires=${(now.getTime() + CHALLENGE_LIFETIME_MS) / 1000}&$`));
    expect((await challenges.issue(PROJECT, 'raised')).maxnumber).toBe(DIFFICULTY.raised);
  });

  it('never repeats a salt', async () => {
    const salts = new Set<string>();
    for (let i = 0; i < 200; i++) salts.add((await challenges.issue(PROJECT, 'normal')).salt);
    expect(salts.size).toBe(200);
  });
});

describe('verifying', () => {
  it('accepts a solution once and tells when the challenge was issued', async () => {
    const challenge = await challenges.issue(PROJECT, 'normal');
    now = new Date(now.getTime() + 20_000);
    await expect(challenges.verify(PROJECT, payloadOf(challenge))).resolves.toEqual({ issuedAt: new Date('2026-11-23T15:00:00.000Z') });
  });

  it('speaks ALTCHA v1: what altcha-lib accepts is accepted', async () => {
    const payload = payloadOf(await challenges.issue(PROJECT, 'normal'));
    // Expiry off: it would read the real time, and ours comes from the test's clock.
    expect(await verifySolution(payload, key.toString('hex'), false)).toBe(true);
    await expect(challenges.verify(PROJECT, payload)).resolves.toBeTruthy();
  });

  it('refuses a replay, on another instance sharing the state too', async () => {
    const payload = payloadOf(await challenges.issue(PROJECT, 'normal'));
    await challenges.verify(PROJECT, payload);
    expect(await refusal(challenges.verify(PROJECT, payload))).toBe('challenge_replayed');
    expect(await refusal(new Challenges(state, key, clock).verify(PROJECT, payload))).toBe('challenge_replayed');
  });

  it('refuses a solved challenge sent again with digits of the number moved into the salt', async () => {
    let challenge: Challenge;
    let number: number;
    // A split needs a number of two digits or more whose rest has no leading zero.
    do {
      challenge = await challenges.issue(PROJECT, 'normal');
      number = solve(challenge);
    } while (!/^\d[1-9]/.test(String(number)));
    await challenges.verify(PROJECT, payloadOf(challenge, number));
    const digits = String(number);
    const spliced = encode({ ...challenge, maxnumber: undefined, salt: challenge.salt + digits[0], number: Number(digits.slice(1)) });
    expect(await refusal(challenges.verify(PROJECT, spliced))).toBe('challenge_invalid');
  });

  it('refuses a challenge issued for another project', async () => {
    const payload = payloadOf(await challenges.issue(OTHER_PROJECT, 'normal'));
    expect(await refusal(challenges.verify(PROJECT, payload))).toBe('challenge_wrong_project');
    // The refusal did not use it up for its own project.
    await expect(challenges.verify(OTHER_PROJECT, payload)).resolves.toBeTruthy();
  });

  it('refuses a challenge past its five minutes, by the injected clock', async () => {
    const payload = payloadOf(await challenges.issue(PROJECT, 'normal'));
    const issued = now.getTime();
    now = new Date(issued + CHALLENGE_LIFETIME_MS + 1);
    expect(await refusal(challenges.verify(PROJECT, payload))).toBe('challenge_expired');
    now = new Date(issued + CHALLENGE_LIFETIME_MS);
    await expect(challenges.verify(PROJECT, payload)).resolves.toBeTruthy();
  });

  it('refuses a wrong number', async () => {
    const challenge = await challenges.issue(PROJECT, 'normal');
    expect(await refusal(challenges.verify(PROJECT, payloadOf(challenge, solve(challenge) + 1)))).toBe('challenge_invalid');
  });

  it('refuses a salt rewritten for another project or a later expiry', async () => {
    const challenge = await challenges.issue(OTHER_PROJECT, 'normal');
    const number = solve(challenge);
    const moved = { ...challenge, salt: challenge.salt.replace(OTHER_PROJECT, PROJECT) };
    expect(await refusal(challenges.verify(PROJECT, payloadOf(moved, number)))).toBe('challenge_invalid');
    const later = { ...challenge, salt: challenge.salt.replace(/expires=\d+/, 'expires=9999999999') };
    expect(await refusal(challenges.verify(OTHER_PROJECT, payloadOf(later, number)))).toBe('challenge_invalid');
  });

  it('refuses a challenge the sender made up, or one signed with another key', async () => {
    // Made up: an easy challenge of the sender's own, with a guessed signature.
    const salt = `${'a'.repeat(24)}?project=${PROJECT}&expires=9999999999&`;
    const madeUp = { algorithm: 'SHA-256' as const, challenge: createHash('sha256').update(`${salt}1`).digest('hex'), maxnumber: 1, salt, signature: 'f'.repeat(64) };
    expect(await refusal(challenges.verify(PROJECT, payloadOf(madeUp, 1)))).toBe('challenge_invalid');
    const otherKey = randomBytes(32);
    madeUp.signature = createHmac('sha256', otherKey.toString('hex')).update(madeUp.challenge).digest('hex');
    expect(await refusal(challenges.verify(PROJECT, payloadOf(madeUp, 1)))).toBe('challenge_invalid');
    const foreign = await new Challenges(claimsInMemory(), otherKey, clock).issue(PROJECT, 'normal');
    expect(await refusal(challenges.verify(PROJECT, payloadOf(foreign)))).toBe('challenge_invalid');
  });

  it('refuses a flipped signature', async () => {
    const challenge = await challenges.issue(PROJECT, 'normal');
    const flipped = { ...challenge, signature: (challenge.signature[0] === '0' ? '1' : '0') + challenge.signature.slice(1) };
    expect(await refusal(challenges.verify(PROJECT, payloadOf(flipped, solve(challenge))))).toBe('challenge_invalid');
  });

  it.each([
    ['not base64', '%%%'],
    ['empty', ''],
    ['base64 of no JSON', Buffer.from('{nope').toString('base64')],
    ['JSON null', encode(null)],
    ['another algorithm', encode({ algorithm: 'SHA-1', challenge: 'a'.repeat(64), number: 1, salt: 'x&', signature: 'a'.repeat(64) })],
    ['a number as text', encode({ algorithm: 'SHA-256', challenge: 'a'.repeat(64), number: '1', salt: 'x&', signature: 'a'.repeat(64) })],
    ['a negative number', encode({ algorithm: 'SHA-256', challenge: 'a'.repeat(64), number: -1, salt: 'x&', signature: 'a'.repeat(64) })],
    ['a short signature', encode({ algorithm: 'SHA-256', challenge: 'a'.repeat(64), number: 1, salt: 'x&', signature: 'a'.repeat(63) })],
    ['no salt', encode({ algorithm: 'SHA-256', challenge: 'a'.repeat(64), number: 1, signature: 'a'.repeat(64) })],
  ])('refuses a payload that is %s', async (_what, payload) => {
    expect(await refusal(challenges.verify(PROJECT, payload))).toBe('challenge_invalid');
  });

  it('claims a replay key for at least the rest of the lifetime', async () => {
    const claimed: number[] = [];
    const recording = { claimOnce: async (_key: string, ttlMs: number) => claimed.push(ttlMs) > 0 } as Pick<SharedState, 'claimOnce'> as SharedState;
    const challenge = await new Challenges(recording, key, clock).issue(PROJECT, 'normal');
    now = new Date(now.getTime() + 60_000);
    await new Challenges(recording, key, clock).verify(PROJECT, payloadOf(challenge));
    expect(claimed[0]).toBeGreaterThanOrEqual(CHALLENGE_LIFETIME_MS - 60_000);
  });
});
