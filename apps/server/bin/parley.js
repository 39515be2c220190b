#!/usr/bin/env node
// The `parley` command: runs the built server (npm run build, or npm start, builds it).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('parley: not built yet. Run `npm run build` (or `npm start`) in the Parley folder first.\n');
  process.exit(1);
}
await import(main.href);
