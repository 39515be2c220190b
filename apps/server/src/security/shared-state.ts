import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config.js';
import type { Clock } from '../context.js';
import type { Database } from '../db/connect.js';

export type LimitRule = { name: string; points: number; seconds: number };
export type LimitResult = { allowed: boolean; limit: number; remaining: number; resetSeconds: number; consumed: number };

type Kind = 'redis' | 'postgres' | 'memory';

/**
 * Counters and once-only keys that every Parley instance sees alike, so a
 * limit of 10 is 10 in total however many instances serve the traffic and a
 * challenge solved on one instance is a replay on all the others.
 */
export interface SharedState {
  readonly kind: Kind;
  /** Consumes `points` (default 1) from `key` under `rule`; never throws for a store outage (falls back, see below). */
  consume(rule: LimitRule, key: string, points?: number): Promise<LimitResult>;
  /** Reads without consuming (for difficulty). `allowed` says whether one more point would fit. */
  peek(rule: LimitRule, key: string): Promise<LimitResult>;
  /** true the first time `key` is claimed within ttlMs; false for a replay. */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /** Stores value under key if absent and returns null; else returns the value already there (dedupe). */
  putIfAbsent(key: string, value: string, ttlMs: number): Promise<string | null>;
  /** For /readyz and logs. degraded: Redis configured but unreachable, running on per-instance memory. */
  health(): { kind: Kind; degraded: boolean; detail: string };
  close(): Promise<void>;
}

/** Picks the store from PARLEY_SHARED_STATE (auto: Redis if configured, else an external PostgreSQL, else memory) and opens it. */
export async function createSharedState(config: Config, db: Database, clock: Clock, log: FastifyBaseLogger): Promise<SharedState> {
  const kind = config.sharedState === 'auto' ? (config.redisUrl ? 'redis' : config.databaseUrl ? 'postgres' : 'memory') : config.sharedState;
  if (kind === 'redis') {
    if (!config.redisUrl) throw new Error('PARLEY_SHARED_STATE=redis needs REDIS_URL');
    return RedisState.open(config.redisUrl, config.redisPrefix, clock, log);
  }
  if (kind === 'postgres') return new PostgresState(db.app, clock);
  return new MemoryState(clock);
}

// Keys come from the network (addresses, reporter ids, challenge
// solutions). Anything long or outside printable ASCII is replaced by its
// hash, so no key can overflow rate_limits.key (varchar 255), carry a NUL
// byte PostgreSQL refuses, or bloat Redis. Hashed keys start with `#`, which
// a plain key may not, so the two forms cannot meet.
const PLAIN_KEY = /^[\x20-\x22\x24-\x7e][\x20-\x7e]{0,199}$/;

