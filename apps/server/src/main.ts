import { parseArgs } from 'node:util';
import type { FastifyRequest } from 'fastify';
import { pino, type Logger } from 'pino';
import { API_KEY_IN_TEXT } from './apikeys/token.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { systemClock, type Context } from './context.js';
import { openDatabase } from './db/connect.js';
import { startEmbeddedPostgres } from './db/embedded.js';
import { Keyring } from './keys/service.js';
import { loadMasterKey } from './security/master-key.js';
import { issueSetupToken, SETUP_TOKEN_TTL_MS } from './setup/service.js';
import { cliCommands, CliError, USAGE } from './cli.js';

const REDACT = ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'];

/**
 * Fastify's request line, with any API key someone put in a URL masked: it
 * is refused (api_key_in_url), and must not be kept in the log either.
 */
function requestLine(request: FastifyRequest) {
  return {
    method: request.method,
    url: request.url.replace(new RegExp(API_KEY_IN_TEXT.source, 'g'), 'prl_[redacted]'),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

function createLogger(config: Config, toStderr: boolean): Logger {
  return pino(
    { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' }, serializers: { req: requestLine } },
    pino.destination({ fd: toStderr ? 2 : 1, sync: true }),
  );
}

type Runtime = { ctx: Context; close(): Promise<void> };

/** config -> master key -> database (embedded or DATABASE_URL, migrated) -> context. */
async function openRuntime(config: Config, log: Logger, attach: boolean): Promise<Runtime> {
  const masterKey = await loadMasterKey(config, (m) => log.warn(m));
  const pgLog = log.child({ component: 'postgres' });
  const embedded = config.databaseUrl ? null : await startEmbeddedPostgres({ dataDir: config.dataDir, log: (m) => pgLog.debug(m), attach });
  try {
    const db = await openDatabase({
      adminUrl: config.databaseUrl ?? embedded!.url,
      appRole: config.databaseAppRole,
      masterKey,
      poolSize: config.databasePoolSize,
      log: (m) => log.info(m),
    });
    return {
      ctx: { config, db, keyring: new Keyring(masterKey), clock: systemClock },
      async close() {
        await db.close();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

async function serve(config: Config): Promise<void> {
  const log = createLogger(config, false);
  const runtime = await openRuntime(config, log, false);
  const app = await buildApp(runtime.ctx, { logger: log });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: finishing in-flight requests, then stopping`);
    await app.close();
    await runtime.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  await app.listen({ host: config.host, port: config.port });
  log.info({ url: config.publicUrl.href, database: config.databaseUrl ? 'external' : 'embedded' }, `Parley is running at ${config.publicUrl.href}`);
  const token = await issueSetupToken(runtime.ctx.db.app, runtime.ctx.clock.now());
  if (token) {
    const link = new URL(`/setup#token=${token}`, config.publicUrl).href;
    log.warn({ setupUrl: link }, `No account exists yet. Open this one-time link within ${SETUP_TOKEN_TTL_MS / 60_000} minutes to create the owner account: ${link} (or run: npx parley users create --email you@example.com --org "Your org" --password-stdin)`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', sub, ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loadConfig();
  if (command === 'serve') {
    await serve(config);
    return -1;
  }
  const name = command === 'migrate' || !sub ? command : `${command} ${sub}`;
  const run = cliCommands[name];
  if (!run) throw new CliError(`Unknown command "${argv.join(' ')}".\n\n${USAGE}`);
  const args = parseArgs({ args: command === 'migrate' ? [sub, ...rest].filter((a): a is string => a !== undefined) : rest, options: run.options, allowPositionals: false, strict: true });
  const log = createLogger(config, true);
  const runtime = await openRuntime(config, log, true);
  try {
    return await run.handler(runtime.ctx, args.values as Record<string, string | string[] | boolean | undefined>);
  } finally {
    await runtime.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof CliError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    if (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    process.stderr.write(`parley: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
