import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { bearer, memberAccount, ownerAccount, PASSWORD, project, type Account } from '../../../test/factories.js';
import { TEST_APP_ROLE } from '../../../test/database.js';
import { startTestServer, type TestServer } from '../../../test/server.js';
import { widgetSnippet } from './widget/assets.js';

// The built `parley` command (npm test builds first), pointed at this test's database.
// Each run is a Node process loading the whole server: 2 s on a quiet machine,
// 5 s on a loaded one, and a test here runs up to four.
vi.setConfig({ testTimeout: 90_000 });
let server: TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer();
  const url = new URL(server.db.superuser.options.connectionString!);
  env = { DATABASE_URL: url.href, PARLEY_MASTER_KEY: server.db.masterKey.toString('base64'), PARLEY_DB_APP_ROLE: TEST_APP_ROLE, PARLEY_PUBLIC_URL: 'https://feedback.example.com', LOG_LEVEL: 'warn' };
});
afterAll(() => server.close());

describe('parley users create', () => {
  it('creates the organization and its owner from a password on stdin', async () => {
    const result = await runCli(['users', 'create', '--email', 'Ops@Example.test', '--org', 'Acme Ltd', '--password-stdin'], env, 'a very long cli password\n');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('created ops@example.test as owner of "Acme Ltd" (new organization)\n');
    expect(result.code).toBe(0);
    const { rows } = await server.db.superuser.query(`SELECT o.name, m.role FROM memberships m JOIN organizations o ON o.id = m.org_id JOIN users u ON u.id = m.user_id WHERE u.email = 'ops@example.test'`);
    expect(rows).toEqual([{ name: 'Acme Ltd', role: 'owner' }]);
    const login = await server.request('POST', '/api/v1/auth/login', { body: { email: 'ops@example.test', password: 'a very long cli password' } });
    expect(login.status).toBe(200);
  });

  it('adds a second owner to an existing organization by name, case-insensitively', async () => {
    const result = await runCli(['users', 'create', '--email', 'second@example.test', '--org', 'acme ltd', '--password-stdin'], env, 'another long password');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('created second@example.test as owner of "acme ltd"\n');
  });

  it.each([
    [['users', 'create', '--email', 'x@example.test', '--org', 'Acme Ltd'], 'short', /--password-stdin/],
    [['users', 'create', '--email', 'x@example.test', '--org', 'Acme Ltd', '--password-stdin'], 'short', /at least 12 characters/],
    [['users', 'create', '--email', 'ops@example.test', '--org', 'Acme Ltd', '--password-stdin'], 'a very long cli password', /already exists/],
    [['users', 'create', '--org', 'Acme Ltd', '--password-stdin'], 'a very long cli password', /--email is required/],
    [['users', 'create', '--email', 'y@example.test', '--org', 'A', '--password', 'visible'], '', /Unknown option '--password'/],
    [['frobnicate'], '', /Unknown command/],
  ])('refuses %j with a clear message and exit code 2', async (args, stdin, message) => {
    const result = await runCli(args, env, stdin);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});

describe('parley projects create', () => {
  it('prints the key and snippet as JSON', async () => {
    const result = await runCli(['projects', 'create', '--org', 'Acme Ltd', '--name', 'Shop', '--domain', 'example.com', '--domain', '*.example.org', '--json'], env);
    expect(result.code).toBe(0);
    const project = JSON.parse(result.stdout);
    expect(project).toEqual({
      id: expect.any(String),
      key: expect.stringMatching(/^pk_/),
      name: 'Shop',
      domains: ['example.com', '*.example.org'],
      snippet: widgetSnippet(new URL('https://feedback.example.com'), project.key),
    });
  });

  it('prints a readable summary without --json', async () => {
    const result = await runCli(['projects', 'create', '--org', 'Acme Ltd', '--name', 'Blog', '--domain', 'blog.example.com'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^created project "Blog" \(.+\)\nkey: {5}pk_\S+\ndomains: blog\.example\.com\nPaste this into your pages:\n {2}<script src=/);
  });

  it.each([
    [['projects', 'create', '--org', 'No Such Org', '--name', 'X', '--domain', 'example.com'], /No organization is named "No Such Org"/],
    [['projects', 'create', '--org', 'Acme Ltd', '--name', 'X'], /at least one --domain/],
    [['projects', 'create', '--org', 'Acme Ltd', '--name', 'X', '--domain', '*.com'], /not \*\.com/],
  ])('refuses %j with exit code 2', async (args, message) => {
    const result = await runCli(args, env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('parley users reset-mfa', () => {
  it('removes every factor of a user who lost them, ends their sessions and audits it', async () => {
    const owner = await ownerAccount(server);
    const { body } = await server.request('POST', '/api/v1/me/mfa/totp', { cookie: owner.cookie });
    const code = await generate({ secret: body.secret, epoch: Math.floor(server.clock.now().getTime() / 1000) });
    expect((await server.request('POST', '/api/v1/me/mfa/totp/confirm', { cookie: owner.cookie, body: { code } })).status).toBe(200);

    const result = await runCli(['users', 'reset-mfa', '--email', owner.email.toUpperCase()], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `reset MFA of ${owner.email}: removed the authenticator app, 0 passkey(s), 10 unused recovery code(s); ended 1 session(s)\n` +
        'The user signs in with the password and sets up a second factor again; they were told by e-mail.\n',
    );
    for (const table of ['totp_credentials', 'webauthn_credentials', 'recovery_codes', 'sessions']) {
      const { rowCount } = await server.db.superuser.query(`SELECT 1 FROM ${table} WHERE user_id = $1`, [owner.userId]);
      expect(rowCount, table).toBe(0);
    }
    expect((await server.request('GET', '/api/v1/me', { cookie: owner.cookie })).status).toBe(401);
    const { rows } = await server.db.superuser.query(`SELECT actor_type, actor_label, data FROM audit_events WHERE org_id = $1 AND action = 'mfa.reset'`, [owner.orgId]);
    expect(rows).toEqual([{ actor_type: 'cli', actor_label: 'parley users reset-mfa', data: { totp: true, passkeys: 0, recoveryCodes: 10, sessions: 1 } }]);
    const login = await server.request('POST', '/api/v1/auth/login', { body: { email: owner.email, password: PASSWORD } });
    expect(login.body.stage).toBe('done');
  });

  it.each([
    [['users', 'reset-mfa', '--email', 'nobody@example.test'], /No account has the e-mail "nobody@example.test"/],
    [['users', 'reset-mfa'], /--email is required/],
  ])('refuses %j with exit code 2', async (args, message) => {
    const result = await runCli(args, env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('parley apikeys', () => {
  const DAY = 24 * 3_600_000;
  const org = 'Keys Inc';
  let owner: Account;
  let viewer: Account;
  beforeAll(async () => {
    owner = await ownerAccount(server, org);
    viewer = await memberAccount(server, owner.orgId, 'viewer');
  });
  const create = (...args: string[]) => runCli(['apikeys', 'create', '--org', org, ...args], env);
  const use = (token: string) => server.rawRequest('GET', `/api/v1/orgs/${owner.orgId}`, { headers: bearer(token) });

  it('creates a key for a member, prints it once with a warning on stderr, and the key works', async () => {
    const shop = await project(server, owner.orgId);
    const day = new Date(Date.now() + 30 * DAY).toISOString().slice(0, 10);
    const result = await create('--email', owner.email.toUpperCase(), '--name', 'Deploys', '--scope', 'org_read', '--scope', 'feedback_read', '--project', shop.id, '--ip', '127.0.0.0/8', '--expires', day);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('This is the only time the key is shown: store it now in a secret manager. Send it as "Authorization: Bearer <key>".\n');
    const token = /^key: (prl_\w{38})$/m.exec(result.stdout)![1]!;
    expect(result.stdout).toMatch(new RegExp(
      `^[0-9a-f-]{36}  active  ${token.slice(0, 12)}…  "Deploys"\n    scopes: org_read, feedback_read\n    projects: ${shop.id}; addresses: 127.0.0.0/8\n` +
        `    created \\S+ by ${owner.email}; expires ${new Date(Date.parse(day) + DAY).toISOString()}; last used never\nkey: prl_`,
    ));
    expect((await use(token)).status).toBe(200);
    const { rows } = await server.db.superuser.query("SELECT actor_type, actor_label, data->>'createdBy' AS creator FROM audit_events WHERE org_id = $1 AND action = 'api_key.created'", [owner.orgId]);
    expect(rows).toEqual([{ actor_type: 'cli', actor_label: 'parley apikeys create', creator: owner.userId }]);
  });

  it('prints JSON with --json; --expires 90d counts days from now', async () => {
    const before = Date.now();
    const result = await create('--email', owner.email, '--name', 'Reporting', '--scope', 'audit_read', '--expires', '90d', '--json');
    expect(result.code).toBe(0);
    const key = JSON.parse(result.stdout);
    expect(key).toMatchObject({ name: 'Reporting', scopes: ['audit_read'], projectIds: null, allowedIps: [], status: 'active', token: expect.stringMatching(/^prl_/) });
    expect(Date.parse(key.expiresAt) - before).toBeGreaterThanOrEqual(90 * DAY);
    expect(Date.parse(key.expiresAt) - before).toBeLessThan(90 * DAY + 60_000);
  });

  it.each([
    [['--email', 'nobody@example.test', '--name', 'K', '--scope', 'org_read'], /No member of "Keys Inc" has the e-mail "nobody@example.test"/],
    [['--email', 'OWNER', '--name', 'K'], /Give at least one --scope/],
    [['--email', 'VIEWER', '--name', 'K', '--scope', 'project_write'], /A key cannot do more than its creator: the viewer role does not have project_write/],
    [['--email', 'OWNER', '--name', 'K', '--scope', 'org_read', '--expires', 'tomorrow'], /--expires takes a number of days \(90d\) or a date/],
    [['--email', 'OWNER', '--name', 'K', '--scope', 'org_read', '--expires', '2027-02-30'], /"2027-02-30" is neither/],
  ])('refuses %j with exit code 2, creating nothing', async (args, message) => {
    const named = args.map((a) => (a === 'OWNER' ? owner.email : a === 'VIEWER' ? viewer.email : a));
    const before = await server.db.superuser.query('SELECT count(*)::int AS n FROM api_keys');
    const result = await create(...named);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect((await server.db.superuser.query('SELECT count(*)::int AS n FROM api_keys')).rows).toEqual(before.rows);
  });

  it('lists the keys (never the key itself), as text or JSON, and revokes one at once', async () => {
    const created = JSON.parse((await create('--email', owner.email, '--name', 'Short-lived', '--scope', 'org_read', '--json')).stdout);
    const listed = await runCli(['apikeys', 'list', '--org', org], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${created.id}  active  ${created.prefix}…  "Short-lived"\n    scopes: org_read\n    projects: all of the creator's; addresses: any\n`);
    expect(listed.stdout).toMatch(/\n3 API key\(s\), 3 active\n$/);
    expect(listed.stdout).not.toContain(created.token.slice(12));
    const json = JSON.parse((await runCli(['apikeys', 'list', '--org', org, '--json'], env)).stdout);
    expect(json.map((k: { name: string }) => k.name)).toEqual(['Short-lived', 'Reporting', 'Deploys']);
    expect(Object.keys(json[0])).not.toContain('token');

    const revoked = await runCli(['apikeys', 'revoke', '--org', org, '--id', created.id], env);
    expect([revoked.code, revoked.stdout, revoked.stderr]).toEqual([0, `revoked API key ${created.id}: it is refused from now on\n`, '']);
    const refused = await use(created.token);
    expect([refused.status, refused.body.code]).toEqual([401, 'api_key_revoked']);
    const { rows } = await server.db.superuser.query("SELECT actor_type, actor_label FROM audit_events WHERE action = 'api_key.revoked' AND target_id = $1", [created.id]);
    expect(rows).toEqual([{ actor_type: 'cli', actor_label: 'parley apikeys revoke' }]);
  });

  it.each([
    [['apikeys', 'revoke', '--org', 'Keys Inc', '--id', '00000000-0000-4000-8000-000000000000'], /No such API key in this organization/],
    [['apikeys', 'list', '--org', 'No Such Org'], /No organization is named "No Such Org"/],
  ])('refuses %j with exit code 2', async (args, message) => {
    const result = await runCli(args, env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('parley audit verify', () => {
  it('reports every chain and fails with exit code 1 naming a tampered event', async () => {
    const ok = await runCli(['audit', 'verify'], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/all \d+ chains verify/);
    const client = await server.db.superuser.connect();
    try {
      await client.query('SET session_replication_role = replica');
      await client.query(`UPDATE audit_events SET actor_label = 'someone else' WHERE seq = 2`);
    } finally {
      await client.query('RESET session_replication_role');
      client.release();
    }
    const broken = await runCli(['audit', 'verify'], env);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/BROKEN {2}organization [0-9a-f-]+: event 2: contents do not match their hash/);
  });
});

describe('configuration errors', () => {
  it('stops with every problem listed', async () => {
    const result = await runCli(['migrate'], { ...env, PORT: 'x', PARLEY_MASTER_KEY: 'short' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Invalid configuration:\n {2}- PARLEY_MASTER_KEY.*\n {2}- PORT/s);
  });
});
