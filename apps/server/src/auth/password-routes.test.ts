import { hash } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, logIn, memberAccount, ownerAccount, PASSWORD, type Account } from '../../../../test/factories.js';
import { PUBLIC_URL, type TestServer } from '../../../../test/server.js';
import { linkIn, startMailingTestServer, type TestSmtp } from '../../../../test/smtp.js';

let smtp: TestSmtp;
let server: TestServer;

beforeAll(async () => {
  ({ server, smtp } = await startMailingTestServer());
});
afterAll(() => server.close());

const NEW_PASSWORD = 'lantern quarry velvet ocelot';

const passwordHash = async (userId: string) =>
  (await server.db.superuser.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [userId])).rows[0]!.password_hash;
const login = (email: string, password: string) => server.request('POST', '/api/v1/auth/login', { body: { email, password } });
const me = (cookie: string) => server.request('GET', '/api/v1/me', { cookie });
const auditActions = async (orgId: string, action: string) =>
  (await server.db.superuser.query('SELECT 1 FROM audit_events WHERE org_id = $1 AND action = $2', [orgId, action])).rowCount;

describe('POST /api/v1/me/password', () => {
  const change = (cookie: string, currentPassword: string, newPassword: string) =>
    server.request('POST', '/api/v1/me/password', { cookie, body: { currentPassword, newPassword } });

  it('sets the new password, ends the other sessions but not this one, audits and mails a notice', async () => {
    const owner = await ownerAccount(server);
    const other = await logIn(server, owner.email);
    const reply = await change(owner.cookie, PASSWORD, NEW_PASSWORD);
    expect(reply.status).toBe(204);
    expect((await me(other)).status).toBe(401);
    expect((await me(owner.cookie)).status).toBe(200);
    expect((await login(owner.email, PASSWORD)).status).toBe(401);
    expect((await login(owner.email, NEW_PASSWORD)).status).toBe(200);
    expect(await auditActions(owner.orgId, 'password.changed')).toBe(1);
    const mail = await smtp.nextMail(owner.email, /password was changed/);
    expect(mail.text).toMatch(/other sessions were signed out/);
  });

  it('refuses a wrong current password with 401, counts it as a failed attempt, and changes nothing', async () => {
    const owner = await ownerAccount(server);
    const other = await logIn(server, owner.email);
    const before = await passwordHash(owner.userId);
    const reply = await change(owner.cookie, 'not my current password', NEW_PASSWORD);
    expect(reply.status).toBe(401);
    expect(reply.body.code).toBe('invalid_credentials');
    expect(await passwordHash(owner.userId)).toBe(before);
    expect((await me(other)).status).toBe(200);
    const { rows } = await server.db.superuser.query('SELECT method, result, reason FROM login_attempts WHERE user_id = $1 AND result = $2', [owner.userId, 'failure']);
    expect(rows).toEqual([{ method: 'password', result: 'failure', reason: 'wrong_password' }]);
  });

  it.each([
    ['too short', 'short one', 'password_too_short'],
    ['too long', 'x'.repeat(129), 'password_too_long'],
    ['easy to guess', 'password1234', 'password_weak'],
    ['built from the name', 'xylophone Owner 77 lamp', 'password_weak'],
  ])('refuses a new password that is %s (400 %s) and changes nothing', async (_case, newPassword, code) => {
    const owner = await ownerAccount(server);
    const before = await passwordHash(owner.userId);
    const reply = await change(owner.cookie, PASSWORD, newPassword);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe(code);
    expect(await passwordHash(owner.userId)).toBe(before);
  });

  it('refuses one containing the account\'s e-mail address', async () => {
    const owner = await ownerAccount(server);
    const reply = await change(owner.cookie, PASSWORD, `my ${owner.email} key`);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ code: 'password_weak', detail: 'Do not use your e-mail address or name in your password.' });
  });

  it('answers a 1 MB password fast with 413', async () => {
    const owner = await ownerAccount(server);
    const started = performance.now();
    const reply = await change(owner.cookie, PASSWORD, 'x'.repeat(1024 * 1024));
    expect(reply.status).toBe(413);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('needs a session (401 unauthenticated)', async () => {
    const reply = await server.request('POST', '/api/v1/me/password', { body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } });
    expect(reply.status).toBe(401);
    expect(reply.body.code).toBe('unauthenticated');
  });
});

