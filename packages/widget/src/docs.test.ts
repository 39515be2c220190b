// docs/widget.md is what site owners paste into privacy pages and configure
// from: it must name every text key, storage key and data-* attribute.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { en } from './dialog/messages.js';
import { SCREENSHOT_STRINGS } from './screenshot/strings.js';
import { STORE_NAMES } from './storage.js';

const docs = readFileSync(new URL('../../../docs/widget.md', import.meta.url), 'utf8');
const loader = readFileSync(new URL('./loader.ts', import.meta.url), 'utf8');

describe('docs/widget.md', () => {
  it('lists every text a site owner can replace', () => {
    for (const key of ['launcher', ...Object.keys(en), ...Object.keys(SCREENSHOT_STRINGS)]) expect(docs, key).toContain(`| \`${key}\` |`);
  });

  it('lists every localStorage key the widget writes', () => {
    for (const name of STORE_NAMES) expect(docs, name).toContain(`| \`parley:<project>:${name}\` |`);
  });

  it('lists every data-* attribute the loader reads', () => {
    const destructured = /const \{ ([\w, ]+) \} = script\.dataset/.exec(loader)![1]!.split(', ');
    for (const name of destructured) expect(docs, name).toContain(`data-${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`);
  });
});
