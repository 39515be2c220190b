import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useEffect, useEffectEvent, useRef, useState } from 'react';
import { feedbackListQuery, labelsQuery } from '../../api/queries';
import { FEEDBACK_STATUSES, type FeedbackStatus, type FeedbackSummary, type Label, type Member, type Project, type RatingMode } from '../../api/types';
import { SelectField, type Choice } from '../../components/choice-field';
import { ErrorNotice } from '../../components/error-notice';
import { LabelChips } from '../../components/label-chip';
import { LoadMore } from '../../components/load-more';
import { Rating } from '../../components/rating';
import { ScreenshotIcon } from '../../components/screenshot-icon';
import { StatusBadge } from '../../components/status-badge';
import { TextField } from '../../components/text-field';
import { excerpt, formatDateTime, STATUS_LABELS } from '../../lib/format';
import { hasInboxFilter, MAX_SEARCH_LENGTH, toFeedbackFilter, type InboxSearch } from '../../lib/inbox-filter';
import { useOrgAccess } from '../../lib/use-org-access';
import { useProjectMembers } from '../../lib/use-project-members';
import { feedbackTypeLabel } from '../../lib/widget-settings';

const route = getRouteApi('/authenticated/orgs/$orgId/projects/$projectId');

/** How long typing pauses before the search runs (one request per pause, not per key). */
const SEARCH_DELAY_MS = 300;

const STATUS_FILTERS: { value: FeedbackStatus | undefined; label: string }[] = [
  { value: undefined, label: 'All' },
  ...FEEDBACK_STATUSES.map((value) => ({ value, label: STATUS_LABELS[value] })),
];

const ANY: Choice<string> = { value: '', label: 'Any' };

