// Helpers shared by the benchmarks: start Parley as a child process, create an
// account and a project through its CLI, find its embedded PostgreSQL, and
// clean everything up again. Loopback only.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const PARLEY_BIN = path.join(REPO_ROOT, 'apps/server/bin/parley.js');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function assertBuilt() {
  if (!fs.existsSync(path.join(REPO_ROOT, 'apps/server/dist/main.js'))) {
    process.stderr.write('Parley is not built: run `npx tsc -p apps/server/tsconfig.build.json` first.\n');
    process.exit(2);
  }
}

export function makeDataDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * The environment a Parley process (server or CLI) of this run gets. `redis`
 * (from `benchRedis`) puts the shared state (rate limits, challenge replays)
 * in Redis under this run's own prefix; without it Parley's `auto` picks
 * memory on the embedded database, PostgreSQL with `databaseUrl`.
 */
export function parleyEnv({ dataDir, port, databaseUrl, appRole, logLevel = 'warn', redis }) {
  const env = { ...process.env, PARLEY_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', PARLEY_PUBLIC_URL: `http://localhost:${port}`, LOG_LEVEL: logLevel };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'PARLEY_REDIS_PREFIX', 'PARLEY_SHARED_STATE']) delete env[name];
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  if (appRole) env.PARLEY_DB_APP_ROLE = appRole;
  if (redis) {
    env.REDIS_URL = redis.url;
    env.PARLEY_REDIS_PREFIX = redis.prefix;
  }
  return env;
}

/** Where the running server keeps its limits, from /readyz ("limits in redis", "… memory", "… postgres"; a build from before the front door has none). */
export async function sharedStateOf(url) {
  const ready = await fetch(`${url}/readyz`).then((r) => r.json());
  if (!ready.sharedState) return 'no rate limits (a build without them)';
  return `limits in ${ready.sharedState.kind}${ready.sharedState.degraded ? ' (degraded)' : ''}`;
}

const redisClient = (url) => new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });

/** Whether a Redis answers PING at `url` (benches use it when the machine has one). */
export async function redisAnswers(url) {
  const client = redisClient(url);
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** A key prefix of this run's own in the Redis at `url`; `drop()` deletes every key under it. */
export function benchRedis(url) {
  const prefix = `parley-bench-${randomBytes(4).toString('hex')}:`;
  return {
    url,
    prefix,
    async drop() {
      const client = redisClient(url);
      await client.connect();
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await client.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
      await client.quit();
    },
  };
}

/** Pids of running processes whose command name is `name` (e.g. a Redis server not started by the bench), for CPU accounting. */
export function pidsNamed(name) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

export async function waitForExit(pid, timeoutMs) {
  const start = performance.now();
  while (isAlive(pid) && performance.now() - start < timeoutMs) await sleep(20);
  return !isAlive(pid);
}

/**
 * Starts `parley serve` and resolves once GET /readyz answers 200.
 * `nodeArgs` go to node itself (e.g. --cpu-prof). The last 64 KB of its
 * output are kept to explain a failed start.
 */
export async function startParley(env, { nodeArgs = [], readyTimeoutMs = 60_000, bin = PARLEY_BIN } = {}) {
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, bin, 'serve'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString('utf8')).slice(-65_536);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exit = null;
  exited.then((e) => (exit = e));

  const url = `http://127.0.0.1:${env.PORT}`;
  while (performance.now() - started < readyTimeoutMs) {
    if (exit) throw new Error(`Parley exited during start (${exit.signal ?? exit.code}):\n${output}`);
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status === 200, () => false);
    if (ready) {
      return {
        child,
        pid: child.pid,
        url,
        readyMs: performance.now() - started,
        output: () => output,
        exited,
        /** Graceful stop (drains requests, stops embedded Postgres). */
        async stop() {
          if (!exit) child.kill('SIGTERM');
          const killTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          await exited;
          clearTimeout(killTimer);
        },
      };
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`Parley was not ready within ${readyTimeoutMs} ms:\n${output}`);
}

