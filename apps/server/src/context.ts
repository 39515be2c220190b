import type { Config } from './config.js';
import type { Database } from './db/connect.js';
import type { Keyring } from './keys/service.js';

/** Time comes from here, never from `new Date()` in a rule, so tests can move it. */
export type Clock = { now(): Date };

export const systemClock: Clock = { now: () => new Date() };

/** What every service needs, built once at start-up (and by each test). */
export type Context = {
  config: Config;
  db: Database;
  keyring: Keyring;
  clock: Clock;
};
