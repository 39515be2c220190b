import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { projectQuery, queryKeys } from '../api/queries';
import { FEEDBACK_STATUSES, type FeedbackStatus, type FeedbackSummary, type Project } from '../api/types';
import { BusyButton } from '../components/busy-button';
import { BackToProjects } from '../components/crumbs';
import { ErrorNotice } from '../components/error-notice';
import { Rating } from '../components/rating';
import { SnippetBox } from '../components/snippet-box';
import { StatusBadge } from '../components/status-badge';
import { TextAreaField } from '../components/text-field';
import { excerpt, formatDateTime, parseDomains, STATUS_LABELS } from '../lib/format';
import { usePageTitle } from '../lib/use-page-title';

const route = getRouteApi('/authenticated/orgs/$orgId/projects/$projectId');

const PAGE_SIZE = 25;

export function ProjectPage() {
  const { orgId, projectId } = route.useParams();
  const project = useQuery(projectQuery(orgId, projectId));
  usePageTitle(project.data?.name ?? 'Project');

  if (project.isPending) return <p className="muted">Loading project…</p>;
  if (project.isError) {
    return (
      <>
        <BackToProjects orgId={orgId} />
        <ErrorNotice
          error={project.error}
          notFound="This project does not exist, or you do not have access to it."
        />
      </>
    );
  }

  return (
    <>
      <BackToProjects orgId={orgId} />
      <div className="page-head">
        <div>
          <h1 data-testid="project-name">{project.data.name}</h1>
          <p className="muted">
            Key <code>{project.data.key}</code> · created {formatDateTime(project.data.createdAt)}
          </p>
        </div>
      </div>
      <div className="project-layout">
        <Inbox orgId={orgId} projectId={projectId} />
        <aside className="project-side">
          <section className="card section" aria-labelledby="install-title">
            <h2 id="install-title">Install</h2>
            <SnippetBox snippet={project.data.snippet} projectKey={project.data.key} />
          </section>
          <DomainsEditor orgId={orgId} project={project.data} />
        </aside>
      </div>
    </>
  );
}

function DomainsEditor({ orgId, project }: { orgId: string; project: Project }) {
  const queryClient = useQueryClient();
  const [text, setText] = useState(() => project.domains.join('\n'));

  const save = useMutation({
    mutationFn: () => api.updateProject(orgId, project.id, { domains: parseDomains(text) }),
    onSuccess: (updated) => {
      queryClient.setQueryData(queryKeys.project(orgId, project.id), updated);
      void queryClient.invalidateQueries({ queryKey: queryKeys.projects(orgId), exact: true });
      setText(updated.domains.join('\n'));
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    save.mutate();
  }

  const isChanged = parseDomains(text).join('\n') !== project.domains.join('\n');

  return (
    <section className="card section" aria-labelledby="domains-title">
      <h2 id="domains-title">Allowed domains</h2>
      <form onSubmit={submit} className="form">
        <TextAreaField
          label="Allowed domains"
          hideLabel
          name="domains"
          rows={4}
          spellCheck={false}
          autoCapitalize="off"
          value={text}
          onChange={(value) => {
            setText(value);
            save.reset();
          }}
          hint={
            <>
              One per line: <code>example.com</code>, <code>*.example.org</code> or{' '}
              <code>https://app.example.com:8443</code>. Feedback from any other site is refused.
            </>
          }
        />
        <ErrorNotice error={save.error} />
        <div className="form-actions">
          <BusyButton busy={save.isPending} busyLabel="Saving…" disabled={!isChanged}>
            Save domains
          </BusyButton>
          <span className="save-status" role="status">
            {save.isSuccess && !isChanged ? 'Saved' : ''}
          </span>
        </div>
      </form>
    </section>
  );
}

const FILTERS: { value: FeedbackStatus | undefined; label: string }[] = [
  { value: undefined, label: 'All' },
  ...FEEDBACK_STATUSES.map((value) => ({ value, label: STATUS_LABELS[value] })),
];

function Inbox({ orgId, projectId }: { orgId: string; projectId: string }) {
  const { status } = route.useSearch();
  const navigate = route.useNavigate();

  const feedback = useInfiniteQuery({
    queryKey: [...queryKeys.feedbackList(orgId, projectId), status ?? 'all'],
    queryFn: ({ pageParam }) =>
      api.listFeedback(orgId, projectId, {
        limit: PAGE_SIZE,
        cursor: pageParam,
        status: status ?? null,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });

  const items = feedback.data?.pages.flatMap((page) => page.items) ?? [];
  const loadMoreError = feedback.isFetchNextPageError ? feedback.error : null;

  return (
    <section className="inbox" aria-labelledby="inbox-title">
      <div className="inbox-head">
        <h2 id="inbox-title">Feedback</h2>
        <div className="filters" role="group" aria-label="Filter by status">
          {FILTERS.map((filter) => (
            <button
              key={filter.label}
              type="button"
              className="filter"
              aria-pressed={status === filter.value}
              onClick={() => void navigate({ search: filter.value ? { status: filter.value } : {} })}
            >
              {filter.label}
            </button>
          ))}
        </div>
      </div>

      {feedback.isPending ? (
        <p className="muted">Loading feedback…</p>
      ) : feedback.isError ? (
        <ErrorNotice error={feedback.error} />
      ) : items.length === 0 ? (
        <div className="empty" data-testid="inbox-empty">
          {status === undefined ? (
            <p>
              <strong>No feedback yet</strong> — paste the snippet on your site and the first
              messages will show up here.
            </p>
          ) : (
            <p>No feedback with status “{STATUS_LABELS[status]}”.</p>
          )}
        </div>
      ) : (
        <>
          <ul className="feedback-list" data-testid="feedback-list">
            {items.map((item) => (
              <FeedbackRow key={item.id} orgId={orgId} item={item} />
            ))}
          </ul>
          {feedback.hasNextPage && (
            <div className="load-more">
              <BusyButton
                type="button"
                variant="secondary"
                busy={feedback.isFetchingNextPage}
                busyLabel="Loading…"
                onClick={() => void feedback.fetchNextPage()}
              >
                Load more
              </BusyButton>
            </div>
          )}
          <ErrorNotice error={loadMoreError} />
        </>
      )}
    </section>
  );
}

function FeedbackRow({ orgId, item }: { orgId: string; item: FeedbackSummary }) {
  return (
    <li>
      <Link
        to="/orgs/$orgId/feedback/$feedbackId"
        params={{ orgId, feedbackId: item.id }}
        className="feedback-item"
        data-testid="feedback-item"
      >
        <span className="feedback-item-top">
          <StatusBadge status={item.status} />
          <Rating value={item.rating} />
          {item.type !== null && <span className="tag">{item.type}</span>}
          <time className="feedback-time muted" dateTime={item.createdAt}>
            {formatDateTime(item.createdAt)}
          </time>
        </span>
        <span className="feedback-excerpt">
          {item.message.trim() === '' ? <em className="muted">No message</em> : excerpt(item.message)}
        </span>
        <span className="feedback-email muted">{item.email ?? 'Anonymous'}</span>
      </Link>
    </li>
  );
}
