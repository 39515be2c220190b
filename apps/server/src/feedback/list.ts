import type pg from 'pg';
import { withTenant } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { decodeCursor, pageOf, type Position } from '../http/cursor.js';
import { inProjectScope, type ProjectScope } from '../projects/service.js';
import type { Feedback, Status } from './schema.js';
import { ITEM_COLUMNS, selectFeedback } from './store.js';

// The organization's inbox: newest first, filtered, searched, a page at a
// time. Every value is a bound parameter; the statement only names the
// conditions asked for, so the planner sees exactly the query it must answer
// (bench/api.mjs measures each filter at a million rows).

export type FeedbackFilter = {
  projectId?: string;
  status?: Status;
  type?: string;
  rating?: number;
  ratingMin?: number;
  ratingMax?: number;
  from?: Date;
  to?: Date;
  q?: string;
  label?: string;
  /** A user id, or 'none' for unassigned feedback. */
  assignee?: string;
  cursor?: string;
  limit: number;
};

/**
 * The tsquery for what someone typed: every word must occur, the last one
 * as a prefix (results appear while typing). Each word is quoted, so
 * operators in the text (& | ! : * ( ) <->) are words to find, never query
 * syntax; the `simple` parser then splits a quoted word as it split the
 * messages (so "e-mail" or "checkout.example.com" find themselves).
 */
export function searchQuery(q: string): string {
  const words = q.trim().split(/\s+/).map((word) => `'${word.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`);
  return `${words.join(' & ')}:*`;
}

function checkFilter(filter: FeedbackFilter): void {
  const invalid = (detail: string) => new AppError('validation_failed', detail);
  if (filter.rating !== undefined && (filter.ratingMin !== undefined || filter.ratingMax !== undefined)) {
    throw invalid('Use either rating (one value) or ratingMin/ratingMax (a range), not both.');
  }
  if (filter.ratingMin !== undefined && filter.ratingMax !== undefined && filter.ratingMin > filter.ratingMax) throw invalid('ratingMin must not be above ratingMax.');
  if (filter.from && filter.to && filter.from >= filter.to) throw invalid('from must be before to.');
}

function listStatement(orgId: string, scope: ProjectScope, filter: FeedbackFilter, after: Position | undefined): { text: string; values: unknown[] } {
  const values: unknown[] = [orgId];
  const bind = (value: unknown) => `$${values.push(value)}`;
  // With a label, rows come newest first from the label's own index
  // (feedback_labels carries created_at), however rare the label.
  const [at, id] = filter.label === undefined ? ['f.created_at', 'f.id'] : ['fl.created_at', 'fl.feedback_id'];
  const source = filter.label === undefined ? 'feedback f' : `feedback_labels fl JOIN feedback f ON f.id = fl.feedback_id AND fl.label_id = ${bind(filter.label)}`;
  const where = ['f.org_id = $1', inProjectScope('f.project_id', values.push(scope))];
  const equal = (column: string, value: unknown) => value !== undefined && where.push(`${column} = ${bind(value)}`);
  equal('f.project_id', filter.projectId);
  equal('f.status', filter.status);
  equal('f.type', filter.type);
  equal('f.rating', filter.rating);
  if (filter.ratingMin !== undefined) where.push(`f.rating >= ${bind(filter.ratingMin)}`);
  if (filter.ratingMax !== undefined) where.push(`f.rating <= ${bind(filter.ratingMax)}`);
  if (filter.from) where.push(`${at} >= ${bind(filter.from)}`);
  if (filter.to) where.push(`${at} < ${bind(filter.to)}`);
  if (filter.q !== undefined) where.push(`f.search @@ to_tsquery('simple', ${bind(searchQuery(filter.q))})`);
  if (filter.assignee === 'none') where.push('f.assignee_id IS NULL');
  else equal('f.assignee_id', filter.assignee);
  if (after) where.push(`(${at}, ${id}) < (${bind(after.createdAt)}, ${bind(after.id)}::uuid)`);
  const page = `SELECT ${ITEM_COLUMNS} FROM ${source} WHERE ${where.join(' AND ')} ORDER BY ${at} DESC, ${id} DESC LIMIT ${bind(filter.limit + 1)}`;
  return { text: page, values };
}

export async function listFeedback(pool: pg.Pool, orgId: string, scope: ProjectScope, filter: FeedbackFilter): Promise<{ items: Feedback[]; nextCursor: string | null }> {
  checkFilter(filter);
  const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
  return withTenant(pool, orgId, async (tx) => {
    if (filter.projectId !== undefined) {
      const { rowCount } = await tx.query(`SELECT 1 FROM projects WHERE id = $1 AND ${inProjectScope('id', 2)}`, [filter.projectId, scope]);
      if (rowCount === 0) throw new AppError('project_not_found', 'No such project (or you cannot see it).');
    }
    const { text, values } = listStatement(orgId, scope, filter, after);
    return pageOf(await selectFeedback(tx, text, values), filter.limit, (item) => item);
  });
}
