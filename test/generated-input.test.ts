// The bad-input suite: every public function of every package, and targeted sequences of the important ones,
// called with generated hostile input in child processes under a watchdog. Judged per case: a typed error from
// the library or a finite value passes; an engine error, a non-finite result, a crash or a hang fails.
// Seeded (PPML_FUZZ_SEED to explore other seeds, PPML_FUZZ_SCALE to run more cases), so a failure reproduces.
import { describe, expect, it } from 'vitest';
import { genericEntries, genericExemptions, targetedEntries } from './fuzz/entries.ts';
import { formatFailures, runEntries, type RunOptions } from './fuzz/run.ts';

const options: RunOptions = {
  seed: Number(process.env['PPML_FUZZ_SEED'] ?? 20261202),
  scale: Number(process.env['PPML_FUZZ_SCALE'] ?? 1),
  // A hang is a case with no progress for 20 s: ten times the slowest case on a quiet machine (2 s), so that a
  // loaded CI machine does not turn a slow case into a false hang.
  caseTimeoutMs: 20_000,
};

describe.concurrent('generated bad input', () => {
  for (const pkg of ['core', 'dp', 'he', 'smpc'] as const) {
    it(`every export of @ppml/${pkg}, called with hostile arguments`, { timeout: 240_000 }, async () => {
      const names = Object.keys(await genericEntries(pkg));
      expect(names.length).toBeGreaterThan(0);
      const failures = await runEntries(names, options);
      expect(formatFailures(failures)).toBe('');
    });
  }
  for (const name of Object.keys(targetedEntries)) {
    it(name, { timeout: 240_000 }, async () => {
      const failures = await runEntries([name], options);
      expect(formatFailures(failures)).toBe('');
    });
  }
  it('exempts only exports that exist', async () => {
    for (const id of Object.keys(genericExemptions)) {
      const [pkg, name] = id.split('.') as [string, string];
      const mod = (await import(`@ppml/${pkg}`)) as Record<string, unknown>;
      expect(mod[name], id).toBeDefined();
    }
  });
});
