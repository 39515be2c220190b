// @parley/widget for bundlers: the built package resolves through its
// `exports`, its types check in a site's TypeScript, and a bundled site sends
// feedback with it (from its own origin, under a strict CSP).
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWidget } from '../build.mjs';
import { cspViolations, feedbackDialog, skipReason } from '../test/browser.js';
import { storedBodies } from '../test/fake-parley.js';
import { useWidgetPage } from '../test/widget-page.js';

const PACKAGE_JSON = new URL('../package.json', import.meta.url);

const widget = useWidgetPage();
let siteDir = '';

const APP = (apiOrigin: string) => `import { init, on, identify, type FeedbackData, type WidgetOptions } from '@parley/widget';

const options: WidgetOptions = { project: 'pk_test_widget', apiOrigin: '${apiOrigin}' };
on('submit', ({ id, feedback }: { id: string; feedback: FeedbackData }) => {
  (window as unknown as { lastSubmit: unknown }).lastSubmit = { id, message: feedback.message };
});
identify({ id: 'user-7' });
init(options);
`;

/** A site's project with the built package installed in its node_modules. */
beforeAll(async () => {
  siteDir = await mkdtemp(path.join(tmpdir(), 'parley-npm-site-'));
  const installed = path.join(siteDir, 'node_modules/@parley/widget');
  await mkdir(path.join(installed, 'dist/npm'), { recursive: true });
  await writeFile(path.join(installed, 'package.json'), await readFile(PACKAGE_JSON));
  const { files } = await buildWidget({ write: false });
  for (const [file, contents] of files) if (file.startsWith('npm/')) await writeFile(path.join(installed, 'dist', file), contents);
});

afterAll(async () => {
  if (siteDir) await rm(siteDir, { recursive: true, force: true });
});

describe('the npm package', () => {
  it("type-checks in a site's TypeScript through its exports", async () => {
    const entry = path.join(siteDir, 'typed.ts');
    await writeFile(entry, `${APP('https://feedback.example.com')}\n// @ts-expect-error: apiOrigin is a string\ninit({ project: 'x', apiOrigin: 1 });\n`);
    const program = ts.createProgram([entry], { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], strict: true, noEmit: true, types: [] });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  });

  it.skipIf(skipReason !== '')('sends feedback from a bundled site, with no window.Parley', async () => {
    await writeFile(path.join(siteDir, 'app.ts'), APP(widget.fake.origin));
    const bundle = await build({ entryPoints: [path.join(siteDir, 'app.ts')], absWorkingDir: siteDir, bundle: true, format: 'esm', splitting: true, outdir: path.join(siteDir, 'out'), write: false, logLevel: 'silent' });
    const scripts = new Map(bundle.outputFiles.map((file) => [`/${path.basename(file.path)}`, file.contents]));
    expect(scripts.size).toBeGreaterThan(2); // the dialog and screenshot chunks stay lazy in the site's bundle

    const csp = `default-src 'none'; script-src 'self'; connect-src ${widget.fake.origin}; img-src blob: data:`;
    const watched = await widget.visit({ html: '<!doctype html><html lang="en"><title>Bundled</title><h1>Bundled site</h1><script type="module" src="/app.js"></script>', csp, scripts });
    const { launcher, message, send, sent } = feedbackDialog(watched.page);
    await launcher.click();
    await message.fill('From the npm package.');
    await send.click();
    await sent.waitFor();
    expect(storedBodies(widget.fake)[0]).toMatchObject({ message: 'From the npm package.', identity: { id: 'user-7' } });
    expect(await watched.page.evaluate(() => (window as unknown as { lastSubmit: unknown }).lastSubmit)).toEqual({ id: 'fb-1', message: 'From the npm package.' });
    expect(await watched.page.evaluate(() => 'Parley' in window)).toBe(false);
    expect(await cspViolations(watched)).toEqual([]);
  });
});
