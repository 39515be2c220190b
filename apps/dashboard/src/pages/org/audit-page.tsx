import { useInfiniteQuery, useMutation, type InfiniteData, type UseInfiniteQueryResult } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, auditExportUrl, type AuditFilter } from '../../api/client';
import { auditQuery } from '../../api/queries';
import { AUDIT_ACTOR_TYPES, type AuditActorType, type AuditEvent, type AuditEventPage } from '../../api/types';
import { SelectField, type Choice } from '../../components/choice-field';
import { ErrorNotice } from '../../components/error-notice';
import { LoadMore } from '../../components/load-more';
import { OrgFrame } from '../../components/section-nav';
import { TextField } from '../../components/text-field';
import { dayRange, isDay } from '../../lib/day-range';
import { saveFile } from '../../lib/download';
import { formatDateTime } from '../../lib/format';

const route = getRouteApi('/authenticated/orgs/$orgId/audit');

/** The audit log's filters as the address keeps them; `from` and `to` are days (YYYY-MM-DD, both included). */
export type AuditSearch = {
  action?: string;
  actorType?: AuditActorType;
  actorId?: string;
  targetId?: string;
  from?: string;
  to?: string;
};

/** The server's rule for `action`: one action, or a prefix followed by `.*`. */
const ACTION = /^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$/;
const MAX_ID = 100;

const text = (value: unknown, isValid: (value: string) => boolean) =>
  typeof value === 'string' && value !== '' && isValid(value) ? value : undefined;

/** The filters of an address, each dropped when it is not one the API takes. */
export function parseAuditSearch(search: Record<string, unknown>): AuditSearch {
  const entries = {
    action: text(search.action, (value) => value.length <= MAX_ID && ACTION.test(value)),
    actorType: (AUDIT_ACTOR_TYPES as readonly unknown[]).includes(search.actorType) ? (search.actorType as AuditActorType) : undefined,
    actorId: text(search.actorId, (value) => value.length <= MAX_ID),
    targetId: text(search.targetId, (value) => value.length <= MAX_ID),
    from: isDay(search.from) ? search.from : undefined,
    to: isDay(search.to) ? search.to : undefined,
  };
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}

const ACTOR_LABELS: Record<AuditActorType, string> = {
  user: 'Person',
  api_key: 'API key',
  cli: 'Command line',
  system: 'Parley',
};

const ACTOR_CHOICES: Choice<AuditActorType | ''>[] = [
  { value: '', label: 'Anyone' },
  ...AUDIT_ACTOR_TYPES.map((type) => ({ value: type, label: ACTOR_LABELS[type] })),
];

/** Actions people often look for, offered as the action field is typed. */
const COMMON_ACTIONS = [
  'feedback.reporter_viewed',
  'feedback.screenshot_viewed',
  'feedback.*',
  'api_key.*',
  'webhook.*',
  'member.*',
  'audit.exported',
  'logins.exported',
];

export function AuditPage() {
  const { orgId } = route.useParams();
  return (
    <OrgFrame
      orgId={orgId}
      section="audit"
      title="Audit log"
      intro="Everything done in this organization, by people, API keys and Parley itself."
      requires={{ permission: 'audit_read', otherwise: 'Only owners and admins read the audit log.' }}
    >
      <AuditLog orgId={orgId} />
    </OrgFrame>
  );
}

function AuditLog({ orgId }: { orgId: string }) {
  const search = route.useSearch();
  const { from, to, ...rest } = search;
  const filter: AuditFilter = { ...rest, ...dayRange(from, to) };
  const events = useInfiniteQuery(auditQuery(orgId, filter));

  // Through the API client, not a plain navigation: the export may ask to confirm it's you first.
  const download = useMutation({
    mutationFn: () => api.downloadAudit(orgId, filter),
    onSuccess: ({ name, file }) => saveFile(name, file),
  });

  return (
    <>
      <FilterForm key={JSON.stringify(search)} search={search} />
      <aside className="card section audit-help" aria-labelledby="audit-help-title">
        <h2 id="audit-help-title">Who saw this person’s data?</h2>
        <p>
          Every look at a reporter’s details or screenshot is recorded. Put the feedback’s id in <strong>Target id</strong> to
          see everything that happened to it, or list every such read:{' '}
          <Link to="." search={{ action: 'feedback.reporter_viewed' }}>
            reporter details viewed
          </Link>
          ,{' '}
          <Link to="." search={{ action: 'feedback.screenshot_viewed' }}>
            screenshots viewed
          </Link>
          ,{' '}
          <Link to="." search={{ action: 'audit.exported' }}>
            exports
          </Link>
          . Export the answer to keep it; each line can be checked against the log’s hash chain.
        </p>
      </aside>
      <div className="section-head audit-head">
        <h2>Events</h2>
        <a
          href={auditExportUrl(orgId, filter)}
          className="button button-secondary button-small"
          download="audit.jsonl"
          aria-busy={download.isPending}
          onClick={(event) => {
            event.preventDefault();
            if (!download.isPending) download.mutate();
          }}
        >
          {download.isPending ? 'Exporting…' : 'Export (JSON Lines)'}
        </a>
      </div>
      <ErrorNotice error={download.error} />
      <EventList query={events} />
    </>
  );
}