/** A project's feedback: filters kept in the address, newest first, a page at a time. */
export function Inbox({ orgId, project }: { orgId: string; project: Project }) {
  const { tab: _tab, ...search } = route.useSearch();
  const navigate = route.useNavigate();
  const { me } = useOrgAccess(orgId);
  // The list on screen stays (dimmed) while another filter's answer comes, instead of blinking to "Loading".
  const feedback = useInfiniteQuery({ ...feedbackListQuery(orgId, toFeedbackFilter(search, project.id, me.user.id)), placeholderData: keepPreviousData });
  const labels = useQuery(labelsQuery(orgId));
  const members = useProjectMembers(orgId, project.id);
  const isFiltered = hasInboxFilter(search);

  const setSearch = (change: Partial<InboxSearch>, replace = false) =>
    void navigate({ search: ({ tab: _, ...previous }) => ({ ...previous, ...change }), replace });
  const clearFilters = () => void navigate({ search: {} });

  const items = feedback.data?.pages.flatMap((page) => page.items) ?? [];
  const labelList = labels.data?.items ?? [];

  return (
    <section className="inbox" aria-labelledby="inbox-title">
      <div className="inbox-head">
        <h2 id="inbox-title">Feedback</h2>
        {isFiltered && (
          <button type="button" className="button button-secondary button-small inbox-clear" onClick={clearFilters}>
            Clear filters
          </button>
        )}
        <div className="filters" role="group" aria-label="Filter by status">
          {STATUS_FILTERS.map((filter) => (
            <button
              key={filter.label}
              type="button"
              className="filter"
              aria-pressed={search.status === filter.value}
              onClick={() => setSearch({ status: filter.value })}
            >
              {filter.label}
            </button>
          ))}
        </div>
      </div>

      <form className="card section filter-bar inbox-filters" aria-label="Filter feedback" onSubmit={(event) => event.preventDefault()}>
        <SearchField value={search.q ?? ''} onSearch={(q) => setSearch({ q: q === '' ? undefined : q }, true)} />
        <SelectField
          label="Type"
          value={search.type ?? ''}
          choices={withCurrent(
            [ANY, ...project.settings.types.map((type) => ({ value: type.id, label: feedbackTypeLabel(project.settings.types, type.id) }))],
            search.type,
            (id) => feedbackTypeLabel(project.settings.types, id),
          )}
          onChange={(type) => setSearch({ type: type === '' ? undefined : type })}
        />
        <SelectField
          label="Rating"
          value={ratingValue(search)}
          choices={withCurrent(ratingChoices(project.settings.rating), ratingValue(search), (value) => value.replace('-', '–'))}
          onChange={(value) => setSearch(ratingSearch(value))}
        />
        <SelectField
          label="Label"
          value={search.label ?? ''}
          choices={withCurrent([ANY, ...labelList.map((label) => ({ value: label.id, label: label.name }))], search.label, () => 'A deleted label')}
          onChange={(label) => setSearch({ label: label === '' ? undefined : label })}
        />
        <SelectField
          label="Assignee"
          value={search.assignee ?? ''}
          choices={withCurrent(assigneeChoices(members.canSee, me.user.id), search.assignee, (id) => members.byId.get(id)?.name ?? 'A former member')}
          onChange={(assignee) => setSearch({ assignee: assignee === '' ? undefined : assignee })}
        />
        <TextField label="From" name="from" type="date" value={search.from ?? ''} max={search.to} onChange={(from) => setSearch({ from: from === '' ? undefined : from })} />
        <TextField label="To" name="to" type="date" value={search.to ?? ''} min={search.from} onChange={(to) => setSearch({ to: to === '' ? undefined : to })} />
      </form>

      {feedback.isPending ? (
        <p className="muted">Loading feedback…</p>
      ) : feedback.isError ? (
        <ErrorNotice error={feedback.error} />
      ) : items.length === 0 ? (
        <div className="empty" data-testid="inbox-empty">
          {isFiltered ? (
            <>
              <p>
                <strong>No feedback matches these filters.</strong>
              </p>
              <p>
                <button type="button" className="button button-secondary button-small" onClick={clearFilters}>
                  Clear filters
                </button>
              </p>
            </>
          ) : (
            <p>
              <strong>No feedback yet</strong> — paste the{' '}
              <Link to="/orgs/$orgId/projects/$projectId" params={{ orgId, projectId: project.id }} search={{ tab: 'install' }}>
                snippet
              </Link>{' '}
              on your site and the first messages will show up here.
            </p>
          )}
        </div>
      ) : (
        <>
          <ul className="feedback-list" data-testid="feedback-list" aria-busy={feedback.isPlaceholderData}>
            {items.map((item) => (
              <FeedbackRow key={item.id} orgId={orgId} project={project} item={item} labels={labelList} assignee={item.assigneeId === null ? null : (members.byId.get(item.assigneeId) ?? null)} />
            ))}
          </ul>
          <LoadMore query={feedback} />
        </>
      )}
      <p className="visually-hidden" role="status">
        {feedback.isSuccess && `${items.length} ${items.length === 1 ? 'item' : 'items'} shown${feedback.hasNextPage ? ', more to load' : ''}.`}
      </p>
    </section>
  );
}

/**
 * The text search, sent once typing pauses. The address is the truth: a
 * change there that this field did not make (clear filters, back) replaces
 * what is typed.
 */
