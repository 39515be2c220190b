import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, ownerAccount, project, setProtection, submit, submitRaw, type Account } from '../../../../test/factories.js';
import { solvedPayload } from '../../../../test/pow.js';
import { startTestServer, type Reply, type TestServer } from '../../../../test/server.js';
import type { Project } from '../projects/service.js';
import { submissionTokenMac } from '../security/submission-token.js';

// Attack tests for the front door: each protection is pushed past its limit
// or fed a forged value, and must answer its own problem code while nothing
// is stored.

let server: TestServer;
let owner: Account;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
});
afterAll(() => server.close());

const reporter = () => randomBytes(16).toString('base64url');
const challengeFor = async (p: Project, from?: string) => {
  const reply = await server.rawRequest('GET', `/api/widget/v1/projects/${p.key}/challenge`, { headers: { origin: 'https://example.com' }, from });
  expect(reply.status).toBe(200);
  return reply.body;
};
const human = async (p: Project) => ({ reporter: reporter(), elapsedMs: 10_000, challenge: solvedPayload(await challengeFor(p)) });

/** Sends and expects a refusal with `code`, and no new feedback row. */
async function expectRefused(send: Promise<Reply>, status: number, code: string): Promise<Reply> {
  const before = await countRows(server, 'feedback');
  const reply = await send;
  expect({ status: reply.status, code: reply.body.code }).toEqual({ status, code });
  expect(await countRows(server, 'feedback')).toBe(before);
  return reply;
}

describe('bots that skip the widget', () => {
  let p: Project;
  beforeAll(async () => {
    p = await project(server, owner.orgId);
  });

  it('refuses a filled honeypot with honeypot_filled', async () => {
    await expectRefused(submitRaw(server, p.key, { message: 'buy now', honeypot: 'http://spam.example', ...(await human(p)) }), 400, 'honeypot_filled');
  });

  it('refuses a submission sent faster than the project minimum, or without its time, with too_fast', async () => {
    await expectRefused(submitRaw(server, p.key, { message: 'hello', ...(await human(p)), elapsedMs: 2999 }), 400, 'too_fast');
    const { elapsedMs: _time, ...withoutTime } = await human(p);
    await expectRefused(submitRaw(server, p.key, { message: 'hello', ...withoutTime }), 400, 'too_fast');
  });

  it('accepts the same submission at the minimum time', async () => {
    expect((await submitRaw(server, p.key, { message: 'hello', ...(await human(p)), elapsedMs: 3000 })).status).toBe(201);
  });
});

