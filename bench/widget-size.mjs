// The widget's weight and its cost to a host page, beside its peers.
//
// Prints the bytes (raw, min+gzip) of the loader and of each lazily loaded
// chunk with the shared files it adds, then loads a host page with the widget
// in Chromium (strict CSP, the widget served from another origin) and prints
// the longest main-thread task (PerformanceObserver 'longtask') and the time
// spent running the widget's scripts (a V8 CPU profile), at normal speed and
// with the CPU slowed down 4x as on a cheap phone; then the same for opening
// the dialog. Figures only: nothing is asserted here (the
// budgets are checked by packages/widget/src/size.test.ts).
//
//   npm run build && node bench/widget-size.mjs
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { assertBuilt } from './lib.mjs';
import { buildWidget } from '../packages/widget/build.mjs';

assertBuilt();
const { DEFAULT_WIDGET_SETTINGS } = await import('../apps/server/dist/projects/widget-settings.js');

const RUNS = 5;
const PROJECT = 'pk_bench';
// Published min+gzip sizes (DESIGN.md, measured November 2026).
const PEERS = [
  ['Sentry user feedback (whole integration)', 18.4],
  ['Sentry user feedback, lazy modal', 10.7],
  ['PushFeedback', 23],
  ['Gleap', 143.5],
  ['html-to-image (screenshot library)', 5.2],
  ['html2canvas-pro (screenshot library)', 70.7],
];

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const { files, chunks } = await buildWidget({ write: false });
const sizeOf = (names) => names.reduce((sum, name) => ({ raw: sum.raw + files.get(name).length, gzip: sum.gzip + gzipSync(files.get(name), { level: 9 }).length }), { raw: 0, gzip: 0 });
const fileList = (name) => chunks[name].map(([file]) => file);

// What each step downloads beyond what the steps before it already have.
const steps = [
  ['loader.js (every page)', ['loader.js']],
  ['session chunk (launcher, display rules)', fileList('session')],
  ['dialog chunk (+ shared)', fileList('dialog')],
  ['screenshot + annotation chunk (+ shared)', fileList('screenshot')],
];
const loaded = new Set();
console.log('Widget files (min+gzip at level 9, as served)\n');
console.log(`${'step'.padEnd(44)}${'raw'.padStart(10)}${'min+gzip'.padStart(11)}  files`);
for (const [label, names] of steps) {
  const added = names.filter((name) => !loaded.has(name));
  for (const name of added) loaded.add(name);
  const { raw, gzip } = sizeOf(added);
  console.log(`${label.padEnd(44)}${kb(raw).padStart(10)}${kb(gzip).padStart(11)}  ${added.join(', ')}`);
}
const textFeedback = sizeOf([...new Set(['loader.js', ...fileList('session'), ...fileList('dialog')])]);
console.log(`${'= to send a text feedback'.padEnd(44)}${kb(textFeedback.raw).padStart(10)}${kb(textFeedback.gzip).padStart(11)}`);
console.log('\nPeers (min+gzip)\n');
for (const [name, size] of PEERS) console.log(`${name.padEnd(44)}${`${size.toFixed(1)} KB`.padStart(21)}`);

// A Parley stand-in (widget files and settings) and a host site, on two origins.
function listen(handler) {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${server.address().port}` })));
}
const parley = await listen((request, response) => {
  const url = new URL(request.url, 'http://parley');
  const file = /^\/widget\/v1\/([\w.-]+\.js)$/.exec(url.pathname)?.[1];
  if (file && files.has(file)) {
    response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Access-Control-Allow-Origin': '*' }).end(files.get(file));
  } else if (url.pathname === `/api/widget/v1/projects/${PROJECT}/config`) {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': request.headers.origin ?? '*' }).end(JSON.stringify({ settings: DEFAULT_WIDGET_SETTINGS, version: 'bench' }));
  } else {
    response.writeHead(404).end();
  }
});
const page = (withWidget) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Shop</h1>${'<p>Product text. '.repeat(200)}</p>${withWidget ? `<script src="${parley.origin}/widget/v1/loader.js" data-project="${PROJECT}" async></script>` : ''}</body></html>`;
const site = await listen((request, response) => {
  const csp = `default-src 'none'; script-src ${parley.origin}; connect-src ${parley.origin}; img-src ${parley.origin} data: blob:; style-src ${parley.origin}`;
  response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': csp }).end(page(request.url.startsWith('/with')));
});

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });

