// Builds the widget into dist/:
// - the proof-of-work worker, a classic script built first so the pow chunk
//   can name it with its SRI hash;
// - the hashed ES-module chunks (dialog, screenshot and what they share),
//   built next so the loader can name them with their SRI hashes;
// - loader.js, the classic script the snippet loads (an IIFE);
// - manifest.json for the server (version, loader SRI hash, served files);
// - npm/, the @parley/widget module for bundlers, with type declarations.
// `node build.mjs` writes it all; tests call buildWidget({ write: false }).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';
import ts from 'typescript';

const packageDir = fileURLToPath(new URL('.', import.meta.url));
const src = path.join(packageDir, 'src');
const dist = path.join(packageDir, 'dist');

/** Lazily loaded chunks by logical name (the loader and the manifest use these names). */
const CHUNK_ENTRIES = { session: 'session.ts', dialog: 'dialog/app.ts', screenshot: 'screenshot/index.ts', pow: 'protection/pow.ts', captcha: 'protection/captcha.ts' };

// Styles are adopted at runtime (a strict CSP blocks inline <style>), so
// .css files are bundled as minified text.
/** @type {import('esbuild').Plugin} */
const cssAsMinifiedText = {
  name: 'css-as-minified-text',
  setup(builder) {
    builder.onLoad({ filter: /\.css$/ }, async ({ path: file }) => {
      const { code } = await transform(await readFile(file, 'utf8'), { loader: 'css', minify: true });
      return { contents: code.trim(), loader: 'text' };
    });
  },
};

/** @type {import('esbuild').BuildOptions} */
const common = { bundle: true, platform: 'browser', target: 'es2020', legalComments: 'none', plugins: [cssAsMinifiedText], write: false, logLevel: 'warning' };

/** @param {Uint8Array} bytes */
const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;

/**
 * An output file's static imports, recursively, dependencies first.
 * @param {string} file
 * @param {Record<string, { imports: { path: string, kind: string }[] }>} outputs
 * @returns {string[]}
 */
function dependenciesFirst(file, outputs, seen = new Set()) {
  if (seen.has(file)) return [];
  seen.add(file);
  const imports = outputs[file]?.imports.filter((entry) => entry.kind === 'import-statement').map((entry) => entry.path) ?? [];
  return [...imports.flatMap((dependency) => dependenciesFirst(dependency, outputs, seen)), file];
}

/**
 * The worker pow.ts starts from a blob: URL: one self-contained classic
 * script (a blob: worker cannot resolve imports against the Parley origin).
 */
async function buildPowWorker() {
  const result = await build({ ...common, entryPoints: { 'pow-worker': path.join(src, 'protection/pow-worker.ts') }, outdir: dist, format: 'iife', minify: true, entryNames: '[name]-[hash]' });
  const [worker] = outputFilesOf(result);
  if (!worker) throw new Error('esbuild wrote no proof-of-work worker');
  return { file: path.relative(dist, worker.path), contents: worker.contents, integrity: sri(worker.contents) };
}

/**
 * Where pow.ts finds its worker: a file and its SRI hash, or the source
 * inline. All three names are always defined (unused ones as undefined), so
 * no global of the page can stand in for them.
 * @param {{ file?: string, integrity?: string, source?: string }} worker
 */
export const powWorkerDefines = ({ file, integrity, source }) => ({
  PARLEY_POW_WORKER_FILE: JSON.stringify(file ?? null),
  PARLEY_POW_WORKER_INTEGRITY: JSON.stringify(integrity ?? null),
  PARLEY_POW_WORKER_SOURCE: JSON.stringify(source ?? null),
});

