import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../../test/database.js';
import { startRedisProxy, type RedisProxy } from '../../../../test/redis-proxy.js';
import { fakeClock, PUBLIC_URL, type FakeClock } from '../../../../test/server.js';
import { loadConfig } from '../config.js';
import { createSharedState, type LimitRule, type SharedState } from './shared-state.js';

const REDIS_URL = process.env.TEST_REDIS_URL;

type LogLine = { level: number; msg: string };
const WARN = 40;
const INFO = 30;

function capturingLog() {
  const lines: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}

let db: TestDatabase;
let clock: FakeClock;
const opened: SharedState[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  clock = fakeClock();
});
afterAll(async () => {
  await Promise.all(opened.map((state) => state.close()));
  await db.drop();
});

/** A SharedState the way the server builds one, from its settings. */
async function open(env: Record<string, string>, log = capturingLog().log): Promise<SharedState> {
  const config = loadConfig({ PARLEY_PUBLIC_URL: PUBLIC_URL, ...env });
  const state = await createSharedState(config, db, clock, log);
  opened.push(state);
  return state;
}

const redisEnv = (prefix: string, url = REDIS_URL!) => ({ PARLEY_SHARED_STATE: 'redis', REDIS_URL: url, PARLEY_REDIS_PREFIX: prefix });
const randomPrefix = () => `parley-test-${randomBytes(4).toString('hex')}:`;

// Each kind's settings; a second instance opened with the same ones shares
// the store (as a second Parley process would), except for memory.
const pairPrefix = randomPrefix();
const kinds: { kind: string; env: Record<string, string> }[] = [
  { kind: 'memory', env: { PARLEY_SHARED_STATE: 'memory' } },
  { kind: 'postgres', env: { PARLEY_SHARED_STATE: 'postgres' } },
  ...(REDIS_URL ? [{ kind: 'redis', env: redisEnv(pairPrefix) }] : []),
];

const unique = () => randomBytes(6).toString('hex');
const rule = (points: number, seconds = 60): LimitRule => ({ name: `t${unique()}`, points, seconds });

