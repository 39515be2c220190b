import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerAccount, project, submit } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** Every file under the cluster's data directory (tables, indexes, WAL) that contains `needle`. */
async function filesContaining(root: string, needle: Buffer): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await fs.readdir(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const bytes = await fs.readFile(file).catch(() => null);
    if (bytes?.includes(needle)) found.push(file);
  }
  return found;
}

describe('encryption at rest', () => {
  it('never writes the plain e-mail of a submitted feedback to the database files', async (context) => {
    const { rows } = await server.db.superuser.query<{ data_directory: string }>('SHOW data_directory');
    const dataDirectory = rows[0]!.data_directory;
    if (!(await fs.access(dataDirectory).then(() => true, () => false))) {
      context.skip(`the database files at ${dataDirectory} are not readable from here`);
    }
    const owner = await ownerAccount(server);
    const p = await project(server, owner.orgId);
    const tag = randomBytes(6).toString('hex');
    const email = `needle-${tag}@example.test`;
    const message = `plain-message-${tag}`;
    expect((await submit(server, p.key, { message, email, metadata: { email }, identity: { id: email, email } })).status).toBe(201);
    await server.db.superuser.query('CHECKPOINT');

    // Control: the unencrypted message is found, so the scan does see the new row.
    expect((await filesContaining(dataDirectory, Buffer.from(message))).length).toBeGreaterThan(0);
    expect(await filesContaining(dataDirectory, Buffer.from(email))).toEqual([]);
    expect(await filesContaining(dataDirectory, Buffer.from(`needle-${tag}`))).toEqual([]);
  });
});
