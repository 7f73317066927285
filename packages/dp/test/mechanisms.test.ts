/**
 * Mechanism tests: reference values from Google's Go tests and an independent mpmath evaluation
 * (test/vectors/mechanisms-*.json, with sources and tolerances), Google's statistical recipe for the Laplace
 * and Gaussian mechanisms (125,000 samples, 4.41717 standard errors: false failure 1e-5 per check), grid
 * properties, selection and randomized response, and property tests for bad inputs.
 */
import { seededTestRng } from '@ppml/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyticGaussianSigma,
  ceilPowerOfTwo,
  classicGaussianSigma,
  exponentialMechanism,
  gaussianDelta,
  gaussianGranularity,
  gaussianMechanism,
  laplaceGranularity,
  laplaceMechanism,
  permuteAndFlip,
  randomizedResponse,
  sampleGaussianNoise,
  sampleLaplaceNoise,
} from '../src/mechanisms/index.ts';
import { chiSquareCritical, chiSquareStatistic, meanVariance, Z_1E5 } from '../../../test/support/stats.ts';
import analytic from './vectors/mechanisms-analytic-gaussian.json' with { type: 'json' };
import google from './vectors/mechanisms-google.json' with { type: 'json' };
import { erfc, normalCdf } from '../src/special.ts';

const LN3 = Math.log(3);
const N = 125_000;

function num(v: number | string): number {
  if (typeof v === 'number') return v;
  const table: Record<string, number> = {
    ln3: LN3,
    '2ln3': 2 * LN3,
    Infinity: Number.POSITIVE_INFINITY,
    '2/ln3^2': 2 / (LN3 * LN3),
    '2/(2ln3)^2': 2 / (2 * LN3 * 2 * LN3),
  };
  const x = table[v];
  if (x === undefined) throw new Error(`unknown constant ${v}`);
  return x;
}

describe('normal CDF and erfc (mpmath reference, relative 1e-14)', () => {
  it('matches erfc over the whole line', () => {
    for (const c of analytic.erfc.cases) {
      const got = erfc(c.x);
      expect(Math.abs(got - c.erfc), `erfc(${c.x})`).toBeLessThanOrEqual(1e-14 * c.erfc);
    }
    expect(normalCdf(0)).toBe(0.5);
    expect(Math.abs(normalCdf(-1.959963984540054) - 0.025)).toBeLessThan(1e-15);
  });
});

