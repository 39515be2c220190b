import { h, whenBodyReady } from './dom.js';
import css from './host.css';

export type WidgetHost = {
  /** The one element the widget adds to the page; everything else lives in its shadow root. */
  element: HTMLElement;
  shadow: ShadowRoot;
  /** Carries the theme and colours; its children are the launcher, the dialog and the capture overlay. */
  root: HTMLDivElement;
  /** Adds a stylesheet to the shadow root (constructable: a strict CSP blocks <style>). */
  adopt(css: string): void;
  attach(): void;
  remove(): void;
};

export function createHost(): WidgetHost {
  // A custom element name: host-page rules for div, section… never match it,
  // and the :host rule resets whatever else does.
  const element = document.createElement('parley-widget');
  const shadow = element.attachShadow({ mode: 'open' });
  const root = h('div', { class: 'root' });
  shadow.append(root);
  let isRemoved = false;
  const host: WidgetHost = {
    element,
    shadow,
    root,
    adopt(text) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(text);
      shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
    },
    attach: () => whenBodyReady(() => isRemoved || element.isConnected || document.body.append(element)),
    remove() {
      isRemoved = true;
      element.remove();
    },
  };
  host.adopt(css);
  return host;
}