function safeKey(key: string): string {
  return PLAIN_KEY.test(key) ? key : `#${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
}

function assertRule(rule: LimitRule): void {
  if (!Number.isInteger(rule.points) || rule.points < 1 || !Number.isInteger(rule.seconds) || rule.seconds < 1 || !/^[a-z0-9_.-]{1,40}$/i.test(rule.name)) {
    throw new Error(`invalid limit rule ${JSON.stringify(rule)}`);
  }
}

function assertTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs < 1) throw new Error(`invalid ttl ${ttlMs}`);
}

const toSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

async function consumeWith(limiter: RateLimiterAbstract, rule: LimitRule, key: string, points: number): Promise<LimitResult> {
  if (!Number.isInteger(points) || points < 1) throw new Error(`invalid points ${points}`);
  try {
    const res = await limiter.consume(safeKey(key), points);
    return { allowed: true, limit: rule.points, remaining: res.remainingPoints, resetSeconds: toSeconds(res.msBeforeNext), consumed: res.consumedPoints };
  } catch (error) {
    // rate-limiter-flexible refuses by rejecting with its result; anything
    // else is a store failure that the insurance limiter did not absorb.
    if (!(error instanceof RateLimiterRes)) throw error;
    // A key blocked in memory is refused without asking the store, and then
    // carries no count: it is over the limit all the same.
    return { allowed: false, limit: rule.points, remaining: 0, resetSeconds: toSeconds(error.msBeforeNext), consumed: Math.max(error.consumedPoints, rule.points + points) };
  }
}

async function peekWith(limiter: RateLimiterAbstract, rule: LimitRule, key: string): Promise<LimitResult> {
  const res = await limiter.get(safeKey(key));
  if (!res) return { allowed: true, limit: rule.points, remaining: rule.points, resetSeconds: rule.seconds, consumed: 0 };
  return { allowed: res.remainingPoints > 0, limit: rule.points, remaining: res.remainingPoints, resetSeconds: toSeconds(res.msBeforeNext), consumed: res.consumedPoints };
}

// Once a key is over its limit, the rest of its window is refused from
// this instance's memory: a flood from one address costs a map lookup, not a
// round trip to the store per request.
const blockInMemory = (rule: LimitRule) => ({ inMemoryBlockOnConsumed: rule.points + 1 });

// Conservative per instance: while the store is away each instance allows
// half the limit on its own, rather than refusing everyone or allowing
// everything.
const halfInMemory = (rule: LimitRule) => new RateLimiterMemory({ keyPrefix: rule.name, points: Math.max(1, Math.floor(rule.points / 2)), duration: rule.seconds });

/** Once-only keys in this process, expiring by the injected clock. */
class ExpiringKeys {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  // Expired entries are swept when the map has doubled since the last sweep,
  // so a burst of keys cannot grow it for ever and a quiet map costs nothing.
  private sweepAt = 1024;

  constructor(private readonly clock: Clock) {}

  putIfAbsent(key: string, value: string, ttlMs: number): string | null {
    const now = this.clock.now().getTime();
    const found = this.entries.get(key);
    if (found && found.expiresAt > now) return found.value;
    this.entries.set(key, { value, expiresAt: now + ttlMs });
    if (this.entries.size >= this.sweepAt) this.sweep(now);
    return null;
  }

  /** Live entries with their remaining lifetime, for handing over to Redis when it returns. */
  live(): { key: string; value: string; ttlMs: number }[] {
    const now = this.clock.now().getTime();
    return [...this.entries].filter(([, entry]) => entry.expiresAt > now).map(([key, entry]) => ({ key, value: entry.value, ttlMs: entry.expiresAt - now }));
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    this.sweepAt = Math.max(1024, this.entries.size * 2);
  }
}

/**
 * What every store shares: limits go through rate-limiter-flexible, one
 * limiter per rule shape built on first use, and a claim is a put of '1'.
 * Each store says how it builds a limiter and keeps its once-only keys.
 */
abstract class LimiterState implements SharedState {
  abstract readonly kind: Kind;
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  protected abstract buildLimiter(rule: LimitRule): RateLimiterAbstract;
  abstract putIfAbsent(key: string, value: string, ttlMs: number): Promise<string | null>;
  abstract health(): { kind: Kind; degraded: boolean; detail: string };

  async consume(rule: LimitRule, key: string, points = 1) {
    return consumeWith(this.limiter(rule), rule, key, points);
  }

  async peek(rule: LimitRule, key: string) {
    return peekWith(this.limiter(rule), rule, key);
  }

  async claimOnce(key: string, ttlMs: number) {
    return (await this.putIfAbsent(key, '1', ttlMs)) === null;
  }

  async close() {}

  private limiter(rule: LimitRule): RateLimiterAbstract {
    assertRule(rule);
    const id = `${rule.name}/${rule.points}/${rule.seconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = this.buildLimiter(rule);
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}

class MemoryState extends LimiterState {
  readonly kind = 'memory' as const;
  private readonly keys: ExpiringKeys;

  constructor(clock: Clock) {
    super();
    this.keys = new ExpiringKeys(clock);
  }

  protected buildLimiter(rule: LimitRule) {
    return new RateLimiterMemory({ keyPrefix: rule.name, points: rule.points, duration: rule.seconds });
  }

  async putIfAbsent(key: string, value: string, ttlMs: number) {
    assertTtl(ttlMs);
    return this.keys.putIfAbsent(safeKey(key), value, ttlMs);
  }

  health() {
    return { kind: this.kind, degraded: false, detail: 'in this process only: limits hold per instance' };
  }
}

// Rows of shared_keys are taken over once expired (housekeeping deletes the
// rest); the WHERE makes a live row a conflict that changes nothing.
const CLAIM_SQL = `
  INSERT INTO shared_keys AS s (key, value, expires_at) VALUES ($1, $2, $3)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
  WHERE s.expires_at <= $4
  RETURNING 1`;

class PostgresState extends LimiterState {
  readonly kind = 'postgres' as const;

  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
  ) {
    super();
  }

  protected buildLimiter(rule: LimitRule) {
    return new RateLimiterPostgres({
      storeClient: this.pool,
      storeType: 'pool',
      tableName: 'rate_limits',
      // Migration 0004 creates it; housekeeping deletes expired rows.
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix: rule.name,
      points: rule.points,
      duration: rule.seconds,
      ...blockInMemory(rule),
      insuranceLimiter: halfInMemory(rule),
    });
  }

  async putIfAbsent(key: string, value: string, ttlMs: number): Promise<string | null> {
    assertTtl(ttlMs);
    const id = safeKey(key);
    // Two statements, each seeing what is committed when it runs: the row
    // that made the insert a conflict is visible to the read that follows.
    // Only if it expired and was deleted in between is the insert tried again.
    for (let attempt = 1; ; attempt++) {
      const now = this.clock.now();
      const inserted = await this.pool.query(CLAIM_SQL, [id, value, new Date(now.getTime() + ttlMs), now]);
      if (inserted.rowCount === 1) return null;
      const existing = await this.pool.query<{ value: string }>('SELECT value FROM shared_keys WHERE key = $1', [id]);
      if (existing.rows[0]) return existing.rows[0].value;
      if (attempt === 3) throw new Error(`shared key ${id} keeps vanishing`);
    }
  }

  health() {
    return { kind: this.kind, degraded: false, detail: 'shared through PostgreSQL' };
  }
}

