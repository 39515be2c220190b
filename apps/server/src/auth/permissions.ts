import { AppError } from '../errors.js';
import type { Role } from '../orgs/service.js';

// Who may do what, in one table. Routes name the permission they need; no
// role checks elsewhere.
const PERMISSIONS = {
  'projects.read': ['owner', 'admin', 'member', 'viewer'],
  'projects.manage': ['owner', 'admin'],
  'feedback.read': ['owner', 'admin', 'member', 'viewer'],
  'feedback.update': ['owner', 'admin', 'member'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function hasPermission(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

export function authorize(role: Role, permission: Permission): void {
  if (!hasPermission(role, permission)) throw new AppError('forbidden', 'Your role does not allow this.');
}
