/**
 * The floating-point-safe Gaussian mechanism ((epsilon, delta)-DP for L2 sensitivity D) and secure Gaussian
 * noise vectors for DP-SGD.
 *
 * sigma comes from the analytic Gaussian calibration (Balle & Wang 2018, Thm. 8). The noise is the exact
 * discrete Gaussian N_Z(0, (sigma/g)^2) (Canonne, Kamath & Steinke 2020, Alg. 3) times a power-of-two
 * granularity g = 2^ceil(log2(sigma/2^30)), and the mechanism rounds its input to the same grid, as Google's
 * library does for its binomial Gaussian noise (`go/noise/gaussian_noise.go`). Rounding d coordinates moves
 * the L2 distance of neighbouring inputs by at most g sqrt(d), so the noise is calibrated for sensitivity
 * D + g sqrt(d) (at most 2^-29 sigma sqrt(d) more than D). The discrete Gaussian has the same zCDP
 * rho = D^2/(2 sigma^2) as the continuous one for integer sensitivity (CKS20, Sec. 2), and its (epsilon, delta)
 * curve (CKS20: the same privacy-loss expectation, taken over the integers) differs from the continuous
 * one at 2^29 or more grid steps per sigma only by discretisation terms of relative order 2^-58; sigma is
 * inflated by a factor 1 + 2^-20 (one part per million) to cover that difference with a wide margin.
 * @module
 */
import { assertDelta, assertEpsilon, assertPositive, cryptoRng, describeValue, type Rng } from '@ppml/core';
import { analyticGaussianSigma } from './calibration.ts';
import { addOnGrid, checkClamp, gaussianGranularity } from './granularity.ts';
import { checkVector } from './laplace.ts';
import { DiscreteGaussianSampler, MAX_DISCRETE_GAUSSIAN_SIGMA, sourceOf } from './samplers.ts';

/**
 * Options of {@link gaussianMechanism}.
 * @example
 * ```ts
 * const opts: GaussianOptions = { epsilon: 1, delta: 1e-5, sensitivity: 1 };
 * ```
 */
export interface GaussianOptions {
  /** epsilon > 0 (finite). */
  readonly epsilon: number;
  /** delta in (0, 1). */
  readonly delta: number;
  /** L2 sensitivity > 0 of the released value or vector. */
  readonly sensitivity: number;
  /** Optional bounds: each input is clamped to [lower, upper] before rounding (the sensitivity is yours). */
  readonly clamp?: readonly [number, number];
  /** Randomness; default the CSPRNG. */
  readonly rng?: Rng;
}

/**
 * A Gaussian mechanism with fixed parameters.
 * @example
 * ```ts
 * const g: GaussianMechanism = gaussianMechanism({ epsilon: 1, delta: 1e-5, sensitivity: 1 });
 * ```
 */
export interface GaussianMechanism {
  readonly epsilon: number;
  readonly delta: number;
  readonly sensitivity: number;
  /** The analytic sigma for `sensitivity` (before the rounding allowance). */
  readonly sigma: number;
  /** The power-of-two grid of the outputs. */
  readonly granularity: number;
  /** Guarantee of one call: (epsilon, delta)-DP, and rho-zCDP with rho = sensitivity^2 / (2 sigma^2). */
  readonly guarantee: { readonly epsilon: number; readonly delta: number; readonly rho: number };
  /** What the guarantee assumes, in words (for papers and audits). */
  readonly statement: string;
  /** The noise standard deviation actually used for `dimension` coordinates (>= sigma). */
  noiseSigma(dimension?: number): number;
  /** x plus Gaussian noise, on the grid. */
  addNoise(x: number): number;
  /** Each coordinate plus independent Gaussian noise; `sensitivity` bounds the L2 distance of neighbours. */
  addNoiseTo(xs: ArrayLike<number>, out?: Float64Array): Float64Array;
}

/** Inflation of sigma covering the discrete-versus-continuous difference (see the module comment). */
const DISCRETE_SLACK = 1 + 2 ** -20;

/** sigma * (1 + g sqrt(d) / sensitivity) * DISCRETE_SLACK, in grid units. */
function gridSigma(sigma: number, sensitivity: number, g: number, d: number): number {
  const s = ((sigma * (sensitivity + g * Math.sqrt(d))) / sensitivity / g) * DISCRETE_SLACK;
  if (!(s <= MAX_DISCRETE_GAUSSIAN_SIGMA)) {
    throw new RangeError(`dimension ${d} is too large for the rounding allowance of this Gaussian mechanism`);
  }
  return s;
}

