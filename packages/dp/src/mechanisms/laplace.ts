/**
 * The floating-point-safe Laplace mechanism (epsilon-DP for L1 sensitivity D), built the way Google's
 * library does it (`go/noise/laplace_noise.go`; Mironov, CCS 2012, for the attack it prevents): the input is
 * rounded to a multiple of a power of two g = 2^ceil(log2((D/eps)/2^40)), an exact discrete Laplace integer
 * Z (Canonne, Kamath & Steinke 2020, Alg. 2) is added in units of g, and the rounding is charged to the
 * sensitivity: rounding moves each coordinate by at most g/2, so d coordinates change by at most
 * floor(D/g) + d grid steps in L1 and the integer noise has scale t = ceil((floor(D/g) + d)/eps) grid steps.
 * The output g (round(x/g) + Z) is a function of that exact integer only (the final double is its correctly
 * rounded value), so the low bits of the output carry no information about x.
 *
 * epsilon is calibrated from the largest double at most its decimal value and the sensitivity from the smallest
 * double at least its decimal value (`decimal.ts`), so the true privacy loss never exceeds what a
 * {@link PrivacyBudget} charges for the epsilon as written. Ranges: the scale D/eps is at most 2^960 and inputs
 * are at most 2^1000 in magnitude, so that every output is a finite double.
 * @module
 */
import { type EpsilonDeltaEvent, epsilonDeltaEvent } from '../accountant/events.ts';
import {
  assertArrayLike,
  assertEpsilon,
  assertInteger,
  assertOptions,
  assertPositive,
  cryptoRng,
  describeValue,
  type Rng,
} from '@ppml/core';
import { decimalCeil, decimalFloor } from './decimal.ts';
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
  /**
   * The values the noise is calibrated for: epsilon at most the decimal value of `epsilon` (what a budget
   * charges), sensitivity at least the decimal value of `sensitivity`.
   */
  readonly calibration: { readonly epsilon: number; readonly sensitivity: number };
  /** The power-of-two grid of the outputs. */
  readonly granularity: number;
  /** The privacy guarantee of one call: pure epsilon-DP (delta = 0). */
  readonly guarantee: { readonly epsilon: number; readonly delta: 0 };
  /**
   * The privacy event of one call: the pure epsilon-DP pair, which dominates every epsilon-DP mechanism (the
   * discrete Laplace on a grid is not dominated by the continuous Laplace's loss distribution in general).
   */
  readonly event: EpsilonDeltaEvent;
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

/**
 * Largest noise scale (sensitivity / epsilon, also of {@link sampleLaplaceNoise}): the noise exceeds 2^1020 only
 * with probability exp(-2^60), so outputs stay finite.
 * @example
 * ```ts
 * laplaceMechanism({ epsilon: 1, sensitivity: MAX_LAPLACE_SCALE }); // the largest accepted scale at epsilon 1
 * ```
 */
export const MAX_LAPLACE_SCALE: number = 2 ** 960;

/**
 * Largest magnitude of an input to a mechanism without `clamp` (with `clamp`, the bounds are limited instead):
 * with the noise it keeps the output finite.
 * @example
 * ```ts
 * laplaceMechanism({ epsilon: 1, sensitivity: 1 }).addNoise(MAX_MECHANISM_INPUT); // accepted
 * ```
 */
export const MAX_MECHANISM_INPUT: number = 2 ** 1000;

