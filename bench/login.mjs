// Login cost at Parley's argon2id parameters (m=19456 KiB, t=2, p=1), and
// what a flood of failed logins leaves of the CPU for feedback ingestion.
// Prints figures; asserts no timing. See bench/README.md.
//
//   node bench/login.mjs [--duration 10] [--connections 8] [--accounts 40]
//                        [--failed-rate 1000] [--log-level warn]
//                        [--parley-bin path/to/bin/parley.js]  (another build, to compare)
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { formatCpu, processTree, startCpuMeter } from './cpu.mjs';
import {
  assertBuilt, BENCH_EMAIL, BENCH_PASSWORD, createBenchProject, embeddedSuperuserUrl, feedbackBody, freePort, makeDataDir, onCleanup, PARLEY_BIN, parleyEnv,
  readPostmaster, startParley, WIDGET_HEADERS,
} from './lib.mjs';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: process.env.BENCH_DURATION ?? '10' },
    connections: { type: 'string', default: '8' },
    accounts: { type: 'string', default: '40' },
    'failed-rate': { type: 'string', default: '1000' },
    'log-level': { type: 'string', default: 'warn' },
    'parley-bin': { type: 'string', default: PARLEY_BIN },
  },
  strict: true,
});
const duration = Number(flags.duration);
const connections = Number(flags.connections);
const accounts = Number(flags.accounts);
const failedRate = Number(flags['failed-rate']);
// Bounded: a typo must not turn into an hour of load.
if (!(duration > 0 && duration <= 120) || !(connections > 0 && connections <= 200) || !(accounts > 0 && accounts <= 1000) || !(failedRate > 0 && failedRate <= 5000)) {
  process.stderr.write('--duration must be 1..120 s, --connections 1..200, --accounts 1..1000, --failed-rate 1..5000 per second\n');
  process.exit(2);
}

