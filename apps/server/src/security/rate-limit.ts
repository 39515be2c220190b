import type { FastifyReply } from 'fastify';
import { AppError, type ErrorCode } from '../errors.js';
import type { LimitResult, LimitRule, SharedState } from './shared-state.js';

/** Headers a browser script may read on a cross-origin answer (the widget's "try again in" message). */
export const RATE_LIMIT_HEADERS = ['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];

export function setRateLimitHeaders(reply: FastifyReply, result: LimitResult): void {
  reply.header('ratelimit-limit', String(result.limit));
  reply.header('ratelimit-remaining', String(Math.max(0, result.remaining)));
  reply.header('ratelimit-reset', String(Math.max(1, Math.ceil(result.resetSeconds))));
}

export type Refusal = { code: ErrorCode; what: string };

/**
 * Spends one point of `rule` for `key`; over the limit, answers 429 with
 * Retry-After and RateLimit-* headers. `isShown`: the limit's headers go on
 * answers that pass too (one limit per answer, so the headers mean one thing).
 */
export async function consumeLimit(state: SharedState, rule: LimitRule, key: string, refusal: Refusal, reply: FastifyReply, isShown = false): Promise<LimitResult> {
  const result = await state.consume(rule, key);
  if (isShown || !result.allowed) setRateLimitHeaders(reply, result);
  if (!result.allowed) throw refusalOf(result, refusal);
  return result;
}

/** The 429 for a limit already spent (`result.allowed` false). */
export function refusalOf(result: LimitResult, refusal: Refusal): AppError {
  const seconds = Math.max(1, Math.ceil(result.resetSeconds));
  return new AppError(refusal.code, `${refusal.what}. Please try again in ${describeWait(seconds)}.`, seconds);
}

function describeWait(seconds: number): string {
  if (seconds < 90) return `${seconds} seconds`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.round(seconds / 3600)} hours`;
}
