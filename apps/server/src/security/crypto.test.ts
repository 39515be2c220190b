import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blindIndex, blindIndexKey, DecryptionError, openField, sealField, unwrapDataKey, wrapDataKey, type FieldContext } from './crypto.js';

const master = randomBytes(32);
const dataKey = { version: 1, key: randomBytes(32) };
const where: FieldContext = { orgId: 'org-a', table: 'feedback', column: 'email', rowId: 'row-1' };

describe('field encryption', () => {
  it('never repeats a nonce, across pool refills too', () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 2000; i++) nonces.add(sealField(dataKey, 'x', where).subarray(5, 17).toString('hex'));
    expect(nonces.size).toBe(2000);
  });

  it('round-trips and never repeats a ciphertext', () => {
    const a = sealField(dataKey, 'visitor@example.test', where);
    const b = sealField(dataKey, 'visitor@example.test', where);
    expect(a.equals(b)).toBe(false);
    expect(openField(dataKey, a, where)).toBe('visitor@example.test');
    expect(a.includes(Buffer.from('visitor'))).toBe(false);
  });

  it('fails loudly on any flipped bit', () => {
    const sealed = sealField(dataKey, 'secret', where);
    for (let bit = 0; bit < sealed.length * 8; bit += 7) {
      const tampered = Buffer.from(sealed);
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => openField(dataKey, tampered, where)).toThrow(DecryptionError);
    }
  });

  it.each([
    ['row', { ...where, rowId: 'row-2' }],
    ['column', { ...where, column: 'ip' }],
    ['organization', { ...where, orgId: 'org-b' }],
  ])('refuses a ciphertext moved to another %s', (_what, elsewhere) => {
    expect(() => openField(dataKey, sealField(dataKey, 'secret', where), elsewhere)).toThrow(DecryptionError);
  });

  it('refuses the wrong key', () => {
    expect(() => openField({ version: 1, key: randomBytes(32) }, sealField(dataKey, 'secret', where), where)).toThrow(DecryptionError);
  });
});

describe('data key wrapping', () => {
  it('round-trips, binds the organization and version, and detects a flipped bit', () => {
    const wrapped = wrapDataKey(master, dataKey.key, 'org-a', 1);
    expect(unwrapDataKey(master, wrapped, 'org-a', 1).equals(dataKey.key)).toBe(true);
    expect(() => unwrapDataKey(master, wrapped, 'org-b', 1)).toThrow(DecryptionError);
    expect(() => unwrapDataKey(master, wrapped, 'org-a', 2)).toThrow(DecryptionError);
    const flipped = Buffer.from(wrapped);
    flipped[flipped.length - 20]! ^= 0x01;
    expect(() => unwrapDataKey(master, flipped, 'org-a', 1)).toThrow(DecryptionError);
  });

  it('names a wrong master key instead of failing obscurely', () => {
    expect(() => unwrapDataKey(randomBytes(32), wrapDataKey(master, dataKey.key, 'org-a', 1), 'org-a', 1)).toThrow(/another master key/);
  });
});

describe('blind index', () => {
  it('is stable within an organization and differs across organizations', () => {
    const index = (orgId: string, value: string) => blindIndex(blindIndexKey(master, orgId, 'email'), value);
    expect(index('org-a', 'x@y.test').equals(index('org-a', 'x@y.test'))).toBe(true);
    expect(index('org-a', 'x@y.test').equals(index('org-b', 'x@y.test'))).toBe(false);
    expect(index('org-a', 'x@y.test').equals(index('org-a', 'z@y.test'))).toBe(false);
  });
});
