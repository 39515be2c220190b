// Helpers shared by the benchmarks: start Parley as a child process, create an
// account and a project through its CLI, find its embedded PostgreSQL, and
// clean everything up again. Loopback only.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** The environment a Parley process (server or CLI) of this run gets. */
export function parleyEnv({ dataDir, port, databaseUrl, appRole, logLevel = 'warn' }) {
  const env = { ...process.env, PARLEY_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', PARLEY_PUBLIC_URL: `http://localhost:${port}`, LOG_LEVEL: logLevel };
  delete env.DATABASE_URL;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  if (appRole) env.PARLEY_DB_APP_ROLE = appRole;
  return env;
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

/** Creates an account, an organization "Bench" and a project for example.com; returns the project's public key. */
export async function createBenchProject(env, bin = PARLEY_BIN) {
  await runCli(env, bin, ['users', 'create', '--email', BENCH_EMAIL, '--org', 'Bench', '--password-stdin'], `${BENCH_PASSWORD}\n`);
  const out = await runCli(env, bin, ['projects', 'create', '--org', 'Bench', '--name', 'Bench', '--domain', 'example.com', '--json']);
  return JSON.parse(out).key;
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

// Frozen: autocannon adds content-length to the headers object it is given.
export const WIDGET_HEADERS = Object.freeze({ origin: 'https://example.com', 'content-type': 'application/json', 'user-agent': 'parley-bench/1' });

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
