// Ingestion throughput: a bare Fastify JSON POST (the ceiling) against
// Parley's widget ingestion endpoint, each under the same autocannon load.
// Prints figures; asserts no timing. See bench/README.md.
//
//   node bench/ingest.mjs [--duration 15] [--connections 50] [--warmup 3]
//                         [--only baseline|parley] [--database-url URL]
//                         [--pool-size N] [--log-level warn] [--cpu-prof DIR]
//                         [--parley-bin path/to/bin/parley.js]  (another build, to compare)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { formatCpu, processTree, startCpuMeter } from './cpu.mjs';
import {
  assertBuilt, createBenchProject, embeddedSuperuserUrl, feedbackBody, freePort, makeDataDir, onCleanup, parleyEnv,
  PARLEY_BIN, readPostmaster, REPO_ROOT, startParley, WIDGET_HEADERS,
} from './lib.mjs';
import { summarizeProfile } from './profile-summary.mjs';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: process.env.BENCH_DURATION ?? '15' },
    connections: { type: 'string', default: process.env.BENCH_CONNECTIONS ?? '50' },
    warmup: { type: 'string', default: process.env.BENCH_WARMUP ?? '3' },
    only: { type: 'string' },
    'database-url': { type: 'string', default: process.env.BENCH_DATABASE_URL },
    'pool-size': { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
    'cpu-prof': { type: 'string' },
    'parley-bin': { type: 'string', default: PARLEY_BIN },
  },
  strict: true,
});
const duration = Number(flags.duration);
const connections = Number(flags.connections);
const warmup = Number(flags.warmup);
// Bounded: a typo must not turn into an hour of load.
if (!(duration > 0 && duration <= 300) || !(connections > 0 && connections <= 1000) || !(warmup >= 0 && warmup <= 60)) {
  process.stderr.write('--duration must be 1..300 s, --connections 1..1000, --warmup 0..60 s\n');
  process.exit(2);
}

function load(url, { seconds, requests }) {
  return autocannon({ url, connections, duration: seconds, requests, timeout: 10 });
}

function row(name, result) {
  const l = result.latency;
  return { name, rps: result.requests.average, p50: l.p50, p90: l.p90, p99: l.p99, ok: result['2xx'], non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts };
}

// ---- a. the baseline: bare Fastify, validation only -------------------------

async function benchBaseline() {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bench/baseline-server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise((resolve, reject) => {
      child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
      child.once('exit', (code) => reject(new Error(`baseline server exited (${code})`)));
    });
    const url = `http://127.0.0.1:${port}/feedback`;
    let n = 0;
    const requests = [{ method: 'POST', setupRequest: (req) => ({ ...req, headers: { ...WIDGET_HEADERS }, body: feedbackBody(n++) }) }];
    if (warmup > 0) await load(url, { seconds: warmup, requests });
    const stopMeter = startCpuMeter({ server: () => [child.pid] });
    const result = await load(url, { seconds: duration, requests });
    return { row: row('a. bare Fastify + schema', result), cpu: stopMeter() };
  } finally {
    child.kill('SIGTERM');
  }
}

// ---- b. Parley's ingestion endpoint ----------------------------------------

