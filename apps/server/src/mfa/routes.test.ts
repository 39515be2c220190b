import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerAccount, PASSWORD, type Account } from '../../../../test/factories.js';
import { PUBLIC_URL, sessionCookie, startTestServer, type Reply, type TestServer } from '../../../../test/server.js';
import { startTestSmtp, type TestSmtp } from '../../../../test/smtp.js';
import { SoftAuthenticator } from '../../../../test/webauthn.js';

let smtp: TestSmtp;
let server: TestServer;

beforeAll(async () => {
  smtp = await startTestSmtp();
  server = await startTestServer({ SMTP_URL: smtp.url });
});
afterAll(async () => {
  await server.close();
  await smtp.close();
});

const STEP_MS = 30_000;
const RECOVERY_CODE = /^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/;

/** The code an authenticator app shows now, or `steps` time steps away. */
const totpCode = (secret: string, steps = 0) => generate({ secret, epoch: Math.floor(server.clock.now().getTime() / 1000) + steps * 30 });

const post = (path: string, cookie: string, body?: unknown) => server.request('POST', path, { cookie, body });
const get = (path: string, cookie: string) => server.request('GET', path, { cookie });
const del = (path: string, cookie: string) => server.request('DELETE', path, { cookie });

type MfaAccount = Account & { secret: string; recoveryCodes: string[] };

async function enrollTotp(cookie: string): Promise<{ secret: string; confirm: Reply }> {
  const started = await post('/api/v1/me/mfa/totp', cookie);
  expect(started.status).toBe(200);
  const confirm = await post('/api/v1/me/mfa/totp/confirm', cookie, { code: await totpCode(started.body.secret) });
  expect(confirm.status).toBe(200);
  return { secret: started.body.secret, confirm };
}

/** An owner with a confirmed authenticator app; `cookie` is a full session. */
async function mfaAccount(): Promise<MfaAccount> {
  const owner = await ownerAccount(server);
  const { secret, confirm } = await enrollTotp(owner.cookie);
  return { ...owner, secret, recoveryCodes: confirm.body.recoveryCodes };
}

/** The password step: a session in stage 'mfa'. */
async function passwordStep(email: string): Promise<{ cookie: string; body: any }> {
  const reply = await server.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
  expect(reply.status).toBe(200);
  return { cookie: sessionCookie(reply), body: reply.body };
}

/** A full login with the next time step's code (each step is accepted once). */
async function signIn(account: MfaAccount): Promise<string> {
  const { cookie } = await passwordStep(account.email);
  server.clock.advance(STEP_MS);
  const reply = await post('/api/v1/auth/mfa/totp', cookie, { code: await totpCode(account.secret) });
  expect(reply.status).toBe(200);
  return sessionCookie(reply);
}

const projectsOf = (account: Account, cookie: string) => get(`/api/v1/orgs/${account.orgId}/projects`, cookie);

async function auditActions(orgId: string, prefix: string): Promise<{ action: string; data: Record<string, unknown>; actor_type: string }[]> {
  const { rows } = await server.db.superuser.query('SELECT action, data, actor_type FROM audit_events WHERE org_id = $1 AND action LIKE $2 ORDER BY seq', [orgId, `${prefix}%`]);
  return rows;
}

