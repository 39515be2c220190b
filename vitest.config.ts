import { defineConfig } from 'vitest/config';

// The server suites run on the embedded PostgreSQL and, when
// TEST_DATABASE_URL is set, once more against that server.
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

export default defineConfig({
  test: {
    projects: [
      serverSuite('embedded', { PARLEY_TEST_DB: 'embedded' }),
      ...(external ? [serverSuite('external-pg', { PARLEY_TEST_DB: external })] : []),
      { test: { name: 'widget', include: ['packages/widget/src/**/*.test.ts'], testTimeout: 30_000 } },
      { test: { name: 'e2e', include: ['e2e/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 } },
    ],
  },
});