function SearchField({ value, onSearch }: { value: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(value);
  const sent = useRef(value);
  const search = useEffectEvent(onSearch);

  useEffect(() => {
    if (value === sent.current) return;
    sent.current = value;
    setText(value);
  }, [value]);

  useEffect(() => {
    const q = text.trim();
    if (q === sent.current) return;
    const timer = window.setTimeout(() => {
      sent.current = q;
      search(q);
    }, SEARCH_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [text]);

  return (
    <div className="inbox-search">
      <TextField
        label="Search messages"
        name="q"
        type="search"
        maxLength={MAX_SEARCH_LENGTH}
        value={text}
        onChange={setText}
        hint="Finds feedback whose message has every word you type; the last word also matches the start of a longer one (“check” finds “checkout”)."
      />
    </div>
  );
}

/** The choices, plus the current value when none of them is it (a link made elsewhere, a deleted label). */
function withCurrent(choices: Choice<string>[], current: string | undefined, name: (value: string) => string): Choice<string>[] {
  if (current === undefined || current === '' || choices.some((choice) => choice.value === current)) return choices;
  return [...choices, { value: current, label: name(current) }];
}

/** Exact values and the usual ranges of the project's rating scale ("1-2" is a range). */
function ratingChoices(mode: RatingMode): Choice<string>[] {
  const exact = (from: number, to: number, name: (value: number) => string) =>
    Array.from({ length: to - from + 1 }, (_, i) => ({ value: String(from + i), label: name(from + i) }));
  switch (mode) {
    case 'thumbs':
      return [ANY, { value: '1', label: 'Thumbs up' }, { value: '0', label: 'Thumbs down' }];
    case 'nps':
      return [
        ANY,
        { value: '0-6', label: '0–6 (detractors)' },
        { value: '7-8', label: '7–8 (passives)' },
        { value: '9-10', label: '9–10 (promoters)' },
        ...exact(0, 10, (value) => `${value} of 10`),
      ];
    default:
      return [ANY, { value: '1-2', label: '1–2 (low)' }, { value: '4-5', label: '4–5 (high)' }, ...exact(1, 5, (value) => `${value} of 5`)];
  }
}

function ratingValue({ rating, ratingMin, ratingMax }: InboxSearch): string {
  if (rating !== undefined) return rating;
  if (ratingMin === undefined && ratingMax === undefined) return '';
  return `${ratingMin ?? '0'}-${ratingMax ?? '10'}`;
}

function ratingSearch(value: string): Pick<InboxSearch, 'rating' | 'ratingMin' | 'ratingMax'> {
  const [min, max] = value.split('-');
  if (value === '') return { rating: undefined, ratingMin: undefined, ratingMax: undefined };
  if (max === undefined) return { rating: value, ratingMin: undefined, ratingMax: undefined };
  return { rating: undefined, ratingMin: min, ratingMax: max };
}

function assigneeChoices(members: Member[], myUserId: string): Choice<string>[] {
  return [
    { value: '', label: 'Anyone' },
    { value: 'me', label: 'Me' },
    { value: 'none', label: 'Unassigned' },
    ...members.filter((member) => member.userId !== myUserId).map((member) => ({ value: member.userId, label: member.name })),
  ];
}

type RowProps = { orgId: string; project: Project; item: FeedbackSummary; labels: Label[]; assignee: Member | null };

function FeedbackRow({ orgId, project, item, labels, assignee }: RowProps) {
  const hasMeta = item.labelIds.length > 0 || item.assigneeId !== null || item.noteCount > 0;
  return (
    <li>
      <Link to="/orgs/$orgId/feedback/$feedbackId" params={{ orgId, feedbackId: item.id }} className="feedback-item" data-testid="feedback-item">
        <span className="feedback-item-top">
          <StatusBadge status={item.status} />
          <Rating value={item.rating} scale={item.ratingScale} />
          {item.type !== null && <span className="tag">{feedbackTypeLabel(project.settings.types, item.type)}</span>}
          {item.hasScreenshot && <ScreenshotIcon />}
          <time className="feedback-time muted" dateTime={item.createdAt}>
            {formatDateTime(item.createdAt)}
          </time>
        </span>
        <span className="feedback-excerpt">{item.message.trim() === '' ? <em className="muted">No message</em> : excerpt(item.message)}</span>
        {hasMeta && (
          <span className="feedback-item-meta">
            <LabelChips ids={item.labelIds} labels={labels} />
            {item.assigneeId !== null && (
              <span className="feedback-assignee" data-testid="feedback-assignee">
                Assigned to {assignee?.name ?? 'a former member'}
              </span>
            )}
            {item.noteCount > 0 && (
              <span className="feedback-notes" data-testid="feedback-notes">
                {item.noteCount} {item.noteCount === 1 ? 'note' : 'notes'}
              </span>
            )}
          </span>
        )}
      </Link>
    </li>
  );
}
