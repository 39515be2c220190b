// Proof of work: what a visitor's browser pays and what the server pays.
//
// 1. Solve time in headless Chromium for challenges issued by the server's
//    Challenges at DIFFICULTY.normal and .raised, with the widget's built pow
//    chunk and worker file served from a Parley stand-in: in the worker
//    (page CSP worker-src blob:) and on the main thread (worker-src 'none'),
//    with the longest main-thread task while solving. Every solution is
//    verified by the server; a refused one fails the run (exit 1).
// 2. Server verifications per second, one after another on one core: an
//    accepted solution (decode, SHA-256, HMAC; the replay claim is the shared
//    store's cost, not counted here) and a refused forgery.
//
// The solve time follows the secret number, uniform in 0..maxnumber, so it
// varies widely from run to run; the hash rate (numbers tried per second)
// is the stable figure.
//
//   npx tsc -p apps/server/tsconfig.build.json && node bench/pow-solve.mjs [--normal-runs 20] [--raised-runs 5]
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { buildWidget } from '../packages/widget/build.mjs';
import { assertBuilt } from './lib.mjs';

assertBuilt();
const { Challenges, DIFFICULTY } = await import('../apps/server/dist/security/challenge.js');

const { values: flags } = parseArgs({ options: { 'normal-runs': { type: 'string', default: '20' }, 'raised-runs': { type: 'string', default: '5' } } });
const RUNS = { normal: Number(flags['normal-runs']), raised: Number(flags['raised-runs']) };
const PROJECT = '7c4f0a2e-3b1d-4e6a-9f08-5d2c1b7a6e90';

const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)];
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

// The replay claim lives in the shared store (Redis, PostgreSQL or memory);
// here every claim is new, so the figures are Challenges' own work.
const alwaysNew = { claimOnce: async () => true };
const challenges = new Challenges(alwaysNew, randomBytes(32), { now: () => new Date() });

// --- 1. Chromium -----------------------------------------------------------

const { files, chunks } = await buildWidget({ write: false });
const powFile = chunks.pow.at(-1)[0];
files.set('pow-bench.js', new TextEncoder().encode(`import { solveChallenge } from './${powFile}'; window.solveChallenge = solveChallenge;`));

function listen(handler) {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${server.address().port}` })));
}
const parley = await listen((request, response) => {
  const file = /^\/widget\/v1\/([\w.-]+\.js)$/.exec(new URL(request.url, 'http://parley').pathname)?.[1];
  if (file && files.has(file)) response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Access-Control-Allow-Origin': '*' }).end(files.get(file));
  else response.writeHead(404).end();
});
const site = await listen((request, response) => {
  const workerSrc = request.url === '/worker' ? 'blob:' : "'none'";
  response
    .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': `default-src 'none'; script-src ${parley.origin}; connect-src ${parley.origin}; worker-src ${workerSrc}` })
    .end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title><script type="module" src="${parley.origin}/widget/v1/pow-bench.js"></script></head><body><h1>Shop</h1></body></html>`);
});

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});

let refused = 0;

/** Solves `runs` fresh challenges at `level` in one page; times measured in the page around solveChallenge. */
async function solveRuns(mode, level, runs) {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    globalThis.longTasks = [];
    new PerformanceObserver((list) => globalThis.longTasks.push(...list.getEntries().map((entry) => entry.duration))).observe({ type: 'longtask', buffered: true });
  });
  const page = await context.newPage();
  let workers = 0;
  page.on('worker', () => workers++);
  await page.goto(`${site.origin}/${mode}`);
  await page.waitForFunction(() => 'solveChallenge' in globalThis);
  const times = [];
  const rates = [];
  let longest = 0;
  for (let run = 0; run < runs; run++) {
    const challenge = await challenges.issue(PROJECT, level);
    const { payload, ms, longTask } = await page.evaluate(async (given) => {
      globalThis.longTasks.length = 0;
      const started = performance.now();
      const solved = await globalThis.solveChallenge(given);
      return { payload: solved, ms: performance.now() - started, longTask: Math.max(0, ...globalThis.longTasks) };
    }, challenge);
    await challenges.verify(PROJECT, payload).catch(() => refused++);
    const { number } = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
    times.push(ms);
    rates.push((number + 1) / (ms / 1000));
    longest = Math.max(longest, longTask);
  }
  await context.close();
  return { times, rates, longest, workers };
}

console.log(`Proof of work in Chromium (${(await browser.version())}), challenges from the server's Challenges\n`);
console.log(`${'mode'.padEnd(14)}${'level'.padEnd(8)}${'maxnumber'.padStart(10)}${'runs'.padStart(6)}${'median'.padStart(10)}${'p90'.padStart(10)}${'max'.padStart(10)}${'hashes/s'.padStart(11)}${'longest task'.padStart(14)}  workers`);
for (const mode of ['worker', 'main-thread']) {
  for (const level of ['normal', 'raised']) {
    const { times, rates, longest, workers } = await solveRuns(mode, level, RUNS[level]);
    const rate = Math.round(percentile(rates, 50) / 1000);
    console.log(
      `${mode.padEnd(14)}${level.padEnd(8)}${String(DIFFICULTY[level]).padStart(10)}${String(times.length).padStart(6)}${seconds(percentile(times, 50)).padStart(10)}${seconds(percentile(times, 90)).padStart(10)}${seconds(Math.max(...times)).padStart(10)}${`${rate}k`.padStart(11)}${`${Math.round(longest)} ms`.padStart(14)}  ${workers}`,
    );
  }
}
console.log('\nlongest task: the longest main-thread task (PerformanceObserver longtask, 50 ms or more; 0 = none) while solving.');
await browser.close();
parley.server.close();
site.server.close();

// --- 2. Server verification --------------------------------------------------

/** A solution found with Node's hash, as a browser would send it. */
async function solvedPayload() {
  const { createHash } = await import('node:crypto');
  const challenge = await challenges.issue(PROJECT, 'normal');
  for (let number = 0; number <= challenge.maxnumber; number++) {
    if (createHash('sha256').update(challenge.salt + number).digest('hex') === challenge.challenge) {
      return Buffer.from(JSON.stringify({ algorithm: 'SHA-256', challenge: challenge.challenge, number, salt: challenge.salt, signature: challenge.signature })).toString('base64');
    }
  }
  throw new Error('no solution');
}

async function verificationsPerSecond(payload, count) {
  for (let i = 0; i < 1000; i++) await challenges.verify(PROJECT, payload).catch(() => {});
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await challenges.verify(PROJECT, payload).catch(() => {});
  const ns = Number(process.hrtime.bigint() - started);
  return { perSecond: Math.round((count / ns) * 1e9), microseconds: ns / count / 1000 };
}

const valid = await solvedPayload();
const forged = (() => {
  const body = JSON.parse(Buffer.from(valid, 'base64').toString('utf8'));
  return Buffer.from(JSON.stringify({ ...body, signature: 'f'.repeat(64) })).toString('base64');
})();
console.log('\nServer verification, one at a time on one core\n');
for (const [label, payload] of [
  ['accepted solution', valid],
  ['forged signature (challenge_invalid)', forged],
]) {
  const { perSecond, microseconds } = await verificationsPerSecond(payload, 50_000);
  console.log(`${label.padEnd(40)}${`${perSecond.toLocaleString('en')}/s`.padStart(12)}${`${microseconds.toFixed(1)} µs each`.padStart(16)}`);
}

if (refused > 0) {
  console.error(`\n${refused} solution(s) refused by the server`);
  process.exit(1);
}
