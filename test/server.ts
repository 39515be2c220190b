import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../apps/server/src/app.js';
import { loadConfig, type Config } from '../apps/server/src/config.js';
import type { Clock, Context } from '../apps/server/src/context.js';
import { Keyring } from '../apps/server/src/keys/service.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const PUBLIC_URL = 'http://localhost:3000';

/** What the test client sends as User-Agent unless a test sets its own. */
export const TEST_USER_AGENT = 'parley-tests/1 (node)';

export type FakeClock = Clock & { advance(ms: number): void };

export function fakeClock(start = '2026-06-01T12:00:00.000Z'): FakeClock {
  let now = new Date(start).getTime();
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

export type Reply = { status: number; headers: Headers; body: any; text: string };

export type RequestOptions = {
  body?: unknown;
  raw?: string;
  cookie?: string;
  headers?: Record<string, string>;
  /** The client's address: any 127.0.0.0/8 address, so a test can be "another IP" on loopback. */
  from?: string;
};

export type TestServer = {
  url: string;
  ctx: Context;
  db: TestDatabase;
  clock: FakeClock;
  app: FastifyInstance;
  /** A request as the dashboard's own pages make it (same-origin Fetch Metadata). */
  request(method: string, path: string, options?: RequestOptions): Promise<Reply>;
  /** A request with exactly the headers given, nothing added. */
  rawRequest(method: string, path: string, options?: RequestOptions): Promise<Reply>;
  /** Works every due outbox job now and waits for it (audits of failed logins, mail). */
  jobsDone(): Promise<void>;
  close(): Promise<void>;
};

export type TestServerOptions = {
  /** A database another test server also uses (two instances of one deployment); the caller drops it. */
  database?: TestDatabase;
};

/** In the suite run against the servers: shared state in that Redis, under a prefix of this server's own. */
function sharedRedis(): Record<string, string> {
  const url = process.env.PARLEY_TEST_REDIS;
  return url ? { REDIS_URL: url, PARLEY_REDIS_PREFIX: `parley-test-${randomBytes(6).toString('hex')}:` } : {};
}

/** Parley over real HTTP on a random port, with its own database (unless given one) and a fake clock. */
export async function startTestServer(env: Record<string, string> = {}, options: TestServerOptions = {}): Promise<TestServer> {
  const db = options.database ?? (await createTestDatabase());
  const config: Config = loadConfig({ PARLEY_PUBLIC_URL: PUBLIC_URL, PARLEY_PROJECT_CACHE_SECONDS: '0', ...sharedRedis(), ...env });
  const clock = fakeClock();
  const ctx: Context = { config, db, keyring: new Keyring(db.masterKey), clock };
  const app = await buildApp(ctx);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as import('node:net').AddressInfo;
  const url = `http://127.0.0.1:${address.port}`;

  const rawRequest = async (method: string, path: string, options: RequestOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { 'user-agent': TEST_USER_AGENT, ...options.headers };
    if (options.cookie) headers.cookie = options.cookie;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const { status, headers: answerHeaders, text } = await send(url + path, method, headers, body, options.from);
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (the widget script, the dashboard page): callers read `text`.
    }
    return { status, headers: answerHeaders, body: parsed, text };
  };

  return {
    url,
    ctx,
    db,
    clock,
    app,
    rawRequest,
    request: (method, path, options = {}) => rawRequest(method, path, { ...options, headers: { 'sec-fetch-site': 'same-origin', ...options.headers } }),
    async jobsDone() {
      await app.queues.settle();
    },
    async close() {
      await app.close();
      if (!options.database) await db.drop();
    },
  };
}

/** One HTTP exchange over node:http, which (unlike fetch) can pick the local address. */
function send(url: string, method: string, headers: Record<string, string>, body: string | Buffer | undefined, localAddress: string | undefined) {
  return new Promise<{ status: number; headers: Headers; text: string }>((resolve, reject) => {
    const sized = body === undefined || Object.keys(headers).some((name) => /^(content-length|transfer-encoding)$/i.test(name));
    const all = sized ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const request = http.request(url, { method, headers: all, localAddress }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const answerHeaders = new Headers();
        const raw = response.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) answerHeaders.append(raw[i]!, raw[i + 1]!);
        resolve({ status: response.statusCode!, headers: answerHeaders, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** The session cookie from a Set-Cookie answer, as a Cookie request header. */
export function sessionCookie(reply: Reply): string {
  const setCookie = reply.headers.getSetCookie().find((c) => c.startsWith('__Host-parley_session='));
  if (!setCookie) throw new Error(`no session cookie in answer ${reply.status}: ${reply.text}`);
  return setCookie.split(';')[0]!;
}
