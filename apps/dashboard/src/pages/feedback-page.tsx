import { useQuery } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { feedbackQuery, projectQuery } from '../api/queries';
import type { Feedback } from '../api/types';
import { BackToProjects, Crumbs } from '../components/crumbs';
import { ErrorNotice } from '../components/error-notice';
import { Rating } from '../components/rating';
import { StatusBadge } from '../components/status-badge';
import { formatDateTime } from '../lib/format';
import { usePageTitle } from '../lib/use-page-title';
import { feedbackTypeLabel } from '../lib/widget-settings';
import { Fact } from './feedback/fact';
import { Notes } from './feedback/notes';
import { ReporterDetails, Screenshot } from './feedback/reporter-details';
import { TriagePanel } from './feedback/triage-panel';

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
        <ErrorNotice error={feedback.error} notFound="This feedback does not exist, or you do not have access to it." />
      </>
    );
  }

  const item = feedback.data;
  // Keyed by the feedback: moving to another one closes what was revealed of this one.
  return <FeedbackDetail key={item.id} orgId={orgId} item={item} />;
}

function FeedbackDetail({ orgId, item }: { orgId: string; item: Feedback }) {
  // The project names the feedback types; the page works without it.
  const project = useQuery(projectQuery(orgId, item.projectId));
  const types = project.data?.settings.types ?? [];
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
            {project.data && <>{project.data.name} · </>}
            Received <time dateTime={item.createdAt}>{formatDateTime(item.createdAt)}</time>
          </p>
        </div>
      </div>

      <div className="detail-layout">
        <aside className="detail-side" aria-label="Triage">
          <TriagePanel orgId={orgId} feedback={item} />
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

          <Notes orgId={orgId} feedback={item} />

          {item.hasScreenshot && <Screenshot orgId={orgId} feedbackId={item.id} />}

          <section className="card section" aria-labelledby="details-title">
            <h2 id="details-title">Details</h2>
            <dl className="facts" data-testid="feedback-details">
              <Fact label="Status">
                <StatusBadge status={item.status} />
              </Fact>
              <Fact label="Rating">{item.rating === null ? null : String(item.rating)}</Fact>
              <Fact label="Type">{item.type === null ? null : feedbackTypeLabel(types, item.type)}</Fact>
              {/* Attacker-controlled: shown as text, never as a link. */}
              <Fact label="Page URL" mono>
                {item.pageUrl}
              </Fact>
              <Fact label="Locale">{item.locale}</Fact>
              <Fact label="Viewport">{item.viewport === null ? null : `${item.viewport.width} × ${item.viewport.height}`}</Fact>
              <Fact label="Identity">{identityLabel(item.identityVerified)}</Fact>
              <Fact label="Received">{formatDateTime(item.createdAt)}</Fact>
              <Fact label="Updated">{formatDateTime(item.updatedAt)}</Fact>
              <Fact label="Feedback ID" mono>
                {item.id}
              </Fact>
            </dl>
          </section>

          <ReporterDetails orgId={orgId} feedbackId={item.id} />
        </div>
      </div>
    </>
  );
}

function identityLabel(isVerified: boolean | null): string {
  if (isVerified === null) return 'Not identified by the page';
  return isVerified ? 'Identified, signed by your site' : 'Identified, not signed';
}
