import { createHash } from 'node:crypto';

// What the widget does with a proof-of-work challenge, done in Node for tests:
// find n with SHA-256(salt + n) = challenge, and send the ALTCHA payload.

export type Challenge = { algorithm: string; challenge: string; maxnumber: number; salt: string; signature: string };

export function solve(challenge: Challenge): number {
  for (let n = 0; n <= challenge.maxnumber; n++) {
    if (createHash('sha256').update(challenge.salt + n).digest('hex') === challenge.challenge) return n;
  }
  throw new Error('challenge has no solution up to maxnumber');
}

/** The base64 JSON payload the widget sends as `challenge`. */
export function solvedPayload(challenge: Challenge, number = solve(challenge)): string {
  const { algorithm, challenge: hash, salt, signature } = challenge;
  return Buffer.from(JSON.stringify({ algorithm, challenge: hash, number, salt, signature })).toString('base64');
}
