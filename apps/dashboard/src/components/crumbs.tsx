import { Link } from '@tanstack/react-router';
import type { ReactNode } from 'react';

/** The breadcrumb line above a page's heading. */
export function Crumbs({ children }: { children: ReactNode }) {
  return (
    <nav className="crumbs" aria-label="Breadcrumb">
      {children}
    </nav>
  );
}

/** Back to the project list of one organization. */
export function BackToProjects({ orgId }: { orgId: string }) {
  return (
    <Crumbs>
      <Link to="/" search={{ org: orgId }}>
        ← Projects
      </Link>
    </Crumbs>
  );
}