describe('TOTP setup', () => {
  it('answers a base32 secret and an otpauth URL, and stores the secret sealed', async () => {
    const owner = await ownerAccount(server);
    const reply = await post('/api/v1/me/mfa/totp', owner.cookie);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(reply.body.otpauthUrl);
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname)).toBe(`/Parley:${owner.email}`);
    expect(url.searchParams.get('secret')).toBe(reply.body.secret);
    expect(url.searchParams.get('issuer')).toBe('Parley');
    const { rows } = await server.db.superuser.query<{ secret_enc: Buffer; confirmed_at: Date | null }>('SELECT secret_enc, confirmed_at FROM totp_credentials WHERE user_id = $1', [owner.userId]);
    expect(rows[0]!.confirmed_at).toBeNull();
    expect(rows[0]!.secret_enc.includes(Buffer.from(reply.body.secret))).toBe(false);
    const dump = await server.db.superuser.query<{ t: string }>('SELECT t::text FROM totp_credentials t');
    expect(dump.rows.some((r) => r.t.includes(reply.body.secret))).toBe(false);
  });

  it('refuses a wrong confirmation code and keeps the secret pending', async () => {
    const owner = await ownerAccount(server);
    const { body } = await post('/api/v1/me/mfa/totp', owner.cookie);
    const wrong = (Number(await totpCode(body.secret)) + 1) % 1_000_000;
    const reply = await post('/api/v1/me/mfa/totp/confirm', owner.cookie, { code: String(wrong).padStart(6, '0') });
    expect(reply.status).toBe(401);
    expect(reply.body.code).toBe('invalid_code');
    expect((await get('/api/v1/me/mfa', owner.cookie)).body.totp).toEqual({ enabled: false, createdAt: null });
  });

  it('confirms with a code from the app, answers 10 recovery codes once, stores only their hashes, and tells the user', async () => {
    const owner = await ownerAccount(server);
    const { secret, confirm } = await enrollTotp(owner.cookie);
    const codes: string[] = confirm.body.recoveryCodes;
    expect(confirm.headers.get('cache-control')).toBe('no-store');
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(RECOVERY_CODE);
    expect(new Set(codes).size).toBe(10);
    const { rows } = await server.db.superuser.query<{ r: string }>('SELECT r::text FROM recovery_codes r WHERE user_id = $1', [owner.userId]);
    expect(rows).toHaveLength(10);
    for (const code of codes) expect(rows.some((r) => r.r.includes(code) || r.r.includes(code.replaceAll('-', '')))).toBe(false);
    const overview = await get('/api/v1/me/mfa', owner.cookie);
    expect(overview.body).toEqual({ totp: { enabled: true, createdAt: server.clock.now().toISOString() }, passkeys: [], recoveryCodes: { left: 10 } });
    expect((await get('/api/v1/me', owner.cookie)).body.session.methods).toEqual(['totp', 'recovery']);
    expect((await auditActions(owner.orgId, 'mfa.')).map((e) => e.action)).toEqual(['mfa.totp_enabled', 'mfa.recovery_codes_generated']);
    expect((await smtp.nextMail(owner.email, /added/)).text).toMatch(/authenticator app was added/);
    // A second app needs the first removed.
    const again = await post('/api/v1/me/mfa/totp', owner.cookie);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('conflict');
    const { rows: still } = await server.db.superuser.query<{ secret_enc: Buffer }>('SELECT secret_enc FROM totp_credentials WHERE user_id = $1', [owner.userId]);
    expect(server.ctx.keyring.openSystem(still[0]!.secret_enc, { table: 'totp_credentials', column: 'secret_enc', rowId: owner.userId })).toBe(secret);
  });
});