/** The filters, applied together when the form is sent (typing an id does not reload the list at every key). */
function FilterForm({ search }: { search: AuditSearch }) {
  const navigate = route.useNavigate();
  const [draft, setDraft] = useState<Required<{ [K in keyof AuditSearch]: string }>>({
    action: search.action ?? '',
    actorType: search.actorType ?? '',
    actorId: search.actorId ?? '',
    targetId: search.targetId ?? '',
    from: search.from ?? '',
    to: search.to ?? '',
  });
  const [isTried, setTried] = useState(false);
  const change = (key: keyof AuditSearch) => (value: string) => setDraft({ ...draft, [key]: value });
  const actionProblem =
    draft.action.trim() === '' || ACTION.test(draft.action.trim())
      ? undefined
      : 'An action such as feedback.reporter_viewed, or a prefix and .* such as api_key.*';

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setTried(true);
    if (actionProblem !== undefined) return;
    const trimmed = Object.fromEntries(Object.entries(draft).map(([key, value]) => [key, value.trim()]));
    void navigate({ search: parseAuditSearch(trimmed) });
  }

  const hasFilter = Object.keys(search).length > 0;
  return (
    <form className="card section filter-bar audit-filter" aria-label="Filter events" onSubmit={submit} noValidate>
      <TextField
        label="Action"
        name="action"
        list="audit-actions"
        autoComplete="off"
        spellCheck={false}
        maxLength={MAX_ID}
        placeholder="feedback.*"
        value={draft.action}
        onChange={change('action')}
        error={isTried ? actionProblem : undefined}
      />
      <datalist id="audit-actions">
        {COMMON_ACTIONS.map((action) => (
          <option key={action} value={action} />
        ))}
      </datalist>
      <SelectField label="Actor" value={draft.actorType as AuditActorType | ''} choices={ACTOR_CHOICES} onChange={change('actorType')} />
      <TextField label="Actor id" name="actorId" autoComplete="off" spellCheck={false} maxLength={MAX_ID} value={draft.actorId} onChange={change('actorId')} />
      <TextField label="Target id" name="targetId" autoComplete="off" spellCheck={false} maxLength={MAX_ID} value={draft.targetId} onChange={change('targetId')} />
      <TextField label="From" name="from" type="date" value={draft.from} max={draft.to || undefined} onChange={change('from')} />
      <TextField label="To" name="to" type="date" value={draft.to} min={draft.from || undefined} onChange={change('to')} />
      <div className="filter-actions">
        {hasFilter && (
          <Link to="." search={{}} className="button button-secondary">
            Clear
          </Link>
        )}
        <button type="submit" className="button button-primary">
          Filter
        </button>
      </div>
    </form>
  );
}

function EventList({ query }: { query: UseInfiniteQueryResult<InfiniteData<AuditEventPage>> }) {
  if (query.isPending) return <p className="muted">Loading events…</p>;
  if (query.isError && !query.isFetchNextPageError) return <ErrorNotice error={query.error} />;
  const items = query.data?.pages.flatMap((page) => page.items) ?? [];
  if (items.length === 0) {
    return (
      <div className="empty" data-testid="audit-empty">
        <p>No events match these filters.</p>
      </div>
    );
  }
  return (
    <>
      <div className="card section">
        <table className="table table-stack" data-testid="audit-events">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Data</th>
            </tr>
          </thead>
          <tbody>
            {items.map((event) => (
              <EventRow key={event.seq} event={event} />
            ))}
          </tbody>
        </table>
      </div>
      <LoadMore query={query} />
    </>
  );
}

/** An action name that a narrow column breaks after its dots, never inside a word. */
const breakable = (action: string) => action.split('.').flatMap((part, i) => (i === 0 ? [part] : [<wbr key={i} />, `.${part}`]));

function EventRow({ event }: { event: AuditEvent }) {
  const actorType = event.actor.type as AuditActorType;
  const data = JSON.stringify(event.data);
  return (
    <tr>
      <td data-label="Time" className="nowrap">
        <time dateTime={event.at}>{formatDateTime(event.at)}</time>
      </td>
      <td data-label="Actor">
        {event.actor.label ?? ACTOR_LABELS[actorType] ?? event.actor.type}
        <span className="cell-note">
          {ACTOR_LABELS[actorType] ?? event.actor.type}
          {event.actor.ip !== null && ` · ${event.actor.ip}`}
        </span>
      </td>
      <td data-label="Action">
        <code className="audit-action">{breakable(event.action)}</code>
      </td>
      <td data-label="Target">
        {event.target === null || event.target.id === null ? (
          '—'
        ) : (
          <>
            {event.target.type}
            <Link to="." search={{ targetId: event.target.id }} className="cell-note mono" aria-label={`Events about ${event.target.type ?? ''} ${event.target.id}`}>
              {event.target.id}
            </Link>
          </>
        )}
      </td>
      <td data-label="Data" className="cell-wide">{data === '{}' ? '—' : <code className="audit-data">{data}</code>}</td>
    </tr>
  );
}
