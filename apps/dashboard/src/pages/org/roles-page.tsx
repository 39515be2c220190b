import { useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { permissionsQuery } from '../../api/queries';
import { ErrorNotice } from '../../components/error-notice';
import { OrgFrame } from '../../components/section-nav';
import { ROLE_LABELS } from '../../lib/format';
import { useOrgAccess } from '../../lib/use-org-access';

const route = getRouteApi('/authenticated/orgs/$orgId/roles');

/** What each role may do, as the server's role table says. */
export function RolesPage() {
  const { orgId } = route.useParams();
  const { membership } = useOrgAccess(orgId);
  const table = useQuery(permissionsQuery);

  return (
    <OrgFrame orgId={orgId} section="roles" title="Roles" intro="What each role may do in this organization.">
      {table.isPending ? (
        <p className="muted">Loading roles…</p>
      ) : table.isError ? (
        <ErrorNotice error={table.error} />
      ) : (
        <section className="card section" aria-labelledby="roles-title">
          <h2 id="roles-title">Permissions by role</h2>
          {membership !== null && (
            <p className="hint">
              Your role: <strong>{ROLE_LABELS[membership.role] ?? membership.role}</strong>.
            </p>
          )}
          <table className="table role-matrix" data-testid="role-matrix">
            <thead>
              <tr>
                <th scope="col">Permission</th>
                {table.data.roles.map((role) => (
                  <th scope="col" key={role} className={role === membership?.role ? 'is-mine' : undefined}>
                    {ROLE_LABELS[role] ?? role}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {table.data.permissions.map((permission) => (
                <tr key={permission.id}>
                  <th scope="row">
                    {permission.description}
                    <code className="cell-note">{permission.id}</code>
                  </th>
                  {table.data.roles.map((role) => {
                    const isAllowed = permission.roles.includes(role);
                    return (
                      <td key={role} className={role === membership?.role ? 'mark is-mine' : 'mark'}>
                        <span aria-hidden="true">{isAllowed ? '✓' : '–'}</span>
                        <span className="visually-hidden">{isAllowed ? 'Allowed' : 'Not allowed'}</span>
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
          <ul className="hint rules">
            <li>Nobody can give a role above their own; only an owner can make or change an owner.</li>
            <li>The last owner cannot be removed or made anything else.</li>
            <li>A member limited to some projects sees only those projects and their feedback.</li>
          </ul>
        </section>
      )}
    </OrgFrame>
  );
}
