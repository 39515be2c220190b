// Proof-of-work challenges for the benches: fetched from Parley's challenge
// endpoint, solved ahead of the timed phase in worker threads (one per core),
// and turned into the `challenge` field the widget sends. Solving is the
// client's cost; doing it before the timed phase keeps it out of the server's
// figures, and the bench prints what it cost.
//
// ALTCHA v1: find n in 0..maxnumber with hex(SHA-256(salt + n)) === challenge.
import crypto from 'node:crypto';
import os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { outcomeOf, send } from './lib.mjs';

// crypto.hash (Node >= 20.12) skips the Hash object: ~0.4 µs a hash here against ~1.4 µs.
const sha256Hex = crypto.hash ? (text) => crypto.hash('sha256', text) : (text) => crypto.createHash('sha256').update(text).digest('hex');

function solve({ challenge, salt, maxnumber }) {
  for (let n = 0; n <= maxnumber; n++) if (sha256Hex(salt + n) === challenge) return n;
  return null;
}

// Worker side: take the next unsolved index from the shared counter until none is left.
if (!isMainThread && workerData?.role === 'challenge-solver') {
  const { challenges, next } = workerData;
  const counter = new Int32Array(next);
  for (let i = Atomics.add(counter, 0, 1); i < challenges.length; i = Atomics.add(counter, 0, 1)) {
    parentPort.postMessage({ index: i, number: solve(challenges[i]) });
  }
  parentPort.postMessage({ done: true });
}

/** The submission's `challenge` field: base64 of the solution's JSON, as the widget sends it. */
export function payloadOf(c, number) {
  return Buffer.from(JSON.stringify({ algorithm: c.algorithm, challenge: c.challenge, number, salt: c.salt, signature: c.signature })).toString('base64');
}

/**
 * Fetches `count` challenges for project `key`, spread over `agents` (one
 * client IP each), 16 requests at a time. Refusals are counted, not thrown.
 */
export async function fetchChallenges(baseUrl, key, count, agents) {
  const url = new URL(`/api/widget/v1/projects/${key}/challenge`, baseUrl);
  const headers = { origin: 'https://example.com', 'user-agent': 'parley-bench/1' };
  const challenges = [];
  const refused = {};
  let n = 0;
  const worker = async () => {
    while (n < count) {
      const agent = agents[n++ % agents.length];
      const answer = await send(url, { agent, method: 'GET', headers });
      if (answer.status === 200) challenges.push(JSON.parse(answer.text));
      else refused[outcomeOf(answer)] = (refused[outcomeOf(answer)] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { challenges, refused };
}

/**
 * Solves `challenges` in `threads` worker threads. Stops at `budgetSeconds`
 * (the rest are left unsolved). Resolves with the payloads solved, in order
 * of solving, and the wall time it took.
 */
export async function solveChallenges(challenges, { threads = os.availableParallelism(), budgetSeconds = Infinity } = {}) {
  const next = new SharedArrayBuffer(4);
  const started = performance.now();
  const payloads = [];
  let unsolvable = 0;
  const workers = Array.from({ length: Math.min(threads, challenges.length) }, () => new Worker(new URL(import.meta.url), { workerData: { role: 'challenge-solver', challenges, next } }));
  await new Promise((resolve, reject) => {
    let running = workers.length;
    if (running === 0) resolve();
    const timer = Number.isFinite(budgetSeconds) ? setTimeout(resolve, budgetSeconds * 1000) : null;
    for (const worker of workers) {
      worker.on('error', reject);
      worker.on('message', (message) => {
        if (message.done) {
          if (--running === 0) {
            clearTimeout(timer);
            resolve();
          }
        } else if (message.number === null) unsolvable++;
        else payloads.push(payloadOf(challenges[message.index], message.number));
      });
    }
  });
  await Promise.all(workers.map((w) => w.terminate()));
  return { payloads, unsolvable, seconds: (performance.now() - started) / 1000, threads: workers.length };
}

/**
 * A pool of solved challenges for a timed phase: `count` at most, fewer if
 * solving them would take longer than `budgetSeconds`. The server picks the
 * difficulty, so the bench fetches a small first batch, measures, and sizes
 * the next batches to the time left. Challenges expire 5 minutes after they
 * are issued, so the pool is for use right away.
 */
export async function solvedPool(baseUrl, key, agents, { count, budgetSeconds }) {
  const threads = os.availableParallelism();
  const started = performance.now();
  const pool = { payloads: [], fetched: 0, seconds: 0, threads, maxnumbers: {}, refused: {}, unsolvable: 0 };
  let solveSeconds = 0;
  for (;;) {
    const left = budgetSeconds - (performance.now() - started) / 1000;
    const wanted = count - pool.payloads.length;
    if (wanted <= 0 || left < 1) break;
    // At the measured rate, with 10% to spare so the budget rather than the batch ends the last round.
    const rate = pool.payloads.length / Math.max(solveSeconds, 1e-3);
    const batch = pool.payloads.length === 0 ? Math.min(wanted, threads * 8) : Math.min(wanted, Math.ceil(rate * left * 1.1));
    const fetched = await fetchChallenges(baseUrl, key, batch, agents);
    if (fetched.challenges.length === 0) throw new Error(`no challenge issued: ${JSON.stringify(fetched.refused)}`);
    for (const [k, v] of Object.entries(fetched.refused)) pool.refused[k] = (pool.refused[k] ?? 0) + v;
    for (const c of fetched.challenges) pool.maxnumbers[c.maxnumber] = (pool.maxnumbers[c.maxnumber] ?? 0) + 1;
    pool.fetched += fetched.challenges.length;
    const solved = await solveChallenges(fetched.challenges, { threads, budgetSeconds: budgetSeconds - (performance.now() - started) / 1000 });
    pool.payloads.push(...solved.payloads);
    pool.unsolvable += solved.unsolvable;
    solveSeconds += solved.seconds;
  }
  pool.seconds = (performance.now() - started) / 1000;
  pool.solved = pool.payloads.length;
  return pool;
}

/** "solved 2,400 of 2,410 challenges fetched (maxnumber 100000: 2,410) in 61.3 s on 2 threads, 51.1 ms of one thread each" */
export function describePool(pool) {
  const levels = Object.entries(pool.maxnumbers).map(([m, c]) => `maxnumber ${m}: ${c.toLocaleString('en')}`).join(', ');
  const refused = Object.keys(pool.refused).length > 0 ? `; challenge requests refused: ${JSON.stringify(pool.refused)}` : '';
  const unsolvable = pool.unsolvable > 0 ? `; ${pool.unsolvable} had no solution` : '';
  const each = (1000 * pool.seconds * pool.threads) / Math.max(1, pool.solved);
  return `solved ${pool.solved.toLocaleString('en')} of ${pool.fetched.toLocaleString('en')} challenges fetched (${levels}) in ${pool.seconds.toFixed(1)} s (fetching included) on ${pool.threads} threads, ${each.toFixed(1)} ms of one thread each${refused}${unsolvable}`;
}
