import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerAccount, webhookTestDelivery, type Account } from '../../../../test/factories.js';
import { refusedUnchanged } from '../../../../test/route-sweep.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../../test/webhook-receiver.js';
import { EVENT_TYPES } from '../events/service.js';
import { createWebhook } from './service.js';

// SECURITY.md attack case 21: webhooks aimed at the server's own network.
// Canary receivers listen on 127.0.0.1 and ::1 of a server whose operator
// allows only 127.0.0.2 (where an "allowed receiver" lives). Every internal
// target is refused when saved (400 webhook_url_invalid, nothing stored) and,
// for rows that got past that check (saved under an allowlist since
// narrowed, or a name that resolves inward), again when connecting: the
// attempt fails and the canaries never see a connection.

let server: TestServer;
let owner: Account;
let canary: WebhookReceiver;
let canary6: WebhookReceiver | undefined;
let allowed: WebhookReceiver;

beforeAll(async () => {
  server = await startTestServer({ PARLEY_WEBHOOK_ALLOW_HTTP: 'true', PARLEY_WEBHOOK_ALLOWED_RANGES: '127.0.0.2' });
  owner = await ownerAccount(server);
  canary = await startWebhookReceiver({ host: '127.0.0.1' });
  // Machines without IPv6 on loopback skip the ::1 canary; [::1] is still refused before connecting.
  canary6 = await startWebhookReceiver({ host: '::1' }).catch(() => undefined);
  allowed = await startWebhookReceiver({ host: '127.0.0.2' });
});
afterAll(async () => {
  await server.close();
  for (const receiver of [canary, canary6, allowed]) await receiver?.close();
});

const port = () => new URL(canary.url).port;
const port6 = () => (canary6 ? new URL(canary6.url).port : port());

const canariesHeardNothing = () => {
  expect(canary.connections).toBe(0);
  expect(canary6?.connections ?? 0).toBe(0);
};

