import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

// API keys look like GitHub's tokens: a fixed prefix secret scanners can
// search for (`prl_`), 32 random base62 characters (190 bits) and a 6-character
// CRC32 checksum of them, so a scanner (and Parley) can tell a real key from
// a string that merely starts with `prl_` without asking the database.

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 32;
const CHECKSUM_CHARS = 6;

/** Any well-formed key, anywhere in a string (for refusing keys in URLs and masking them in logs). */
export const API_KEY_IN_TEXT = /prl_[0-9A-Za-z]{38}/;

const API_KEY = /^prl_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;

function base62(value: number, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) {
    text = BASE62[value % 62] + text;
    value = Math.floor(value / 62);
  }
  return text;
}

function checksum(random: string): string {
  return base62(crc32(random), CHECKSUM_CHARS);
}

/** A new key, and the part of it shown in lists (never enough to use it). */
export function newApiKey(): { token: string; prefix: string } {
  // 248 is the largest multiple of 62 below 256: rejecting the rest keeps every character equally likely.
  let random = '';
  while (random.length < RANDOM_CHARS) {
    for (const byte of randomBytes(RANDOM_CHARS)) {
      if (byte < 248 && random.length < RANDOM_CHARS) random += BASE62[byte % 62];
    }
  }
  const token = `prl_${random}${checksum(random)}`;
  return { token, prefix: apiKeyPrefix(token) };
}

export function apiKeyPrefix(token: string): string {
  return token.slice(0, 12);
}

/** The shape and checksum are right (says nothing about whether the key exists). */
export function isWellFormedApiKey(token: string): boolean {
  const match = API_KEY.exec(token);
  return match !== null && checksum(match[1]!) === match[2];
}
