import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // e2e tests start network namespaces and daemons: keep them from racing each other
    fileParallelism: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
