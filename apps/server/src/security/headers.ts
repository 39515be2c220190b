import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every answer, errors included (SECURITY.md case 25).
 * The dashboard's CSP allows only its own origin: no inline script or style,
 * no eval, no plugins, no framing, no <base> hijack. Computed once: building
 * them per request (as @fastify/helmet does) cost 7% of ingestion CPU
 * (bench/README.md).
 */
export function securityHeaders(publicUrl: URL): Record<string, string> {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    ...(publicUrl.protocol === 'https:' ? ['upgrade-insecure-requests'] : []),
  ].join(';');
  return {
    'content-security-policy': csp,
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'cross-origin-resource-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'x-dns-prefetch-control': 'off',
    'x-permitted-cross-domain-policies': 'none',
  };
}

export function registerSecurityHeaders(app: FastifyInstance, publicUrl: URL): void {
  const headers = securityHeaders(publicUrl);
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(headers);
  });
}