describe('analytic Gaussian calibration (Balle & Wang 2018, Thm. 8)', () => {
  it("reproduces Google's TestDeltaForGaussian", () => {
    for (const c of google.deltaForGaussian.cases) {
      const sensitivity = num(c.lInf) * Math.sqrt(c.l0);
      const got = gaussianDelta({ sigma: c.sigma, epsilon: num(c.epsilon), sensitivity });
      expect(Math.abs(got - c.wantDelta), c.desc).toBeLessThanOrEqual(c.allowError);
    }
  });

  it("inverts delta within [sigma, 1.001 sigma] (Google's TestSigmaForGaussianInvertsDeltaForGaussian)", () => {
    for (const c of google.sigmaInvertsDelta.cases) {
      const sensitivity = c.lInf * Math.sqrt(c.l0);
      const delta = gaussianDelta({ sigma: c.sigma, epsilon: c.epsilon, sensitivity });
      const got = analyticGaussianSigma({ epsilon: c.epsilon, delta, sensitivity });
      expect(got, c.desc).toBeGreaterThanOrEqual(c.sigma);
      expect(got, c.desc).toBeLessThanOrEqual(1.001 * c.sigma);
    }
  });

  it("gives sigma for Google's threshold-test noise deltas", () => {
    for (const c of google.noiseDeltaForSigma.cases) {
      const got = analyticGaussianSigma({ epsilon: num(c.epsilon), delta: c.noiseDelta, sensitivity: c.lInf * Math.sqrt(c.l0) });
      expect(got, c.desc).toBeGreaterThanOrEqual(c.sigma);
      expect(got, c.desc).toBeLessThanOrEqual(1.001 * c.sigma);
    }
  });

  it('is never below the tight sigma and within 0.1% above it (mpmath reference)', () => {
    for (const c of analytic.cases) {
      for (const scale of [1, 0.01, 250]) {
        const got = analyticGaussianSigma({ epsilon: c.epsilon, delta: c.delta, sensitivity: c.sensitivity * scale });
        const tight = c.sigmaTight * scale;
        expect(got, `eps=${c.epsilon} delta=${c.delta}`).toBeGreaterThanOrEqual(tight * (1 - 1e-15));
        expect(got, `eps=${c.epsilon} delta=${c.delta}`).toBeLessThanOrEqual(1.001 * tight);
      }
    }
  });

  it('property: delta(sigma) <= delta and sigma is minimal to 0.1%', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 20, noNaN: true }),
        fc.double({ min: 1e-12, max: 0.5, noNaN: true }),
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        (epsilon, delta, sensitivity) => {
          const s = analyticGaussianSigma({ epsilon, delta, sensitivity });
          return (
            gaussianDelta({ sigma: s, epsilon, sensitivity }) <= delta && gaussianDelta({ sigma: s / 1.001, epsilon, sensitivity }) > delta
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('classic sigma only for epsilon < 1 and never below the analytic one', () => {
    const c = classicGaussianSigma({ epsilon: 0.5, delta: 1e-5, sensitivity: 1 });
    expect(Math.abs(c - Math.sqrt(2 * Math.log(1.25e5)) / 0.5)).toBeLessThan(1e-12);
    expect(c).toBeGreaterThan(analyticGaussianSigma({ epsilon: 0.5, delta: 1e-5, sensitivity: 1 }));
    expect(() => classicGaussianSigma({ epsilon: 1, delta: 1e-5, sensitivity: 1 })).toThrow(/epsilon must be a number in \(0, 1\)/);
    expect(() => classicGaussianSigma({ epsilon: 2, delta: 1e-5, sensitivity: 1 })).toThrow(RangeError);
  });

  it('rejects bad calibration inputs with errors naming the parameter', () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ epsilon: Number.NaN, delta: 1e-5, sensitivity: 1 }, /epsilon/],
      [{ epsilon: 0, delta: 1e-5, sensitivity: 1 }, /epsilon/],
      [{ epsilon: -1, delta: 1e-5, sensitivity: 1 }, /epsilon/],
      [{ epsilon: Number.POSITIVE_INFINITY, delta: 1e-5, sensitivity: 1 }, /epsilon/],
      [{ epsilon: 1, delta: 0, sensitivity: 1 }, /delta/],
      [{ epsilon: 1, delta: 1, sensitivity: 1 }, /delta/],
      [{ epsilon: 1, delta: Number.NaN, sensitivity: 1 }, /delta/],
      [{ epsilon: 1, delta: 1e-5, sensitivity: -1 }, /sensitivity/],
      [{ epsilon: 1, delta: 1e-5, sensitivity: Number.POSITIVE_INFINITY }, /sensitivity/],
    ];
    for (const [p, re] of bad) {
      expect(() => analyticGaussianSigma(p as never)).toThrow(re);
      expect(() => gaussianMechanism(p as never)).toThrow(re);
    }
    expect(() => analyticGaussianSigma({ epsilon: '1', delta: 1e-5, sensitivity: 1 } as never)).toThrow(TypeError);
  });
});

