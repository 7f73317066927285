/**
 * Statistical and exactness tests of the integer samplers (Canonne, Kamath & Steinke 2020). Every check is
 * seeded; each mean/variance check uses Google's recipe (125,000 samples, 4.41717 standard errors: two-sided
 * false-failure probability 1e-5 per check) and each goodness-of-fit test a chi-square critical value at
 * alpha = 1e-5, so the whole file fails falsely with probability below 1e-3.
 */
import { seededTestRng } from '@ppml/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideExpNeg,
  expNegApprox,
  expNegBounds,
  fastLessThanExpNeg,
  LazyUniform,
  rationalFromDouble,
} from '../src/mechanisms/exact-exp.ts';
import {
  fillDiscreteGaussian,
  fillDiscreteLaplace,
  sampleBernoulliExp,
  sampleDiscreteGaussian,
  sampleDiscreteLaplace,
  sampleGeometric,
} from '../src/mechanisms/index.ts';
import { selectionGamma } from '../src/mechanisms/exponential.ts';
import { bernoulliExpFast, DiscreteGaussianSampler } from '../src/mechanisms/samplers.ts';
import { WordSource } from '../src/mechanisms/words.ts';
import { chiSquareCritical, chiSquareStatistic, meanVariance, Z_1E5 } from '../../../test/support/stats.ts';
import dgVectors from './vectors/mechanisms-discrete-gaussian.json' with { type: 'json' };

const N = 125_000;

/** Mean within 4.41717 standard errors and variance within 4.41717 sqrt((mu4 - s^4)/n). */
function expectMoments(xs: Float64Array, mean: number, variance: number, kurtosis: number, what: string): void {
  const mv = meanVariance(xs);
  const meanTol = Z_1E5 * Math.sqrt(variance / xs.length);
  const varTol = (Z_1E5 * Math.sqrt(kurtosis - 1) * variance) / Math.sqrt(xs.length);
  expect(Math.abs(mv.mean - mean), `${what} mean ${mv.mean} vs ${mean}`).toBeLessThanOrEqual(meanTol);
  expect(Math.abs(mv.variance - variance), `${what} variance ${mv.variance} vs ${variance}`).toBeLessThanOrEqual(varTol);
}

/** Chi-square goodness of fit of integer samples against pmf(k) on the cells [-K, K] plus two tails. */
function expectFits(xs: Float64Array, pmf: (k: number) => number, what: string): void {
  let K = 0;
  while (pmf(K + 1) * xs.length >= 5) K++;
  const cells = 2 * K + 3;
  const obs = new Float64Array(cells);
  const exp = new Float64Array(cells);
  for (const x of xs) {
    if (x < -K) obs[0]++;
    else if (x > K) obs[cells - 1]++;
    else obs[x + K + 1]++;
  }
  let inside = 0;
  for (let k = -K; k <= K; k++) {
    exp[k + K + 1] = pmf(k) * xs.length;
    inside += pmf(k);
  }
  exp[0] = exp[cells - 1] = ((1 - inside) / 2) * xs.length;
  // merge empty-expectation tails into the neighbouring cell
  const o: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < cells; i++) {
    if (exp[i] < 5 && o.length > 0 && (i === cells - 1 || i === 0)) {
      o[o.length - 1] += obs[i];
      e[e.length - 1] += exp[i];
    } else if (exp[i] < 5 && i === 0) {
      obs[1] += obs[0];
      exp[1] += exp[0];
    } else {
      o.push(obs[i]);
      e.push(exp[i]);
    }
  }
  const stat = chiSquareStatistic(o, e);
  const crit = chiSquareCritical(Math.max(o.length - 1, 10), 1e-5);
  expect(stat, `${what}: chi-square ${stat} over ${o.length} cells, critical ${crit}`).toBeLessThanOrEqual(crit);
}

/**
 * The invariants OpenDP checks for its CKS20 samplers (opendp/opendp, rust/src/traits/samplers/cks20/test/
 * symmetric.rs, `per_k_symmetry_matches_theory` and `sharp_invariants`): P(X = 0) and sign symmetry, each a
 * binomial proportion within 4.41717 standard errors (false failure 1e-5 per check).
 */
function expectSymmetricWithP0(xs: Float64Array, p0: number, what: string): void {
  let zeros = 0;
  let pos = 0;
  let neg = 0;
  for (const x of xs) {
    if (x === 0) zeros++;
    else if (x > 0) pos++;
    else neg++;
  }
  const n = xs.length;
  expect(Math.abs(zeros / n - p0), `${what} P(0)`).toBeLessThanOrEqual(Z_1E5 * Math.sqrt((p0 * (1 - p0)) / n));
  const m = pos + neg;
  expect(Math.abs(pos / m - 0.5), `${what} sign symmetry`).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(0.25 / m));
}

