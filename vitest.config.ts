import { defineConfig } from 'vitest/config';

// The server suites run on the embedded PostgreSQL with in-memory shared
// state and, when TEST_DATABASE_URL is set, once more against that server
// (with shared state in TEST_REDIS_URL's Redis when that is set too).
const serverSuite = (name: string, env: Record<string, string>) => ({
  test: {
    name,
    include: ['apps/server/src/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    env,
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
      { test: { name: 'widget', include: ['packages/widget/src/**/*.test.ts'], testTimeout: 30_000 } },
      { test: { name: 'e2e', include: ['e2e/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 } },
    ],
  },
});