describe('granularity', () => {
  it('ceilPowerOfTwo is exact at and around powers of two', () => {
    expect(ceilPowerOfTwo(1)).toBe(1);
    expect(ceilPowerOfTwo(1 + 2 ** -52)).toBe(2);
    expect(ceilPowerOfTwo(0.75)).toBe(1);
    expect(ceilPowerOfTwo(2 ** -1074)).toBe(2 ** -1074);
    expect(ceilPowerOfTwo(2 ** 1000 * 1.5)).toBe(2 ** 1001);
    fc.assert(
      fc.property(fc.double({ min: 1e-300, max: 1e300, noNaN: true }), (x) => {
        const p = ceilPowerOfTwo(x);
        return p >= x && p / 2 < x && Math.log2(p) === Math.round(Math.log2(p));
      }),
      { numRuns: 300 },
    );
  });

  it("Laplace outputs are multiples of Google's granularity cases", () => {
    for (const c of google.laplaceGranularity.cases) {
      const g = laplaceGranularity({ epsilon: c.epsilon, sensitivity: c.l1Sensitivity });
      expect(g / c.wantGranularity, `eps=${c.epsilon}`).toBe(Math.round(g / c.wantGranularity));
      expect(g).toBeGreaterThanOrEqual(c.wantGranularity);
      expect(g).toBeLessThanOrEqual(2 * c.wantGranularity);
      if (c.epsilon < 1e-13) continue; // the mechanism needs the noise below 2^46 grid steps
      const rng = seededTestRng(`gran-${c.epsilon}`);
      const lap = laplaceMechanism({ epsilon: c.epsilon, sensitivity: c.l1Sensitivity, rng });
      for (let i = 0; i < 200; i++) {
        const x = (i / 20 - 5) * c.wantGranularity;
        const y = lap.addNoise(x);
        expect(y / c.wantGranularity).toBe(Math.round(y / c.wantGranularity));
      }
    }
    expect(() => laplaceMechanism({ epsilon: google.laplaceEpsilonBounds.rejectedEpsilon, sensitivity: 1 })).toThrow(
      /epsilon must be a finite number >= 2\^-50/,
    );
  });

  it('Gaussian granularity keeps sigma within [2^29, 2^30] grid steps', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-200, max: 1e200, noNaN: true }), (sigma) => {
        const g = gaussianGranularity(sigma);
        const r = sigma / g;
        return r >= 2 ** 29 && r <= 2 ** 30;
      }),
      { numRuns: 300 },
    );
  });
});

describe("Laplace mechanism (Google's TestLaplaceStatistics)", () => {
  for (const c of google.laplaceStatistics.cases) {
    const epsilon = num(c.epsilon);
    const sensitivity = c.l0 * c.lInf;
    const variance = num(c.variance);
    it(`eps=${epsilon.toFixed(4)} D=${sensitivity} mean=${c.mean}`, () => {
      const lap = laplaceMechanism({ epsilon, sensitivity, rng: seededTestRng(`lap-${epsilon}-${sensitivity}-${c.mean}`) });
      const xs = new Float64Array(N);
      for (let i = 0; i < N; i++) xs[i] = lap.addNoise(c.mean);
      const mv = meanVariance(xs);
      expect(Math.abs(mv.mean - c.mean)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(variance / N));
      expect(Math.abs(mv.variance - variance)).toBeLessThanOrEqual((Z_1E5 * Math.sqrt(5) * variance) / Math.sqrt(N));
      const g = lap.granularity;
      expect(xs.every((y) => Number.isInteger(y / g))).toBe(true);
    });
  }

  it('vector form: every coordinate noised at the documented scale, outputs on the grid', () => {
    const lap = laplaceMechanism({ epsilon: 1, sensitivity: 1, rng: seededTestRng('lap-vec') });
    const xs = new Float64Array(N).fill(3.25);
    const ys = lap.addNoiseTo(xs);
    const scale = lap.noiseScale(N);
    expect(scale).toBeGreaterThan(1);
    expect(scale).toBeLessThan(1 + 1e-6);
    const mv = meanVariance(ys);
    const v = 2 * scale * scale;
    expect(Math.abs(mv.mean - 3.25)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(v / N));
    expect(Math.abs(mv.variance - v)).toBeLessThanOrEqual((Z_1E5 * Math.sqrt(5) * v) / Math.sqrt(N));
    const out = new Float64Array(3);
    expect(lap.addNoiseTo([1, 2, 3], out)).toBe(out);
    expect(lap.addNoiseTo([])).toHaveLength(0);
  });

  it('sampleLaplaceNoise has the requested variance', () => {
    const xs = sampleLaplaceNoise(new Float64Array(N), 2.5, seededTestRng('lap-noise'));
    const mv = meanVariance(xs);
    const v = 2 * 2.5 * 2.5;
    expect(Math.abs(mv.mean)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(v / N));
    expect(Math.abs(mv.variance - v)).toBeLessThanOrEqual((Z_1E5 * Math.sqrt(5) * v) / Math.sqrt(N));
  });
});