function runCli(env, bin, args, input) {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [bin, ...args], { cwd: REPO_ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`parley ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
    child.stdin.end(input ?? '');
  });
}

export const BENCH_EMAIL = 'bench@example.test';
// Passes the password policy (no part of the e-mail, zxcvbn score >= 3).
export const BENCH_PASSWORD = 'lantern quarry velvet ocelot';

/**
 * Creates an account, an organization "Bench" and a project for example.com
 * on the running server `env` names; returns the project's public key.
 * `protection: 'relaxed'` (the default) turns the bot check and the wait
 * before sending off and raises every limit (BENCH_LIMITS), so the benches
 * that load the endpoint from 127.0.0.1 measure ingestion as before the
 * front door; `'default'` keeps a new project's settings. A build without
 * protection settings (an older one, with --parley-bin) is left as it is.
 */
export async function createBenchProject(env, bin = PARLEY_BIN, { protection = 'relaxed' } = {}) {
  await runCli(env, bin, ['users', 'create', '--email', BENCH_EMAIL, '--org', 'Bench', '--password-stdin'], `${BENCH_PASSWORD}\n`);
  const out = await runCli(env, bin, ['projects', 'create', '--org', 'Bench', '--name', 'Bench', '--domain', 'example.com', '--json']);
  const { key } = JSON.parse(out);
  if (protection === 'relaxed') {
    const project = await openBenchProject(`http://127.0.0.1:${env.PORT}`, key);
    if (await project.hasProtection()) {
      await project.protect((s) => ({ ...s, captcha: { ...s.captcha, provider: 'none' }, minSeconds: 0, signedSubmissions: false, limits: BENCH_LIMITS }));
    }
  }
  return key;
}

/** Line 1 of postmaster.pid is the postmaster's pid, line 4 its port. */
export function readPostmaster(dataDir) {
  const lines = fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

/** Superuser URL of the embedded PostgreSQL in `dataDir` (bypasses row-level security, so it sees every row). */
export function embeddedSuperuserUrl(dataDir) {
  const password = fs.readFileSync(path.join(dataDir, 'db-password'), 'utf8').trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${readPostmaster(dataDir).port}/postgres`;
}

/** One feedback body like the widget sends; `n` makes it distinct. */
export function feedbackBody(n) {
  return JSON.stringify({
    message: `Benchmark feedback #${n}: the checkout button does nothing on the second click.`,
    rating: (n % 5) + 1,
    email: `visitor${n % 1000}@example.test`,
    pageUrl: `https://example.com/page/${n % 100}`,
    locale: 'en',
    viewport: { width: 1280, height: 720 },
  });
}

/**
 * The fields the widget adds for the front door: a solved proof-of-work
 * `challenge` payload (when there is one), the time since the dialog opened,
 * an empty honeypot and the widget session's reporter id.
 */
export function protectedFeedbackBody(n, { challenge, reporter }) {
  const body = JSON.parse(feedbackBody(n));
  return JSON.stringify({ ...body, ...(challenge ? { challenge } : {}), elapsedMs: 4000, honeypot: '', reporter });
}

/** A reporter id as the widget makes one per session. */
export const newReporter = () => randomBytes(16).toString('base64url');

// Frozen: autocannon adds content-length to the headers object it is given.
export const WIDGET_HEADERS = Object.freeze({ origin: 'https://example.com', 'content-type': 'application/json', 'user-agent': 'parley-bench/1' });

// The dashboard's own requests carry same-origin Fetch Metadata (CSRF check).
const DASHBOARD_HEADERS = Object.freeze({ 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', 'user-agent': 'parley-bench/1' });

async function expectJson(response, what) {
  if (response.ok) return response.json();
  throw new Error(`${what}: ${response.status} ${await response.text()}`);
}

/**
 * Signs in to the dashboard API as the bench account and finds the project
 * with public key `key`; `protect(change)` applies `change` to the project's
 * protection settings (PUT …/protection) and returns what the server stored.
 */
export async function openBenchProject(url, key) {
  const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: DASHBOARD_HEADERS, body: JSON.stringify({ email: BENCH_EMAIL, password: BENCH_PASSWORD }) });
  await expectJson(login, 'sign-in');
  const cookie = login.headers.getSetCookie().find((c) => c.startsWith('__Host-parley_session=')).split(';')[0];
  const headers = { ...DASHBOARD_HEADERS, cookie };
  const me = await expectJson(await fetch(`${url}/api/v1/me`, { headers }), 'GET /api/v1/me');
  const orgId = me.organizations[0].id;
  const { items } = await expectJson(await fetch(`${url}/api/v1/orgs/${orgId}/projects`, { headers }), 'list projects');
  const projectId = items.find((p) => p.key === key).id;
  const base = `${url}/api/v1/orgs/${orgId}/projects/${projectId}`;
  return {
    orgId,
    projectId,
    /** The signed-in dashboard's request headers (session cookie, same-origin Fetch Metadata). */
    headers,
    async hasProtection() {
      return (await fetch(`${base}/protection`, { headers })).status !== 404;
    },
    async protect(change) {
      const { settings } = await expectJson(await fetch(`${base}/protection`, { headers }), 'GET protection');
      const body = JSON.stringify(change(structuredClone(settings)));
      return (await expectJson(await fetch(`${base}/protection`, { method: 'PUT', headers, body }), 'PUT protection')).settings;
    },
    /** The server's refusal counts of the last 24 h (flushed every 10 s). */
    async refusals() {
      return expectJson(await fetch(`${base}/protection/refusals`, { headers }), 'GET refusals');
    },
  };
}

