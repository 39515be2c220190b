import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

// Optimistic concurrency (RFC 9110 §13.1.1): every editable resource has a
// version that each change raises; its answers carry it as a strong ETag, and
// a change sent with If-Match is refused with 412 when someone else changed
// the resource since, so two editors cannot silently overwrite each other.

export function etagOf(version: number): string {
  return `"${version}"`;
}

export function setEtag(reply: FastifyReply, version: number): void {
  reply.header('etag', etagOf(version));
}

/** The answer, with its version as the ETag. */
export function withEtag<T extends { version: number }>(reply: FastifyReply, answer: T): T {
  setEtag(reply, answer.version);
  return answer;
}

/** How a route's documentation says it honours If-Match. */
export const IF_MATCH_NOTE = 'Send If-Match with the ETag (the version) you read: if someone changed it since, the answer is 412 precondition_failed and nothing changes.';

/** The version If-Match asks for: undefined without the header or for `*`. */
export function ifMatchVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,9})"\s*$/.exec(header);
  if (!match) throw new AppError('precondition_failed', 'If-Match must be the ETag of the version you read, such as "3".');
  return Number(match[1]);
}

/** Refuses a change based on another version than the current one. */
export function assertVersion(current: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== current) {
    throw new AppError('precondition_failed', `Someone changed this since you read it (you read version ${expected}, it is now ${current}). Load it again, then make your change.`);
  }
}
