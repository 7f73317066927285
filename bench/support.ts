// Shared by the benchmark scripts: running from source, and robust summaries of noisy timings.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Benchmarks run the packages from `src/`: when the `@ppml/source` export condition is not set, re-launch this
 * script with it (same Node, same flags and arguments) and exit with the child's status.
 */
export function ensureSourceCondition(moduleUrl: string): void {
  if (process.execArgv.some((a) => a.includes('@ppml/source'))) return;
  const r = spawnSync(
    process.execPath,
    ['--conditions=@ppml/source', ...process.execArgv, fileURLToPath(moduleUrl), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}

/** The median of a non-empty list (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
