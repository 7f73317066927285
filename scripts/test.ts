// The README's test command. Type-checks and lints the whole repository, runs vitest over every package and the top-level
// `test/` folder, and ends with the plain line `N passed, N failed[, N skipped]` that CI reads. Exits non-zero on
// any type error or test failure. Extra arguments are passed to vitest (e.g. a path filter).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from './system-deps.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string): string => `${root}node_modules/.bin/${name}`;
const report = `${root}.vitest-report.json`;

const started = Date.now();
console.log(`ppml tests on Node ${process.version}`);
ensureSystemPackages();
const tsc = spawnSync(bin('tsc'), ['-p', 'tsconfig.check.json'], { cwd: root, stdio: 'inherit' });
const typeErrors = tsc.status !== 0;
if (typeErrors) console.error('type check failed');
// Lint and format check (biome, one root config): counted as one test, like the type check.
const lint = spawnSync(bin('biome'), ['check', '--max-diagnostics=50', '.'], { cwd: root, stdio: 'inherit' });
const lintErrors = lint.status !== 0;
if (lintErrors) console.error('lint failed: run `pnpm run lint` (and `pnpm run format` for formatting)');

rmSync(report, { force: true });
const vitest = spawnSync(
  bin('vitest'),
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8')) as VitestJson;
  passed = r.numPassedTests;
  failed = r.numFailedTests;
  skipped = r.numPendingTests + r.numTodoTests;
} else {
  failed = 1; // vitest died before writing its report: count the run itself as a failure
}
// The type check and the lint count as one test each.
if (typeErrors) failed += 1;
else passed += 1;
if (lintErrors) failed += 1;
else passed += 1;
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`(${seconds} s)`);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || vitest.status !== 0 ? 1 : 0);
