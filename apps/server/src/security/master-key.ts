import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Config } from '../config.js';
import { readOrCreateSecretFile } from './secret-file.js';

/**
 * The master key comes from PARLEY_MASTER_KEY, else from the key file, which
 * is generated on first start. Losing it makes every encrypted field unreadable,
 * so the operator is told where it is and to back it up apart from the data.
 */
export async function loadMasterKey(config: Config, log: (message: string) => void): Promise<Buffer> {
  if (config.masterKey) return config.masterKey;
  const existed = await fs.stat(config.masterKeyFile).then(() => true, () => false);
  const text = await readOrCreateSecretFile(config.masterKeyFile, () => randomBytes(32).toString('base64'));
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`${config.masterKeyFile} does not hold a 32-byte base64 key`);
  if (!existed) {
    log(`generated a new master key in ${config.masterKeyFile} (mode 0600). Back it up now and keep the copy apart from the data and its backups: without it encrypted feedback cannot be read; with it, a stolen database copy can.`);
  }
  return key;
}
