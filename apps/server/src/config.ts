import { parseIpRange } from './security/ip-ranges.js';
import path from 'node:path';

// Every setting Parley reads. This is the only module that touches
// process.env; the README's settings table mirrors this list.
export type Config = {
  /** Where Parley keeps the embedded database, generated secrets and key file. */
  dataDir: string;
  /** External PostgreSQL 15+ (owner role, runs migrations). Unset: embedded PostgreSQL. */
  databaseUrl: string | undefined;
  /** Role the app serves with; Parley creates it and keeps its password derived from the master key. */
  databaseAppRole: string;
  databasePoolSize: number;
  /** Base64 of 32 random bytes. Unset: read or generate `masterKeyFile`. */
  masterKey: Buffer | undefined;
  masterKeyFile: string;
  /** The URL people use to reach Parley; used for links, the widget snippet and CSRF origin checks. */
  publicUrl: URL;
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  /** How long the in-memory project lookup used by ingestion may be stale on other instances. */
  projectCacheSeconds: number;
  /** Days the login log keeps each attempt. */
  loginLogDays: number;
  /** SMTP server for invites, password resets and security notices (smtp:// or smtps://). Unset: e-mail is logged as not sent. */
  smtpUrl: URL | undefined;
  /** The From address of Parley's e-mail. */
  smtpFrom: string;
  /** Redis for rate-limit counters and the challenge replay store shared by every instance. */
  redisUrl: URL | undefined;
  /** Where shared state lives; `auto`: Redis if REDIS_URL, else PostgreSQL if DATABASE_URL, else this process's memory. */
  sharedState: 'auto' | 'memory' | 'postgres' | 'redis';
  /** Prefix of every Redis key, so installations can share one Redis. */
  redisPrefix: string;
  /** Proxies (IPs, CIDR ranges, or `loopback`) whose X-Forwarded-For / Forwarded headers name the client. */
  trustedProxies: string[];
  /** Connections an address over its per-IP limit may keep open. */
  floodConnections: number;
  /** Which header trusted proxies write: one only, so a client cannot add the other to name itself. */
  forwardedHeader: 'x-forwarded-for' | 'forwarded';
  captcha: {
    /** Each provider's documented siteverify endpoint (an operator may point at a mirror such as www.recaptcha.net). */
    verifyUrls: { recaptcha: URL; turnstile: URL; hcaptcha: URL };
    /** Extra PEM certificates trusted for those endpoints (a TLS-inspecting proxy's CA). */
    caFile: string | undefined;
    timeoutMs: number;
  };
  /** Requests one API key may make in 5 minutes (RateLimit-* headers on every answer). */
  apiKeyRateLimit: number;
  /** Requests one dashboard session may make in 5 minutes. */
  sessionRateLimit: number;
  webhooks: {
    /** Allow http:// targets (otherwise https:// only). */
    allowHttp: boolean;
    /** IPs and CIDR ranges (or `loopback`) webhooks may reach although they are private, loopback or link-local. */
    allowedRanges: string[];
    /** Each delivery attempt, connection to last byte. */
    timeoutMs: number;
    /** Extra PEM certificates trusted for webhook targets. */
    caFile: string | undefined;
    /** Days the delivery log and delivered events are kept. */
    logDays: number;
  };
  /** Hour of the day (UTC) the daily digest e-mails go out. */
  digestHour: number;
};

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const SHARED_STATES = ['auto', 'memory', 'postgres', 'redis'] as const;

