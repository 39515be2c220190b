import { EVENT_TYPES } from '../events/service.js';
import { TEST_EVENT_TYPE } from './service.js';

// The OpenAPI 3.1 `webhooks` of the document: what Parley POSTs to a
// webhook's URL, one entry per event type, so generated clients and the
// reference page describe the receiving side too (docs/api.md "Webhooks").

const DATA: Record<string, string> = {
  feedback: 'The feedback item as the inbox shows it (id, projectId, status, rating, ratingScale, type, message, pageUrl, locale, assigneeId, labelIds, hasScreenshot, createdAt, updatedAt); never the reporter\'s personal data.',
  'feedback.updated': 'The item as for feedback.created, and `changes`: the members that changed (status and assigneeId as { from, to }, labelIds as { added, removed }).',
  'feedback.deleted': '`id` and `projectId` of the deleted item.',
  'feedback.note_added': '`feedbackId`, `projectId` and `note` ({ id, body, authorId, createdAt }).',
  project: 'The project: `id`, `name`, `domains` (project.updated adds `changes`, the names of what changed; no keys or secrets).',
  member: 'The member: `userId`, `role`, `projectIds` (null: every project). Organization-wide webhooks only.',
  [TEST_EVENT_TYPE]: '`webhookId` and a `message`: sent by "Send test event", to one webhook.',
};

const HEADERS = [
  ['webhook-id', 'The delivery id: the same on every attempt. Deduplicate on it.'],
  ['webhook-timestamp', 'When this attempt was made, in Unix seconds: refuse messages more than 5 minutes from your clock.'],
  ['webhook-signature', 'Space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>`, one per signing secret (two during a rotation).'],
] as const;

function entry(type: string) {
  const data = DATA[type] ?? DATA[type.split('.')[0]!]!;
  return {
    post: {
      summary: `${type} event`,
      description: 'Signed by the Standard Webhooks scheme with the webhook\'s secret. Answer 2xx within the deadline (10 s by default); anything else is retried with backoff for 24 hours.',
      tags: ['Webhooks'],
      parameters: HEADERS.map(([name, description]) => ({ name, in: 'header' as const, required: true, description, schema: { type: 'string' as const } })),
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object' as const,
              required: ['type', 'timestamp', 'data'],
              properties: {
                type: { type: 'string' as const, const: type },
                timestamp: { type: 'string' as const, format: 'date-time', description: 'When the event happened.' },
                data: { type: 'object' as const, additionalProperties: true, description: data },
              },
            },
          },
        },
      },
      responses: { '2XX': { description: 'Received; the delivery succeeded.' } },
    },
  };
}

/** One entry per event type a webhook can receive. */
export function webhookEventsDocument(): Record<string, ReturnType<typeof entry>> {
  return Object.fromEntries([...EVENT_TYPES, TEST_EVENT_TYPE].map((type) => [type, entry(type)]));
}
