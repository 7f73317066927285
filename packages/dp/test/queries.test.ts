/**
 * Clamped queries: noise of the documented scale (Google's recipe, 125,000 draws, 4.41717 standard errors:
 * false failure 1e-5 per check), clamping, exact fixed-point sums that do not depend on the order of the
 * data (Casacuberta et al. 2022), accuracy on a realistic column, and bad inputs.
 */
import { seededTestRng } from '@ppml/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dpCount, dpHistogram, dpMean, dpQuantile, dpSum, dpVariance, PrivacyBudget } from '../src/queries/index.ts';
import { meanVariance, Z_1E5 } from '../../../test/support/stats.ts';

const N = 125_000;

function dlVariance(scale: number): number {
  const q = Math.exp(-1 / scale);
  return (2 * q) / (1 - q) ** 2;
}

describe('count and sum noise', () => {
  it('dpCount adds discrete Laplace noise of scale 1/epsilon', () => {
    const rng = seededTestRng('count-noise');
    const data = new Array(37).fill(0);
    const xs = new Float64Array(N);
    for (let i = 0; i < N; i++) xs[i] = dpCount(data, { epsilon: 0.5, rng }) - 37;
    const v = dlVariance(2);
    const mv = meanVariance(xs);
    expect(Math.abs(mv.mean)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(v / N));
    expect(Math.abs(mv.variance - v)).toBeLessThanOrEqual((Z_1E5 * Math.sqrt(5) * v) / Math.sqrt(N));
    expect(xs.every((x) => Number.isInteger(x))).toBe(true);
  });

  it('dpSum clamps and adds Laplace noise of scale max(|lower|, |upper|)/epsilon', () => {
    const rng = seededTestRng('sum-noise');
    const data = [-10, 0.5, 2, 3, 100]; // clamped to [-1, 4]: -1 + 0.5 + 2 + 3 + 4 = 8.5
    const xs = new Float64Array(N);
    for (let i = 0; i < N; i++) xs[i] = dpSum(data, { lower: -1, upper: 4, epsilon: 2, rng });
    const v = 2 * (4 / 2) ** 2;
    const mv = meanVariance(xs);
    expect(Math.abs(mv.mean - 8.5)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(v / N));
    expect(Math.abs(mv.variance - v)).toBeLessThanOrEqual((Z_1E5 * Math.sqrt(5) * v) / Math.sqrt(N));
  });
});

describe('fixed-point sums (Casacuberta et al. 2022)', () => {
  it('the released sum does not depend on the order of the data, unlike a float sum', () => {
    // A float sum of these values depends on the order; the fixed-point sum does not.
    const values = [1e15, 1, -1e15, 1, 0.25, 1e-3, 3, -2.5];
    const permuted = [1, 1, 1e15, -1e15, -2.5, 3, 1e-3, 0.25];
    const floatA = values.reduce((a, b) => a + b, 0);
    const floatB = permuted.reduce((a, b) => a + b, 0);
    expect(floatA).not.toBe(floatB);
    const opts = { lower: -1e15, upper: 1e15, epsilon: 1 };
    const a = dpSum(values, { ...opts, rng: seededTestRng('perm') });
    const b = dpSum(permuted, { ...opts, rng: seededTestRng('perm') });
    expect(a).toBe(b);
  });

  it('property: any permutation gives the same release with the same randomness', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 30 }), fc.nat(), (xs, seed) => {
        const shuffled = xs.slice().reverse();
        const opts = { lower: -1e5, upper: 1e5, epsilon: 0.5 };
        return dpSum(xs, { ...opts, rng: seededTestRng(seed) }) === dpSum(shuffled, { ...opts, rng: seededTestRng(seed) });
      }),
      { numRuns: 100 },
    );
  });
});

describe('mean, variance, histogram, quantile', () => {
  // A realistic column: 10,000 values from a fixed pseudo-random pattern on [0, 100].
  const column = Float64Array.from({ length: 10_000 }, (_, i) => (i * 37) % 101);
  const trueMean = column.reduce((a, b) => a + b, 0) / column.length;
  const trueVar = meanVariance(column).variance * ((column.length - 1) / column.length);

  it('dpMean is within a few noise scales of the truth and inside the bounds', () => {
    const rng = seededTestRng('mean');
    for (let i = 0; i < 50; i++) {
      const m = dpMean(column, { lower: 0, upper: 100, epsilon: 1, rng });
      // noise: sum scale 50/0.5 = 100 over n = 10,000 plus count noise: |error| < 0.5 except w.p. < 1e-5
      expect(Math.abs(m - trueMean)).toBeLessThan(0.5);
      expect(m).toBeGreaterThanOrEqual(0);
      expect(m).toBeLessThanOrEqual(100);
    }
    expect(dpMean([1e9, -1e9], { lower: 0, upper: 1, epsilon: 100, rng })).toBeGreaterThanOrEqual(0);
  });

  it('dpVariance is close to the truth and clamped to [0, ((upper - lower)/2)^2]', () => {
    const rng = seededTestRng('variance');
    for (let i = 0; i < 20; i++) {
      const v = dpVariance(column, { lower: 0, upper: 100, epsilon: 1, rng });
      expect(Math.abs(v - trueVar) / trueVar).toBeLessThan(0.05);
    }
    const tiny = dpVariance([5], { lower: 0, upper: 10, epsilon: 0.01, rng });
    expect(tiny).toBeGreaterThanOrEqual(0);
    expect(tiny).toBeLessThanOrEqual(25);
  });

  it('dpHistogram counts every record in one bin (outside values clamped) with noise of scale 1/epsilon', () => {
    const rng = seededTestRng('hist');
    const data = [-5, 0, 1, 2.5, 9.99, 10, 42];
    const edges = [0, 2.5, 5, 10];
    const sums = new Float64Array(3);
    const reps = 2000;
    for (let i = 0; i < reps; i++) {
      const h = dpHistogram(data, { edges, epsilon: 1, rng });
      for (let k = 0; k < 3; k++) sums[k] += h[k];
    }
    const truth = [3, 1, 3]; // [-5, 0, 1] | [2.5] | [9.99, 10, 42]
    const v = dlVariance(1);
    for (let k = 0; k < 3; k++) expect(Math.abs(sums[k] / reps - truth[k])).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(v / reps));
    expect(dpHistogram(data, { lower: 0, upper: 10, bins: 4, epsilon: 1, rng })).toHaveLength(4);
  });

  it('dpQuantile finds the median of a column to within a grid step or two', () => {
    const rng = seededTestRng('quantile');
    const sorted = Float64Array.from(column).sort();
    for (const q of [0.1, 0.5, 0.9]) {
      const truth = sorted[Math.round(q * (sorted.length - 1))];
      const got = dpQuantile(column, { q, lower: 0, upper: 100, epsilon: 1, rng });
      expect(Math.abs(got - truth)).toBeLessThanOrEqual(2);
    }
    expect(dpQuantile([1, 2, 3], { q: 0.5, lower: 0, upper: 1, epsilon: 1, candidates: 2, rng })).toBeLessThanOrEqual(1);
  });
});

