import type { FeedbackFilter } from '../api/client';
import { FEEDBACK_STATUSES, type FeedbackStatus } from '../api/types';
import { dayRange, isDay } from './day-range';

/**
 * The inbox's filters as they stand in the address (`?status=new&q=checkout`),
 * so a filtered view can be shared and survives a reload. The names are the
 * API's, except `from`/`to` (days, not instants) and `assignee=me` (whoever
 * opens the link).
 */
export type InboxSearch = Pick<FeedbackFilter, 'status' | 'type' | 'rating' | 'ratingMin' | 'ratingMax' | 'q' | 'label'> & {
  /** Days, YYYY-MM-DD, both included. */
  from?: string;
  to?: string;
  /** A member's user id, `me` or `none` (unassigned). */
  assignee?: string;
};

export const INBOX_FILTER_KEYS = ['status', 'type', 'rating', 'ratingMin', 'ratingMax', 'from', 'to', 'q', 'label', 'assignee'] as const;

/** The API's bounds (apps/server/src/feedback/schema.ts); anything else in the address is dropped, not sent. */
export const MAX_SEARCH_LENGTH = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RATING = /^(?:10|\d)$/;
const TYPE_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;

const text = (value: unknown, valid: (text: string) => boolean) =>
  typeof value === 'string' && value !== '' && valid(value) ? value : undefined;

/** Reads the filters from the address, keeping only well-formed values. */
export function parseInboxSearch(search: Record<string, unknown>): InboxSearch {
  const parsed: InboxSearch = {
    status: (FEEDBACK_STATUSES as readonly unknown[]).includes(search.status) ? (search.status as FeedbackStatus) : undefined,
    type: text(search.type, (t) => TYPE_ID.test(t)),
    rating: text(search.rating, (t) => RATING.test(t)),
    ratingMin: text(search.ratingMin, (t) => RATING.test(t)),
    ratingMax: text(search.ratingMax, (t) => RATING.test(t)),
    from: isDay(search.from) ? search.from : undefined,
    to: isDay(search.to) ? search.to : undefined,
    q: text(search.q, (t) => t.trim() !== '' && t.length <= MAX_SEARCH_LENGTH),
    label: text(search.label, (t) => UUID.test(t)),
    assignee: text(search.assignee, (t) => t === 'me' || t === 'none' || UUID.test(t)),
  };
  // The API takes an exact rating or a range, not both.
  if (parsed.rating !== undefined) parsed.ratingMin = parsed.ratingMax = undefined;
  return Object.fromEntries(Object.entries(parsed).filter(([, value]) => value !== undefined));
}

export const hasInboxFilter = (search: InboxSearch) => INBOX_FILTER_KEYS.some((key) => search[key] !== undefined);

/** The request for one project's inbox; `me` becomes the signed-in user's id. */
export function toFeedbackFilter(search: InboxSearch, projectId: string, myUserId: string): FeedbackFilter {
  const { from, to, assignee, ...rest } = search;
  return {
    ...rest,
    projectId,
    ...dayRange(from, to),
    ...(assignee === undefined ? {} : { assignee: assignee === 'me' ? myUserId : assignee }),
  };
}