/** Internal targets in the spellings an attacker might try, and what the refusal names. */
const TARGETS: [what: string, url: () => string, refusal: RegExp][] = [
  ['127.0.0.1', () => `http://127.0.0.1:${port()}/hook`, /127\.0\.0\.1, a loopback address/],
  ['[::1]', () => `http://[::1]:${port6()}/hook`, /::1, a loopback address/],
  ['0.0.0.0 (reaches loopback on Linux)', () => `http://0.0.0.0:${port()}/hook`, /0\.0\.0\.0, the unspecified address/],
  ['169.254.169.254 (cloud metadata)', () => 'http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254, a link-local address/],
  ['10.0.0.1', () => 'http://10.0.0.1/hook', /10\.0\.0\.1, a private address/],
  ['decimal 2130706433', () => `http://2130706433:${port()}/hook`, /127\.0\.0\.1, a loopback address/],
  ['hexadecimal 0x7f000001', () => `http://0x7f000001:${port()}/hook`, /127\.0\.0\.1, a loopback address/],
  ['octal 0177.0.0.1', () => `http://0177.0.0.1:${port()}/hook`, /127\.0\.0\.1, a loopback address/],
  ['short 127.1', () => `http://127.1:${port()}/hook`, /127\.0\.0\.1, a loopback address/],
  ['IPv4-mapped IPv6 [::ffff:127.0.0.1]', () => `http://[::ffff:127.0.0.1]:${port()}/hook`, /::ffff:7f00:1, a loopback address \(IPv4-mapped IPv6\)/],
  ['NAT64 of the metadata address', () => 'http://[64:ff9b::a9fe:a9fe]/hook', /a link-local address .* \(NAT64\)/],
];

describe('saving a webhook', () => {
  it.each(TARGETS)('refuses %s (400 webhook_url_invalid, nothing stored)', async (_, url, refusal) => {
    const reply = await refusedUnchanged(
      server,
      () => server.request('POST', `/api/v1/orgs/${owner.orgId}/webhooks`, { cookie: owner.cookie, body: { url: url(), events: ['feedback.created'] } }),
      400,
      'webhook_url_invalid',
    );
    expect(reply.body.detail).toMatch(refusal);
    expect(reply.body.detail).toMatch(/PARLEY_WEBHOOK_ALLOWED_RANGES/);
    canariesHeardNothing();
  });
});

describe('connecting', () => {
  /** A webhook stored without the save-time check, as if saved while the operator allowed its address. */
  async function storedAnyway(url: string): Promise<string> {
    const caller = { actor: { type: 'system' as const }, userId: owner.userId, scope: null };
    const { webhook } = await createWebhook(server.ctx.db.app, server.ctx.keyring, { targetProblem: () => null }, owner.orgId, caller, { url, description: '', events: [...EVENT_TYPES], projectId: null, enabled: true }, server.clock.now());
    return webhook.id;
  }

  /** The one attempt of a test event's delivery to the webhook. */
  async function attemptOf(webhookId: string): Promise<{ error: string | null; status_code: number | null }> {
    const deliveryId = await webhookTestDelivery(server, owner, webhookId);
    const { rows } = await server.db.superuser.query('SELECT error, status_code FROM webhook_attempts WHERE delivery_id = $1', [deliveryId]);
    expect(rows).toHaveLength(1);
    return rows[0];
  }

  it.each(TARGETS)('refuses %s again when the attempt is made; the canaries hear nothing', async (_, url, refusal) => {
    const { error, status_code } = await attemptOf(await storedAnyway(url()));
    expect(status_code).toBeNull();
    expect(error).toMatch(/^Not sent: The URL points to /);
    expect(error).toMatch(refusal);
    canariesHeardNothing();
  });

  it('accepts a name when saved, and refuses it when it resolves to loopback at connect time (localhost)', async () => {
    const saved = await server.request('POST', `/api/v1/orgs/${owner.orgId}/webhooks`, { cookie: owner.cookie, body: { url: `http://localhost:${port()}/hook`, events: ['member.added'] } });
    expect(saved.status).toBe(201);
    expect(await attemptOf(saved.body.webhook.id)).toEqual({ status_code: null, error: expect.stringMatching(/^Not sent: localhost resolves to (127\.0\.0\.1|::1), a loopback address\./) });
    canariesHeardNothing();
  });

  it('delivers to an address the operator allows (127.0.0.2), and follows none of its redirects to loopback', async () => {
    const id = await storedAnyway(`${allowed.url}/hop`);
    expect(await attemptOf(id)).toEqual({ status_code: 204, error: null });
    expect(allowed.received).toHaveLength(1);

    allowed.answer = () => ({ status: 302, headers: { location: `${canary.url}/hook` } });
    expect(await attemptOf(id)).toEqual({ status_code: 302, error: `Redirect not followed (to ${canary.url}/hook): give the final URL.` });
    expect(allowed.received).toHaveLength(2);
    canariesHeardNothing();
  });
});

describe('a server that sends over HTTPS only (the default)', () => {
  let strict: TestServer;
  let account: Account;
  beforeAll(async () => {
    strict = await startTestServer();
    account = await ownerAccount(strict);
  });
  afterAll(() => strict.close());

  it('refuses an http:// URL when saved, and an http:// row when sending', async () => {
    const reply = await refusedUnchanged(
      strict,
      () => strict.request('POST', `/api/v1/orgs/${account.orgId}/webhooks`, { cookie: account.cookie, body: { url: 'http://hooks.example.com/parley', events: ['feedback.created'] } }),
      400,
      'webhook_url_invalid',
    );
    expect(reply.body.detail).toBe('The URL must start with https://: this server sends webhooks over HTTPS only (its operator can allow http:// with PARLEY_WEBHOOK_ALLOW_HTTP).');

    const caller = { actor: { type: 'system' as const }, userId: account.userId, scope: null };
    const { webhook } = await createWebhook(strict.ctx.db.app, strict.ctx.keyring, { targetProblem: () => null }, account.orgId, caller, { url: `http://localhost:${port()}/`, description: '', events: ['member.added'], projectId: null, enabled: true }, strict.clock.now());
    const deliveryId = await webhookTestDelivery(strict, account, webhook.id);
    const { rows } = await strict.db.superuser.query('SELECT error FROM webhook_attempts WHERE delivery_id = $1', [deliveryId]);
    expect(rows).toEqual([{ error: expect.stringMatching(/^Not sent: The URL must start with https:\/\//) }]);
    canariesHeardNothing();
  });
});
