import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { getRouteApi, Link, useBlocker } from '@tanstack/react-router';
import { useCallback, useState, type ReactNode } from 'react';
import { api } from '../api/client';
import { projectQuery, queryKeys } from '../api/queries';
import { FEEDBACK_STATUSES, type FeedbackStatus, type FeedbackSummary } from '../api/types';
import { BackToProjects } from '../components/crumbs';
import { ErrorNotice } from '../components/error-notice';
import { LoadMore } from '../components/load-more';
import { Rating } from '../components/rating';
import { ScreenshotIcon } from '../components/screenshot-icon';
import { StatusBadge } from '../components/status-badge';
import { excerpt, formatDateTime, STATUS_LABELS } from '../lib/format';
import { usePageTitle } from '../lib/use-page-title';
import type { ProjectTab } from '../router';
import { InstallPanel, IdentitySecretPanel } from './project/install-panel';
import { ProtectionPanel } from './project/protection-panel';
import { WidgetSettingsForm } from './project/widget-settings-form';

const route = getRouteApi('/authenticated/orgs/$orgId/projects/$projectId');

const PAGE_SIZE = 25;

export function ProjectPage() {
  const { orgId, projectId } = route.useParams();
  const { tab, status } = route.useSearch();
  const project = useQuery(projectQuery(orgId, projectId));
  const [unsaved, setUnsaved] = useState<Record<UnsavedTab, boolean>>({ widget: false, protection: false });
  const onWidgetChanged = useCallback((isChanged: boolean) => setUnsaved((u) => ({ ...u, widget: isChanged })), []);
  const onProtectionChanged = useCallback((isChanged: boolean) => setUnsaved((u) => ({ ...u, protection: isChanged })), []);
  const unsavedNames = UNSAVED_TABS.filter((t) => unsaved[t]).map((t) => UNSAVED_NAMES[t]);
  const hasUnsaved = unsavedNames.length > 0;
  usePageTitle(project.data?.name ?? 'Project');

  // Leaving the project with unsaved settings asks first; switching tabs does
  // not (every tab stays mounted, so the drafts survive).
  const leave = useBlocker({
    shouldBlockFn: ({ current, next }) => current.pathname !== next.pathname,
    enableBeforeUnload: hasUnsaved,
    disabled: !hasUnsaved,
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
          <p id="leave-title">The {unsavedNames.join(' and the ')} have unsaved changes. Leave this project and discard them?</p>
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
        {tabLink('widget', <TabLabel label="Widget settings" isUnsaved={unsaved.widget} />)}
        {tabLink('protection', <TabLabel label="Protection" isUnsaved={unsaved.protection} />)}
        {tabLink('install', 'Install')}
      </nav>
      <div hidden={tab !== undefined}>
        <Inbox orgId={orgId} projectId={projectId} />
      </div>
      <div hidden={tab !== 'widget'}>
        <WidgetSettingsForm orgId={orgId} project={project.data} onChangedState={onWidgetChanged} />
      </div>
      <div hidden={tab !== 'protection'}>
        <ProtectionPanel orgId={orgId} project={project.data} isVisible={tab === 'protection'} onChangedState={onProtectionChanged} />
      </div>
      <div hidden={tab !== 'install'} className="install-layout">
        <InstallPanel project={project.data} />
        <div>
          <IdentitySecretPanel orgId={orgId} project={project.data} />
          <section className="card section" aria-labelledby="install-domains-title">
            <h2 id="install-domains-title">Allowed domains</h2>
            <p className="hint">
              The widget works only on the sites listed under{' '}
              <Link to="/orgs/$orgId/projects/$projectId" params={{ orgId, projectId }} search={{ tab: 'protection' }}>
                Protection
              </Link>
              {project.data.domains.length === 0 ? ', and none is listed yet.' : ':'}
            </p>
            {project.data.domains.length > 0 && (
              <ul className="domain-list" data-testid="install-domains">
                {project.data.domains.map((domain) => (
                  <li key={domain}>
                    <code>{domain}</code>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      </div>
    </>
  );
}

/** The tabs whose forms can hold unsaved changes, and how the leave question names them. */
const UNSAVED_TABS = ['widget', 'protection'] as const;
type UnsavedTab = (typeof UNSAVED_TABS)[number];
const UNSAVED_NAMES: Record<UnsavedTab, string> = { widget: 'widget settings', protection: 'protection settings' };

function TabLabel({ label, isUnsaved }: { label: string; isUnsaved: boolean }) {
  return (
    <>
      {label}
      {isUnsaved && (
        <>
          <span className="tab-dot" aria-hidden="true" />
          <span className="visually-hidden"> (unsaved changes)</span>
        </>
      )}
    </>
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
      </Link>
    </li>
  );
}