// The dashboard's own requests carry same-origin Fetch Metadata (CSRF check).
const LOGIN_HEADERS = Object.freeze({ 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', 'user-agent': 'parley-bench/1' });
const loginBody = (email, password) => JSON.stringify({ email, password });

/** Accounts login-0…login-N in the bench organization, with the bench user's password hash (hashing them one by one would take minutes). */
async function createLoginAccounts(superuserUrl, count) {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    await client.query(
      `WITH bench AS (SELECT u.password_hash, m.org_id FROM users u JOIN memberships m ON m.user_id = u.id WHERE u.email = $1),
            created AS (INSERT INTO users (id, email, name, password_hash, created_at)
                        SELECT gen_random_uuid(), 'login-' || n || '@example.test', 'Login ' || n, (SELECT password_hash FROM bench), now()
                          FROM generate_series(1, $2) AS n RETURNING id)
       INSERT INTO memberships (org_id, user_id, role, created_at) SELECT (SELECT org_id FROM bench), id, 'member', now() FROM created`,
      [BENCH_EMAIL, count],
    );
  } finally {
    await client.end();
  }
  return Array.from({ length: count }, (_, i) => ({
    email: `login-${i + 1}@example.test`,
    // Each account always logs in from "its" browser, as people do: no new-device mail per login.
    cookie: `__Host-parley_device=${randomBytes(32).toString('base64url')}`,
  }));
}

/** Forgets every failed attempt and block, so each scenario starts from a clean login log. */
async function clearLoginLimits(superuserUrl) {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  await client.query(`DELETE FROM login_blocks`);
  await client.query(`DELETE FROM login_attempts WHERE result <> 'success'`);
  await client.end();
}

async function attemptCounts(superuserUrl) {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  const { rows } = await client.query(`SELECT result, count(*)::int AS n FROM login_attempts WHERE result <> 'success' GROUP BY result`);
  await client.end();
  return Object.fromEntries(rows.map((r) => [r.result, r.n]));
}

// ---- a. successful logins ----------------------------------------------------

async function benchSuccessfulLogins(url, meterGroups, logins) {
  let n = 0;
  const requests = [{
    method: 'POST',
    setupRequest: (req) => {
      const account = logins[n++ % logins.length];
      return { ...req, headers: { ...LOGIN_HEADERS, cookie: account.cookie }, body: loginBody(account.email, BENCH_PASSWORD) };
    },
  }];
  await autocannon({ url: `${url}/api/v1/auth/login`, connections, duration: 2, requests, timeout: 30 });
  const stop = startCpuMeter(meterGroups);
  const result = await autocannon({ url: `${url}/api/v1/auth/login`, connections, duration, requests, timeout: 30 });
  return { result, cpu: stop() };
}

// ---- c. known and unknown e-mails cost the same ------------------------------

/** One wrong-password login, timed from the client; each from its own address so no limit applies. */
function timedFailedLogin(url, email, i) {
  const body = loginBody(email, 'Summer2026!x');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(new URL(`${url}/api/v1/auth/login`), {
      method: 'POST',
      agent: false,
      localAddress: `127.2.${Math.floor(i / 254) % 256}.${1 + (i % 254)}`,
      headers: { ...LOGIN_HEADERS, 'content-length': Buffer.byteLength(body) },
    }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode, ms: performance.now() - started }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Alternates a wrong password on a real account and on an unknown e-mail, one at a time, and compares the latencies. */
async function benchEnumerationTiming(url, logins, rounds) {
  const known = [];
  const unknown = [];
  for (let i = 0; i < rounds; i++) {
    const a = await timedFailedLogin(url, logins[i % logins.length].email, 2 * i);
    const b = await timedFailedLogin(url, `nobody-${i}@example.test`, 2 * i + 1);
    if (a.status !== 401 || b.status !== 401) throw new Error(`expected 401 for both, got ${a.status} and ${b.status}`);
    known.push(a.ms);
    unknown.push(b.ms);
  }
  const pick = (values, q) => values.sort((x, y) => x - y)[Math.floor(q * (values.length - 1))].toFixed(1);
  return { known: { p50: pick(known, 0.5), p90: pick(known, 0.9) }, unknown: { p50: pick(unknown, 0.5), p90: pick(unknown, 0.9) } };
}

// ---- b. ingestion beside failed logins ----------------------------------------

function ingestionLoad(url, key) {
  const run = randomBytes(3).toString('hex');
  let n = 0;
  const requests = [{ method: 'POST', setupRequest: (req) => ({ ...req, headers: { ...WIDGET_HEADERS, 'idempotency-key': `login-bench-${run}-${n}` }, body: feedbackBody(n++) }) }];
  return autocannon({ url: `${url}/api/widget/v1/projects/${key}/feedback`, connections: 20, duration, requests, timeout: 30 });
}

/** Failed logins at `failedRate` per second from this machine's one address; `emailOf(n)` picks the e-mail tried. */
function failedLoginLoad(url, emailOf) {
  let n = 0;
  const requests = [{ method: 'POST', setupRequest: (req) => ({ ...req, headers: { ...LOGIN_HEADERS }, body: loginBody(emailOf(n++), 'Summer2026!x') }) }];
  return autocannon({ url: `${url}/api/v1/auth/login`, connections: 50, overallRate: failedRate, duration, requests, timeout: 30 });
}

/**
 * Failed logins at `failedRate` per second, each from another loopback
 * address (127.0.x.y), as a botnet would: no per-IP block applies, so every
 * one costs an argon2 verification. At most 256 in flight; what cannot be
 * sent meanwhile is counted as skipped.
 */
async function spreadFailedLogins(url, seconds) {
  const target = new URL(`${url}/api/v1/auth/login`);
  const stats = { sent: 0, answered: {}, skipped: 0 };
  let inFlight = 0;
  let n = 0;
  const sendOne = () => {
    if (inFlight >= 256) {
      stats.skipped++;
      return;
    }
    inFlight++;
    stats.sent++;
    const i = n++;
    const body = loginBody(`spray-${i}@example.test`, 'Summer2026!x');
    const request = http.request(target, {
      method: 'POST',
      agent: false,
      // 127.1.0.1 onwards: never 127.0.0.1, which the other loads use.
      localAddress: `127.1.${Math.floor(i / 254) % 256}.${1 + (i % 254)}`,
      headers: { ...LOGIN_HEADERS, 'content-length': Buffer.byteLength(body) },
    }, (response) => {
      response.resume();
      response.on('end', () => {
        stats.answered[response.statusCode] = (stats.answered[response.statusCode] ?? 0) + 1;
        inFlight--;
      });
    });
    request.on('error', () => {
      stats.answered.error = (stats.answered.error ?? 0) + 1;
      inFlight--;
    });
    request.end(body);
  };
  const perTick = failedRate / 100;
  let due = 0;
  const timer = setInterval(() => {
    due += perTick;
    for (; due >= 1; due--) sendOne();
  }, 10);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  clearInterval(timer);
  while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  return stats;
}

async function benchIngestionUnderFailedLogins(url, key, superuserUrl, meterGroups) {
  const scenarios = [
    ['ingestion alone', null],
    [`+ ${failedRate} failed logins/s, one IP, one e-mail`, () => failedLoginLoad(url, () => 'victim@example.test')],
    [`+ ${failedRate} failed logins/s, one IP, a new e-mail each`, () => failedLoginLoad(url, (n) => `sprayed-${n}@example.test`)],
    [`+ ${failedRate} failed logins/s, a new IP and e-mail each`, () => spreadFailedLogins(url, duration)],
  ];
  const rows = [];
  for (const [name, attack] of scenarios) {
    await clearLoginLimits(superuserUrl);
    const stop = startCpuMeter(meterGroups);
    const [ingest, failed] = await Promise.all([ingestionLoad(url, key), attack?.()]);
    const cpu = stop();
    rows.push({ name, ingest, failed, cpu, attempts: attack ? await attemptCounts(superuserUrl) : {} });
  }
  return rows;
}

// ---- report ------------------------------------------------------------------

const perSecond = (count) => Math.round(count / duration).toLocaleString('en');

function failedSummary(failed, attempts) {
  if (!failed) return '';
  const answers = failed.answered ?? Object.fromEntries(Object.entries(failed.statusCodeStats).map(([status, { count }]) => [status, count]));
  const sent = failed.sent ?? failed.requests.sent;
  const skipped = failed.skipped ? `, ${failed.skipped.toLocaleString('en')} not sent (256 already waiting)` : '';
  return `    failed logins sent ${perSecond(sent)}/s${skipped}; answers ${JSON.stringify(answers)}; login log: ${attempts.failure ?? 0} checked (argon2 run), ${attempts.blocked ?? 0} refused before hashing`;
}

assertBuilt();
console.log(`login bench: ${duration} s per phase, node ${process.version}, ${os.cpus().length} CPU cores (${os.cpus()[0]?.model ?? '?'})`);
console.log(`caveat: the load generator, the server and PostgreSQL share these ${os.cpus().length} cores.\n`);

const dataDir = makeDataDir();
const port = await freePort();
const env = parleyEnv({ dataDir, port, logLevel: flags['log-level'] });
let server = null;
const cleanup = onCleanup(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});
try {
  const bin = path.resolve(flags['parley-bin']);
  server = await startParley(env, { bin });
  const key = await createBenchProject(env, bin);
  const superuserUrl = embeddedSuperuserUrl(dataDir);
  const logins = await createLoginAccounts(superuserUrl, accounts);
  const postmaster = readPostmaster(dataDir).pid;
  const meterGroups = { server: () => [server.pid], postgres: () => processTree(postmaster) };

  const a = await benchSuccessfulLogins(server.url, meterGroups, logins);
  const l = a.result.latency;
  console.log(`a. successful logins, argon2id m=19456 KiB t=2 p=1, ${connections} clients over ${accounts} accounts (each with its device cookie)`);
  console.log(`   ${perSecond(a.result['2xx'])} logins/s; latency p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms; non-2xx ${a.result.non2xx}, errors ${a.result.errors}`);
  console.log(`   CPU: ${formatCpu(a.cpu)}`);
  console.log(`   server CPU per login: ${Math.round((1000 * a.cpu.server) / Math.max(1, a.result['2xx']))} ms\n`);

  console.log(`b. feedback ingestion (20 connections, as fast as it goes) alone, then beside ${failedRate} failed logins/s`);
  console.log('   From one IP, the per-IP limit blocks the address after 100 failures (for an hour): from then on a failed');
  console.log('   login is refused before any hashing, whichever e-mail it names, and costs a few queries. The last line');
  console.log('   spreads the failures over many addresses, as a botnet would: no block applies and each costs argon2.\n');
  const rows = await benchIngestionUnderFailedLogins(server.url, key, superuserUrl, meterGroups);
  const alone = rows[0].ingest['2xx'];
  for (const row of rows) {
    const ratio = row === rows[0] ? '' : ` (${Math.round((100 * row.ingest['2xx']) / Math.max(1, alone))}% of alone)`;
    console.log(`   ${row.name}: ingestion ${perSecond(row.ingest['2xx'])} submissions/s${ratio}, p99 ${row.ingest.latency.p99} ms`);
    const summary = failedSummary(row.failed, row.attempts);
    if (summary) console.log(summary);
    console.log(`    CPU: ${formatCpu(row.cpu)}`);
  }

  await clearLoginLimits(superuserUrl);
  const rounds = Math.min(200, accounts * 4);
  const c = await benchEnumerationTiming(server.url, logins, rounds);
  console.log(`\nc. a wrong password for a real account vs for an unknown e-mail, ${rounds} of each, one at a time`);
  console.log(`   real account: p50 ${c.known.p50} ms, p90 ${c.known.p90} ms; unknown e-mail: p50 ${c.unknown.p50} ms, p90 ${c.unknown.p90} ms`);
} finally {
  await cleanup();
}