describe('the MFA step of a login', () => {
  it('starts in stage mfa, which reaches only the MFA step and /me', async () => {
    const account = await mfaAccount();
    const { cookie, body } = await passwordStep(account.email);
    expect(body).toMatchObject({ stage: 'mfa', methods: ['totp', 'recovery'] });
    const projects = await projectsOf(account, cookie);
    expect(projects.status).toBe(403);
    expect(projects.body.code).toBe('mfa_required');
    expect((await get('/api/v1/me/mfa', cookie)).body.code).toBe('mfa_required');
    expect((await get('/api/v1/me', cookie)).body.session.stage).toBe('mfa');
  });

  it('gives a new session id when the code is right; the mfa-stage cookie is dead afterwards', async () => {
    const account = await mfaAccount();
    const { cookie } = await passwordStep(account.email);
    server.clock.advance(STEP_MS);
    const reply = await post('/api/v1/auth/mfa/totp', cookie, { code: await totpCode(account.secret) });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ user: { id: account.userId, email: account.email, name: 'Owner' }, stage: 'done', methods: [] });
    const full = sessionCookie(reply);
    expect(full).not.toBe(cookie);
    expect((await get('/api/v1/me', cookie)).status).toBe(401);
    expect((await projectsOf(account, full)).status).toBe(200);
    const logins = await auditActions(account.orgId, 'login.');
    expect(logins.at(-1)).toMatchObject({ action: 'login.succeeded', data: { method: 'totp' } });
  });

  it('refuses a code already used, in the same step or an older one after a newer', async () => {
    const account = await mfaAccount();
    server.clock.advance(2 * STEP_MS);
    const code = await totpCode(account.secret);
    const first = await passwordStep(account.email);
    expect((await post('/api/v1/auth/mfa/totp', first.cookie, { code })).status).toBe(200);
    const second = await passwordStep(account.email);
    const replay = await post('/api/v1/auth/mfa/totp', second.cookie, { code });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('invalid_code');
    // The step before now is inside the ±1 window and its code was never used, but a newer one was.
    const older = await post('/api/v1/auth/mfa/totp', second.cookie, { code: await totpCode(account.secret, -1) });
    expect(older.body.code).toBe('invalid_code');
    expect((await get('/api/v1/me', second.cookie)).body.session.stage).toBe('mfa');
    const logins = await auditActions(account.orgId, 'login.failed');
    expect(logins.at(-1)).toMatchObject({ data: { method: 'totp' } });
  });

  it('accepts the steps next to now and refuses codes two steps away', async () => {
    const account = await mfaAccount();
    server.clock.advance(10 * STEP_MS);
    const { cookie } = await passwordStep(account.email);
    for (const steps of [-2, 2, -3, 3]) {
      const reply = await post('/api/v1/auth/mfa/totp', cookie, { code: await totpCode(account.secret, steps) });
      expect(reply.status).toBe(401);
      expect(reply.body.code).toBe('invalid_code');
    }
    expect((await post('/api/v1/auth/mfa/totp', cookie, { code: await totpCode(account.secret, -1) })).status).toBe(200);
    const next = await passwordStep(account.email);
    expect((await post('/api/v1/auth/mfa/totp', next.cookie, { code: await totpCode(account.secret, 1) })).status).toBe(200);
  });

  it('locks the account after 10 wrong codes, so even the right code is refused', async () => {
    const account = await mfaAccount();
    const { cookie } = await passwordStep(account.email);
    const valid = new Set([await totpCode(account.secret, -1), await totpCode(account.secret), await totpCode(account.secret, 1)]);
    const wrong = ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c))!;
    for (let i = 0; i < 10; i++) {
      // Past the growing delay (1 s, 2 s … after the fifth failure), not past the lock.
      server.clock.advance(20_000);
      const reply = await post('/api/v1/auth/mfa/totp', cookie, { code: wrong });
      expect(reply.body.code).toBe('invalid_code');
    }
    const right = await post('/api/v1/auth/mfa/totp', cookie, { code: await totpCode(account.secret) });
    expect(right.status).toBe(429);
    expect(right.body.code).toBe('too_many_attempts');
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(right.headers.getSetCookie()).toEqual([]);
    const { rows } = await server.db.superuser.query<{ method: string; result: string }>('SELECT method, result FROM login_attempts WHERE user_id = $1 ORDER BY id DESC LIMIT 2', [account.userId]);
    expect(rows).toEqual([{ method: 'totp', result: 'blocked' }, { method: 'totp', result: 'failure' }]);
    expect((await auditActions(account.orgId, 'account.locked')).length).toBe(1);
  });

  it('counts a code of the wrong shape as a wrong code', async () => {
    const account = await mfaAccount();
    const { cookie } = await passwordStep(account.email);
    for (const code of ['12345', '1234567', 'abcdef', ' ']) {
      const reply = await post('/api/v1/auth/mfa/totp', cookie, { code });
      expect(reply.status).toBe(401);
      expect(reply.body.code).toBe('invalid_code');
    }
    const { rows } = await server.db.superuser.query<{ n: string }>(`SELECT count(*) AS n FROM login_attempts WHERE user_id = $1 AND method = 'totp' AND result = 'failure'`, [account.userId]);
    expect(Number(rows[0]!.n)).toBe(4);
  });

  it('is not for a full session', async () => {
    const account = await mfaAccount();
    const reply = await post('/api/v1/auth/mfa/totp', account.cookie, { code: await totpCode(account.secret) });
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('conflict');
  });
});

