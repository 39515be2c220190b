import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PASSWORD } from '../../../../test/factories.js';
import { AppError } from '../errors.js';
import { checkPasswordPolicy, hashPassword, needsRehash, verifyPassword } from './passwords.js';

const owner = { email: 'Grace.Hopper@navy.example', name: 'Grace Brewster Hopper' };

async function refusal(password: string, who = owner): Promise<{ code: string; detail: string } | null> {
  try {
    await checkPasswordPolicy(password, who);
    return null;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { code: error.code, detail: error.detail };
  }
}

describe('checkPasswordPolicy', () => {
  it('accepts the test suites\' passwords and long passphrases of any characters', async () => {
    expect(await refusal(PASSWORD)).toBeNull();
    expect(await refusal('correct horse battery staple')).toBeNull();
    expect(await refusal('Zürich ñandú 東京 façade')).toBeNull();
  });

  it('counts characters, not UTF-16 units: 12 emoji are enough, 129 are too many', async () => {
    expect(await refusal('🦊🐙🦄🐝🦉🐬🦋🐢🦀🐌🦔🦥')).toBeNull();
    expect((await refusal('🦊'.repeat(11)))?.code).toBe('password_too_short');
    expect((await refusal(`${'🦊🐙🦄🐝🦉🐬🦋🐢'.repeat(16)}x`))?.code).toBe('password_too_long');
  });

  it.each([
    ['11 characters', 'kestrel-min', 'password_too_short'],
    ['129 characters', 'k'.repeat(129), 'password_too_long'],
    ['a common password', 'password1234', 'password_weak'],
    ['a l33t common password', 'P@ssw0rd1234', 'password_weak'],
    ['a repeated pattern', 'abcabcabcabcabc', 'password_weak'],
    ['a keyboard walk', 'qwertyuiopasdf', 'password_weak'],
    ['the e-mail address', 'grace.hopper@navy.example!', 'password_weak'],
    ['the e-mail\'s local part', 'my Grace.Hopper key 1906', 'password_weak'],
    ['a part of the name', 'xylophone BREWSTER 77 lamp', 'password_weak'],
    ['the application\'s name', 'zebra Parley orbit melon', 'password_weak'],
  ])('refuses %s with %s', async (_case, password, code) => {
    expect((await refusal(password))?.code).toBe(code);
  });

  it('says why, in words', async () => {
    expect((await refusal('password1234'))?.detail).toMatch(/common/i);
    expect((await refusal('xylophone BREWSTER 77 lamp'))?.detail).toBe('Do not use your e-mail address or name in your password.');
  });

  it('ignores name parts too short to matter', async () => {
    expect(await refusal('velvet ada ox quarry lantern', { email: 'al@x.example', name: 'Ada Ox' })).toBeNull();
  });

  it('never truncates: a strong password is refused when its tail makes it too long, not silently cut', async () => {
    expect((await refusal(`${'z'.repeat(100)}`))?.code).toBe('password_weak');
    expect((await refusal(`lantern quarry velvet ${'9'.repeat(110)}`))?.code).toBe('password_too_long');
  });

  it('judges a 128-character random password quickly (no CPU sink for whoever sets one)', async () => {
    const random = randomBytes(96).toString('base64');
    const started = performance.now();
    expect(await refusal(random)).toBeNull();
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('needsRehash', () => {
  it('is false for a hash made now and true for weaker or other parameters', async () => {
    const current = await hashPassword(PASSWORD);
    expect(current).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(needsRehash(current)).toBe(false);
    expect(needsRehash(current.replace('t=2', 't=1'))).toBe(true);
    expect(needsRehash(current.replace('m=19456', 'm=4096'))).toBe(true);
    expect(needsRehash(current.replace('argon2id', 'argon2i'))).toBe(true);
    expect(needsRehash('not a hash')).toBe(true);
  });

  it('verifies only the right password, and never a missing hash', async () => {
    const stored = await hashPassword(PASSWORD);
    expect(await verifyPassword(stored, PASSWORD)).toBe(true);
    expect(await verifyPassword(stored, `${PASSWORD} `)).toBe(false);
    expect(await verifyPassword(null, PASSWORD)).toBe(false);
  });
});