// Redis is asked with a deadline: a black-holed connection must not hold
// submissions; the insurance limiter and the local keys answer instead.
const REDIS_COMMAND_TIMEOUT_MS = 1000;
const REDIS_CONNECT_TIMEOUT_MS = 2000;
const REDIS_MAX_BACKOFF_MS = 5000;
const REDIS_HEARTBEAT_MS = 1000;

class RedisState extends LimiterState {
  readonly kind = 'redis' as const;
  /** Claims and values taken while Redis was away; handed to Redis when it returns. */
  private readonly local: ExpiringKeys;
  private lost = false;
  private recovering = false;
  private lastError = '';
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(
    private readonly client: Redis,
    clock: Clock,
    private readonly log: FastifyBaseLogger,
  ) {
    super();
    this.local = new ExpiringKeys(clock);
    client.on('error', (error: Error) => {
      this.lastError = error.message;
    });
    client.on('close', () => {
      if (this.lost) return;
      this.lost = true;
      log.warn({ sharedState: 'redis', err: this.lastError || undefined }, 'Redis unreachable: rate limits now hold per instance (half of each limit) and replays are refused per instance until it returns');
    });
    client.on('ready', () => this.recover());
    // A Redis that stops answering without closing the connection (a network
    // partition) would cost every request the command timeout until TCP gives
    // up, minutes later. A ping that times out drops the connection instead,
    // and the reconnect-and-fall-back above takes over.
    // It also retries a hand-over that failed with the connection up.
    this.heartbeat = setInterval(() => {
      if (client.status !== 'ready') return;
      this.recover();
      client.ping().catch((error: Error) => {
        if (error.message === 'Command timed out') {
          this.lastError = 'Redis stopped answering';
          client.disconnect(true);
        }
      });
    }, REDIS_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  static async open(url: URL, prefix: string, clock: Clock, log: FastifyBaseLogger): Promise<RedisState> {
    const client = new Redis(url.href, {
      keyPrefix: prefix,
      // Commands fail at once while Redis is away (callers fall back), and
      // in-flight ones are not replayed later: a consume already answered by
      // the insurance limiter must not count twice.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
      // Reconnect for ever, backing off to at most five seconds.
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 10), REDIS_MAX_BACKOFF_MS),
    });
    const state = new RedisState(client, clock, log);
    // Start even when Redis is down (degraded, said in the log and /readyz);
    // but give it its connect timeout to answer first.
    await new Promise<void>((resolve) => {
      const settle = () => {
        client.off('ready', settle);
        client.off('close', settle);
        resolve();
      };
      client.on('ready', settle);
      client.on('close', settle);
    });
    return state;
  }

