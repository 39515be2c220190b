import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence by Fetch Metadata, falling back to Origin (OWASP CSRF cheat
 * sheet): a state-changing dashboard request must come from the dashboard's
 * own pages. Browsers set both headers; scripts on other sites cannot forge
 * them. Requests with neither (old browsers, curl) are refused.
 */
export function assertSameOrigin(request: FastifyRequest, publicOrigin: string): void {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) {
    if (site === 'same-origin') return;
  } else if (request.headers.origin === publicOrigin) {
    return;
  }
  throw new AppError('csrf_rejected', 'This request did not come from the Parley dashboard.');
}
