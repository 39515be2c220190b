// Drives the screenshot module in real Chromium on a host page that sends the
// strict CSP a careful site would (only the Parley origin, plus data: and
// blob: images), with typed secrets, masked and ignored elements, a same-origin
// image and one from another origin. Checks what reaches the rasterizer, the
// pixels that come out, and that the page is left exactly as it was.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import { build, transform, type Plugin } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../../test/browser.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const VIEWPORT = { width: 1000, height: 700 };
const GZIP_BUDGET_BYTES = 12 * 1024;
const SCREENSHOT_DIR = '/tmp';


const SECRETS = {
  password: 'hunter2-PASSWORD-SECRET',
  card: 'CARD-4111-TYPED-SECRET',
  notes: 'NOTES-TEXTAREA-SECRET',
  prefilled: 'PREFILLED-VALUE-SECRET',
  option: 'SELECTED-OPTION-SECRET',
  masked: 'MASKED-BALANCE-SECRET',
  editable: 'EDITABLE-TYPED-SECRET',
  checked: 'CHECKBOX-LABEL-VISIBLE',
};
const IGNORED_TEXT = 'IGNORED-PANEL-TEXT';
const VISIBLE_TEXT = 'Visible order summary';

const MASK_GREY = [195, 199, 205];
const PLACEHOLDER_GREY = [228, 231, 235];
const TEAL = [15, 118, 110];
const LOGO = [250, 204, 21];
const EXTERNAL_RED = [239, 68, 68];
const IGNORED_RED = [220, 38, 38];
const WIDGET_MAGENTA = [255, 0, 255];
const MARKER_BLUE = [0, 128, 255];
const HIGHLIGHT = [255, 45, 85];

const cspFor = (extraImageOrigin = '') =>
  `default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' ${extraImageOrigin} data: blob:; style-src 'self'`.replace('  ', ' ');

