import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, type MemberChange } from '../../api/client';
import { invitesQuery, membersQuery, projectsQuery, queryKeys } from '../../api/queries';
import { ORG_ROLES, type Member, type OrgRole, type Project } from '../../api/types';
import { ActionButton } from '../../components/action-button';
import { BusyButton } from '../../components/busy-button';
import { SelectField } from '../../components/choice-field';
import { ErrorNotice } from '../../components/error-notice';
import { ProjectScopeField } from '../../components/project-scope-field';
import { RevealBox } from '../../components/reveal-box';
import { OrgFrame } from '../../components/section-nav';
import { TextField } from '../../components/text-field';
import { formatDateTime, projectScopeText, ROLE_LABELS } from '../../lib/format';
import { useOrgAccess } from '../../lib/use-org-access';

const route = getRouteApi('/authenticated/orgs/$orgId/members');

/**
 * The roles `myRole` may hand out: nobody grants a role above their own, and
 * only an owner makes owners (the server enforces both).
 */
function assignableRoles(myRole: OrgRole) {
  const rank = ORG_ROLES.indexOf(myRole);
  return ORG_ROLES.filter((role, i) => myRole === 'owner' || (role !== 'owner' && i >= rank)).map((role) => ({
    value: role,
    label: ROLE_LABELS[role],
  }));
}

export function MembersPage() {
  const { orgId } = route.useParams();
  const { membership, can } = useOrgAccess(orgId);
  const canManage = can('members_write');
  return (
    <OrgFrame orgId={orgId} section="members" title="Members" intro="Who works in this organization, in which role.">
      <MembersTable orgId={orgId} canManage={canManage} />
      {canManage && membership !== null && (
        <>
          <PendingInvites orgId={orgId} />
          <InviteForm orgId={orgId} myRole={membership.role} />
        </>
      )}
    </OrgFrame>
  );
}