describe('bad inputs', () => {
  const data = [1, 2, 3];
  const base = { lower: 0, upper: 10, epsilon: 1 };
  const bounded = [
    (v: ArrayLike<number>, o: typeof base) => dpSum(v, o),
    (v: ArrayLike<number>, o: typeof base) => dpMean(v, o),
    (v: ArrayLike<number>, o: typeof base) => dpVariance(v, o),
    (v: ArrayLike<number>, o: typeof base) => dpQuantile(v, { ...o, q: 0.5 }),
    (v: ArrayLike<number>, o: typeof base) => dpHistogram(v, { ...o, bins: 4 }),
  ];

  it('bad epsilon: RangeError naming epsilon (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY), fc.double({ max: 0, noNaN: true })),
        (epsilon) => {
          for (const f of bounded) expect(() => f(data, { ...base, epsilon })).toThrow(/epsilon/);
          expect(() => dpCount(data, { epsilon })).toThrow(/epsilon/);
          return true;
        },
      ),
      { numRuns: 30 },
    );
  });

  it('NaN or infinite data: RangeError naming the index (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY), fc.constant(Number.NEGATIVE_INFINITY)),
        fc.nat({ max: 3 }),
        (bad, at) => {
          const xs = [1, 2, 3, 4];
          xs[at] = bad;
          for (const f of bounded) expect(() => f(xs, base)).toThrow(new RegExp(`values\\[${at}\\] must be a finite number`));
          return true;
        },
      ),
      { numRuns: 20 },
    );
  });

  it('empty data, bounds in the wrong order or not finite, bad q', () => {
    for (const f of bounded) {
      expect(() => f([], base)).toThrow(/values must contain at least one value/);
      expect(() => f(data, { ...base, lower: 10, upper: 0 })).toThrow(/lower must be < upper/);
      expect(() => f(data, { ...base, lower: 1, upper: 1 })).toThrow(/lower must be < upper/);
      expect(() => f(data, { ...base, lower: Number.NEGATIVE_INFINITY })).toThrow(/lower must be a finite number/);
      expect(() => f(data, { ...base, upper: Number.NaN })).toThrow(/upper must be a finite number/);
      expect(() => f('abc' as unknown as number[], base)).toThrow(TypeError);
    }
    expect(() => dpCount([], { epsilon: 1 })).toThrow(/values must contain at least one value/);
    expect(() => dpCount(null as never, { epsilon: 1 })).toThrow(TypeError);
    expect(() => dpQuantile(data, { ...base, q: 1.5 })).toThrow(/q must be a number in \[0, 1\]/);
    expect(() => dpQuantile(data, { ...base, q: Number.NaN })).toThrow(/q must be/);
    expect(() => dpHistogram(data, { epsilon: 1, edges: [0, 0, 1] })).toThrow(/edges must be strictly increasing/);
    expect(() => dpHistogram(data, { epsilon: 1, edges: [0] })).toThrow(/edges must have at least 2/);
    expect(() => dpHistogram(data, { epsilon: 1, lower: 0, upper: 1, bins: 0 })).toThrow(/bins must be an integer/);
  });

  it('a refused query draws no noise and reveals nothing: validation and budget come first', () => {
    const b = new PrivacyBudget({ epsilon: 0.5 });
    expect(() => dpSum([Number.NaN], { ...base, budget: b })).toThrow(RangeError);
    expect(b.ledger).toHaveLength(0); // invalid input: nothing spent
    expect(() => dpSum(data, { ...base, budget: b })).toThrow(/privacy budget exceeded/);
    expect(b.ledger).toHaveLength(0);
    dpSum(data, { ...base, epsilon: 0.5, budget: b, label: 'my sum' });
    expect(b.ledger[0].label).toBe('my sum');
  });
});
