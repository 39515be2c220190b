// The widget's size budget (min+gzip, as the browser downloads it), checked
// on the built files like Sentry's size-limit: the loader every page pays
// for, everything needed to send a text feedback, and the screenshot step.
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildWidget } from '../build.mjs';

const KB = 1024;
let built: Awaited<ReturnType<typeof buildWidget>>;

const gzipped = (file: string) => gzipSync(built.files.get(file)!, { level: 9 }).length;
/** A lazily loaded chunk's files: itself and the shared files it imports. */
const chunkFiles = (name: string) => built.chunks[name]!.map(([file]) => file);

beforeAll(async () => {
  built = await buildWidget({ write: false });
});

describe('size budget', () => {
  it('loader.js (every page): at most 3 KB', () => {
    expect(gzipped('loader.js')).toBeLessThanOrEqual(3 * KB);
  });

  it('everything to send a text feedback (loader, session, dialog and what they share): at most 20 KB', () => {
    const files = new Set(['loader.js', ...chunkFiles('session'), ...chunkFiles('dialog')]);
    expect([...files].reduce((sum, file) => sum + gzipped(file), 0)).toBeLessThanOrEqual(20 * KB);
  });

  it('the screenshot and annotation chunk: at most 12 KB', () => {
    expect(chunkFiles('screenshot').reduce((sum, file) => sum + gzipped(file), 0)).toBeLessThanOrEqual(12 * KB);
  });

  it('the proof-of-work chunk and its worker (projects using proof of work): at most 2.5 KB', () => {
    const files = [...chunkFiles('pow'), built.manifest.files['pow-worker']!];
    expect(files.reduce((sum, file) => sum + gzipped(file), 0)).toBeLessThanOrEqual(2.5 * KB);
  });

  it('ships no eval, no markup parsing and no source maps', () => {
    for (const [file, contents] of built.files) {
      if (!file.endsWith('.js')) continue;
      const source = new TextDecoder().decode(contents);
      expect(source, file).not.toMatch(/\beval\(|new Function|innerHTML|outerHTML|insertAdjacentHTML|document\.write|sourceMappingURL/);
    }
  });

  it('writes a manifest with the loader SRI hash and every served file', async () => {
    const { createHash } = await import('node:crypto');
    expect(built.manifest.integrity).toBe(`sha384-${createHash('sha384').update(built.files.get('loader.js')!).digest('base64')}`);
    const served = Object.values(built.manifest.files);
    expect(served.sort()).toEqual([...built.files.keys()].filter((file) => /^[\w-]+\.js$/.test(file) && file !== 'loader.js').sort());
    for (const file of served) expect(file).toMatch(/^[A-Za-z0-9_.-]+-[A-Z0-9]{8}\.js$/);
  });
});
