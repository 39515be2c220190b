import type pg from 'pg';
import { withTenant, type Tx } from '../db/tenant.js';
import { AppError } from '../errors.js';
import { decodeCursor, pageOf, type Position } from '../http/cursor.js';
import { inProjectScope, type ProjectScope } from '../projects/service.js';
import type { Feedback, Status } from './schema.js';
import { ITEM_COLUMNS, selectFeedback } from './store.js';

// The organization's inbox: newest first, filtered, searched, a page at a
// time. Every value is a bound parameter; a statement names only the
// conditions asked for, so the planner sees exactly the query it must answer
// (bench/api.mjs measures each filter at a million rows). Lists read the
// feedback_inbox view, which keeps to the tenant like the table's policy but
// lets the full-text index be used (see migration 6).

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
 * A search reads the filtered rows newest first and tests each, in windows:
 * the first of SEARCH_WINDOW rows, each next one as large as the matches
 * found so far say the page needs (twice that), while the rows read stay
 * under SEARCH_SCAN_LIMIT. When matches are too rare for that, the
 * full-text index finds the rest. Figures measured in bench/README.md
 * ("api.mjs").
 */
export const SEARCH_WINDOW = 2000;
export const SEARCH_SCAN_LIMIT = 20_000;

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

type Statement = { text: string; values: unknown[] };

/**
 * The parts of one statement over the filtered rows older than `before`:
 * `filtered` (FROM … WHERE …, the search left out), `newest` (the order),
 * the order's columns, and `bind` for more values.
 */
function rowsOf(orgId: string, scope: ProjectScope, filter: FeedbackFilter, before: Position | undefined) {
  const values: unknown[] = [orgId];
  const bind = (value: unknown) => `$${values.push(value)}`;
  // With a label, rows come newest first from the label's own index
  // (feedback_labels carries created_at), however rare the label.
  const [at, id] = filter.label === undefined ? ['f.created_at', 'f.id'] : ['fl.created_at', 'fl.feedback_id'];
  const source = filter.label === undefined ? 'feedback_inbox f' : `feedback_labels fl JOIN feedback_inbox f ON f.id = fl.feedback_id AND fl.label_id = ${bind(filter.label)}`;
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
  if (filter.assignee === 'none') where.push('f.assignee_id IS NULL');
  else equal('f.assignee_id', filter.assignee);
  if (before) where.push(`(${at}, ${id}) < (${bind(before.createdAt)}, ${bind(before.id)}::uuid)`);
  const matches = (column: string) => `${column} @@ to_tsquery('simple', ${bind(searchQuery(filter.q ?? ''))})`;
  return { values, bind, at, id, matches, filtered: `FROM ${source} WHERE ${where.join(' AND ')}`, newest: `ORDER BY ${at} DESC, ${id} DESC` };
}

/** The statements a page runs, by what they do. Refuses a malformed cursor. */
function listStatements(orgId: string, scope: ProjectScope, filter: FeedbackFilter) {
  const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
  return {
    /** A page without search, whole items. */
    items(): Statement {
      const rows = rowsOf(orgId, scope, filter, after);
      return { text: `SELECT ${ITEM_COLUMNS} ${rows.filtered} ${rows.newest} LIMIT ${rows.bind(filter.limit + 1)}`, values: rows.values };
    },
    /** The matches among the next `size` filtered rows after `before`, read in order (stops as soon as `count` are found). */
    matchesInWindow(before: Position | undefined, size: number, count: number): Statement {
      const rows = rowsOf(orgId, scope, filter, before);
      const window = `SELECT ${rows.at} AS at, ${rows.id} AS id, f.search ${rows.filtered} ${rows.newest} LIMIT ${rows.bind(size)}`;
      return { text: `SELECT w.at, w.id FROM (${window}) w WHERE ${rows.matches('w.search')} ORDER BY w.at DESC, w.id DESC LIMIT ${rows.bind(count)}`, values: rows.values };
    },
    /** The last row of that window, if it is full. */
    windowEdge(before: Position | undefined, size: number): Statement {
      const rows = rowsOf(orgId, scope, filter, before);
      return { text: `SELECT ${rows.at} AS at, ${rows.id} AS id ${rows.filtered} ${rows.newest} OFFSET ${rows.bind(size - 1)} LIMIT 1`, values: rows.values };
    },
    /** The newest `count` matches after `before`, from the full-text index. */
    indexedMatches(before: Position | undefined, count: number): Statement {
      const rows = rowsOf(orgId, scope, filter, before);
      return { text: `SELECT ${rows.at} AS at, ${rows.id} AS id ${rows.filtered} AND ${rows.matches('f.search')} ${rows.newest} LIMIT ${rows.bind(count)}`, values: rows.values };
    },
    /** Where the page starts. */
    after,
  };
}

type Hit = { at: Date; id: string };

/**
 * The ids of a search's page (and one more, to know there is a next page).
 * Reading newest first and testing each row is quick for a common word and
 * endless for a rare one; the full-text index is the reverse (and slow for
 * several common words together, which must all be looked up). So: windows
 * read in order while the matches found say the page fills within
 * SEARCH_SCAN_LIMIT rows; then the index for what is left, with plain index
 * scans switched off for that statement so the planner cannot fall back to
 * reading in order (its estimate for a word it has no statistics on is a
 * guess).
 */
async function searchPage(tx: Tx, statements: ReturnType<typeof listStatements>, wanted: number): Promise<string[]> {
  const run = async (statement: Statement) => (await tx.query<Hit>(statement.text, statement.values)).rows;
  const hits: Hit[] = [];
  let before = statements.after;
  let size = SEARCH_WINDOW;
  let read = 0;
  for (;;) {
    const found = await run(statements.matchesInWindow(before, size, wanted - hits.length));
    hits.push(...found);
    if (hits.length === wanted) return hits.map((hit) => hit.id);
    const [edge] = await run(statements.windowEdge(before, size));
    if (!edge) return hits.map((hit) => hit.id);
    before = { createdAt: edge.at, id: edge.id };
    read += size;
    const rowsNeeded = found.length === 0 ? Infinity : ((wanted - hits.length) * size) / found.length;
    if (read + 2 * rowsNeeded > SEARCH_SCAN_LIMIT) break;
    size = Math.ceil(2 * rowsNeeded);
  }
  await tx.query("SELECT set_config('enable_indexscan', 'off', true)");
  const older = await run(statements.indexedMatches(before, wanted - hits.length));
  await tx.query("SELECT set_config('enable_indexscan', 'on', true)");
  return [...hits, ...older].map((hit) => hit.id);
}

export async function listFeedback(pool: pg.Pool, orgId: string, scope: ProjectScope, filter: FeedbackFilter): Promise<{ items: Feedback[]; nextCursor: string | null }> {
  checkFilter(filter);
  const statements = listStatements(orgId, scope, filter);
  return withTenant(pool, orgId, async (tx) => {
    if (filter.projectId !== undefined) {
      const { rowCount } = await tx.query(`SELECT 1 FROM projects WHERE id = $1 AND ${inProjectScope('id', 2)}`, [filter.projectId, scope]);
      if (rowCount === 0) throw new AppError('project_not_found', 'No such project (or you cannot see it).');
    }
    let page: Statement;
    if (filter.q === undefined) {
      page = statements.items();
    } else {
      const ids = await searchPage(tx, statements, filter.limit + 1);
      page = { text: `SELECT ${ITEM_COLUMNS} FROM feedback f WHERE f.id = ANY($1::uuid[])`, values: [ids] };
    }
    return pageOf(await selectFeedback(tx, page.text, page.values), filter.limit, (item) => item);
  });
}
