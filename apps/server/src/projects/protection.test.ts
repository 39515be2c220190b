import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCaptchaProviders, type CaptchaProviders } from '../../../../test/captcha-providers.js';
import { countRows, memberAccount, ownerAccount, project, setProtection, submit, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import type { Project } from './service.js';
import { DEFAULT_PROTECTION } from './protection.js';

// The protection settings API, a third-party captcha end to end against a
// loopback stand-in of the provider, and trusted proxies.

let providers: CaptchaProviders;
let server: TestServer;
let owner: Account;

beforeAll(async () => {
  providers = await startCaptchaProviders();
  server = await startTestServer(providers.env);
  owner = await ownerAccount(server);
});
afterAll(async () => {
  await server.close();
  await providers.close();
});

const url = (account: Account, p: Project) => `/api/v1/orgs/${account.orgId}/projects/${p.id}/protection`;

describe('protection settings', () => {
  it('starts from the documented defaults', async () => {
    const p = await project(server, owner.orgId);
    const reply = await server.request('GET', url(owner, p), { cookie: owner.cookie });
    expect(reply.body).toEqual({ settings: DEFAULT_PROTECTION, hasCaptchaSecret: false, domains: ['example.com'], version: 1 });
  });

  it('normalises rules, audits the groups that changed, and serves the widget only the public part', async () => {
    const p = await project(server, owner.orgId);
    const saved = await setProtection(server, owner, p, {
      captcha: { provider: 'turnstile', siteKey: '0x4AAAAAAA' },
      spam: { blockedWords: [' Casino ', 'casino'], blockedEmailDomains: ['@Bücher.Example.'], blockedIpRanges: ['2001:DB8::/32', '203.0.113.7'], maxLinks: 2, dropDuplicates: true },
    });
    expect(saved.spam).toEqual({ blockedWords: ['casino'], blockedEmailDomains: ['xn--bcher-kva.example'], blockedIpRanges: ['2001:db8::/32', '203.0.113.7/32'], maxLinks: 2, dropDuplicates: true });
    const { rows } = await server.db.superuser.query(`SELECT data FROM audit_events WHERE target_id = $1 AND action = 'project.protection_updated'`, [p.id]);
    expect(rows).toEqual([{ data: { changed: ['captcha', 'spam'], captcha: 'turnstile' } }]);
    const config = await server.rawRequest('GET', `/api/widget/v1/projects/${p.key}/config`, { headers: { origin: 'https://example.com' } });
    expect(config.body.protection).toEqual({ captcha: { provider: 'turnstile', siteKey: '0x4AAAAAAA', action: 'feedback' }, minSeconds: 3, signedSubmissions: false });
    expect(config.text).not.toContain('casino');
    const csp = (await server.request('GET', `/api/v1/orgs/${owner.orgId}/projects/${p.id}`, { cookie: owner.cookie })).body.csp;
    expect(csp['script-src']).toEqual(['http://localhost:3000', 'https://challenges.cloudflare.com']);
    expect(csp['frame-src']).toEqual(['https://challenges.cloudflare.com']);
    expect(csp['worker-src']).toBeUndefined();
  });

  it.each([
    ['a third-party provider without a site key', { captcha: { ...DEFAULT_PROTECTION.captcha, provider: 'recaptcha' } }, /site key is required/],
    ['an address range that is not one', { spam: { ...DEFAULT_PROTECTION.spam, blockedIpRanges: ['10.0.0.0/33'] } }, /not an IP address or CIDR range/],
    ['an e-mail domain that is not one', { spam: { ...DEFAULT_PROTECTION.spam, blockedEmailDomains: ['not a domain'] } }, /not an e-mail domain/],
    ['a zero limit', { limits: { ...DEFAULT_PROTECTION.limits, projectPerMinute: 0 } }, /projectPerMinute/],
    ['an unknown setting', { extra: true }, /extra|additional/],
  ])('refuses %s with 400 and keeps the old settings', async (_name, change, detail) => {
    const p = await project(server, owner.orgId);
    const reply = await server.request('PUT', url(owner, p), { cookie: owner.cookie, body: { ...DEFAULT_PROTECTION, ...change } });
    expect(reply.status).toBe(400);
    expect(reply.body.detail).toMatch(detail);
    expect((await server.request('GET', url(owner, p), { cookie: owner.cookie })).body.settings).toEqual(DEFAULT_PROTECTION);
  });

  it('lets a viewer read but not change them, and answers another organization 404', async () => {
    const p = await project(server, owner.orgId);
    const viewer = await memberAccount(server, owner.orgId, 'viewer');
    expect((await server.request('GET', url(viewer, p), { cookie: viewer.cookie })).status).toBe(200);
    const change = { ...DEFAULT_PROTECTION, captcha: { ...DEFAULT_PROTECTION.captcha, provider: 'none' } };
    expect((await server.request('PUT', url(viewer, p), { cookie: viewer.cookie, body: change })).status).toBe(403);
    const stranger = await ownerAccount(server);
    for (const path of [`/api/v1/orgs/${stranger.orgId}/projects/${p.id}/protection`, `/api/v1/orgs/${stranger.orgId}/projects/${p.id}/protection/refusals`]) {
      expect((await server.request('GET', path, { cookie: stranger.cookie })).status).toBe(404);
    }
    expect((await server.request('PUT', `/api/v1/orgs/${stranger.orgId}/projects/${p.id}/protection`, { cookie: stranger.cookie, body: change })).status).toBe(404);
    expect((await server.request('GET', url(owner, p), { cookie: owner.cookie })).body.settings.captcha.provider).toBe('pow');
  });
});

describe('a project protected by reCAPTCHA v3', () => {
  let p: Project;
  const send = (captcha: string | undefined, origin = 'https://example.com') =>
    submit(server, p.key, { message: 'hello', ...(captcha === undefined ? {} : { captcha }) }, origin);

  beforeAll(async () => {
    p = await project(server, owner.orgId, ['example.com', 'other.example']);
    await setProtection(server, owner, p, { captcha: { provider: 'recaptcha', siteKey: 'site-key-1', minScore: 0.5 } });
  });

  it('refuses with captcha_unavailable until its secret is stored, which is never shown again', async () => {
    expect((await send(providers.issue('recaptcha'))).body.code).toBe('captcha_unavailable');
    const stored = await server.request('PUT', `${url(owner, p)}/captcha-secret`, { cookie: owner.cookie, body: { secret: providers.secrets.recaptcha } });
    expect(stored.status).toBe(204);
    const reply = await server.request('GET', url(owner, p), { cookie: owner.cookie });
    expect(reply.body.hasCaptchaSecret).toBe(true);
    expect(reply.text).not.toContain(providers.secrets.recaptcha);
    const { rows } = await server.db.superuser.query('SELECT captcha_secret_enc FROM projects WHERE id = $1', [p.id]);
    expect(rows[0].captcha_secret_enc.toString('latin1')).not.toContain(providers.secrets.recaptcha);
  });

  it('accepts a token the provider passes, and sends it the visitor address', async () => {
    const token = providers.issue('recaptcha', { verdict: 'pass', hostname: 'example.com', action: 'feedback', score: 0.9 });
    expect((await send(token)).status).toBe(201);
    expect(providers.requests.at(-1)!.form).toMatchObject({ secret: providers.secrets.recaptcha, response: token, remoteip: '127.0.0.1' });
  });

  it('refuses no token, a low score, a wrong action, another site and a replayed token, storing nothing', async () => {
    const before = await countRows(server, 'feedback');
    expect((await send(undefined)).body.code).toBe('captcha_missing');
    const cases: [string, string][] = [
      [providers.issue('recaptcha', { verdict: 'pass', hostname: 'example.com', action: 'feedback', score: 0.2 }), 'https://example.com'],
      [providers.issue('recaptcha', { verdict: 'pass', hostname: 'example.com', action: 'login', score: 0.9 }), 'https://example.com'],
      [providers.issue('recaptcha', { verdict: 'pass', hostname: 'example.com', action: 'feedback', score: 0.9 }), 'https://other.example'],
    ];
    for (const [token, origin] of cases) expect((await send(token, origin)).body.code).toBe('captcha_failed');
    const used = providers.issue('recaptcha', { verdict: 'pass', hostname: 'example.com', action: 'feedback', score: 0.9 });
    expect((await send(used)).status).toBe(201);
    expect((await send(used)).body.code).toBe('captcha_failed');
    expect(await countRows(server, 'feedback')).toBe(before + 1);
  });

  it('fails closed when the provider errs, and open only when the project chose so', async () => {
    const broken = () => providers.issue('recaptcha', { verdict: 'http', status: 503, body: 'unavailable' });
    const refused = await send(broken());
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 503, code: 'captcha_unavailable' });
    await setProtection(server, owner, p, { captcha: { failOpen: true } });
    expect((await send(broken())).status).toBe(201);
    await setProtection(server, owner, p, { captcha: { failOpen: false } });
  });
});

