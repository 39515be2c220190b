import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { createApiKey, type NewApiKey } from '../apps/server/src/apikeys/service.js';
import { API_SCOPES, hasPermission } from '../apps/server/src/auth/permissions.js';
import { withTenant } from '../apps/server/src/db/tenant.js';
import { addMember, findMembership, newOrganizationId, type Role } from '../apps/server/src/orgs/service.js';
import { createProject, updateProject, withDefaults, type Project } from '../apps/server/src/projects/service.js';
import type { ProtectionSettings } from '../apps/server/src/projects/protection.js';
import type { WidgetSettings } from '../apps/server/src/projects/widget-settings.js';
import { createOwner } from '../apps/server/src/setup/service.js';
import { createUser } from '../apps/server/src/users/service.js';
import { EVENT_TYPES } from '../apps/server/src/events/service.js';
import { WebhookClient } from '../apps/server/src/webhooks/outbound.js';
import { createWebhook, sendTestEvent, type NewWebhook } from '../apps/server/src/webhooks/service.js';
import { solvedPayload } from './pow.js';
import { sessionCookie, type TestServer } from './server.js';

export const PASSWORD = 'a long enough test password';

const unique = () => randomBytes(4).toString('hex');

export type Account = { userId: string; email: string; orgId: string; cookie: string };

/** A new organization with its owner, logged in. */
export async function ownerAccount(server: TestServer, org = `Org ${unique()}`): Promise<Account> {
  const { db, keyring, clock } = server.ctx;
  const orgId = newOrganizationId();
  const email = `owner-${unique()}@example.test`;
  const user = await withTenant(db.app, orgId, (tx) =>
    createOwner(tx, keyring, orgId, org, { email, name: 'Owner', password: PASSWORD }, () => ({ type: 'system' }), clock.now()),
  );
  return { userId: user.id, email, orgId, cookie: await logIn(server, email) };
}

/** Another user with `role` in an existing organization (limited to `projectIds` when given), logged in. */
export async function memberAccount(server: TestServer, orgId: string, role: Role, projectIds: string[] | null = null): Promise<Account> {
  const { db, clock } = server.ctx;
  const email = `${role}-${unique()}@example.test`;
  const user = await withTenant(db.app, orgId, async (tx) => {
    const created = await createUser(tx, { email, name: role, password: PASSWORD }, clock.now());
    await addMember(tx, orgId, created.id, role, { type: 'system' }, clock.now());
    await tx.query('UPDATE memberships SET project_ids = $3 WHERE org_id = $1 AND user_id = $2', [orgId, created.id, projectIds]);
    return created;
  });
  return { userId: user.id, email, orgId, cookie: await logIn(server, email) };
}

/**
 * An API key created by `account` through the service (as the dashboard
 * would, minus re-authentication): every scope the account's role allows, no
 * limits, no expiry, unless `options` say otherwise.
 */
export async function apiKey(server: TestServer, account: Account, options: Partial<NewApiKey> = {}): Promise<{ id: string; token: string }> {
  const { db, keyring, clock } = server.ctx;
  const member = await findMembership(db.app, account.userId, account.orgId);
  if (!member) throw new Error(`${account.email} is not a member of ${account.orgId}`);
  const creator = { userId: account.userId, actor: { type: 'user' as const, id: account.userId, label: account.email } };
  const input = { name: `Key ${unique()}`, scopes: API_SCOPES.filter((s) => hasPermission(member.role, s)), projectIds: null, allowedIps: [], expiresAt: null, ...options };
  const { key, token } = await createApiKey(db.app, keyring, account.orgId, creator, input, clock.now());
  return { id: key.id, token };
}

/** The header that sends an API key. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function logIn(server: TestServer, email: string, password = PASSWORD): Promise<string> {
  const reply = await server.request('POST', '/api/v1/auth/login', { body: { email, password } });
  return sessionCookie(reply);
}

/** A project allowing `domains`, with widget settings over the defaults. */
export async function project(server: TestServer, orgId: string, domains = ['example.com'], settings: Partial<WidgetSettings> = {}): Promise<Project> {
  const { db, clock } = server.ctx;
  const created = await createProject(db.app, orgId, { name: `Project ${unique()}`, domains }, { type: 'system' }, clock.now());
  if (Object.keys(settings).length === 0) return created;
  return updateProject(db.app, { orgId, projectId: created.id, scope: null }, { settings: withDefaults(settings) }, undefined, { type: 'system' }, clock.now());
}

