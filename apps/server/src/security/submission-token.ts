import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.js';

// Signed submissions: the site's backend mints a short-lived token for its
// signed-in visitor with the project's identity secret, so the public project
// key and a forged Origin are not enough to submit:
//   token = `${exp}.${hex(HMAC-SHA256(secret, "parley:v1:" + projectKey + ":" + exp + ":" + userId))}`
// with exp in Unix seconds, at most 10 minutes ahead.

export const MAX_TOKEN_SECONDS = 600;
// Clocks of the site's backend and ours differ a little.
const SKEW_SECONDS = 30;
const TOKEN = /^(\d{1,12})\.([0-9a-f]{64})$/;

export function submissionTokenMac(secret: string, projectKey: string, userId: string, exp: number): Buffer {
  return createHmac('sha256', secret).update(`parley:v1:${projectKey}:${exp}:${userId}`).digest();
}

export function verifySubmissionToken(token: string | undefined, secret: string | null, projectKey: string, userId: string | undefined, now: Date): void {
  if (token === undefined || userId === undefined) {
    throw new AppError('submission_token_missing', 'This site only accepts feedback from signed-in visitors: the widget needs identify({ id, token }) with a token from the site.');
  }
  const match = TOKEN.exec(token);
  if (!match || !secret) throw new AppError('submission_token_invalid', 'The submission token is not valid.');
  const exp = Number(match[1]);
  const given = Buffer.from(match[2]!, 'hex');
  if (!timingSafeEqual(given, submissionTokenMac(secret, projectKey, userId, exp))) throw new AppError('submission_token_invalid', 'The submission token is not valid.');
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (exp - nowSeconds > MAX_TOKEN_SECONDS + SKEW_SECONDS) throw new AppError('submission_token_invalid', `A submission token may live at most ${MAX_TOKEN_SECONDS / 60} minutes.`);
  if (exp + SKEW_SECONDS < nowSeconds) throw new AppError('submission_token_expired', 'The submission token has expired; the site should mint a new one.');
}
