import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { compileDomains, isOriginAllowed, normalizeDomains } from './domains.js';

describe('normalizeDomains', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['https://Example.com/', 'https://example.com'],
    ['https://example.com:443', 'https://example.com'],
    ['http://example.com:80', 'http://example.com'],
    ['example.com:8443', 'example.com:8443'],
    ['*.Example.org', '*.example.org'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['localhost', 'localhost'],
    ['http://localhost:5173', 'http://localhost:5173'],
    ['127.0.0.1:8080', '127.0.0.1:8080'],
  ])('%s -> %s', (input, output) => {
    expect(normalizeDomains([input])).toEqual([output]);
  });

  it('collapses Unicode and punycode spellings of one host', () => {
    expect(normalizeDomains(['bücher.example', 'XN--BCHER-KVA.example'])).toEqual(['xn--bcher-kva.example']);
  });

  it.each([
    ['*'],
    ['*.com'],
    ['*.'],
    ['com'],
    ['a.*.example.com'],
    ['example.*'],
    ['ftp://example.com'],
    ['javascript://example.com'],
    ['https://example.com/path'],
    ['https://user@example.com'],
    ['example.com?x=1'],
    ['exa mple.com'],
    ['-bad.example.com'],
    ['example.com:0'],
    ['example.com:70000'],
    ['*.127.0.0.1'],
    ['999.1.1.1'],
    [''],
  ])('refuses %j with domain_invalid', (input) => {
    expect(() => normalizeDomains([input])).toThrow(AppError);
    try {
      normalizeDomains([input]);
    } catch (error) {
      expect((error as AppError).code).toBe('domain_invalid');
    }
  });

  it('refuses more than 50 entries', () => {
    expect(() => normalizeDomains(Array.from({ length: 51 }, (_, i) => `s${i}.example.com`))).toThrow(/at most 50/);
  });
});

describe('isOriginAllowed', () => {
  const rules = compileDomains(normalizeDomains(['example.com', '*.example.org', 'https://secure.example.net', 'example.io:8443', 'localhost:3000', 'bücher.example']));
  it.each([
    ['https://example.com', true],
    ['http://example.com', true],
    ['https://a.example.org', true],
    ['https://a.b.example.org', true],
    ['https://secure.example.net', true],
    ['https://example.io:8443', true],
    ['http://localhost:3000', true],
    ['https://xn--bcher-kva.example', true],
    ['https://example.org', false],
    ['http://secure.example.net', false],
    ['https://example.io', false],
    ['https://example.com:8443', false],
    ['https://evilexample.com', false],
    ['https://example.com.evil.net', false],
    ['https://evil.net', false],
    ['https://aexample.org', false],
    ['http://localhost', false],
    ['http://localhost:3001', false],
    ['null', false],
    ['', false],
    ['https://example.com.', false],
    ['https://EXAMPLE.com', false],
    ['https://example.com/', false],
    ['file://example.com', false],
    ['https://user@example.com', false],
  ])('%s -> %s', (origin, allowed) => {
    expect(isOriginAllowed(origin, rules)).toBe(allowed);
  });
});