/**
 * Creates a floating-point-safe Gaussian mechanism calibrated by the analytic Gaussian (exposes `.sigma`).
 * @example
 * ```ts
 * const gauss = gaussianMechanism({ epsilon: 1, delta: 1e-5, sensitivity: 1 });
 * gauss.sigma;                  // about 3.73
 * const noisy = gauss.addNoise(42);
 * ```
 */
export function gaussianMechanism(options: GaussianOptions): GaussianMechanism {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, got ${describeValue(options)}`);
  }
  const { epsilon, delta, sensitivity } = options;
  assertEpsilon(epsilon);
  assertDelta(delta);
  assertPositive('sensitivity', sensitivity);
  const clamp = checkClamp(options.clamp);
  const lo = clamp === undefined ? Number.NEGATIVE_INFINITY : clamp[0];
  const hi = clamp === undefined ? Number.POSITIVE_INFINITY : clamp[1];
  const src = sourceOf(options.rng ?? cryptoRng);
  const sigma = analyticGaussianSigma({ epsilon, delta, sensitivity });
  const g = gaussianGranularity(sigma);
  const one = new DiscreteGaussianSampler(gridSigma(sigma, sensitivity, g, 1));
  let last = one;
  let lastD = 1;
  const samplerFor = (d: number): DiscreteGaussianSampler => {
    if (d === 1) return one;
    if (d !== lastD) {
      last = new DiscreteGaussianSampler(gridSigma(sigma, sensitivity, g, d));
      lastD = d;
    }
    return last;
  };
  return {
    epsilon,
    delta,
    sensitivity,
    sigma,
    granularity: g,
    guarantee: { epsilon, delta, rho: (sensitivity * sensitivity) / (2 * sigma * sigma) },
    statement:
      `Gaussian mechanism: (${epsilon}, ${delta})-DP and rho-zCDP with rho = ${(sensitivity * sensitivity) / (2 * sigma * sigma)} ` +
      `per call for neighbouring inputs at L2 distance <= ${sensitivity}; sigma = ${sigma} from the analytic Gaussian ` +
      `(Balle & Wang 2018, Thm. 8); exact discrete Gaussian noise on the grid ${g} = 2^${Math.log2(g)}, rounding of the ` +
      'input charged to the sensitivity; randomness from the given Rng',
    noiseSigma(dimension = 1): number {
      if (!Number.isSafeInteger(dimension) || dimension < 1) {
        throw new RangeError(`dimension must be an integer >= 1, got ${describeValue(dimension)}`);
      }
      return samplerFor(dimension).sigma * g;
    },
    addNoise(x: number): number {
      if (typeof x !== 'number') throw new TypeError(`x must be a finite number, got ${describeValue(x)}`);
      if (!Number.isFinite(x)) throw new RangeError(`x must be a finite number, got ${describeValue(x)}`);
      return addOnGrid(x < lo ? lo : x > hi ? hi : x, g, one.sample(src));
    },
    addNoiseTo(xs: ArrayLike<number>, out?: Float64Array): Float64Array {
      const n = checkVector(xs, out);
      const res = out ?? new Float64Array(n);
      if (n === 0) return res;
      const s = samplerFor(n);
      for (let i = 0; i < n; i++) {
        const x = xs[i];
        res[i] = addOnGrid(x < lo ? lo : x > hi ? hi : x, g, s.sample(src));
      }
      return res;
    },
  };
}

/**
 * Fills `out` with i.i.d. N(0, sigma^2) noise from the secure path: g times exact discrete Gaussian integers
 * N_Z(0, (sigma/g)^2) with g = {@link gaussianGranularity}(sigma) = 2^ceil(log2(sigma/2^30)), so every value is
 * a multiple of g and sigma/g is in [2^29, 2^30]; the variance equals sigma^2 to within 1e-12. Randomness is
 * drawn in 4 KiB blocks from `rng` (default the CSPRNG). For attack-safe release, round the vector the noise is
 * added to onto the same grid (`Math.round(v / g) * g`) and allow g sqrt(d) extra L2 sensitivity, as
 * {@link gaussianMechanism} does.
 * @example
 * ```ts
 * const noise = sampleGaussianNoise(new Float64Array(1_000_000), 1.1 * clipNorm);
 * ```
 */
export function sampleGaussianNoise(out: Float64Array, sigma: number, rng?: Rng): Float64Array {
  if (!(out instanceof Float64Array)) throw new TypeError(`out must be a Float64Array, got ${describeValue(out)}`);
  assertPositive('sigma', sigma);
  const g = gaussianGranularity(sigma);
  const s = new DiscreteGaussianSampler(sigma / g);
  const src = sourceOf(rng);
  for (let i = 0; i < out.length; i++) out[i] = s.sample(src) * g;
  return out;
}
