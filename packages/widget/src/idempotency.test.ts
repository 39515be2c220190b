import { webcrypto } from 'node:crypto';
import { afterEach, expect, it, vi } from 'vitest';
import { createIdempotencyKey } from './idempotency.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

afterEach(() => {
  vi.unstubAllGlobals();
});

it('makes distinct RFC 9562 version-4 keys where randomUUID is missing (plain-http host pages)', () => {
  vi.stubGlobal('crypto', { getRandomValues: webcrypto.getRandomValues.bind(webcrypto) });
  const keys = Array.from({ length: 200 }, () => createIdempotencyKey());
  for (const key of keys) expect(key).toMatch(UUID_V4);
  expect(new Set(keys).size).toBe(keys.length);
});
