import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link, useBlocker } from '@tanstack/react-router';
import { useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../api/client';
import { projectQuery, queryKeys } from '../api/queries';
import { FEEDBACK_STATUSES, type FeedbackStatus, type FeedbackSummary, type Project } from '../api/types';
import { BusyButton } from '../components/busy-button';
import { BackToProjects } from '../components/crumbs';
import { ErrorNotice } from '../components/error-notice';
import { LoadMore } from '../components/load-more';
import { Rating } from '../components/rating';
import { ScreenshotIcon } from '../components/screenshot-icon';
import { StatusBadge } from '../components/status-badge';
import { TextAreaField } from '../components/text-field';
import { excerpt, formatDateTime, parseDomains, STATUS_LABELS } from '../lib/format';
import { usePageTitle } from '../lib/use-page-title';
import type { ProjectTab } from '../router';
import { InstallPanel, IdentitySecretPanel } from './project/install-panel';
import { WidgetSettingsForm } from './project/widget-settings-form';

const route = getRouteApi('/authenticated/orgs/$orgId/projects/$projectId');

const PAGE_SIZE = 25;

export function ProjectPage() {
  const { orgId, projectId } = route.useParams();
  const { tab, status } = route.useSearch();
  const project = useQuery(projectQuery(orgId, projectId));
  const [hasUnsavedSettings, setUnsavedSettings] = useState(false);
  usePageTitle(project.data?.name ?? 'Project');

  // Leaving the project with unsaved widget settings asks first; switching
  // tabs does not (every tab stays mounted, so the draft survives).
  const leave = useBlocker({
    shouldBlockFn: ({ current, next }) => current.pathname !== next.pathname,
    enableBeforeUnload: hasUnsavedSettings,
    disabled: !hasUnsavedSettings,
    withResolver: true,
  });

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

  // Links, not ARIA tabs: each section has its own address (?tab=…).
  const tabLink = (to: ProjectTab | undefined, label: ReactNode) => (
    <Link
      to="/orgs/$orgId/projects/$projectId"
      params={{ orgId, projectId }}
      search={to === undefined ? { status } : { tab: to }}
      activeOptions={{ exact: true, includeSearch: true }}
      aria-current={tab === to ? 'page' : undefined}
      className="tab"
      data-testid={`tab-${to ?? 'inbox'}`}
    >
      {label}
    </Link>
  );

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
      {leave.status === 'blocked' && (
        <div className="notice notice-warning leave-confirm" role="alertdialog" aria-labelledby="leave-title">
          <p id="leave-title">The widget settings have unsaved changes. Leave this project and discard them?</p>
          <div className="form-actions">
            <button type="button" className="button button-danger button-small" onClick={leave.proceed}>
              Discard and leave
            </button>
            {/* Focus the safe choice, so the question is announced and Enter keeps the work. */}
            <button type="button" className="button button-secondary button-small" onClick={leave.reset} autoFocus>
              Stay
            </button>
          </div>
        </div>
      )}
      <nav className="tabs" aria-label="Project sections">
        {tabLink(undefined, 'Inbox')}
        {tabLink(
          'widget',
          <>
            Widget settings
            {hasUnsavedSettings && (
              <>
                <span className="tab-dot" aria-hidden="true" />
                <span className="visually-hidden"> (unsaved changes)</span>
              </>
            )}
          </>,
        )}
        {tabLink('install', 'Install')}
      </nav>
      <div hidden={tab !== undefined}>
        <Inbox orgId={orgId} projectId={projectId} />
      </div>
      <div hidden={tab !== 'widget'}>
        <WidgetSettingsForm orgId={orgId} project={project.data} onChangedState={setUnsavedSettings} />
      </div>
      <div hidden={tab !== 'install'} className="install-layout">
        <InstallPanel project={project.data} />
        <div>
          <IdentitySecretPanel orgId={orgId} project={project.data} />
          <DomainsEditor orgId={orgId} project={project.data} />
        </div>
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
              <strong>No feedback yet</strong> — paste the{' '}
              <Link to="/orgs/$orgId/projects/$projectId" params={{ orgId, projectId }} search={{ tab: 'install' }}>
                snippet
              </Link>{' '}
              on your site and the first messages will show up here.
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
          <LoadMore query={feedback} />
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
          <Rating value={item.rating} scale={item.ratingScale} />
          {item.type !== null && <span className="tag">{item.type}</span>}
          {item.hasScreenshot && <ScreenshotIcon />}
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
