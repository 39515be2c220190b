import { Link } from '@tanstack/react-router';
import type { ReactNode } from 'react';
import { usePageTitle } from '../lib/use-page-title';
import { useOrgAccess } from '../lib/use-org-access';

export type OrgSection = 'projects' | 'members' | 'roles' | 'labels' | 'webhooks' | 'api-keys' | 'security' | 'logins' | 'audit';

/** The sections of one organization; admin-only ones appear when the role allows them. */
export function OrgNav({ orgId, current }: { orgId: string; current: OrgSection }) {
  const { can } = useOrgAccess(orgId);
  const mark = (section: OrgSection) => ({
    className: 'tab',
    'aria-current': current === section ? ('page' as const) : undefined,
  });
  return (
    <nav className="tabs" aria-label="Organization">
      <Link to="/" search={{ org: orgId }} {...mark('projects')}>
        Projects
      </Link>
      <Link to="/orgs/$orgId/members" params={{ orgId }} {...mark('members')}>
        Members
      </Link>
      <Link to="/orgs/$orgId/roles" params={{ orgId }} {...mark('roles')}>
        Roles
      </Link>
      {can('feedback_read') && (
        <Link to="/orgs/$orgId/labels" params={{ orgId }} {...mark('labels')}>
          Labels
        </Link>
      )}
      {can('webhooks_read') && (
        <Link to="/orgs/$orgId/webhooks" params={{ orgId }} {...mark('webhooks')}>
          Webhooks
        </Link>
      )}
      {can('apikeys_write') && (
        <Link to="/orgs/$orgId/api-keys" params={{ orgId }} {...mark('api-keys')}>
          API keys
        </Link>
      )}
      {can('security_write') && (
        <Link to="/orgs/$orgId/security" params={{ orgId }} {...mark('security')}>
          Security
        </Link>
      )}
      {can('audit_read') && (
        <Link to="/orgs/$orgId/logins" params={{ orgId }} {...mark('logins')}>
          Login history
        </Link>
      )}
      {can('audit_read') && (
        <Link to="/orgs/$orgId/audit" params={{ orgId }} {...mark('audit')}>
          Audit log
        </Link>
      )}
    </nav>
  );
}

/** The sections of the signed-in person's own account. */
export function AccountNav({ current }: { current: 'security' | 'logins' | 'notifications' }) {
  return (
    <nav className="tabs" aria-label="Account">
      <Link to="/account/security" className="tab" aria-current={current === 'security' ? 'page' : undefined}>
        Security
      </Link>
      <Link to="/account/logins" className="tab" aria-current={current === 'logins' ? 'page' : undefined}>
        Login history
      </Link>
      <Link to="/account/notifications" className="tab" aria-current={current === 'notifications' ? 'page' : undefined}>
        Notifications
      </Link>
    </nav>
  );
}

type OrgFrameProps = {
  orgId: string;
  section: OrgSection;
  title: string;
  intro: ReactNode;
  /** A way back above the heading, on a page inside a section (one webhook, one delivery). */
  crumbs?: ReactNode;
  /** The permission the page needs, and what a role without it reads instead of the page. */
  requires?: { permission: string; otherwise: string };
  children: ReactNode;
};

/** Heading and section tabs of an organization page; a stranger to the organization gets a notice instead. */
export function OrgFrame({ orgId, section, title, intro, crumbs, requires, children }: OrgFrameProps) {
  const { membership, can, isKnown } = useOrgAccess(orgId);
  usePageTitle(membership === null ? title : `${title} · ${membership.name}`);
  if (membership === null) {
    return (
      <div className="empty">
        <h1>{title}</h1>
        <p>You are not a member of this organization.</p>
      </div>
    );
  }
  return (
    <>
      {crumbs}
      <div className="page-head">
        <div>
          <h1>{title}</h1>
          <p className="muted">
            <strong>{membership.name}</strong> · {intro}
          </p>
        </div>
      </div>
      <OrgNav orgId={orgId} current={section} />
      {requires === undefined || can(requires.permission) ? (
        children
      ) : isKnown ? (
        <p className="notice notice-warning" data-testid="not-allowed">
          {requires.otherwise}
        </p>
      ) : (
        <p className="muted">Loading…</p>
      )}
    </>
  );
}