describe('rehash on login', () => {
  it('replaces a hash made with weaker parameters (t=1) by one with today\'s (t=2)', async () => {
    const owner = await ownerAccount(server);
    const weak = await hash(PASSWORD, { algorithm: 2, memoryCost: 19456, timeCost: 1, parallelism: 1 });
    await server.db.superuser.query('UPDATE users SET password_hash = $2 WHERE id = $1', [owner.userId, weak]);
    expect((await login(owner.email, PASSWORD)).status).toBe(200);
    const stored = await passwordHash(owner.userId);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await login(owner.email, PASSWORD)).status).toBe(200);
  });

  it('leaves a current hash alone', async () => {
    const owner = await ownerAccount(server);
    const before = await passwordHash(owner.userId);
    expect((await login(owner.email, PASSWORD)).status).toBe(200);
    expect(await passwordHash(owner.userId)).toBe(before);
  });
});

describe('password reset', () => {
  const forgot = (email: string, from?: string) => server.request('POST', '/api/v1/auth/password/forgot', { body: { email }, from });
  const reset = (token: string, password: string) => server.request('POST', '/api/v1/auth/password/reset', { body: { token, password } });
  const resetToken = async (email: string) => {
    const mail = await smtp.nextMail(email, /Reset your Parley password/);
    return linkIn(mail, `${PUBLIC_URL}/reset-password#token=`).split('#token=')[1]!;
  };
  const resetRows = async (userId: string) => (await server.db.superuser.query('SELECT 1 FROM password_resets WHERE user_id = $1', [userId])).rowCount;

  it('mails a 256-bit single-use link in the fragment, stored only as a hash', async () => {
    const owner = await ownerAccount(server);
    const reply = await forgot(owner.email);
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({});
    const token = await resetToken(owner.email);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { rows } = await server.db.superuser.query<{ token_hash: Buffer; expires_at: Date }>('SELECT token_hash, expires_at FROM password_resets WHERE user_id = $1', [owner.userId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash.includes(Buffer.from(token))).toBe(false);
    expect(rows[0]!.expires_at.getTime() - server.clock.now().getTime()).toBe(30 * 60_000);
  });

  it('sets the password, ends every session, logs the attempt, audits and mails a notice', async () => {
    const owner = await ownerAccount(server);
    await forgot(owner.email);
    const token = await resetToken(owner.email);
    const reply = await reset(token, NEW_PASSWORD);
    expect(reply.status).toBe(204);
    expect(reply.headers.getSetCookie()).toEqual([]);
    expect((await me(owner.cookie)).status).toBe(401);
    expect((await login(owner.email, PASSWORD)).status).toBe(401);
    expect((await login(owner.email, NEW_PASSWORD)).status).toBe(200);
    const { rows } = await server.db.superuser.query('SELECT method, result, reason FROM login_attempts WHERE user_id = $1 AND method = $2', [owner.userId, 'reset']);
    expect(rows).toEqual([{ method: 'reset', result: 'success', reason: 'password_reset' }]);
    expect(await auditActions(owner.orgId, 'password.reset')).toBe(1);
    const notice = await smtp.nextMail(owner.email, /password was changed/);
    expect(notice.text).toMatch(/All its sessions were signed out/);
  });

  it('answers a known and an unknown e-mail identically, stores nothing and mails nothing for the unknown one', async () => {
    const owner = await ownerAccount(server);
    const outboxBefore = await countRows(server, 'outbox');
    const resetsBefore = await countRows(server, 'password_resets');
    const known = await forgot(owner.email);
    const unknown = await forgot(`nobody-${owner.userId}@example.test`);
    expect(unknown.status).toBe(known.status);
    expect(unknown.text).toBe(known.text);
    expect(unknown.headers.get('content-type')).toBe(known.headers.get('content-type'));
    await resetToken(owner.email);
    expect(await countRows(server, 'password_resets')).toBe(resetsBefore + 1);
    expect(await countRows(server, 'outbox')).toBe(outboxBefore + 1);
  });

  it('takes about as long for an unknown e-mail as for a known one (no hashing or mail work to tell them apart)', async () => {
    const owner = await ownerAccount(server);
    const known = [owner, await memberAccount(server, owner.orgId, 'member'), await memberAccount(server, owner.orgId, 'viewer')];
    const timed = async (email: string) => {
      const started = performance.now();
      expect((await forgot(email, '127.0.4.1')).status).toBe(202);
      return performance.now() - started;
    };
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (const account of known) {
        knownTimes.push(await timed(account.email));
        unknownTimes.push(await timed(`nobody-${round}-${account.userId}@example.test`));
      }
    }
    // Loose on purpose (a shared CI machine): an argon2 hash or an SMTP
    // exchange in one path would be tens of milliseconds.
    expect(Math.abs(median(knownTimes) - median(unknownTimes))).toBeLessThan(20);
  });

  it('mails one account at most 3 reset links an hour, answering the same beyond', async () => {
    const owner = await ownerAccount(server);
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await forgot(owner.email, '127.0.4.2'));
    expect(replies.map((r) => [r.status, r.text])).toEqual(Array(5).fill([202, '{}']));
    expect(await resetRows(owner.userId)).toBe(3);
    for (let i = 0; i < 3; i++) await resetToken(owner.email);
    server.clock.advance(61 * 60_000);
    await forgot(owner.email, '127.0.4.2');
    expect(await resetRows(owner.userId)).toBe(4);
    await resetToken(owner.email);
    expect(smtp.received.filter((m) => m.to.includes(owner.email) && /Reset/.test(m.subject))).toHaveLength(4);
  });

  it('handles at most 30 requests an hour from one address, answering the same beyond; other addresses are unaffected', async () => {
    const owner = await ownerAccount(server);
    for (let i = 0; i < 30; i++) await forgot(`nobody-${i}-${owner.userId}@example.test`, '127.0.4.3');
    const over = await forgot(owner.email, '127.0.4.3');
    expect([over.status, over.text]).toEqual([202, '{}']);
    expect(await resetRows(owner.userId)).toBe(0);
    await forgot(owner.email, '127.0.4.4');
    await resetToken(owner.email);
    expect(await resetRows(owner.userId)).toBe(1);
  });

  it('treats case and spaces of the e-mail as the same account', async () => {
    const owner = await ownerAccount(server);
    await forgot(`  ${owner.email.toUpperCase()} `);
    await resetToken(owner.email);
    expect(await resetRows(owner.userId)).toBe(1);
  });

  describe('refuses with 400 token_invalid, changing nothing', () => {
    let owner: Account;
    let token: string;
    beforeAll(async () => {
      owner = await ownerAccount(server);
      await forgot(owner.email);
      token = await resetToken(owner.email);
    });

    const refused = async (attempt: string) => {
      const before = await passwordHash(owner.userId);
      const reply = await reset(attempt, NEW_PASSWORD);
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe('token_invalid');
      expect(await passwordHash(owner.userId)).toBe(before);
      expect((await me(owner.cookie)).status).toBe(200);
    };

    it('an unknown token', () => refused('A'.repeat(43)));
    it('a malformed token', () => refused('../../etc/passwd'));
    it('another kind of secret (a session token)', () => refused(owner.cookie.split('=')[1]!));
    it('the token with a character changed', () => refused(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`));

    it('a token past its 30 minutes', async () => {
      const other = await ownerAccount(server);
      await forgot(other.email);
      const stale = await resetToken(other.email);
      server.clock.advance(30 * 60_000);
      const before = await passwordHash(other.userId);
      const reply = await reset(stale, NEW_PASSWORD);
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe('token_invalid');
      expect(await passwordHash(other.userId)).toBe(before);
    });

    it('a token used once already, and every other token of the account with it', async () => {
      const other = await ownerAccount(server);
      await forgot(other.email);
      await forgot(other.email);
      const first = await resetToken(other.email);
      const second = await resetToken(other.email);
      expect((await reset(first, NEW_PASSWORD)).status).toBe(204);
      const after = await passwordHash(other.userId);
      for (const used of [first, second]) {
        const reply = await reset(used, 'another fine passphrase here');
        expect(reply.status).toBe(400);
        expect(reply.body.code).toBe('token_invalid');
      }
      expect(await passwordHash(other.userId)).toBe(after);
    });
  });

  it('changes only the account the token was made for', async () => {
    const a = await ownerAccount(server);
    const b = await memberAccount(server, a.orgId, 'admin');
    const bBefore = await passwordHash(b.userId);
    await forgot(a.email);
    expect((await reset(await resetToken(a.email), NEW_PASSWORD)).status).toBe(204);
    expect(await passwordHash(b.userId)).toBe(bBefore);
    expect((await me(b.cookie)).status).toBe(200);
  });

  it('refuses a weak new password with 400 and leaves the token usable', async () => {
    const owner = await ownerAccount(server);
    await forgot(owner.email);
    const token = await resetToken(owner.email);
    const before = await passwordHash(owner.userId);
    for (const [password, code] of [['short', 'password_too_short'], ['password1234', 'password_weak'], [`${owner.email} rocks`, 'password_weak']]) {
      const reply = await reset(token, password!);
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe(code);
    }
    expect(await passwordHash(owner.userId)).toBe(before);
    expect((await me(owner.cookie)).status).toBe(200);
    expect((await reset(token, NEW_PASSWORD)).status).toBe(204);
  });

  it('answers a 1 MB password fast with 413', async () => {
    const reply = await reset('A'.repeat(43), 'x'.repeat(1024 * 1024));
    expect(reply.status).toBe(413);
    expect(reply.body.code).toBe('body_too_large');
  });
});
