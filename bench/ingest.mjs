// Ingestion throughput: a bare Fastify JSON POST (the ceiling) against
// Parley's widget ingestion endpoint, first with its limits raised out of the
// way and no bot check (autocannon, as before the front door), then with
// every protection on: a freshly solved proof-of-work challenge per
// submission, limits in Redis, load spread over many client IPs.
// Prints figures; asserts no timing. See bench/README.md.
//
//   node bench/ingest.mjs [--duration 15] [--connections 50] [--warmup 3]
//                         [--only baseline|parley|protected] [--database-url URL]
//                         [--redis URL | --no-redis] [--pow-pool 20000] [--solve-seconds 60]
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
import { describePool, solvedPool } from './challenge-pool.mjs';
import { formatCpu, processTree, startCpuMeter } from './cpu.mjs';
import {
  assertBuilt, BENCH_LIMITS, benchRedis, createBenchProject, embeddedSuperuserUrl, feedbackBody, freePort, loopbackAgents, makeDataDir, newReporter, onCleanup,
  openBenchProject, outcomeOf, parleyEnv, PARLEY_BIN, percentile, pidsNamed, protectedFeedbackBody, readPostmaster, redisAnswers, REPO_ROOT, send, sharedStateOf, startParley,
  WIDGET_HEADERS,
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
    redis: { type: 'string', default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' },
    'no-redis': { type: 'boolean', default: false },
    'pow-pool': { type: 'string', default: '20000' },
    'solve-seconds': { type: 'string', default: '60' },
  },
  strict: true,
});
const duration = Number(flags.duration);
const connections = Number(flags.connections);
const warmup = Number(flags.warmup);
const powPool = Number(flags['pow-pool']);
const solveSeconds = Number(flags['solve-seconds']);
// Bounded: a typo must not turn into an hour of load.
if (!(duration > 0 && duration <= 300) || !(connections > 0 && connections <= 1000) || !(warmup >= 0 && warmup <= 60)) {
  process.stderr.write('--duration must be 1..300 s, --connections 1..1000, --warmup 0..60 s\n');
  process.exit(2);
}
// Challenges expire 5 minutes after they are issued: solving must leave time to send them.
if (!(powPool >= 100 && powPool <= 200_000) || !(solveSeconds > 0 && solveSeconds <= 180)) {
  process.stderr.write('--pow-pool must be 100..200000, --solve-seconds 1..180\n');
  process.exit(2);
}
if (!['baseline', 'parley', 'protected', undefined].includes(flags.only)) {
  process.stderr.write('--only must be baseline, parley or protected\n');
  process.exit(2);
}
const runs = (target) => flags.only === undefined || flags.only === target;

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

/**
 * b. Limits raised out of the way and no bot check (how createBenchProject
 * leaves the project), under autocannon from 127.0.0.1: the figure to compare
 * with runs before the front door.
 */
async function benchUnprotected(target) {
  const { url, acked, runId } = target;
  let n = 0;
  const unanswered = new Map(); // key -> body
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
  const loadAndResend = async (seconds) => {
    const result = await load(url, { seconds, requests });
    for (const [key, body] of unanswered) {
      const res = await fetch(url, { method: 'POST', headers: { ...WIDGET_HEADERS, 'idempotency-key': key }, body });
      if (res.status === 201) acked.set(key, (await res.json()).id);
      unanswered.delete(key);
      target.resent++;
    }
    return result;
  };
  if (warmup > 0) await loadAndResend(warmup);
  const stopMeter = startCpuMeter(target.meterGroups);
  const countersBefore = await databaseCounters(target.superuserUrl);
  const result = await loadAndResend(duration);
  const cpu = stopMeter();
  return { row: row(`b. Parley, no bot check, limits raised (${target.label}, ${target.state})`, result), cpu, ...(await countersSince(target, countersBefore, duration)) };
}

