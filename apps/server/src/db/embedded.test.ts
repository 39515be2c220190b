import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe } from '../../../../test/cli.js';
import { isAlive, startEmbeddedPostgres } from './embedded.js';

// Process lifecycle of the embedded PostgreSQL. These tests start their own
// clusters, so they run once, with the embedded suite.
const external = process.env.PARLEY_TEST_DB !== 'embedded';

let dataDir: string;
beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'parley-embedded-'));
  // As root, Postgres runs as the postgres user, which must pass through here.
  await fs.chmod(dataDir, 0o711);
});
afterAll(() => fs.rm(dataDir, { recursive: true, force: true }));

async function waitFor(check: () => boolean | Promise<boolean>, what: string, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const postmasterPid = async (dir: string) => Number((await fs.readFile(path.join(dir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);

describe.skipIf(external)('embedded PostgreSQL', () => {
  it('listens on loopback only, keeps its password in a 0600 file, and has no unix socket', async () => {
    const dir = path.join(dataDir, 'settings');
    const server = await startEmbeddedPostgres({ dataDir: dir, log: () => {} });
    const client = new pg.Client({ connectionString: server.url });
    try {
      await client.connect();
      expect((await client.query('SHOW listen_addresses')).rows[0].listen_addresses).toBe('127.0.0.1');
      expect((await client.query('SHOW unix_socket_directories')).rows[0].unix_socket_directories).toBe('');
      expect((await client.query('SHOW fsync')).rows[0].fsync).toBe('on');
      expect((await fs.stat(path.join(dir, 'db-password'))).mode & 0o777).toBe(0o600);
      const wrong = new pg.Client({ connectionString: server.url.replace(/:[^:@]+@/, ':wrong@') });
      await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    } finally {
      await client.end();
      await server.stop();
    }
  });

  // Three `parley serve` starts and a CLI run, each a Node process loading the
  // whole server; under a loaded CI machine each start alone can take 20 s.
  it('stops Postgres cleanly on SIGTERM of parley, and leaves none running after kill -9; the next start recovers the data', { timeout: 180_000 }, async () => {
    const dir = path.join(dataDir, 'lifecycle');
    const first = await startServe({ PARLEY_DATA_DIR: dir });
    const setup = await fetch(`${first.url}/api/v1/setup`);
    expect(await setup.json()).toEqual({ required: true });
    const pid1 = await postmasterPid(dir);

    first.child.kill('SIGTERM');
    await waitFor(() => first.child.exitCode !== null, 'parley to exit on SIGTERM');
    expect(first.child.exitCode).toBe(0);
    expect(isAlive(pid1)).toBe(false);

    const second = await startServe({ PARLEY_DATA_DIR: dir });
    const pid2 = await postmasterPid(dir);
    // The CLI attaches to the running server's Postgres; this account must survive the crash.
    const created = await runCli(['users', 'create', '--email', 'crash@example.test', '--org', 'Crash', '--password-stdin'], { PARLEY_DATA_DIR: dir, LOG_LEVEL: 'warn' }, 'a long enough password');
    expect(created.code).toBe(0);
    expect((await fs.stat(path.join(dir, 'master.key'))).mode & 0o777).toBe(0o600);
    second.child.kill('SIGKILL');
    // The watchdog notices the dead parent and shuts Postgres down.
    await waitFor(() => !isAlive(pid2), 'postgres to stop after parley was killed');

    const third = await startServe({ PARLEY_DATA_DIR: dir });
    try {
      expect((await fetch(`${third.url}/readyz`)).status).toBe(200);
      expect(await (await fetch(`${third.url}/api/v1/setup`)).json()).toEqual({ required: false });
    } finally {
      third.child.kill('SIGTERM');
      await waitFor(() => third.child.exitCode !== null, 'parley to exit');
    }
  });
});
