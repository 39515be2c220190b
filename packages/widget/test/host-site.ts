// The site that embeds the widget: another origin than the fake Parley
// server, serving whatever page a test sets.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROJECT_KEY, type FakeParley } from './fake-parley.js';

/** The strictest policy a site can send and still use the widget (docs/widget.md). */
export const strictCsp = (parley: string) => `default-src 'none'; script-src ${parley}; connect-src ${parley}; img-src ${parley} data: blob:; style-src ${parley}`;

/** Rules a careless or hostile site might have: they must not reach into the widget. */
export const HOSTILE_CSS = `* { all: unset !important; } div { display: none !important; } button { background: red !important; color: red !important; }
body { font: 30px/3 monospace; color: #0f0; } parley-widget { display: none !important; transform: scale(0.1); opacity: 0.1 !important; }`;

/** What the site serves: the page for every path, its stylesheet, and its own scripts by path. */
export type Page = { html: string; csp: string | null; css: string; scripts?: Map<string, Uint8Array> };
export type HostSite = { origin: string; page: Page; close(): Promise<void> };

/** The widget's snippet: the script tag a site pastes, with optional data-* options. */
export function snippet(parley: FakeParley, attributes: Record<string, string> = {}, src = `${parley.origin}/widget/v1/loader.js`): string {
  const extra = Object.entries(attributes)
    .map(([name, value]) => ` ${name}="${value}"`)
    .join('');
  return `<script src="${src}" data-project="${PROJECT_KEY}"${extra} async></script>`;
}

export function hostPage({ body = '', lang = 'en', stylesheet = false, title = 'Host shop' } = {}): string {
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>${title}</title>${stylesheet ? '<link rel="stylesheet" href="/site.css">' : ''}</head>
<body><h1>${title}</h1><p>Checkout: 2 items, 48.00 EUR.</p><input aria-label="Coupon" value="SECRET-COUPON">
${body}
</body></html>`;
}

export async function startHostSite(): Promise<HostSite> {
  const site: HostSite = {
    origin: '',
    page: { html: hostPage(), csp: null, css: '' },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://site').pathname;
    const script = site.page.scripts?.get(path);
    if (script) {
      response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(script);
    } else if (path === '/site.css') {
      response.writeHead(200, { 'Content-Type': 'text/css; charset=utf-8' }).end(site.page.css);
    } else if (path === '/favicon.ico') {
      response.writeHead(404).end();
    } else {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', ...(site.page.csp ? { 'Content-Security-Policy': site.page.csp } : {}) }).end(site.page.html);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  site.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.closeIdleConnections();
  return site;
}
