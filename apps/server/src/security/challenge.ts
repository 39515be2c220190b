// Proof of work for widget submissions, in ALTCHA's v1 protocol: the server
// hands out SHA-256(salt + n) for a secret random n ≤ maxnumber, signed with
// HMAC; the browser finds n by brute force (about maxnumber / 2 hashes on
// average) and sends it back. Checking costs the server one hash and one
// HMAC, so a flood of bogus or replayed solutions stays cheap to refuse
// while each real submission costs its sender CPU time.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createChallenge, extractParams } from 'altcha-lib/v1';
import type { Clock } from '../context.js';
import { AppError } from '../errors.js';
import type { SharedState } from './shared-state.js';

export type Challenge = { algorithm: 'SHA-256'; challenge: string; maxnumber: number; salt: string; signature: string };

/**
 * maxnumber by level, measured with bench/pow-solve.mjs in headless Chromium
 * on a 2-core machine: normal is solved in well under a second, raised (an
 * address or project under load) takes several seconds.
 */
export const DIFFICULTY = { normal: 100_000, raised: 1_000_000 } as const;

/** How long a challenge may be solved and sent. */
export const CHALLENGE_LIFETIME_MS = 5 * 60_000;

/**
 * Replay claims outlive the challenge by this much, so an instance whose
 * clock runs a little behind still finds the claim while it accepts the
 * challenge.
 */
const CLAIM_MARGIN_MS = 60_000;

const HEX_64 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

type Solution = { algorithm: 'SHA-256'; challenge: string; number: number; salt: string; signature: string };

function invalid(detail: string): AppError {
  return new AppError('challenge_invalid', detail);
}

/** The payload's fields, or challenge_invalid when it is not ALTCHA's base64 JSON with the right types. */
function decodeSolution(payload: string): Solution {
  if (!BASE64.test(payload)) throw invalid('The proof of work is not base64.');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
  } catch {
    throw invalid('The proof of work is not JSON.');
  }
  const { algorithm, challenge, number, salt, signature } = (value ?? {}) as Record<string, unknown>;
  if (algorithm !== 'SHA-256' || typeof challenge !== 'string' || !HEX_64.test(challenge) || typeof signature !== 'string' || !HEX_64.test(signature)) {
    throw invalid('The proof of work does not have the expected fields.');
  }
  if (typeof salt !== 'string' || salt.length > 500 || typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
    throw invalid('The proof of work does not have the expected fields.');
  }
  return { algorithm, challenge, number, salt, signature };
}

const isSameHex = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));

export class Challenges {
  /** altcha-lib takes the HMAC key as text; the hex of our 32 bytes keeps their full strength. */
  private readonly hmacKey: string;

  constructor(
    private readonly state: SharedState,
    hmacKey: Buffer,
    private readonly clock: Clock,
  ) {
    this.hmacKey = hmacKey.toString('hex');
  }

  /** A challenge for `projectId` that expires in CHALLENGE_LIFETIME_MS; the project and expiry ride in the signed salt. */
  async issue(projectId: string, level: 'normal' | 'raised'): Promise<Challenge> {
    const expires = new Date(this.clock.now().getTime() + CHALLENGE_LIFETIME_MS);
    const { challenge, maxnumber, salt, signature } = await createChallenge({ algorithm: 'SHA-256', hmacKey: this.hmacKey, maxnumber: DIFFICULTY[level], params: { project: projectId }, expires });
    return { algorithm: 'SHA-256', challenge, maxnumber: maxnumber ?? DIFFICULTY[level], salt, signature };
  }

  /**
   * Accepts a solved challenge once, across all instances. Checks, in order:
   * the solution and signature (so nothing below trusts an unsigned salt),
   * the project, the expiry (by our clock, not altcha's Date.now), the replay.
   */
  async verify(projectId: string, payload: string): Promise<{ issuedAt: Date }> {
    const solution = decodeSolution(payload);
    // A salt we signed ends with '&' (altcha-lib adds it), so digits moved
    // from the number into the salt (a fresh-looking solution of the same
    // challenge) are refused: one challenge, one signature, one claim.
    if (!solution.salt.endsWith('&')) throw invalid('The proof of work is not a solution of a challenge we issued.');
    // altcha-lib's verifySolution, done with node:crypto: the same SHA-256
    // and HMAC, but synchronous and without importing a WebCrypto key per
    // call (about 10 µs instead of about 115 µs a verification, bench/pow-solve.mjs), and
    // the signature compared in constant time rather than with ===.
    const challenge = createHash('sha256').update(solution.salt + solution.number).digest('hex');
    const signature = createHmac('sha256', this.hmacKey).update(challenge).digest('hex');
    if (!isSameHex(challenge, solution.challenge) || !isSameHex(signature, solution.signature)) {
      throw invalid('The proof of work is not a solution of a challenge we issued.');
    }
    const params = extractParams(solution);
    if (params.project !== projectId) throw new AppError('challenge_wrong_project');
    const expiresMs = Number(params.expires) * 1000;
    if (!Number.isSafeInteger(expiresMs)) throw invalid('The proof of work has no expiry.');
    const nowMs = this.clock.now().getTime();
    if (nowMs > expiresMs) throw new AppError('challenge_expired');
    if (!(await this.state.claimOnce(`pow:${solution.signature}`, expiresMs - nowMs + CLAIM_MARGIN_MS))) throw new AppError('challenge_replayed');
    return { issuedAt: new Date(expiresMs - CHALLENGE_LIFETIME_MS) };
  }
}
