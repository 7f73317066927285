/**
 * The table-driven exact discrete Gaussian sampler (secure-noise regime): its envelope weights are rigorous upper
 * bounds (checked with BigInt bounds), its fast acceptance estimates bracket the exact probability within the
 * 2^-30 margin, its exact acceptance and tail paths have the right frequencies, and its draws fit N_Z(0, s^2).
 * Every statistical check is seeded with a two-sided false-failure probability of 1e-5 (4.41717 standard
 * errors, or a chi-square critical value at alpha = 1e-5).
 */
import { seededTestRng } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import { expNegApprox, expNegBounds, rationalFromDouble } from '../src/mechanisms/exact-exp.ts';
import { GaussianTable, gaussianTable } from '../src/mechanisms/gaussian-table.ts';
import { DiscreteGaussianSampler } from '../src/mechanisms/samplers.ts';
import { WordSource } from '../src/mechanisms/words.ts';
import { chiSquareCritical, chiSquareStatistic, meanVariance, Z_1E5 } from '../../../test/support/stats.ts';

/** gamma = a^2 / (2 s^2) as an exact rational. */
function gammaOf(a: number, s: number): { num: bigint; den: bigint } {
  const r = rationalFromDouble(s);
  return { num: BigInt(a) ** 2n * r.den * r.den, den: 2n * r.num * r.num };
}

describe('table discrete Gaussian: envelope', () => {
  for (const s of [4096.37, 2 ** 29.5, 1_000_000_007.25]) {
    it(`s = ${s}: every weight H_j is at least D exp(-(jW)^2 / (2 s^2)) (exact BigInt check)`, () => {
      const t = new GaussianTable(s);
      expect(t.width * 32).toBeLessThanOrEqual(s);
      expect(t.width * 64).toBeGreaterThan(s);
      expect(t.buckets * t.width).toBeGreaterThanOrEqual(8 * s);
      // the restart class is small, and the alias table gives every class exactly its weight / 2^32
      expect(t.classWeights[t.buckets + 1]).toBeLessThan(2 ** 32 * 0.01);
      const mass = new Float64Array(t.classWeights.length);
      const capacity = 2 ** 22;
      for (let col = 0; col < t.thr.length; col++) {
        mass[col] += t.thr[col];
        mass[t.alias[col]] += capacity - t.thr[col];
      }
      expect(Array.from(mass)).toEqual(Array.from(t.classWeights));
      expect(t.classWeights.reduce((x, y) => x + y, 0)).toBe(2 ** 32);
      const prec = 90;
      for (let j = 0; j <= t.buckets; j++) {
        const g = gammaOf(j * t.width, s);
        const [, hi] = g.num === 0n ? [0n, 1n << BigInt(prec)] : expNegBounds(g.num, g.den, prec);
        expect(hi * BigInt(t.scale) <= BigInt(t.weights[j]) << BigInt(prec), `bucket ${j}`).toBe(true);
      }
    });
  }

  it('the fast acceptance estimate is within 2^-31 relative of the exact probability', () => {
    const s = 2 ** 29.5 + 12345.5;
    const t = new GaussianTable(s);
    const rng = seededTestRng('table-bracket');
    const prec = 100;
    for (let k = 0; k < 400; k++) {
      const c = rng.nextUint32() % t.buckets;
      const a = c * t.width + (rng.nextUint32() & t.widthMask);
      const p = expNegApprox(a * a * t.inv2s2) * t.accept[c];
      const g = gammaOf(a, s);
      const [lo, hi] = g.num === 0n ? [1n << BigInt(prec), 1n << BigInt(prec)] : expNegBounds(g.num, g.den, prec);
      // exact = exp(-gamma) D / H in [lo, hi] D / (H 2^prec); compare with p (1 -/+ 2^-31) on a 2^-60 grid
      const H = BigInt(t.weights[c]);
      const D = BigInt(t.scale);
      const pLo = BigInt(Math.floor(p * (1 - 2 ** -31) * 2 ** 60));
      const pHi = BigInt(Math.ceil(p * (1 + 2 ** -31) * 2 ** 60));
      expect((pLo * H) << BigInt(prec) <= (lo * D) << 60n, `a = ${a}`).toBe(true);
      expect((pHi * H) << BigInt(prec) >= (hi * D) << 60n, `a = ${a}`).toBe(true);
    }
  });
});

