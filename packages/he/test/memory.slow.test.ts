// The full 10,000-inference loop of the issue (1-4 minutes on a shared 2-core machine).
import { describe, expect, it } from 'vitest';
import { runInferenceLoop } from './support/memory-loop.ts';

describe('memory (slow)', () => {
  it('10,000 small encrypted inferences grow the SEAL heap by at most 4 MiB', async () => {
    const { growth, mean } = await runInferenceLoop(10_000);
    expect(growth).toBeLessThanOrEqual(4 * 2 ** 20);
    expect(Math.abs(mean - 3.5)).toBeLessThan(1e-3);
  }, 600_000);
});
