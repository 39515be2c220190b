import { AppError } from '../errors.js';
import { ROLES, type Role } from '../orgs/service.js';

// Who may do what, in one table. Each permission is also the scope an API key
// may carry (`apiKey: true`); routes declare the one they need (see
// access.ts) and no role or scope is checked anywhere else. A key can hold a
// scope only while its creator's role has the permission.
// docs/permissions.md is rendered from this table and a test keeps the two
// equal.
const PERMISSIONS = {
  org_read: { roles: ['owner', 'admin', 'member', 'viewer'], apiKey: true, description: 'See the organization' },
  project_read: { roles: ['owner', 'admin', 'member', 'viewer'], apiKey: true, description: 'See projects, their widget settings and protection' },
  project_write: { roles: ['owner', 'admin'], apiKey: true, description: 'Create, change and delete projects, their allowed domains, widget, protection and identity secret' },
  feedback_read: { roles: ['owner', 'admin', 'member', 'viewer'], apiKey: true, description: 'Read feedback, its reporter details, screenshots and notes, and the labels' },
  feedback_create: { roles: ['owner', 'admin', 'member'], apiKey: true, description: 'Create feedback from a server (REST API)' },
  feedback_update: { roles: ['owner', 'admin', 'member'], apiKey: true, description: 'Change the status, assignee and labels of feedback, and write notes' },
  feedback_delete: { roles: ['owner', 'admin'], apiKey: true, description: 'Delete feedback' },
  labels_write: { roles: ['owner', 'admin', 'member'], apiKey: true, description: 'Create, rename and delete labels' },
  members_read: { roles: ['owner', 'admin', 'member', 'viewer'], apiKey: true, description: 'See the members of the organization and its security policy' },
  members_write: { roles: ['owner', 'admin'], apiKey: false, description: 'Invite people, change roles and project access, remove members' },
  webhooks_read: { roles: ['owner', 'admin'], apiKey: true, description: 'See webhooks and their delivery log' },
  webhooks_write: { roles: ['owner', 'admin'], apiKey: true, description: 'Create, change and delete webhooks, rotate their secrets, redeliver and send test events' },
  audit_read: { roles: ['owner', 'admin'], apiKey: true, description: "Read and export the audit log and the organization's login history" },
  apikeys_write: { roles: ['owner', 'admin'], apiKey: false, description: 'See, create and revoke API keys' },
  security_write: { roles: ['owner'], apiKey: false, description: 'Change the security policy: required MFA, session timeouts' },
} as const satisfies Record<string, { roles: readonly Role[]; apiKey: boolean; description: string }>;

export type Permission = keyof typeof PERMISSIONS;

export const PERMISSION_IDS = Object.keys(PERMISSIONS) as Permission[];

/** The scopes an API key may be given: every permission that is not for people at the dashboard only. */
export const API_SCOPES = PERMISSION_IDS.filter((id) => PERMISSIONS[id].apiKey);

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(PERMISSIONS, value);
}

export function hasPermission(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission].roles as readonly Role[]).includes(role);
}

/** Whether an API key may ever carry this permission as a scope. */
export function isApiScope(permission: Permission): boolean {
  return PERMISSIONS[permission].apiKey;
}

/** The permissions a role has, in table order. */
export function permissionsOf(role: Role): Permission[] {
  return PERMISSION_IDS.filter((id) => hasPermission(role, id));
}

export function authorize(role: Role, permission: Permission): void {
  if (!hasPermission(role, permission)) throw new AppError('forbidden', 'Your role does not allow this.');
}

/** The table as the API and the docs show it. */
export function permissionMatrix() {
  return {
    roles: [...ROLES],
    permissions: PERMISSION_IDS.map((id) => {
      const { roles, apiKey, description } = PERMISSIONS[id];
      return { id, description, apiKey, roles: [...roles] as Role[] };
    }),
  };
}

// Higher roles include lower ones: nobody grants a role above their own.
const RANK: Record<Role, number> = { owner: 3, admin: 2, member: 1, viewer: 0 };

export function outranks(granter: Role, role: Role): boolean {
  return RANK[granter] >= RANK[role];
}