/** @param {{ file: string, integrity: string }} powWorker */
async function buildChunks(powWorker) {
  const entryPoints = Object.fromEntries(Object.entries(CHUNK_ENTRIES).map(([name, file]) => [name, path.join(src, file)]));
  const result = await build({
    ...common,
    entryPoints,
    outdir: dist,
    format: 'esm',
    splitting: true,
    minify: true,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    metafile: true,
    define: powWorkerDefines({ file: powWorker.file, integrity: powWorker.integrity }),
  });
  /** @param {string} file */
  const relative = (file) => path.relative(dist, path.resolve(file));
  const files = new Map(outputFilesOf(result).map((output) => [relative(output.path), output.contents]));
  const outputs = Object.fromEntries(
    Object.entries(result.metafile.outputs).map(([file, meta]) => [relative(file), { ...meta, imports: meta.imports.map((entry) => ({ ...entry, path: relative(entry.path) })) }]),
  );
  /** @type {Record<string, [string, string][]>} */
  const chunks = {};
  for (const [file, meta] of Object.entries(outputs)) {
    const name = Object.entries(entryPoints).find(([, entry]) => meta.entryPoint && path.resolve(meta.entryPoint) === entry)?.[0];
    if (name) chunks[name] = dependenciesFirst(file, outputs).map((needed) => [needed, sri(/** @type {Uint8Array} */ (files.get(needed)))]);
  }
  return { files, chunks };
}

/** @param {import('esbuild').BuildResult} result */
const outputFilesOf = (result) => result.outputFiles ?? [];

/** @param {Record<string, [string, string][]>} chunks */
async function buildLoader(chunks) {
  const result = await build({
    ...common,
    entryPoints: [path.join(src, 'loader.ts')],
    outfile: path.join(dist, 'loader.js'),
    format: 'iife',
    minify: true,
    define: { PARLEY_CHUNKS: JSON.stringify(chunks) },
  });
  const [loader] = outputFilesOf(result);
  if (!loader) throw new Error('esbuild wrote no loader');
  return loader.contents;
}

/** @param {Uint8Array} powWorker the worker's code, inlined: the site's bundler serves the module, there is no Parley file to fetch */
async function buildNpm(powWorker) {
  const result = await build({
    ...common,
    entryPoints: { index: path.join(src, 'npm.ts') },
    outdir: path.join(dist, 'npm'),
    format: 'esm',
    splitting: true,
    chunkNames: '[name]-[hash]',
    define: powWorkerDefines({ source: new TextDecoder().decode(powWorker) }),
  });
  const files = new Map(outputFilesOf(result).map((output) => [path.relative(dist, output.path), output.contents]));
  // Declarations from the two files the module's types come from (no type
  // checking needed here: tsc -p checks the whole package).
  /** @type {[string, string][]} */
  const declarations = [
    ['npm.ts', 'npm/index.d.ts'],
    ['public-types.ts', 'npm/public-types.d.ts'],
  ];
  for (const [from, to] of declarations) {
    const { outputText } = ts.transpileDeclaration(await readFile(path.join(src, from), 'utf8'), { fileName: from, compilerOptions: { module: ts.ModuleKind.ESNext } });
    files.set(to, new TextEncoder().encode(outputText));
  }
  return files;
}

/**
 * @param {{ write?: boolean }} [options] write: false builds in memory only.
 * @returns {Promise<{ files: Map<string, Uint8Array>, manifest: { version: string, loader: string, integrity: string, files: Record<string, string> }, chunks: Record<string, [string, string][]>, powWorker: { file: string, integrity: string } }>}
 *   every file by its path under dist/, the manifest, each lazily loaded chunk's files (dependencies first) with their SRI hashes,
 *   and the proof-of-work worker's file with its SRI hash
 */
export async function buildWidget({ write = true } = {}) {
  const { version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8'));
  const powWorker = await buildPowWorker();
  const { files, chunks } = await buildChunks(powWorker);
  const loader = await buildLoader(chunks);
  files.set(powWorker.file, powWorker.contents);
  const served = Object.fromEntries([...files.keys()].map((file) => [Object.entries(chunks).find(([, list]) => list.at(-1)?.[0] === file)?.[0] ?? (file === powWorker.file ? 'pow-worker' : file), file]));
  const manifest = { version, loader: 'loader.js', integrity: sri(loader), files: served };
  files.set('loader.js', loader);
  files.set('manifest.json', new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  for (const [file, contents] of await buildNpm(powWorker.contents)) files.set(file, contents);
  if (write) {
    // Old hashed files would otherwise pile up (and be listed by nothing).
    await rm(dist, { recursive: true, force: true });
    for (const [file, contents] of files) {
      await mkdir(path.dirname(path.join(dist, file)), { recursive: true });
      await writeFile(path.join(dist, file), contents);
    }
  }
  return { files, manifest, chunks, powWorker: { file: powWorker.file, integrity: powWorker.integrity } };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWidget();