/** Milliseconds the profile spent in scripts from Parley's origin (self time). */
function widgetScriptTime({ profile }) {
  const fromParley = new Set(profile.nodes.filter((node) => node.callFrame.url.startsWith(parley.origin)).map((node) => node.id));
  let total = 0;
  profile.samples.forEach((id, index) => {
    if (fromParley.has(id)) total += profile.timeDeltas[index + 1] ?? 0;
  });
  return total / 1000;
}

/**
 * One page load: the longest task, and with the widget its script time and
 * opening the dialog (pointer on the launcher first, as a visitor's would
 * be). Waits on the widget's own events, never by polling the page, which
 * would add main-thread work of its own.
 */
async function measure({ withWidget, throttle }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(() => {
    globalThis.longTasks = [];
    new PerformanceObserver((list) => globalThis.longTasks.push(...list.getEntries().map((entry) => entry.duration))).observe({ type: 'longtask', buffered: true });
    globalThis.widgetLoaded = new Promise((resolve) => (globalThis.Parley = [['on', 'load', resolve]]));
  });
  const tab = await context.newPage();
  const cdp = await context.newCDPSession(tab);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  const longTasksSince = async (from) => Math.max(0, ...(await tab.evaluate((index) => globalThis.longTasks.slice(index), from)));
  await cdp.send('Profiler.start');
  await tab.goto(`${site.origin}/${withWidget ? 'with' : 'without'}`);
  if (withWidget) await tab.evaluate(() => globalThis.widgetLoaded);
  await tab.waitForTimeout(500);
  const load = { longest: await longTasksSince(0), script: widgetScriptTime(await cdp.send('Profiler.stop')) };
  let open = null;
  if (withWidget) {
    // Raw mouse events: a locator's click would run checks in the page, on the
    // main thread being measured.
    const box = await tab.getByRole('button', { name: 'Feedback' }).boundingBox();
    await tab.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await tab.waitForTimeout(500);
    const opened = tab.evaluate(() => new Promise((resolve) => globalThis.Parley.on('open', resolve)));
    const tasksBefore = (await tab.evaluate(() => globalThis.longTasks)).length;
    await cdp.send('Profiler.start');
    const started = Date.now();
    await tab.mouse.down();
    await tab.mouse.up();
    await opened;
    const readyAfter = Date.now() - started;
    await tab.waitForTimeout(300);
    open = { longest: await longTasksSince(tasksBefore), script: widgetScriptTime(await cdp.send('Profiler.stop')), readyAfter };
  }
  await context.close();
  return { load, open };
}

console.log(`\nMain thread in Chromium ${browser.version()} (median of ${RUNS} runs; 'longest task' counts only tasks over 50 ms, 0 = none)\n`);
for (const throttle of [1, 4]) {
  const runs = { without: [], with: [] };
  for (let run = 0; run < RUNS; run++) {
    runs.without.push(await measure({ withWidget: false, throttle }));
    runs.with.push(await measure({ withWidget: true, throttle }));
  }
  const loadLongest = median(runs.with.map((r) => r.load.longest));
  console.log(throttle === 1 ? 'CPU at full speed:' : `CPU slowed ${throttle}x:`);
  console.log(`  loading the page: longest task ${loadLongest.toFixed(0)} ms (same page without the widget: ${median(runs.without.map((r) => r.load.longest)).toFixed(0)} ms); widget scripts ran ${median(runs.with.map((r) => r.load.script)).toFixed(1)} ms`);
  console.log(
    `  opening the dialog: longest task ${median(runs.with.map((r) => r.open.longest)).toFixed(0)} ms; widget scripts ran ${median(runs.with.map((r) => r.open.script)).toFixed(1)} ms; open ${median(runs.with.map((r) => r.open.readyAfter))} ms after the click`,
  );
}

await browser.close();
parley.server.close();
site.server.close();
