import { useMutation, useQuery, useQueryClient, type InfiniteData, type UseQueryResult } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useState, type ReactNode } from 'react';
import { api, isApiError, screenshotUrl } from '../api/client';
import { feedbackQuery, queryKeys, reporterQuery } from '../api/queries';
import {
  FEEDBACK_STATUSES,
  type ConsoleError,
  type Feedback,
  type FeedbackPage as FeedbackListPage,
  type FeedbackStatus,
  type Reporter as ReporterData,
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
  // A separate read, recorded in the audit log: personal data of the reporter.
  const reporter = useQuery(reporterQuery(orgId, feedbackId));
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
  const who = reporter.data;
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
          <section className="card section" aria-labelledby="reporter-title">
            <h2 id="reporter-title">Reporter</h2>
            <ReporterState reporter={reporter}>{(data) => <Reporter reporter={data} />}</ReporterState>
          </section>
        </aside>
        <div className="detail-main">
          <section className="card section" aria-labelledby="message-title">
            <div className="message-head">
              <h2 id="message-title">Message</h2>
              <Rating value={item.rating} scale={item.ratingScale} />
            </div>
            {item.message === '' ? (
              <p className="muted">No message.</p>
            ) : (
              <p className="message" data-testid="feedback-message">
                {item.message}
              </p>
            )}
          </section>

          {item.hasScreenshot && <Screenshot orgId={orgId} feedbackId={item.id} />}

          <section className="card section" aria-labelledby="details-title">
            <h2 id="details-title">Details</h2>
            <dl className="facts" data-testid="feedback-details">
              <Fact label="Status">
                <StatusBadge status={item.status} />
              </Fact>
              <Fact label="Rating">{item.rating === null ? null : String(item.rating)}</Fact>
              <Fact label="Type">{item.type}</Fact>
              <Fact label="E-mail">{who?.email}</Fact>
              <Fact label="Consent">{who && consentLabel(who.consent)}</Fact>
              {/* Attacker-controlled: shown as text, never as a link. */}
              <Fact label="Page URL" mono>
                {item.pageUrl}
              </Fact>
              <Fact label="Locale">{item.locale}</Fact>
              <Fact label="Viewport">
                {item.viewport === null ? null : `${item.viewport.width} × ${item.viewport.height}`}
              </Fact>
              <Fact label="Browser">{who?.browser}</Fact>
              <Fact label="OS">{who?.os}</Fact>
              <Fact label="User agent" mono>
                {who?.userAgent}
              </Fact>
              <Fact label="IP address" mono>
                {who?.ip}
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
            <ReporterState reporter={reporter}>
              {(data) => <KeyValueTable entries={Object.entries(data.custom)} keyLabel="Field" testId="custom-fields" />}
            </ReporterState>
          </section>

          <section className="card section" aria-labelledby="metadata-title">
            <h2 id="metadata-title">Metadata</h2>
            <ReporterState reporter={reporter}>
              {(data) => <KeyValueTable entries={Object.entries(data.metadata)} keyLabel="Key" testId="metadata" />}
            </ReporterState>
          </section>

          <section className="card section" aria-labelledby="console-title">
            <h2 id="console-title">
              Console errors{who && who.consoleErrors.length > 0 && <span className="count">{who.consoleErrors.length}</span>}
            </h2>
            <ReporterState reporter={reporter}>{(data) => <ConsoleErrors errors={data.consoleErrors} />}</ReporterState>
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

function consentLabel(consent: boolean | null): string {
  if (consent === null) return 'Not asked';
  return consent ? 'Given' : 'Not given';
}

/** A part of the page drawn from the reporter's data, once it has loaded. */
function ReporterState({ reporter, children }: { reporter: UseQueryResult<ReporterData>; children: (data: ReporterData) => ReactNode }) {
  if (reporter.isPending) return <p className="muted">Loading…</p>;
  if (reporter.isError) return <ErrorNotice error={reporter.error} />;
  return children(reporter.data);
}

/** Who sent it, as the page told the widget; "verified" only when the id was signed with the project's secret. */
function Reporter({ reporter }: { reporter: ReporterData }) {
  const { identity } = reporter;
  if (identity === null) {
    return (
      <p className="muted" data-testid="reporter">
        Not identified by the page.
      </p>
    );
  }
  return (
    <div data-testid="reporter">
      <p className="reporter-badge">
        {identity.verified ? (
          <span className="badge badge-verified" data-testid="identity-verified">
            ✓ Verified
          </span>
        ) : (
          <span className="badge badge-archived" title="The page named this user without a valid signature">
            Not verified
          </span>
        )}
      </p>
      <dl className="facts facts-compact">
        <Fact label="User ID" mono>
          {identity.id}
        </Fact>
        <Fact label="Name">{identity.name}</Fact>
        <Fact label="User e-mail">{identity.email}</Fact>
      </dl>
      {!identity.verified && (
        <p className="hint">Unsigned: anyone on the page could have set these values.</p>
      )}
    </div>
  );
}

/** The screenshot, loaded from the API on the same origin (the session cookie goes along). */
function Screenshot({ orgId, feedbackId }: { orgId: string; feedbackId: string }) {
  const [hasFailed, setFailed] = useState(false);
  const src = screenshotUrl(orgId, feedbackId);
  return (
    <section className="card section" aria-labelledby="screenshot-title">
      <h2 id="screenshot-title">Screenshot</h2>
      {hasFailed ? (
        <p className="notice notice-error" role="alert">
          The screenshot could not be loaded.
        </p>
      ) : (
        <>
          <a href={src} target="_blank" rel="noopener noreferrer" className="screenshot-link" data-testid="screenshot-link">
            <img
              src={src}
              alt="Screenshot sent with this feedback"
              className="screenshot"
              loading="lazy"
              onError={() => setFailed(true)}
            />
          </a>
          <p className="hint">Select the image to open it full size in a new tab.</p>
        </>
      )}
    </section>
  );
}

/** Sent key/value pairs (metadata, custom fields) as a table; non-text values in monospace. */
function KeyValueTable({ entries, keyLabel, testId }: { entries: [string, string | number | boolean][]; keyLabel: string; testId: string }) {
  if (entries.length === 0) return <p className="muted">None sent.</p>;
  return (
    <table className="table" data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">{keyLabel}</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row" className="mono">
              {key}
            </th>
            <td className={typeof value === 'string' ? undefined : 'mono'}>{String(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ConsoleErrors({ errors }: { errors: ConsoleError[] }) {
  if (errors.length === 0) return <p className="muted">None sent.</p>;
  return (
    <ol className="console-errors" data-testid="console-errors">
      {errors.map((error, index) => (
        <li key={index}>
          <details>
            <summary>
              <span className="mono">{error.message}</span>
            </summary>
            {error.stack === null || error.stack === '' ? (
              <p className="muted">No stack trace.</p>
            ) : (
              <pre className="code stack">{error.stack}</pre>
            )}
          </details>
        </li>
      ))}
    </ol>
  );
}

function StatusControl({ orgId, feedback }: { orgId: string; feedback: Feedback }) {
  const queryClient = useQueryClient();
  const update = useMutation({
    mutationFn: (status: FeedbackStatus) => api.updateFeedbackStatus(orgId, feedback.id, status, feedback.version),
    onSuccess: (updated) => {
      queryClient.setQueryData(queryKeys.feedback(orgId, feedback.id), updated);
      // Show the new status in the inbox at once; the refetch below then
      // moves the item in or out of filtered views.
      queryClient.setQueriesData<InfiniteData<FeedbackListPage>>(
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
    // Someone else changed it since this page read it: show their version (the notice says why).
    onError: (error) => {
      if (isApiError(error, 'precondition_failed')) {
        void queryClient.invalidateQueries({ queryKey: queryKeys.feedback(orgId, feedback.id), exact: true });
      }
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
