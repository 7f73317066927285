/**
 * Randomized response (Warner 1965) for k categories, the local-DP primitive: report the true category with
 * probability e^eps / (e^eps + k - 1) and each other category with probability 1 / (e^eps + k - 1)
 * ("k-ary" or "direct encoding" RR; Wang et al., USENIX Security 2017), which is eps-DP for replace-one
 * neighbours. Sampled exactly without computing e^eps: draw j uniformly; return it if it is the true value,
 * else return it with probability exp(-eps), else repeat. Then P(true) : P(other) = 1 : e^-eps as required.
 * eps is the largest double at most the decimal value of `epsilon` (`decimal.ts`), so the true loss never
 * exceeds what a budget charges for the epsilon as written; epsilon must be at least 2^-50 so that the
 * unbiased estimates stay finite.
 * @module
 */
import { type RandomizedResponseEvent, randomizedResponseEvent } from '../accountant/events.ts';
import { assertArrayLike, assertEpsilon, assertInteger, assertOptions, cryptoRng, describeValue, type Rng } from '@ppml/core';
import { decimalFloor } from './decimal.ts';
import { rationalFromDouble } from './exact-exp.ts';
import { bernoulliExpFast, sourceOf } from './samplers.ts';

/**
 * Options of {@link randomizedResponse}.
 * @example
 * ```ts
 * const opts: RandomizedResponseOptions = { epsilon: 1, categories: 4 };
 * ```
 */
export interface RandomizedResponseOptions {
  /** epsilon > 0. */
  readonly epsilon: number;
  /** Number of categories k >= 2 (default 2). Values are 0..k-1. */
  readonly categories?: number;
  /** Randomness; default the CSPRNG. */
  readonly rng?: Rng;
}

/**
 * A randomized-response mechanism with fixed parameters.
 * @example
 * ```ts
 * const rr: RandomizedResponse = randomizedResponse({ epsilon: 1 });
 * ```
 */
export interface RandomizedResponse {
  readonly epsilon: number;
  readonly categories: number;
  /** Probability of reporting the true category, e^eps / (e^eps + k - 1). */
  readonly truthProbability: number;
  /** Guarantee of one report: pure epsilon-DP (replace-one, local model). */
  readonly guarantee: { readonly epsilon: number; readonly delta: 0 };
  /** The value the responses are calibrated for: epsilon at most the decimal value of `epsilon` (what a budget charges). */
  readonly calibration: { readonly epsilon: number };
  /** The privacy event of one report, for accountants and budgets (k-ary randomized response). */
  readonly event: RandomizedResponseEvent;
  /** A randomized report of `value` (an integer in [0, k)). */
  respond(value: number): number;
  /** Unbiased estimates of the true category counts from the counts of n reports (post-processing). */
  estimateCounts(reportedCounts: ArrayLike<number>): Float64Array;
}

/** Smallest epsilon (as for the Laplace mechanism): keeps 1 / (p - q) and the estimates finite. */
const MIN_RR_EPSILON = 2 ** -50;
/** Largest reported count: counts of reports, with k <= 2^32 the total stays far below overflow. */
const MAX_COUNT = 2 ** 53;

/**
 * Creates a k-ary randomized response mechanism.
 * @example
 * ```ts
 * const rr = randomizedResponse({ epsilon: Math.log(3) }); // binary: truth with probability 3/4
 * const report = rr.respond(1);
 * ```
 */
export function randomizedResponse(options: RandomizedResponseOptions): RandomizedResponse {
  const raw: unknown = options;
  assertOptions('options', raw, ['epsilon', 'categories', 'rng']);
  const { epsilon } = options;
  assertEpsilon(epsilon);
  if (epsilon < MIN_RR_EPSILON) {
    throw new RangeError(`epsilon must be a finite number >= 2^-50, got ${describeValue(epsilon)}`);
  }
  const k = options.categories ?? 2;
  assertInteger('categories', k, 2, 2 ** 32);
  const src = sourceOf(options.rng ?? cryptoRng);
  const eps = decimalFloor(epsilon);
  const e = rationalFromDouble(eps);
  const expEps = Math.exp(eps);
  const finite = Number.isFinite(expEps);
  const truthProbability = finite ? expEps / (expEps + k - 1) : 1;
  // p - q = (e^eps - 1) / (e^eps + k - 1), with expm1 so that it is not 0 for small eps
  const gap = finite ? Math.expm1(eps) / (expEps + k - 1) : 1;
  const q = finite ? 1 / (expEps + k - 1) : 0;
  return {
    epsilon,
    categories: k,
    truthProbability,
    guarantee: { epsilon, delta: 0 },
    calibration: { epsilon: eps },
    // Noise parameter k/(e^eps + k - 1) (probability of a uniform report), nudged down by 2^-50 relative so that
    // float rounding can only overstate the loss.
    event: randomizedResponseEvent({ noiseParameter: finite ? k * q * (1 - 2 ** -50) : 0, buckets: k }),
    respond(value: number): number {
      assertInteger('value', value, 0, k - 1);
      for (;;) {
        const j = src.int(k);
        if (j === value) return j;
        if (bernoulliExpFast(eps, e.num, e.den, src)) return j;
      }
    },
    estimateCounts(reportedCounts: ArrayLike<number>): Float64Array {
      assertArrayLike('reportedCounts', reportedCounts, k, k);
      let n = 0;
      for (let i = 0; i < k; i++) {
        const c = reportedCounts[i];
        if (typeof c !== 'number') throw new TypeError(`reportedCounts[${i}] must be a finite number >= 0, got ${describeValue(c)}`);
        if (!(c >= 0 && c <= MAX_COUNT)) {
          throw new RangeError(`reportedCounts[${i}] must be a number in [0, 2^53], got ${describeValue(c)}`);
        }
        n += c;
      }
      const out = new Float64Array(k);
      for (let i = 0; i < k; i++) out[i] = (reportedCounts[i] - n * q) / gap;
      return out;
    },
  };
}
