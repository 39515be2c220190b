import type { FastifyInstance } from 'fastify';
import { buildApp } from '../apps/server/src/app.js';
import { loadConfig, type Config } from '../apps/server/src/config.js';
import type { Clock, Context } from '../apps/server/src/context.js';
import { Keyring } from '../apps/server/src/keys/service.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const PUBLIC_URL = 'http://localhost:3000';

export type FakeClock = Clock & { advance(ms: number): void };

export function fakeClock(start = '2026-06-01T12:00:00.000Z'): FakeClock {
  let now = new Date(start).getTime();
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

export type Reply = { status: number; headers: Headers; body: any; text: string };

export type RequestOptions = { body?: unknown; raw?: string; cookie?: string; headers?: Record<string, string> };

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
  close(): Promise<void>;
};

/** Parley over real HTTP on a random port, with its own database and a fake clock. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const db = await createTestDatabase();
  const config: Config = loadConfig({ PARLEY_PUBLIC_URL: PUBLIC_URL, PARLEY_PROJECT_CACHE_SECONDS: '0', ...env });
  const clock = fakeClock();
  const ctx: Context = { config, db, keyring: new Keyring(db.masterKey), clock };
  const app = await buildApp(ctx);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as import('node:net').AddressInfo;
  const url = `http://127.0.0.1:${address.port}`;

  const rawRequest = async (method: string, path: string, options: RequestOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.cookie) headers.cookie = options.cookie;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(url + path, { method, headers, body, redirect: 'manual' });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (the widget script, the dashboard page): callers read `text`.
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };

  return {
    url,
    ctx,
    db,
    clock,
    app,
    rawRequest,
    request: (method, path, options = {}) => rawRequest(method, path, { ...options, headers: { 'sec-fetch-site': 'same-origin', ...options.headers } }),
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

/** The session cookie from a Set-Cookie answer, as a Cookie request header. */
export function sessionCookie(reply: Reply): string {
  const setCookie = reply.headers.getSetCookie().find((c) => c.startsWith('__Host-parley_session='));
  if (!setCookie) throw new Error(`no session cookie in answer ${reply.status}: ${reply.text}`);
  return setCookie.split(';')[0]!;
}