function MembersTable({ orgId, canManage }: { orgId: string; canManage: boolean }) {
  const members = useQuery(membersQuery(orgId));
  const projects = useQuery(projectsQuery(orgId));

  if (members.isPending) return <p className="muted">Loading members…</p>;
  if (members.isError) return <ErrorNotice error={members.error} />;
  return (
    <section className="card section" aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <table className="table" data-testid="members">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Projects</th>
            <th scope="col">Two-factor</th>
            <th scope="col">Joined</th>
            {canManage && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {members.data.items.map((member) => (
            <MemberRow key={member.userId} orgId={orgId} member={member} canManage={canManage} projects={projects.data?.items} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

type MemberRowProps = { orgId: string; member: Member; canManage: boolean; projects: Project[] | undefined };

function MemberRow({ orgId, member, canManage, projects }: MemberRowProps) {
  const queryClient = useQueryClient();
  const { me, membership } = useOrgAccess(orgId);
  const [isEditingScope, setEditingScope] = useState(false);
  const [scope, setScope] = useState<string[] | null>(member.projectIds);
  const isMe = member.userId === me.user.id;
  const myRole = membership?.role ?? 'viewer';
  const isEditable = canManage && (member.role !== 'owner' || myRole === 'owner');

  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.members(orgId) });
  const update = useMutation({
    mutationFn: (change: MemberChange) => api.updateMember(orgId, member.userId, change),
    onSuccess: async () => {
      setEditingScope(false);
      await refresh();
      // A change of one's own role changes what this dashboard may show.
      if (isMe) await queryClient.invalidateQueries({ queryKey: queryKeys.me, exact: true });
    },
  });
  const shownRole = update.isPending && update.variables.role !== undefined ? update.variables.role : member.role;

  return (
    <tr>
      <td>
        {member.name}
        {isMe && <span className="muted"> (you)</span>}
        <span className="cell-note">{member.email}</span>
      </td>
      <td>
        {isEditable ? (
          <>
            <SelectField
              label={`Role of ${member.name}`}
              hideLabel
              value={shownRole}
              choices={assignableRoles(myRole)}
              disabled={update.isPending}
              onChange={(role) => update.mutate({ role })}
            />
            <span className="save-status" role="status">
              {update.isPending ? 'Saving…' : update.isSuccess ? 'Saved' : ''}
            </span>
          </>
        ) : (
          ROLE_LABELS[member.role] ?? member.role
        )}
      </td>
      <td>
        {isEditingScope ? (
          <form
            className="form scope-editor"
            onSubmit={(event: FormEvent<HTMLFormElement>) => {
              event.preventDefault();
              update.mutate({ projectIds: scope });
            }}
          >
            <ProjectScopeField orgId={orgId} value={scope} onChange={setScope} />
            <div className="form-actions">
              <BusyButton className="button-small" busy={update.isPending} busyLabel="Saving…">
                Save
              </BusyButton>
              <button
                type="button"
                className="button button-secondary button-small"
                onClick={() => {
                  setScope(member.projectIds);
                  setEditingScope(false);
                }}
              >
                Cancel
              </button>
            </div>
          </form>
        ) : (
          <>
            {projectScopeText(member.projectIds, projects)}
            {isEditable && (
              <button type="button" className="link-button" onClick={() => setEditingScope(true)} aria-label={`Change projects of ${member.name}`}>
                Change
              </button>
            )}
          </>
        )}
        <ErrorNotice error={update.error} />
      </td>
      <td>{member.mfa ? <span className="badge badge-success">On</span> : <span className="badge badge-archived">Off</span>}</td>
      <td className="nowrap">{formatDateTime(member.joinedAt)}</td>
      {canManage && (
        <td className="cell-actions">
          {isEditable && !isMe && (
            <ActionButton
              label="Remove"
              busyLabel="Removing…"
              run={async () => {
                await api.removeMember(orgId, member.userId);
                await refresh();
              }}
              confirm={{
                question: `Remove ${member.name} from the organization? Their sessions end at once.`,
                confirmLabel: 'Remove member',
              }}
            />
          )}
        </td>
      )}
    </tr>
  );
}

function PendingInvites({ orgId }: { orgId: string }) {
  const queryClient = useQueryClient();
  const invites = useQuery(invitesQuery(orgId));
  const projects = useQuery(projectsQuery(orgId));

  return (
    <section className="card section" aria-labelledby="invites-title">
      <h2 id="invites-title">Pending invitations</h2>
      {invites.isPending ? (
        <p className="muted">Loading invitations…</p>
      ) : invites.isError ? (
        <ErrorNotice error={invites.error} />
      ) : invites.data.items.length === 0 ? (
        <p className="muted">No open invitations.</p>
      ) : (
        <table className="table" data-testid="invites">
          <thead>
            <tr>
              <th scope="col">E-mail</th>
              <th scope="col">Role</th>
              <th scope="col">Projects</th>
              <th scope="col">Invited by</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {invites.data.items.map((invite) => (
              <tr key={invite.id}>
                <td>{invite.email}</td>
                <td>{ROLE_LABELS[invite.role] ?? invite.role}</td>
                <td>{projectScopeText(invite.projectIds, projects.data?.items)}</td>
                <td>{invite.invitedBy?.name ?? '—'}</td>
                <td className="nowrap">{formatDateTime(invite.expiresAt)}</td>
                <td className="cell-actions">
                  <ActionButton
                    label="Revoke"
                    busyLabel="Revoking…"
                    run={async () => {
                      await api.revokeInvite(orgId, invite.id);
                      await queryClient.invalidateQueries({ queryKey: queryKeys.invites(orgId) });
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function InviteForm({ orgId, myRole }: { orgId: string; myRole: OrgRole }) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<OrgRole>('member');
  const [projectIds, setProjectIds] = useState<string[] | null>(null);

  // gcTime 0: the link lets anyone join; it stays in this form only.
  const invite = useMutation({
    mutationFn: () => api.createInvite(orgId, { email: email.trim(), role, projectIds }),
    gcTime: 0,
    onSuccess: () => {
      setEmail('');
      setProjectIds(null);
      void queryClient.invalidateQueries({ queryKey: queryKeys.invites(orgId) });
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    invite.mutate();
  }

  const sent = invite.data;
  return (
    <section className="card section" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite someone</h2>
      {sent !== undefined && (
        <RevealBox
          label={`Invitation link for ${sent.invite.email}`}
          value={sent.link}
          testId="invite-link"
          copyLabel="Copy link"
          note={`We e-mailed it too. Whoever opens it can join as ${ROLE_LABELS[sent.invite.role] ?? sent.invite.role}: it works once, for 7 days.`}
          doneLabel="Done"
          onDone={() => invite.reset()}
        />
      )}
      <form onSubmit={submit} className="form form-narrow">
        <TextField label="E-mail" name="invite-email" type="email" autoComplete="off" required value={email} onChange={setEmail} />
        <SelectField label="Role" value={role} choices={assignableRoles(myRole)} onChange={setRole} />
        <ProjectScopeField orgId={orgId} value={projectIds} onChange={setProjectIds} />
        <ErrorNotice error={invite.error} />
        <BusyButton busy={invite.isPending} busyLabel="Inviting…">
          Send invitation
        </BusyButton>
      </form>
    </section>
  );
}