describe('recovery codes', () => {
  it('signs in once with each code, typed in any case with spaces or without dashes, and tells the user', async () => {
    const account = await mfaAccount();
    const [a, b, c] = account.recoveryCodes as [string, string, string];
    for (const typed of [a.toUpperCase().replaceAll('-', ' '), ` ${b.replaceAll('-', '')} `, c.toUpperCase()]) {
      const { cookie } = await passwordStep(account.email);
      const reply = await post('/api/v1/auth/mfa/recovery', cookie, { code: typed });
      expect(reply.status).toBe(200);
      expect(sessionCookie(reply)).not.toBe(cookie);
    }
    const { cookie } = await passwordStep(account.email);
    const reused = await post('/api/v1/auth/mfa/recovery', cookie, { code: a });
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('invalid_code');
    const full = await signIn(account);
    expect((await get('/api/v1/me/mfa', full)).body.recoveryCodes).toEqual({ left: 7 });
    expect((await auditActions(account.orgId, 'mfa.recovery_code_used')).length).toBe(3);
    expect((await smtp.nextMail(account.email, /recovery code was used/)).text).toMatch(/\d unused codes are left/);
  });

  it('refuses made-up codes', async () => {
    const account = await mfaAccount();
    const { cookie } = await passwordStep(account.email);
    for (const code of ['0000-0000-0000-0000', 'not a code', account.recoveryCodes[0]!.slice(0, -1)]) {
      expect((await post('/api/v1/auth/mfa/recovery', cookie, { code })).body.code).toBe('invalid_code');
    }
  });

  it('regenerates: the old codes stop working, other sessions end', async () => {
    const account = await mfaAccount();
    const other = await signIn(account);
    const reply = await post('/api/v1/me/mfa/recovery-codes', account.cookie);
    expect(reply.status).toBe(200);
    expect(reply.body.recoveryCodes).toHaveLength(10);
    expect(reply.body.recoveryCodes.some((c: string) => account.recoveryCodes.includes(c))).toBe(false);
    expect((await get('/api/v1/me', other)).status).toBe(401);
    expect((await get('/api/v1/me', account.cookie)).status).toBe(200);
    const { cookie } = await passwordStep(account.email);
    expect((await post('/api/v1/auth/mfa/recovery', cookie, { code: account.recoveryCodes[0] })).body.code).toBe('invalid_code');
    expect((await post('/api/v1/auth/mfa/recovery', cookie, { code: reply.body.recoveryCodes[0] })).status).toBe(200);
  });

  it('needs a second factor first', async () => {
    const owner = await ownerAccount(server);
    const reply = await post('/api/v1/me/mfa/recovery-codes', owner.cookie);
    expect(reply.status).toBe(409);
    expect(await server.db.superuser.query('SELECT 1 FROM recovery_codes WHERE user_id = $1', [owner.userId]).then((r) => r.rowCount)).toBe(0);
  });
});

describe('re-authentication', () => {
  it('is required 10 minutes after the last factor, and a fresh factor lets the action through', async () => {
    const account = await mfaAccount();
    server.clock.advance(10 * 60_000);
    const refused = await del('/api/v1/me/mfa/totp', account.cookie);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('reauth_required');
    expect((await get('/api/v1/me/mfa', account.cookie)).body.totp.enabled).toBe(true);
    const wrongPassword = await post('/api/v1/auth/reauth', account.cookie, { password: 'not the password at all' });
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.body.code).toBe('invalid_credentials');
    expect((await del('/api/v1/me/mfa/totp', account.cookie)).body.code).toBe('reauth_required');
    const ok = await post('/api/v1/auth/reauth', account.cookie, { totpCode: await totpCode(account.secret, 1) });
    expect(ok.status).toBe(204);
    expect((await del('/api/v1/me/mfa/totp', account.cookie)).status).toBe(204);
  });

  it.each([
    ['password', () => ({ password: PASSWORD })],
    ['recovery code', (a: MfaAccount) => ({ recoveryCode: a.recoveryCodes[0] })],
  ])('accepts the %s', async (_case, proof) => {
    const account = await mfaAccount();
    server.clock.advance(11 * 60_000);
    expect((await post('/api/v1/me/mfa/recovery-codes', account.cookie)).body.code).toBe('reauth_required');
    expect((await post('/api/v1/auth/reauth', account.cookie, proof(account))).status).toBe(204);
    expect((await post('/api/v1/me/mfa/recovery-codes', account.cookie)).status).toBe(200);
  });

  it.each([
    ['two proofs', { password: PASSWORD, totpCode: '123456' }],
    ['no proof', {}],
    ['an unknown field', { pin: '1234' }],
  ])('refuses %s with 400', async (_case, body) => {
    const account = await mfaAccount();
    const reply = await post('/api/v1/auth/reauth', account.cookie, body);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('validation_failed');
  });

  it('refuses a reused TOTP code and counts wrong codes toward the lock', async () => {
    const account = await mfaAccount();
    server.clock.advance(STEP_MS);
    const code = await totpCode(account.secret);
    expect((await post('/api/v1/auth/reauth', account.cookie, { totpCode: code })).status).toBe(204);
    const replay = await post('/api/v1/auth/reauth', account.cookie, { totpCode: code });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('invalid_code');
    const { rows } = await server.db.superuser.query<{ result: string }>(`SELECT result FROM login_attempts WHERE user_id = $1 AND method = 'totp' ORDER BY id`, [account.userId]);
    expect(rows.map((r) => r.result)).toEqual(['success', 'failure']);
  });

  it('is not open to a session in the MFA step', async () => {
    const account = await mfaAccount();
    const { cookie } = await passwordStep(account.email);
    const reply = await post('/api/v1/auth/reauth', cookie, { password: PASSWORD });
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('mfa_required');
  });
});

