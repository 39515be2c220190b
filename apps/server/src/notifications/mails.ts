import type { Mail } from '../mail/mailer.js';

// The notification mails (new feedback, the daily digest, a webhook that
// keeps failing). Plain text only, so nothing a reporter wrote is
// ever rendered as HTML. They carry what the team reads in the inbox
// (project, type, rating, message) and never the reporter's personal data
// (e-mail, IP address, browser, identity, custom fields, page address): that
// stays behind the dashboard, where each read is audited.

/** Characters of a message in an instant mail, and of each message in a digest. */
export const INSTANT_MESSAGE_CHARS = 1_000;
export const DIGEST_MESSAGE_CHARS = 200;
/** The newest messages listed per project in a digest. */
export const DIGEST_ITEMS = 10;

/**
 * One line of at most `max` characters. For subjects this is the header
 * injection guard (ASVS 1.3): CR, LF and every other control or line
 * separator character become a space.
 */
// eslint-disable-next-line no-control-regex
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
export function oneLine(text: string, max: number): string {
  const line = text.replace(LINE_BREAKING, ' ').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1).trimEnd()}…` : line;
}

function truncated(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (shortened; the whole message is in Parley)` : text;
}

export type FeedbackSummary = { id: string; type: string | null; rating: number | null; ratingScale: string | null; message: string };

/** "4/5 stars", "thumbs up", "9/10 (NPS)"; null without a rating. */
export function describeRating(rating: number | null, scale: string | null): string | null {
  if (rating === null) return null;
  if (scale === 'thumbs') return rating > 0 ? 'thumbs up' : 'thumbs down';
  if (scale === 'nps') return `${rating}/10 (NPS)`;
  if (scale === 'emoji') return `${rating}/5 (emoji)`;
  return `${rating}/5 stars`;
}

/** "bug, 4/5 stars", or "" when the feedback has neither. */
function describeKind(item: FeedbackSummary): string {
  return [item.type, describeRating(item.rating, item.ratingScale)].filter(Boolean).join(', ');
}

export type Links = { feedback(orgId: string, feedbackId: string): string; project(orgId: string, projectId: string): string; settings: string };

/** Links into the dashboard at PARLEY_PUBLIC_URL. */
export function dashboardLinks(publicUrl: URL): Links {
  const base = publicUrl.origin;
  return {
    feedback: (orgId, feedbackId) => `${base}/orgs/${orgId}/feedback/${feedbackId}`,
    project: (orgId, projectId) => `${base}/orgs/${orgId}/projects/${projectId}`,
    settings: `${base}/account/notifications`,
  };
}

const whyYouGetThis = (links: Links, what: string) =>
  `You get this e-mail because you chose ${what} in Parley. To change that, or to stop these e-mails: ${links.settings}\n`;

export function instantMail(to: string, links: Links, org: { id: string; name: string }, project: { name: string }, item: FeedbackSummary): Mail {
  const kind = describeKind(item);
  return {
    to,
    subject: oneLine(`New feedback in ${project.name}: ${item.message}`, 120),
    text:
      `New feedback arrived in ${oneLine(project.name, 100)} (${oneLine(org.name, 100)}).\n\n` +
      (item.type ? `Type: ${item.type}\n` : '') +
      (item.rating !== null ? `Rating: ${describeRating(item.rating, item.ratingScale)}\n` : '') +
      `${kind ? '\n' : ''}Message, as the reporter wrote it:\n\n${truncated(item.message, INSTANT_MESSAGE_CHARS)}\n\n` +
      `Open it in Parley: ${links.feedback(org.id, item.id)}\n\n` +
      whyYouGetThis(links, `"every new feedback" for ${oneLine(project.name, 100)}`),
  };
}

export type DigestProject = { id: string; name: string; count: number; newest: FeedbackSummary[] };

const utc = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function digestMail(to: string, links: Links, org: { id: string; name: string }, window: { from: Date; to: Date }, projects: DigestProject[]): Mail {
  const total = projects.reduce((sum, p) => sum + p.count, 0);
  const sections = projects.map((project) => {
    const lines = project.newest.map((item) => {
      const kind = describeKind(item);
      return `  - ${kind ? `[${kind}] ` : ''}${oneLine(item.message, DIGEST_MESSAGE_CHARS)}\n    ${links.feedback(org.id, item.id)}`;
    });
    const more = project.count - project.newest.length;
    if (more > 0) lines.push(`  … and ${more} more: ${links.project(org.id, project.id)}`);
    return `${oneLine(project.name, 100)}: ${project.count} new\n${lines.join('\n')}`;
  });
  return {
    to,
    subject: oneLine(`Parley daily digest for ${org.name}: ${total} new feedback`, 120),
    text:
      `New feedback in ${oneLine(org.name, 100)} from ${utc(window.from)} to ${utc(window.to)}, newest first.\n\n` +
      `${sections.join('\n\n')}\n\n` +
      whyYouGetThis(links, 'a daily digest for these projects'),
  };
}

export type WebhookFailure = {
  orgName: string;
  /** The webhook URL's origin: its path and query may be a credential. */
  origin: string;
  description: string;
  eventType: string;
  deliveryId: string;
  attempts: number;
  lastAt: Date;
  lastError: string;
  /** The webhook's delivery log in the dashboard. */
  logLink: string;
};

/** To the webhook's creator (else the owners) when a delivery has failed for good. */
export function webhookFailingMail(to: string, failure: WebhookFailure): Mail {
  return {
    to,
    subject: oneLine(`Webhook deliveries to ${new URL(failure.origin).host} are failing`, 120),
    text: [
      `Parley tried for 24 hours to deliver a ${failure.eventType} event to a webhook of ${oneLine(failure.orgName, 100)} and has given up.`,
      '',
      `Webhook: ${failure.origin}${failure.description ? ` (${oneLine(failure.description, 200)})` : ''}`,
      `Delivery: ${failure.deliveryId}`,
      `Attempts: ${failure.attempts}, the last at ${failure.lastAt.toISOString()}: ${oneLine(failure.lastError, 300)}`,
      '',
      'Check that the receiver is up and answers 2xx, then redeliver from the delivery log:',
      failure.logLink,
      '',
      'You get this mail at most once a day per webhook, however many deliveries fail.',
      '',
    ].join('\n'),
  };
}