describe('exact exp(-gamma) machinery', () => {
  it('rationalFromDouble is exact', () => {
    expect(rationalFromDouble(0.5)).toEqual({ num: 1n, den: 2n });
    expect(rationalFromDouble(-3)).toEqual({ num: -3n, den: 1n });
    expect(rationalFromDouble(0.1)).toEqual({ num: 3602879701896397n, den: 36028797018963968n });
    expect(rationalFromDouble(5e-324)).toEqual({ num: 1n, den: 1n << 1074n });
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const r = rationalFromDouble(x);
        // num/den converts back to the same double
        const back = Number(r.num) / Number(r.den);
        return r.den > 0n && (Number.isFinite(back) && r.den < 1n << 1000n ? back === x || Object.is(x, -0) : true);
      }),
      { numRuns: 300 },
    );
  });

  it('expNegBounds bracket exp(-gamma) tightly (reference: e^-1/3 and e^-73/7 to 30 digits, mpmath)', () => {
    const cases: Array<[bigint, bigint, string]> = [
      [1n, 3n, '0.7165313105737892504256040969253797'],
      [73n, 7n, '0.00002957528745644925214724130945922157'],
      [0n, 1n, '1'],
      [5n, 1n, '0.006737946999085467096636048423148424'],
    ];
    for (const [num, den, ref] of cases) {
      const prec = 96;
      const [lo, hi] = expNegBounds(num, den, prec);
      // ref * 2^96 as a bigint (30 significant digits are enough at 96 bits for these magnitudes)
      const [ip, fp = ''] = ref.split('.');
      const digits = BigInt(ip + fp.padEnd(38, '0').slice(0, 38));
      const scaled = (digits << 96n) / 10n ** 38n;
      expect(lo <= scaled + 1n && scaled - 1n <= hi, `${num}/${den}`).toBe(true);
      expect(hi - lo < 10_000n, `${num}/${den} width ${hi - lo}`).toBe(true);
    }
  });

  it('the fast estimate is within 2^-44 of exp(-g) and the fast path never contradicts the exact bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 30 }), fc.integer({ min: 1, max: 2 ** 24 }), fc.nat({ max: 0xffff_ffff }), (a, b, w) => {
        const g = a / b;
        if (g > 100) return true;
        const [lo, hi] = expNegBounds(BigInt(a), BigInt(b), 240);
        const p = Number(lo) / 2 ** 240;
        const approx = expNegApprox(g);
        if (p > 1e-300 && Math.abs(approx / p - 1) > 2 ** -44) return false;
        const d = fastLessThanExpNeg(w, g);
        // decided true: the whole cell [w, w+1) * 2^-32 lies below p; decided false: it lies above
        if (d === 1) return BigInt(w + 1) << 208n <= lo;
        if (d === 0) return BigInt(w) << 208n >= hi;
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('the 8-bit and 32-bit fast decisions never contradict the exact bounds', () => {
    /** An Rng whose every 32-bit word is `word`: byte() then reads its low byte and next() the whole word. */
    const constant = (word: number): WordSource =>
      new WordSource({
        fillBytes(out: Uint8Array): void {
          new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2).fill(word);
        },
        nextUint32: () => word,
      });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 30 }),
        fc.integer({ min: 1, max: 2 ** 20 }),
        fc.nat({ max: 0xffff_ffff }),
        (a, b, word) => {
          const src = constant(word);
          const d = decideExpNeg(src, a / b);
          const w = (word & 255) * 2 ** 24 + (word >>> 8); // the 32-bit prefix the decision read
          const [lo, hi] = expNegBounds(BigInt(a), BigInt(b), 240);
          if (d === 1) return BigInt(w + 1) << 208n <= lo;
          if (d === 0) return BigInt(w) << 208n >= hi;
          return src.prefix === w;
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('the lazy comparison is exact when forced on every draw (frequency of u < e^-1/3)', () => {
    const src = new WordSource(seededTestRng('lazy'));
    let hits = 0;
    const n = 40_000;
    for (let i = 0; i < n; i++) if (new LazyUniform(src.next()).lessThanExpNeg(1n, 3n, src)) hits++;
    const p = 0.7165313105737893;
    expect(Math.abs(hits / n - p)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt((p * (1 - p)) / n));
  });

  it('the lazy comparison resolves cells that straddle p by drawing more bits', () => {
    // Put the first word exactly at floor(p 2^32): the fast path cannot decide, the BigInt path must.
    const p = 0.7165313105737893;
    const w = Math.floor(p * 2 ** 32);
    expect(fastLessThanExpNeg(w, 1 / 3)).toBe(-1);
    const src = new WordSource(seededTestRng('straddle'));
    let hits = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) if (new LazyUniform(w).lessThanExpNeg(1n, 3n, src)) hits++;
    // conditional probability P(u < p | first word = w) = p 2^32 - w
    const cond = p * 2 ** 32 - w;
    expect(Math.abs(hits / n - cond)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt((cond * (1 - cond)) / n) + 1e-9);
  });
});

