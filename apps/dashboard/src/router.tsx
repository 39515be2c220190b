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
import { LOGIN_METHODS, LOGIN_RESULTS, type LoginMethod, type LoginResult, type Me } from './api/types';
import { AppError, AppLayout } from './components/app-layout';
import { isDay } from './lib/day-range';
import { parseInboxSearch, type InboxSearch } from './lib/inbox-filter';
import { ApiReferencePage } from './pages/api-reference-page';
import { ReauthDialog } from './components/reauth-dialog';
import { EnrollPage } from './pages/account/enroll-page';
import { MyLoginsPage } from './pages/account/logins-page';
import { AccountSecurityPage } from './pages/account/security-page';
import { FeedbackPage } from './pages/feedback-page';
import { ForgotPasswordPage } from './pages/forgot-password-page';
import { HomePage } from './pages/home-page';
import { InvitePage } from './pages/invite-page';
import { LoginPage } from './pages/login-page';
import { NotificationsPage } from './pages/account/notifications-page';
import { ApiKeysPage } from './pages/org/api-keys-page';
import { AuditPage, parseAuditSearch } from './pages/org/audit-page';
import { DeliveryPage } from './pages/org/delivery-page';
import { LabelsPage } from './pages/org/labels-page';
import { OrgLoginsPage } from './pages/org/logins-page';
import { WebhookPage } from './pages/org/webhook-page';
import { WebhooksPage } from './pages/org/webhooks-page';
import { MembersPage } from './pages/org/members-page';
import { RolesPage } from './pages/org/roles-page';
import { OrgSecurityPage } from './pages/org/security-page';
import { ProjectPage } from './pages/project-page';
import { ResetPasswordPage } from './pages/reset-password-page';
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
  queryCache: new QueryCache({ onError: handleSessionProblem }),
  mutationCache: new MutationCache({ onError: handleSessionProblem }),
});

/** Pages that work without a session (a 401 there is the page's own business). */
const SIGNED_OUT_PATHS = ['/login', '/setup', '/forgot-password', '/reset-password', '/invite', '/api-reference'];

function handleSessionProblem(error: unknown) {
  const { pathname, search, hash } = window.location;
  // An organization started requiring MFA while this session was open.
  if (isApiError(error, 'mfa_enrollment_required')) {
    if (pathname !== '/account/enroll') void router.navigate({ to: '/account/enroll' });
    return;
  }
  if (!isApiError(error, 'unauthenticated')) return;
  if (SIGNED_OUT_PATHS.includes(pathname)) return;
  // Leave the page, then drop every cached answer: the next user of this
  // browser must not see it.
  void router
    .navigate({ to: '/login', search: { return_to: pathname + search + hash } })
    .then(() => queryClient.clear());
}

/** The session, or a redirect to log in (and come back) when there is none or it still waits for MFA. */
async function requireSession(queryClient: QueryClient, here: string): Promise<Me> {
  let me: Me;
  try {
    me = await queryClient.ensureQueryData(meQuery);
  } catch (error) {
    if (isApiError(error, 'unauthenticated')) throw redirect({ to: '/login', search: { return_to: here } });
    throw error;
  }
  if (me.session.stage === 'mfa') throw redirect({ to: '/login', search: { return_to: here } });
  return me;
}

const returnToSearch = (search: Record<string, unknown>): { return_to?: string } =>
  typeof search.return_to === 'string' ? { return_to: search.return_to } : {};

const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: RootLayout,
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
  validateSearch: returnToSearch,
  component: LoginPage,
});

const forgotPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/forgot-password',
  component: ForgotPasswordPage,
});

const resetPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/reset-password',
  component: ResetPasswordPage,
});

const inviteRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/invite',
  component: InvitePage,
});

/** The REST API's reference: public, like /api/v1/openapi.json it is drawn from. */
const apiReferenceRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/api-reference',
  component: ApiReferencePage,
});

/** Forced MFA enrollment: the session is in stage `enroll`, so the signed-in pages are closed to it. */
const enrollRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/account/enroll',
  validateSearch: returnToSearch,
  beforeLoad: async ({ context, location }) => {
    const me = await requireSession(context.queryClient, location.href);
    if (me.session.stage === 'done') throw redirect({ to: '/account/security' });
  },
  component: EnrollPage,
  errorComponent: AppError,
});