/** Reads and validates every setting at once, so one start lists every problem. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };

  const dataDir = path.resolve(cwd, env.PARLEY_DATA_DIR || 'data');

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined) {
    try {
      const url = new URL(databaseUrl);
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
        problems.push('DATABASE_URL must start with postgres:// or postgresql://');
      }
    } catch {
      problems.push('DATABASE_URL is not a valid URL');
    }
  }

  const databaseAppRole = env.PARLEY_DB_APP_ROLE || 'parley_app';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseAppRole)) {
    problems.push('PARLEY_DB_APP_ROLE must be a lowercase SQL identifier (letters, digits, underscore)');
  }

  let masterKey: Buffer | undefined;
  if (env.PARLEY_MASTER_KEY) {
    masterKey = Buffer.from(env.PARLEY_MASTER_KEY, 'base64');
    if (masterKey.length !== 32) {
      problems.push('PARLEY_MASTER_KEY must be 32 random bytes in base64 (try: openssl rand -base64 32)');
      masterKey = undefined;
    }
  }
  const masterKeyFile = path.resolve(cwd, env.PARLEY_MASTER_KEY_FILE || path.join(dataDir, 'master.key'));

  const port = int('PORT', 3000, 0, 65535);
  const host = env.HOST || '127.0.0.1';

  let publicUrl = new URL(`http://localhost:${port}`);
  if (env.PARLEY_PUBLIC_URL) {
    try {
      publicUrl = new URL(env.PARLEY_PUBLIC_URL);
      if (publicUrl.pathname !== '/' || publicUrl.search || publicUrl.hash) {
        problems.push('PARLEY_PUBLIC_URL must be an origin without a path, e.g. https://feedback.example.com');
      }
    } catch {
      problems.push('PARLEY_PUBLIC_URL is not a valid URL');
    }
  }
  // Session cookies are __Host- cookies, which browsers only accept over HTTPS
  // (or on loopback, which they treat as a secure context).
  if (publicUrl.protocol !== 'https:' && !isLoopbackHost(publicUrl.hostname)) {
    problems.push('PARLEY_PUBLIC_URL must use https:// unless it is localhost');
  }

  let smtpUrl: URL | undefined;
  if (env.SMTP_URL) {
    try {
      smtpUrl = new URL(env.SMTP_URL);
      if (smtpUrl.protocol !== 'smtp:' && smtpUrl.protocol !== 'smtps:') problems.push('SMTP_URL must start with smtp:// or smtps://');
    } catch {
      problems.push('SMTP_URL is not a valid URL (e.g. smtp://user:password@mail.example.com:587)');
    }
  }
  const smtpFrom = env.SMTP_FROM || `Parley <parley@${publicUrl.hostname}>`;
  if (/[\r\n]/.test(smtpFrom)) problems.push('SMTP_FROM must be one line');

  const url = (name: string, fallback: string | undefined, protocols: string[]): URL | undefined => {
    const raw = env[name] || fallback;
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) problems.push(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
      return parsed;
    } catch {
      problems.push(`${name} is not a valid URL`);
      return fallback === undefined ? undefined : new URL(fallback);
    }
  };

  const redisUrl = url('REDIS_URL', undefined, ['redis:', 'rediss:']);
  const sharedState = (env.PARLEY_SHARED_STATE || 'auto') as Config['sharedState'];
  if (!SHARED_STATES.includes(sharedState)) problems.push(`PARLEY_SHARED_STATE must be one of ${SHARED_STATES.join(', ')}`);
  if (sharedState === 'redis' && !redisUrl) problems.push('PARLEY_SHARED_STATE=redis needs REDIS_URL');
  const redisPrefix = env.PARLEY_REDIS_PREFIX ?? 'parley:';
  if (!/^[A-Za-z0-9:_.-]{0,64}$/.test(redisPrefix)) problems.push('PARLEY_REDIS_PREFIX must be up to 64 letters, digits or : _ . -');

  const trustedProxies = (env.PARLEY_TRUSTED_PROXIES ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of trustedProxies) {
    if (entry !== 'loopback' && !parseIpRange(entry)) problems.push(`PARLEY_TRUSTED_PROXIES: "${entry}" is not an IP address, a CIDR range (10.0.0.0/8, fd00::/8) or "loopback"`);
  }

  const forwardedHeader = (env.PARLEY_FORWARDED_HEADER || 'x-forwarded-for').toLowerCase() as Config['forwardedHeader'];
  if (forwardedHeader !== 'x-forwarded-for' && forwardedHeader !== 'forwarded') problems.push('PARLEY_FORWARDED_HEADER must be x-forwarded-for or forwarded');

  const https = ['https:'];
  const captcha = {
    verifyUrls: {
      recaptcha: url('PARLEY_RECAPTCHA_VERIFY_URL', 'https://www.google.com/recaptcha/api/siteverify', https)!,
      turnstile: url('PARLEY_TURNSTILE_VERIFY_URL', 'https://challenges.cloudflare.com/turnstile/v0/siteverify', https)!,
      hcaptcha: url('PARLEY_HCAPTCHA_VERIFY_URL', 'https://api.hcaptcha.com/siteverify', https)!,
    },
    caFile: env.PARLEY_CAPTCHA_CA_FILE ? path.resolve(cwd, env.PARLEY_CAPTCHA_CA_FILE) : undefined,
    timeoutMs: int('PARLEY_CAPTCHA_TIMEOUT_MS', 5000, 100, 60_000),
  };

  const webhookRanges = (env.PARLEY_WEBHOOK_ALLOWED_RANGES ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of webhookRanges) {
    if (entry !== 'loopback' && !parseIpRange(entry)) problems.push(`PARLEY_WEBHOOK_ALLOWED_RANGES: "${entry}" is not an IP address, a CIDR range (10.0.0.0/8, fd00::/8) or "loopback"`);
  }
  const allowHttp = env.PARLEY_WEBHOOK_ALLOW_HTTP || 'false';
  if (allowHttp !== 'true' && allowHttp !== 'false') problems.push('PARLEY_WEBHOOK_ALLOW_HTTP must be true or false');
  const webhooks = {
    allowHttp: allowHttp === 'true',
    allowedRanges: webhookRanges,
    timeoutMs: int('PARLEY_WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
    caFile: env.PARLEY_WEBHOOK_CA_FILE ? path.resolve(cwd, env.PARLEY_WEBHOOK_CA_FILE) : undefined,
    logDays: int('PARLEY_WEBHOOK_LOG_DAYS', 30, 1, 3650),
  };

  const logLevel = (env.LOG_LEVEL || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const config: Config = {
    dataDir,
    databaseUrl,
    databaseAppRole,
    databasePoolSize: int('PARLEY_DB_POOL_SIZE', 10, 2, 200),
    masterKey,
    masterKeyFile,
    publicUrl,
    host,
    port,
    logLevel,
    sessionIdleMinutes: int('PARLEY_SESSION_IDLE_MINUTES', 30, 1, 30),
    sessionAbsoluteHours: int('PARLEY_SESSION_ABSOLUTE_HOURS', 12, 1, 12),
    projectCacheSeconds: int('PARLEY_PROJECT_CACHE_SECONDS', 10, 0, 300),
    loginLogDays: int('PARLEY_LOGIN_LOG_DAYS', 90, 1, 3650),
    smtpUrl,
    smtpFrom,
    redisUrl,
    sharedState,
    redisPrefix,
    trustedProxies,
    forwardedHeader,
    floodConnections: int('PARLEY_FLOOD_CONNECTIONS', 8, 1, 1000),
    captcha,
    apiKeyRateLimit: int('PARLEY_API_KEY_RATE_LIMIT', 300, 1, 1_000_000),
    sessionRateLimit: int('PARLEY_SESSION_RATE_LIMIT', 1500, 1, 1_000_000),
    webhooks,
    digestHour: int('PARLEY_DIGEST_HOUR', 8, 0, 23),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
}
