import type { FastifyReply, FastifyRequest } from 'fastify';
import { UAParser } from 'ua-parser-js';
import type { Context } from '../context.js';
import { withoutTenant } from '../db/tenant.js';
import { queueMail } from '../mail/mailer.js';
import type { User } from '../users/service.js';
import { newDeviceMail } from './notices.js';
import { hashToken, newSecretToken } from './tokens.js';

// A long-lived random cookie tells a browser that signed in before from a new
// one, so the account's owner hears of sign-ins from browsers it has never
// used. It grants nothing: only its SHA-256 is kept, per user.
export const DEVICE_COOKIE = '__Host-parley_device';
const DEVICE_TTL_S = 365 * 24 * 3600;
const DEVICE_OPTIONS = { httpOnly: true, secure: true, sameSite: 'lax', path: '/', maxAge: DEVICE_TTL_S } as const;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** "Chrome 156 on Linux" from a User-Agent; only printable characters, bounded, as it goes into mails and pages. */
export function describeDevice(userAgent: string | null | undefined): string {
  const { browser, os } = UAParser((userAgent ?? '').slice(0, 500));
  const name = [browser.name, browser.major].filter(Boolean).join(' ') || 'Unknown browser';
  const described = os.name ? `${name} on ${[os.name, os.version].filter(Boolean).join(' ')}` : name;
  return described.replace(/[^\p{L}\p{N}\p{P}\p{Zs}]/gu, '').slice(0, 100);
}

/**
 * After a successful first factor: marks this browser as known for the user
 * (setting the cookie if it had none) and, when the user has signed in from
 * other browsers before but never from this one, mails a new-sign-in notice.
 * The very first browser of an account is not news.
 */
export async function recognizeDevice(ctx: Context, request: FastifyRequest, reply: FastifyReply, user: User): Promise<void> {
  const presented = request.cookies[DEVICE_COOKIE];
  const token = presented && TOKEN_SHAPE.test(presented) ? presented : newSecretToken().token;
  const hash = hashToken(token);
  const now = ctx.clock.now();
  await withoutTenant(ctx.db.app, async (tx) => {
    const { rows } = await tx.query<{ known: boolean; others: boolean }>(
      `SELECT bool_or(device_hash = $2) AS known, bool_or(device_hash <> $2) AS others FROM known_devices WHERE user_id = $1`,
      [user.id, hash],
    );
    if (!rows[0]?.known && rows[0]?.others) {
      await queueMail(tx, ctx.keyring, newDeviceMail(user.email, describeDevice(request.headers['user-agent']), request.clientIp, now), now);
    }
    await tx.query(
      `INSERT INTO known_devices (user_id, device_hash, first_seen_at, last_seen_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (user_id, device_hash) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at`,
      [user.id, hash, now],
    );
    // A browser unseen for longer than its cookie lives is gone for good.
    await tx.query('DELETE FROM known_devices WHERE user_id = $1 AND last_seen_at < $2', [user.id, new Date(now.getTime() - DEVICE_TTL_S * 1000)]);
  });
  reply.setCookie(DEVICE_COOKIE, token, DEVICE_OPTIONS);
}
