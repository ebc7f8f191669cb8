import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Real servers, real LMDB folders and child processes: give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.stat.test.ts', 'test/pg/**'] } },
      { extends: true, test: { name: 'stat', include: ['test/**/*.stat.test.ts'] } },
      // Tests on PostgreSQL: their own project, so only runs that include them start a cluster.
      { extends: true, test: { name: 'pg', include: ['test/pg/**/*.test.ts'], globalSetup: ['test/helpers/pg-global-setup.ts'] } },
    ],
  },
});
