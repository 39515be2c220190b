import { useSuspenseQuery } from '@tanstack/react-query';
import { Link, Outlet, useRouter, type ErrorComponentProps } from '@tanstack/react-router';
import type { ReactNode } from 'react';
import { meQuery } from '../api/queries';
import { useLogOut } from '../lib/use-log-out';
import { BusyButton } from './busy-button';
import { ErrorNotice } from './error-notice';

/** The frame of every signed-in page: top bar, then the page. */
export function AppLayout() {
  return (
    <>
      <TopBar />
      <main className="container" id="main">
        <Outlet />
      </main>
    </>
  );
}

/** The bar at the top of a page: the brand, linking home, then `children` at the other end. */
export function TopBarFrame({ children }: { children: ReactNode }) {
  return (
    <header className="topbar">
      <div className="topbar-inner">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Parley
        </Link>
        {children}
      </div>
    </header>
  );
}

function TopBar() {
  const { data: me } = useSuspenseQuery(meQuery);
  const logOut = useLogOut();

  return (
    <TopBarFrame>
      <div className="topbar-user">
        <span className="topbar-email" data-testid="user-email">
          {me.user.email}
        </span>
        <nav className="topbar-nav" aria-label="Your account">
          <Link to="/account/security">Account security</Link>
          <Link to="/account/logins">Login history</Link>
        </nav>
        <BusyButton
          type="button"
          variant="secondary"
          className="button-small"
          busy={logOut.isPending}
          busyLabel="Logging out…"
          onClick={() => logOut.mutate()}
        >
          Log out
        </BusyButton>
      </div>
    </TopBarFrame>
  );
}

export function AppError({ error }: ErrorComponentProps) {
  const router = useRouter();
  return (
    <main className="auth-page">
      <div className="card auth-card">
        <h1>Something went wrong</h1>
        <ErrorNotice error={error} />
        <p>
          <button type="button" className="button button-secondary" onClick={() => void router.invalidate()}>
            Try again
          </button>
        </p>
      </div>
    </main>
  );
}