describe("Gaussian mechanism (Google's TestGaussianStatistics)", () => {
  for (const c of google.gaussianStatistics.cases) {
    const epsilon = num(c.epsilon);
    const sensitivity = c.lInf * Math.sqrt(c.l0);
    it(`eps=${epsilon.toFixed(4)} delta=${c.delta} D=${sensitivity} mean=${c.mean}`, () => {
      const gauss = gaussianMechanism({
        epsilon,
        delta: c.delta,
        sensitivity,
        rng: seededTestRng(`g-${epsilon}-${sensitivity}-${c.mean}`),
      });
      const xs = new Float64Array(N);
      for (let i = 0; i < N; i++) xs[i] = gauss.addNoise(c.mean);
      const mv = meanVariance(xs);
      expect(Math.abs(mv.mean - c.mean)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(c.variance / N));
      expect(Math.abs(mv.variance - c.variance)).toBeLessThanOrEqual((Z_1E5 * Math.SQRT2 * c.variance) / Math.sqrt(N));
      const g = gauss.granularity;
      expect(xs.every((y) => Number.isInteger(y / g))).toBe(true);
      expect(gauss.noiseSigma()).toBeGreaterThanOrEqual(gauss.sigma);
      expect(gauss.noiseSigma()).toBeLessThanOrEqual(gauss.sigma * (1 + 2e-6));
      expect(gauss.guarantee.rho).toBeCloseTo((sensitivity * sensitivity) / (2 * gauss.sigma ** 2), 12);
    });
  }

  it('sampleGaussianNoise: variance sigma^2 on a large vector, every value a multiple of the granularity', () => {
    const sigma = 1.7;
    const xs = sampleGaussianNoise(new Float64Array(N), sigma, seededTestRng('gauss-noise'));
    const mv = meanVariance(xs);
    expect(Math.abs(mv.mean)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt((sigma * sigma) / N));
    expect(Math.abs(mv.variance - sigma * sigma)).toBeLessThanOrEqual((Z_1E5 * Math.SQRT2 * sigma * sigma) / Math.sqrt(N));
    const g = gaussianGranularity(sigma);
    expect(xs.every((y) => Number.isInteger(y / g))).toBe(true);
    // Goodness of fit on 20 equiprobable normal cells (values are continuous to 2^-30 sigma).
    const cells = 20;
    const obs = new Float64Array(cells);
    for (const x of xs) obs[Math.min(cells - 1, Math.floor(normalCdf(x / sigma) * cells))]++;
    const expCounts = new Float64Array(cells).fill(N / cells);
    expect(chiSquareStatistic(obs, expCounts)).toBeLessThanOrEqual(chiSquareCritical(cells - 1, 1e-5));
  });

  it('sampleGaussianNoise rejects bad arguments', () => {
    expect(() => sampleGaussianNoise(new Float64Array(2), 0)).toThrow(/sigma must be a finite number > 0/);
    expect(() => sampleGaussianNoise(new Float64Array(2), Number.NaN)).toThrow(RangeError);
    expect(() => sampleGaussianNoise([0, 0] as unknown as Float64Array, 1)).toThrow(/out must be a Float64Array/);
  });

  it('vector noise includes the rounding allowance g sqrt(d)', () => {
    const gauss = gaussianMechanism({ epsilon: 1, delta: 1e-5, sensitivity: 1 });
    const d = 1_000_000;
    const expected = gauss.sigma * (1 + (gauss.granularity * Math.sqrt(d)) / 1) * (1 + 2 ** -20);
    expect(gauss.noiseSigma(d)).toBeGreaterThanOrEqual(expected * (1 - 1e-15));
    expect(gauss.noiseSigma(d)).toBeLessThan(expected * (1 + 1e-12));
  });
});

