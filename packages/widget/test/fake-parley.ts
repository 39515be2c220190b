// A stand-in for the Parley server, speaking the widget contract
// (/tmp/contract.md, apps/server/src/widget/routes.ts): settings, feedback
// and screenshot ingestion with the Origin check and per-origin CORS, the
// proof-of-work challenges (the server's own Challenges, in memory), and the
// built widget files. Each test file starts its own on 127.0.0.1.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { Config } from '../../../apps/server/src/config.js';
import { systemClock } from '../../../apps/server/src/context.js';
import type { Database } from '../../../apps/server/src/db/connect.js';
import { AppError } from '../../../apps/server/src/errors.js';
import { DEFAULT_WIDGET_SETTINGS, type WidgetSettings } from '../../../apps/server/src/projects/widget-settings.js';
import { Challenges } from '../../../apps/server/src/security/challenge.js';
import { createSharedState } from '../../../apps/server/src/security/shared-state.js';
import type { WidgetProtection } from '../src/settings.js';
import { buildWidget } from '../build.mjs';

export const PROJECT_KEY = 'pk_test_widget';

export type Received = { path: string; headers: IncomingHttpHeaders; body: Buffer };
/** A refusal; a 429 carries Retry-After (`retryAfter` seconds, default 1) and RateLimit-* headers. */
export type Problem = { status: number; code: string; detail: string; retryAfter?: number };
/** How the next feedback POST is answered: stored (201), dropped connection, 503, or a refusal. */
export type Answer = 'store' | 'drop' | 'unavailable' | Problem;

export type FakeParley = {
  origin: string;
  /** The project's settings, a fresh copy of the defaults per test. */
  settings: WidgetSettings;
  /** The project's protections as the config answers them; no captcha and no minimum time unless a test sets them. */
  protection: WidgetProtection;
  /** Origins allowed to use the project; empty: any. */
  allowedOrigins: string[];
  answers: Answer[];
  /** Every feedback POST that reached the server, retries included. */
  feedbackRequests: Received[];
  /** What was stored, by Idempotency-Key: a retry with the same key is stored once. */
  stored: Map<string, Record<string, unknown>>;
  screenshots: Received[];
  configRequests: number;
  challengeRequests: number;
  /** Served under /widget/v1/; a test may swap a file's bytes. */
  files: Map<string, Uint8Array>;
  manifest: Awaited<ReturnType<typeof buildWidget>>['manifest'];
  reset(): void;
  close(): Promise<void>;
};

const freshSettings = (): WidgetSettings => structuredClone(DEFAULT_WIDGET_SETTINGS);
const freshProtection = (): WidgetProtection => ({ captcha: { provider: 'none', siteKey: null, action: 'feedback' }, minSeconds: 0, signedSubmissions: false });

function problem(response: ServerResponse, { status, code, detail, retryAfter = 1 }: Problem, headers: Record<string, string> = {}): void {
  const limitHeaders = status === 429 ? { 'Retry-After': String(retryAfter), 'RateLimit-Limit': '10', 'RateLimit-Remaining': '0', 'RateLimit-Reset': String(retryAfter) } : {};
  response
    .writeHead(status, { 'Content-Type': 'application/problem+json', ...limitHeaders, ...headers })
    .end(JSON.stringify({ type: `https://parley.dev/problems/${code}`, title: code, status, detail, code }));
}

/** The server's proof-of-work challenges with a throwaway key and an in-memory replay store. */
async function startChallenges(): Promise<Challenges> {
  const memoryOnly = { sharedState: 'memory' } as Config;
  const state = await createSharedState(memoryOnly, {} as Database, systemClock, pino({ enabled: false }));
  return new Challenges(state, randomBytes(32), systemClock);
}

