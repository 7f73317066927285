// Exact-wrap truncation on 10 million elements: in-process with the parties' kernels, and end to end through
// worker parties (both protocols; replicated dealer-free and with a dealer) as fixed-point multiplications. Probabilistic truncation would show about
// ten elements off by 2^32 at this size (CrypTen issue 402); here every error stays within the rounding bound.
import { describe, expect, it } from 'vitest';
import { seededTestRng, uniformDouble } from '@ppml/core';
import { SmpcSession } from '../src/index.ts';
import { truncationErrors } from './support/truncation-sim.ts';

describe('exact-wrap truncation at 10 million elements', () => {
  it('in-process: never off by more than one unit', () => {
    const { worst, offByOne, total } = truncationErrors(10);
    expect(worst).toBe(0n);
    expect(offByOne).toBeGreaterThan(0.4 * total);
    expect(offByOne).toBeLessThan(0.6 * total);
  }, 300_000);

  // Replicated sharing both dealer-free (the parties' own truncation pairs) and with the trusted dealer.
  for (const [protocol, dealer] of [
    ['additive', 'trusted'],
    ['replicated', 'none'],
    ['replicated', 'trusted'],
  ] as const) {
    it(`through ${protocol} worker parties (dealer: ${dealer}): 10 x 1M multiplications within 2^-15 (|x|, |y| <= 180)`, async () => {
      const session = await SmpcSession.start({ parties: 3, protocol, dealer });
      try {
        const rng = seededTestRng(`slow-${protocol}-${dealer}`);
        const n = 1_000_000;
        let worst = 0;
        for (let k = 0; k < 10; k++) {
          const x = Float64Array.from({ length: n }, () => (uniformDouble(rng) - 0.5) * 360);
          const y = Float64Array.from({ length: n }, () => (uniformDouble(rng) - 0.5) * 360);
          const a = await session.share(0, x);
          const b = await session.share(1, y);
          const c = session.mul(a, b);
          const got = await session.reveal(c);
          session.free(a, b, c);
          // Inputs are rounded to 2^-16 before multiplying; compare with the product of the rounded inputs.
          for (let i = 0; i < n; i++) {
            const xr = Math.round(x[i] * 65536) / 65536;
            const yr = Math.round(y[i] * 65536) / 65536;
            worst = Math.max(worst, Math.abs(got[i] - xr * yr));
          }
        }
        expect(worst).toBeLessThanOrEqual(2 ** -15);
      } finally {
        await session.close();
      }
    }, 600_000);
  }
});
