import { createHash, randomBytes } from 'node:crypto';

/** A 256-bit random secret for the client, and the SHA-256 the server stores instead of it. */
export function newSecretToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
