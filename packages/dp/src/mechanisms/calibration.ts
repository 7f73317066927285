/**
 * Gaussian noise calibration. The analytic Gaussian mechanism (Balle & Wang, "Improving the Gaussian
 * Mechanism for Differential Privacy", ICML 2018, Thm. 8) is the exact (epsilon, delta) curve of the Gaussian
 * mechanism: delta(sigma) = Phi(D/(2 sigma) - eps sigma/D) - e^eps Phi(-D/(2 sigma) - eps sigma/D) for L2
 * sensitivity D. `analyticGaussianSigma` returns the smallest sigma with delta(sigma) <= delta, found by
 * bisection to 1e-12 relative and then rounded up by 1e-9, so it is never below the tight value and within
 * 0.1% above it (Google's `SigmaForGaussian` contract, `go/noise/gaussian_noise.go`). The classic bound
 * sigma = D sqrt(2 ln(1.25/delta))/eps (Dwork & Roth 2014, Thm. A.1) is only valid for eps < 1 and is
 * offered only on request.
 * @module
 */
import { assertDelta, assertEpsilon, assertNonNegative, assertOptions, assertPositive, describeValue } from '@ppml/core';
import { normalCdf } from '../special.ts';

/**
 * Parameters of the Gaussian calibration functions.
 * @example
 * ```ts
 * const p: GaussianCalibration = { epsilon: 1, delta: 1e-5, sensitivity: 1 };
 * ```
 */
export interface GaussianCalibration {
  /** epsilon > 0 (finite). */
  readonly epsilon: number;
  /** delta in (0, 1). */
  readonly delta: number;
  /** L2 sensitivity > 0 (finite). */
  readonly sensitivity: number;
}

/**
 * Parameters of {@link gaussianDelta}.
 * @example
 * ```ts
 * const p: GaussianDeltaParams = { sigma: 4, epsilon: 1, sensitivity: 1 };
 * ```
 */
export interface GaussianDeltaParams {
  /** Noise standard deviation >= 0. */
  readonly sigma: number;
  /** epsilon >= 0 (Infinity gives delta = 0). */
  readonly epsilon: number;
  /** L2 sensitivity >= 0 (Infinity gives delta = 1). */
  readonly sensitivity: number;
}

const LOG_SQRT_2PI = 0.9189385332046728;

/** ln Phi(x), using the asymptotic Mills-ratio series where Phi(x) underflows. */
function logNormalCdf(x: number): number {
  if (x > -37) return Math.log(normalCdf(x));
  const z = 1 / (x * x);
  return -0.5 * x * x - Math.log(-x) - LOG_SQRT_2PI + Math.log1p(-z * (1 - z * (3 - 15 * z)));
}

function deltaNormalized(s: number, epsilon: number): number {
  // s = sigma / sensitivity
  const a = 1 / (2 * s) - epsilon * s;
  const b = -1 / (2 * s) - epsilon * s;
  const first = normalCdf(a);
  const second = Math.exp(epsilon + logNormalCdf(b));
  return Math.max(0, first - second);
}

/**
 * The tight delta of the Gaussian mechanism with standard deviation `sigma` at `epsilon` for L2 sensitivity
 * `sensitivity` (Balle & Wang 2018, Thm. 8). Edge cases as in Google's `deltaForGaussian`: sigma = 0 or
 * infinite sensitivity give 1, infinite epsilon gives 0.
 * @example
 * ```ts
 * gaussianDelta({ sigma: 10, epsilon: 0.1, sensitivity: 1 }); // 0.008751768145810
 * ```
 */