describe('trusted proxies', () => {
  it('counts each client named by a trusted proxy apart, and a client behind an untrusted one under the proxy', async () => {
    const behindProxy = await startTestServer({ PARLEY_TRUSTED_PROXIES: '127.0.0.1' });
    try {
      const admin = await ownerAccount(behindProxy);
      const p = await project(behindProxy, admin.orgId);
      await setProtection(behindProxy, admin, p, { limits: { perIp: { points: 1, seconds: 300 } } });
      const via = (client: string, from?: string) => {
        return submit(behindProxy, p.key, { message: `from ${client}` }, 'https://example.com', { 'x-forwarded-for': client }, from);
      };
      expect((await via('198.51.100.1')).status).toBe(201);
      expect((await via('198.51.100.1')).body.code).toBe('rate_limit_ip');
      expect((await via('198.51.100.2')).status).toBe(201);
      // One IPv6 /64 is one client.
      expect((await via('2001:db8:1:2::a')).status).toBe(201);
      expect((await via('2001:db8:1:2::b')).body.code).toBe('rate_limit_ip');
      // 127.0.0.2 is not a trusted proxy: its header is ignored and it is counted itself.
      expect((await via('198.51.100.3', '127.0.0.2')).status).toBe(201);
      expect((await via('198.51.100.4', '127.0.0.2')).body.code).toBe('rate_limit_ip');
    } finally {
      await behindProxy.close();
    }
  });
});
