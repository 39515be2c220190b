import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

// Envelope encryption (SECURITY.md "encryption at rest"): a master key wraps
// one data key per organization; personal fields are sealed with AES-256-GCM
// under the data key, a fresh 96-bit nonce each time, and the row's identity
// as associated data, so a ciphertext copied to another row, column or tenant
// fails to open.
//
// Sealed field:  0x01 | key version (uint32 BE) | nonce (12) | ciphertext | tag (16)
// Wrapped key:   0x01 | master key id (8)       | nonce (12) | ciphertext | tag (16)

const FORMAT = 0x01;
const NONCE = 12;
const TAG = 16;

export class DecryptionError extends Error {}

// Nonces come from a pool refilled from the CSPRNG, as Node does for
// randomUUID: one getrandom call per 341 nonces instead of one each (it was
// 13% of ingestion CPU). Every nonce is still fresh random bytes, never reused.
const POOL_NONCES = 341;
let pool = Buffer.alloc(0);
let offset = 0;

function nextNonce(): Buffer {
  if (offset + NONCE > pool.length) {
    pool = randomBytes(NONCE * POOL_NONCES);
    offset = 0;
  }
  const nonce = pool.subarray(offset, offset + NONCE);
  offset += NONCE;
  return nonce;
}

function seal(key: Buffer, plaintext: Buffer, aad: string, header: Buffer): Buffer {
  const nonce = nextNonce();
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.concat([header, Buffer.from(aad, 'utf8')]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, nonce, body, cipher.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer, aad: string, headerLength: number): Buffer {
  if (sealed.length < headerLength + NONCE + TAG || sealed[0] !== FORMAT) throw new DecryptionError('ciphertext is malformed');
  const header = sealed.subarray(0, headerLength);
  const nonce = sealed.subarray(headerLength, headerLength + NONCE);
  const body = sealed.subarray(headerLength + NONCE, sealed.length - TAG);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(Buffer.concat([header, Buffer.from(aad, 'utf8')]));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new DecryptionError('ciphertext failed authentication');
  }
}

/** Identifies a master key without revealing it; stored with each wrapped key. */
export function masterKeyId(masterKey: Buffer): Buffer {
  return createHash('sha256').update('parley:master-key-id').update(masterKey).digest().subarray(0, 8);
}

export function wrapDataKey(masterKey: Buffer, dataKey: Buffer, orgId: string, version: number): Buffer {
  return seal(masterKey, dataKey, `parley:data-key:${orgId}:${version}`, Buffer.concat([Buffer.of(FORMAT), masterKeyId(masterKey)]));
}

export function unwrapDataKey(masterKey: Buffer, wrapped: Buffer, orgId: string, version: number): Buffer {
  if (!wrapped.subarray(1, 9).equals(masterKeyId(masterKey))) {
    throw new DecryptionError(`data key of organization ${orgId} is wrapped by another master key`);
  }
  return open(masterKey, wrapped, `parley:data-key:${orgId}:${version}`, 9);
}

export type DataKey = { version: number; key: Buffer };

/** Where a sealed value lives; bound into the ciphertext so it cannot be moved. */
export type FieldContext = { orgId: string; table: string; column: string; rowId: string };

const fieldAad = (c: FieldContext) => `parley:field:${c.orgId}:${c.table}.${c.column}:${c.rowId}`;

export function sealField(dataKey: DataKey, plaintext: string | Buffer, context: FieldContext): Buffer {
  const header = Buffer.alloc(5);
  header[0] = FORMAT;
  header.writeUInt32BE(dataKey.version, 1);
  return seal(dataKey.key, typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext, fieldAad(context), header);
}

export function fieldKeyVersion(sealed: Buffer): number {
  if (sealed.length < 5 || sealed[0] !== FORMAT) throw new DecryptionError('ciphertext is malformed');
  return sealed.readUInt32BE(1);
}

export function openFieldBytes(dataKey: DataKey, sealed: Buffer, context: FieldContext): Buffer {
  return open(dataKey.key, sealed, fieldAad(context), 5);
}

export function openField(dataKey: DataKey, sealed: Buffer, context: FieldContext): string {
  return openFieldBytes(dataKey, sealed, context).toString('utf8');
}

/**
 * Key of a keyed blind index for equality lookups (find feedback by e-mail)
 * without storing the value: derived per organization and purpose from the
 * master key, so equal e-mails in two organizations do not match.
 */
export function blindIndexKey(masterKey: Buffer, orgId: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, orgId, `parley:blind-index:${purpose}`, 32));
}

export function blindIndex(indexKey: Buffer, value: string): Buffer {
  return createHmac('sha256', indexKey).update(value).digest();
}

/**
 * A key for values that belong to no organization (a user's TOTP secret, a
 * queued e-mail), derived from the master key per purpose. Version 0 marks
 * it in the ciphertext; rotating the master key re-seals these values.
 */
export function systemKey(masterKey: Buffer, purpose: string): DataKey {
  return { version: 0, key: Buffer.from(hkdfSync('sha256', masterKey, '', `parley:system:${purpose}`, 32)) };
}

export function newDataKey(): Buffer {
  return randomBytes(32);
}
