import type { FeedbackStatus, LoginMethod, LoginResult, OrgRole, Project } from '../api/types';

const dateTime = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'short',
});

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export const STATUS_LABELS: Record<FeedbackStatus, string> = {
  new: 'New',
  in_progress: 'In progress',
  done: 'Done',
  archived: 'Archived',
};

export function statusLabel(status: string): string {
  return (STATUS_LABELS as Record<string, string>)[status] ?? status;
}

export function excerpt(text: string, max = 140): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  // Count code points, not UTF-16 units, so an emoji is never cut in half.
  const chars = Array.from(flat);
  if (chars.length <= max) return flat;
  return `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}

/** Allowed domains are edited one per line. */
export function parseDomains(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/**
 * The directives the host site must allow, as one ready-to-paste policy
 * fragment: `script-src https://parley.example; img-src data: blob:`.
 * Directives without sources are left out.
 */
export function formatHostCsp(csp: Record<string, string[]>): string {
  return Object.entries(csp)
    .filter(([, sources]) => sources.length > 0)
    .map(([directive, sources]) => `${directive} ${sources.join(' ')}`)
    .join('; ');
}

export const LOGIN_METHOD_LABELS: Record<LoginMethod, string> = {
  password: 'Password',
  totp: 'Authenticator app',
  webauthn: 'Passkey',
  recovery: 'Recovery code',
  reset: 'Password reset',
  invite: 'Invitation',
};

export const LOGIN_RESULT_LABELS: Record<LoginResult, string> = {
  success: 'Succeeded',
  failure: 'Failed',
  blocked: 'Blocked',
};

export const ROLE_LABELS: Record<OrgRole, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
  viewer: 'Viewer',
};

/** "All projects", or the names of the chosen ones (a count while the names are unknown). */
export function projectScopeText(projectIds: string[] | null, projects: Project[] | undefined): string {
  if (projectIds === null) return 'All projects';
  if (projectIds.length === 0) return 'No projects';
  const names = projectIds.map((id) => projects?.find((p) => p.id === id)?.name).filter((name) => name !== undefined);
  return names.length === projectIds.length ? names.join(', ') : `${projectIds.length} projects`;
}