  protected buildLimiter(rule: LimitRule) {
    return new RateLimiterRedis({
      storeClient: this.client,
      keyPrefix: `rl:${rule.name}`,
      points: rule.points,
      duration: rule.seconds,
      rejectIfRedisNotReady: true,
      ...blockInMemory(rule),
      insuranceLimiter: halfInMemory(rule),
    });
  }

  override async claimOnce(key: string, ttlMs: number) {
    // One SET NX, not putIfAbsent's transaction: replay checks run on every submission.
    const setIfAbsent = async (id: string) => ((await this.client.set(`kv:${id}`, '1', 'PX', Math.ceil(ttlMs), 'NX')) === 'OK' ? null : '1');
    return (await this.take(key, '1', ttlMs, setIfAbsent)) === null;
  }

  putIfAbsent(key: string, value: string, ttlMs: number): Promise<string | null> {
    return this.take(key, value, ttlMs, async (id) => {
      // One transaction, so the value read is the one that won.
      const results = await this.client.multi().set(`kv:${id}`, value, 'PX', Math.ceil(ttlMs), 'NX').get(`kv:${id}`).exec();
      if (!results || results.some(([error]) => error)) throw new Error('Redis transaction failed');
      return results[0]![1] === 'OK' ? null : (results[1]![1] as string);
    });
  }

  /** Takes `key` locally first (what a concurrent or outage-time taker sees), then in Redis when it answers. */
  private async take(key: string, value: string, ttlMs: number, inRedis: (id: string) => Promise<string | null>): Promise<string | null> {
    assertTtl(ttlMs);
    const id = safeKey(key);
    // Taken here while Redis was away and not yet handed over: still taken.
    const held = this.local.putIfAbsent(id, value, ttlMs);
    if (held !== null) return held;
    try {
      const existing = await inRedis(id);
      this.local.delete(id);
      return existing;
    } catch {
      // Redis is away: the local entry made above stands in for it.
      return null;
    }
  }

  /**
   * After an outage, gives Redis what was claimed locally meanwhile, so
   * other instances refuse those replays too; only then is the outage over
   * (health stays degraded until here).
   */
  private recover(): void {
    if (!this.lost || this.recovering) return;
    this.recovering = true;
    void this.handOver()
      .then(() => {
        if (this.client.status !== 'ready') return;
        this.lost = false;
        this.lastError = '';
        this.log.info({ sharedState: 'redis' }, 'Redis is back: rate limits and replay checks are shared again');
      })
      // Still lost: the next reconnection or heartbeat tries again.
      .catch(() => {})
      .finally(() => {
        this.recovering = false;
      });
  }

  private async handOver(): Promise<void> {
    const entries = this.local.live();
    if (entries.length === 0) return;
    const batch = this.client.multi();
    for (const entry of entries) batch.set(`kv:${entry.key}`, entry.value, 'PX', Math.ceil(entry.ttlMs), 'NX');
    await batch.exec();
    for (const entry of entries) this.local.delete(entry.key);
  }

  health() {
    const degraded = this.lost || this.client.status !== 'ready';
    // No address or error text here: /readyz may be public; the log has them.
    const detail = degraded ? `Redis ${this.client.status}: limits hold per instance at half, replays are refused per instance` : 'shared through Redis';
    return { kind: this.kind, degraded, detail };
  }

  override async close() {
    clearInterval(this.heartbeat);
    this.client.removeAllListeners('close');
    if (this.client.status === 'ready') await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }
}