describe('removing a factor', () => {
  it('ends the other sessions, drops the recovery codes with the last factor, and tells the user', async () => {
    const account = await mfaAccount();
    const other = await signIn(account);
    const current = await signIn(account);
    expect((await del('/api/v1/me/mfa/totp', current)).status).toBe(204);
    expect((await get('/api/v1/me', other)).status).toBe(401);
    expect((await get('/api/v1/me', account.cookie)).status).toBe(401);
    expect((await get('/api/v1/me/mfa', current)).body).toEqual({ totp: { enabled: false, createdAt: null }, passkeys: [], recoveryCodes: { left: 0 } });
    expect((await passwordStep(account.email)).body).toMatchObject({ stage: 'done', methods: [] });
    expect((await auditActions(account.orgId, 'mfa.totp_disabled')).length).toBe(1);
    expect((await smtp.nextMail(account.email, /removed/)).text).toMatch(/authenticator app was removed/);
  });

  it('answers 404 when there is nothing to remove', async () => {
    const owner = await ownerAccount(server);
    expect((await del('/api/v1/me/mfa/totp', owner.cookie)).status).toBe(404);
    expect((await del('/api/v1/me/mfa/passkeys/bm9wZQ', owner.cookie)).status).toBe(404);
  });
});

describe('enrollment when an organization requires MFA', () => {
  const requireMfa = (orgId: string) => server.db.superuser.query('UPDATE organizations SET require_mfa = true WHERE id = $1', [orgId]);

  it('holds the session in stage enroll until a factor is confirmed, then gives a new full session', async () => {
    const owner = await ownerAccount(server);
    await requireMfa(owner.orgId);
    const login = await passwordStep(owner.email);
    expect(login.body).toMatchObject({ stage: 'enroll', methods: [] });
    const projects = await projectsOf(owner, login.cookie);
    expect(projects.status).toBe(403);
    expect(projects.body.code).toBe('mfa_enrollment_required');
    expect((await get('/api/v1/me/mfa', login.cookie)).status).toBe(200);
    const { confirm } = await enrollTotp(login.cookie);
    expect(confirm.body.recoveryCodes).toHaveLength(10);
    const full = sessionCookie(confirm);
    expect(full).not.toBe(login.cookie);
    expect((await get('/api/v1/me', login.cookie)).status).toBe(401);
    expect((await projectsOf(owner, full)).status).toBe(200);
    expect((await get('/api/v1/me', full)).body.session.stage).toBe('done');
  });

  it('keeps the last factor while it is required', async () => {
    const account = await mfaAccount();
    await requireMfa(account.orgId);
    const reply = await del('/api/v1/me/mfa/totp', account.cookie);
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({ code: 'conflict', detail: expect.stringMatching(/requires two-factor/) });
    expect((await get('/api/v1/me/mfa', account.cookie)).body).toMatchObject({ totp: { enabled: true }, recoveryCodes: { left: 10 } });
  });

  it('gives a session that waited past the reauth window no way to start setup but re-authenticating', async () => {
    const owner = await ownerAccount(server);
    await requireMfa(owner.orgId);
    const { cookie } = await passwordStep(owner.email);
    server.clock.advance(11 * 60_000);
    expect((await post('/api/v1/me/mfa/totp', cookie)).body.code).toBe('reauth_required');
    expect((await post('/api/v1/auth/reauth', cookie, { password: PASSWORD })).status).toBe(204);
    expect((await post('/api/v1/me/mfa/totp', cookie)).status).toBe(200);
  });
});

