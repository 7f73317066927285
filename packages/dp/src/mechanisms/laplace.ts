/**
 * The floating-point-safe Laplace mechanism (epsilon-DP for L1 sensitivity D), built the way Google's
 * library does it (`go/noise/laplace_noise.go`; Mironov, CCS 2012, for the attack it prevents): the input is
 * rounded to a multiple of a power of two g = 2^ceil(log2((D/eps)/2^40)), an exact discrete Laplace integer
 * Z (Canonne, Kamath & Steinke 2020, Alg. 2) is added in units of g, and the rounding is charged to the
 * sensitivity: rounding moves each coordinate by at most g/2, so d coordinates change by at most
 * floor(D/g) + d grid steps in L1 and the integer noise has scale t = ceil((floor(D/g) + d)/eps) grid steps.
 * The output g (round(x/g) + Z) is a function of that exact integer only (the final double is its correctly
 * rounded value), so the low bits of the output carry no information about x.
 * @module
 */
import { assertEpsilon, assertPositive, cryptoRng, describeValue, type Rng } from '@ppml/core';
import { rationalFromDouble } from './exact-exp.ts';
import { addOnGrid, checkClamp, laplaceGranularity } from './granularity.ts';
import { discreteLaplaceInt, MAX_INTEGER_SCALE, sourceOf } from './samplers.ts';
import type { WordSource } from './words.ts';

/**
 * Options of {@link laplaceMechanism}.
 * @example
 * ```ts
 * const opts: LaplaceOptions = { epsilon: 0.5, sensitivity: 1 };
 * ```
 */
export interface LaplaceOptions {
  /** epsilon in [2^-50, infinity). */
  readonly epsilon: number;
  /** L1 sensitivity of the released value (or vector) > 0. */
  readonly sensitivity: number;
  /** Optional bounds: each input is clamped to [lower, upper] before rounding (the sensitivity is yours). */
  readonly clamp?: readonly [number, number];
  /** Randomness; default the CSPRNG. Pass a seeded generator only in tests. */
  readonly rng?: Rng;
}

/**
 * A Laplace mechanism with fixed parameters.
 * @example
 * ```ts
 * const lap: LaplaceMechanism = laplaceMechanism({ epsilon: 1, sensitivity: 1 });
 * ```
 */
export interface LaplaceMechanism {
  readonly epsilon: number;
  readonly sensitivity: number;
  /** The nominal Laplace scale sensitivity / epsilon. */
  readonly scale: number;
  /** The power-of-two grid of the outputs. */
  readonly granularity: number;
  /** The privacy guarantee of one call: pure epsilon-DP (delta = 0). */
  readonly guarantee: { readonly epsilon: number; readonly delta: 0 };
  /** What the guarantee assumes, in words (for papers and audits). */
  readonly statement: string;
  /** The actual noise scale (in the units of x) used for a vector of `dimension` coordinates. */
  noiseScale(dimension?: number): number;
  /** x plus Laplace noise, rounded to the grid. */
  addNoise(x: number): number;
  /** Each coordinate plus Laplace noise; `sensitivity` bounds the L1 distance between neighbouring vectors. */
  addNoiseTo(xs: ArrayLike<number>, out?: Float64Array): Float64Array;
}

/**
 * Smallest epsilon accepted (Google's bound).
 * @example
 * ```ts
 * laplaceMechanism({ epsilon: MIN_LAPLACE_EPSILON, sensitivity: 1 }); // the smallest accepted
 * ```
 */
export const MIN_LAPLACE_EPSILON: number = 2 ** -50;

/** ceil((floor(D/g) + d) / eps) as a number (exact rational arithmetic). */
function gridScale(sensitivity: number, g: number, epsilon: number, d: number): number {
  const sg = rationalFromDouble(sensitivity / g); // exact: division by a power of two (no underflow: D/g >= eps 2^39)
  const steps = sg.num / sg.den + BigInt(d);
  const e = rationalFromDouble(epsilon);
  const num = steps * e.den;
  const t = (num + e.num - 1n) / e.num;
  if (t > BigInt(MAX_INTEGER_SCALE)) {
    throw new RangeError(
      `epsilon=${epsilon} is too small for a vector of ${d} coordinates: the noise would exceed 2^46 grid steps`,
    );
  }
  return Number(t);
}

/**
 * Creates a floating-point-safe Laplace mechanism.
 * @example
 * ```ts
 * const lap = laplaceMechanism({ epsilon: 0.5, sensitivity: 1 });
 * const noisyCount = lap.addNoise(1234);
 * const noisyHistogram = lap.addNoiseTo([10, 20, 30]); // sensitivity is the L1 bound of the whole vector
 * ```
 */
