// What a delivery sends and where its secrets live, shared by the routes'
// service and the delivery queue.

/** The NOTIFY channel that wakes every instance's delivery queue. */
export const WEBHOOKS_CHANNEL = 'parley_webhooks';

/** The body of every attempt of a delivery (Standard Webhooks: type, timestamp, data). */
export function payloadOf(event: { type: string; createdAt: Date; data: Record<string, unknown> }) {
  return { type: event.type, timestamp: event.createdAt.toISOString(), data: event.data };
}

/** Where a webhook's sealed secrets are, for the keyring: the current one, and the one a rotation keeps signing for a while. */
export const secretField = (orgId: string, webhookId: string, column: 'secret' | 'previous_secret') => ({ orgId, table: 'webhooks', column, rowId: webhookId });

/** The origin of a URL: what the audit log and e-mails name (its path and query may be a credential, as in chat tools' webhook URLs). */
export const originOf = (url: string) => new URL(url).origin;