describe('passkeys', () => {
  const sessionChallenge = async (cookie: string) => {
    const { rows } = await server.db.superuser.query<{ challenge: string | null; challenge_expires_at: Date | null }>(
      `SELECT challenge, challenge_expires_at FROM sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))`,
      [cookie.split('=')[1]],
    );
    return rows[0]!;
  };

  async function registerPasskey(cookie: string, authenticator = new SoftAuthenticator(PUBLIC_URL), name = 'My key') {
    const options = await post('/api/v1/me/mfa/passkeys/options', cookie);
    expect(options.status).toBe(200);
    const reply = await post('/api/v1/me/mfa/passkeys', cookie, { name, response: authenticator.register(options.body) });
    return { authenticator, options: options.body, reply };
  }

  it('offers options bound to the site, stores the challenge on the session for 5 minutes', async () => {
    const owner = await ownerAccount(server);
    const reply = await post('/api/v1/me/mfa/passkeys/options', owner.cookie);
    expect(reply.body).toMatchObject({
      rp: { id: 'localhost', name: 'Parley' },
      user: { name: owner.email, displayName: 'Owner' },
      attestation: 'none',
      excludeCredentials: [],
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    const stored = await sessionChallenge(owner.cookie);
    expect(stored.challenge).toBe(`register:${reply.body.challenge}`);
    expect(stored.challenge_expires_at!.getTime()).toBe(server.clock.now().getTime() + 5 * 60_000);
  });

  it('registers a passkey from a software authenticator, with recovery codes as the first factor', async () => {
    const owner = await ownerAccount(server);
    const { authenticator, reply } = await registerPasskey(owner.cookie);
    expect(reply.status).toBe(201);
    expect(reply.body.passkey).toEqual({ id: authenticator.id, name: 'My key', createdAt: server.clock.now().toISOString(), lastUsedAt: null });
    expect(reply.body.recoveryCodes).toHaveLength(10);
    expect((await sessionChallenge(owner.cookie)).challenge).toBeNull();
    const overview = await get('/api/v1/me/mfa', owner.cookie);
    expect(overview.body.passkeys).toEqual([reply.body.passkey]);
    expect((await auditActions(owner.orgId, 'mfa.')).map((e) => e.action)).toEqual(['mfa.passkey_added', 'mfa.recovery_codes_generated']);
    expect((await smtp.nextMail(owner.email, /added/)).text).toMatch(/passkey "My key" was added/);
    // A second passkey: no new codes, and the first is excluded from the options.
    const second = await registerPasskey(owner.cookie, new SoftAuthenticator(PUBLIC_URL), 'Backup');
    expect(second.options.excludeCredentials).toEqual([{ id: authenticator.id, type: 'public-key', transports: ['usb'] }]);
    expect(second.reply.body.recoveryCodes).toBeNull();
  });

  it('uses a registration challenge once', async () => {
    const owner = await ownerAccount(server);
    const { authenticator, options } = await registerPasskey(owner.cookie);
    const replay = await post('/api/v1/me/mfa/passkeys', owner.cookie, { name: 'Again', response: new SoftAuthenticator(PUBLIC_URL).register(options) });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('invalid_code');
    expect((await get('/api/v1/me/mfa', owner.cookie)).body.passkeys.map((p: { id: string }) => p.id)).toEqual([authenticator.id]);
  });

  it('refuses an expired challenge, another origin, and a malformed response, without a 500', async () => {
    const owner = await ownerAccount(server);
    const expired = await post('/api/v1/me/mfa/passkeys/options', owner.cookie);
    server.clock.advance(5 * 60_000);
    const authenticator = new SoftAuthenticator(PUBLIC_URL);
    expect((await post('/api/v1/me/mfa/passkeys', owner.cookie, { name: 'Late', response: authenticator.register(expired.body) })).body.code).toBe('invalid_code');
    const phished = await post('/api/v1/me/mfa/passkeys/options', owner.cookie);
    expect((await post('/api/v1/me/mfa/passkeys', owner.cookie, { name: 'Evil', response: authenticator.register(phished.body, { origin: 'https://evil.example' }) })).body.code).toBe('invalid_code');
    const options = await post('/api/v1/me/mfa/passkeys/options', owner.cookie);
    const good = authenticator.register(options.body);
    for (const response of [
      { ...good, response: { ...good.response, attestationObject: 'AAAA' } },
      { ...good, response: { ...good.response, clientDataJSON: Buffer.from('{').toString('base64url') } },
    ]) {
      const reply = await post('/api/v1/me/mfa/passkeys', owner.cookie, { name: 'Broken', response });
      expect(reply.status).toBe(401);
      expect(reply.body.code).toBe('invalid_code');
    }
    expect((await post('/api/v1/me/mfa/passkeys', owner.cookie, { name: 'X', response: { ...good, type: 'other' } })).body.code).toBe('validation_failed');
    expect(await server.db.superuser.query('SELECT 1 FROM webauthn_credentials WHERE user_id = $1', [owner.userId]).then((r) => r.rowCount)).toBe(0);
  });

  it('signs in with a passkey: new session, counter and last use recorded', async () => {
    const owner = await ownerAccount(server);
    const { authenticator } = await registerPasskey(owner.cookie);
    const { cookie, body } = await passwordStep(owner.email);
    expect(body.methods).toEqual(['webauthn', 'recovery']);
    const options = await post('/api/v1/auth/mfa/webauthn/options', cookie);
    expect(options.body).toMatchObject({ rpId: 'localhost', userVerification: 'preferred', allowCredentials: [{ id: authenticator.id, type: 'public-key' }] });
    expect((await sessionChallenge(cookie)).challenge).toBe(`authenticate:${options.body.challenge}`);
    const assertion = authenticator.authenticate(options.body);
    const reply = await post('/api/v1/auth/mfa/webauthn', cookie, { response: assertion });
    expect(reply.status).toBe(200);
    expect(reply.body.stage).toBe('done');
    const full = sessionCookie(reply);
    expect((await get('/api/v1/me', cookie)).status).toBe(401);
    expect((await projectsOf(owner, full)).status).toBe(200);
    const { rows } = await server.db.superuser.query<{ counter: string; last_used_at: Date }>('SELECT counter, last_used_at FROM webauthn_credentials WHERE id = $1', [authenticator.id]);
    expect(rows[0]).toEqual({ counter: '1', last_used_at: server.clock.now() });
    expect((await auditActions(owner.orgId, 'login.succeeded')).at(-1)).toMatchObject({ data: { method: 'webauthn' } });

    // The same assertion again, in a new login with a new challenge: refused.
    const next = await passwordStep(owner.email);
    await post('/api/v1/auth/mfa/webauthn/options', next.cookie);
    expect((await post('/api/v1/auth/mfa/webauthn', next.cookie, { response: assertion })).body.code).toBe('invalid_code');
  });

  it('refuses a replayed challenge, an expired one, a counter going backwards, another key, and garbage', async () => {
    const owner = await ownerAccount(server);
    const { authenticator } = await registerPasskey(owner.cookie);
    const { cookie } = await passwordStep(owner.email);
    const attempt = async (response: unknown) => (await post('/api/v1/auth/mfa/webauthn', cookie, { response })).body.code;

    const options = (await post('/api/v1/auth/mfa/webauthn/options', cookie)).body;
    expect(await attempt(new SoftAuthenticator(PUBLIC_URL).authenticate(options))).toBe('invalid_code');
    // The challenge went with the failed attempt: a right signature over it is refused too.
    expect(await attempt(authenticator.authenticate(options))).toBe('invalid_code');

    const late = (await post('/api/v1/auth/mfa/webauthn/options', cookie)).body;
    server.clock.advance(5 * 60_000);
    expect(await attempt(authenticator.authenticate(late))).toBe('invalid_code');

    await post('/api/v1/auth/mfa/webauthn/options', cookie);
    expect(await attempt({ id: authenticator.id, rawId: authenticator.id, type: 'public-key', response: { clientDataJSON: 'AA', authenticatorData: 'AA', signature: 'AA' }, clientExtensionResults: {} })).toBe('invalid_code');

    const counted = (await post('/api/v1/auth/mfa/webauthn/options', cookie)).body;
    await server.db.superuser.query('UPDATE webauthn_credentials SET counter = 50 WHERE id = $1', [authenticator.id]);
    expect(await attempt(authenticator.authenticate(counted))).toBe('invalid_code');

    const { rows } = await server.db.superuser.query<{ counter: string; last_used_at: Date | null }>('SELECT counter, last_used_at FROM webauthn_credentials WHERE id = $1', [authenticator.id]);
    expect(rows[0]).toEqual({ counter: '50', last_used_at: null });
    expect((await get('/api/v1/me', cookie)).body.session.stage).toBe('mfa');
  });

  it('accepts a passkey that keeps no counter (always 0) every time', async () => {
    const owner = await ownerAccount(server);
    const authenticator = new SoftAuthenticator(PUBLIC_URL);
    authenticator.keepsCounter = false;
    await registerPasskey(owner.cookie, authenticator);
    for (let i = 0; i < 2; i++) {
      const { cookie } = await passwordStep(owner.email);
      const options = (await post('/api/v1/auth/mfa/webauthn/options', cookie)).body;
      expect((await post('/api/v1/auth/mfa/webauthn', cookie, { response: authenticator.authenticate(options) })).status).toBe(200);
    }
  });

  it('answers options only to an account with a passkey', async () => {
    const account = await mfaAccount();
    const { cookie } = await passwordStep(account.email);
    expect((await post('/api/v1/auth/mfa/webauthn/options', cookie)).status).toBe(409);
  });

  it('re-authenticates with a passkey and removes one', async () => {
    const owner = await ownerAccount(server);
    const { authenticator } = await registerPasskey(owner.cookie);
    const backup = await registerPasskey(owner.cookie, new SoftAuthenticator(PUBLIC_URL), 'Backup');
    const login = await passwordStep(owner.email);
    const options = (await post('/api/v1/auth/mfa/webauthn/options', login.cookie)).body;
    const otherSession = sessionCookie(await post('/api/v1/auth/mfa/webauthn', login.cookie, { response: authenticator.authenticate(options) }));

    server.clock.advance(11 * 60_000);
    expect((await del(`/api/v1/me/mfa/passkeys/${backup.authenticator.id}`, owner.cookie)).body.code).toBe('reauth_required');
    const reauth = (await post('/api/v1/auth/reauth/webauthn/options', owner.cookie)).body;
    expect((await post('/api/v1/auth/reauth', owner.cookie, { webauthn: authenticator.authenticate(reauth) })).status).toBe(204);
    expect((await del(`/api/v1/me/mfa/passkeys/${backup.authenticator.id}`, owner.cookie)).status).toBe(204);
    expect((await get('/api/v1/me', otherSession)).status).toBe(401);
    expect((await get('/api/v1/me/mfa', owner.cookie)).body.passkeys.map((p: { id: string }) => p.id)).toEqual([authenticator.id]);
    expect((await auditActions(owner.orgId, 'mfa.passkey_removed')).length).toBe(1);
  });

  it('finishes enrollment with a passkey', async () => {
    const owner = await ownerAccount(server);
    await server.db.superuser.query('UPDATE organizations SET require_mfa = true WHERE id = $1', [owner.orgId]);
    const { cookie } = await passwordStep(owner.email);
    const { reply } = await registerPasskey(cookie);
    expect(reply.status).toBe(201);
    const full = sessionCookie(reply);
    expect((await get('/api/v1/me', cookie)).status).toBe(401);
    expect((await projectsOf(owner, full)).status).toBe(200);
  });
});

describe('route table', () => {
  it('declares every MFA route, and marks the factor changes as sensitive', () => {
    const mfa = server.app.accessTable.filter((r) => r.url.startsWith('/api/v1/me/mfa') || r.url.startsWith('/api/v1/auth/mfa') || r.url.startsWith('/api/v1/auth/reauth'));
    const sensitive = mfa.filter((r) => r.reauth).map((r) => `${r.method} ${r.url}`).sort();
    expect(sensitive).toEqual([
      'DELETE /api/v1/me/mfa/passkeys/:passkeyId',
      'DELETE /api/v1/me/mfa/totp',
      'POST /api/v1/me/mfa/passkeys/options',
      'POST /api/v1/me/mfa/recovery-codes',
      'POST /api/v1/me/mfa/totp',
    ]);
    expect(mfa.filter((r) => r.url.startsWith('/api/v1/auth/mfa')).every((r) => r.access === 'mfa-step')).toBe(true);
  });
});