/**
 * Limits far above any bench's load (near the highest the settings allow), so
 * a bench measures the work of each protection rather than a limit answering 429.
 */
export const BENCH_LIMITS = Object.freeze({
  perIp: { points: 1_000_000, seconds: 1 },
  perReporter: { points: 10_000, seconds: 1 },
  projectPerMinute: 1_000_000,
  projectPerDay: 100_000_000,
  challengesPerIp: { points: 1_000_000, seconds: 1 },
});

/**
 * keep-alive agents, each bound to its own loopback source address
 * (127.0.0.0/8 all routes to `lo` on Linux), so the server sees `count`
 * different client IPs: `${prefix}.1`, `${prefix}.2`, …
 */
export function loopbackAgents(prefix, count, socketsEach = 1) {
  if (count > 254) throw new Error('at most 254 addresses per prefix');
  return Array.from({ length: count }, (_, i) => new http.Agent({ keepAlive: true, maxSockets: socketsEach, localAddress: `${prefix}.${i + 1}` }));
}

/**
 * One request over `agent`. Resolves with the status (or 'error'), the body
 * text and the latency in ms from sending to the last byte; never rejects.
 */
export function send(url, { agent, method = 'POST', headers = WIDGET_HEADERS, body }) {
  const started = performance.now();
  return new Promise((resolve) => {
    const request = http.request(url, { method, agent, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) } }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      response.on('error', (error) => resolve({ status: 'error', text: error.message, ms: performance.now() - started }));
    });
    request.on('error', (error) => resolve({ status: 'error', text: error.message, ms: performance.now() - started }));
    request.end(body);
  });
}

/** "403 challenge_invalid" for a problem+json answer, "201" for success, "error" for no answer. */
export function outcomeOf({ status, text }) {
  if (status === 'error' || status < 400) return String(status);
  try {
    return `${status} ${JSON.parse(text).code}`;
  } catch {
    return String(status);
  }
}

/**
 * Every 20 ms, writes 512 bytes to a file in `dir` and waits for fdatasync, as
 * PostgreSQL's commit does. `stop()` gives the latencies: on a shared VM the
 * disk stalls now and then for tens or hundreds of ms, and every submission
 * committed in that moment waits with it, whatever the bench is measuring.
 */
export function startFsyncProbe(dir) {
  const file = path.join(dir, `fsync-probe-${randomBytes(4).toString('hex')}`);
  const latencies = [];
  let running = true;
  const done = (async () => {
    const handle = await fs.promises.open(file, 'w');
    const block = Buffer.alloc(512, 120);
    while (running) {
      const started = performance.now();
      await handle.write(block, 0, block.length, 0);
      await handle.datasync();
      latencies.push(performance.now() - started);
      await sleep(20);
    }
    await handle.close();
    await fs.promises.rm(file, { force: true });
  })();
  return async () => {
    running = false;
    await done;
    return { count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) };
  };
}

/** "fdatasync p50 0.3 ms, p99 1.2 ms, max 90.4 ms (480 probes)" */
export const describeFsync = (f) => `fdatasync p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, max ${f.max.toFixed(1)} ms (${f.count} probes)`;

/** p-th percentile (0..100) of `values` (sorted in place), nearest rank. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1))];
}

/** Runs `fn` at most once, on normal exit, error or Ctrl-C: benchmarks must not leave servers or data behind. */
export function onCleanup(fn) {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    await fn();
  };
  process.once('SIGINT', () => once().finally(() => process.exit(130)));
  return once;
}
