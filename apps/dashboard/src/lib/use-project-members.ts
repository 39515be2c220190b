import { useQuery } from '@tanstack/react-query';
import { membersQuery } from '../api/queries';
import type { Member } from '../api/types';

/**
 * The members who can see a project (those whose access is not limited to
 * other projects), by name: whom its feedback can be assigned to. `byId`
 * also knows the other members, to name an assignee whose access changed.
 */
export function useProjectMembers(orgId: string, projectId: string) {
  const members = useQuery(membersQuery(orgId));
  const all = members.data?.items ?? [];
  const canSee = all
    .filter((member) => member.projectIds === null || member.projectIds.includes(projectId))
    .sort((a, b) => a.name.localeCompare(b.name));
  const byId = new Map<string, Member>(all.map((member) => [member.userId, member]));
  return { query: members, canSee, byId };
}
