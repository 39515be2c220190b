import { AppError } from '../errors.js';

// Keyset pagination, newest first: a cursor is the position of the last item
// a page showed, (created_at, id), opaque to clients. The next page is the
// rows with `(created_at, id) < (cursor.createdAt, cursor.id)`, so pages stay
// stable while new rows arrive.

export type Position = { createdAt: Date; id: string };

export function encodeCursor(position: Position): string {
  return Buffer.from(`${position.createdAt.toISOString()}|${position.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (Number.isNaN(createdAt.getTime()) || !id || !/^[0-9a-f-]{36}$/.test(id)) {
    throw new AppError('validation_failed', 'cursor is not valid: pass the nextCursor of the previous page unchanged.');
  }
  return { createdAt, id };
}

/** The page of `rows` (fetched with one row more than `limit`) and the cursor of the next one, if any. */
export function pageOf<T>(rows: T[], limit: number, positionOf: (row: T) => Position): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeCursor(positionOf(items.at(-1)!)) : null };
}
