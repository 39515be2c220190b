import { h } from './dom.js';

// Written by build.mjs: for each lazily loaded chunk, the files it needs
// (dependencies first, itself last) with their Subresource Integrity hashes.
declare const PARLEY_CHUNKS: Record<string, [file: string, integrity: string][]>;

function preload(href: string, integrity: string, nonce: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const link = h('link', { rel: 'modulepreload', href, integrity, crossorigin: 'anonymous', nonce });
    link.onload = () => {
      link.remove();
      resolve();
    };
    link.onerror = () => {
      link.remove();
      reject(new Error(`${href} failed its integrity check or did not load`));
    };
    document.head.append(link);
  });
}

/**
 * import() has no integrity option, so each file is first fetched through a
 * <link rel=modulepreload integrity=…>: the browser refuses a file whose hash
 * differs, and import() then takes the verified modules from the module map
 * without fetching again. The SRI hash in the site's snippet pins the loader;
 * the loader pins these hashes, so no file can be swapped on the server.
 */
export async function importVerified<T>(name: string, base: string, nonce: string | undefined): Promise<T> {
  const files = PARLEY_CHUNKS[name];
  if (!files?.length) throw new Error(`the widget was built without its ${name} chunk`);
  const urls = files.map(([file]) => new URL(file, base).href);
  await Promise.all(files.map(([, integrity], index) => preload(urls[index]!, integrity, nonce)));
  return import(urls[urls.length - 1]!) as Promise<T>;
}
