// Webhook deliveries per second from one Parley instance to a receiver on
// loopback. Events are written straight into the events table (as the
// changes that make them do, in one transaction); the instance fans them out
// to the webhooks, signs and POSTs each delivery. The receiver verifies every
// signature with the Standard Webhooks reference verifier and counts distinct
// webhook-ids. Two receivers: one that answers at once (the ceiling), one
// that takes --delay ms per answer (a typical integration endpoint).
// Exits 1 if a delivery is missing, sent twice, or badly signed.
//
//   node bench/webhooks.mjs [--events 10000] [--webhooks 2] [--delay 50]
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { formatCpu, processTree, startCpuMeter } from './cpu.mjs';
import {
  assertBuilt, BENCH_EMAIL, createBenchProject, embeddedSuperuserUrl, freePort, makeDataDir, onCleanup, openBenchProject, parleyEnv, PARLEY_BIN, readPostmaster,
  REPO_ROOT, sleep, startParley,
} from './lib.mjs';

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '10000' },
    webhooks: { type: 'string', default: '2' },
    delay: { type: 'string', default: '50' },
  },
  strict: true,
});
const events = Number(flags.events);
const webhooks = Number(flags.webhooks);
const delay = Number(flags.delay);
if (!(events >= 100 && events <= 1_000_000) || !(webhooks >= 1 && webhooks <= 50) || !(delay >= 1 && delay <= 5000)) {
  process.stderr.write('--events must be 100..1000000, --webhooks 1..50, --delay 1..5000 ms\n');
  process.exit(2);
}
const TIMEOUT_MS = 600_000;

/** A receiver on 127.0.0.1 that answers 204 after `delayMs`, verifying each request against its webhook's secret (by path). */
async function startReceiver(delayMs) {
  const secrets = new Map();
  const seen = new Map();
  let bad = 0;
  let firstAt = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      try {
        new Webhook(secrets.get(req.url)).verify(Buffer.concat(chunks).toString('utf8'), req.headers);
      } catch {
        bad++;
      }
      const id = req.headers['webhook-id'];
      seen.set(id, (seen.get(id) ?? 0) + 1);
      firstAt ||= performance.now();
      const answer = () => res.writeHead(204).end();
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    secrets,
    seen,
    stats: () => ({ distinct: seen.size, twice: [...seen.values()].filter((n) => n > 1).length, bad, firstAt }),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

function runParley(env, args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [PARLEY_BIN, ...args], { cwd: REPO_ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`parley ${args.join(' ')}: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

async function api(url, token, method, path, body) {
  const headers = { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) };
  const res = await fetch(`${url}${path}`, { method, headers, body: body && JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

assertBuilt();
const dataDir = makeDataDir();
const port = await freePort();
const env = { ...parleyEnv({ dataDir, port }), PARLEY_WEBHOOK_ALLOW_HTTP: 'true', PARLEY_WEBHOOK_ALLOWED_RANGES: 'loopback' };
let server;
let db;
const receivers = [];
const cleanup = onCleanup(async () => {
  await db?.end().catch(() => {});
  for (const receiver of receivers) await receiver.close();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

try {
  server = await startParley(env);
  const key = await createBenchProject(env);
  const { orgId, projectId } = await openBenchProject(server.url, key);
  const created = JSON.parse(await runParley(env, ['apikeys', 'create', '--org', 'Bench', '--email', BENCH_EMAIL, '--name', 'webhook bench', '--scope', 'webhooks_write', '--json']));
  db = new pg.Client({ connectionString: embeddedSuperuserUrl(dataDir) });
  await db.connect();

  const rows = [];
  const cpus = [];
  let failed = false;
  for (const [label, delayMs, count] of [['answers at once', 0, events], [`answers after ${delay} ms`, delay, Math.max(100, Math.round(events / 5))]]) {
    const receiver = await startReceiver(delayMs);
    receivers.push(receiver);
    const hooks = [];
    for (let i = 0; i < webhooks; i++) {
      const path = `/hook-${i}`;
      const { webhook, secret } = await api(server.url, created.token, 'POST', `/api/v1/orgs/${orgId}/webhooks`, { url: `${receiver.url}${path}`, events: ['feedback.updated'] });
      receiver.secrets.set(path, secret);
      hooks.push(webhook.id);
    }
    const expected = count * webhooks;
    const stopMeter = startCpuMeter({ server: () => [server.pid], postgres: () => processTree(readPostmaster(dataDir).pid) });
    // One transaction, as a bulk change would write them; the commit wakes the dispatcher.
    const started = performance.now();
    await db.query(
      `INSERT INTO events (id, org_id, project_id, type, subject_id, data, created_at)
       SELECT gen_random_uuid(), $1, $2, 'feedback.updated', s.id, jsonb_build_object(
                'id', s.id, 'projectId', $2::uuid, 'status', 'in_progress', 'rating', 1 + n % 5, 'ratingScale', 'stars5', 'type', 'bug',
                'message', 'Benchmark feedback #' || n || ': the checkout button does nothing on the second click.',
                'pageUrl', 'https://example.com/page/' || n % 100, 'locale', 'en', 'assigneeId', null, 'labelIds', '[]'::jsonb,
                'hasScreenshot', false, 'createdAt', now(), 'updatedAt', now(), 'changes', jsonb_build_object('status', jsonb_build_object('from', 'new', 'to', 'in_progress'))),
              now()
         FROM generate_series(1, $3) AS n, LATERAL (SELECT gen_random_uuid() AS id) s`,
      [orgId, projectId, count],
    );
    // Done when every delivery is recorded as succeeded (the receiver has them all a little earlier).
    const succeeded = async () =>
      (await db.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = ANY($1::uuid[]) AND status = 'succeeded'", [hooks])).rows[0].n;
    while ((await succeeded()) < expected && performance.now() - started < TIMEOUT_MS) await sleep(100);
    const seconds = (performance.now() - started) / 1000;
    const stats = receiver.stats();
    const cpu = stopMeter();
    const { rows: states } = await db.query(
      'SELECT status, attempts, count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = ANY($1::uuid[]) GROUP BY status, attempts ORDER BY status, attempts',
      [hooks],
    );
    const ok = stats.distinct === expected && stats.twice === 0 && stats.bad === 0 && states.length === 1 && states[0].status === 'succeeded' && states[0].attempts === 1;
    failed ||= !ok;
    rows.push([label, `${count} x ${webhooks}`, stats.distinct, seconds.toFixed(1), Math.round(stats.distinct / seconds), Math.round(stats.firstAt - started), ok ? 'ok' : `MISMATCH ${JSON.stringify({ ...stats, states })}`]);
    cpus.push(`${label}: ${formatCpu(cpu).replace('load generator', 'receiver')}`);
    for (const id of hooks) await api(server.url, created.token, 'DELETE', `/api/v1/orgs/${orgId}/webhooks/${id}`);
  }

  const header = ['receiver', 'events x webhooks', 'delivered', 's', 'deliveries/s', 'first after ms', 'check'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nWebhook deliveries, one Parley instance (embedded PostgreSQL, fsync on) to a receiver on 127.0.0.1, every signature verified\n`);
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  console.log(`\nCPU (the receiver verifies signatures in this process):\n${cpus.map((c) => `  ${c}`).join('\n')}`);
  await cleanup();
  process.exit(failed ? 1 : 0);
} catch (error) {
  console.error(error);
  if (server) console.error(server.output());
  await cleanup();
  process.exit(1);
}
