import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, memberAccount, ownerAccount, project, submit, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { withDefaults, type Project } from '../projects/service.js';
import { DEFAULT_WIDGET_SETTINGS, type WidgetSettings } from '../projects/widget-settings.js';

let server: TestServer;
let owner: Account;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
});
afterAll(() => server.close());

const patch = (p: Project, body: unknown, cookie = owner.cookie) => server.request('PATCH', `/api/v1/orgs/${owner.orgId}/projects/${p.id}`, { cookie, body });

describe('widget settings in the dashboard API', () => {
  it('saves the full settings object, audits which parts changed, and serves them to the widget', async () => {
    const p = await project(server, owner.orgId);
    const settings: WidgetSettings = { ...DEFAULT_WIDGET_SETTINGS, theme: 'dark', rating: 'nps', screenshot: { enabled: true, mode: 'dom' } };
    const reply = await patch(p, { settings });
    expect(reply.status).toBe(200);
    expect(reply.body.settings).toEqual(settings);
    expect(reply.body.csp).toEqual({ 'script-src': ['http://localhost:3000'], 'connect-src': ['http://localhost:3000'], 'img-src': ['data:', 'blob:'], 'worker-src': ['blob:'] });
    const { rows } = await server.db.superuser.query(`SELECT data FROM audit_events WHERE target_id = $1 AND action = 'project.updated'`, [p.id]);
    expect(rows).toEqual([{ data: { settings: ['theme', 'rating', 'screenshot'] } }]);
    const config = await server.rawRequest('GET', `/api/widget/v1/projects/${p.key}/config`, { headers: { origin: 'https://example.com' } });
    expect(config.status).toBe(200);
    expect(config.body).toEqual({
      settings,
      protection: { captcha: { provider: 'pow', siteKey: null, action: 'feedback' }, minSeconds: 3, signedSubmissions: false },
      version: expect.any(String),
    });
    expect(config.headers.get('access-control-allow-origin')).toBe('https://example.com');
  });

  it.each([
    ['an unknown setting', { ...DEFAULT_WIDGET_SETTINGS, tracking: true }],
    ['a bad colour', { ...DEFAULT_WIDGET_SETTINGS, launcher: { ...DEFAULT_WIDGET_SETTINGS.launcher, color: 'red; background:url(x)' } }],
    ['an unknown rating mode', { ...DEFAULT_WIDGET_SETTINGS, rating: 'hearts' }],
    ['a javascript: privacy link', { ...DEFAULT_WIDGET_SETTINGS, consent: { required: true, privacyUrl: 'javascript:alert(1)' } }],
    ['nine feedback types', { ...DEFAULT_WIDGET_SETTINGS, types: Array.from({ length: 9 }, (_, i) => ({ id: `t${i}`, label: '' })) }],
    ['a partial object', { theme: 'dark' }],
  ])('refuses %s with 400 and keeps the old settings', async (_case, settings) => {
    const p = await project(server, owner.orgId);
    const reply = await patch(p, { settings });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('validation_failed');
    const { rows } = await server.db.superuser.query(`SELECT widget_settings FROM projects WHERE id = $1`, [p.id]);
    expect(rows[0].widget_settings).toEqual({});
  });

  it('lets only owners and admins change settings', async () => {
    const p = await project(server, owner.orgId);
    const member = await memberAccount(server, owner.orgId, 'member');
    const reply = await patch(p, { settings: DEFAULT_WIDGET_SETTINGS }, member.cookie);
    expect(reply.status).toBe(403);
  });

  it('refuses the config to a site that is not allowed', async () => {
    const p = await project(server, owner.orgId);
    const reply = await server.rawRequest('GET', `/api/widget/v1/projects/${p.key}/config`, { headers: { origin: 'https://evil.example' } });
    expect(reply.status).toBe(403);
    expect(reply.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('submissions are checked against the settings', () => {
  async function projectWith(settings: Partial<WidgetSettings>) {
    return project(server, owner.orgId, ['example.com'], settings);
  }

  async function expectRefused(p: Project, body: Record<string, unknown>, code: string, detail?: RegExp) {
    const before = await countRows(server, 'feedback');
    const reply = await submit(server, p.key, { message: 'x', ...body });
    expect(reply.status, JSON.stringify(reply.body)).toBe(code === 'identity_invalid' ? 403 : 400);
    expect(reply.body.code).toBe(code);
    if (detail) expect(reply.body.detail).toMatch(detail);
    expect(await countRows(server, 'feedback')).toBe(before);
  }

  it.each([
    ['stars', [1, 5], [0, 6]],
    ['emoji', [1, 5], [0, 6]],
    ['thumbs', [0, 1], [2]],
    ['nps', [0, 10], [11]],
  ] as const)('accepts %s ratings in range and refuses others', async (rating, good, bad) => {
    const p = await projectWith({ rating });
    for (const value of good) expect((await submit(server, p.key, { message: 'x', rating: value })).status).toBe(201);
    for (const value of bad) await expectRefused(p, { rating: value }, 'validation_failed', /rating must be/);
  });

  it('refuses a rating when the project asks for none, and a type it does not offer', async () => {
    const p = await projectWith({ rating: 'none', types: [{ id: 'bug', label: '' }] });
    await expectRefused(p, { rating: 3 }, 'validation_failed', /does not ask for a rating/);
    await expectRefused(p, { type: 'idea' }, 'validation_failed', /not one of this project's feedback types/);
    expect((await submit(server, p.key, { message: 'x', type: 'bug' })).status).toBe(201);
  });

  it('enforces the e-mail mode', async () => {
    await expectRefused(await projectWith({ email: 'hidden' }), { email: 'a@example.test' }, 'validation_failed', /does not collect e-mail/);
    await expectRefused(await projectWith({ email: 'required' }), {}, 'validation_failed', /e-mail address is required/);
  });

  it('requires consent when the project does', async () => {
    const p = await projectWith({ consent: { required: true, privacyUrl: 'https://example.com/privacy' } });
    await expectRefused(p, {}, 'consent_required');
    await expectRefused(p, { consent: false }, 'consent_required');
    expect((await submit(server, p.key, { message: 'x', consent: true })).status).toBe(201);
  });

  it('checks custom fields against their definitions', async () => {
    const p = await projectWith({
      customFields: [
        { id: 'plan', label: 'Plan', type: 'select', options: ['free', 'pro'], required: true },
        { id: 'order', label: 'Order', type: 'text', options: [], required: false },
      ],
    });
    await expectRefused(p, {}, 'validation_failed', /Plan is required/);
    await expectRefused(p, { custom: { plan: 'enterprise' } }, 'validation_failed', /not a choice of Plan/);
    await expectRefused(p, { custom: { plan: 'pro', secret: 'x' } }, 'validation_failed', /"secret" is not defined/);
    expect((await submit(server, p.key, { message: 'x', custom: { plan: 'pro', order: 'A-1' } })).status).toBe(201);
  });

  it('refuses context the owner switched off, and drops query and fragment from the page URL unless kept', async () => {
    const off = await projectWith({ context: { ...DEFAULT_WIDGET_SETTINGS.context, browser: false, consoleErrors: false } });
    await expectRefused(off, { browser: 'Chrome 156' }, 'validation_failed', /does not collect browser/);
    await expectRefused(off, { consoleErrors: [{ message: 'boom' }] }, 'validation_failed', /does not collect consoleErrors/);
    await expectRefused(off, { screenshotId: '00000000-0000-4000-8000-000000000000' }, 'validation_failed', /does not collect screenshotId/);

    const url = 'https://example.com/account?token=secret#section';
    const dropped = await submit(server, off.key, { message: 'x', pageUrl: url });
    const kept = await submit(server, (await projectWith({ context: { ...DEFAULT_WIDGET_SETTINGS.context, keepQuery: true } })).key, { message: 'x', pageUrl: url });
    const { rows } = await server.db.superuser.query<{ id: string; page_url: string }>('SELECT id, page_url FROM feedback WHERE id = ANY($1)', [[dropped.body.id, kept.body.id]]);
    expect(Object.fromEntries(rows.map((r) => [r.id, r.page_url]))).toEqual({ [dropped.body.id]: 'https://example.com/account', [kept.body.id]: url });
  });

  it('stores and shows browser context, metadata and console errors, sealed', async () => {
    const p = await projectWith({ context: { ...DEFAULT_WIDGET_SETTINGS.context, consoleErrors: true } });
    const reply = await submit(server, p.key, {
      message: 'x', browser: 'Chrome 156', os: 'Linux', metadata: { plan: 'pro', seats: 3, trial: false },
      consoleErrors: [{ message: 'TypeError: x is undefined', stack: 'at checkout.js:10' }],
    });
    expect(reply.status).toBe(201);
    const detail = await server.request('GET', `/api/v1/orgs/${owner.orgId}/feedback/${reply.body.id}/reporter`, { cookie: owner.cookie });
    expect(detail.body).toMatchObject({
      browser: 'Chrome 156', os: 'Linux', metadata: { plan: 'pro', seats: 3, trial: false },
      consoleErrors: [{ message: 'TypeError: x is undefined', stack: 'at checkout.js:10' }], identity: null,
    });
    const { rows } = await server.db.superuser.query('SELECT metadata_enc, context_enc FROM feedback WHERE id = $1', [reply.body.id]);
    expect(rows[0].context_enc.includes(Buffer.from('TypeError'))).toBe(false);
    expect(rows[0].metadata_enc.includes(Buffer.from('plan'))).toBe(false);
  });
});

describe('signed identity', () => {
  const sign = (secret: string, id: string) => createHmac('sha256', secret).update(id).digest('hex');

  async function projectWithSecret(required: boolean) {
    const p = await project(server, owner.orgId, ['example.com'], { identity: { required } });
    const reply = await server.request('POST', `/api/v1/orgs/${owner.orgId}/projects/${p.id}/identity-secret`, { cookie: owner.cookie });
    expect(reply.status).toBe(201);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    return { p, secret: reply.body.secret as string };
  }

  it('shows the secret once, stores it sealed, and audits its replacement', async () => {
    const { p, secret } = await projectWithSecret(false);
    expect(secret).toMatch(/^pis_[A-Za-z0-9_-]{43}$/);
    const { rows } = await server.db.superuser.query('SELECT identity_secret_enc FROM projects WHERE id = $1', [p.id]);
    expect(rows[0].identity_secret_enc.includes(Buffer.from(secret))).toBe(false);
    const read = await server.request('GET', `/api/v1/orgs/${owner.orgId}/projects/${p.id}`, { cookie: owner.cookie });
    expect(read.body.hasIdentitySecret).toBe(true);
    expect(read.text).not.toContain(secret);
    const audit = await server.db.superuser.query(`SELECT action FROM audit_events WHERE target_id = $1`, [p.id]);
    expect(audit.rows.map((r) => r.action)).toContain('project.identity_secret_replaced');
  });

  it('marks a correctly signed identity verified', async () => {
    const { p, secret } = await projectWithSecret(true);
    const reply = await submit(server, p.key, { message: 'x', identity: { id: 'user-42', email: 'u42@example.test', name: 'U', signature: sign(secret, 'user-42') } });
    expect(reply.status).toBe(201);
    const detail = await server.request('GET', `/api/v1/orgs/${owner.orgId}/feedback/${reply.body.id}/reporter`, { cookie: owner.cookie });
    expect(detail.body.identity).toEqual({ id: 'user-42', email: 'u42@example.test', name: 'U', verified: true });
  });

  it.each([
    ['no identity', () => undefined],
    ['an unsigned identity', () => ({ id: 'user-42' })],
    ["another user's signature", (secret: string) => ({ id: 'user-43', signature: sign(secret, 'user-42') })],
    ['a signature by another secret', () => ({ id: 'user-42', signature: sign('pis_guess', 'user-42') })],
  ])('refuses %s with 403 identity_invalid when the project requires it', async (_case, identityFor) => {
    const { p, secret } = await projectWithSecret(true);
    const body = identityFor(secret);
    const before = await countRows(server, 'feedback');
    const reply = await submit(server, p.key, { message: 'x', ...(body ? { identity: body } : {}) });
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('identity_invalid');
    expect(await countRows(server, 'feedback')).toBe(before);
  });

  it('refuses a wrong signature even when identity is optional, and keeps unsigned identities unverified', async () => {
    const { p } = await projectWithSecret(false);
    expect((await submit(server, p.key, { message: 'x', identity: { id: 'u1', signature: '0'.repeat(64) } })).body.code).toBe('identity_invalid');
    const unsigned = await submit(server, p.key, { message: 'x', identity: { id: 'u1' } });
    const detail = await server.request('GET', `/api/v1/orgs/${owner.orgId}/feedback/${unsigned.body.id}/reporter`, { cookie: owner.cookie });
    expect(detail.body.identity).toEqual({ id: 'u1', email: null, name: null, verified: false });
  });

  it('refuses a signature when the project has no secret', async () => {
    const p = await project(server, owner.orgId);
    expect((await submit(server, p.key, { message: 'x', identity: { id: 'u1', signature: '0'.repeat(64) } })).body.code).toBe('identity_invalid');
  });

  it('uses a replaced secret at once', async () => {
    const { p, secret: first } = await projectWithSecret(true);
    const second = (await server.request('POST', `/api/v1/orgs/${owner.orgId}/projects/${p.id}/identity-secret`, { cookie: owner.cookie })).body.secret;
    expect((await submit(server, p.key, { message: 'x', identity: { id: 'u', signature: sign(first, 'u') } })).status).toBe(403);
    expect((await submit(server, p.key, { message: 'x', identity: { id: 'u', signature: sign(second, 'u') } })).status).toBe(201);
  });
});

it('keeps projects saved before a setting existed working with its default', () => {
  expect(withDefaults({ theme: 'dark', launcher: { position: 'top-left' } as WidgetSettings['launcher'] })).toEqual({
    ...DEFAULT_WIDGET_SETTINGS,
    theme: 'dark',
    launcher: { ...DEFAULT_WIDGET_SETTINGS.launcher, position: 'top-left' },
  });
});
