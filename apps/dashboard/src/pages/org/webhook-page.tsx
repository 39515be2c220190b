import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, isApiError, type DeliveryStatus } from '../../api/client';
import { deliveriesQuery, queryKeys, webhookQuery } from '../../api/queries';
import type { Webhook } from '../../api/types';
import { ActionButton } from '../../components/action-button';
import { BusyButton } from '../../components/busy-button';
import { SelectField, type Choice } from '../../components/choice-field';
import { Crumbs } from '../../components/crumbs';
import { ErrorNotice } from '../../components/error-notice';
import { LoadMore } from '../../components/load-more';
import { RevealBox } from '../../components/reveal-box';
import { SaveActions } from '../../components/save-bar';
import { OrgFrame } from '../../components/section-nav';
import { formatDateTime } from '../../lib/format';
import { useOrgAccess } from '../../lib/use-org-access';
import {
  DELIVERY_STATUSES,
  DeliveryStatusBadge,
  draftOf,
  draftProblems,
  inputOf,
  WEBHOOKS_PERMISSION,
  WebhookFields,
  WebhookStatus,
} from './webhook-form';

const route = getRouteApi('/authenticated/orgs/$orgId/webhooks/$webhookId');

/** Back to the organization's webhooks. */
export function WebhooksCrumbs({ orgId }: { orgId: string }) {
  return (
    <Crumbs>
      <Link to="/orgs/$orgId/webhooks" params={{ orgId }}>
        ← Webhooks
      </Link>
    </Crumbs>
  );
}

/** One webhook: its deliveries (and a test event), its settings, its secret. */
export function WebhookPage() {
  const { orgId, webhookId } = route.useParams();
  const { can } = useOrgAccess(orgId);
  const webhook = useQuery({ ...webhookQuery(orgId, webhookId), enabled: can('webhooks_read') });
  const canEdit = can('webhooks_write');
  return (
    <OrgFrame
      orgId={orgId}
      section="webhooks"
      title="Webhook"
      crumbs={<WebhooksCrumbs orgId={orgId} />}
      requires={WEBHOOKS_PERMISSION}
      intro={webhook.data === undefined ? 'Loading…' : <span className="mono">{webhook.data.url}</span>}
    >
      {webhook.isPending ? (
        <p className="muted">Loading the webhook…</p>
      ) : webhook.isError ? (
        <ErrorNotice error={webhook.error} notFound="There is no such webhook (any more)." />
      ) : (
        <>
          <Deliveries orgId={orgId} webhook={webhook.data} canEdit={canEdit} />
          <Settings orgId={orgId} webhook={webhook.data} canEdit={canEdit} />
          {canEdit && (
            <>
              <SigningSecret orgId={orgId} webhook={webhook.data} />
              <DeleteWebhook orgId={orgId} webhook={webhook.data} />
            </>
          )}
        </>
      )}
    </OrgFrame>
  );
}

const STATUS_FILTER: Choice<DeliveryStatus | ''>[] = [
  { value: '', label: 'Any' },
  ...Object.entries(DELIVERY_STATUSES).map(([value, { label }]) => ({ value: value as DeliveryStatus, label })),
];

