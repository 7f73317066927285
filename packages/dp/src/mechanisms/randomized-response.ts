/**
 * Randomized response (Warner 1965) for k categories, the local-DP primitive: report the true category with
 * probability e^eps / (e^eps + k - 1) and each other category with probability 1 / (e^eps + k - 1)
 * ("k-ary" or "direct encoding" RR; Wang et al., USENIX Security 2017), which is eps-DP for replace-one
 * neighbours. Sampled exactly without computing e^eps: draw j uniformly; return it if it is the true value,
 * else return it with probability exp(-eps), else repeat. Then P(true) : P(other) = 1 : e^-eps as required.
 * @module
 */
import { assertEpsilon, assertInteger, cryptoRng, describeValue, type Rng } from '@ppml/core';
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
  /** A randomized report of `value` (an integer in [0, k)). */
  respond(value: number): number;
  /** Unbiased estimates of the true category counts from the counts of n reports (post-processing). */
  estimateCounts(reportedCounts: ArrayLike<number>): Float64Array;
}

/**
 * Creates a k-ary randomized response mechanism.
 * @example
 * ```ts
 * const rr = randomizedResponse({ epsilon: Math.log(3) }); // binary: truth with probability 3/4
 * const report = rr.respond(1);
 * ```
 */
export function randomizedResponse(options: RandomizedResponseOptions): RandomizedResponse {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, got ${describeValue(options)}`);
  }
  const { epsilon } = options;
  assertEpsilon(epsilon);
  const k = options.categories ?? 2;
  assertInteger('categories', k, 2, 2 ** 32);
  const src = sourceOf(options.rng ?? cryptoRng);
  const e = rationalFromDouble(epsilon);
  const expEps = Math.exp(epsilon);
  const truthProbability = Number.isFinite(expEps) ? expEps / (expEps + k - 1) : 1;
  return {
    epsilon,
    categories: k,
    truthProbability,
    guarantee: { epsilon, delta: 0 },
    respond(value: number): number {
      assertInteger('value', value, 0, k - 1);
      for (;;) {
        const j = src.int(k);
        if (j === value) return j;
        if (bernoulliExpFast(epsilon, e.num, e.den, src)) return j;
      }
    },
    estimateCounts(reportedCounts: ArrayLike<number>): Float64Array {
      if (reportedCounts === null || typeof reportedCounts !== 'object' || reportedCounts.length !== k) {
        throw new RangeError(`reportedCounts must be an array of length ${k}, got ${describeValue(reportedCounts)}`);
      }
      let n = 0;
      for (let i = 0; i < k; i++) {
        const c = reportedCounts[i];
        if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) {
          throw new RangeError(`reportedCounts[${i}] must be a finite number >= 0, got ${describeValue(c)}`);
        }
        n += c;
      }
      const p = truthProbability;
      const q = (1 - p) / (k - 1);
      const out = new Float64Array(k);
      for (let i = 0; i < k; i++) out[i] = (reportedCounts[i] - n * q) / (p - q);
      return out;
    },
  };
}
