import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../paths.js';

export const WIDGET_DIST = path.join(REPO_ROOT, 'packages/widget/dist');

/** What the widget build wrote (packages/widget/build.mjs): its version, the loader's SRI hash and the hashed chunk names. */
export type WidgetManifest = { version: string; loader: string; integrity: string; files: Record<string, string> };

let manifest: WidgetManifest | null | undefined;

/** The built widget's manifest, read once; null when the widget is not built. */
export function widgetManifest(): WidgetManifest | null {
  if (manifest === undefined) {
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(WIDGET_DIST, 'manifest.json'), 'utf8')) as WidgetManifest;
    } catch {
      manifest = null;
    }
  }
  return manifest;
}

/**
 * The snippet a site pastes. With a built widget it names the versioned,
 * immutable loader with its Subresource Integrity hash, so a changed file on
 * the Parley server cannot run on the customer's site unnoticed.
 */
export function widgetSnippet(publicUrl: URL, key: string): string {
  const built = widgetManifest();
  if (!built) return `<script src="${new URL('/widget/v1/loader.js', publicUrl).href}" data-project="${key}" async></script>`;
  const src = new URL(`/widget/${built.version}/${built.loader}`, publicUrl).href;
  return `<script src="${src}" integrity="${built.integrity}" crossorigin="anonymous" data-project="${key}" async></script>`;
}
