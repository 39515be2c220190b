import { useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { api } from '../../api/client';
import { deliveryQuery, queryKeys } from '../../api/queries';
import type { DeliveryAttempt, DeliveryDetail } from '../../api/types';
import { ActionButton } from '../../components/action-button';
import { Crumbs } from '../../components/crumbs';
import { ErrorNotice } from '../../components/error-notice';
import { OrgFrame } from '../../components/section-nav';
import { formatDateTime } from '../../lib/format';
import { useOrgAccess } from '../../lib/use-org-access';
import { DeliveryStatusBadge, WEBHOOKS_PERMISSION } from './webhook-form';

const route = getRouteApi('/authenticated/orgs/$orgId/webhooks/$webhookId/deliveries/$deliveryId');

/** One delivery of a webhook: what was sent, every attempt and what the receiver answered. */
export function DeliveryPage() {
  const { orgId, webhookId, deliveryId } = route.useParams();
  const { can } = useOrgAccess(orgId);
  const delivery = useQuery({ ...deliveryQuery(orgId, webhookId, deliveryId), enabled: can('webhooks_read') });
  return (
    <OrgFrame
      orgId={orgId}
      section="webhooks"
      title="Delivery"
      requires={WEBHOOKS_PERMISSION}
      crumbs={
        <Crumbs>
          <Link to="/orgs/$orgId/webhooks" params={{ orgId }}>
            Webhooks
          </Link>{' '}
          ›{' '}
          <Link to="/orgs/$orgId/webhooks/$webhookId" params={{ orgId, webhookId }}>
            Delivery log
          </Link>
        </Crumbs>
      }
      intro={delivery.data === undefined ? 'Loading…' : <span className="mono">{delivery.data.eventType}</span>}
    >
      {delivery.isPending ? (
        <p className="muted">Loading the delivery…</p>
      ) : delivery.isError ? (
        <ErrorNotice error={delivery.error} notFound="There is no such delivery (the log keeps them for 30 days)." />
      ) : (
        <>
          <Summary orgId={orgId} delivery={delivery.data} canRedeliver={can('webhooks_write')} />
          <Attempts attempts={delivery.data.attempts} />
          <section className="card section" aria-labelledby="payload-title">
            <h2 id="payload-title">Payload</h2>
            <p className="hint">The JSON body every attempt sends, signed with the webhook’s secret.</p>
            <pre className="code code-block" tabIndex={0} aria-labelledby="payload-title" data-testid="delivery-payload">
              {JSON.stringify(delivery.data.payload, null, 2)}
            </pre>
          </section>
        </>
      )}
    </OrgFrame>
  );
}

function Summary({ orgId, delivery, canRedeliver }: { orgId: string; delivery: DeliveryDetail; canRedeliver: boolean }) {
  const queryClient = useQueryClient();
  return (
    <section className="card section" aria-labelledby="delivery-title">
      <div className="section-head">
        <h2 id="delivery-title">Summary</h2>
        {canRedeliver && (
          <ActionButton
            label="Redeliver"
            busyLabel="Queuing…"
            done="Queued again"
            run={async () => {
              await api.redeliver(orgId, delivery.webhookId, delivery.id);
              // Its detail is under the log's key too: both look again (and keep looking while the attempt is due).
              await queryClient.invalidateQueries({ queryKey: queryKeys.deliveries(orgId, delivery.webhookId) });
            }}
          />
        )}
      </div>
      <dl className="facts" data-testid="delivery-summary">
        <div className="fact">
          <dt>Status</dt>
          <dd>
            <DeliveryStatusBadge status={delivery.status} />
          </dd>
        </div>
        <div className="fact">
          <dt>Event</dt>
          <dd className="mono">{delivery.eventType}</dd>
        </div>
        <div className="fact">
          <dt>
            <code>webhook-id</code>
          </dt>
          <dd className="mono">{delivery.id}</dd>
        </div>
        <div className="fact">
          <dt>Attempts</dt>
          <dd>{delivery.attemptCount}</dd>
        </div>
        <div className="fact">
          <dt>Created</dt>
          <dd>{formatDateTime(delivery.createdAt)}</dd>
        </div>
        <div className="fact">
          <dt>{delivery.completedAt === null ? 'Next attempt' : 'Completed'}</dt>
          <dd>
            {delivery.completedAt !== null
              ? formatDateTime(delivery.completedAt)
              : delivery.nextAttemptAt !== null
                ? formatDateTime(delivery.nextAttemptAt)
                : '—'}
          </dd>
        </div>
      </dl>
    </section>
  );
}

function Attempts({ attempts }: { attempts: DeliveryAttempt[] }) {
  return (
    <section className="card section" aria-labelledby="attempts-title">
      <h2 id="attempts-title">Attempts</h2>
      {attempts.length === 0 ? (
        <p className="muted">No attempt yet: the first one is on its way.</p>
      ) : (
        <ol className="attempt-list" data-testid="attempts">
          {attempts.map((attempt) => (
            <li key={attempt.attempt} className="attempt">
              <h3>
                Attempt {attempt.attempt}
                {attempt.manual && <span className="badge badge-archived">by hand</span>}
              </h3>
              <dl className="facts facts-compact">
                <div className="fact">
                  <dt>Time</dt>
                  <dd>{formatDateTime(attempt.at)}</dd>
                </div>
                <div className="fact">
                  <dt>Duration</dt>
                  <dd>{attempt.durationMs === null ? '—' : `${attempt.durationMs} ms`}</dd>
                </div>
                <div className="fact">
                  <dt>Status code</dt>
                  <dd className="mono">{attempt.statusCode ?? 'No answer'}</dd>
                </div>
                {attempt.error !== null && (
                  <div className="fact">
                    <dt>Error</dt>
                    <dd>{attempt.error}</dd>
                  </div>
                )}
              </dl>
              {attempt.responseHead !== null && (
                <details>
                  <summary>Response head</summary>
                  <pre className="code code-block" tabIndex={0} aria-label={`Response head of attempt ${attempt.attempt}`}>
                    {attempt.responseHead}
                  </pre>
                </details>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
