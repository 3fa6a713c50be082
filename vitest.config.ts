import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Names what is missing when ../shared is not beside the repo (instead of a bare ENOENT).
    globalSetup: ['test/helpers/shared-check.ts'],
    // Property tests: a fixed fast-check seed in CI, a new one per local run (see the file).
    setupFiles: ['test/helpers/property-seed.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration tests spawn processes and open SQLite files; keep parallelism modest.
    pool: 'forks',
    maxWorkers: 2,
  },
});
