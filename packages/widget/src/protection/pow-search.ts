// The brute-force search of the ALTCHA v1 proof of work: find the number n
// (0..maxnumber) for which SHA-256(salt + n), in hex, is the challenge. Used
// by the worker and by the main-thread fallback alike.
import type { Challenge } from './pow.js';

const encoder = new TextEncoder();

/**
 * Hashes in flight at once. crypto.subtle.digest answers asynchronously, so
 * waiting for each hash in turn spends most of the time waiting; in Chromium
 * 64 at a time roughly doubled the rate of one at a time, more did not help.
 */
export const BATCH = 64;

/** The challenge's hex digest as bytes, so each attempt compares bytes instead of building a hex string. */
export function digestBytes(challenge: Challenge): Uint8Array {
  const bytes = new Uint8Array(challenge.challenge.length / 2);
  for (let index = 0; index < bytes.length; index++) bytes[index] = parseInt(challenge.challenge.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}

function isSame(digest: ArrayBuffer, expected: Uint8Array): boolean {
  const bytes = new Uint8Array(digest);
  if (bytes.length !== expected.length) return false;
  for (let index = 0; index < bytes.length; index++) if (bytes[index] !== expected[index]) return false;
  return true;
}

/**
 * Tries the numbers from `start` to `end` (exclusive, capped at maxnumber),
 * BATCH at a time. Resolves with the number, or null when none in the range fits.
 */
export async function searchRange(challenge: Challenge, expected: Uint8Array, start: number, end: number): Promise<number | null> {
  const last = Math.min(end, challenge.maxnumber + 1);
  for (let from = start; from < last; from += BATCH) {
    const numbers: number[] = [];
    for (let number = from; number < Math.min(from + BATCH, last); number++) numbers.push(number);
    const digests = await Promise.all(numbers.map((number) => crypto.subtle.digest('SHA-256', encoder.encode(challenge.salt + number))));
    const found = digests.findIndex((digest) => isSame(digest, expected));
    if (found >= 0) return numbers[found]!;
  }
  return null;
}

/** The base64 JSON payload the server verifies (ALTCHA v1's format). */
export function encodeSolution(challenge: Challenge, number: number): string {
  const { algorithm, salt, signature } = challenge;
  return btoa(JSON.stringify({ algorithm, challenge: challenge.challenge, number, salt, signature }));
}