export async function startFakeParley(): Promise<FakeParley> {
  const [{ files, manifest }, challenges] = await Promise.all([buildWidget({ write: false }), startChallenges()]);
  const fake: FakeParley = {
    origin: '',
    settings: freshSettings(),
    protection: freshProtection(),
    allowedOrigins: [],
    answers: [],
    feedbackRequests: [],
    stored: new Map(),
    screenshots: [],
    configRequests: 0,
    challengeRequests: 0,
    files,
    manifest,
    reset() {
      fake.settings = freshSettings();
      fake.protection = freshProtection();
      fake.challengeRequests = 0;
      fake.allowedOrigins = [];
      fake.answers = [];
      fake.feedbackRequests = [];
      fake.stored = new Map();
      fake.screenshots = [];
      fake.configRequests = 0;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://parley');
      const body = Buffer.concat(chunks);
      const asset = /^\/widget\/(v1|[\d.]+)\/([A-Za-z0-9_.-]+\.js)$/.exec(url.pathname);
      if (asset) {
        const [, version, file] = asset;
        const bytes = version === 'v1' || (version === manifest.version && file === manifest.loader) ? files.get(file!) : undefined;
        if (!bytes) return problem(response, { status: 404, code: 'not_found', detail: 'No such widget file.' });
        response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' }).end(bytes);
        return;
      }
      const api = /^\/api\/widget\/v1\/projects\/([^/]+)\/(config|challenge|feedback|screenshots)$/.exec(url.pathname);
      if (!api) return problem(response, { status: 404, code: 'not_found', detail: 'Not found.' });
      const [, key, resource] = api;
      const origin = request.headers.origin;
      // Like the real server: a refusal carries no Access-Control-Allow-Origin.
      if (decodeURIComponent(key!) !== PROJECT_KEY) return problem(response, { status: 404, code: 'project_not_found', detail: 'There is no project with this key.' });
      if (!origin || (fake.allowedOrigins.length > 0 && !fake.allowedOrigins.includes(origin))) {
        return problem(response, { status: 403, code: 'origin_not_allowed', detail: 'This site is not allowed to send feedback to this project.' });
      }
      const cors = { 'Access-Control-Allow-Origin': origin, Vary: 'Origin', 'Access-Control-Expose-Headers': 'Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset' };
      if (request.method === 'OPTIONS') {
        response.writeHead(204, { ...cors, 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'content-type, idempotency-key', 'Access-Control-Max-Age': '600' }).end();
      } else if (resource === 'config') {
        fake.configRequests++;
        response
          .writeHead(200, { ...cors, 'Content-Type': 'application/json', 'Cache-Control': 'max-age=60' })
          .end(JSON.stringify({ settings: fake.settings, version: manifest.version, protection: fake.protection }));
      } else if (resource === 'challenge') {
        fake.challengeRequests++;
        void challenges.issue(PROJECT_KEY, 'normal').then((challenge) => {
          response.writeHead(200, { ...cors, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(challenge));
        });
      } else if (resource === 'screenshots') {
        fake.screenshots.push({ path: url.pathname, headers: request.headers, body });
        response.writeHead(201, { ...cors, 'Content-Type': 'application/json' }).end(JSON.stringify({ id: randomUUID() }));
      } else {
        fake.feedbackRequests.push({ path: url.pathname, headers: request.headers, body });
        const answer = fake.answers.shift() ?? 'store';
        if (answer === 'drop') {
          response.socket?.destroy();
        } else if (answer === 'unavailable') {
          problem(response, { status: 503, code: 'unavailable', detail: 'Try again later.' }, cors);
        } else if (answer === 'store') {
          void store(JSON.parse(body.toString('utf8')) as Record<string, unknown>, String(request.headers['idempotency-key'])).then((id) => {
            response.writeHead(201, { ...cors, 'Content-Type': 'application/json' }).end(JSON.stringify({ id }));
          }, (error: AppError) => problem(response, { status: error.status, code: error.code, detail: error.detail }, cors));
        } else {
          problem(response, answer, cors);
        }
      }
    });
  });
  /** Stores a feedback once per Idempotency-Key; a proof-of-work project's must carry a solved challenge, checked by the server's own code. */
  async function store(body: Record<string, unknown>, idempotencyKey: string): Promise<string> {
    if (fake.protection.captcha.provider === 'pow') {
      if (typeof body.challenge !== 'string') throw new AppError('challenge_missing');
      await challenges.verify(PROJECT_KEY, body.challenge);
    }
    if (!fake.stored.has(idempotencyKey)) fake.stored.set(idempotencyKey, body);
    return `fb-${[...fake.stored.keys()].indexOf(idempotencyKey) + 1}`;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** The bodies of the stored feedback, oldest first. */
export const storedBodies = (fake: FakeParley) => [...fake.stored.values()];