export function gaussianDelta(options: GaussianDeltaParams): number {
  const raw: unknown = options;
  assertOptions('options', raw, ['sigma', 'epsilon', 'sensitivity']);
  const { sigma, epsilon, sensitivity } = options;
  assertNonNegative('sigma', sigma);
  if (typeof epsilon !== 'number' || Number.isNaN(epsilon) || epsilon < 0) {
    throw new RangeError(`epsilon must be a number >= 0, got ${describeValue(epsilon)}`);
  }
  if (typeof sensitivity !== 'number' || Number.isNaN(sensitivity) || sensitivity < 0) {
    throw new RangeError(`sensitivity must be a number >= 0, got ${describeValue(sensitivity)}`);
  }
  if (epsilon === Number.POSITIVE_INFINITY) return 0;
  if (sensitivity === Number.POSITIVE_INFINITY || sigma === 0) return 1;
  if (sensitivity === 0) return 0;
  const s = sigma / sensitivity;
  if (s === Number.POSITIVE_INFINITY) return 0;
  return deltaNormalized(s, epsilon);
}

function checkCalibration(p: GaussianCalibration): void {
  const raw: unknown = p;
  assertOptions('options', raw, ['epsilon', 'delta', 'sensitivity']);
  assertEpsilon(p.epsilon);
  assertDelta(p.delta);
  assertPositive('sensitivity', p.sensitivity);
}

/**
 * The analytic Gaussian mechanism's noise standard deviation (Balle & Wang 2018, Thm. 8): the smallest sigma
 * with delta(sigma) <= delta, returned within [tight, 1.001 * tight] (in practice within 1e-9).
 * @example
 * ```ts
 * analyticGaussianSigma({ epsilon: 1, delta: 1e-5, sensitivity: 1 }); // about 3.73
 * ```
 */
export function analyticGaussianSigma(params: GaussianCalibration): number {
  checkCalibration(params);
  const { epsilon, delta, sensitivity } = params;
  let hi = 1;
  let guard = 0;
  while (deltaNormalized(hi, epsilon) > delta) {
    hi *= 2;
    if (++guard > 1020) {
      throw new RangeError(`epsilon=${epsilon} and delta=${delta} need sigma / sensitivity above 2^1020: no finite sigma`);
    }
  }
  let lo = 0;
  if (hi === 1) {
    // The answer may be far below 1 (large epsilon): shrink until delta(lo) > delta.
    lo = 0.5;
    while (lo > 1e-300 && deltaNormalized(lo, epsilon) <= delta) {
      hi = lo;
      lo /= 2;
    }
  } else lo = hi / 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (deltaNormalized(mid, epsilon) <= delta) hi = mid;
    else lo = mid;
  }
  // Round up: never below the tight value even with the last-ulp noise of Phi.
  const sigma = hi * (1 + 1e-9) * sensitivity;
  if (!Number.isFinite(sigma)) {
    throw new RangeError(`sensitivity=${sensitivity}, epsilon=${epsilon} and delta=${delta} need a sigma above the largest double`);
  }
  return sigma;
}

/**
 * The classic Gaussian mechanism's sigma = sensitivity * sqrt(2 ln(1.25/delta)) / epsilon (Dwork & Roth 2014,
 * Thm. A.1). Valid only for epsilon < 1, so other values throw; it is always at least the analytic sigma.
 * @example
 * ```ts
 * classicGaussianSigma({ epsilon: 0.5, delta: 1e-5, sensitivity: 1 }); // about 9.69
 * ```
 */
export function classicGaussianSigma(params: GaussianCalibration): number {
  checkCalibration(params);
  const { epsilon, delta, sensitivity } = params;
  if (!(epsilon < 1)) {
    throw new RangeError(
      `epsilon must be a number in (0, 1) for the classic Gaussian bound (Dwork & Roth Thm. A.1), got ${describeValue(epsilon)}; use analyticGaussianSigma`,
    );
  }
  const sigma = (sensitivity * Math.sqrt(2 * Math.log(1.25 / delta))) / epsilon;
  if (!Number.isFinite(sigma)) {
    throw new RangeError(`sensitivity=${sensitivity}, epsilon=${epsilon} and delta=${delta} need a sigma above the largest double`);
  }
  return sigma;
}
