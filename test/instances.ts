import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from './database.js';
import { startRedisProxy, type RedisProxy } from './redis-proxy.js';
import { startTestServer, type TestServer } from './server.js';

export type TwoInstances = {
  a: TestServer;
  b: TestServer;
  db: TestDatabase;
  /** Set when TEST_REDIS_URL is: both instances reach Redis through it, so a test can stop and restart "Redis". */
  redis: RedisProxy | undefined;
  close(): Promise<void>;
};

/**
 * Two Parley instances of one deployment: different ports, one database and,
 * when TEST_REDIS_URL is set, one Redis key prefix (else shared state in
 * PostgreSQL), as behind a load balancer.
 */
export async function startTwoInstances(env: Record<string, string> = {}): Promise<TwoInstances> {
  const db = await createTestDatabase();
  const redisUrl = process.env.TEST_REDIS_URL;
  const redis = redisUrl ? await startRedisProxy(redisUrl) : undefined;
  const shared: Record<string, string> = redis
    ? { PARLEY_SHARED_STATE: 'redis', REDIS_URL: redis.url, PARLEY_REDIS_PREFIX: `parley-test-${randomBytes(4).toString('hex')}:` }
    : { PARLEY_SHARED_STATE: 'postgres' };
  const servers: TestServer[] = [];
  const close = async () => {
    await Promise.all(servers.map((server) => server.close()));
    await redis?.close();
    await db.drop();
  };
  try {
    for (let i = 0; i < 2; i++) servers.push(await startTestServer({ ...shared, ...env }, { database: db }));
  } catch (error) {
    await close();
    throw error;
  }
  return { a: servers[0]!, b: servers[1]!, db, redis, close };
}
