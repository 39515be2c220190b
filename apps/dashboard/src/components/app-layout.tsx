import { useMutation, useQueryClient, useSuspenseQuery } from '@tanstack/react-query';
import { Link, Outlet, useRouter, type ErrorComponentProps } from '@tanstack/react-router';
import { api } from '../api/client';
import { meQuery } from '../api/queries';
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

function TopBar() {
  const { data: me } = useSuspenseQuery(meQuery);
  const queryClient = useQueryClient();
  const router = useRouter();

  const logOut = useMutation({
    mutationFn: api.logOut,
    // Whatever the server says (even "already logged out"), forget everything
    // this browser holds about the session and its data.
    // Leave the signed-in pages first so nothing re-asks for the data.
    onSettled: async () => {
      await router.navigate({ to: '/login' });
      queryClient.clear();
    },
  });

  return (
    <header className="topbar">
      <div className="topbar-inner">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Parley
        </Link>
        <div className="topbar-user">
          <span className="topbar-email" data-testid="user-email">
            {me.user.email}
          </span>
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
      </div>
    </header>
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