const LAPLACE_KEYS = ['epsilon', 'sensitivity', 'clamp', 'rng'];
/** ceil((floor(D/g) + d) / eps) as a number (exact rational arithmetic). */
function gridScale(sensitivity: number, g: number, epsilon: number, d: number): number {
  const sg = rationalFromDouble(sensitivity / g); // exact: division by a power of two (no underflow: D/g >= eps 2^39)
  const steps = sg.num / sg.den + BigInt(d);
  const e = rationalFromDouble(epsilon);
  const num = steps * e.den;
  const t = (num + e.num - 1n) / e.num;
  if (t > BigInt(MAX_INTEGER_SCALE)) {
    throw new RangeError(`epsilon=${epsilon} is too small for a vector of ${d} coordinates: the noise would exceed 2^46 grid steps`);
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
  const raw: unknown = options;
  assertOptions('options', raw, LAPLACE_KEYS);
  const { epsilon, sensitivity } = options;
  assertEpsilon(epsilon);
  if (epsilon < MIN_LAPLACE_EPSILON) {
    throw new RangeError(`epsilon must be a finite number >= 2^-50, got ${describeValue(epsilon)}`);
  }
  assertPositive('sensitivity', sensitivity);
  if (!(sensitivity / epsilon <= MAX_LAPLACE_SCALE)) {
    throw new RangeError(
      `sensitivity / epsilon must be at most 2^960 (the noise must stay a finite double), got sensitivity=${sensitivity}, epsilon=${epsilon}`,
    );
  }
  const clamp = checkClamp(options.clamp);
  const lo = clamp === undefined ? Number.NEGATIVE_INFINITY : clamp[0];
  const hi = clamp === undefined ? Number.POSITIVE_INFINITY : clamp[1];
  const src: WordSource = sourceOf(options.rng ?? cryptoRng);
  // Calibrate to at most the decimal epsilon and at least the decimal sensitivity (module comment).
  const eps = decimalFloor(epsilon);
  const sens = decimalCeil(sensitivity);
  const g = laplaceGranularity({ epsilon: eps, sensitivity: sens });
  const t1 = gridScale(sens, g, eps, 1);
  let lastD = 1;
  let lastT = t1;
  const scaleFor = (d: number): number => {
    if (d === 1) return t1;
    if (d !== lastD) {
      lastT = gridScale(sens, g, eps, d);
      lastD = d;
    }
    return lastT;
  };
  return {
    epsilon,
    sensitivity,
    scale: sensitivity / epsilon,
    calibration: { epsilon: eps, sensitivity: sens },
    granularity: g,
    guarantee: { epsilon, delta: 0 },
    event: epsilonDeltaEvent(epsilon, 0),
    statement:
      `Laplace mechanism: ${epsilon}-DP (delta = 0) per call for neighbouring inputs at L1 distance <= ${sensitivity}; ` +
      `exact discrete Laplace noise on the grid ${g} = 2^${Math.log2(g)} (Google's granularity rule), ` +
      'rounding of the input charged to the sensitivity; randomness from the given Rng',
    noiseScale(dimension = 1): number {
      assertInteger('dimension', dimension, 1);
      return scaleFor(dimension) * g;
    },
    addNoise(x: number): number {
      checkInput(x, clamp !== undefined);
      return addOnGrid(x < lo ? lo : Math.min(x, hi), g, discreteLaplaceInt(t1, src));
    },
    addNoiseTo(xs: ArrayLike<number>, out?: Float64Array): Float64Array {
      const n = checkVector(xs, out, clamp !== undefined);
      const res = out ?? new Float64Array(n);
      if (n === 0) return res;
      const t = scaleFor(n);
      for (let i = 0; i < n; i++) {
        const x = xs[i];
        res[i] = addOnGrid(x < lo ? lo : Math.min(x, hi), g, discreteLaplaceInt(t, src));
      }
      return res;
    },
  };
}

/**
 * Internal: checks one input: a finite number, and at most {@link MAX_MECHANISM_INPUT} in magnitude unless the
 * mechanism clamps (then any finite number is clamped into the bounds).
 */
export function checkInput(x: unknown, clamped: boolean, name = 'x'): asserts x is number {
  if (typeof x !== 'number') throw new TypeError(`${name} must be a finite number, got ${describeValue(x)}`);
  if (!Number.isFinite(x)) throw new RangeError(`${name} must be a finite number, got ${describeValue(x)}`);
  if (!clamped && !(Math.abs(x) <= MAX_MECHANISM_INPUT)) {
    throw new RangeError(`${name} must have magnitude at most 2^1000 (or give clamp bounds), got ${describeValue(x)}`);
  }
}

/** Internal: validates a vector argument (finite numbers) and an optional output of the same length. */
export function checkVector(xs: ArrayLike<number>, out: Float64Array | undefined, clamped = false): number {
  assertArrayLike('xs', xs);
  const n = xs.length;
  const bound = clamped ? Number.MAX_VALUE : MAX_MECHANISM_INPUT;
  for (let i = 0; i < n; i++) {
    const v = xs[i];
    // Fast path without building a name per element; checkInput only to throw the precise error.
    if (!(typeof v === 'number' && Math.abs(v) <= bound)) checkInput(v, clamped, `xs[${i}]`);
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
  if (!(scale <= MAX_LAPLACE_SCALE)) throw new RangeError(`scale must be a finite number in (0, 2^960], got ${scale}`);
  const g = laplaceGranularity({ epsilon: 1, sensitivity: scale });
  const t = Math.ceil(scale / g); // scale/g is exact (power of two), at most 2^40
  const src = sourceOf(rng);
  for (let i = 0; i < out.length; i++) out[i] = discreteLaplaceInt(t, src) * g;
  return out;
}