describe('table discrete Gaussian: exact paths', () => {
  it('the exact acceptance, forced on every draw, accepts with probability exp(-gamma) D / H', () => {
    const s = 2 ** 20 + 0.5;
    const t = new GaussianTable(s);
    const src = new WordSource(seededTestRng('table-exact'));
    const c = 40;
    const a = c * t.width + 12_345;
    const p = expNegApprox(a * a * t.inv2s2) * t.accept[c];
    const n = 20_000;
    let hits = 0;
    for (let i = 0; i < n; i++) if (t.exactAccept(src.next(), a, BigInt(t.weights[c]), 1n, src)) hits++;
    expect(Math.abs(hits / n - p)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt((p * (1 - p)) / n));
  });

  it('the exact acceptance with a tail factor: probability exp(-gamma) D 15 / (16 H)', () => {
    const s = 2 ** 20 + 0.5;
    const t = new GaussianTable(s);
    const src = new WordSource(seededTestRng('table-exact-factor'));
    const c = 10;
    const a = c * t.width + 999;
    const p = (expNegApprox(a * a * t.inv2s2) * t.accept[c] * 15) / 16;
    const n = 20_000;
    let hits = 0;
    for (let i = 0; i < n; i++) if (t.exactAccept(src.next(), a, 16n * BigInt(t.weights[c]), 15n, src)) hits++;
    expect(Math.abs(hits / n - p)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt((p * (1 - p)) / n));
  });

  it('the tail class (reached with probability 16 H_K / 2^32, below 1e-8) proposes beyond K W and rarely accepts', () => {
    const s = 2 ** 20 + 0.5;
    const t = new GaussianTable(s);
    const src = new WordSource(seededTestRng('table-tail'));
    const K = t.buckets;
    const W = t.width;
    expect((16 * t.weights[K]) / 2 ** 32).toBeLessThan(1e-8);
    // Expected acceptance: sum_i (1/16)(15/16)^i E_offset[f((K+i)W + offset) D / (H_K (15/16)^i)] (midpoint rule)
    const dens = (a: number): number => Math.exp(-(a * a) / (2 * s * s));
    let expected = 0;
    for (let i = 0; i < 200; i++) {
      let mean = 0;
      for (let k = 0; k < 256; k++) mean += dens((K + i) * W + ((k + 0.5) / 256) * W) / 256;
      expected += (1 / 16) * mean * (t.scale / t.weights[K]);
    }
    const n = 2000;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const a = t.tail(src.next() & t.widthMask, src);
      if (a >= 0) {
        expect(a).toBeGreaterThanOrEqual(K * W);
        hits++;
      }
    }
    // Poisson with mean n * expected (below 0.01): 4 or more hits has probability below 1e-9.
    expect(n * expected).toBeLessThan(0.01);
    expect(hits).toBeLessThan(4);
  });
});

describe('table discrete Gaussian: distribution', () => {
  it('N_Z(0, 4096.37^2): chi-square fit on 34 bins of s/4, P(0 sign) and moments (125,000 draws)', () => {
    const s = 4096.37;
    const sampler = new DiscreteGaussianSampler(s);
    expect(sampler.table).not.toBeNull();
    const src = new WordSource(seededTestRng('table-fit'));
    const n = 125_000;
    const xs = sampler.fill(new Float64Array(n), 1, src); // the hot loop used by sampleGaussianNoise
    const mv = meanVariance(xs);
    expect(Math.abs(mv.mean)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt((s * s) / n));
    expect(Math.abs(mv.variance - s * s)).toBeLessThanOrEqual((Z_1E5 * Math.SQRT2 * s * s) / Math.sqrt(n));
    // exact pmf on [-12 s, 12 s] (the rest has probability below e^-72)
    const lim = Math.ceil(12 * s);
    let z = 0;
    for (let k = -lim; k <= lim; k++) z += Math.exp(-(k * k) / (2 * s * s));
    const binW = s / 4;
    const edges: number[] = [];
    for (let b = -16; b <= 16; b++) edges.push(Math.round(b * binW));
    const cells = edges.length + 1;
    const expCount = new Float64Array(cells);
    for (let k = -lim; k <= lim; k++) {
      let c = 0;
      while (c < edges.length && k >= edges[c]) c++;
      expCount[c] += (Math.exp(-(k * k) / (2 * s * s)) / z) * n;
    }
    const obs = new Float64Array(cells);
    for (const x of xs) {
      let c = 0;
      while (c < edges.length && x >= edges[c]) c++;
      obs[c]++;
    }
    const stat = chiSquareStatistic(Array.from(obs), Array.from(expCount));
    expect(stat).toBeLessThanOrEqual(chiSquareCritical(cells - 1, 1e-5));
    let pos = 0;
    let neg = 0;
    for (const x of xs) {
      expect(Number.isInteger(x)).toBe(true);
      if (x > 0) pos++;
      else if (x < 0) neg++;
    }
    expect(Math.abs(pos / (pos + neg) - 0.5)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(0.25 / (pos + neg)));
  });

  it('single draws (sample) have mean 0 and variance s^2 (125,000 draws)', () => {
    const s = 5000.5;
    const t = gaussianTable(s);
    const src = new WordSource(seededTestRng('table-single'));
    const n = 125_000;
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = t.sample(src);
    const mv = meanVariance(xs);
    expect(Math.abs(mv.mean)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt((s * s) / n));
    expect(Math.abs(mv.variance - s * s)).toBeLessThanOrEqual((Z_1E5 * Math.SQRT2 * s * s) / Math.sqrt(n));
  });

  it('tables are cached per s and the range outside [2^12, 2^36) uses CKS20', () => {
    expect(gaussianTable(2 ** 29.5)).toBe(gaussianTable(2 ** 29.5));
    expect(new DiscreteGaussianSampler(100).table).toBeNull();
    expect(new DiscreteGaussianSampler(2 ** 37).table).toBeNull();
    expect(() => new GaussianTable(100)).toThrow(RangeError);
  });
});