/** Settings asking for a feedback type and two custom fields, for tests that send them. */
export const RICH_SETTINGS: Partial<WidgetSettings> = {
  types: [{ id: 'bug', label: '' }, { id: 'idea', label: '' }],
  customFields: [
    { id: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'], required: false },
    { id: 'note', label: 'Note', type: 'text', options: [], required: false },
  ],
};

/**
 * A widget submission as the widget on `origin` sends it: a new visitor
 * (reporter) each time, after a human's pause, with the project's proof of
 * work solved when it asks for one. Fields in `body` win; `from` picks the
 * local address it is sent from (another client).
 */
export async function submit(server: TestServer, key: string, body: object, origin = 'https://example.com', headers: Record<string, string> = {}, from?: string) {
  const all = { origin, ...headers };
  const challenge = await server.rawRequest('GET', `/api/widget/v1/projects/${key}/challenge`, { headers: all, from });
  const proof = challenge.status === 200 ? { challenge: solvedPayload(challenge.body) } : {};
  const widget = { reporter: randomBytes(16).toString('base64url'), elapsedMs: 60_000, ...proof };
  return server.rawRequest('POST', `/api/widget/v1/projects/${key}/feedback`, { body: { ...widget, ...body }, headers: all, from });
}

/** A submission with exactly `body`: what a script that skips the widget sends. */
export function submitRaw(server: TestServer, key: string, body: unknown, origin = 'https://example.com', headers: Record<string, string> = {}) {
  return server.rawRequest('POST', `/api/widget/v1/projects/${key}/feedback`, { body, headers: { origin, ...headers } });
}

/**
 * One feedback row sent through the widget, with a screenshot attached (the
 * project must allow screenshots and example.com). Returns the feedback id.
 */
export async function feedbackWithScreenshot(server: TestServer, p: Project, message = 'with a picture'): Promise<string> {
  const image = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3366cc' } }).png().toBuffer();
  const shot = await server.rawRequest('POST', `/api/widget/v1/projects/${p.key}/screenshots`, {
    raw: image as unknown as string,
    headers: { origin: 'https://example.com', 'content-type': 'image/png' },
  });
  if (shot.status !== 201) throw new Error(`screenshot upload: ${shot.status} ${shot.text}`);
  const sent = await submit(server, p.key, { message, screenshotId: shot.body.id });
  if (sent.status !== 201) throw new Error(`feedback: ${sent.status} ${sent.text}`);
  return sent.body.id as string;
}

/** A webhook made by `account` through the service (as the API does, minus re-authentication): every event type of the whole organization unless `options` say otherwise. */
export async function webhook(server: TestServer, account: Account, options: Partial<NewWebhook> & { url: string }): Promise<{ id: string; secret: string }> {
  const { db, keyring, clock, config } = server.ctx;
  const caller = { actor: { type: 'user' as const, id: account.userId, label: account.email }, userId: account.userId, scope: null };
  const input = { description: '', events: [...EVENT_TYPES], projectId: null, enabled: true, ...options };
  const { webhook: created, secret } = await createWebhook(db.app, keyring, new WebhookClient(config.webhooks), account.orgId, caller, input, clock.now());
  return { id: created.id, secret };
}

/** A test event's delivery to a webhook, after its first attempt (a disabled webhook's is not retried); returns the delivery id. */
export async function webhookTestDelivery(server: TestServer, account: Account, webhookId: string): Promise<string> {
  const caller = { actor: { type: 'user' as const, id: account.userId, label: account.email }, userId: account.userId, scope: null };
  const delivery = await sendTestEvent(server.ctx.db.app, account.orgId, webhookId, caller, server.clock.now());
  await server.jobsDone();
  return delivery.id;
}

/** Widget settings that accept screenshots. */
export const SCREENSHOTS_ON: Partial<WidgetSettings> = { screenshot: { enabled: true, mode: 'dom' } };

export async function countRows(server: TestServer, table: string): Promise<number> {
  const { rows } = await server.db.superuser.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(rows[0]!.n);
}

type ProtectionPatch = { [K in keyof ProtectionSettings]?: ProtectionSettings[K] extends object ? Partial<ProtectionSettings[K]> : ProtectionSettings[K] };

/** Changes some of a project's protection settings through the API, as its owner would; returns the saved settings. */
export async function setProtection(server: TestServer, owner: Account, p: Project, patch: ProtectionPatch): Promise<ProtectionSettings> {
  const url = `/api/v1/orgs/${owner.orgId}/projects/${p.id}/protection`;
  const current: ProtectionSettings = (await server.request('GET', url, { cookie: owner.cookie })).body.settings;
  const merged = { ...current } as Record<string, unknown>;
  for (const [group, value] of Object.entries(patch)) {
    merged[group] = typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...(current[group as keyof ProtectionSettings] as object), ...value } : value;
  }
  const saved = await server.request('PUT', url, { cookie: owner.cookie, body: merged });
  if (saved.status !== 200) throw new Error(`protection: ${saved.status} ${saved.text}`);
  return saved.body.settings;
}
