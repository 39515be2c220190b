import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerAccount, PASSWORD, type Account } from '../../../../test/factories.js';
import type { Reply, TestServer } from '../../../../test/server.js';
import { startMailingTestServer, type TestSmtp } from '../../../../test/smtp.js';

// SECURITY.md: per account, 5 failures in 15 minutes start an exponential
// delay and 10 lock it for 15 minutes; per IP, 100 failures in 15 minutes
// block it for an hour. Each test attacks from its own loopback address so
// the per-IP counter of one does not leak into another.

let smtp: TestSmtp;
let server: TestServer;

beforeAll(async () => {
  ({ server, smtp } = await startMailingTestServer());
});
afterAll(() => server.close());

const WRONG = 'not the right password';
const MINUTE = 60_000;

const login = (email: string, password: string, from: string) => server.request('POST', '/api/v1/auth/login', { body: { email, password }, from });
const answer = (reply: Reply) => ({ status: reply.status, body: reply.body, retryAfter: reply.headers.get('retry-after') });

/**
 * A signed-in account whose login lies a second back: failures logged in the
 * same instant as a success would not count after it.
 */
async function victim(): Promise<Account> {
  const account = await ownerAccount(server);
  server.clock.advance(1000);
  return account;
}

/** Ten failures, each after any delay the one before started: the account locks. */
async function failTenTimes(email: string, from: string): Promise<Reply[]> {
  const replies: Reply[] = [];
  for (let i = 0; i < 10; i++) {
    replies.push(await login(email, WRONG, from));
    server.clock.advance(20_000);
  }
  return replies;
}

