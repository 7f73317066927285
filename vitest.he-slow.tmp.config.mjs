import { defineConfig } from 'vitest/config';
export default defineConfig({
  root: '/work/main',
  ssr: { resolve: { conditions: ['@ppml/source', 'module', 'node', 'development|production'] } },
  test: { include: ['packages/he/test/**/*.slow.test.ts'], testTimeout: 900_000, pool: 'forks' },
});
