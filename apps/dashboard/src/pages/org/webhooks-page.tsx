import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { projectsQuery, queryKeys, webhooksQuery } from '../../api/queries';
import { BusyButton } from '../../components/busy-button';
import { ErrorNotice } from '../../components/error-notice';
import { RevealBox } from '../../components/reveal-box';
import { OrgFrame } from '../../components/section-nav';
import { formatDateTime, projectScopeText } from '../../lib/format';
import { useOrgAccess } from '../../lib/use-org-access';
import { draftOf, draftProblems, inputOf, WEBHOOKS_PERMISSION, WebhookFields, WebhookStatus } from './webhook-form';

const route = getRouteApi('/authenticated/orgs/$orgId/webhooks');

export function WebhooksPage() {
  const { orgId } = route.useParams();
  const { can } = useOrgAccess(orgId);
  return (
    <OrgFrame
      orgId={orgId}
      section="webhooks"
      title="Webhooks"
      intro="Events sent to your own services as they happen, signed so they can tell them from forgeries."
      requires={WEBHOOKS_PERMISSION}
    >
      <WebhookList orgId={orgId} />
      {can('webhooks_write') && <CreateWebhook orgId={orgId} />}
    </OrgFrame>
  );
}

function WebhookList({ orgId }: { orgId: string }) {
  const webhooks = useQuery(webhooksQuery(orgId));
  const projects = useQuery(projectsQuery(orgId));
  return (
    <section className="card section" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Webhooks</h2>
      {webhooks.isPending ? (
        <p className="muted">Loading webhooks…</p>
      ) : webhooks.isError ? (
        <ErrorNotice error={webhooks.error} />
      ) : webhooks.data.items.length === 0 ? (
        <p className="muted" data-testid="webhooks-empty">
          No webhooks yet.
        </p>
      ) : (
        <table className="table table-stack" data-testid="webhooks">
          <thead>
            <tr>
              <th scope="col">Payload URL</th>
              <th scope="col">Events</th>
              <th scope="col">Projects</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {webhooks.data.items.map((webhook) => (
              <tr key={webhook.id}>
                <td data-label="Payload URL" className="cell-wide">
                  <Link to="/orgs/$orgId/webhooks/$webhookId" params={{ orgId, webhookId: webhook.id }} className="mono">
                    {webhook.url}
                  </Link>
                  {webhook.description !== '' && <span className="cell-note">{webhook.description}</span>}
                </td>
                <td data-label="Events" className="cell-wide">
                  <ul className="code-list">
                    {webhook.events.map((event) => (
                      <li key={event}>
                        <code>{event}</code>
                      </li>
                    ))}
                  </ul>
                </td>
                <td data-label="Projects">{projectScopeText(webhook.projectId === null ? null : [webhook.projectId], projects.data?.items)}</td>
                <td data-label="Status">
                  <WebhookStatus enabled={webhook.enabled} />
                </td>
                <td data-label="Created">
                  <span className="nowrap">{formatDateTime(webhook.createdAt)}</span>
                  {webhook.createdBy !== null && <span className="cell-note">by {webhook.createdBy.name}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CreateWebhook({ orgId }: { orgId: string }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState(draftOf(null));
  const [isTried, setTried] = useState(false);
  // gcTime 0: the secret lives in this card's state only, until "Done".
  const create = useMutation({
    mutationFn: () => api.createWebhook(orgId, inputOf(draft)),
    gcTime: 0,
    onSuccess: () => {
      setDraft(draftOf(null));
      setTried(false);
      void queryClient.invalidateQueries({ queryKey: queryKeys.webhooks(orgId) });
    },
  });
  const problems = draftProblems(draft);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setTried(true);
    if (problems.url === undefined && problems.events === undefined) create.mutate();
  }

  const created = create.data;
  return (
    <section className="card section" aria-labelledby="create-webhook-title">
      <h2 id="create-webhook-title">Add a webhook</h2>
      {created !== undefined ? (
        <div data-testid="webhook-created">
          <RevealBox
            label={`Signing secret of ${created.webhook.url}`}
            value={created.secret}
            testId="webhook-secret"
            copyLabel="Copy secret"
            note="Store it with your receiver now: it will not be shown again. Your receiver checks each message’s webhook-signature header with it (Standard Webhooks)."
            doneLabel="I have stored it"
            onDone={() => create.reset()}
          />
          <p>
            <Link to="/orgs/$orgId/webhooks/$webhookId" params={{ orgId, webhookId: created.webhook.id }}>
              Open the webhook
            </Link>{' '}
            to send a test event and follow its deliveries.
          </p>
        </div>
      ) : (
        <form className="form form-narrow" onSubmit={submit} noValidate>
          <WebhookFields orgId={orgId} draft={draft} onChange={setDraft} problems={isTried ? problems : {}} />
          <ErrorNotice error={create.error} />
          <div className="form-actions">
            <BusyButton busy={create.isPending} busyLabel="Adding…">
              Add webhook
            </BusyButton>
          </div>
        </form>
      )}
    </section>
  );
}