describe('clamping option', () => {
  it('clamps inputs to [lower, upper] before rounding and noising', () => {
    const lap = laplaceMechanism({ epsilon: 1, sensitivity: 1, clamp: [0, 1], rng: seededTestRng('clamp') });
    const gauss = gaussianMechanism({ epsilon: 1, delta: 1e-5, sensitivity: 1, clamp: [0, 1], rng: seededTestRng('clamp-g') });
    const n = 20_000;
    for (const m of [lap, gauss]) {
      const ys = m.addNoiseTo(new Float64Array(n).fill(1e9));
      const v = m === lap ? 2 * lap.noiseScale(n) ** 2 : gauss.noiseSigma(n) ** 2;
      expect(Math.abs(meanVariance(ys).mean - 1)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(v / n));
      let s = 0;
      for (let i = 0; i < n; i++) s += m.addNoise(-1e9);
      expect(Math.abs(s / n)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt((m === lap ? 2 * lap.noiseScale() ** 2 : gauss.noiseSigma() ** 2) / n));
    }
    expect(() => laplaceMechanism({ epsilon: 1, sensitivity: 1, clamp: [1, 0] })).toThrow(/clamp lower must be < upper/);
    expect(() => gaussianMechanism({ epsilon: 1, delta: 1e-5, sensitivity: 1, clamp: [Number.NaN, 0] })).toThrow(/clamp\[0\]/);
    expect(() => laplaceMechanism({ epsilon: 1, sensitivity: 1, clamp: 3 as never })).toThrow(TypeError);
  });
});

describe('bad inputs (property tests)', () => {
  const badNumber = fc.oneof(
    fc.constant(Number.NaN),
    fc.constant(Number.POSITIVE_INFINITY),
    fc.constant(Number.NEGATIVE_INFINITY),
    fc.double({ max: 0, noNaN: true }),
  );
  it('Laplace: epsilon and sensitivity that are not finite and > 0 throw RangeError naming them', () => {
    fc.assert(
      fc.property(badNumber, (bad) => {
        expect(() => laplaceMechanism({ epsilon: bad, sensitivity: 1 })).toThrow(/epsilon/);
        expect(() => laplaceMechanism({ epsilon: 1, sensitivity: bad })).toThrow(/sensitivity/);
        expect(() => gaussianMechanism({ epsilon: 1, delta: 1e-5, sensitivity: bad })).toThrow(/sensitivity/);
        expect(() => gaussianMechanism({ epsilon: bad, delta: 1e-5, sensitivity: 1 })).toThrow(/epsilon/);
        return true;
      }),
      { numRuns: 50 },
    );
  });

  it('delta outside (0, 1) throws RangeError naming delta', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ max: 0, noNaN: true }), fc.double({ min: 1, noNaN: true }), fc.constant(Number.NaN)), (bad) => {
        expect(() => gaussianMechanism({ epsilon: 1, delta: bad, sensitivity: 1 })).toThrow(/delta/);
        return true;
      }),
      { numRuns: 50 },
    );
  });

  it('non-finite data throw naming the position', () => {
    const lap = laplaceMechanism({ epsilon: 1, sensitivity: 1 });
    const gauss = gaussianMechanism({ epsilon: 1, delta: 1e-5, sensitivity: 1 });
    for (const m of [lap, gauss]) {
      expect(() => m.addNoise(Number.NaN)).toThrow(/x must be a finite number, got NaN/);
      expect(() => m.addNoise(Number.POSITIVE_INFINITY)).toThrow(RangeError);
      expect(() => m.addNoise('1' as unknown as number)).toThrow(TypeError);
      expect(() => m.addNoiseTo([1, Number.NaN])).toThrow(/xs\[1\] must be a finite number/);
      expect(() => m.addNoiseTo([1, 2], new Float64Array(3))).toThrow(/out must have length 2/);
    }
    expect(() => laplaceMechanism(null as never)).toThrow(TypeError);
  });
});