/**
 * c. Every protection on: proof of work (a solved challenge per submission,
 * verified and claimed once in the shared store), every limit checked (raised
 * so they do not refuse), spam rules and honeypot at their defaults, limits
 * and replays in Redis when there is one. Each connection is its own client
 * IP (127.0.2.x) so the per-IP keys are many, as on the internet. Sends the
 * pre-solved pool as fast as `connections` clients go, for at most
 * `duration` seconds.
 */
async function benchProtected(target) {
  const settings = await target.project.protect((s) => ({ ...s, captcha: { ...s.captcha, provider: 'pow' }, minSeconds: 0, signedSubmissions: false, limits: BENCH_LIMITS }));
  const agents = loopbackAgents('127.0.2', Math.min(connections, 254));
  const pool = await solvedPool(target.url, target.key, agents, { count: powPool, budgetSeconds: solveSeconds });
  // The first tenth warms the proof-of-work path (JIT), unmeasured.
  const warm = pool.payloads.splice(0, Math.min(500, Math.floor(pool.payloads.length / 10)));
  await sendPool(target, agents, warm, Infinity);
  const stopMeter = startCpuMeter(target.meterGroups);
  const countersBefore = await databaseCounters(target.superuserUrl);
  const phase = await sendPool(target, agents, pool.payloads, duration);
  const cpu = stopMeter();
  const latency = phase.latencies;
  const rowData = {
    name: `c. Parley, every protection on (${target.label}, ${target.state})`,
    rps: phase.accepted / phase.seconds,
    p50: percentile(latency, 50).toFixed(1),
    p90: percentile(latency, 90).toFixed(1),
    p99: percentile(latency, 99).toFixed(1),
    ok: phase.accepted,
    non2xx: phase.refused,
    errors: phase.outcomes.error ?? 0,
    timeouts: 0,
  };
  return { row: rowData, cpu, pool, phase, settings, ...(await countersSince(target, countersBefore, phase.seconds)) };
}

/** Sends each payload once over `agents` (one request in flight per agent) until they are used up or `seconds` pass. */
async function sendPool(target, agents, payloads, seconds) {
  const outcomes = {};
  const latencies = [];
  let next = 0;
  let accepted = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const client = async (agent) => {
    while (next < payloads.length && performance.now() < deadline) {
      const n = target.n++;
      const key = `bench-${target.runId}-${n}`;
      const body = protectedFeedbackBody(n, { challenge: payloads[next++], reporter: newReporter() });
      const answer = await send(target.url, { agent, headers: { ...WIDGET_HEADERS, 'idempotency-key': key }, body });
      const outcome = outcomeOf(answer);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (answer.status === 201) {
        accepted++;
        latencies.push(answer.ms);
        target.acked.set(key, JSON.parse(answer.text).id);
      }
    }
  };
  await Promise.all(agents.map(client));
  const sent = Object.values(outcomes).reduce((a, b) => a + b, 0);
  return { outcomes, latencies, accepted, refused: sent - accepted - (outcomes.error ?? 0), seconds: (performance.now() - started) / 1000, poolUsedUp: next >= payloads.length };
}

async function countersSince(target, before, seconds) {
  // Backends report their statistics within a second or so of committing.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const after = await databaseCounters(target.superuserUrl);
  return { commits: after.commits - before.commits, inserted: after.inserted - before.inserted, seconds };
}

