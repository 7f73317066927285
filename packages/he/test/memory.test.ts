// Memory safety: SEAL objects are released deterministically, so a long loop of small encrypted inferences
// does not grow the WebAssembly heap (which never shrinks and hangs near 4 GiB when exhausted). The default run
// does 300 inferences at N = 4096 (4-25 ms each); one leaked ciphertext per inference would show as about
// 30 MiB. memory.slow.test.ts runs the full 10,000.
import { describe, expect, it } from 'vitest';
import { runInferenceLoop } from './support/memory-loop.ts';

describe('memory', () => {
  it('300 small encrypted inferences grow the SEAL heap by at most 2 MiB', async () => {
    const { growth, mean } = await runInferenceLoop(300);
    expect(growth).toBeLessThanOrEqual(2 * 2 ** 20);
    expect(Math.abs(mean - 3.5)).toBeLessThan(1e-3);
  });
});
