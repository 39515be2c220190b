import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Context } from '../context.js';
import { AppError } from '../errors.js';

// Idempotency-Key on every authenticated POST (draft-ietf-httpapi-idempotency-key-header):
// the first answer is kept for 24 hours and replayed to a retry with the same
// key from the same caller, so a client that lost an answer can send again
// without creating twice. The same key with another request is 422; a retry
// while the first still runs is 409. Server errors, 409 and 429 are not kept:
// trying again may give another answer.

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The answer holds a secret shown once (a new API key): a retry is told so instead of seeing it again. */
    secretAnswer?: boolean;
  }
  interface FastifyRequest {
    idempotency: { principal: string; key: string } | null;
  }
}

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
// No request takes this long; a claim still open after it was abandoned.
const ABANDONED_MS = 60_000;
const KEY = /^[\x21-\x7e]{1,255}$/;
// The answer headers a replay repeats.
const KEPT_HEADERS = ['content-type', 'etag', 'location', 'cache-control'];
const TRANSIENT = new Set([409, 429]);

function principalOf(request: FastifyRequest): string | null {
  if (request.apiKey) return `api_key:${request.apiKey.id}`;
  if (request.session) return `user:${request.session.userId}`;
  return null;
}

function requestHash(request: FastifyRequest): Buffer {
  return createHash('sha256').update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`).digest();
}

const bodyField = (principal: string, key: string) => ({ table: 'idempotency_keys', column: 'body', rowId: `${principal} ${key}` });

type Stored = { request_hash: Buffer; status: number | null; headers: Record<string, string> | null; body_enc: Buffer | null; created_at: Date };

/** Registers the hooks; they run after access control, so the caller is known. */
export function registerIdempotency(app: FastifyInstance, ctx: Context): void {
  app.decorateRequest('idempotency', null);
  const pool = ctx.db.app;

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    const key = request.headers['idempotency-key'];
    const principal = principalOf(request);
    if (key === undefined || principal === null) return;
    if (typeof key !== 'string' || !KEY.test(key)) throw new AppError('idempotency_key_invalid', 'Idempotency-Key must be 1 to 255 printable characters without spaces (a UUID is a good choice).');
    const hash = requestHash(request);
    const now = ctx.clock.now();
    // An expired key may be used afresh, and so may one whose first request
    // never finished (its instance died before answering).
    await pool.query(
      'DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND (created_at <= $3 OR (status IS NULL AND created_at <= $4))',
      [principal, key, new Date(now.getTime() - IDEMPOTENCY_TTL_MS), new Date(now.getTime() - ABANDONED_MS)],
    );
    const claimed = await pool.query('INSERT INTO idempotency_keys (principal, key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [principal, key, hash, now]);
    if (claimed.rowCount === 1) {
      request.idempotency = { principal, key };
      return;
    }
    const { rows } = await pool.query<Stored>('SELECT request_hash, status, headers, body_enc, created_at FROM idempotency_keys WHERE principal = $1 AND key = $2', [principal, key]);
    const stored = rows[0];
    if (!stored || stored.status === null) throw new AppError('idempotency_key_in_use', 'The first request with this Idempotency-Key is still being answered. Try again in a moment.', 1);
    if (!stored.request_hash.equals(hash)) throw new AppError('idempotency_key_reused', 'This Idempotency-Key was already used for a different request. Use a new key for each new request.');
    if (stored.body_enc === null) throw new AppError('idempotency_replay_unavailable', 'A request with this Idempotency-Key already succeeded; its answer held a secret that is shown only once.');
    const body = ctx.keyring.openSystem(stored.body_enc, bodyField(principal, key));
    reply.code(stored.status).headers(stored.headers ?? {}).header('idempotent-replayed', 'true');
    return reply.send(body);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    if (!claim) return payload;
    request.idempotency = null;
    const status = reply.statusCode;
    if (status >= 500 || TRANSIENT.has(status)) {
      await pool.query('DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2', [claim.principal, claim.key]);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const value = reply.getHeader(name);
      if (value !== undefined) headers[name] = String(value);
    }
    const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '';
    const keepsBody = !request.routeOptions.config.secretAnswer || status >= 400;
    const sealed = keepsBody ? ctx.keyring.sealSystem(text, bodyField(claim.principal, claim.key)) : null;
    await pool.query('UPDATE idempotency_keys SET status = $3, headers = $4, body_enc = $5 WHERE principal = $1 AND key = $2', [claim.principal, claim.key, status, headers, sealed]);
    return payload;
  });
}
