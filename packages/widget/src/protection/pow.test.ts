// The proof-of-work solver against the server's own Challenges: in Node (the
// unbuilt source, main thread only) and in Chromium through the built worker
// file, under CSPs that allow the blob: worker and that refuse it.
import { createHash, randomBytes } from 'node:crypto';
import type { Browser, Worker } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Challenges } from '../../../../apps/server/src/security/challenge.js';
import type { SharedState } from '../../../../apps/server/src/security/shared-state.js';
import { powWorkerDefines } from '../../build.mjs';
import { bundlePageScript, cspViolations, launchChromium, newWatchedPage, skipReason, type Watched } from '../../test/browser.js';
import { startFakeParley, type FakeParley } from '../../test/fake-parley.js';
import { startHostSite, type HostSite } from '../../test/host-site.js';
import { solveChallenge, type Challenge } from './pow.js';

const PROJECT = '7c4f0a2e-3b1d-4e6a-9f08-5d2c1b7a6e90';

/** Only claimOnce matters here; the shared stores are tested in apps/server. */
function claimsInMemory(): SharedState {
  const claims = new Set<string>();
  return { claimOnce: async (key: string) => !claims.has(key) && Boolean(claims.add(key)) } as Pick<SharedState, 'claimOnce'> as SharedState;
}

const clock = { now: () => new Date() };
let challenges: Challenges;

beforeEach(() => {
  challenges = new Challenges(claimsInMemory(), randomBytes(32), clock);
});

/** A challenge nobody can solve: its digest is no number's. */
const unsolvable = (maxnumber: number): Challenge => ({ algorithm: 'SHA-256', challenge: '0'.repeat(64), maxnumber, salt: 'ffffffffffffffffffffffff?expires=1&', signature: '0'.repeat(64) });

describe('in Node (unbuilt: the main thread does the work)', () => {
  it('solves a challenge the server accepts', async () => {
    const payload = await solveChallenge(await challenges.issue(PROJECT, 'normal'));
    await expect(challenges.verify(PROJECT, payload)).resolves.toBeTruthy();
  });

  it('rejects with the signal’s reason when aborted before or during the search', async () => {
    const before = new AbortController();
    before.abort(new Error('dialog closed'));
    await expect(solveChallenge(unsolvable(10_000_000), before.signal)).rejects.toThrow('dialog closed');
    const during = new AbortController();
    const solving = solveChallenge(unsolvable(10_000_000), during.signal);
    during.abort(new Error('dialog closed'));
    await expect(solving).rejects.toThrow('dialog closed');
  });

  it('rejects when no number fits', async () => {
    await expect(solveChallenge(unsolvable(300))).rejects.toThrow('no solution');
  });
});

type PowWindow = Window & { parleyPow: { solve(challenge: Challenge): Promise<string>; abort(): void } };