describe.each(kinds)('$kind shared state', ({ kind, env }) => {
  let state: SharedState;

  beforeAll(async () => {
    state = await open(env);
  });

  it('reports its kind, not degraded', () => {
    expect(state.kind).toBe(kind);
    expect(state.health()).toMatchObject({ kind, degraded: false });
  });

  it('allows N points and refuses the N+1th with the window left', async () => {
    const limit = rule(3, 60);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await state.consume(limit, '192.0.2.1'));
    expect(results.map((r) => [r.allowed, r.remaining, r.consumed])).toEqual([
      [true, 2, 1],
      [true, 1, 2],
      [true, 0, 3],
      [false, 0, 4],
    ]);
    for (const result of results) {
      expect(result.limit).toBe(3);
      expect(result.resetSeconds).toBeGreaterThanOrEqual(59);
      expect(result.resetSeconds).toBeLessThanOrEqual(60);
    }
    // Another key has its own count.
    expect(await state.consume(limit, '192.0.2.2')).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('peeks without consuming', async () => {
    const limit = rule(2);
    expect(await state.peek(limit, 'k')).toEqual({ allowed: true, limit: 2, remaining: 2, resetSeconds: 60, consumed: 0 });
    await state.consume(limit, 'k');
    expect(await state.peek(limit, 'k')).toMatchObject({ allowed: true, remaining: 1, consumed: 1 });
    expect(await state.peek(limit, 'k')).toMatchObject({ allowed: true, remaining: 1, consumed: 1 });
    await state.consume(limit, 'k');
    expect(await state.peek(limit, 'k')).toMatchObject({ allowed: false, remaining: 0, consumed: 2 });
  });

  it('consumes several points at once', async () => {
    const limit = rule(10);
    expect(await state.consume(limit, 'k', 7)).toMatchObject({ allowed: true, remaining: 3, consumed: 7 });
    expect(await state.consume(limit, 'k', 4)).toMatchObject({ allowed: false, remaining: 0 });
  });

  it('refuses a rule or ttl it cannot enforce', async () => {
    await expect(state.consume({ name: 'x', points: 0, seconds: 60 }, 'k')).rejects.toThrow(/invalid limit rule/);
    await expect(state.consume({ name: 'x', points: 5, seconds: 0.5 }, 'k')).rejects.toThrow(/invalid limit rule/);
    await expect(state.consume({ name: 'x:y', points: 5, seconds: 60 }, 'k')).rejects.toThrow(/invalid limit rule/);
    await expect(state.claimOnce('k', 0)).rejects.toThrow(/invalid ttl/);
  });

  it('claims a key once: the replay is refused', async () => {
    const key = `challenge:${unique()}`;
    expect(await state.claimOnce(key, 300_000)).toBe(true);
    expect(await state.claimOnce(key, 300_000)).toBe(false);
  });

  it('lets a key be claimed again once its time is up', async () => {
    const key = `challenge:${unique()}`;
    expect(await state.claimOnce(key, 300_000)).toBe(true);
    if (kind === 'redis') {
      // Redis expires by its own clock: the key carries the ttl asked for.
      const redis = new Redis(REDIS_URL!);
      const ttl = await redis.pttl(`${pairPrefix}kv:${key}`);
      await redis.quit();
      expect(ttl).toBeGreaterThan(295_000);
      expect(ttl).toBeLessThanOrEqual(300_000);
      return;
    }
    clock.advance(299_999);
    expect(await state.claimOnce(key, 300_000)).toBe(false);
    clock.advance(1);
    expect(await state.claimOnce(key, 300_000)).toBe(true);
    expect(await state.claimOnce(key, 300_000)).toBe(false);
  });

  it('stores a value once and answers the first one after (dedupe)', async () => {
    const key = `dedupe:${unique()}`;
    expect(await state.putIfAbsent(key, 'feedback-1', 3_600_000)).toBeNull();
    expect(await state.putIfAbsent(key, 'feedback-2', 3_600_000)).toBe('feedback-1');
    expect(await state.putIfAbsent(key, 'feedback-3', 3_600_000)).toBe('feedback-1');
  });

  it('of many parallel claims of one key, exactly one wins', async () => {
    const key = `challenge:${unique()}`;
    const claims = await Promise.all(Array.from({ length: 20 }, () => state.claimOnce(key, 60_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('of many parallel consumes, exactly the limit is allowed', async () => {
    const limit = rule(10);
    const results = await Promise.all(Array.from({ length: 25 }, () => state.consume(limit, '198.51.100.7')));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
  });

  it('keeps keys with odd characters apart and intact', async () => {
    const prefix = unique();
    // A plain key spelled like another key's hashed form does not meet it.
    const hidden = `${prefix}\u0000`;
    const weird = ['', 'a\u0000b', 'a\u0000c', 'ünïcödé', '💥', 'x'.repeat(10_000), 'x'.repeat(10_001), "'; DROP TABLE shared_keys; --", 'a b', 'a\r\nb', '*', '?', '[a]', '%s'];
    expect(await state.claimOnce(hidden, 60_000)).toBe(true);
    expect(await state.claimOnce(`#${createHash('sha256').update(hidden, 'utf8').digest('base64url')}`, 60_000)).toBe(true);
    for (const key of weird) expect(await state.claimOnce(prefix + key, 60_000), JSON.stringify(key.slice(0, 20))).toBe(true);
    for (const key of weird) expect(await state.claimOnce(prefix + key, 60_000)).toBe(false);
    const limit = rule(1);
    for (const key of weird) expect((await state.consume(limit, key)).allowed).toBe(true);
    for (const key of weird) expect((await state.consume(limit, key)).allowed).toBe(false);
    expect(await state.putIfAbsent(`${prefix}\u0000v`, 'value with \u00e9 and\nnewline', 60_000)).toBeNull();
    expect(await state.putIfAbsent(`${prefix}\u0000v`, 'other', 60_000)).toBe('value with \u00e9 and\nnewline');
  });

});

describe.each(kinds.filter(({ kind }) => kind !== 'memory'))('$kind shared state across instances', ({ env }) => {
  it('shares counts, claims and values with another instance on the same store', async () => {
    const [state, other] = [await open(env), await open(env)];
    const limit = rule(5);
    expect(await state.consume(limit, '203.0.113.9', 2)).toMatchObject({ allowed: true, remaining: 3 });
    expect(await other.consume(limit, '203.0.113.9', 3)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await state.consume(limit, '203.0.113.9')).toMatchObject({ allowed: false });
    expect(await other.peek(limit, '203.0.113.9')).toMatchObject({ allowed: false, consumed: 6 });

    const key = `challenge:${unique()}`;
    expect(await other.claimOnce(key, 60_000)).toBe(true);
    expect(await state.claimOnce(key, 60_000)).toBe(false);
    expect(await state.putIfAbsent(`dedupe:${key}`, 'first', 60_000)).toBeNull();
    expect(await other.putIfAbsent(`dedupe:${key}`, 'second', 60_000)).toBe('first');

    // Racing instances: still exactly the limit, exactly one claim.
    const race = rule(10);
    const both = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? state : other).consume(race, '203.0.113.10')));
    expect(both.filter((r) => r.allowed)).toHaveLength(10);
    const raced = `challenge:${unique()}`;
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? state : other).claimOnce(raced, 60_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });
});

describe('postgres shared state when PostgreSQL fails', () => {
  it('still answers limits, with half of each in this process', async () => {
    // Nothing listens on port 1: every query fails at once.
    const unreachable = new pg.Pool({ connectionString: 'postgres://parley@127.0.0.1:1/parley' });
    const state = await createSharedState(loadConfig({ PARLEY_PUBLIC_URL: PUBLIC_URL, PARLEY_SHARED_STATE: 'postgres' }), { ...db, app: unreachable }, clock, capturingLog().log);
    const limit = rule(4);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await state.consume(limit, '192.0.2.1'));
    expect(results.map((r) => r.allowed)).toEqual([true, true, false]);
    expect((await state.peek(limit, '192.0.2.1')).allowed).toBe(false);
    await state.close();
    await unreachable.end();
  });
});

describe('memory shared state', () => {
  it('is per instance: a second one does not see the first one’s counts', async () => {
    const a = await open({ PARLEY_SHARED_STATE: 'memory' });
    const b = await open({ PARLEY_SHARED_STATE: 'memory' });
    const limit = rule(1);
    expect((await a.consume(limit, 'k')).allowed).toBe(true);
    expect((await b.consume(limit, 'k')).allowed).toBe(true);
  });

  it('auto picks memory with the embedded database and no Redis', async () => {
    expect((await open({})).kind).toBe('memory');
  });
});

describe.skipIf(!REDIS_URL)('redis shared state when Redis goes away', () => {
  let proxy: RedisProxy;
  let prefix: string;

  beforeAll(async () => {
    proxy = await startRedisProxy(REDIS_URL!);
    prefix = randomPrefix();
  });
  afterAll(() => proxy.close());

  const degraded = (state: SharedState) => expect.poll(() => state.health().degraded, { timeout: 15_000, interval: 20 });

  it('keeps answering on per-instance memory, says so once, and shares again when it returns', async () => {
    const { log, lines } = capturingLog();
    const cut = await open(redisEnv(prefix, proxy.url), log);
    const direct = await open(redisEnv(prefix));
    const limit = rule(4);
    expect(await cut.consume(limit, 'ip')).toMatchObject({ allowed: true, remaining: 3 });
    const before = `challenge:${unique()}`;
    expect(await cut.claimOnce(before, 60_000)).toBe(true);

    proxy.cut();
    await degraded(cut).toBe(true);
    expect(cut.health()).toMatchObject({ kind: 'redis', degraded: true });
    expect(cut.health().detail).not.toContain('127.0.0.1');

    // The insurance limiter: half of 4, counted in this process only.
    const during = [];
    for (let i = 0; i < 3; i++) during.push(await cut.consume(limit, 'ip'));
    expect(during.map((r) => r.allowed)).toEqual([true, true, false]);
    expect(during[2]).toMatchObject({ remaining: 0 });
    expect(during[2]!.resetSeconds).toBeGreaterThanOrEqual(1);
    expect(await cut.peek(limit, 'ip')).toMatchObject({ allowed: false });

    // Replays are refused from local memory...
    const claimed = `challenge:${unique()}`;
    expect(await cut.claimOnce(claimed, 60_000)).toBe(true);
    expect(await cut.claimOnce(claimed, 60_000)).toBe(false);
    expect(await cut.putIfAbsent(`dedupe:${claimed}`, 'while-away', 60_000)).toBeNull();
    expect(await cut.putIfAbsent(`dedupe:${claimed}`, 'again', 60_000)).toBe('while-away');
    // The instance that still reaches Redis keeps refusing what was claimed there.
    expect(await direct.claimOnce(before, 60_000)).toBe(false);

    proxy.restore();
    await degraded(cut).toBe(false);
    expect(cut.health().detail).toBe('shared through Redis');

    expect(lines.filter((line) => line.level === WARN).map((line) => line.msg)).toEqual([expect.stringMatching(/^Redis unreachable/)]);
    expect(lines.filter((line) => line.level === INFO).map((line) => line.msg)).toEqual([expect.stringMatching(/^Redis is back/)]);

    // Claims made during the outage were handed over before it counted as
    // over: the other instance refuses them too.
    const raw = new Redis(REDIS_URL!);
    expect(await raw.exists(`${prefix}kv:${claimed}`)).toBe(1);
    await raw.quit();
    expect(await direct.claimOnce(claimed, 60_000)).toBe(false);
    expect(await direct.putIfAbsent(`dedupe:${claimed}`, 'other', 60_000)).toBe('while-away');

    // Counts are shared again: the one point consumed before the outage is still there.
    expect(await direct.consume(limit, 'ip')).toMatchObject({ allowed: true, remaining: 2 });
    expect(await cut.consume(limit, 'ip', 2)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await direct.consume(limit, 'ip')).toMatchObject({ allowed: false });
  });

  it('treats a Redis that stops answering (connection open, nothing back) as away', async () => {
    const { log, lines } = capturingLog();
    const stalled = await open(redisEnv(prefix, proxy.url), log);
    const limit = rule(4);
    expect(await stalled.consume(limit, 'ip')).toMatchObject({ allowed: true });
    proxy.stall();
    await degraded(stalled).toBe(true);
    // Away, it answers at once from memory rather than waiting on Redis.
    const started = performance.now();
    expect(await stalled.consume(limit, 'ip')).toMatchObject({ allowed: true });
    expect(await stalled.claimOnce(`challenge:${unique()}`, 60_000)).toBe(true);
    expect(performance.now() - started).toBeLessThan(100);
    proxy.restore();
    await degraded(stalled).toBe(false);
    expect(lines.map((line) => line.level)).toEqual([WARN, INFO]);
  });

  it('starts degraded when Redis is away at start, and recovers', async () => {
    proxy.cut();
    const { log, lines } = capturingLog();
    const late = await open(redisEnv(prefix, proxy.url), log);
    expect(late.health().degraded).toBe(true);
    expect(await late.consume(rule(2), 'ip')).toMatchObject({ allowed: true });
    expect(await late.claimOnce(`challenge:${unique()}`, 60_000)).toBe(true);
    proxy.restore();
    await degraded(late).toBe(false);
    expect(lines.map((line) => line.level)).toEqual([WARN, INFO]);
  });
});