describe('per-account delay and lock', () => {
  it('after 5 failures delays the next try (429 too_many_attempts, Retry-After), even with the right password; later it works', async () => {
    const owner = await victim();
    for (let i = 0; i < 5; i++) expect((await login(owner.email, WRONG, '127.0.1.1')).status).toBe(401);
    const delayed = await login(owner.email, PASSWORD, '127.0.1.1');
    expect(delayed.status).toBe(429);
    expect(delayed.body).toMatchObject({ code: 'too_many_attempts', detail: 'Too many attempts. Try again in 1 second.' });
    expect(delayed.headers.get('retry-after')).toBe('1');
    server.clock.advance(1000);
    expect((await login(owner.email, PASSWORD, '127.0.1.1')).status).toBe(200);
  });

  it('doubles the delay with each further failure', async () => {
    const owner = await victim();
    for (let i = 0; i < 5; i++) await login(owner.email, WRONG, '127.0.1.2');
    const waits: (string | null)[] = [];
    for (let failures = 5; failures < 9; failures++) {
      waits.push((await login(owner.email, WRONG, '127.0.1.2')).headers.get('retry-after'));
      server.clock.advance(1000 * 2 ** (failures - 5));
      expect((await login(owner.email, WRONG, '127.0.1.2')).status).toBe(401);
    }
    expect(waits).toEqual(['1', '2', '4', '8']);
  });

  it('locks the account for 15 minutes after 10 failures: the right password gets the very same answer, and the owner is mailed', async () => {
    const owner = await victim();
    const replies = await failTenTimes(owner.email, '127.0.1.3');
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(401));
    const right = await login(owner.email, PASSWORD, '127.0.1.3');
    const wrong = await login(owner.email, WRONG, '127.0.1.3');
    expect(answer(right)).toEqual(answer(wrong));
    expect(right.status).toBe(429);
    expect(right.body.code).toBe('too_many_attempts');
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(14 * 60);
    expect(right.headers.getSetCookie()).toEqual([]);
    const mail = await smtp.nextMail(owner.email, /Your Parley account was locked/);
    expect(mail.text).toMatch(/paused until 2026-06-01 \d\d:\d\d UTC/);
    const { rows } = await server.db.superuser.query(`SELECT 1 FROM audit_events WHERE org_id = $1 AND action = 'account.locked'`, [owner.orgId]);
    expect(rows).toHaveLength(1);
  });

  it('does not extend the lock for attempts made while locked; blocked attempts are logged as blocked, before any hash', async () => {
    const owner = await victim();
    await failTenTimes(owner.email, '127.0.1.4');
    for (let i = 0; i < 14; i++) {
      server.clock.advance(MINUTE);
      expect((await login(owner.email, PASSWORD, '127.0.1.4')).status).toBe(429);
    }
    server.clock.advance(MINUTE);
    expect((await login(owner.email, PASSWORD, '127.0.1.4')).status).toBe(200);
    const { rows } = await server.db.superuser.query<{ result: string; reason: string; n: string }>(
      `SELECT result, reason, count(*) AS n FROM login_attempts WHERE email = $1 GROUP BY result, reason ORDER BY result, reason`,
      [owner.email],
    );
    expect(rows).toEqual([
      { result: 'blocked', reason: 'account_locked', n: '14' },
      { result: 'failure', reason: 'wrong_password', n: '10' },
      { result: 'success', reason: null, n: '2' },
    ]);
  });

  it('counts case and white-space variants of an e-mail as one account', async () => {
    const owner = await victim();
    const variants = [owner.email, owner.email.toUpperCase(), ` ${owner.email}`, `${owner.email}\t`, `  ${owner.email.toUpperCase()}  `];
    for (const variant of variants) expect((await login(variant, WRONG, '127.0.1.5')).status).toBe(401);
    const reply = await login(owner.email, PASSWORD, '127.0.1.5');
    expect(reply.status).toBe(429);
  });

  it('starts counting again after a success', async () => {
    const owner = await victim();
    for (let i = 0; i < 4; i++) await login(owner.email, WRONG, '127.0.1.6');
    expect((await login(owner.email, PASSWORD, '127.0.1.6')).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await login(owner.email, WRONG, '127.0.1.6')).status).toBe(401);
    expect((await login(owner.email, PASSWORD, '127.0.1.6')).status).toBe(200);
  });

  it('does not start counting again after a right password whose second factor is still due', async () => {
    const owner = await victim();
    await server.db.superuser.query(`INSERT INTO totp_credentials (user_id, secret_enc, confirmed_at, created_at) VALUES ($1, '\\x00', $2, $2)`, [owner.userId, server.clock.now()]);
    for (let i = 0; i < 4; i++) await login(owner.email, WRONG, '127.0.1.10');
    const halfway = await login(owner.email, PASSWORD, '127.0.1.10');
    expect(halfway.status).toBe(200);
    expect(halfway.body.stage).toBe('mfa');
    expect((await login(owner.email, WRONG, '127.0.1.10')).status).toBe(401);
    const reply = await login(owner.email, PASSWORD, '127.0.1.10');
    expect(reply.status).toBe(429);
    const { rows } = await server.db.superuser.query(`SELECT reason FROM login_attempts WHERE email = $1 AND result = 'success' ORDER BY id`, [owner.email]);
    expect(rows).toEqual([{ reason: null }, { reason: 'second_factor_due' }]);
  });

  it('keeps counting across a password reset (it is not a sign-in)', async () => {
    const owner = await victim();
    for (let i = 0; i < 5; i++) await login(owner.email, WRONG, '127.0.1.12');
    await server.request('POST', '/api/v1/auth/password/forgot', { body: { email: owner.email } });
    const token = (await smtp.nextMail(owner.email, /Reset/)).text.match(/#token=([A-Za-z0-9_-]{43})/)![1]!;
    expect((await server.request('POST', '/api/v1/auth/password/reset', { body: { token, password: 'lantern quarry velvet ocelot' } })).status).toBe(204);
    expect((await login(owner.email, 'lantern quarry velvet ocelot', '127.0.1.12')).status).toBe(429);
    server.clock.advance(1000);
    expect((await login(owner.email, 'lantern quarry velvet ocelot', '127.0.1.12')).status).toBe(200);
  });

  it('checks parallel guesses on one account one after another, so they cannot slip past the delay together', async () => {
    const owner = await victim();
    const replies = await Promise.all(Array.from({ length: 30 }, () => login(owner.email, WRONG, '127.0.1.11')));
    expect(replies.filter((r) => r.status === 401)).toHaveLength(5);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(25);
    const { rows } = await server.db.superuser.query(`SELECT result, count(*)::int AS n FROM login_attempts WHERE email = $1 AND result <> 'success' GROUP BY result ORDER BY result`, [owner.email]);
    expect(rows).toEqual([{ result: 'blocked', n: 25 }, { result: 'failure', n: 5 }]);
  });

  it('limits an unknown e-mail exactly like a known one (same answers, same Retry-After)', async () => {
    const owner = await victim();
    const unknown = `nobody-${owner.userId}@example.test`;
    const known: ReturnType<typeof answer>[] = [];
    const other: ReturnType<typeof answer>[] = [];
    for (let i = 0; i < 11; i++) {
      known.push(answer(await login(owner.email, WRONG, '127.0.1.7')));
      other.push(answer(await login(unknown, WRONG, '127.0.1.8')));
      server.clock.advance(20_000);
    }
    expect(other).toEqual(known);
    expect(known.at(-1)).toMatchObject({ status: 429 });
  });

  it('counts a wrong current password at password change towards the lock', async () => {
    const owner = await victim();
    for (let i = 0; i < 10; i++) {
      const reply = await server.request('POST', '/api/v1/me/password', { cookie: owner.cookie, body: { currentPassword: WRONG, newPassword: 'lantern quarry velvet ocelot' }, from: '127.0.1.9' });
      expect(reply.status).toBe(401);
      server.clock.advance(20_000);
    }
    const reply = await login(owner.email, PASSWORD, '127.0.1.9');
    expect(reply.status).toBe(429);
    await smtp.nextMail(owner.email, /locked/);
  });
});

