import { useMutation, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import type { ReactNode } from 'react';
import { api } from '../api/client';
import { feedbackQuery, queryKeys } from '../api/queries';
import {
  FEEDBACK_STATUSES,
  type Feedback,
  type FeedbackStatus,
  type FeedbackSummary,
  type Page,
} from '../api/types';
import { BackToProjects, Crumbs } from '../components/crumbs';
import { ErrorNotice } from '../components/error-notice';
import { Rating } from '../components/rating';
import { StatusBadge } from '../components/status-badge';
import { formatDateTime, STATUS_LABELS } from '../lib/format';
import { usePageTitle } from '../lib/use-page-title';

const route = getRouteApi('/authenticated/orgs/$orgId/feedback/$feedbackId');

export function FeedbackPage() {
  const { orgId, feedbackId } = route.useParams();
  const feedback = useQuery(feedbackQuery(orgId, feedbackId));
  usePageTitle('Feedback');

  if (feedback.isPending) return <p className="muted">Loading feedback…</p>;
  if (feedback.isError) {
    return (
      <>
        <BackToProjects orgId={orgId} />
        <ErrorNotice
          error={feedback.error}
          notFound="This feedback does not exist, or you do not have access to it."
        />
      </>
    );
  }

  const item = feedback.data;
  return (
    <>
      <Crumbs>
        <Link to="/orgs/$orgId/projects/$projectId" params={{ orgId, projectId: item.projectId }}>
          ← Inbox
        </Link>
      </Crumbs>
      <div className="page-head">
        <div>
          <h1>Feedback</h1>
          <p className="muted">
            Received <time dateTime={item.createdAt}>{formatDateTime(item.createdAt)}</time>
          </p>
        </div>
      </div>

      <div className="detail-layout">
        <aside className="detail-side">
          <section className="card section" aria-labelledby="triage-title">
            <h2 id="triage-title">Triage</h2>
            <StatusControl orgId={orgId} feedback={item} />
          </section>
        </aside>
        <div className="detail-main">
          <section className="card section" aria-labelledby="message-title">
            <div className="message-head">
              <h2 id="message-title">Message</h2>
              <Rating value={item.rating} />
            </div>
            {item.message === '' ? (
              <p className="muted">No message.</p>
            ) : (
              <p className="message" data-testid="feedback-message">
                {item.message}
              </p>
            )}
          </section>

          <section className="card section" aria-labelledby="details-title">
            <h2 id="details-title">Details</h2>
            <dl className="facts" data-testid="feedback-details">
              <Fact label="Status">
                <StatusBadge status={item.status} />
              </Fact>
              <Fact label="Rating">{item.rating === null ? null : String(item.rating)}</Fact>
              <Fact label="Type">{item.type}</Fact>
              <Fact label="E-mail">{item.email}</Fact>
              {/* Attacker-controlled: shown as text, never as a link. */}
              <Fact label="Page URL" mono>
                {item.pageUrl}
              </Fact>
              <Fact label="Locale">{item.locale}</Fact>
              <Fact label="Viewport">
                {item.viewport === null ? null : `${item.viewport.width} × ${item.viewport.height}`}
              </Fact>
              <Fact label="User agent" mono>
                {item.userAgent}
              </Fact>
              <Fact label="IP address" mono>
                {item.ip}
              </Fact>
              <Fact label="Received">{formatDateTime(item.createdAt)}</Fact>
              <Fact label="Updated">{formatDateTime(item.updatedAt)}</Fact>
              <Fact label="Feedback ID" mono>
                {item.id}
              </Fact>
            </dl>
          </section>

          <section className="card section" aria-labelledby="custom-title">
            <h2 id="custom-title">Custom fields</h2>
            <CustomFields custom={item.custom} />
          </section>
        </div>
      </div>
    </>
  );
}

function Fact({ label, mono = false, children }: { label: string; mono?: boolean; children: ReactNode }) {
  const isEmpty = children === null || children === undefined || children === '';
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd className={mono && !isEmpty ? 'mono' : undefined}>
        {isEmpty ? <span className="muted">—</span> : children}
      </dd>
    </div>
  );
}

function CustomFields({ custom }: { custom: Record<string, string> }) {
  const entries = Object.entries(custom);
  if (entries.length === 0) return <p className="muted">None sent.</p>;
  return (
    <table className="table" data-testid="custom-fields">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row" className="mono">
              {key}
            </th>
            <td>{String(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function StatusControl({ orgId, feedback }: { orgId: string; feedback: Feedback }) {
  const queryClient = useQueryClient();
  const update = useMutation({
    mutationFn: (status: FeedbackStatus) => api.updateFeedbackStatus(orgId, feedback.id, status),
    onSuccess: (updated) => {
      queryClient.setQueryData(queryKeys.feedback(orgId, feedback.id), updated);
      // Show the new status in the inbox at once; the refetch below then
      // moves the item in or out of filtered views.
      queryClient.setQueriesData<InfiniteData<Page<FeedbackSummary>>>(
        { queryKey: queryKeys.feedbackList(orgId, updated.projectId) },
        (data) =>
          data && {
            ...data,
            pages: data.pages.map((page) => ({
              ...page,
              items: page.items.map((item) =>
                item.id === updated.id ? { ...item, status: updated.status } : item,
              ),
            })),
          },
      );
      void queryClient.invalidateQueries({
        queryKey: queryKeys.feedbackList(orgId, updated.projectId),
      });
    },
  });

  // Show the choice at once; fall back to the stored status if the change fails.
  const shown = update.isPending ? update.variables : feedback.status;

  return (
    <div className="status-control">
      <div className="field">
        <label htmlFor="feedback-status">Status</label>
        <select
          id="feedback-status"
          value={shown}
          aria-busy={update.isPending}
          onChange={(e) => update.mutate(e.target.value as FeedbackStatus)}
        >
          {FEEDBACK_STATUSES.map((status) => (
            <option key={status} value={status}>
              {STATUS_LABELS[status]}
            </option>
          ))}
        </select>
        <span className="save-status" role="status">
          {update.isPending ? 'Saving…' : update.isSuccess ? 'Saved' : ''}
        </span>
      </div>
      <ErrorNotice error={update.error} />
    </div>
  );
}
