import { AppError } from '../errors.js';
import { ROLES, type Role } from '../orgs/service.js';

// Who may do what, in one table. Routes declare the permission they need
// (see access.ts); no role checks elsewhere. docs/permissions.md is rendered
// from this table and a test keeps the two equal.
const PERMISSIONS = {
  'feedback.read': { roles: ['owner', 'admin', 'member', 'viewer'], description: 'Read feedback and its screenshots' },
  'feedback.update': { roles: ['owner', 'admin', 'member'], description: 'Change the status, assignee and labels of feedback' },
  'feedback.delete': { roles: ['owner', 'admin'], description: 'Delete feedback' },
  'projects.read': { roles: ['owner', 'admin', 'member', 'viewer'], description: 'See projects and their widget settings' },
  'projects.manage': { roles: ['owner', 'admin'], description: 'Create, change and delete projects, their allowed domains, widget and identity secret' },
  'members.read': { roles: ['owner', 'admin', 'member', 'viewer'], description: 'See the members of the organization and its security policy' },
  'members.manage': { roles: ['owner', 'admin'], description: 'Invite people, change roles and project access, remove members' },
  'apikeys.manage': { roles: ['owner', 'admin'], description: 'Create and revoke API keys' },
  'webhooks.manage': { roles: ['owner', 'admin'], description: 'Manage webhooks' },
  'audit.read': { roles: ['owner', 'admin'], description: "Read the audit log and the organization's login history" },
  'security.manage': { roles: ['owner'], description: 'Change the security policy: required MFA, session timeouts' },
} as const satisfies Record<string, { roles: readonly Role[]; description: string }>;

export type Permission = keyof typeof PERMISSIONS;

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(PERMISSIONS, value);
}

export function hasPermission(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission].roles as readonly Role[]).includes(role);
}

export function authorize(role: Role, permission: Permission): void {
  if (!hasPermission(role, permission)) throw new AppError('forbidden', 'Your role does not allow this.');
}

/** The table as the API and the docs show it. */
export function permissionMatrix() {
  return {
    roles: [...ROLES],
    permissions: Object.entries(PERMISSIONS).map(([id, { roles, description }]) => ({ id, description, roles: [...roles] })),
  };
}

// Higher roles include lower ones: nobody grants a role above their own.
const RANK: Record<Role, number> = { owner: 3, admin: 2, member: 1, viewer: 0 };

export function outranks(granter: Role, role: Role): boolean {
  return RANK[granter] >= RANK[role];
}
