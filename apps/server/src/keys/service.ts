import { createHmac } from 'node:crypto';
import type pg from 'pg';
import { withTenant, type Tx } from '../db/tenant.js';
import { blindIndex, blindIndexKey, fieldKeyVersion, newDataKey, openField, openFieldBytes, sealField, systemKey, unwrapDataKey, wrapDataKey, type DataKey, type FieldContext } from '../security/crypto.js';

/** Where a value of no organization lives: its table, column and row. */
export type SystemField = { table: string; column: string; rowId: string };

/**
 * Per-organization data keys. Unwrapped keys are cached in memory for the
 * life of the process: ingestion must not pay a database round trip to
 * encrypt, and keys never change once written (rotation adds a version).
 */
export class Keyring {
  private readonly current = new Map<string, DataKey>();
  private readonly versions = new Map<string, Buffer>();
  private readonly indexKeys = new Map<string, Buffer>();
  private readonly systemKeys = new Map<string, DataKey>();

  constructor(readonly masterKey: Buffer) {}

  async createOrganizationKey(tx: Tx, orgId: string, now: Date): Promise<void> {
    const key = newDataKey();
    await tx.query('INSERT INTO org_keys (org_id, version, wrapped, created_at) VALUES ($1, 1, $2, $3)', [orgId, wrapDataKey(this.masterKey, key, orgId, 1), now]);
    this.remember(orgId, { version: 1, key });
  }

  /** The key new values are sealed with. `tx` must be scoped to `orgId`. */
  async currentKey(tx: Tx, orgId: string): Promise<DataKey> {
    const cached = this.current.get(orgId);
    if (cached) return cached;
    const { rows } = await tx.query<{ version: number; wrapped: Buffer }>('SELECT version, wrapped FROM org_keys WHERE org_id = $1 ORDER BY version DESC LIMIT 1', [orgId]);
    if (!rows[0]) throw new Error(`organization ${orgId} has no data key`);
    const key = { version: rows[0].version, key: unwrapDataKey(this.masterKey, rows[0].wrapped, orgId, rows[0].version) };
    this.remember(orgId, key);
    return key;
  }

  /** `currentKey` from the cache, or from the database in a scope of its own. */
  async currentKeyFor(pool: pg.Pool, orgId: string): Promise<DataKey> {
    return this.current.get(orgId) ?? withTenant(pool, orgId, (tx) => this.currentKey(tx, orgId));
  }

  /** A key by version, for opening values sealed before a rotation. */
  async keyVersion(tx: Tx, orgId: string, version: number): Promise<DataKey> {
    const cached = this.versions.get(`${orgId}:${version}`);
    if (cached) return { version, key: cached };
    const { rows } = await tx.query<{ wrapped: Buffer }>('SELECT wrapped FROM org_keys WHERE org_id = $1 AND version = $2', [orgId, version]);
    if (!rows[0]) throw new Error(`organization ${orgId} has no data key version ${version}`);
    const key = unwrapDataKey(this.masterKey, rows[0].wrapped, orgId, version);
    this.versions.set(`${orgId}:${version}`, key);
    return { version, key };
  }

  /** Seals a value under the organization's current key. `tx` must be scoped to the organization. */
  async seal(tx: Tx, value: string | Buffer, where: FieldContext): Promise<Buffer> {
    return sealField(await this.currentKey(tx, where.orgId), value, where);
  }

  /** Opens sealed bytes with whichever key version sealed them. `tx` must be scoped to the organization. */
  async openBytes(tx: Tx, sealed: Buffer, where: FieldContext): Promise<Buffer> {
    return openFieldBytes(await this.keyVersion(tx, where.orgId, fieldKeyVersion(sealed)), sealed, where);
  }

  /** Opens a sealed text. */
  async open(tx: Tx, sealed: Buffer, where: FieldContext): Promise<string> {
    return (await this.openBytes(tx, sealed, where)).toString('utf8');
  }

  /** The organization's blind index of a value, e.g. a normalized e-mail. */
  blindIndex(orgId: string, purpose: string, value: string): Buffer {
    const id = `${orgId}:${purpose}`;
    let key = this.indexKeys.get(id);
    if (!key) {
      key = blindIndexKey(this.masterKey, orgId, purpose);
      this.indexKeys.set(id, key);
    }
    return blindIndex(key, value);
  }

  /** Seals a value that belongs to no organization (see systemKey). */
  sealSystem(value: string, where: SystemField): Buffer {
    return sealField(this.systemKey(where.table), value, { orgId: 'system', ...where });
  }

  /**
   * A keyed hash (HMAC-SHA-256) of a secret the server only needs to
   * recognise, such as an API key: a copy of the database without the master
   * key cannot even test guesses against it.
   */
  secretHash(purpose: string, secret: string): Buffer {
    return createHmac('sha256', this.systemKey(`hash:${purpose}`).key).update(secret, 'utf8').digest();
  }

  openSystem(sealed: Buffer, where: SystemField): string {
    return openField(this.systemKey(where.table), sealed, { orgId: 'system', ...where });
  }

  private systemKey(purpose: string): DataKey {
    let key = this.systemKeys.get(purpose);
    if (!key) {
      key = systemKey(this.masterKey, purpose);
      this.systemKeys.set(purpose, key);
    }
    return key;
  }

  private remember(orgId: string, key: DataKey): void {
    this.current.set(orgId, key);
    this.versions.set(`${orgId}:${key.version}`, key.key);
  }
}
