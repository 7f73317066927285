import { defineConfig } from 'vitest/config';

// Tests run against `src/` through the private `@ppml/source` export condition. Node tests run in Vite's SSR
// environment, whose condition list *replaces* Vite's defaults, so the full list is spelled out here.
export default defineConfig({
  ssr: { resolve: { conditions: ['@ppml/source', 'module', 'node', 'development|production'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', '**/*.slow.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
