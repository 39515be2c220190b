// Durability under kill -9: every feedback Parley answered 201 must still be
// there after Parley and its PostgreSQL are both SIGKILLed mid-load and
// Parley is restarted on the same data directory. Also checks the watchdog:
// after a SIGKILL of Parley alone, its embedded PostgreSQL stops by itself.
// Exits 1 if an acknowledged submission is missing or the watchdog check fails.
//
//   node bench/durability.mjs [--rounds 3] [--clients 32] [--min-delay 1] [--max-delay 3]
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  assertBuilt, createBenchProject, embeddedSuperuserUrl, feedbackBody, freePort, isAlive, makeDataDir, onCleanup, parleyEnv,
  readPostmaster, sleep, startParley, waitForExit, WIDGET_HEADERS,
} from './lib.mjs';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '32' },
    'min-delay': { type: 'string', default: '1' },
    'max-delay': { type: 'string', default: '3' },
  },
  strict: true,
});
const rounds = Number(flags.rounds);
const clients = Number(flags.clients);
const minDelay = Number(flags['min-delay']);
const maxDelay = Number(flags['max-delay']);
if (!(rounds >= 1 && rounds <= 50) || !(clients >= 1 && clients <= 500) || !(minDelay > 0 && maxDelay >= minDelay && maxDelay <= 60)) {
  process.stderr.write('--rounds must be 1..50, --clients 1..500, 0 < --min-delay <= --max-delay <= 60 s\n');
  process.exit(2);
}
const WATCHDOG_LIMIT_MS = 5000;

/**
 * `clients` loops submitting one feedback after another until `isStopped()`.
 * Each request's Idempotency-Key is recorded with the answer it got.
 */
async function submitUntilStopped(url, round, isStopped) {
  const acked = new Map(); // Idempotency-Key -> id answered with 201
  const failed = []; // keys whose request errored (no answer): stored or not, both are correct
  let otherAnswers = 0;
  let errorsBeforeKill = 0;
  const loop = async (client) => {
    for (let i = 0; !isStopped(); i++) {
      const key = `r${round}-c${client}-${i}`;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { ...WIDGET_HEADERS, 'idempotency-key': key },
          body: feedbackBody(i),
          signal: AbortSignal.timeout(10_000),
        });
        const body = await res.json();
        if (res.status === 201) acked.set(key, body.id);
        else otherAnswers++;
      } catch {
        failed.push(key);
        if (!isStopped()) errorsBeforeKill++;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => loop(c)));
  return { acked, failed, otherAnswers, errorsBeforeKill };
}

async function storedIds(superuserUrl, keys) {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT idempotency_key, id::text FROM feedback WHERE idempotency_key = ANY($1::text[])', [keys]);
    return new Map(rows.map((r) => [r.idempotency_key, r.id]));
  } finally {
    await client.end();
  }
}

function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const fmt = (cells) => `| ${cells.map((c, i) => String(c).padStart(widths[i])).join(' | ')} |`;
  console.log(fmt(header));
  console.log(`|${widths.map((w) => `${'-'.repeat(w + 1)}:`).join('|')}|`);
  for (const r of rows) console.log(fmt(r));
}

assertBuilt();
const dataDir = makeDataDir();
const env = parleyEnv({ dataDir, port: await freePort() });
let server = null;
const cleanup = onCleanup(async () => {
  if (server) await server.stop();
  // If anything went wrong between a kill and a restart, do not leave a Postgres behind.
  try {
    const { pid } = readPostmaster(dataDir);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5000);
  } catch {
    // no pid file: nothing running
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

let failed = false;
try {
  console.log(`durability bench: ${rounds} rounds, ${clients} concurrent clients, kill after ${minDelay}-${maxDelay} s, data dir ${dataDir}\n`);
  server = await startParley(env);
  const key = await createBenchProject(env);
  const url = `${server.url}/api/widget/v1/projects/${key}/feedback`;
  const allAcked = new Map();
  const table = [];

  for (let round = 1; round <= rounds; round++) {
    const postmaster = readPostmaster(dataDir).pid;
    let stopped = false;
    const load = submitUntilStopped(url, round, () => stopped);
    const delayMs = Math.round(1000 * (minDelay + Math.random() * (maxDelay - minDelay)));
    await sleep(delayMs);
    // Both at once, no warning: what a power cut does to the processes (the
    // OS page cache survives here, so this tests fsync-before-201 ordering in
    // Parley and Postgres, not the disk's own write cache).
    stopped = true;
    process.kill(server.pid, 'SIGKILL');
    process.kill(postmaster, 'SIGKILL');
    const { acked, failed: inFlight, otherAnswers, errorsBeforeKill } = await load;
    await server.exited;
    server = null;

    server = await startParley(env);
    const stored = await storedIds(embeddedSuperuserUrl(dataDir), [...acked.keys(), ...inFlight]);
    let found = 0;
    for (const [k, id] of acked) if (stored.get(k) === id) found++;
    const inFlightStored = inFlight.filter((k) => stored.has(k)).length;
    const missing = acked.size - found;
    if (missing > 0) failed = true;
    for (const [k, id] of acked) allAcked.set(k, id);
    table.push([round, (delayMs / 1000).toFixed(1), acked.size, found, missing, `${inFlight.length} (${inFlightStored} stored)`, otherAnswers + errorsBeforeKill, Math.round(server.readyMs)]);
  }

  printTable(['round', 'kill after s', 'acknowledged 201', 'found', 'missing', 'in-flight failures', 'unexpected', 'recovery ms'], table);
  console.log('\nrecovery ms: from starting `parley serve` on the crashed data dir to GET /readyz answering 200 (includes PostgreSQL crash recovery).');
  console.log('in-flight failures: requests that got no answer because of the kill; storing them or not are both correct (the widget re-sends with the same Idempotency-Key).');
  console.log('unexpected: answers other than 201, or errors before the kill (should be 0; they are not a durability failure).');

  // The watchdog: kill Parley alone and see whether its Postgres goes too.
  const postmaster = readPostmaster(dataDir).pid;
  const killedAt = performance.now();
  process.kill(server.pid, 'SIGKILL');
  await server.exited;
  server = null;
  const stoppedByItself = await waitForExit(postmaster, 3 * WATCHDOG_LIMIT_MS);
  const watchdogMs = Math.round(performance.now() - killedAt);
  const watchdogOk = stoppedByItself && watchdogMs <= WATCHDOG_LIMIT_MS;
  if (!watchdogOk) failed = true;
  console.log(
    `\nwatchdog check: after SIGKILL of Parley alone, PostgreSQL (pid ${postmaster}) ${stoppedByItself ? `exited by itself after ${watchdogMs} ms` : `was still running after ${watchdogMs} ms`} (limit ${WATCHDOG_LIMIT_MS} ms): ${watchdogOk ? 'ok' : 'FAILED'}`,
  );

  // And everything acknowledged in every round is still there after that stop too.
  server = await startParley(env);
  const stored = await storedIds(embeddedSuperuserUrl(dataDir), [...allAcked.keys()]);
  const lost = [...allAcked].filter(([k, id]) => stored.get(k) !== id).length;
  if (lost > 0) failed = true;
  console.log(`final recount after restart: ${allAcked.size - lost} of ${allAcked.size} acknowledged submissions present: ${lost === 0 ? 'ok' : 'FAILED'}`);
} finally {
  await cleanup();
}
console.log(failed ? '\nFAILED: see above.' : '\nall acknowledged submissions survived every kill.');
process.exit(failed ? 1 : 0);
