// Poisson sampling: batch sizes are Binomial(N, q) (mean qN, variance qN(1-q)), inclusion is independent per
// example, empty batches happen and are handled; shuffled batches partition a permutation.
import { type Rng, seededTestRng } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import { poissonSample, poissonSampleInto, randomPermutation, shuffledBatches } from '../src/sgd/index.ts';
import { Z_1E5, chiSquareCritical, chiSquareStatistic, meanVariance } from '../../../test/support/stats.ts';

describe('poissonSample', () => {
  it('batch sizes have mean qN and variance qN(1-q)', () => {
    // Each check below fails with probability about 1e-5 for a correct sampler (z = 4.41717, normal
    // approximation of the sample mean and of the sample variance; the variance check uses the binomial fourth
    // moment). Seeded, so a run is reproducible.
    const rng = seededTestRng('poisson-sizes');
    const N = 500;
    const q = 0.05;
    const trials = 20_000;
    const sizes = new Float64Array(trials);
    const buf = new Uint32Array(N);
    for (let t = 0; t < trials; t++) sizes[t] = poissonSampleInto(buf, N, q, rng);
    const { mean, variance } = meanVariance(sizes);
    const mu = q * N;
    const v = q * N * (1 - q);
    expect(Math.abs(mean - mu)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(v / trials));
    // Var of the sample variance ~ (mu4 - v^2)/n, binomial mu4 = N p q (1 + 3(N - 2) p q).
    const mu4 = N * q * (1 - q) * (1 + 3 * (N - 2) * q * (1 - q));
    expect(Math.abs(variance - v)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt((mu4 - v * v) / trials));
  });

  it('includes every example with probability q (chi-square over positions)', () => {
    // Counts per position are Binomial(trials, q); chi-square with N - 1 degrees of freedom at alpha = 1e-5.
    const rng = seededTestRng('poisson-positions');
    const N = 50;
    const q = 0.3;
    const trials = 4000;
    const counts = new Float64Array(N);
    for (let t = 0; t < trials; t++) for (const i of poissonSample(N, q, rng)) counts[i]++;
    const total = counts.reduce((a, b) => a + b, 0);
    const expected = new Float64Array(N).fill(total / N);
    expect(chiSquareStatistic(counts, expected)).toBeLessThan(chiSquareCritical(N - 1, 1e-5));
    expect(Math.abs(total - q * N * trials)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(N * trials * q * (1 - q)));
  });

  it('returns empty batches at the expected rate and handles them', () => {
    // P(empty) = (1 - q)^N = 0.9^10 ≈ 0.349; binomial z-test with false-failure rate 1e-5.
    const rng = seededTestRng('poisson-empty');
    const N = 10;
    const q = 0.1;
    const trials = 5000;
    let empty = 0;
    for (let t = 0; t < trials; t++) {
      const b = poissonSample(N, q, rng);
      expect(b.length).toBeLessThanOrEqual(N);
      if (b.length === 0) empty++;
    }
    const p = (1 - q) ** N;
    expect(Math.abs(empty - p * trials)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(trials * p * (1 - p)));
  });

  it('returns sorted distinct indices, all of them at q = 1, none for n = 0', () => {
    const b = poissonSample(200, 0.5, seededTestRng(9));
    for (let i = 1; i < b.length; i++) expect(b[i]).toBeGreaterThan(b[i - 1]);
    expect(Array.from(poissonSample(4, 1))).toEqual([0, 1, 2, 3]);
    expect(poissonSample(0, 0.5).length).toBe(0);
  });

  it('breaks ties between the 32-bit word and q by further exact bits', () => {
    // q = 1/2 + 2^-40: q * 2^32 = 2^31 + 2^-8, so a word equal to 2^31 is a tie and the remaining 2^-8 decides.
    // A scripted generator makes the tie happen: then all-zero bits mean U < q (included), all-one bits U > q.
    const q = 0.5 + 2 ** -40;
    const scripted = (words: number[]): Rng => {
      let k = 0;
      return {
        nextUint32: () => words[Math.min(k++, words.length - 1)],
        fillBytes: () => {
          throw new Error('not used');
        },
      };
    };
    expect(poissonSample(1, q, scripted([2 ** 31, 0])).length).toBe(1);
    expect(poissonSample(1, q, scripted([2 ** 31, 0xffff_ffff])).length).toBe(0);
    expect(poissonSample(1, q, scripted([2 ** 31 - 1])).length).toBe(1);
    expect(poissonSample(1, q, scripted([2 ** 31 + 1])).length).toBe(0);
  });

  it('rejects sampleRate outside (0, 1]', () => {
    expect(() => poissonSample(10, 0)).toThrow('sampleRate must be a number in (0, 1], got 0');
    expect(() => poissonSample(10, 1.5)).toThrow(RangeError);
    expect(() => poissonSample(10, Number.NaN)).toThrow(/got NaN/);
    expect(() => poissonSampleInto(new Uint32Array(3), 10, 0.5)).toThrow(/room for n=10/);
  });
});

describe('shuffled fixed-size batches (non-default)', () => {
  it('partition a permutation into floor(n / b) batches of exactly b', () => {
    const batches = shuffledBatches(103, 10, seededTestRng('shuffle'));
    expect(batches.length).toBe(10);
    const seen = new Set<number>();
    for (const b of batches) {
      expect(b.length).toBe(10);
      for (const i of b) seen.add(i);
    }
    expect(seen.size).toBe(100);
    expect(() => shuffledBatches(10, 11)).toThrow(/batchSize/);
  });

  it('randomPermutation is uniform over the 6 permutations of 3 (chi-square, alpha 1e-5)', () => {
    const rng = seededTestRng('perm');
    const counts = new Map<string, number>();
    const trials = 6000;
    for (let t = 0; t < trials; t++) {
      const key = Array.from(randomPermutation(3, rng)).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    const observed = [...counts.values()];
    expect(chiSquareStatistic(observed, new Array(6).fill(trials / 6))).toBeLessThan(chiSquareCritical(5, 1e-5));
  });
});
