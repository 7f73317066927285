/**
 * Power-of-two granularity for floating-point-safe noise. Adding noise to a double leaks the input through
 * the set of reachable outputs (Mironov, CCS 2012; Haney et al. 2022, arXiv 2207.13793), so the mechanisms
 * round the input to a multiple of a power of two g, add g times integer noise, and charge the rounding to
 * the sensitivity. Rules:
 * - Laplace: g = 2^ceil(log2((D/eps) / 2^40)), exactly Google's rule (`go/noise/laplace_noise.go`,
 *   granularityParam = 2^40), so the scale is between 2^39 and 2^40 grid steps.
 * - Gaussian: g = 2^ceil(log2(sigma / 2^30)), so sigma is between 2^29 and 2^30 grid steps. Google
 *   (`go/noise/gaussian_noise.go`) uses 2 sigma / 2^57 for its binomial sampler; the discrete Gaussian sampler
 *   here uses 2^30 so that its integers fit in 32-bit words (one random word per uniform), and the rounding
 *   costs at most g sqrt(d) <= 2^-29 sigma sqrt(d) of L2 sensitivity.
 * @module
 */
import { assertOptions, assertPositive, describeValue } from '@ppml/core';

/**
 * Google's Laplace granularity parameter: the noise scale is at most 2^40 grid steps.
 * @example
 * ```ts
 * const steps = 2 ** LAPLACE_GRANULARITY_BITS; // scale / granularity is at most this
 * ```
 */
export const LAPLACE_GRANULARITY_BITS = 40;
/**
 * The Gaussian noise standard deviation is at most 2^30 grid steps.
 * @example
 * ```ts
 * const steps = 2 ** GAUSSIAN_GRANULARITY_BITS; // sigma / granularity is at most this
 * ```
 */
export const GAUSSIAN_GRANULARITY_BITS = 30;

/**
 * The smallest power of two >= x, for finite x > 0 (exact; subnormal and huge values included).
 * @example
 * ```ts
 * ceilPowerOfTwo(3); // 4
 * ceilPowerOfTwo(0.25); // 0.25
 * ```
 */
export function ceilPowerOfTwo(x: number): number {
  assertPositive('x', x);
  let k = Math.ceil(Math.log2(x));
  if (k > 1023) k = 1023;
  if (k < -1074) k = -1074;
  while (k < 1023 && 2 ** k < x) k++;
  while (k > -1074 && 2 ** (k - 1) >= x) k--;
  if (2 ** k < x) throw new RangeError(`x must be at most 2^1023, got ${x}`);
  return 2 ** k;
}

/**
 * The Laplace mechanism's granularity for L1 sensitivity and epsilon (Google's rule).
 * @example
 * ```ts
 * laplaceGranularity({ epsilon: 9.1e-13, sensitivity: 1 }); // 1
 * ```
 */
export function laplaceGranularity(options: { epsilon: number; sensitivity: number }): number {
  const raw: unknown = options;
  assertOptions('options', raw, ['epsilon', 'sensitivity']);
  const { epsilon, sensitivity } = options;
  assertPositive('epsilon', epsilon);
  assertPositive('sensitivity', sensitivity);
  const scale = sensitivity / epsilon;
  if (!Number.isFinite(scale)) throw new RangeError(`sensitivity / epsilon must be finite, got ${scale}`);
  if (!(scale >= 2 ** -960)) throw new RangeError(`sensitivity / epsilon must be at least 2^-960, got ${scale}`);
  return ceilPowerOfTwo(scale / 2 ** LAPLACE_GRANULARITY_BITS);
}

/**
 * The granularity of the secure Gaussian noise of standard deviation sigma: sigma / g is in [2^29, 2^30].
 * @example
 * ```ts
 * gaussianGranularity(1); // 2^-30
 * ```
 */
export function gaussianGranularity(sigma: number): number {
  assertPositive('sigma', sigma);
  if (!(sigma >= 2 ** -960)) throw new RangeError(`sigma must be a finite number >= 2^-960, got ${sigma}`);
  return ceilPowerOfTwo(sigma / 2 ** GAUSSIAN_GRANULARITY_BITS);
}

/**
 * Internal: x rounded to the grid g plus z grid steps, i.e. (round(x/g) + z) g. The result is the correctly
 * rounded value of that exact multiple of g, hence a function of the integer round(x/g) + z alone. When
 * |x| >= 2^53 g, x already is a multiple of g (its ulp is at least 2g) and x/g is not formed, so it cannot
 * overflow.
 */
export function addOnGrid(x: number, g: number, z: number): number {
  if (Math.abs(x) * 2 ** -53 >= g) return x + z * g;
  return (Math.round(x / g) + z) * g;
}

/** Internal: checks optional clamping bounds [lower, upper] (finite, lower < upper). */
export function checkClamp(bounds: unknown): readonly [number, number] | undefined {
  if (bounds === undefined) return undefined;
  if (!Array.isArray(bounds) || bounds.length !== 2) {
    throw new TypeError(`clamp must be a pair [lower, upper] of finite numbers, got ${describeValue(bounds)}`);
  }
  const [lower, upper] = bounds as [unknown, unknown];
  if (typeof lower !== 'number') throw new TypeError(`clamp[0] (lower) must be a finite number, got ${describeValue(lower)}`);
  if (typeof upper !== 'number') throw new TypeError(`clamp[1] (upper) must be a finite number, got ${describeValue(upper)}`);
  if (!Number.isFinite(lower)) throw new RangeError(`clamp[0] (lower) must be a finite number, got ${describeValue(lower)}`);
  if (!Number.isFinite(upper)) throw new RangeError(`clamp[1] (upper) must be a finite number, got ${describeValue(upper)}`);
  if (!(lower < upper)) throw new RangeError(`clamp lower must be < upper, got [${lower}, ${upper}]`);
  // Keeps clamped inputs plus noise finite (the same bound as unclamped inputs).
  if (Math.max(Math.abs(lower), Math.abs(upper)) > 2 ** 1000) {
    throw new RangeError(`clamp bounds must have magnitude at most 2^1000, got [${lower}, ${upper}]`);
  }
  return [lower, upper];
}
