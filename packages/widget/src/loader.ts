import { mountWidget, type Widget } from './widget.js';

type ParleyApi = { open(): void; close(): void };
type ParleyWindow = Window & { Parley?: ParleyApi };

const SNIPPET_SELECTOR = 'script[data-project][src*="/widget/v1/loader.js"]';

// A widget bug must never break the host page: report it and stay quiet.
function runSafely(task: () => void): void {
  try {
    task();
  } catch (error) {
    console.warn('[parley] widget failed to start:', error);
  }
}

function findOwnScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) return current;
  return document.querySelector<HTMLScriptElement>(SNIPPET_SELECTOR);
}

function whenBodyReady(task: () => void): void {
  if (document.body) task();
  else document.addEventListener('DOMContentLoaded', task, { once: true });
}

function init(): void {
  const win = window as ParleyWindow;
  // The snippet may be pasted twice (or by a tag manager too): one widget only.
  if (win.Parley) return;
  const script = findOwnScript();
  const projectKey = script?.dataset.project;
  if (!script || !projectKey) {
    console.warn('[parley] missing data-project on the widget <script> tag; widget not started.');
    return;
  }
  const apiOrigin = new URL(script.src).origin;
  let widget: Widget | undefined;
  win.Parley = Object.freeze({ open: () => widget?.open(), close: () => widget?.close() });
  whenBodyReady(() => runSafely(() => (widget = mountWidget({ projectKey, apiOrigin }))));
}

runSafely(init);
