import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import { asDocument } from '../lib/openapi';
import { api, type ApiKeyStatus, type AuditFilter, type DeliveryStatus, type FeedbackFilter, type LoginFilter } from './client';

// Query keys live here so pages and mutations invalidate the same entries.
export const queryKeys = {
  me: ['me'] as const,
  setup: ['setup'] as const,
  projects: (orgId: string) => ['orgs', orgId, 'projects'] as const,
  project: (orgId: string, projectId: string) => ['orgs', orgId, 'projects', projectId] as const,
  protection: (orgId: string, projectId: string) => ['orgs', orgId, 'projects', projectId, 'protection'] as const,
  refusals: (orgId: string, projectId: string) => ['orgs', orgId, 'projects', projectId, 'refusals'] as const,
  /** Every filtered feedback list of the organization (a prefix: invalidating it never touches an item's audited reads). */
  feedbackLists: (orgId: string) => ['orgs', orgId, 'inbox'] as const,
  feedbackList: (orgId: string, filter: FeedbackFilter) => ['orgs', orgId, 'inbox', filter] as const,
  feedback: (orgId: string, feedbackId: string) => ['orgs', orgId, 'feedback', feedbackId] as const,
  reporter: (orgId: string, feedbackId: string) => ['orgs', orgId, 'feedback', feedbackId, 'reporter'] as const,
  notes: (orgId: string, feedbackId: string) => ['orgs', orgId, 'feedback', feedbackId, 'notes'] as const,
  labels: (orgId: string) => ['orgs', orgId, 'labels'] as const,
  mfa: ['me', 'mfa'] as const,
  sessions: ['me', 'sessions'] as const,
  myLogins: ['me', 'logins'] as const,
  permissions: ['permissions'] as const,
  members: (orgId: string) => ['orgs', orgId, 'members'] as const,
  invites: (orgId: string) => ['orgs', orgId, 'invites'] as const,
  security: (orgId: string) => ['orgs', orgId, 'security'] as const,
  invite: (token: string) => ['invite', token] as const,
  openApi: ['openapi'] as const,
  apiKeys: (orgId: string) => ['orgs', orgId, 'api-keys'] as const,
  webhooks: (orgId: string) => ['orgs', orgId, 'webhooks'] as const,
  webhook: (orgId: string, webhookId: string) => ['orgs', orgId, 'webhooks', webhookId] as const,
  deliveries: (orgId: string, webhookId: string) => ['orgs', orgId, 'webhooks', webhookId, 'deliveries'] as const,
  delivery: (orgId: string, webhookId: string, deliveryId: string) =>
    ['orgs', orgId, 'webhooks', webhookId, 'deliveries', deliveryId] as const,
  audit: (orgId: string, filter: AuditFilter) => ['orgs', orgId, 'audit', filter] as const,
  notifications: ['me', 'notifications'] as const,
  orgLogins: (orgId: string, filter: LoginFilter) => ['orgs', orgId, 'logins', filter] as const,
};

export const meQuery = queryOptions({
  queryKey: queryKeys.me,
  queryFn: api.getMe,
  staleTime: 60_000,
});

export const setupQuery = queryOptions({
  queryKey: queryKeys.setup,
  queryFn: api.getSetup,
});

export const projectsQuery = (orgId: string) =>
  queryOptions({
    queryKey: queryKeys.projects(orgId),
    queryFn: () => api.listProjects(orgId),
  });

export const projectQuery = (orgId: string, projectId: string) =>
  queryOptions({
    queryKey: queryKeys.project(orgId, projectId),
    queryFn: () => api.getProject(orgId, projectId),
  });

export const protectionQuery = (orgId: string, projectId: string) =>
  queryOptions({
    queryKey: queryKeys.protection(orgId, projectId),
    queryFn: () => api.getProtection(orgId, projectId),
  });

export const refusalsQuery = (orgId: string, projectId: string) =>
  queryOptions({
    queryKey: queryKeys.refusals(orgId, projectId),
    queryFn: () => api.getRefusals(orgId, projectId),
  });

export const feedbackQuery = (orgId: string, feedbackId: string) =>
  queryOptions({
    queryKey: queryKeys.feedback(orgId, feedbackId),
    queryFn: () => api.getFeedback(orgId, feedbackId),
  });

/**
 * The reporter's personal data. Every read is recorded in the audit log, so
 * the page reads it only when the user asks for it, once per visit (no
 * refetch on focus), and it is dropped as soon as the page is left.
 */
export const reporterQuery = (orgId: string, feedbackId: string) =>
  queryOptions({
    queryKey: queryKeys.reporter(orgId, feedbackId),
    queryFn: () => api.getReporter(orgId, feedbackId),
    staleTime: Infinity,
    gcTime: 0,
  });