/** Every page below needs a finished session; without one, go to /login (or enrollment) and come back. */
const authenticatedRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: 'authenticated',
  beforeLoad: async ({ context, location }) => {
    const me = await requireSession(context.queryClient, location.href);
    if (me.session.stage === 'enroll') throw redirect({ to: '/account/enroll', search: { return_to: location.href } });
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

export const PROJECT_TABS = ['widget', 'protection', 'install', 'danger'] as const;
export type ProjectTab = (typeof PROJECT_TABS)[number];

function isProjectTab(value: unknown): value is ProjectTab {
  return (PROJECT_TABS as readonly unknown[]).includes(value);
}

export const projectRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/projects/$projectId',
  // `tab` picks the section; the filters belong to the inbox only.
  validateSearch: (search: Record<string, unknown>): InboxSearch & { tab?: ProjectTab } =>
    isProjectTab(search.tab) ? { tab: search.tab } : parseInboxSearch(search),
  component: ProjectPage,
});

export const feedbackRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/feedback/$feedbackId',
  component: FeedbackPage,
});

const accountSecurityRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/account/security',
  component: AccountSecurityPage,
});

const accountLoginsRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/account/logins',
  component: MyLoginsPage,
});

const accountNotificationsRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/account/notifications',
  component: NotificationsPage,
});

const membersRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/members',
  component: MembersPage,
});

const rolesRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/roles',
  component: RolesPage,
});

const orgSecurityRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/security',
  component: OrgSecurityPage,
});

/** Filters of an organization's login history, kept in the address so a view can be shared or reloaded. */
export type LoginSearch = {
  result?: LoginResult;
  method?: LoginMethod;
  userId?: string;
  /** Days, YYYY-MM-DD, both included. */
  from?: string;
  to?: string;
};

const orgLoginsRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/logins',
  validateSearch: (search: Record<string, unknown>): LoginSearch => ({
    ...((LOGIN_RESULTS as readonly unknown[]).includes(search.result) ? { result: search.result as LoginResult } : {}),
    ...((LOGIN_METHODS as readonly unknown[]).includes(search.method) ? { method: search.method as LoginMethod } : {}),
    ...(typeof search.userId === 'string' && search.userId !== '' ? { userId: search.userId } : {}),
    ...(isDay(search.from) ? { from: search.from } : {}),
    ...(isDay(search.to) ? { to: search.to } : {}),
  }),
  component: OrgLoginsPage,
});

const apiKeysRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/api-keys',
  component: ApiKeysPage,
});

const webhooksRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/webhooks',
  component: WebhooksPage,
});

const webhookRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/webhooks/$webhookId',
  component: WebhookPage,
});

const deliveryRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/webhooks/$webhookId/deliveries/$deliveryId',
  component: DeliveryPage,
});

/** The audit log's filters are kept in the address, like the login history's. */
const auditRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/audit',
  validateSearch: parseAuditSearch,
  component: AuditPage,
});

const labelsRoute = createRoute({
  getParentRoute: () => authenticatedRoute,
  path: '/orgs/$orgId/labels',
  component: LabelsPage,
});

const routeTree = rootRoute.addChildren([
  setupRoute,
  loginRoute,
  forgotPasswordRoute,
  resetPasswordRoute,
  inviteRoute,
  apiReferenceRoute,
  enrollRoute,
  authenticatedRoute.addChildren([
    homeRoute,
    projectRoute,
    feedbackRoute,
    accountSecurityRoute,
    accountLoginsRoute,
    membersRoute,
    rolesRoute,
    orgSecurityRoute,
    orgLoginsRoute,
    accountNotificationsRoute,
    apiKeysRoute,
    webhooksRoute,
    webhookRoute,
    deliveryRoute,
    auditRoute,
    labelsRoute,
  ]),
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

/** Every page, and the re-authentication dialog any of them may need. */
function RootLayout() {
  return (
    <>
      <Outlet />
      <ReauthDialog />
    </>
  );
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