const hostPage = (externalOrigin: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Checkout</title>
<link rel="stylesheet" href="/host.css"><script src="/harness.js" defer></script></head>
<body>
<header class="top">Acme shop</header>
<main><form class="form">
  <h1>Checkout</h1>
  <p class="summary">${VISIBLE_TEXT}</p>
  <label>Password <input id="password" type="password" autocomplete="off"></label>
  <label>Card number <input id="card" type="text" autocomplete="off"></label>
  <label>Gift code <input id="prefilled" type="text" value="${SECRETS.prefilled}"></label>
  <label>Country <select id="country"><option>Norway</option><option>${SECRETS.option}</option></select></label>
  <label class="wide">Notes <textarea id="notes" rows="2"></textarea></label>
  <label class="check"><input id="terms" type="checkbox"> ${SECRETS.checked}</label>
  <div id="masked" class="balance" data-parley-mask>Balance: <b>${SECRETS.masked}</b></div>
  <div data-parley-mask><div id="editable" class="editable" contenteditable="true">Draft</div></div>
  <img id="logo" class="logo" src="/logo.png" alt="Acme">
  <img id="external" class="logo" src="${externalOrigin}/x.png" alt="">
  <div id="scroller" class="scroller"><div class="stripe one"></div><div class="stripe two"></div><div class="stripe three"></div></div>
  <button type="button" id="buy">Buy now</button>
  <div id="ignored" class="ignored" data-parley-ignore>${IGNORED_TEXT}</div>
</form></main>
<div class="marker"></div>
<div class="tall"></div>
</body></html>`;

const HOST_CSS = `body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1f2937; background: #f8fafc; }
.top { position: fixed; top: 0; left: 0; right: 0; height: 48px; padding: 12px 24px; box-sizing: border-box;
  background: rgb(${TEAL}); color: #fff; font-weight: 700; z-index: 2; }
form { display: grid; grid-template-columns: 1fr 1fr; gap: 14px 32px; max-width: 900px; padding: 64px 24px 24px; }
h1 { margin: 0; font-size: 28px; } h1::after { content: " \\2713"; color: rgb(22, 163, 74); }
.summary { margin: 0; align-self: end; }
label { display: grid; gap: 4px; font-size: 14px; } .wide { grid-column: 1 / -1; }
.check { display: flex; align-items: center; gap: 8px; }
input, textarea, select { font: inherit; padding: 8px 10px; border: 1px solid #cbd5e1; border-radius: 6px; background: #fff; }
.balance { padding: 12px; background: #fef3c7; border-radius: 8px; }
.editable { padding: 12px; border: 1px dashed #94a3b8; }
.ignored { padding: 12px; background: rgb(${IGNORED_RED}); color: #fff; }
.logo { width: 120px; height: 60px; }
.scroller { height: 60px; overflow: auto; border: 1px solid #cbd5e1; }
.stripe { height: 60px; } .one { background: rgb(1, 1, 1); } .two { background: rgb(${MARKER_BLUE}); } .three { background: rgb(2, 2, 2); }
.marker { position: absolute; top: 1500px; left: 40px; width: 200px; height: 100px; background: rgb(${MARKER_BLUE}); }
.tall { height: 2000px; }`;

// The harness stands in for the dialog: a widget host with an open shadow root,
// styled like the real widget (all: initial, element rules that must not leak
// into the editor), a button that starts the capture, and the container.
const HARNESS = `
import { captureScreenshot } from './index.ts';
import { exportImage } from './export-image.ts';

const host = document.createElement('div');
host.setAttribute('data-parley-widget', '');
const shadow = host.attachShadow({ mode: 'open' });
const sheet = new CSSStyleSheet();
sheet.replaceSync(':host{all:initial!important} dialog{width:440px;padding:24px;background:#fff;border:0} dialog::backdrop{background:rgba(0,0,0,.45)} h2{margin:0 0 16px;font-size:30px} button{background:#eee;font-size:22px} .trigger{position:fixed;right:16px;bottom:16px;padding:10px 18px;border:0;border-radius:999px;background:rgb(${WIDGET_MAGENTA});color:#fff;font:600 15px system-ui}');
shadow.adoptedStyleSheets = [sheet];
const trigger = document.createElement('button');
trigger.className = 'trigger';
trigger.textContent = 'Add a screenshot';
const container = document.createElement('div');
shadow.append(trigger, container);
document.body.append(host);

let pending = null;
let pixels = null;
async function describe(blob) {
  if (!blob) return null;
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  pixels = context.getImageData(0, 0, bitmap.width, bitmap.height);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return { type: blob.type, size: blob.size, width: bitmap.width, height: bitmap.height, base64: btoa(binary) };
}
window.parleyShot = {
  start(mode, theme, strings) {
    trigger.focus();
    pending = captureScreenshot({ mode, exclude: host, container, strings: strings || {}, theme }).then(describe);
  },
  result: () => pending,
  pixel(x, y) {
    const i = (Math.round(y) * pixels.width + Math.round(x)) * 4;
    return Array.from(pixels.data.slice(i, i + 4));
  },
  countColour(rgb, tolerance) {
    let count = 0;
    for (let i = 0; i < pixels.data.length; i += 4) {
      if (Math.abs(pixels.data[i] - rgb[0]) <= tolerance && Math.abs(pixels.data[i + 1] - rgb[1]) <= tolerance && Math.abs(pixels.data[i + 2] - rgb[2]) <= tolerance) count++;
    }
    return count;
  },
  activeElement() {
    const active = shadow.activeElement;
    return active ? active.tagName.toLowerCase() + ':' + (active.getAttribute('aria-label') || active.textContent) : null;
  },
  async exportNoise(width, height) {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d');
    const image = context.createImageData(width, height);
    for (let i = 0; i < image.data.length; i += 4) {
      image.data[i] = Math.random() * 256; image.data[i + 1] = Math.random() * 256; image.data[i + 2] = Math.random() * 256; image.data[i + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    const blob = await exportImage(canvas);
    const bitmap = await createImageBitmap(blob);
    return { type: blob.type, size: blob.size, width: bitmap.width, height: bitmap.height };
  },
};
`;

/** Like build.mjs: .css files become minified text for a constructable stylesheet. */
const cssAsMinifiedText: Plugin = {
  name: 'css-as-minified-text',
  setup(builder) {
    builder.onLoad({ filter: /\.css$/ }, async ({ path }) => {
      const { code } = await transform(readFileSync(path, 'utf8'), { loader: 'css', minify: true });
      return { contents: code.trim(), loader: 'text' };
    });
  },
};

async function bundle(options: { entry: string } | { contents: string }, format: 'esm' | 'iife'): Promise<string> {
  const result = await build({
    ...('entry' in options ? { entryPoints: [options.entry] } : { stdin: { contents: options.contents, resolveDir: HERE, loader: 'ts' } }),
    bundle: true,
    format,
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    plugins: [cssAsMinifiedText],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** A minimal PNG of one colour (no image library needed). */
function solidPng(width: number, height: number, [red, green, blue]: number[]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const checksum = Buffer.alloc(4);
    checksum.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, checksum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [red!, green!, blue!]).flat())]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(pixels)), chunk('IEND', Buffer.alloc(0))]);
}

type Request = { path: string; at: number };
let harnessJs = '';
let server: Server;
let otherServer: Server;
let origin = '';
let otherOrigin = '';
let browser: Browser;
let context: BrowserContext;
let requests: Request[] = [];
let otherRequests: Request[] = [];
let pageCsp = '';

function listen(target: Server): Promise<string> {
  return new Promise((resolve) => target.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(target.address() as AddressInfo).port}`)));
}

function startServers(): Promise<[string, string]> {
  const logo = solidPng(120, 60, LOGO);
  const external = solidPng(120, 60, EXTERNAL_RED);
  server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    requests.push({ path, at: Date.now() });
    if (path === '/harness.js') response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(harnessJs);
    else if (path === '/host.css') response.writeHead(200, { 'Content-Type': 'text/css; charset=utf-8' }).end(HOST_CSS);
    else if (path === '/logo.png') response.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' }).end(logo);
    else if (path === '/axe.js') response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js')));
    else response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': pageCsp }).end(hostPage(otherOrigin));
  });
  // Another origin: the page may show its image, but the capture must never ask it for anything.
  otherServer = createServer((request, response) => {
    otherRequests.push({ path: request.url ?? '/', at: Date.now() });
    response.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' }).end(external);
  });
  return Promise.all([listen(server), listen(otherServer)]);
}

type Watched = { page: Page; consoleMessages: string[]; pageErrors: string[] };

async function openHostPage({
  allowExternalImage = false,
  reducedMotion = 'no-preference' as 'reduce' | 'no-preference',
  inBrowser = browser,
  viewport = VIEWPORT,
} = {}): Promise<Watched> {
  pageCsp = cspFor(allowExternalImage ? otherOrigin : '');
  context = await inBrowser.newContext({ viewport, deviceScaleFactor: 1, reducedMotion });
  await context.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[]; svgSources: string[] };
    w.cspViolations = [];
    w.svgSources = [];
    document.addEventListener('securitypolicyviolation', (event) => w.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`), true);
    // Keeps the display-capture streams, to check they were stopped.
    const getDisplayMedia = MediaDevices.prototype.getDisplayMedia;
    (window as unknown as { displayStreams: MediaStream[] }).displayStreams = [];
    MediaDevices.prototype.getDisplayMedia = async function (this: MediaDevices, ...args) {
      const stream = await getDisplayMedia.apply(this, args);
      (window as unknown as { displayStreams: MediaStream[] }).displayStreams.push(stream);
      return stream;
    };
    // Records every SVG handed to an <img> for rasterizing: what the capture really serialized.
    const source = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src')!;
    Object.defineProperty(HTMLImageElement.prototype, 'src', {
      ...source,
      set(value: string) {
        if (String(value).startsWith('data:image/svg+xml')) w.svgSources.push(decodeURIComponent(String(value).slice(String(value).indexOf(',') + 1)));
        source.set!.call(this, value);
      },
    });
  });
  const page = await context.newPage();
  const consoleMessages: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (message) => consoleMessages.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(`${origin}/checkout`);
  await page.waitForFunction(() => 'parleyShot' in window);
  await page.evaluate(() => document.fonts.ready);
  // Only what happens from here on counts (Chromium logs notes about the page itself at load).
  consoleMessages.length = 0;
  return { page, consoleMessages, pageErrors };
}

async function fillSecrets(page: Page): Promise<void> {
  await page.locator('#password').fill(SECRETS.password);
  await page.locator('#card').fill(SECRETS.card);
  await page.locator('#notes').fill(SECRETS.notes);
  await page.locator('#country').selectOption(SECRETS.option);
  await page.locator('#terms').check();
  await page.locator('#editable').fill(SECRETS.editable);
}

/** Everything a capture could change: markup, form state, scroll. */
function hostState(page: Page) {
  return page.evaluate(() => ({
    html: document.documentElement.outerHTML,
    values: Array.from(document.querySelectorAll('input, textarea, select')).map((field) => [
      (field as HTMLInputElement).value,
      (field as HTMLInputElement).checked ?? null,
    ]),
    scroll: [window.scrollX, window.scrollY],
    windowKeys: Object.keys(window).sort(),
  }));
}

function startCapture(page: Page, mode: 'dom' | 'native' = 'dom', theme: 'light' | 'dark' = 'light', strings: Record<string, string> = {}) {
  return page.evaluate(([m, t, s]) => (window as unknown as { parleyShot: { start(...args: unknown[]): void } }).parleyShot.start(m, t, s), [mode, theme, strings] as const);
}

type Shot = { type: string; size: number; width: number; height: number; base64: string } | null;
// PARLEY_SHOT_DEBUG=1 writes every capture (/tmp/shot-N.png) and the scroll test's SVG (/tmp/shot.svg) to look at.
let debugCount = 0;
const result = async (page: Page): Promise<Shot> => {
  const shot = await page.evaluate(() => (window as unknown as { parleyShot: { result(): Promise<Shot> } }).parleyShot.result());
  if (shot && process.env.PARLEY_SHOT_DEBUG) await writeFile(`/tmp/shot-${++debugCount}.png`, Buffer.from(shot.base64, 'base64'));
  return shot;
};
const pixel = (page: Page, x: number, y: number): Promise<number[]> =>
  page.evaluate(([px, py]) => (window as unknown as { parleyShot: { pixel(x: number, y: number): number[] } }).parleyShot.pixel(px!, py!), [x, y]);
const countColour = (page: Page, rgb: number[], tolerance = 6): Promise<number> =>
  page.evaluate(([c, t]) => (window as unknown as { parleyShot: { countColour(c: unknown, t: unknown): number } }).parleyShot.countColour(c, t), [rgb, tolerance] as const);
const shadowFocus = (page: Page): Promise<string | null> => page.evaluate(() => (window as unknown as { parleyShot: { activeElement(): string | null } }).parleyShot.activeElement());
const rectOf = (page: Page, selector: string) =>
  page.evaluate((s) => {
    const { left, top, width, height } = document.querySelector(s)!.getBoundingClientRect();
    return { left, top, width, height, centerX: left + width / 2, centerY: top + height / 2 };
  }, selector);
const svgSources = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { svgSources: string[] }).svgSources);
const cspViolations = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);

function expectColour(actual: number[], expected: number[], tolerance = 6): void {
  expect(actual.slice(0, 3).every((value, index) => Math.abs(value - expected[index]!) <= tolerance), `${actual} ≈ ${expected}`).toBe(true);
}

const editor = (page: Page) => page.getByRole('dialog', { name: 'Mark up the screenshot' });

/** Draws a box with the mouse, from and to page coordinates inside the editor's canvas (given as fractions of the image). */
async function dragOnCanvas(page: Page, from: [number, number], to: [number, number]): Promise<void> {
  const box = (await editor(page).locator('canvas').boundingBox())!;
  await page.mouse.move(box.x + from[0] * box.width, box.y + from[1] * box.height);
  await page.mouse.down();
  await page.mouse.move(box.x + ((from[0] + to[0]) / 2) * box.width, box.y + ((from[1] + to[1]) / 2) * box.height, { steps: 4 });
  await page.mouse.move(box.x + to[0] * box.width, box.y + to[1] * box.height, { steps: 4 });
  await page.mouse.up();
}

// Like test/browser.ts, plus the switches that answer the tab-capture prompt.
const launchChromium = (extraArgs: string[] = []): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...extraArgs],
  });

beforeAll(async () => {
  harnessJs = await bundle({ contents: HARNESS }, 'iife');
  [origin, otherOrigin] = await startServers();
  browser = await launchChromium();
}, 60_000);

afterEach(async () => {
  await context?.close();
  requests = [];
  otherRequests = [];
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([server, otherServer].map((target) => new Promise((resolve) => target?.close(resolve))));
});

describe.skipIf(skipReason !== '')('screenshot capture and editor in Chromium under a strict CSP', () => {
  it(`stays within the size budget (${GZIP_BUDGET_BYTES} bytes min+gzip) and contains no eval or markup parsing`, async () => {
    const chunk = await bundle({ entry: `${HERE}index.ts` }, 'esm');
    const gzipped = gzipSync(chunk).length;
    console.info(`screenshot chunk: ${chunk.length} bytes minified, ${gzipped} bytes min+gzip`);
    expect(gzipped).toBeLessThan(GZIP_BUDGET_BYTES);
    expect(chunk).not.toMatch(/\beval\(|new Function|innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('serializes no typed secret, masked or ignored content and leaves the page exactly as it was', async () => {
    const { page, consoleMessages, pageErrors } = await openHostPage();
    await fillSecrets(page);
    // The page's own CSP blocked the cross-origin image at load: proof the listener works. Then start clean.
    expect(await cspViolations(page)).toEqual([`img-src ${otherOrigin}/x.png`]);
    await page.evaluate(() => ((window as unknown as { cspViolations: string[] }).cspViolations.length = 0));
    consoleMessages.length = 0;
    const before = await hostState(page);
    const rects = {
      password: await rectOf(page, '#password'),
      card: await rectOf(page, '#card'),
      notes: await rectOf(page, '#notes'),
      country: await rectOf(page, '#country'),
      masked: await rectOf(page, '#masked'),
      logo: await rectOf(page, '#logo'),
      external: await rectOf(page, '#external'),
    };
    const startedAt = Date.now();

    await startCapture(page);
    await editor(page).waitFor();
    await editor(page).getByRole('button', { name: 'Done' }).click();
    const shot = await result(page);

    const [svg, ...more] = await svgSources(page);
    expect(more).toEqual([]);
    expect(svg).toContain(VISIBLE_TEXT);
    expect(svg).toContain('Checkout');
    for (const secret of Object.values(SECRETS).filter((value) => value !== SECRETS.checked)) expect(svg).not.toContain(secret);
    expect(svg).not.toContain('hunter2');
    expect(svg).not.toContain(IGNORED_TEXT);
    expect(svg).not.toContain('Add a screenshot');
    expect(svg).not.toContain(`${otherOrigin}`);
    expect(svg).not.toMatch(/<script|\son\w+=|checked|<option|<select|<textarea/i);

    expect(shot).not.toBeNull();
    await writeFile(`${SCREENSHOT_DIR}/parley-screenshot-capture.png`, Buffer.from(shot!.base64, 'base64'));
    expect(shot!.type).toBe('image/png');
    expect([shot!.width, shot!.height]).toEqual([VIEWPORT.width, VIEWPORT.height]);
    const png = Buffer.from(shot!.base64, 'base64');
    expect(png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    for (const secret of Object.values(SECRETS)) expect(png.includes(secret)).toBe(false);

    // Form controls and the masked element are grey blocks where they were; the images are what the page shows.
    for (const rect of [rects.password, rects.card, rects.notes, rects.country, rects.masked]) {
      expectColour(await pixel(page, rect.centerX, rect.centerY), MASK_GREY);
      expectColour(await pixel(page, rect.left + 3, rect.top + 3), MASK_GREY);
    }
    expectColour(await pixel(page, rects.logo.centerX, rects.logo.centerY), LOGO);
    expectColour(await pixel(page, rects.external.centerX, rects.external.centerY), PLACEHOLDER_GREY);
    expectColour(await pixel(page, 20, 20), TEAL);
    expect(await countColour(page, IGNORED_RED)).toBe(0);
    expect(await countColour(page, WIDGET_MAGENTA)).toBe(0);

    expect(await hostState(page)).toEqual(before);
    expect(requests.filter((request) => request.at >= startedAt)).toEqual([]);
    expect(otherRequests).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
    expect(consoleMessages).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(await shadowFocus(page)).toBe('button:Add a screenshot');
    expect(await page.evaluate(() => document.querySelector('[data-parley-widget]')!.shadowRoot!.adoptedStyleSheets.length)).toBe(1);
  });

  it('never asks another origin for an image the page shows from it, and greys it out', async () => {
    const { page, consoleMessages } = await openHostPage({ allowExternalImage: true });
    await page.waitForFunction(() => (document.querySelector('#external') as HTMLImageElement).naturalWidth > 0);
    expect(otherRequests).toHaveLength(1);
    const external = await rectOf(page, '#external');
    const startedAt = Date.now();

    await startCapture(page);
    await editor(page).getByRole('button', { name: 'Done' }).click();
    expect(await result(page)).not.toBeNull();

    expectColour(await pixel(page, external.centerX, external.centerY), PLACEHOLDER_GREY);
    expect(otherRequests.filter((request) => request.at >= startedAt)).toEqual([]);
    expect(requests.filter((request) => request.at >= startedAt)).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
    expect(consoleMessages).toEqual([]);
  });

  it('captures the viewport at its scroll position, with fixed boxes and inner scrollers where they show', async () => {
    const { page } = await openHostPage();
    await page.evaluate(() => {
      document.querySelector('#scroller')!.scrollTop = 60;
      window.scrollTo(0, 1300);
    });
    const before = await hostState(page);

    await startCapture(page);
    await editor(page).getByRole('button', { name: 'Done' }).click();
    expect(await result(page)).not.toBeNull();

    expectColour(await pixel(page, 20, 20), TEAL);
    expectColour(await pixel(page, 140, 1500 + 50 - 1300), MARKER_BLUE);
    expect((await svgSources(page))[0]).not.toContain(SECRETS.prefilled);
    expect(await hostState(page)).toEqual(before);

    await page.evaluate(() => window.scrollTo(0, 0));
    const scroller = await rectOf(page, '#scroller');
    await startCapture(page);
    await editor(page).getByRole('button', { name: 'Done' }).click();
    expect(await result(page)).not.toBeNull();
    expectColour(await pixel(page, scroller.centerX, scroller.centerY), MARKER_BLUE);
    if (process.env.PARLEY_SHOT_DEBUG) await writeFile('/tmp/shot.svg', (await svgSources(page)).at(-1)!);
  });

  it('paints black-out boxes into the exported pixels and highlight boxes as a strong outline', async () => {
    const { page } = await openHostPage();
    await startCapture(page);
    const dialog = editor(page);
    await dialog.getByRole('button', { name: 'Black out' }).click();
    await expect(dialog.getByRole('button', { name: 'Black out' }).getAttribute('aria-pressed')).resolves.toBe('true');
    await dragOnCanvas(page, [0.02, 0.09], [0.4, 0.2]);
    await dialog.getByRole('button', { name: 'Highlight' }).click();
    await dragOnCanvas(page, [0.5, 0.5], [0.9, 0.8]);
    // Undo drops the last box only; draw it again.
    await dialog.getByRole('button', { name: 'Undo' }).click();
    await dragOnCanvas(page, [0.5, 0.5], [0.9, 0.8]);
    await dialog.getByRole('button', { name: 'Done' }).click();
    const shot = await result(page);
    expect(shot!.type).toBe('image/png');

    const { width, height } = VIEWPORT;
    for (const [fx, fy] of [
      [0.03, 0.1],
      [0.2, 0.15],
      [0.39, 0.19],
    ] as const) {
      expect(await pixel(page, fx * width, fy * height)).toEqual([0, 0, 0, 255]);
    }
    expect(await pixel(page, 0.02 * width - 4, 0.15 * height)).not.toEqual([0, 0, 0, 255]);
    expect(await pixel(page, 0.2 * width, 0.2 * height + 4)).not.toEqual([0, 0, 0, 255]);
    expectColour(await pixel(page, 0.5 * width, 0.65 * height), HIGHLIGHT, 10);
    expectColour(await pixel(page, 0.7 * width, 0.5 * height), HIGHLIGHT, 10);
    expect(await pixel(page, 0.7 * width, 0.65 * height)).not.toEqual([0, 0, 0, 255]);
  });

  it('works by keyboard: focus moves in, tools and drawing without a mouse, Done, focus returns', async () => {
    const { page } = await openHostPage();
    await startCapture(page);
    const dialog = editor(page);
    await dialog.waitFor();
    expect(await shadowFocus(page)).toBe('button:Highlight');
    await page.keyboard.press('Tab');
    expect(await shadowFocus(page)).toBe('button:Black out');
    await page.keyboard.press('Space');
    await expect(dialog.getByRole('button', { name: 'Black out' }).getAttribute('aria-pressed')).resolves.toBe('true');
    // Undo is disabled with nothing to undo, so Tab goes past it to Cancel, Done, then the canvas.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await shadowFocus(page)).toMatch(/^canvas:Screenshot/);
    // The cross starts in the middle; a step is 1 % of the longer side (10 px), Shift 5 %.
    await page.keyboard.press('Enter');
    for (let i = 0; i < 2; i++) await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Enter');
    // Escape while drawing drops only that box; the editor stays open.
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Escape');
    await expect(dialog.isVisible()).resolves.toBe(true);
    await page.keyboard.press('Shift+Tab');
    expect(await shadowFocus(page)).toBe('button:Done');
    await page.keyboard.press('Enter');
    const shot = await result(page);
    expect(shot).not.toBeNull();
    expect(await shadowFocus(page)).toBe('button:Add a screenshot');
    expect(await pixel(page, 510, 360)).toEqual([0, 0, 0, 255]);
    expect(await pixel(page, 595, 395)).toEqual([0, 0, 0, 255]);
    expect(await pixel(page, 605, 360)).not.toEqual([0, 0, 0, 255]);
  });

  it('resolves null on Cancel and on Escape, changing nothing', async () => {
    const { page, consoleMessages, pageErrors } = await openHostPage();
    await fillSecrets(page);
    consoleMessages.length = 0;
    const before = await hostState(page);

    await startCapture(page);
    await editor(page).getByRole('button', { name: 'Cancel' }).click();
    expect(await result(page)).toBeNull();
    expect(await shadowFocus(page)).toBe('button:Add a screenshot');

    await startCapture(page);
    await editor(page).waitFor();
    await page.keyboard.press('Escape');
    expect(await result(page)).toBeNull();
    await expect(editor(page).count()).resolves.toBe(0);
    expect(await shadowFocus(page)).toBe('button:Add a screenshot');

    expect(await hostState(page)).toEqual(before);
    expect(consoleMessages).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('uses the translated strings it is given and English for the rest', async () => {
    const { page } = await openHostPage();
    await startCapture(page, 'dom', 'light', { 'screenshot.title': 'Bildschirmfoto markieren', 'screenshot.done': 'Fertig', 'screenshot.undo': '' });
    const dialog = page.getByRole('dialog', { name: 'Bildschirmfoto markieren' });
    await dialog.getByRole('button', { name: 'Fertig' }).waitFor();
    await expect(dialog.getByRole('button', { name: 'Undo' }).count()).resolves.toBe(1);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await result(page)).toBeNull();
  });

  it('native mode: when the visitor refuses, they are told and the result is null', async () => {
    const refusing = await launchChromium(['--auto-reject-this-tab-capture']);
    try {
      const { page, pageErrors } = await openHostPage({ inBrowser: refusing });
      await startCapture(page, 'native');
      const alert = page.getByRole('alertdialog', { name: 'The screenshot could not be taken.' });
      await alert.waitFor();
      await page.waitForTimeout(250);
      await page.screenshot({ path: `${SCREENSHOT_DIR}/parley-screenshot-failed.png` });
      expect(await shadowFocus(page)).toBe('button:Close');
      await alert.getByRole('button', { name: 'Close' }).click();
      expect(await result(page)).toBeNull();
      expect(await shadowFocus(page)).toBe('button:Add a screenshot');
      // The widget, hidden while the browser asked, is visible again.
      expect(await page.locator('.trigger').evaluate((element) => getComputedStyle(element).visibility)).toBe('visible');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
      await refusing.close();
    }
  });

  it('native mode: grabs one frame of the tab without the widget, then stops the capture', async () => {
    const accepting = await launchChromium(['--auto-accept-this-tab-capture']);
    try {
      const { page, pageErrors } = await openHostPage({ inBrowser: accepting });
      await fillSecrets(page);
      const masked = [await rectOf(page, '#password'), await rectOf(page, '#prefilled'), await rectOf(page, '#masked')];
      await startCapture(page, 'native');
      await editor(page).getByRole('button', { name: 'Done' }).click();
      const shot = await result(page);
      expect(shot!.type).toBe('image/png');
      expect(shot!.width).toBeGreaterThan(0);
      // The page is there (its teal header), the widget is not; the stream has ended.
      expect(await countColour(page, TEAL, 12)).toBeGreaterThan(1000);
      expect(await countColour(page, WIDGET_MAGENTA, 40)).toBe(0);
      // Real pixels: what the DOM capture masks or leaves out is painted over.
      const scale = shot!.width / VIEWPORT.width;
      for (const rect of masked) expectColour(await pixel(page, rect.left * scale + 4, rect.centerY * scale), MASK_GREY);
      expect(await countColour(page, IGNORED_RED, 12)).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { displayStreams: MediaStream[] }).displayStreams.flatMap((stream) => stream.getTracks().map((track) => track.readyState)))).toEqual(['ended']);
      expect(await page.locator('.trigger').evaluate((element) => getComputedStyle(element).visibility)).toBe('visible');
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
      await accepting.close();
    }
  });

  it('keeps a noisy full-size capture under the upload limit (≤ 2560 px, ≤ 5 MB)', async () => {
    const { page } = await openHostPage();
    const exported = await page.evaluate(() =>
      (window as unknown as { parleyShot: { exportNoise(w: number, h: number): Promise<{ type: string; size: number; width: number; height: number }> } }).parleyShot.exportNoise(3000, 2000),
    );
    expect(exported.size).toBeLessThanOrEqual(5_000_000);
    expect(Math.max(exported.width, exported.height)).toBeLessThanOrEqual(2560);
    expect(['image/png', 'image/webp']).toContain(exported.type);
  });

  it('looks right in light and dark, reduced motion included, and passes axe', async () => {
    for (const theme of ['light', 'dark'] as const) {
      const { page } = await openHostPage({ reducedMotion: theme === 'dark' ? 'reduce' : 'no-preference' });
      await fillSecrets(page);
      await startCapture(page, 'dom', theme);
      const dialog = editor(page);
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Black out' }).click();
      await dragOnCanvas(page, [0.03, 0.3], [0.45, 0.42]);
      await dialog.getByRole('button', { name: 'Highlight' }).click();
      await dragOnCanvas(page, [0.52, 0.08], [0.97, 0.45]);
      await page.waitForTimeout(250);
      await page.screenshot({ path: `${SCREENSHOT_DIR}/parley-screenshot-editor-${theme}.png` });
      if (theme === 'dark') {
        expect(await dialog.evaluate((element) => getComputedStyle(element).animationName)).toBe('none');
      }
      await page.addScriptTag({ url: '/axe.js' });
      const violations = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }).axe;
        const { violations } = await axe.run({ include: [['[data-parley-widget]', 'dialog']] }, { resultTypes: ['violations'] });
        return violations.map((violation) => `${violation.id} (${violation.nodes.length})`);
      });
      expect(violations).toEqual([]);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await context.close();
    }
    // A phone: the toolbar wraps, the picture still fits; the keyboard cross shows on the canvas.
    const { page } = await openHostPage({ viewport: { width: 390, height: 760 } });
    await startCapture(page);
    await editor(page).waitFor();
    for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
    expect(await shadowFocus(page)).toMatch(/^canvas:/);
    await page.keyboard.press('Enter');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('Shift+ArrowDown');
    await page.waitForTimeout(250);
    await page.screenshot({ path: `${SCREENSHOT_DIR}/parley-screenshot-editor-phone.png` });
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    expect(await result(page)).toBeNull();
  });
});
