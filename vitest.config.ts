import { defineConfig } from 'vitest/config';

// `pnpm test` runs the default suites; `pnpm run test:slow` runs only the long ones (`*.slow.test.ts`: large
// audits, 10-million-element truncation checks, long memory loops), which stay out of the default run.
const slow = process.env['PPML_SLOW'] === '1';

// Tests run against `src/` through the private `@ppml/source` export condition. Node tests run in Vite's SSR
// environment, whose condition list *replaces* Vite's defaults, so the full list is spelled out here.
export default defineConfig({
  ssr: { resolve: { conditions: ['@ppml/source', 'module', 'node', 'development|production'] } },
  test: {
    include: slow ? ['packages/*/test/**/*.slow.test.ts', 'test/**/*.slow.test.ts'] : ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', ...(slow ? [] : ['**/*.slow.test.ts'])],
    testTimeout: slow ? 600_000 : 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