describe('selection mechanisms', () => {
  const scores = [1, 2, 0, 1.5];
  const epsilon = 2;
  const weights = scores.map((u) => Math.exp((epsilon * u) / 2));
  const total = weights.reduce((a, b) => a + b, 0);

  it('the exponential mechanism selects with probability proportional to exp(eps u / 2D) (chi-square, alpha 1e-5)', () => {
    const em = exponentialMechanism({ epsilon, sensitivity: 1, rng: seededTestRng('em') });
    const n = 60_000;
    const obs = new Float64Array(scores.length);
    for (let i = 0; i < n; i++) obs[em.select(scores)]++;
    const expCounts = weights.map((w) => (w / total) * n);
    expect(chiSquareStatistic(obs, expCounts)).toBeLessThanOrEqual(chiSquareCritical(10, 1e-5));
  });

  it('permute-and-flip matches its closed form for two candidates and favours the best', () => {
    // Two candidates with gap g = eps (u1 - u2) / 2: P(pick worse) = e^-g / 2.
    const pf = permuteAndFlip({ epsilon, sensitivity: 1, rng: seededTestRng('pf') });
    const n = 60_000;
    let worse = 0;
    for (let i = 0; i < n; i++) if (pf.select([0, 1]) === 0) worse++;
    const p = Math.exp(-1) / 2;
    expect(Math.abs(worse / n - p)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt((p * (1 - p)) / n));
  });

  it('handles huge and tiny score gaps exactly', () => {
    const em = exponentialMechanism({ epsilon: 1, sensitivity: 1e-300, rng: seededTestRng('em-huge') });
    for (let i = 0; i < 20; i++) expect(em.select([0, 1e-200, -5])).toBe(1);
    const flat = permuteAndFlip({ epsilon: 1e-9, sensitivity: 1, rng: seededTestRng('pf-flat') });
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(flat.select([1, 2, 3]));
    expect(seen.size).toBe(3);
  });

  it('rejects empty or non-finite scores', () => {
    const em = exponentialMechanism({ epsilon: 1, sensitivity: 1 });
    expect(() => em.select([])).toThrow(/scores must contain at least one candidate/);
    expect(() => em.select([1, Number.NaN])).toThrow(/scores\[1\] must be a finite number/);
    expect(() => permuteAndFlip({ epsilon: 0, sensitivity: 1 })).toThrow(/epsilon/);
    expect(() => exponentialMechanism({ epsilon: 1, sensitivity: -1 })).toThrow(/sensitivity/);
  });
});

describe('randomized response', () => {
  it('reports the truth with probability e^eps / (e^eps + k - 1) and others uniformly', () => {
    const k = 4;
    const epsilon = 1.2;
    const rr = randomizedResponse({ epsilon, categories: k, rng: seededTestRng('rr') });
    const n = 60_000;
    const obs = new Float64Array(k);
    for (let i = 0; i < n; i++) obs[rr.respond(2)]++;
    const p = Math.exp(epsilon) / (Math.exp(epsilon) + k - 1);
    expect(Math.abs(rr.truthProbability - p)).toBeLessThan(1e-15);
    const expCounts = [0, 1, 2, 3].map((j) => (j === 2 ? p : (1 - p) / (k - 1)) * n);
    expect(chiSquareStatistic(obs, expCounts)).toBeLessThanOrEqual(chiSquareCritical(10, 1e-5));
    const est = rr.estimateCounts(obs);
    expect(Math.abs(est[2] - n)).toBeLessThan(0.05 * n);
  });

  it('rejects bad inputs', () => {
    expect(() => randomizedResponse({ epsilon: Number.NaN })).toThrow(/epsilon/);
    expect(() => randomizedResponse({ epsilon: 1, categories: 1 })).toThrow(/categories/);
    const rr = randomizedResponse({ epsilon: 1 });
    expect(() => rr.respond(2)).toThrow(/value must be an integer in \[0, 1\]/);
    expect(() => rr.estimateCounts([1])).toThrow(/reportedCounts/);
  });
});
