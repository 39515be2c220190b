// Summarises a V8 .cpuprofile (from node --cpu-prof) as self time per
// package and per function, so "where does the time go" fits in a terminal.
// Usage: node bench/profile-summary.mjs FILE.cpuprofile [top]
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Which package a frame belongs to: an npm package, Node itself, Parley, or V8's pseudo-frames. */
function packageOf(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native/V8 builtins)';
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node core';
  if (url.includes('/apps/server/')) return 'parley server';
  return url;
}

export function summarizeProfile(file, top = 15) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map();
  // timeDeltas[i] is the time before sample i; attribute it to that sample's frame.
  profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const total = [...selfMs.values()].reduce((a, b) => a + b, 0);

  const byPackage = new Map();
  const byFunction = new Map();
  for (const [id, ms] of selfMs) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const fn = `${functionName || '(anonymous)'}  ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/apps\//, 'apps/')}:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  const rows = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => `  ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  return `CPU profile ${file} (${(total / 1000).toFixed(1)} s sampled)\nself time by package:\n${rows(byPackage)}\nself time by function:\n${rows(byFunction)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv[2]) {
    process.stderr.write('usage: node bench/profile-summary.mjs FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${summarizeProfile(process.argv[2], Number(process.argv[3] ?? 15))}\n`);
}