describe('Bernoulli(exp(-gamma))', () => {
  for (const [gamma, label] of [
    [{ numerator: 1n, denominator: 3n }, '1/3'],
    [2.5, '2.5'],
    [0, '0'],
    [{ numerator: 7n, denominator: 2n }, '7/2'],
  ] as const) {
    it(`CKS20 Alg. 1 and the fast path both have P(true) = exp(-${label})`, () => {
      const g = typeof gamma === 'number' ? gamma : Number(gamma.numerator) / Number(gamma.denominator);
      const p = Math.exp(-g);
      const rng = seededTestRng(`bern-${label}`);
      const src = new WordSource(seededTestRng(`bern-fast-${label}`));
      const r = typeof gamma === 'number' ? rationalFromDouble(gamma) : { num: gamma.numerator, den: gamma.denominator };
      let a = 0;
      let b = 0;
      for (let i = 0; i < N; i++) {
        if (sampleBernoulliExp(gamma, rng)) a++;
        if (bernoulliExpFast(g, r.num, r.den, src)) b++;
      }
      const tol = Z_1E5 * Math.sqrt((p * (1 - p)) / N) + 1e-12;
      expect(Math.abs(a / N - p), 'CKS').toBeLessThanOrEqual(tol);
      expect(Math.abs(b / N - p), 'fast').toBeLessThanOrEqual(tol);
    });
  }

  it('rejects bad gamma', () => {
    expect(() => sampleBernoulliExp(Number.NaN)).toThrow(/gamma must be a finite number >= 0, got NaN/);
    expect(() => sampleBernoulliExp(-1)).toThrow(RangeError);
    expect(() => sampleBernoulliExp(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => sampleBernoulliExp({ numerator: 1n, denominator: 0n })).toThrow(/gamma.denominator/);
    expect(() => sampleBernoulliExp('1' as unknown as number)).toThrow(TypeError);
  });
});

describe('geometric and discrete Laplace', () => {
  const dlVariance = (t: number): number => {
    const q = Math.exp(-1 / t);
    return (2 * q) / (1 - q) ** 2;
  };
  // Excess kurtosis of the discrete Laplace tends to 3 (mu4 = 6 sigma^4 for the continuous one); for small
  // scales the exact fourth moment is used.
  const dlKurtosis = (t: number): number => {
    const q = Math.exp(-1 / t);
    let m2 = 0;
    let m4 = 0;
    let z = 0;
    for (let k = -2000; k <= 2000; k++) {
      const w = q ** Math.abs(k);
      z += w;
      m2 += w * k * k;
      m4 += w * k ** 4;
    }
    return t > 100 ? 6 : m4 / z / (m2 / z) ** 2;
  };

  for (const t of [0.5, 1, 2.5, 10, 1000, 2 ** 40]) {
    it(`discrete Laplace scale ${t}: mean, variance (125,000 samples) and goodness of fit`, () => {
      const xs = fillDiscreteLaplace(new Float64Array(N), t, seededTestRng(`dl-${t}`));
      const variance = dlVariance(t);
      expectMoments(xs, 0, variance, dlKurtosis(t), `DLap(${t})`);
      expect(xs.every((x) => Number.isInteger(x))).toBe(true);
      const q = Math.exp(-1 / t);
      expectSymmetricWithP0(xs, (1 - q) / (1 + q), `DLap(${t})`);
      if (t <= 10) expectFits(xs, (k) => ((1 - q) / (1 + q)) * q ** Math.abs(k), `DLap(${t})`);
    });
  }

  it('single draws agree with the vector form (same seed, same stream)', () => {
    const a = new Float64Array(50);
    const rng = seededTestRng('same');
    for (let i = 0; i < 50; i++) a[i] = sampleDiscreteLaplace(3, rng);
    const b = fillDiscreteLaplace(new Float64Array(50), 3, seededTestRng('same'));
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('geometric: P(X >= k) = exp(-k/scale)', () => {
    const rng = seededTestRng('geo');
    const scale = 2.5;
    const xs = new Float64Array(N);
    for (let i = 0; i < N; i++) xs[i] = sampleGeometric(scale, rng);
    const q = Math.exp(-1 / scale);
    const mean = q / (1 - q);
    const variance = q / (1 - q) ** 2;
    const mv = meanVariance(xs);
    expect(Math.abs(mv.mean - mean)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(variance / N));
    let K = 0;
    while ((1 - q) * q ** (K + 1) * N >= 5) K++;
    const obs = new Float64Array(K + 2);
    const exp = new Float64Array(K + 2);
    for (const x of xs) obs[Math.min(x, K + 1)]++;
    for (let k = 0; k <= K; k++) exp[k] = (1 - q) * q ** k * N;
    exp[K + 1] = q ** (K + 1) * N;
    expect(chiSquareStatistic(obs, exp)).toBeLessThanOrEqual(chiSquareCritical(Math.max(K + 1, 10), 1e-5));
  });

  it('rejects bad scales with RangeError/TypeError naming the parameter', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 46]) {
      expect(() => sampleDiscreteLaplace(bad)).toThrow(/scale must be a finite number in \(0, /);
      expect(() => sampleGeometric(bad)).toThrow(RangeError);
    }
    expect(() => sampleDiscreteLaplace('2' as unknown as number)).toThrow(TypeError);
    expect(() => fillDiscreteLaplace([] as unknown as Float64Array, 1)).toThrow(/out must be a Float64Array/);
  });
});

describe('discrete Gaussian', () => {
  for (const c of dgVectors.cases) {
    it(`N_Z(0, ${c.sigma}^2): mean, variance and goodness of fit against the mpmath pmf`, () => {
      const xs = fillDiscreteGaussian(new Float64Array(N), c.sigma, seededTestRng(`dg-${c.sigma}`));
      // kurtosis 3 for sigma >= 1; for sigma = 0.5 use the exact moments from the pmf
      let kurt = 3;
      if (c.sigma < 1) {
        let m4 = 0;
        for (let k = 1; k < c.pmf0to5.length; k++) m4 += 2 * c.pmf0to5[k] * k ** 4;
        kurt = m4 / c.variance ** 2;
      }
      expectMoments(xs, 0, c.variance, kurt, `N_Z(${c.sigma})`);
      expectSymmetricWithP0(xs, c.pmf0to5[0], `N_Z(${c.sigma})`);
      if (c.sigma <= 3) {
        const z = 1 / c.pmf0to5[0];
        expectFits(xs, (k) => Math.exp(-(k * k) / (2 * c.sigma * c.sigma)) / z, `N_Z(${c.sigma})`);
      }
    });
  }

  it('large sigma (2^29.5, the secure-noise regime): variance sigma^2', () => {
    const s = 2 ** 29.5;
    const xs = fillDiscreteGaussian(new Float64Array(N), s, seededTestRng('dg-big'));
    expectMoments(xs, 0, s * s, 3, 'N_Z(2^29.5)');
  });

  it('sampleDiscreteGaussian draws integers and rejects bad sigma', () => {
    const rng = seededTestRng('dg-one');
    for (let i = 0; i < 100; i++) expect(Number.isInteger(sampleDiscreteGaussian(2, rng))).toBe(true);
    for (const bad of [0, -2, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 41]) {
      expect(() => sampleDiscreteGaussian(bad)).toThrow(/sigma must be a finite number in \(0, 2\^40\]/);
    }
    expect(() => sampleDiscreteGaussian(null as unknown as number)).toThrow(TypeError);
  });
});

describe('exact fallbacks of the mechanisms', () => {
  it('the discrete Gaussian exact acceptance uses gamma = (|y| - sigma^2/t)^2 / (2 sigma^2)', () => {
    const sigma = 3.7;
    const s = new DiscreteGaussianSampler(sigma);
    const src = new WordSource(seededTestRng('dg-exact'));
    const n = 10_000;
    for (const a of [0, 2, 5, 9]) {
      const gamma = (a - (sigma * sigma) / s.t) ** 2 / (2 * sigma * sigma);
      const p = Math.exp(-gamma);
      let hits = 0;
      for (let i = 0; i < n; i++) if (s.exactAccept(src.next(), a, src)) hits++;
      expect(Math.abs(hits / n - p), `|y| = ${a}`).toBeLessThanOrEqual(Z_1E5 * Math.sqrt((p * (1 - p)) / n) + 1e-9);
    }
  });

  it('the selection mechanisms compute gamma = eps (best - u) / divisor exactly', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1e3, noNaN: true }),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        (epsilon, best, gap, divisor) => {
          const score = best - gap;
          const g = selectionGamma(epsilon, best, score, divisor);
          const exact = Number((g.num << 80n) / g.den) / 2 ** 80;
          const approx = (epsilon * (best - score)) / divisor;
          return g.den > 0n && g.num >= 0n && Math.abs(exact - approx) <= 1e-12 * Math.max(1, approx);
        },
      ),
      { numRuns: 200 },
    );
  });
});
