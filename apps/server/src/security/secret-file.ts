import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Reads a generated secret, creating it (mode 0600, never overwritten) on
 * first use. `wx` makes creation atomic, so two instances starting together
 * cannot write two different secrets.
 */
export async function readOrCreateSecretFile(file: string, generate: () => string): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    await fs.writeFile(file, `${generate()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return (await fs.readFile(file, 'utf8')).trim();
}
