import { queryOptions } from '@tanstack/react-query';
import { api } from './client';

// Query keys live here so pages and mutations invalidate the same entries.
export const queryKeys = {
  me: ['me'] as const,
  setup: ['setup'] as const,
  projects: (orgId: string) => ['orgs', orgId, 'projects'] as const,
  project: (orgId: string, projectId: string) => ['orgs', orgId, 'projects', projectId] as const,
  feedbackList: (orgId: string, projectId: string) =>
    ['orgs', orgId, 'projects', projectId, 'feedback'] as const,
  feedback: (orgId: string, feedbackId: string) => ['orgs', orgId, 'feedback', feedbackId] as const,
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

export const feedbackQuery = (orgId: string, feedbackId: string) =>
  queryOptions({
    queryKey: queryKeys.feedback(orgId, feedbackId),
    queryFn: () => api.getFeedback(orgId, feedbackId),
  });