describe.skipIf(skipReason)('in Chromium', () => {
  let fake: FakeParley;
  let site: HostSite;
  let browser: Browser;
  let workerFile: string;
  let workerBytes: Uint8Array;
  const opened: Watched[] = [];

  beforeAll(async () => {
    [fake, site, browser] = await Promise.all([startFakeParley(), startHostSite(), launchChromium()]);
    workerFile = fake.manifest.files['pow-worker']!;
    workerBytes = fake.files.get(workerFile)!;
    // A page script from the Parley origin, beside the worker file as the
    // pow chunk is, bundling pow.ts with the build's own worker pin.
    const harness = await bundlePageScript(
      `import { solveChallenge } from './pow.ts';
        let controller;
        window.parleyPow = {
          solve(challenge) { controller = new AbortController(); return solveChallenge(challenge, controller.signal).catch((error) => { throw new Error(error.name + ': ' + error.message); }); },
          abort() { controller.abort(); },
        };`,
      import.meta.url,
      powWorkerDefines({ file: workerFile, integrity: `sha384-${createHash('sha384').update(workerBytes).digest('base64')}` }),
    );
    fake.files.set('pow-harness.js', harness);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([fake?.close(), site?.close()]);
  });

  beforeEach(async () => {
    fake.files.set(workerFile, workerBytes);
    await Promise.all(opened.splice(0).map((watched) => watched.context.close()));
  });

  /** The host page with the harness, under `workerSrc`; collects the workers it starts. */
  async function visit(workerSrc: string): Promise<Watched & { workers: Worker[] }> {
    site.page = {
      html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title><script type="module" src="${fake.origin}/widget/v1/pow-harness.js"></script></head><body></body></html>`,
      csp: `default-src 'none'; script-src ${fake.origin}; connect-src ${fake.origin}; worker-src ${workerSrc}`,
      css: '',
    };
    const watched = await newWatchedPage(browser);
    opened.push(watched);
    const workers: Worker[] = [];
    watched.page.on('worker', (worker) => workers.push(worker));
    await watched.page.goto(site.origin);
    await watched.page.waitForFunction(() => 'parleyPow' in window);
    return { ...watched, workers };
  }

  const solveIn = (watched: Watched, challenge: Challenge) => watched.page.evaluate((given) => (window as unknown as PowWindow).parleyPow.solve(given), challenge);

  it('solves in a worker from a blob: URL when the page allows worker-src blob:', async () => {
    const page = await visit('blob:');
    const payload = await solveIn(page, await challenges.issue(PROJECT, 'normal'));
    await expect(challenges.verify(PROJECT, payload)).resolves.toBeTruthy();
    expect(page.workers.map((worker) => worker.url())).toEqual([expect.stringMatching(/^blob:/)]);
    expect(await cspViolations(page)).toEqual([]);
    expect(page.pageErrors).toEqual([]);
  });

  it("solves on the main thread when the page's CSP refuses workers (worker-src 'none'), trying the worker once per page", async () => {
    const page = await visit("'none'");
    for (let solve = 0; solve < 2; solve++) {
      const payload = await solveIn(page, await challenges.issue(PROJECT, 'normal'));
      await expect(challenges.verify(PROJECT, payload)).resolves.toBeTruthy();
    }
    expect(page.workers).toEqual([]);
    const violations = await page.page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
    expect(violations).toEqual(['worker-src blob']);
    expect(page.pageErrors).toEqual([]);
  });

  it('never runs a swapped worker file: the SRI check refuses it and the main thread solves', async () => {
    // A worker that would answer a wrong number at once.
    fake.files.set(workerFile, new TextEncoder().encode('onmessage = () => postMessage({ number: 1 });'));
    const page = await visit('blob:');
    const payload = await solveIn(page, await challenges.issue(PROJECT, 'normal'));
    await expect(challenges.verify(PROJECT, payload)).resolves.toBeTruthy();
    expect(page.workers).toEqual([]);
  });

  it('stops the worker when aborted', async () => {
    const page = await visit('blob:');
    const outcome = solveIn(page, unsolvable(100_000_000)).then(
      () => 'solved',
      (error: Error) => error.message,
    );
    const worker = await page.page.waitForEvent('worker');
    const closed = worker.waitForEvent('close');
    await page.page.evaluate(() => (window as unknown as PowWindow).parleyPow.abort());
    expect(await outcome).toMatch(/AbortError/);
    await closed;
  });

  it('stops the main-thread search when aborted', async () => {
    const page = await visit("'none'");
    const outcome = page.page.evaluate(async (given) => {
      const { parleyPow } = window as unknown as PowWindow;
      const solving = parleyPow.solve(given);
      // Abort once the search has yielded to the page at least once.
      await new Promise((resolve) => setTimeout(resolve, 0));
      parleyPow.abort();
      return solving.then(
        () => 'solved',
        (error: Error) => error.message,
      );
    }, unsolvable(100_000_000));
    expect(await outcome).toMatch(/^AbortError/);
  });
});