export function laplaceMechanism(options: LaplaceOptions): LaplaceMechanism {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, got ${describeValue(options)}`);
  }
  const { epsilon, sensitivity } = options;
  assertEpsilon(epsilon);
  if (epsilon < MIN_LAPLACE_EPSILON) {
    throw new RangeError(`epsilon must be a finite number >= 2^-50, got ${describeValue(epsilon)}`);
  }
  assertPositive('sensitivity', sensitivity);
  const clamp = checkClamp(options.clamp);
  const lo = clamp === undefined ? Number.NEGATIVE_INFINITY : clamp[0];
  const hi = clamp === undefined ? Number.POSITIVE_INFINITY : clamp[1];
  const src: WordSource = sourceOf(options.rng ?? cryptoRng);
  const g = laplaceGranularity({ epsilon, sensitivity });
  const t1 = gridScale(sensitivity, g, epsilon, 1);
  let lastD = 1;
  let lastT = t1;
  const scaleFor = (d: number): number => {
    if (d === 1) return t1;
    if (d !== lastD) {
      lastT = gridScale(sensitivity, g, epsilon, d);
      lastD = d;
    }
    return lastT;
  };
  return {
    epsilon,
    sensitivity,
    scale: sensitivity / epsilon,
    granularity: g,
    guarantee: { epsilon, delta: 0 },
    statement:
      `Laplace mechanism: ${epsilon}-DP (delta = 0) per call for neighbouring inputs at L1 distance <= ${sensitivity}; ` +
      `exact discrete Laplace noise on the grid ${g} = 2^${Math.log2(g)} (Google's granularity rule), ` +
      'rounding of the input charged to the sensitivity; randomness from the given Rng',
    noiseScale(dimension = 1): number {
      if (!Number.isSafeInteger(dimension) || dimension < 1) {
        throw new RangeError(`dimension must be an integer >= 1, got ${describeValue(dimension)}`);
      }
      return scaleFor(dimension) * g;
    },
    addNoise(x: number): number {
      if (typeof x !== 'number') throw new TypeError(`x must be a finite number, got ${describeValue(x)}`);
      if (!Number.isFinite(x)) throw new RangeError(`x must be a finite number, got ${describeValue(x)}`);
      return addOnGrid(x < lo ? lo : x > hi ? hi : x, g, discreteLaplaceInt(t1, src));
    },
    addNoiseTo(xs: ArrayLike<number>, out?: Float64Array): Float64Array {
      const n = checkVector(xs, out);
      const res = out ?? new Float64Array(n);
      if (n === 0) return res;
      const t = scaleFor(n);
      for (let i = 0; i < n; i++) {
        const x = xs[i];
        res[i] = addOnGrid(x < lo ? lo : x > hi ? hi : x, g, discreteLaplaceInt(t, src));
      }
      return res;
    },
  };
}

/** Internal: validates a vector argument (finite numbers) and an optional output of the same length. */
export function checkVector(xs: ArrayLike<number>, out: Float64Array | undefined): number {
  if (xs === null || typeof xs !== 'object' || typeof xs.length !== 'number') {
    throw new TypeError(`xs must be an array of finite numbers, got ${describeValue(xs)}`);
  }
  const n = xs.length;
  for (let i = 0; i < n; i++) {
    const v = xs[i];
    if (typeof v !== 'number') throw new TypeError(`xs[${i}] must be a finite number, got ${describeValue(v)}`);
    if (!Number.isFinite(v)) throw new RangeError(`xs[${i}] must be a finite number, got ${describeValue(v)}`);
  }
  if (out !== undefined) {
    if (!(out instanceof Float64Array)) throw new TypeError(`out must be a Float64Array, got ${describeValue(out)}`);
    if (out.length !== n) throw new RangeError(`out must have length ${n}, got ${out.length}`);
  }
  return n;
}

/**
 * Fills `out` with floating-point-safe Laplace noise of the given scale: g times exact discrete Laplace
 * integers with g = 2^ceil(log2(scale/2^40)) and ceil(scale/g) grid steps of scale. Every value is a multiple
 * of g. For noise added to data, prefer {@link laplaceMechanism}, which also rounds the data to the grid.
 * @example
 * ```ts
 * const noise = sampleLaplaceNoise(new Float64Array(1000), 2);
 * ```
 */
export function sampleLaplaceNoise(out: Float64Array, scale: number, rng: Rng = cryptoRng): Float64Array {
  if (!(out instanceof Float64Array)) throw new TypeError(`out must be a Float64Array, got ${describeValue(out)}`);
  assertPositive('scale', scale);
  const g = laplaceGranularity({ epsilon: 1, sensitivity: scale });
  const t = Math.ceil(scale / g); // scale/g is exact (power of two), at most 2^40
  const src = sourceOf(rng);
  for (let i = 0; i < out.length; i++) out[i] = discreteLaplaceInt(t, src) * g;
  return out;
}
