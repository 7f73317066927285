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
 *
 * epsilon and delta are calibrated from the largest doubles at most their decimal values and the sensitivity
 * from the smallest double at least its decimal value (`decimal.ts`), so the true loss never exceeds what a
 * {@link PrivacyBudget} charges for the parameters as written; the reported rho is rounded up so that its
 * decimal value is never below the true one. Ranges: sigma must be in [2^-960, 2^960] and inputs at most 2^1000
 * in magnitude, so that every output and the rho of the guarantee are finite doubles.
 * @module
 */
import { type GaussianEvent, gaussianEvent } from '../accountant/events.ts';
import { assertDelta, assertEpsilon, assertInteger, assertOptions, assertPositive, cryptoRng, describeValue, type Rng } from '@ppml/core';
import { analyticGaussianSigma } from './calibration.ts';
import { decimalCeil, decimalFloor } from './decimal.ts';
import { addOnGrid, checkClamp, gaussianGranularity } from './granularity.ts';
import { checkInput, checkVector } from './laplace.ts';
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
  /**
   * The values the noise is calibrated for: epsilon and delta at most the decimal values of `epsilon` and
   * `delta` (what a budget charges), sensitivity at least the decimal value of `sensitivity`.
   */
  readonly calibration: { readonly epsilon: number; readonly delta: number; readonly sensitivity: number };
  /** The power-of-two grid of the outputs. */
  readonly granularity: number;
  /** Guarantee of one call: (epsilon, delta)-DP, and rho-zCDP with rho = sensitivity^2 / (2 sigma^2). */
  readonly guarantee: { readonly epsilon: number; readonly delta: number; readonly rho: number };
  /**
   * The privacy event of one call: the Gaussian with noise multiplier sigma / sensitivity (the calibrated
   * sensitivity, at least the given one; the discrete noise on the grid is covered as the module note says).
   */
  readonly event: GaussianEvent;
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

/** Largest sigma of the mechanism and of {@link sampleGaussianNoise}: noise beyond 2^1020 has probability 0 in practice. */
const MAX_GAUSSIAN_SIGMA = 2 ** 960;
/** Smallest sigma (the grid g = sigma / 2^30 must stay a normal double). */
const MIN_GAUSSIAN_SIGMA = 2 ** -960;
const GAUSSIAN_KEYS = ['epsilon', 'delta', 'sensitivity', 'clamp', 'rng'];

/** sigma * (1 + g sqrt(d) / sensitivity) * DISCRETE_SLACK, in grid units (ordered so that nothing overflows). */
function gridSigma(sigma: number, sensitivity: number, g: number, d: number): number {
  const s = (sigma / g) * (1 + (g / sensitivity) * Math.sqrt(d)) * DISCRETE_SLACK;
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
  const raw: unknown = options;
  assertOptions('options', raw, GAUSSIAN_KEYS);
  const { epsilon, delta, sensitivity } = options;
  assertEpsilon(epsilon);
  assertDelta(delta);
  assertPositive('sensitivity', sensitivity);
  const clamp = checkClamp(options.clamp);
  const lo = clamp === undefined ? Number.NEGATIVE_INFINITY : clamp[0];
  const hi = clamp === undefined ? Number.POSITIVE_INFINITY : clamp[1];
  const src = sourceOf(options.rng ?? cryptoRng);
  // Calibrate to at most the decimal epsilon and delta and at least the decimal sensitivity (module comment).
  const eps = decimalFloor(epsilon);
  const del = decimalFloor(delta);
  const sens = decimalCeil(sensitivity);
  const sigma = analyticGaussianSigma({ epsilon: eps, delta: del, sensitivity: sens });
  if (!(sigma >= MIN_GAUSSIAN_SIGMA && sigma <= MAX_GAUSSIAN_SIGMA)) {
    throw new RangeError(
      `sensitivity=${sensitivity}, epsilon=${epsilon} and delta=${delta} need sigma = ${sigma}, outside [2^-960, 2^960] ` +
        '(the noise must stay a finite double on a normal grid): rescale the data or choose other parameters',
    );
  }
  // rho = (D/sigma)^2/2 (Bun & Steinke 2016, Prop. 1.6), formed from the ratio so that it neither overflows nor
  // underflows to 0, then rounded up: 2^-40 relative covers the float error, and decimalCeil the decimal reading.
  const ratio = sens / sigma;
  const rho = decimalCeil(Math.max(Number.MIN_VALUE, 0.5 * ratio * ratio * (1 + 2 ** -40)));
  if (!Number.isFinite(rho)) {
    throw new RangeError(`epsilon=${epsilon} is too large: the zCDP rho of this Gaussian mechanism is not a finite double`);
  }
  const g = gaussianGranularity(sigma);
  const one = new DiscreteGaussianSampler(gridSigma(sigma, sens, g, 1));
  let last = one;
  let lastD = 1;
  const samplerFor = (d: number): DiscreteGaussianSampler => {
    if (d === 1) return one;
    if (d !== lastD) {
      last = new DiscreteGaussianSampler(gridSigma(sigma, sens, g, d));
      lastD = d;
    }
    return last;
  };
  return {
    epsilon,
    delta,
    sensitivity,
    sigma,
    calibration: { epsilon: eps, delta: del, sensitivity: sens },
    granularity: g,
    guarantee: { epsilon, delta, rho },
    event: gaussianEvent(sigma / sens),
    statement:
      `Gaussian mechanism: (${epsilon}, ${delta})-DP and rho-zCDP with rho = ${rho} ` +
      `per call for neighbouring inputs at L2 distance <= ${sensitivity}; sigma = ${sigma} from the analytic Gaussian ` +
      `(Balle & Wang 2018, Thm. 8); exact discrete Gaussian noise on the grid ${g} = 2^${Math.log2(g)}, rounding of the ` +
      'input charged to the sensitivity; randomness from the given Rng',
    noiseSigma(dimension = 1): number {
      assertInteger('dimension', dimension, 1);
      return samplerFor(dimension).sigma * g;
    },
    addNoise(x: number): number {
      checkInput(x, clamp !== undefined);
      return addOnGrid(x < lo ? lo : Math.min(x, hi), g, one.sample(src));
    },
    addNoiseTo(xs: ArrayLike<number>, out?: Float64Array): Float64Array {
      const n = checkVector(xs, out, clamp !== undefined);
      const res = out ?? new Float64Array(n);
      if (n === 0) return res;
      const s = samplerFor(n);
      for (let i = 0; i < n; i++) {
        const x = xs[i];
        res[i] = addOnGrid(x < lo ? lo : Math.min(x, hi), g, s.sample(src));
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
  if (!(sigma >= MIN_GAUSSIAN_SIGMA && sigma <= MAX_GAUSSIAN_SIGMA)) {
    throw new RangeError(`sigma must be a finite number in [2^-960, 2^960], got ${describeValue(sigma)}`);
  }
  const g = gaussianGranularity(sigma);
  const s = new DiscreteGaussianSampler(sigma / g);
  const src = sourceOf(rng);
  return s.fill(out, g, src);
}
