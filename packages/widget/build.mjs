// Builds dist/loader.js: one minified IIFE, no runtime dependencies.
// `node build.mjs` writes it; tests import buildWidget() and serve the result.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const packageDir = fileURLToPath(new URL('.', import.meta.url));

// The stylesheet is adopted at runtime (a strict CSP blocks inline <style>),
// so .css files are bundled as minified text.
/** @type {import('esbuild').Plugin} */
const cssAsMinifiedText = {
  name: 'css-as-minified-text',
  setup(builder) {
    builder.onLoad({ filter: /\.css$/ }, async ({ path }) => {
      const { code } = await transform(await readFile(path, 'utf8'), { loader: 'css', minify: true });
      return { contents: code.trim(), loader: 'text' };
    });
  },
};

/**
 * @param {{ write?: boolean }} [options] write: false builds in memory only.
 * @returns {Promise<string>} the bundled JavaScript
 */
export async function buildWidget({ write = true } = {}) {
  const result = await build({
    entryPoints: [`${packageDir}src/loader.ts`],
    outfile: `${packageDir}dist/loader.js`,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    plugins: [cssAsMinifiedText],
    write: false,
    logLevel: 'warning',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error('esbuild produced no output');
  if (write) {
    await mkdir(`${packageDir}dist`, { recursive: true });
    await writeFile(output.path, output.contents);
  }
  return output.text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWidget();
