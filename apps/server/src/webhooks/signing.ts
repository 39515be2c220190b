import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

// Standard Webhooks (https://www.standardwebhooks.com): the receiver checks
// `webhook-signature`, an HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>`
// under the shared secret, and refuses old timestamps (replays). Signing is
// the reference library's, so any Standard Webhooks verifier accepts it.

/** A new secret in the spec's format: `whsec_` and 32 random bytes in base64 (the spec asks for 24 to 64). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * The three Standard Webhooks headers of one attempt. The signature header
 * holds one `v1,<signature>` per secret, separated by spaces, so during a
 * rotation's overlap receivers holding either secret accept the message.
 */
export function signedHeaders(secrets: string[], id: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' '),
  };
}
