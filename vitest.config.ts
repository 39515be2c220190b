import { defineConfig } from 'vitest/config';

// The server suites run on the embedded PostgreSQL with in-memory shared
// state and, when TEST_DATABASE_URL is set, once more against that server
// (with shared state in TEST_REDIS_URL's Redis when that is set too).
// Their files mostly wait on PostgreSQL and HTTP, so three run at once even
// on two cores (Vitest's default there is one); each has its own database.
// The browser suites run after them one file at a time: two Chromiums at
// once on two cores took as long in all and made each test twice as slow.
const serverSuite = (name: string, env: Record<string, string>) => ({
  test: {
    name,
    include: ['apps/server/src/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    env,
    maxWorkers: 3,
    sequence: { groupOrder: 0 },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

const external = process.env.TEST_DATABASE_URL;
const redis = process.env.TEST_REDIS_URL;

export default defineConfig({
  test: {
    projects: [
      serverSuite('embedded', { PARLEY_TEST_DB: 'embedded' }),
      ...(external ? [serverSuite('external', { PARLEY_TEST_DB: external, ...(redis ? { PARLEY_TEST_REDIS: redis } : {}) })] : []),
      { test: { name: 'widget', include: ['packages/widget/src/**/*.test.ts'], maxWorkers: 1, sequence: { groupOrder: 1 }, testTimeout: 30_000 } },
      { test: { name: 'e2e', include: ['e2e/**/*.test.ts'], maxWorkers: 1, sequence: { groupOrder: 1 }, testTimeout: 120_000, hookTimeout: 180_000 } },
    ],
  },
});
