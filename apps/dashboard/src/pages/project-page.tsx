import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link, useBlocker } from '@tanstack/react-router';
import { useCallback, useState, type ReactNode } from 'react';
import { projectQuery } from '../api/queries';
import { BackToProjects } from '../components/crumbs';
import { ErrorNotice } from '../components/error-notice';
import { formatDateTime } from '../lib/format';
import { useOrgAccess } from '../lib/use-org-access';
import { usePageTitle } from '../lib/use-page-title';
import type { ProjectTab } from '../router';
import { DangerZone } from './project/danger-zone';
import { Inbox } from './project/inbox';
import { InstallPanel, IdentitySecretPanel } from './project/install-panel';
import { ProtectionPanel } from './project/protection-panel';
import { WidgetSettingsForm } from './project/widget-settings-form';

const route = getRouteApi('/authenticated/orgs/$orgId/projects/$projectId');

export function ProjectPage() {
  const { orgId, projectId } = route.useParams();
  const { tab } = route.useSearch();
  const project = useQuery(projectQuery(orgId, projectId));
  const { can } = useOrgAccess(orgId);
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
      // The inbox keeps its filters while it is open; another tab starts without them.
      search={to === undefined ? ({ tab: _, ...filters }) => filters : { tab: to }}
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
        {(can('project_write') || tab === 'danger') && tabLink('danger', 'Danger zone')}
      </nav>
      {/* Mounted only while open: it has no draft to keep, and its list is read when it is seen. */}
      {tab === undefined && <Inbox orgId={orgId} project={project.data} />}
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
      {tab === 'danger' && <DangerZone orgId={orgId} project={project.data} />}
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
