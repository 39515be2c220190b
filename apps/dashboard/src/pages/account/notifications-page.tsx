import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { notificationsQuery, queryKeys } from '../../api/queries';
import { NOTIFICATION_MODES, type NotificationMode, type NotificationSetting } from '../../api/types';
import { SelectField, type Choice } from '../../components/choice-field';
import { ErrorNotice } from '../../components/error-notice';
import { AccountNav } from '../../components/section-nav';
import { usePageTitle } from '../../lib/use-page-title';

const MODE_LABELS: Record<NotificationMode, string> = {
  instant: 'Every new feedback',
  daily: 'Daily digest',
  none: 'None',
};

const MODE_CHOICES: Choice<NotificationMode>[] = NOTIFICATION_MODES.map((mode) => ({ value: mode, label: MODE_LABELS[mode] }));

/** Each project's settings under its organization, in the order the server lists them. */
function byOrganization(items: NotificationSetting[]) {
  const groups = new Map<string, { orgId: string; orgName: string; items: NotificationSetting[] }>();
  for (const item of items) {
    const group = groups.get(item.orgId) ?? { orgId: item.orgId, orgName: item.orgName, items: [] };
    group.items.push(item);
    groups.set(item.orgId, group);
  }
  return [...groups.values()];
}

/** Which e-mails about new feedback the signed-in person gets, per project. */
export function NotificationsPage() {
  usePageTitle('Notifications');
  const settings = useQuery(notificationsQuery);
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Notifications</h1>
          <p className="muted">
            E-mails about new feedback, per project: one for each new feedback, one digest a day, or none. They never
            contain the reporter’s e-mail or other personal data.
          </p>
        </div>
      </div>
      <AccountNav current="notifications" />
      {settings.isPending ? (
        <p className="muted">Loading your settings…</p>
      ) : settings.isError ? (
        <ErrorNotice error={settings.error} />
      ) : settings.data.items.length === 0 ? (
        <div className="empty" data-testid="notifications-empty">
          <p>There is no project you can see yet.</p>
        </div>
      ) : (
        byOrganization(settings.data.items).map((org) => (
          <section key={org.orgId} className="card section" aria-labelledby={`notifications-${org.orgId}`}>
            <h2 id={`notifications-${org.orgId}`}>{org.orgName}</h2>
            <table className="table notification-table" data-testid="notifications">
              <thead>
                <tr>
                  <th scope="col">Project</th>
                  <th scope="col">E-mail me</th>
                </tr>
              </thead>
              <tbody>
                {org.items.map((item) => (
                  <NotificationRow key={item.projectId} setting={item} />
                ))}
              </tbody>
            </table>
          </section>
        ))
      )}
    </>
  );
}

/** One project's choice, saved as soon as it changes, with its own status line. */
function NotificationRow({ setting }: { setting: NotificationSetting }) {
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: (mode: NotificationMode) => api.setNotification({ orgId: setting.orgId, projectId: setting.projectId, mode }),
    onSuccess: (saved) =>
      queryClient.setQueryData(queryKeys.notifications, (data: { items: NotificationSetting[] } | undefined) =>
        data && { items: data.items.map((item) => (item.projectId === saved.projectId ? saved : item)) },
      ),
  });
  const shown = save.isPending ? save.variables : setting.mode;
  return (
    <tr>
      <th scope="row">{setting.projectName}</th>
      <td>
        <SelectField
          label={`E-mails about ${setting.projectName}`}
          hideLabel
          value={shown}
          choices={MODE_CHOICES}
          disabled={save.isPending}
          onChange={(mode) => save.mutate(mode)}
        />
        <span className="save-status" role="status">
          {save.isPending ? 'Saving…' : save.isSuccess ? 'Saved' : ''}
        </span>
        <ErrorNotice error={save.error} />
      </td>
    </tr>
  );
}
