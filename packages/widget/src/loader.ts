// The script-tag entry: a classic script (an IIFE), so it runs on any page
// and can carry an SRI hash. It starts the API, fetches the project's
// settings and, at the same time, the session chunk that shows the launcher;
// every chunk is an ES module checked against the hash built into this file.
import { createParley } from './parley.js';
import type { Parley, WidgetOptions } from './public-types.js';
import { importVerified } from './verified-import.js';

type EarlyCall = [method: string, ...args: unknown[]];
type ParleyWindow = Window & { Parley?: Parley | EarlyCall[] };

function readScriptOptions(script: HTMLScriptElement): Partial<WidgetOptions> {
  const { project, apiOrigin, storage, exposePersonalData, launcher } = script.dataset;
  return {
    project,
    apiOrigin: apiOrigin ?? script.src,
    storage: storage as WidgetOptions['storage'],
    exposePersonalData: exposePersonalData !== undefined && exposePersonalData !== 'false',
    launcher: launcher !== 'false',
    nonce: script.nonce || undefined,
  };
}

function start(): void {
  const win = window as ParleyWindow;
  // The snippet pasted twice (or by a tag manager too): one widget only. An
  // array is the site's queue of calls made before this script ran.
  if (win.Parley && !Array.isArray(win.Parley)) return;
  const early = win.Parley ?? [];
  const script = document.currentScript;
  if (!(script instanceof HTMLScriptElement) || !script.src) {
    console.warn('[parley] not started: load loader.js with a <script> tag.');
    return;
  }
  // The versioned snippet loads /widget/<version>/loader.js; the hashed
  // chunks are served from /widget/v1/, one directory over.
  const base = new URL('../v1/', script.src).href;
  const defaults = readScriptOptions(script);
  const parley = createParley(
    {
      session: (nonce) => importVerified('session', base, nonce),
      dialog: (nonce) => importVerified('dialog', base, nonce),
      screenshot: (nonce) => importVerified('screenshot', base, nonce),
      pow: (nonce) => importVerified('pow', base, nonce),
      captcha: (nonce) => importVerified('captcha', base, nonce),
    },
    defaults,
  );
  win.Parley = parley;
  for (const [method, ...args] of early) {
    if (Object.hasOwn(parley, method)) (parley[method as keyof Parley] as (...args: unknown[]) => void)(...args);
  }
  if (defaults.project && !early.some(([method]) => method === 'init')) parley.init({ project: defaults.project });
}

// A widget bug must never break the host page.
try {
  start();
} catch (error) {
  console.warn('[parley] widget failed to start:', error);
}
