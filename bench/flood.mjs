// A flood from one IP against the widget's feedback endpoint while
// legitimate visitors (other IPs, each submission with a freshly solved
// proof-of-work challenge) keep submitting at a steady rate. Prints what the
// flood got back and how long it took, and the legitimate traffic's success
// and latency with and without the flood beside it. Asserts no timing.
// See bench/README.md.
//
//   node bench/flood.mjs [--flood-requests 50000] [--flood-connections 256] [--flood-nice 10] [--rate 50]
//                        [--duration 10] [--redis] [--redis-url URL] [--log-level warn]
//                        [--cpu-prof DIR] [--parley-bin path/to/bin/parley.js]
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describePool, payloadOf, solvedPool } from './challenge-pool.mjs';
import { formatCpu, processTree, startCpuMeter } from './cpu.mjs';
import {
  assertBuilt, benchRedis, createBenchProject, describeFsync, freePort, loopbackAgents, makeDataDir, newReporter, onCleanup, openBenchProject, outcomeOf,
  PARLEY_BIN, parleyEnv, percentile, pidsNamed, protectedFeedbackBody, readPostmaster, redisAnswers, send, sharedStateOf, sleep, startFsyncProbe, startParley, WIDGET_HEADERS,
} from './lib.mjs';
import { summarizeProfile } from './profile-summary.mjs';

const FLOOD_ADDRESS = '127.0.0.66';

/**
 * The flood, in a child process of its own: its event loop does not delay the
 * legitimate requests' timing, and it runs at a lower CPU priority
 * (`--flood-nice`) so that on a machine shared with the server it stands in
 * for an attacker on other hardware rather than taking the server's cores.
 * `concurrency` requests in flight on keep-alive sockets from one address.
 * The bodies are what a bot that does not solve challenges can send: a valid
 * submission with a made-up challenge and a new reporter id each time.
 * Messages: → ready, ← go, → started, → result, ← exit.
 */