function Deliveries({ orgId, webhook, canEdit }: { orgId: string; webhook: Webhook; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const deliveries = useInfiniteQuery(deliveriesQuery(orgId, webhook.id, status === '' ? null : status));
  const items = deliveries.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <section className="card section" aria-labelledby="deliveries-title">
      <div className="section-head">
        <h2 id="deliveries-title">Delivery log</h2>
        {canEdit && (
          <ActionButton
            label="Send test event"
            busyLabel="Sending…"
            done="Test event queued"
            run={async () => {
              await api.sendTestEvent(orgId, webhook.id);
              await queryClient.invalidateQueries({ queryKey: queryKeys.deliveries(orgId, webhook.id) });
            }}
          />
        )}
      </div>
      <p className="hint">
        Each event sent to this webhook, newest first, kept for 30 days. A failed attempt is retried for 24 hours
        {canEdit ? '; open one to see its attempts or send it again.' : '; open one to see its attempts.'}
      </p>
      <div className="filter-bar deliveries-filter">
        <SelectField label="Status" value={status} choices={STATUS_FILTER} onChange={setStatus} />
      </div>
      {deliveries.isPending ? (
        <p className="muted">Loading deliveries…</p>
      ) : deliveries.isError && !deliveries.isFetchNextPageError ? (
        <ErrorNotice error={deliveries.error} />
      ) : items.length === 0 ? (
        <p className="muted" data-testid="deliveries-empty">
          {status === '' ? 'Nothing sent yet.' : 'No deliveries with this status.'}
        </p>
      ) : (
        <>
          <table className="table table-stack" data-testid="deliveries">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Event</th>
                <th scope="col" className="numeric">
                  Attempts
                </th>
                <th scope="col">Last answer</th>
                <th scope="col" className="numeric">
                  Latency
                </th>
                <th scope="col">Created</th>
                <th scope="col">Completed</th>
              </tr>
            </thead>
            <tbody>
              {items.map((delivery) => (
                <tr key={delivery.id}>
                  <td data-label="Status">
                    <DeliveryStatusBadge status={delivery.status} />
                  </td>
                  <td data-label="Event">
                    <Link
                      to="/orgs/$orgId/webhooks/$webhookId/deliveries/$deliveryId"
                      params={{ orgId, webhookId: webhook.id, deliveryId: delivery.id }}
                      className="mono"
                    >
                      {delivery.eventType}
                    </Link>
                  </td>
                  <td data-label="Attempts" className="numeric">
                    {delivery.attemptCount}
                  </td>
                  <td data-label="Last answer">
                    {delivery.lastAttempt === null ? (
                      '—'
                    ) : (
                      <>
                        {delivery.lastAttempt.statusCode ?? 'No answer'}
                        {delivery.lastAttempt.error !== null && <span className="cell-note">{delivery.lastAttempt.error}</span>}
                      </>
                    )}
                  </td>
                  <td data-label="Latency" className="numeric">
                    {delivery.lastAttempt?.durationMs == null ? '—' : `${delivery.lastAttempt.durationMs} ms`}
                  </td>
                  <td data-label="Created" className="nowrap">
                    {formatDateTime(delivery.createdAt)}
                  </td>
                  <td data-label="Completed">
                    {delivery.completedAt !== null ? (
                      <span className="nowrap">{formatDateTime(delivery.completedAt)}</span>
                    ) : delivery.nextAttemptAt !== null ? (
                      <span className="cell-note">next attempt {formatDateTime(delivery.nextAttemptAt)}</span>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <LoadMore query={deliveries} />
        </>
      )}
    </section>
  );
}

function Settings({ orgId, webhook, canEdit }: { orgId: string; webhook: Webhook; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState(draftOf(webhook));
  const [isTried, setTried] = useState(false);
  const [hasConflict, setConflict] = useState(false);
  const save = useMutation({
    mutationFn: () => api.updateWebhook(orgId, webhook.id, inputOf(draft), webhook.version),
    onSuccess: (saved) => {
      setConflict(false);
      queryClient.setQueryData(queryKeys.webhook(orgId, webhook.id), saved);
      void queryClient.invalidateQueries({ queryKey: queryKeys.webhooks(orgId), exact: true });
    },
    // Someone else saved it since this page read it: show their version, to be changed again.
    onError: async (error) => {
      if (!isApiError(error, 'precondition_failed')) return;
      setConflict(true);
      setDraft(draftOf(await queryClient.fetchQuery({ ...webhookQuery(orgId, webhook.id), staleTime: 0 })));
    },
  });
  const problems = draftProblems(draft);
  const isChanged = JSON.stringify(inputOf(draft)) !== JSON.stringify(inputOf(draftOf(webhook)));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setTried(true);
    if (problems.url === undefined && problems.events === undefined) save.mutate();
  }

  return (
    <section className="card section" aria-labelledby="webhook-settings-title">
      <div className="section-head">
        <h2 id="webhook-settings-title">Settings</h2>
        <WebhookStatus enabled={webhook.enabled} />
      </div>
      <p className="hint">
        Created {formatDateTime(webhook.createdAt)}
        {webhook.createdBy !== null && ` by ${webhook.createdBy.name}`}, last changed {formatDateTime(webhook.updatedAt)}.
      </p>
      {!canEdit && <p className="notice notice-warning">Only owners and admins change webhooks.</p>}
      <form className="form form-narrow" onSubmit={submit} noValidate>
        <fieldset disabled={!canEdit} className="form plain-fieldset">
          <legend className="visually-hidden">Webhook settings</legend>
          <WebhookFields orgId={orgId} draft={draft} onChange={setDraft} problems={isTried ? problems : {}} />
        </fieldset>
        {hasConflict ? (
          <p className="notice notice-warning" role="alert" data-testid="webhook-conflict">
            Someone else changed this webhook since you opened it. It now shows their version: make your change again.
          </p>
        ) : (
          <ErrorNotice error={save.error} />
        )}
        {canEdit && <SaveActions save={save} isChanged={isChanged} label="Save changes" statusTestId="webhook-saved" />}
      </form>
    </section>
  );
}

const OVERLAP_CHOICES: Choice<string>[] = [
  { value: '24', label: '24 hours' },
  { value: '1', label: '1 hour' },
  { value: '72', label: '72 hours' },
  { value: '0', label: 'Not at all (it leaked)' },
];

function SigningSecret({ orgId, webhook }: { orgId: string; webhook: Webhook }) {
  const queryClient = useQueryClient();
  const [overlap, setOverlap] = useState('24');
  // gcTime 0: the new secret lives in this card's state only, until "Done".
  const rotate = useMutation({
    mutationFn: () => api.rotateWebhookSecret(orgId, webhook.id, Number(overlap)),
    gcTime: 0,
    onSuccess: ({ webhook: saved }) => queryClient.setQueryData(queryKeys.webhook(orgId, webhook.id), saved),
  });

  return (
    <section className="card section" aria-labelledby="webhook-secret-title">
      <h2 id="webhook-secret-title">Signing secret</h2>
      <p className="hint">
        Every message is signed with the secret shown when the webhook was added (Standard Webhooks, the{' '}
        <code>webhook-signature</code> header). A new one replaces it; meanwhile messages carry both signatures, so your
        receiver keeps accepting them while you deploy the new secret.
      </p>
      {webhook.previousSecretExpiresAt !== null && (
        <p className="notice notice-warning" data-testid="previous-secret">
          The previous secret also signs until {formatDateTime(webhook.previousSecretExpiresAt)}.
        </p>
      )}
      {rotate.data !== undefined ? (
        <RevealBox
          label="New signing secret"
          value={rotate.data.secret}
          testId="webhook-new-secret"
          copyLabel="Copy secret"
          note="Store it with your receiver now: it will not be shown again."
          doneLabel="I have stored it"
          onDone={() => rotate.reset()}
        />
      ) : (
        <form
          className="form form-narrow"
          onSubmit={(event) => {
            event.preventDefault();
            rotate.mutate();
          }}
        >
          <SelectField label="The old secret keeps signing for" value={overlap} choices={OVERLAP_CHOICES} onChange={setOverlap} />
          <ErrorNotice error={rotate.error} />
          <div className="form-actions">
            <BusyButton variant="secondary" busy={rotate.isPending} busyLabel="Rotating…">
              Rotate secret
            </BusyButton>
          </div>
        </form>
      )}
    </section>
  );
}

function DeleteWebhook({ orgId, webhook }: { orgId: string; webhook: Webhook }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return (
    <section className="card section" aria-labelledby="webhook-delete-title">
      <h2 id="webhook-delete-title">Delete</h2>
      <p className="hint">Nothing more is sent to this address, and its delivery log goes with it.</p>
      <ActionButton
        label="Delete webhook"
        busyLabel="Deleting…"
        variant="danger"
        small={false}
        run={async () => {
          await api.deleteWebhook(orgId, webhook.id);
          await navigate({ to: '/orgs/$orgId/webhooks', params: { orgId } });
          queryClient.removeQueries({ queryKey: queryKeys.webhook(orgId, webhook.id) });
          await queryClient.invalidateQueries({ queryKey: queryKeys.webhooks(orgId), exact: true });
        }}
        confirm={{ question: `Delete the webhook to ${webhook.url}? This cannot be undone.`, confirmLabel: 'Delete webhook' }}
      />
    </section>
  );
}