describe('per-IP block', () => {
  let victims: Account[];
  beforeAll(async () => {
    victims = [await victim(), await victim(), await victim()];
  });

  it('cuts a 1,000-attempt password spray over many accounts off after 100 failures: blocked for an hour, other IPs unaffected', async () => {
    const sprayer = '127.0.2.1';
    const emails = Array.from({ length: 1000 }, (_, i) => (i % 100 === 0 ? victims[(i / 100) % victims.length]!.email : `user${i}@example.test`));
    const statuses: number[] = [];
    for (let i = 0; i < emails.length; i += 20) {
      const batch = await Promise.all(emails.slice(i, i + 20).map((email) => login(email, 'Summer2026!', sprayer)));
      statuses.push(...batch.map((r) => r.status));
    }
    const failures = statuses.filter((s) => s === 401).length;
    // Up to one batch in flight when the block lands may still be checked.
    expect(failures).toBeGreaterThanOrEqual(100);
    expect(failures).toBeLessThan(120);
    expect(statuses.filter((s) => s === 429).length).toBe(1000 - failures);

    const { rows: blocks } = await server.db.superuser.query<{ until: Date }>(`SELECT until FROM login_blocks WHERE kind = 'ip' AND key = $1`, [sprayer]);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.until.getTime() - server.clock.now().getTime()).toBe(60 * MINUTE);
    // Refused before any hash: logged as blocked, with the reason.
    const { rows } = await server.db.superuser.query<{ n: string }>(`SELECT count(*) AS n FROM login_attempts WHERE ip = $1 AND result = 'blocked' AND reason = 'ip_blocked'`, [sprayer]);
    expect(Number(rows[0]!.n)).toBe(1000 - failures);

    const victim = victims[0]!;
    const blocked = await login(victim.email, PASSWORD, sprayer);
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('too_many_attempts');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(59 * 60);
    expect((await login(victim.email, PASSWORD, '127.0.2.2')).status).toBe(200);

    server.clock.advance(60 * MINUTE);
    expect((await login(victim.email, PASSWORD, sprayer)).status).toBe(200);
  });
});

describe('known and unknown e-mails', () => {
  it('answer a wrong password with the same status and body at login', async () => {
    const owner = await victim();
    const known = await login(owner.email, WRONG, '127.0.3.1');
    const unknown = await login(`nobody-${owner.userId}@example.test`, WRONG, '127.0.3.1');
    expect(answer(unknown)).toEqual(answer(known));
    expect(unknown.text).toBe(known.text);
  });
});