describe('proof of work', () => {
  let p: Project;
  let other: Project;
  beforeAll(async () => {
    p = await project(server, owner.orgId);
    other = await project(server, owner.orgId);
  });

  it('is on by default: no challenge is challenge_missing', async () => {
    await expectRefused(submitRaw(server, p.key, { message: 'hello', reporter: reporter(), elapsedMs: 10_000 }), 403, 'challenge_missing');
  });

  it('accepts a solution once; sent again it is challenge_replayed', async () => {
    const body = { message: 'first', ...(await human(p)) };
    expect((await submitRaw(server, p.key, body)).status).toBe(201);
    await expectRefused(submitRaw(server, p.key, { ...body, message: 'second', reporter: reporter() }), 403, 'challenge_replayed');
  });

  it("refuses another project's challenge with challenge_wrong_project", async () => {
    const payload = solvedPayload(await challengeFor(other));
    await expectRefused(submitRaw(server, p.key, { message: 'hello', reporter: reporter(), elapsedMs: 10_000, challenge: payload }), 403, 'challenge_wrong_project');
  });

  it('refuses a wrong number, a forged signature and garbage with challenge_invalid', async () => {
    const challenge = await challengeFor(p);
    const base = { message: 'hello', reporter: reporter(), elapsedMs: 10_000 };
    const wrong = solvedPayload(challenge, challenge.maxnumber + 1);
    const forged = solvedPayload({ ...challenge, signature: 'f'.repeat(64) });
    for (const payload of [wrong, forged, 'not base64!', Buffer.from('{"algorithm":"SHA-256"}').toString('base64')]) {
      await expectRefused(submitRaw(server, p.key, { ...base, challenge: payload }), 403, 'challenge_invalid');
    }
  });

  it('refuses a challenge solved after its 5 minutes with challenge_expired', async () => {
    const payload = solvedPayload(await challengeFor(p));
    server.clock.advance(5 * 60_000 + 1000);
    await expectRefused(submitRaw(server, p.key, { message: 'late', reporter: reporter(), elapsedMs: 10_000, challenge: payload }), 403, 'challenge_expired');
  });

  it('gives no challenge to a project without proof of work', async () => {
    const none = await project(server, owner.orgId);
    await setProtection(server, owner, none, { captcha: { provider: 'none' } });
    const reply = await server.rawRequest('GET', `/api/widget/v1/projects/${none.key}/challenge`, { headers: { origin: 'https://example.com' } });
    expect(reply.status).toBe(404);
    expect((await submitRaw(server, none.key, { message: 'no bot check', reporter: reporter(), elapsedMs: 10_000 })).status).toBe(201);
  });

  it('refuses challenges to a site that is not allowed, and sets no CORS header for it', async () => {
    const reply = await server.rawRequest('GET', `/api/widget/v1/projects/${p.key}/challenge`, { headers: { origin: 'https://evil.example' } });
    expect(reply.status).toBe(403);
    expect(reply.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('rate limits', () => {
  it('answers the 4th submission from one address with 429 rate_limit_ip, Retry-After and RateLimit headers; another address goes on', async () => {
    const p = await project(server, owner.orgId);
    await setProtection(server, owner, p, { limits: { perIp: { points: 3, seconds: 300 } } });
    for (let i = 0; i < 3; i++) {
      const ok = await submit(server, p.key, { message: `message ${i}` });
      expect(ok.status).toBe(201);
      expect(ok.headers.get('ratelimit-limit')).toBe('3');
      expect(ok.headers.get('ratelimit-remaining')).toBe(String(2 - i));
    }
    const refused = await expectRefused(submit(server, p.key, { message: 'one too many' }), 429, 'rate_limit_ip');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://example.com');
    expect(refused.headers.get('access-control-expose-headers')).toBe('Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset');
    // Spoofed forwarding headers from a peer that is no trusted proxy change nothing.
    const spoofed: Record<string, string>[] = [{ 'x-forwarded-for': '198.51.100.1' }, { forwarded: 'for=198.51.100.2' }, { 'x-real-ip': '198.51.100.3' }];
    for (const headers of spoofed) {
      await expectRefused(submit(server, p.key, { message: 'spoofed' }, 'https://example.com', headers), 429, 'rate_limit_ip');
    }
    // Path variants reach no other bucket: they are the same route or none.
    for (const variant of [`/api/widget/v1/projects/${p.key}/feedback/`, `/api/widget/v1/projects/${p.key}/FEEDBACK`, `/api/widget/v1/projects/${p.key}%2Ffeedback`]) {
      const reply = await server.rawRequest('POST', variant, { body: { message: 'variant' }, headers: { origin: 'https://example.com' } });
      expect([404, 429]).toContain(reply.status);
    }
    expect((await submit(server, p.key, { message: 'from another address' }, 'https://example.com', {}, '127.0.0.2')).status).toBe(201);
  });

  it('limits a visitor by reporter id: the 3rd is rate_limit_reporter, a new visitor goes on', async () => {
    const p = await project(server, owner.orgId);
    await setProtection(server, owner, p, { limits: { perReporter: { points: 2, seconds: 600 } } });
    const me = reporter();
    expect((await submit(server, p.key, { message: 'one', reporter: me })).status).toBe(201);
    expect((await submit(server, p.key, { message: 'two', reporter: me })).status).toBe(201);
    const refused = await expectRefused(submit(server, p.key, { message: 'three', reporter: me }), 429, 'rate_limit_reporter');
    expect(refused.body.detail).toMatch(/try again in \d+ minutes/);
    expect((await submit(server, p.key, { message: 'three', reporter: reporter() })).status).toBe(201);
  });

  it("stops a project at its minute budget with rate_limit_project, and refused requests do not spend it", async () => {
    const p = await project(server, owner.orgId);
    await setProtection(server, owner, p, { limits: { projectPerMinute: 2 } });
    await expectRefused(submit(server, p.key, { message: 'bot', honeypot: 'x' }), 400, 'honeypot_filled');
    await expectRefused(submit(server, p.key, { message: 'bot', challenge: 'garbage' }), 403, 'challenge_invalid');
    expect((await submit(server, p.key, { message: 'one' })).status).toBe(201);
    expect((await submit(server, p.key, { message: 'two' })).status).toBe(201);
    await expectRefused(submit(server, p.key, { message: 'three' }), 429, 'rate_limit_project');
  });

  it('limits challenges per address (rate_limit_challenge) and raises the difficulty past a quarter of the limit', async () => {
    const p = await project(server, owner.orgId);
    await setProtection(server, owner, p, { limits: { challengesPerIp: { points: 8, seconds: 300 } } });
    const levels: number[] = [];
    for (let i = 0; i < 8; i++) levels.push((await challengeFor(p)).maxnumber);
    expect(levels[0]).toBeLessThan(levels[7]!);
    expect(new Set(levels.slice(0, 2)).size).toBe(1);
    const refused = await server.rawRequest('GET', `/api/widget/v1/projects/${p.key}/challenge`, { headers: { origin: 'https://example.com' } });
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 429, code: 'rate_limit_challenge' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('spam rules', () => {
  let p: Project;
  beforeAll(async () => {
    p = await project(server, owner.orgId);
    await setProtection(server, owner, p, {
      spam: { blockedWords: ['Casino', 'cheap pills'], blockedEmailDomains: ['@Spam.Example.'], blockedIpRanges: ['127.0.0.3/32'], maxLinks: 1, dropDuplicates: true },
    });
  });

  it('refuses a blocked word or phrase in any case, in the message or a custom field, as whole words only', async () => {
    await expectRefused(submit(server, p.key, { message: 'Visit our CASINO!' }), 400, 'spam_blocked_word');
    await expectRefused(submit(server, p.key, { message: 'get cheap pills now' }), 400, 'spam_blocked_word');
    expect((await submit(server, p.key, { message: 'an occasional casinos-free remark' })).status).toBe(201);
  });

  it('refuses e-mail from a blocked domain and its subdomains', async () => {
    await expectRefused(submit(server, p.key, { message: 'hi', email: 'bot@spam.example' }), 400, 'spam_blocked_email');
    await expectRefused(submit(server, p.key, { message: 'hi', email: 'bot@mail.SPAM.example' }), 400, 'spam_blocked_email');
    expect((await submit(server, p.key, { message: 'hi', email: 'person@notspam.example' })).status).toBe(201);
  });

  it('refuses more links than allowed', async () => {
    await expectRefused(submit(server, p.key, { message: 'see https://a.example and www.b.example' }), 400, 'spam_too_many_links');
    expect((await submit(server, p.key, { message: 'see https://a.example' })).status).toBe(201);
  });

  it('refuses a blocked address range before reading the body', async () => {
    const reply = await server.rawRequest('POST', `/api/widget/v1/projects/${p.key}/feedback`, { raw: '{"not": json', headers: { origin: 'https://example.com', 'content-type': 'application/json' }, from: '127.0.0.3' });
    expect({ status: reply.status, code: reply.body.code }).toEqual({ status: 403, code: 'spam_blocked_ip' });
  });

  it('stores the same message from the same visitor once in the hour, answering with the first id', async () => {
    const me = reporter();
    const first = await submit(server, p.key, { message: 'The  checkout button is broken', reporter: me });
    const before = await countRows(server, 'feedback');
    const again = await submit(server, p.key, { message: 'the checkout button is broken ', reporter: me });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(await countRows(server, 'feedback')).toBe(before);
    expect((await submit(server, p.key, { message: 'The checkout button is broken', reporter: reporter() })).body.id).not.toBe(first.body.id);
  });

  it('stores a retry of the first submission itself (same Idempotency-Key) once, not refused as its own duplicate', async () => {
    const me = reporter();
    const headers = { 'idempotency-key': `retry-${me}` };
    const first = await submit(server, p.key, { message: 'retried message', reporter: me }, 'https://example.com', headers);
    const retry = await submit(server, p.key, { message: 'retried message', reporter: me }, 'https://example.com', headers);
    expect(retry.body.id).toBe(first.body.id);
    const { rows } = await server.db.superuser.query('SELECT count(*)::int AS n FROM feedback WHERE id = $1', [first.body.id]);
    expect(rows[0].n).toBe(1);
  });
});

describe('signed submissions', () => {
  let p: Project;
  let secret: string;
  const now = () => Math.floor(server.clock.now().getTime() / 1000);
  const token = (userId: string, exp: number, key = p.key, withSecret = secret) => `${exp}.${submissionTokenMac(withSecret, key, userId, exp).toString('hex')}`;

  beforeAll(async () => {
    p = await project(server, owner.orgId);
    await setProtection(server, owner, p, { signedSubmissions: true });
    secret = (await server.request('POST', `/api/v1/orgs/${owner.orgId}/projects/${p.id}/identity-secret`, { cookie: owner.cookie })).body.secret;
  });

  it('accepts a token minted by the site for this visitor and marks the identity verified', async () => {
    const reply = await submit(server, p.key, { message: 'signed', identity: { id: 'user-42', token: token('user-42', now() + 300) } });
    expect(reply.status).toBe(201);
    const { rows } = await server.db.superuser.query('SELECT identity_verified FROM feedback WHERE id = $1', [reply.body.id]);
    expect(rows[0].identity_verified).toBe(true);
  });

  it('refuses no token, another user id, another project, another secret, a tampered MAC and a too-long lifetime', async () => {
    await expectRefused(submit(server, p.key, { message: 'x' }), 403, 'submission_token_missing');
    await expectRefused(submit(server, p.key, { message: 'x', identity: { id: 'user-42' } }), 403, 'submission_token_missing');
    const exp = now() + 300;
    const good = token('user-42', exp);
    await expectRefused(submit(server, p.key, { message: 'x', identity: { id: 'user-43', token: good } }), 403, 'submission_token_invalid');
    await expectRefused(submit(server, p.key, { message: 'x', identity: { id: 'user-42', token: token('user-42', exp, 'pk_another_project_key_x') } }), 403, 'submission_token_invalid');
    await expectRefused(submit(server, p.key, { message: 'x', identity: { id: 'user-42', token: token('user-42', exp, p.key, 'pis_not_the_secret') } }), 403, 'submission_token_invalid');
    await expectRefused(submit(server, p.key, { message: 'x', identity: { id: 'user-42', token: `${exp + 1}.${good.split('.')[1]}` } }), 403, 'submission_token_invalid');
    await expectRefused(submit(server, p.key, { message: 'x', identity: { id: 'user-42', token: token('user-42', now() + 3600) } }), 403, 'submission_token_invalid');
  });

  it('refuses an expired token with submission_token_expired', async () => {
    const old = token('user-42', now() + 60);
    server.clock.advance(3 * 60_000);
    await expectRefused(submit(server, p.key, { message: 'x', identity: { id: 'user-42', token: old } }), 403, 'submission_token_expired');
  });
});

describe('the Protection page data', () => {
  it('counts refusals by code for the last 24 hours, hour by hour', async () => {
    const p = await project(server, owner.orgId);
    await submit(server, p.key, { message: 'bot', honeypot: 'x' });
    await submit(server, p.key, { message: 'bot', honeypot: 'y' });
    await submit(server, p.key, { message: 'bot', challenge: 'garbage' });
    await server.rawRequest('POST', `/api/widget/v1/projects/${p.key}/feedback`, { body: { message: 'x' }, headers: { origin: 'https://evil.example' } });
    const reply = await server.request('GET', `/api/v1/orgs/${owner.orgId}/projects/${p.id}/protection/refusals`, { cookie: owner.cookie });
    expect(reply.status).toBe(200);
    expect(reply.body.total).toBe(4);
    expect(reply.body.reasons).toEqual([
      { code: 'honeypot_filled', count: 2 },
      { code: 'challenge_invalid', count: 1 },
      { code: 'origin_not_allowed', count: 1 },
    ]);
    expect(reply.body.hours).toHaveLength(24);
    expect(reply.body.hours.at(-1).count).toBe(4);
  });
});
