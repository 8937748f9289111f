import { configDefaults, defineConfig } from 'vitest/config';

/** issue #12's small lab of three booted Pis: 4 minutes more (CI's time is near its limit); `npm run test:small-lab` runs it */
const SMALL_LAB = 'test/e2e/small-lab.e2e.test.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(process.env.LABGEN_SMALL_LAB ? [] : [SMALL_LAB])],
    // e2e tests start network namespaces and daemons: keep them from racing each other
    fileParallelism: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
