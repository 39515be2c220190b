import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import {
  createRootRouteWithContext,
  createRoute,
  createRouter,
  Link,
  Outlet,
  redirect,
} from '@tanstack/react-router';
import { isApiError } from './api/client';
import { meQuery } from './api/queries';
import { FEEDBACK_STATUSES, type FeedbackStatus } from './api/types';
import { AppError, AppLayout } from './components/app-layout';
import { FeedbackPage } from './pages/feedback-page';
import { HomePage } from './pages/home-page';
import { LoginPage } from './pages/login-page';
import { ProjectPage } from './pages/project-page';
import { SetupPage } from './pages/setup-page';

type RouterContext = { queryClient: QueryClient };

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not change by asking again; only retry network trouble and 5xx.
      retry: (failureCount, error) =>
        failureCount < 2 && !(isApiError(error) && error.status >= 400 && error.status < 500),
    },
  },
  // A session can end at any time (idle timeout, logout elsewhere, revoked):
  // whichever request notices first sends the user to the login page.
  queryCache: new QueryCache({ onError: handleUnauthenticated }),
  mutationCache: new MutationCache({ onError: handleUnauthenticated }),
});

function handleUnauthenticated(error: unknown) {
  if (!isApiError(error, 'unauthenticated')) return;
  const { pathname, search, hash } = window.location;
  if (pathname === '/login' || pathname === '/setup') return;
  // Leave the page, then drop every cached answer: the next user of this
  // browser must not see it.
  void router
    .navigate({ to: '/login', search: { return_to: pathname + search + hash } })
    .then(() => queryClient.clear());
}

const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: Outlet,
  notFoundComponent: NotFound,
});

const setupRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/setup',
  component: SetupPage,
});

export const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/login',
  validateSearch: (search: Record<string, unknown>): { return_to?: string } =>
    typeof search.return_to === 'string' ? { return_to: search.return_to } : {},
  component: LoginPage,
});

/** Every page below needs a session; without one, go to /login and come back. */
const authenticatedRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: 'authenticated',
  beforeLoad: async ({ context, location }) => {
    try {
      await context.queryClient.ensureQueryData(meQuery);
    } catch (error) {
      if (isApiError(error, 'unauthenticated')) {
        throw redirect({ to: '/login', search: { return_to: location.href } });
      }
      throw error;
    }
  },
  component: AppLayout,
  errorComponent: AppError,
});

export const homeRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/',
  validateSearch: (search: Record<string, unknown>): { org?: string } =>
    typeof search.org === 'string' && search.org !== '' ? { org: search.org } : {},
  component: HomePage,
});

function isFeedbackStatus(value: unknown): value is FeedbackStatus {
  return (FEEDBACK_STATUSES as readonly unknown[]).includes(value);
}

export const PROJECT_TABS = ['widget', 'install'] as const;
export type ProjectTab = (typeof PROJECT_TABS)[number];

function isProjectTab(value: unknown): value is ProjectTab {
  return (PROJECT_TABS as readonly unknown[]).includes(value);
}

export const projectRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/projects/$projectId',
  // `tab` picks the section; the status filter belongs to the inbox only.
  validateSearch: (search: Record<string, unknown>): { status?: FeedbackStatus; tab?: ProjectTab } =>
    isProjectTab(search.tab)
      ? { tab: search.tab }
      : isFeedbackStatus(search.status)
        ? { status: search.status }
        : {},
  component: ProjectPage,
});

export const feedbackRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/feedback/$feedbackId',
  component: FeedbackPage,
});

const routeTree = rootRoute.addChildren([
  setupRoute,
  loginRoute,
  authenticatedRoute.addChildren([homeRoute, projectRoute, feedbackRoute]),
]);

export const router = createRouter({
  routeTree,
  context: { queryClient },
  defaultPreload: false,
  // Plain `?key=value` search strings: every value stays a string (the
  // default JSON-parses values, which would turn `?org=12` into a number).
  parseSearch: (searchStr) => Object.fromEntries(new URLSearchParams(searchStr)),
  stringifySearch: (search) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(search)) {
      if (value !== undefined && value !== null) params.set(key, String(value));
    }
    const text = params.toString();
    return text === '' ? '' : `?${text}`;
  },
});

// Module augmentation must use `interface`; it gives Link and navigate their types.
declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}

function NotFound() {
  return (
    <main className="auth-page">
      <div className="card auth-card">
        <h1>Page not found</h1>
        <p>There is nothing at this address.</p>
        <p>
          <Link to="/">Go to the dashboard</Link>
        </p>
      </div>
    </main>
  );
}
