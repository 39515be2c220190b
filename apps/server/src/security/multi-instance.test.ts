import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, ownerAccount, project, setProtection, submitRaw, type Account } from '../../../../test/factories.js';
import { startTwoInstances, type TwoInstances } from '../../../../test/instances.js';
import { solvedPayload, type Challenge } from '../../../../test/pow.js';
import type { Reply, TestServer } from '../../../../test/server.js';
import type { Project } from '../projects/service.js';

// Two Parley instances of one deployment (one database; one Redis when
// TEST_REDIS_URL is set, else shared state in PostgreSQL): what one instance
// counted or accepted, the other knows.

let two: TwoInstances;
let owner: Account;

beforeAll(async () => {
  two = await startTwoInstances();
  owner = await ownerAccount(two.a);
});
afterAll(() => two.close());

const ORIGIN = 'https://example.com';

/** A project whose per-IP limit is 10 in five minutes, everything else at its defaults. */
async function projectLimitedTo10(): Promise<Project> {
  const p = await project(two.a, owner.orgId);
  await setProtection(two.a, owner, p, { limits: { perIp: { points: 10, seconds: 300 } } });
  return p;
}

async function challengeFrom(server: TestServer, p: Project): Promise<string> {
  const reply = await server.rawRequest('GET', `/api/widget/v1/projects/${p.key}/challenge`, { headers: { origin: ORIGIN } });
  expect(reply.status).toBe(200);
  return solvedPayload(reply.body as Challenge);
}

/** What the widget sends: a solved challenge (from the same instance unless given), a new visitor, a human's pause. */
async function send(server: TestServer, p: Project, challenge?: string): Promise<Reply> {
  const body = {
    message: `feedback ${randomBytes(4).toString('hex')}`,
    reporter: randomBytes(16).toString('base64url'),
    elapsedMs: 60_000,
    challenge: challenge ?? (await challengeFrom(server, p)),
  };
  return submitRaw(server, p.key, body, ORIGIN);
}

const stored = (p: Project) => countRows(two.a, `feedback WHERE project_id = '${p.id}'`);

function expectRefusedForIp(reply: Reply) {
  expect(reply.status).toBe(429);
  expect(reply.body.code).toBe('rate_limit_ip');
  expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(reply.headers.get('ratelimit-limit')).toBe('10');
  expect(reply.headers.get('ratelimit-remaining')).toBe('0');
}

const degraded = (server: TestServer) =>
  expect.poll(async () => (await server.request('GET', '/readyz')).body.sharedState.degraded, { timeout: 20_000, interval: 50 });

describe('two instances', () => {
  it('share one per-IP limit of 10: 5 on each, the 11th refused on either', async () => {
    const p = await projectLimitedTo10();
    const remaining: string[] = [];
    for (const server of [two.a, two.b]) {
      for (let i = 0; i < 5; i++) {
        const reply = await send(server, p);
        expect(reply.status, reply.text).toBe(201);
        remaining.push(reply.headers.get('ratelimit-remaining')!);
      }
    }
    // One count: the second instance goes on where the first stopped.
    expect(remaining).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);
    expectRefusedForIp(await send(two.a, p));
    expectRefusedForIp(await send(two.b, p));
    expect(await stored(p)).toBe(10);
  });

  it('refuse on one instance a challenge solved on the other', async () => {
    const p = await project(two.a, owner.orgId);
    const solved = await challengeFrom(two.a, p);
    expect((await send(two.a, p, solved)).status).toBe(201);
    const replay = await send(two.b, p, solved);
    expect(replay.status).toBe(403);
    expect(replay.body.code).toBe('challenge_replayed');

    // Issued by one, first used on the other: accepted there, refused back home.
    const crossed = await challengeFrom(two.a, p);
    expect((await send(two.b, p, crossed)).status).toBe(201);
    expect((await send(two.a, p, crossed)).body.code).toBe('challenge_replayed');
    expect(await stored(p)).toBe(2);
  });

  it('accept a challenge sent to both at once exactly once', async () => {
    const p = await project(two.a, owner.orgId);
    const solved = await challengeFrom(two.b, p);
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => send(i % 2 ? two.a : two.b, p, solved)));
    expect(replies.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(403)]);
    expect(replies.filter((r) => r.status === 403).every((r) => r.body.code === 'challenge_replayed')).toBe(true);
    expect(await stored(p)).toBe(1);
  });
});

describe.skipIf(!process.env.TEST_REDIS_URL)('two instances when Redis stops and restarts', () => {
  it('keep accepting within half the limit each, say so in /readyz, and share the limit again after', async () => {
    const p = await projectLimitedTo10();
    for (const server of [two.a, two.b]) expect((await send(server, p)).status).toBe(201);

    two.redis!.cut();
    await degraded(two.a).toBe(true);
    await degraded(two.b).toBe(true);
    expect((await two.a.request('GET', '/readyz')).body).toMatchObject({ status: 'degraded', sharedState: { kind: 'redis', degraded: true } });

    // Each instance on its own, conservatively: half of 10 each.
    const during: string[] = [];
    for (const server of [two.a, two.b]) {
      for (let i = 0; i < 5; i++) {
        const reply = await send(server, p);
        expect(reply.status, reply.text).toBe(201);
        during.push(reply.headers.get('ratelimit-remaining')!);
      }
      const refused = await send(server, p);
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('rate_limit_ip');
    }
    expect(during).toEqual(['4', '3', '2', '1', '0', '4', '3', '2', '1', '0']);

    // A replay on the same instance is still refused from its own memory.
    const pOther = await project(two.a, owner.orgId);
    const usedDuringOutage = await challengeFrom(two.a, pOther);
    expect((await send(two.a, pOther, usedDuringOutage)).status).toBe(201);
    expect((await send(two.a, pOther, usedDuringOutage)).body.code).toBe('challenge_replayed');

    two.redis!.restore();
    await degraded(two.a).toBe(false);
    await degraded(two.b).toBe(false);

    // What was claimed during the outage is known to the other instance now.
    expect((await send(two.b, pOther, usedDuringOutage)).body.code).toBe('challenge_replayed');

    // Shared again: Redis still holds the 2 counted before the outage, so 8 more in total.
    const after: string[] = [];
    for (let i = 0; i < 8; i++) {
      const reply = await send(i % 2 ? two.b : two.a, p);
      expect(reply.status, reply.text).toBe(201);
      after.push(reply.headers.get('ratelimit-remaining')!);
    }
    expect(after).toEqual(['7', '6', '5', '4', '3', '2', '1', '0']);
    expectRefusedForIp(await send(two.a, p));
    expectRefusedForIp(await send(two.b, p));
    expect(await stored(p)).toBe(2 + 10 + 8);
  });
});
