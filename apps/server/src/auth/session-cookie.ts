import type { FastifyReply } from 'fastify';

export const SESSION_COOKIE = '__Host-parley_session';

// __Host-: Secure, Path=/ and no Domain, so no sibling subdomain can set or
// read it. Lax keeps it off cross-site subrequests; CSRF is checked anyway.
const OPTIONS = { httpOnly: true, secure: true, sameSite: 'lax', path: '/' } as const;

export function setSessionCookie(reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, OPTIONS);
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, OPTIONS);
}
