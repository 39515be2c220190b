import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const config = loadConfig({}, '/srv/parley');
    expect(config.dataDir).toBe('/srv/parley/data');
    expect(config.masterKeyFile).toBe('/srv/parley/data/master.key');
    expect(config.publicUrl.href).toBe('http://localhost:3000/');
    expect(config.sessionIdleMinutes).toBe(30);
    expect(config.sessionAbsoluteHours).toBe(12);
  });

  it('lists every problem at once', () => {
    const env = { PORT: 'eighty', DATABASE_URL: 'mysql://x', PARLEY_MASTER_KEY: 'c2hvcnQ=', PARLEY_PUBLIC_URL: 'http://feedback.example.com', LOG_LEVEL: 'loud', PARLEY_SESSION_IDLE_MINUTES: '600' };
    let problems: string[] = [];
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/PORT.*PARLEY_SESSION_IDLE_MINUTES|PARLEY_SESSION_IDLE_MINUTES/s);
    expect(problems.some((p) => p.startsWith('PARLEY_PUBLIC_URL must use https://'))).toBe(true);
  });

  it('accepts a 32-byte base64 master key', () => {
    const key = Buffer.alloc(32, 7);
    expect(loadConfig({ PARLEY_MASTER_KEY: key.toString('base64') }).masterKey?.equals(key)).toBe(true);
  });
});
