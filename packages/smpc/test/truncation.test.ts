// Exact-wrap truncation on 10 million products, computed with the same kernels and dealer material the parties
// use, but with the three parties' shares held in one thread (so the test needs no workers). The default run
// covers 1 million; truncation.slow.test.ts covers 10 million in-process and through worker threads. Probabilistic
// truncation fails about once per million elements by exactly 2^32 here; this one must never be off by more
// than one unit in the last place. The end-to-end version over worker threads is truncation.slow.test.ts.
import { describe, expect, it } from 'vitest';
import { truncateShared, truncationErrors } from './support/truncation-sim.ts';

describe('exact-wrap truncation', () => {
  it('is floor(z / 2^16) or one more, on 1 million products of fixed-point values (3 parties)', () => {
    const { worst, offByOne, total } = truncationErrors(1);
    expect(worst).toBe(0n);
    // Off-by-one happens when the low 16 bits carry: about half the time for uniform low bits.
    expect(offByOne).toBeGreaterThan(0.4 * total);
    expect(offByOne).toBeLessThan(0.6 * total);
  });
  it('handles the extremes of its range and 2, 4, 5 parties', () => {
    const edge = BigUint64Array.from([
      0n,
      1n,
      (1n << 62n) - 1n,
      BigInt.asUintN(64, -(1n << 62n)),
      BigInt.asUintN(64, -1n),
      65_535n,
      65_536n,
    ]);
    for (const parties of [2, 4, 5]) {
      for (const f of [8, 16, 26]) {
        const got = truncateShared(edge, parties, f, parties * 100 + f);
        for (let i = 0; i < edge.length; i++) {
          const d = BigInt.asIntN(64, got[i]) - (BigInt.asIntN(64, edge[i]) >> BigInt(f));
          expect(d === 0n || d === 1n, `z=${BigInt.asIntN(64, edge[i])} f=${f}: off by ${d}`).toBe(true);
        }
      }
    }
  });
});
