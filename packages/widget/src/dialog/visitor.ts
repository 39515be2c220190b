import type { Identity, Metadata } from '../public-types.js';

type Report = (code: string, message: string) => void;
export type CleanMetadata = Record<string, string | number | boolean>;

// The server's limits (contract), applied before sending: a bad value is left
// out and reported, and never gets a whole feedback refused.
const METADATA_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const UNSAFE_KEYS = ['__proto__', 'constructor', 'prototype'];
const MAX_METADATA_KEYS = 20;
const SIGNATURE = /^[0-9a-f]{64}$/;
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const isText = (value: unknown, max: number): value is string => typeof value === 'string' && value.length <= max;

function isMetadataValue(value: unknown): value is string | number | boolean {
  return isText(value, 500) || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** The metadata the server accepts (nulls dropped); reports what was left out. */
export function cleanMetadata(metadata: Metadata, report: Report): CleanMetadata {
  const clean: CleanMetadata = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (value === null) continue;
    if (!METADATA_KEY.test(key) || UNSAFE_KEYS.includes(key) || !isMetadataValue(value)) {
      report('invalid_metadata', `Metadata "${key.slice(0, 64)}" was left out: keys are 1-64 letters, digits or _ . -; values strings up to 500 characters, numbers or booleans.`);
    } else if (Object.keys(clean).length < MAX_METADATA_KEYS) {
      clean[key] = value;
    } else {
      report('invalid_metadata', `Metadata "${key}" was left out: at most ${MAX_METADATA_KEYS} keys.`);
    }
  }
  return clean;
}

/** The identity if the server would accept its shape; otherwise reports why and returns null. */
export function checkIdentity(identity: Identity | null, report: Report): Identity | null {
  if (!identity) return null;
  const { id, email, name, signature, token } = identity;
  const isValid =
    isText(id, 200) &&
    id !== '' &&
    (email === undefined || (isText(email, 254) && EMAIL.test(email))) &&
    (name === undefined || isText(name, 200)) &&
    (signature === undefined || (typeof signature === 'string' && SIGNATURE.test(signature))) &&
    // Its format and expiry are the server's to judge (submission_token_*), with a detail that says what is wrong.
    (token === undefined || (isText(token, 200) && token !== ''));
  if (isValid) return { id, ...(email ? { email } : {}), ...(name ? { name } : {}), ...(signature ? { signature } : {}), ...(token ? { token } : {}) };
  report(
    'invalid_identity',
    'identify() needs an id (1-200 characters); email must be an e-mail address, name at most 200 characters, signature 64 lowercase hex digits, token 1-200 characters. The feedback was sent without it.',
  );
  return null;
}