/** For --database-url: a fresh database and app role of our own, dropped afterwards. */
async function createExternalDatabase(adminUrl) {
  const suffix = randomBytes(4).toString('hex');
  const name = `parley_bench_${suffix}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    appRole: name,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.query(`DROP ROLE IF EXISTS ${name}`);
      await client.end();
    },
  };
}

/** The postmaster of whatever server `superuserUrl` reaches, for CPU accounting (null if we may not read its pid file). */
async function postmasterOf(superuserUrl) {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT pg_read_file('postmaster.pid') AS text");
    return Number(rows[0].text.split('\n')[0]);
  } catch {
    return null;
  } finally {
    await client.end();
  }
}

/**
 * Commits and inserted rows in this database, from PostgreSQL's statistics:
 * their ratio is the mean batch size of Parley's group commit.
 */
async function databaseCounters(superuserUrl) {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  const { rows } = await client.query('SELECT xact_commit::float8 AS commits, tup_inserted::float8 AS inserted FROM pg_stat_database WHERE datname = current_database()');
  await client.end();
  return rows[0];
}

/** Every 201 must be a row with the same id, and there must be no other row. */
async function verifyRows(superuserUrl, acked) {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  const { rows } = await client.query('SELECT id::text, idempotency_key FROM feedback');
  await client.end();
  const stored = new Map(rows.map((r) => [r.idempotency_key, r.id]));
  let ackedFound = 0;
  for (const [key, id] of acked) if (stored.get(key) === id) ackedFound++;
  return { rows: rows.length, acked: acked.size, ackedFound };
}

async function benchParley() {
  const dataDir = makeDataDir();
  const port = await freePort();
  const external = flags['database-url'] ? await createExternalDatabase(flags['database-url']) : null;
  const env = parleyEnv({ dataDir, port, databaseUrl: external?.url, appRole: external?.appRole, logLevel: flags['log-level'] });
  if (flags['pool-size']) env.PARLEY_DB_POOL_SIZE = flags['pool-size'];
  // A directory of its own per run, so only this run's profile is summarised.
  let profileDir = null;
  if (flags['cpu-prof']) {
    fs.mkdirSync(flags['cpu-prof'], { recursive: true });
    profileDir = fs.mkdtempSync(path.join(path.resolve(flags['cpu-prof']), 'run-'));
  }
  let server = null;
  const cleanup = onCleanup(async () => {
    await server?.stop();
    await external?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  try {
    const bin = path.resolve(flags['parley-bin']);
    server = await startParley(env, { bin, nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] });
    const key = await createBenchProject(env, bin);
    const url = `${server.url}/api/widget/v1/projects/${key}/feedback`;
    const superuserUrl = external ? external.url : embeddedSuperuserUrl(dataDir);

    // Every request is distinct and carries its own Idempotency-Key; every
    // 201 is recorded so the rows can be checked one by one afterwards.
    const runId = randomBytes(3).toString('hex');
    let n = 0;
    const unanswered = new Map(); // key -> body
    const acked = new Map(); // key -> id
    const requests = [
      {
        method: 'POST',
        setupRequest: (req, context) => {
          context.key = `bench-${runId}-${n}`;
          const body = feedbackBody(n++);
          unanswered.set(context.key, body);
          return { ...req, headers: { ...WIDGET_HEADERS, 'idempotency-key': context.key }, body };
        },
        onResponse: (status, body, context) => {
          unanswered.delete(context.key);
          if (status === 201) acked.set(context.key, JSON.parse(body).id);
        },
      },
    ];
    // autocannon stops by closing its connections, so the last request on
    // each one goes unanswered though Parley may well have stored it. Re-send
    // those with the same key, as the widget's offline queue would: the answer
    // is the stored row's id, or a new row if it had not been stored.
    let resent = 0;
    const loadAndResend = async (seconds) => {
      const result = await load(url, { seconds, requests });
      for (const [key, body] of unanswered) {
        const res = await fetch(url, { method: 'POST', headers: { ...WIDGET_HEADERS, 'idempotency-key': key }, body });
        if (res.status === 201) acked.set(key, (await res.json()).id);
        unanswered.delete(key);
        resent++;
      }
      return result;
    };
    if (warmup > 0) await loadAndResend(warmup);

    const postmaster = external ? await postmasterOf(superuserUrl) : readPostmaster(dataDir).pid;
    const stopMeter = startCpuMeter({ server: () => [server.pid], ...(postmaster ? { postgres: () => processTree(postmaster) } : {}) });
    const countersBefore = await databaseCounters(superuserUrl);
    const result = await loadAndResend(duration);
    const cpu = stopMeter();
    // Backends report their statistics within a second or so of committing.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const countersAfter = await databaseCounters(superuserUrl);
    const commits = countersAfter.commits - countersBefore.commits;
    const inserted = countersAfter.inserted - countersBefore.inserted;
    const check = { ...(await verifyRows(superuserUrl, acked)), resent };
    const build = bin === PARLEY_BIN ? '' : `, ${path.relative(REPO_ROOT, bin)}`;
    const label = `b. Parley ingestion (${external ? 'external' : 'embedded'} PostgreSQL${build})`;
    return { row: row(label, result), cpu, check, profileDir, commits, inserted };
  } finally {
    await cleanup();
  }
}

// ---- report -----------------------------------------------------------------

function printTable(rows) {
  const header = ['target', 'req/s (mean)', 'p50 ms', 'p90 ms', 'p99 ms', '2xx', 'non-2xx', 'errors', 'timeouts'];
  const lines = rows.map((r) => [r.name, Math.round(r.rps).toLocaleString('en'), r.p50, r.p90, r.p99, r.ok, r.non2xx, r.errors, r.timeouts].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(fmt(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const l of lines) console.log(fmt(l));
}

assertBuilt();
console.log(`ingest bench: ${connections} connections, ${duration} s per target after ${warmup} s warm-up, node ${process.version}, ${os.cpus().length} CPU cores (${os.cpus()[0]?.model ?? '?'})`);
console.log(`caveat: the load generator, the server and PostgreSQL share these ${os.cpus().length} cores; on a machine with more cores, or with the load generated elsewhere, the server gets more of the CPU.\n`);

const results = [];
if (flags.only !== 'parley') results.push(await benchBaseline());
if (flags.only !== 'baseline') results.push(await benchParley());

printTable(results.map((r) => r.row));
console.log('');
for (const r of results) {
  console.log(`CPU during ${r.row.name}: ${formatCpu(r.cpu)}`);
  // CPU per answered request barely moves when other processes steal cores, unlike req/s: compare builds with it.
  const perRequest = ['server', 'postgres', 'load generator'].filter((label) => label in r.cpu).map((label) => `${label} ${Math.round((1e6 * r.cpu[label]) / r.row.ok)} µs`);
  console.log(`  CPU per answered request: ${perRequest.join(' | ')}`);
}
const parley = results.find((r) => r.check);
let failed = false;
if (parley) {
  const c = parley.check;
  const accepted = parley.row.ok / duration;
  console.log(`\naccepted submissions/s (2xx / duration): ${Math.round(accepted).toLocaleString('en')} (issue target: >= 4,000 with 50 clients)`);
  console.log(`PostgreSQL during the run: ${Math.round(parley.commits / duration).toLocaleString('en')} commits/s, ${Math.round(parley.inserted / duration).toLocaleString('en')} rows inserted/s, ${(parley.inserted / Math.max(1, parley.commits)).toFixed(1)} rows per commit (group-commit batch size)`);
  console.log(`rows check: ${c.rows} rows in feedback; ${c.acked} distinct submissions answered 201 (warm-up included, and ${c.resent} cut off when the load stopped then re-sent with their Idempotency-Key)`);
  console.log(`            answered 201 and found with the same id: ${c.ackedFound} of ${c.acked}; rows == 201 answers: ${c.rows === c.acked ? 'yes' : 'NO'}`);
  failed = c.ackedFound !== c.acked || c.rows !== c.acked;
  if (parley.profileDir) {
    for (const file of fs.readdirSync(parley.profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
      console.log(`\n${summarizeProfile(path.join(parley.profileDir, file))}`);
    }
  }
}
if (failed) {
  console.log('\nFAILED: an acknowledged submission is missing or an unexpected row exists.');
  process.exit(1);
}
