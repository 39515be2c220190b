import { useQuery, useSuspenseQuery } from '@tanstack/react-query';
import { meQuery, permissionsQuery } from '../api/queries';

/**
 * The signed-in user's membership of an organization and what its role may
 * do, read from the server's role table (GET /api/v1/permissions). It only
 * decides what to show; the server checks every request.
 */
export function useOrgAccess(orgId: string) {
  const { data: me } = useSuspenseQuery(meQuery);
  const { data: table } = useQuery(permissionsQuery);
  const membership = me.organizations.find((org) => org.id === orgId) ?? null;
  const can = (permission: string): boolean =>
    membership !== null &&
    (table?.permissions.find((p) => p.id === permission)?.roles.includes(membership.role) ?? false);
  /** False until the role table has loaded: until then `can` answers false for everything. */
  const isKnown = table !== undefined;
  return { me, membership, can, isKnown };
}