async function flood({ url, requests, concurrency }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, localAddress: FLOOD_ADDRESS });
  const forged = (n) => payloadOf({ algorithm: 'SHA-256', challenge: randomBytes(32).toString('hex'), salt: `${randomBytes(12).toString('hex')}?expires=${Math.floor(Date.now() / 1000) + 300}&`, signature: randomBytes(32).toString('hex') }, n);
  const outcomes = {};
  let sent = 0;
  const message = () => new Promise((resolve) => process.once('message', resolve));
  process.send({ ready: true });
  await message();
  process.send({ started: true });
  const started = performance.now();
  const client = async () => {
    while (sent < requests) {
      const n = sent++;
      const body = protectedFeedbackBody(n, { challenge: forged(n), reporter: newReporter() });
      const outcome = outcomeOf(await send(url, { agent, body }));
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  process.send({ outcomes, seconds });
  // Alive until told, so the parent can read its CPU time.
  await message();
  process.exit(0);
}

/** Forks the flood and waits until it is loaded; `go()` starts it and resolves with its result. */
async function startFlood(config, nice) {
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, PARLEY_BENCH_FLOOD: JSON.stringify(config) } });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the flood process exited (${code})`)));
  });
  os.setPriority(child.pid, nice);
  let started = 0;
  let ended = 0;
  return {
    pid: child.pid,
    started: () => started,
    ended: () => ended,
    go() {
      const result = new Promise((resolve) => {
        child.on('message', (message) => {
          if (message.started) started = performance.now();
          else {
            ended = performance.now();
            resolve(message);
          }
        });
      });
      child.send('go');
      return result;
    },
    async stop() {
      if (child.connected) child.send('exit');
      await exited;
    },
  };
}

/**
 * Legitimate visitors: one submission every 1/rate s (open loop: a slow
 * answer does not delay the next send), each from one of 50 addresses
 * 127.0.1.x with a solved challenge and its own reporter id. Runs for
 * `seconds` and then until `until` settles, or until the payloads run out.
 */
async function legitimate(url, agents, payloads, { rate, seconds, until }) {
  const results = [];
  const pending = [];
  let untilSettled = !until;
  const settle = () => (untilSettled = true);
  until?.then(settle, settle);
  const started = performance.now();
  let i = 0;
  for (;;) {
    const due = started + (i * 1000) / rate;
    if (due > performance.now()) await sleep(due - performance.now());
    if (performance.now() - started >= seconds * 1000 && untilSettled) break;
    if (i >= payloads.length) break;
    const body = protectedFeedbackBody(i, { challenge: payloads[i], reporter: newReporter() });
    const sentAt = performance.now();
    pending.push(send(url, { agent: agents[i % agents.length], headers: { ...WIDGET_HEADERS, 'idempotency-key': `flood-legit-${randomBytes(6).toString('hex')}` }, body }).then((answer) => results.push({ sentAt, ms: answer.ms, outcome: outcomeOf(answer) })));
    i++;
  }
  await Promise.all(pending);
  return { results, started, seconds: (performance.now() - started) / 1000, ranOut: i >= payloads.length && !untilSettled };
}

function summarize(results) {
  const outcomes = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const ok = results.filter((r) => r.outcome === '201').map((r) => r.ms);
  const ms = (p) => percentile(ok, p).toFixed(1);
  return { sent: results.length, ok: ok.length, outcomes, p50: ms(50), p95: ms(95), p99: ms(99), max: ms(100) };
}

/** p99 latency (ms) of the accepted submissions sent in each second after `start`, to show a transient apart from the steady state. */
function bySecond(results, start) {
  const seconds = [];
  for (const r of results) {
    if (r.outcome !== '201') continue;
    (seconds[Math.floor((r.sentAt - start) / 1000)] ??= []).push(r.ms);
  }
  return Array.from(seconds, (ms) => (ms ? Math.round(percentile(ms, 99)) : '-'));
}

const describe = (s) => `${s.ok} of ${s.sent} accepted; latency of the accepted p50 ${s.p50} ms, p95 ${s.p95} ms, p99 ${s.p99} ms, max ${s.max} ms; answers ${JSON.stringify(s.outcomes)}`;

/** The server's refusal counter flushes every 10 s: wait (at most 15 s) until it has counted `expected` refusals. */
async function serverRefusals(project, expected) {
  const started = performance.now();
  let counted = await project.refusals();
  while (counted.total < expected && performance.now() - started < 15_000) {
    await sleep(1000);
    counted = await project.refusals();
  }
  return counted;
}

async function main() {
  const { values: flags } = parseArgs({
    options: {
      'flood-requests': { type: 'string', default: '50000' },
      'flood-connections': { type: 'string', default: '256' },
      'flood-nice': { type: 'string', default: '10' },
      rate: { type: 'string', default: '50' },
      duration: { type: 'string', default: process.env.BENCH_DURATION ?? '10' },
      redis: { type: 'boolean', default: false },
      'redis-url': { type: 'string', default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' },
      'log-level': { type: 'string', default: 'warn' },
      'cpu-prof': { type: 'string' },
      'parley-bin': { type: 'string', default: PARLEY_BIN },
    },
    strict: true,
  });
  const floodRequests = Number(flags['flood-requests']);
  const floodConnections = Number(flags['flood-connections']);
  const rate = Number(flags.rate);
  const duration = Number(flags.duration);
  const floodNice = Number(flags['flood-nice']);
  if (!(Number.isInteger(floodNice) && floodNice >= 0 && floodNice <= 19)) {
    process.stderr.write('--flood-nice must be 0..19\n');
    process.exit(2);
  }
  // Bounded: a typo must not turn into an hour of load.
  if (!(floodRequests >= 1 && floodRequests <= 1_000_000) || !(floodConnections >= 1 && floodConnections <= 2000) || !(rate > 0 && rate <= 500) || !(duration > 0 && duration <= 120)) {
    process.stderr.write('--flood-requests must be 1..1000000, --flood-connections 1..2000, --rate 1..500 per second, --duration 1..120 s\n');
    process.exit(2);
  }
  if (flags.redis && !(await redisAnswers(flags['redis-url']))) {
    process.stderr.write(`--redis: no Redis answers at ${flags['redis-url']}\n`);
    process.exit(2);
  }
  assertBuilt();

  const dataDir = makeDataDir();
  const port = await freePort();
  const redis = flags.redis ? benchRedis(flags['redis-url']) : null;
  const env = parleyEnv({ dataDir, port, logLevel: flags['log-level'], redis });
  let profileDir = null;
  if (flags['cpu-prof']) {
    fs.mkdirSync(flags['cpu-prof'], { recursive: true });
    profileDir = fs.mkdtempSync(path.join(path.resolve(flags['cpu-prof']), 'flood-'));
  }
  let server = null;
  const cleanup = onCleanup(async () => {
    await server?.stop();
    await redis?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  try {
    const bin = path.resolve(flags['parley-bin']);
    server = await startParley(env, { bin, nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] });
    const state = `${await sharedStateOf(server.url)}${redis ? ` (${new URL(redis.url).host})` : ''}`;
    console.log(`flood bench: ${floodRequests.toLocaleString('en')} requests from ${FLOOD_ADDRESS} over ${floodConnections} connections, beside ${rate} legitimate submissions/s; ${state}`);
    console.log(`node ${process.version}, ${os.cpus().length} CPU cores (${os.cpus()[0]?.model ?? '?'}); the flood, the legitimate clients, Parley and PostgreSQL share them.\n`);
    const key = await createBenchProject(env, bin, { protection: 'default' });
    const project = await openBenchProject(server.url, key);
    // Defaults, except: no wait before sending, and a project minute limit
    // that the legitimate rate (both phases within a minute) stays under.
    const settings = await project.protect((s) => ({
      ...s,
      captcha: { ...s.captcha, provider: 'pow' },
      minSeconds: 0,
      limits: { ...s.limits, projectPerMinute: Math.max(s.limits.projectPerMinute, Math.ceil(rate * 60 * 2)) },
    }));
    const l = settings.limits;
    console.log(`project limits: per IP ${l.perIp.points}/${l.perIp.seconds} s, per reporter ${l.perReporter.points}/${l.perReporter.seconds} s, project ${l.projectPerMinute}/min and ${l.projectPerDay}/day, challenges per IP ${l.challengesPerIp.points}/${l.challengesPerIp.seconds} s`);

    const url = new URL(`/api/widget/v1/projects/${key}/feedback`, server.url).href;
    const agents = loopbackAgents('127.0.1', 50, 4);
    const postmaster = readPostmaster(dataDir).pid;
    const meterGroups = { server: () => [server.pid], postgres: () => processTree(postmaster), ...(redis ? { redis: () => pidsNamed('redis-server') } : {}) };
    const poolFor = async (seconds) => {
      const count = Math.ceil(rate * seconds);
      const pool = await solvedPool(server.url, key, agents, { count, budgetSeconds: 180 });
      console.log(`  ${describePool(pool)}`);
      return pool.payloads;
    };

    console.log(`\na. legitimate traffic alone: ${rate}/s for ${duration} s`);
    const alonePayloads = await poolFor(duration + 2);
    // Two seconds of the same traffic first, unmeasured: the first submissions after start compile the code paths (JIT).
    const warm = alonePayloads.splice(0, Math.ceil(rate * 2));
    await legitimate(url, agents, warm, { rate, seconds: warm.length / rate });
    let meter = startCpuMeter(meterGroups);
    let fsyncProbe = startFsyncProbe(dataDir);
    const alone = await legitimate(url, agents, alonePayloads, { rate, seconds: duration });
    const aloneCpu = meter();
    const aloneFsync = await fsyncProbe();
    const a = summarize(alone.results);
    console.log(`  ${describe(a)}`);
    console.log(`  p99 by second (ms): ${bySecond(alone.results, alone.started).join(' ')}`);
    console.log(`  CPU: ${formatCpu(aloneCpu)}`);
    console.log(`  disk beside it: ${describeFsync(aloneFsync)}`);

    // Enough challenges for a flood that takes longer than the phase.
    console.log(`\nb. the same legitimate traffic while ${floodRequests.toLocaleString('en')} requests flood in from ${FLOOD_ADDRESS}`);
    const floodPayloads = await poolFor(Math.max(duration, 30));
    const floodProcess = await startFlood({ url, requests: floodRequests, concurrency: floodConnections }, floodNice);
    meter = startCpuMeter({ ...meterGroups, flood: () => [floodProcess.pid] });
    fsyncProbe = startFsyncProbe(dataDir);
    const floodDone = floodProcess.go();
    const during = await legitimate(url, agents, floodPayloads, { rate, seconds: duration, until: floodDone });
    const floodCpu = meter();
    const floodFsync = await fsyncProbe();
    const floodResult = await floodDone;
    await floodProcess.stop();
    const [floodStarted, floodEnded] = [floodProcess.started(), floodProcess.ended()];

    const refusedByClient = Object.entries(floodResult.outcomes).filter(([k]) => k !== '201').reduce((sum, [, v]) => sum + v, 0);
    console.log(`  flood: ${floodRequests.toLocaleString('en')} requests in ${floodResult.seconds.toFixed(1)} s (${Math.round(floodRequests / floodResult.seconds).toLocaleString('en')}/s); answers ${JSON.stringify(floodResult.outcomes)}`);
    const inFlood = during.results.filter((r) => r.sentAt >= floodStarted && r.sentAt <= floodEnded);
    console.log(`  legitimate, sent while the flood ran: ${describe(summarize(inFlood))}`);
    console.log(`  legitimate p99 by second of the flood (ms): ${bySecond(inFlood, floodStarted).join(' ')}`);
    console.log(`  legitimate, whole phase (${during.seconds.toFixed(1)} s): ${describe(summarize(during.results))}`);
    if (during.ranOut) console.log('  (the legitimate pool ran out before the flood ended)');
    console.log(`  CPU: ${formatCpu(floodCpu).replace('flood', `flood client (nice ${floodNice})`).replace('load generator', 'legitimate clients')}`);
    console.log(`  disk beside it: ${describeFsync(floodFsync)}`);
    console.log(`  server CPU per flood request: ${Math.round((1e6 * floodCpu.server) / floodRequests)} µs (whole phase, legitimate traffic included)`);

    const legitimateRefused = [alone, during].flatMap((p) => p.results).filter((r) => r.outcome !== '201').length;
    const counted = await serverRefusals(project, refusedByClient + legitimateRefused);
    console.log(`\nrefusals counted by the server (last 24 h): ${counted.total.toLocaleString('en')} ${JSON.stringify(Object.fromEntries(counted.reasons.map((r) => [r.code, r.count])))}; refused answers seen by the clients: ${(refusedByClient + legitimateRefused).toLocaleString('en')}`);
    const flooded = summarize(inFlood);
    console.log(`\nsummary: legitimate p99 ${a.p99} ms alone, ${flooded.p99} ms during the flood (issue target < 100 ms); ${flooded.ok} of ${flooded.sent} accepted during the flood`);
  } finally {
    await cleanup();
  }
  if (profileDir) {
    for (const file of fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) console.log(`\n${summarizeProfile(path.join(profileDir, file))}`);
  }
}

// The same file is the flood's process.
if (process.env.PARLEY_BENCH_FLOOD) await flood(JSON.parse(process.env.PARLEY_BENCH_FLOOD));
else await main();
