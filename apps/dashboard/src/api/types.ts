// Shapes of the /api/v1 answers the dashboard reads. Written by hand for now;
// they will come from the generated client in packages/client once the
// server publishes /api/v1/openapi.json.

export type User = {
  id: string;
  email: string;
  name: string;
};

export type OrgRole = string;

export type Membership = {
  id: string;
  name: string;
  role: OrgRole;
};

export type Me = {
  user: User;
  organizations: Membership[];
};

export type SetupState = {
  required: boolean;
};

export type Project = {
  id: string;
  name: string;
  key: string;
  domains: string[];
  createdAt: string;
  snippet: string;
};

export const FEEDBACK_STATUSES = ['new', 'in_progress', 'done', 'archived'] as const;
export type FeedbackStatus = (typeof FEEDBACK_STATUSES)[number];

export type FeedbackSummary = {
  id: string;
  createdAt: string;
  status: FeedbackStatus;
  rating: number | null;
  type: string | null;
  message: string;
  email: string | null;
};

export type Feedback = FeedbackSummary & {
  projectId: string;
  updatedAt: string;
  pageUrl: string | null;
  locale: string | null;
  viewport: { width: number; height: number } | null;
  custom: Record<string, string>;
  userAgent: string | null;
  ip: string | null;
};

export type Page<T> = {
  items: T[];
  nextCursor: string | null;
};

export type List<T> = {
  items: T[];
};