/** Starts Parley (with Redis when there is one), creates the bench project, runs b and c, then checks every row. */
async function benchParley() {
  const dataDir = makeDataDir();
  const port = await freePort();
  const external = flags['database-url'] ? await createExternalDatabase(flags['database-url']) : null;
  const redis = !flags['no-redis'] && (await redisAnswers(flags.redis)) ? benchRedis(flags.redis) : null;
  const env = parleyEnv({ dataDir, port, databaseUrl: external?.url, appRole: external?.appRole, logLevel: flags['log-level'], redis });
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
    await redis?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  try {
    const bin = path.resolve(flags['parley-bin']);
    server = await startParley(env, { bin, nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] });
    const key = await createBenchProject(env, bin);
    const superuserUrl = external ? external.url : embeddedSuperuserUrl(dataDir);
    const postmaster = external ? await postmasterOf(superuserUrl) : readPostmaster(dataDir).pid;
    const build = bin === PARLEY_BIN ? '' : `, ${path.relative(REPO_ROOT, bin)}`;
    const target = {
      url: new URL(`/api/widget/v1/projects/${key}/feedback`, server.url).href,
      key,
      project: await openBenchProject(server.url, key),
      superuserUrl,
      runId: randomBytes(3).toString('hex'),
      n: 0,
      acked: new Map(), // Idempotency-Key -> id answered with 201
      resent: 0,
      label: `${external ? 'external' : 'embedded'} PostgreSQL${build}`,
      state: await sharedStateOf(server.url),
      meterGroups: {
        server: () => [server.pid],
        ...(postmaster ? { postgres: () => processTree(postmaster) } : {}),
        ...(redis ? { redis: () => pidsNamed('redis-server') } : {}),
      },
    };
    const results = [];
    if (runs('parley')) results.push(await benchUnprotected(target));
    if (runs('protected')) results.push(await benchProtected(target));
    const ready = await fetch(`${server.url}/readyz`).then((r) => r.text());
    const check = { ...(await verifyRows(superuserUrl, target.acked)), resent: target.resent };
    return { results, check, profileDir, ready };
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
if (runs('baseline')) results.push(await benchBaseline());
const parley = runs('parley') || runs('protected') ? await benchParley() : null;
if (parley) results.push(...parley.results);

printTable(results.map((r) => r.row));
console.log('');
for (const r of results) {
  console.log(`CPU during ${r.row.name}: ${formatCpu(r.cpu)}`);
  // CPU per answered request barely moves when other processes steal cores, unlike req/s: compare builds with it.
  const perRequest = ['server', 'postgres', 'redis', 'load generator'].filter((label) => label in r.cpu).map((label) => `${label} ${Math.round((1e6 * r.cpu[label]) / r.row.ok)} µs`);
  console.log(`  CPU per answered request: ${perRequest.join(' | ')}`);
}
const baseline = results.find((r) => r.row.name.startsWith('a.'));
for (const r of parley?.results ?? []) {
  const accepted = r.row.ok / r.seconds;
  const ratio = baseline ? ` (${Math.round((100 * accepted) / baseline.row.rps)}% of the bare endpoint's ${Math.round(baseline.row.rps).toLocaleString('en')}/s)` : '';
  console.log(`\n${r.row.name}\n  accepted submissions/s (2xx / duration): ${Math.round(accepted).toLocaleString('en')}${ratio} (issue target: >= 4,000 with 50 clients)`);
  // A backend reports its statistics at most once a second, and up to 10 s late when it goes idle: a short phase's counts are mostly missing.
  if (r.seconds >= 5) {
    console.log(`  PostgreSQL during the run: ${Math.round(r.commits / r.seconds).toLocaleString('en')} commits/s, ${Math.round(r.inserted / r.seconds).toLocaleString('en')} rows inserted/s, ${(r.inserted / Math.max(1, r.commits)).toFixed(1)} rows per commit (group-commit batch size)`);
  }
  if (r.pool) {
    console.log(`  proof of work, before the timed phase: ${describePool(r.pool)}`);
    const end = r.phase.poolUsedUp ? `the pool ran out after ${r.phase.seconds.toFixed(1)} s (raise --pow-pool or --solve-seconds for a longer phase)` : `${r.phase.seconds.toFixed(1)} s`;
    console.log(`  timed phase: ${end}; answers ${JSON.stringify(r.phase.outcomes)}`);
  }
}
let failed = false;
if (parley) {
  const c = parley.check;
  console.log(`\n/readyz: ${parley.ready}`);
  console.log(`rows check: ${c.rows} rows in feedback; ${c.acked} distinct submissions answered 201 (warm-ups included, and ${c.resent} cut off when autocannon stopped then re-sent with their Idempotency-Key)`);
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