/** A project's feedback (or the organization's), newest first, a page at a time. */
export const feedbackListQuery = (orgId: string, filter: FeedbackFilter) =>
  infiniteQueryOptions({
    queryKey: queryKeys.feedbackList(orgId, filter),
    queryFn: ({ pageParam }) => api.listFeedback(orgId, filter, 25, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });

/** Internal notes on a feedback, newest first. */
export const notesQuery = (orgId: string, feedbackId: string) =>
  infiniteQueryOptions({
    queryKey: queryKeys.notes(orgId, feedbackId),
    queryFn: ({ pageParam }) => api.listNotes(orgId, feedbackId, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });

/** The organization's labels, by name. */
export const labelsQuery = (orgId: string) =>
  queryOptions({
    queryKey: queryKeys.labels(orgId),
    queryFn: () => api.listLabels(orgId),
  });

export const mfaQuery = queryOptions({
  queryKey: queryKeys.mfa,
  queryFn: api.getMfa,
});

export const sessionsQuery = queryOptions({
  queryKey: queryKeys.sessions,
  queryFn: api.listSessions,
});

export const myLoginsQuery = infiniteQueryOptions({
  queryKey: queryKeys.myLogins,
  queryFn: ({ pageParam }) => api.listMyLogins(pageParam),
  initialPageParam: null as string | null,
  getNextPageParam: (last) => last.next,
});

/** The role table changes only with a server release. */
export const permissionsQuery = queryOptions({
  queryKey: queryKeys.permissions,
  queryFn: api.getPermissions,
  staleTime: Infinity,
});

export const membersQuery = (orgId: string) =>
  queryOptions({
    queryKey: queryKeys.members(orgId),
    queryFn: () => api.listMembers(orgId),
  });

export const invitesQuery = (orgId: string) =>
  queryOptions({
    queryKey: queryKeys.invites(orgId),
    queryFn: () => api.listInvites(orgId),
  });

export const securityQuery = (orgId: string) =>
  queryOptions({
    queryKey: queryKeys.security(orgId),
    queryFn: () => api.getSecurityPolicy(orgId),
  });

export const orgLoginsQuery = (orgId: string, filter: LoginFilter) =>
  infiniteQueryOptions({
    queryKey: queryKeys.orgLogins(orgId, filter),
    queryFn: ({ pageParam }) => api.listOrgLogins(orgId, filter, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
  });

/** What an invitation link offers. gcTime 0: the token is a credential, kept no longer than the page needs it. */
export const inviteQuery = (token: string) =>
  queryOptions({
    queryKey: queryKeys.invite(token),
    queryFn: () => api.lookUpInvite(token),
    gcTime: 0,
  });

/** The server's OpenAPI document, for the API reference page. */
export const openApiQuery = queryOptions({
  queryKey: queryKeys.openApi,
  queryFn: async () => asDocument(await api.getOpenApi()),
  staleTime: Infinity,
});

export const apiKeysQuery = (orgId: string, status: ApiKeyStatus | null) =>
  infiniteQueryOptions({
    queryKey: [...queryKeys.apiKeys(orgId), status],
    queryFn: ({ pageParam }) => api.listApiKeys(orgId, status, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });

export const webhooksQuery = (orgId: string) =>
  queryOptions({
    queryKey: queryKeys.webhooks(orgId),
    queryFn: () => api.listWebhooks(orgId),
  });

export const webhookQuery = (orgId: string, webhookId: string) =>
  queryOptions({
    queryKey: queryKeys.webhook(orgId, webhookId),
    queryFn: () => api.getWebhook(orgId, webhookId),
  });

/**
 * Deliveries are attempted in the background: while one has an attempt due
 * within the next minute (a new event, a retry, a redelivery), look again
 * every few seconds. Retries hours away are not waited for.
 */
const PENDING_REFRESH_MS = 2_000;
const isDueSoon = (delivery: { nextAttemptAt: string | null }) =>
  delivery.nextAttemptAt !== null && Date.parse(delivery.nextAttemptAt) - Date.now() < 60_000;

export const deliveriesQuery = (orgId: string, webhookId: string, status: DeliveryStatus | null) =>
  infiniteQueryOptions({
    queryKey: [...queryKeys.deliveries(orgId, webhookId), status],
    queryFn: ({ pageParam }) => api.listDeliveries(orgId, webhookId, status, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.items.some(isDueSoon)) ? PENDING_REFRESH_MS : false,
  });

export const deliveryQuery = (orgId: string, webhookId: string, deliveryId: string) =>
  queryOptions({
    queryKey: queryKeys.delivery(orgId, webhookId, deliveryId),
    queryFn: () => api.getDelivery(orgId, webhookId, deliveryId),
    refetchInterval: (query) => (query.state.data !== undefined && isDueSoon(query.state.data) ? PENDING_REFRESH_MS : false),
  });

export const auditQuery = (orgId: string, filter: AuditFilter) =>
  infiniteQueryOptions({
    queryKey: queryKeys.audit(orgId, filter),
    queryFn: ({ pageParam }) => api.listAudit(orgId, filter, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });

export const notificationsQuery = queryOptions({
  queryKey: queryKeys.notifications,
  queryFn: api.listNotifications,
});
