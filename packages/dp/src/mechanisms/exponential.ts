/**
 * Selection mechanisms: the exponential mechanism (McSherry & Talwar, FOCS 2007) and permute-and-flip
 * (McKenna & Sheldon, NeurIPS 2020), both epsilon-DP for scores with sensitivity D, both sampled exactly.
 * Candidate i has weight exp(-gamma_i) with gamma_i = eps (u* - u_i) / (2 D) (or eps (u* - u_i) / D for
 * monotonic scores), u* the best score. The exponential mechanism draws i uniformly and accepts it with
 * probability exp(-gamma_i), which yields P(i) proportional to exp(eps u_i / (2 D)) exactly; permute-and-flip
 * visits the candidates in a uniformly random order and stops at the first acceptance (it never does worse
 * in expectation). Scores are read as the exact rationals their doubles represent, and acceptance uses the
 * exact Bernoulli(exp(-gamma)) of `samplers.ts`, so there is no floating-point exponentiation or
 * normalisation to attack (cf. Ilvento, "Implementing the Exponential Mechanism with Base-2 DP", CCS 2020).
 * The running time depends on the scores (a timing channel, as for every rejection sampler).
 *
 * epsilon is calibrated from the largest double at most its decimal value and the sensitivity from the smallest
 * double at least its decimal value (`decimal.ts`), so the true loss never exceeds what a budget charges for
 * the epsilon as written. Scores must be at most 2^1000 in magnitude so that every score gap is a finite double.
 * @module
 */
import {
  type EpsilonDeltaEvent,
  type ExponentialMechanismEvent,
  epsilonDeltaEvent,
  exponentialMechanismEvent,
} from '../accountant/events.ts';
import { assertArrayLike, assertEpsilon, assertOptions, assertPositive, cryptoRng, describeValue, type Rng } from '@ppml/core';
import { decimalCeil, decimalFloor } from './decimal.ts';
import { decideExpNeg, lazyLessThanExpNeg, type Rational, rationalFromDouble } from './exact-exp.ts';
import { sourceOf } from './samplers.ts';
import type { WordSource } from './words.ts';

/**
 * Options of {@link exponentialMechanism} and {@link permuteAndFlip}.
 * @example
 * ```ts
 * const opts: SelectionOptions = { epsilon: 1, sensitivity: 1, monotonic: true };
 * ```
 */
export interface SelectionOptions {
  /** epsilon > 0. */
  readonly epsilon: number;
  /** Sensitivity of every score > 0: |u_i(x) - u_i(x')| <= sensitivity for neighbours x, x'. */
  readonly sensitivity: number;
  /** Scores move in the same direction for all candidates between neighbours (halves the noise). */
  readonly monotonic?: boolean;
  /** Randomness; default the CSPRNG. */
  readonly rng?: Rng;
}

/**
 * A selection mechanism with fixed parameters.
 * @example
 * ```ts
 * const em: SelectionMechanism = exponentialMechanism({ epsilon: 1, sensitivity: 1 });
 * ```
 */
export interface SelectionMechanism {
  readonly epsilon: number;
  readonly sensitivity: number;
  /** The guarantee of one selection: pure epsilon-DP. */
  readonly guarantee: { readonly epsilon: number; readonly delta: 0 };
  /**
   * The values the selection is calibrated for: epsilon at most the decimal value of `epsilon` (what a budget
   * charges), sensitivity at least the decimal value of `sensitivity`.
   */
  readonly calibration: { readonly epsilon: number; readonly sensitivity: number };
  /**
   * The privacy event of one selection: the exponential mechanism is epsilon-bounded-range (Durfee & Rogers
   * 2019), which RDP accounting uses; permute-and-flip is accounted as pure epsilon-DP.
   */
  readonly event: ExponentialMechanismEvent | EpsilonDeltaEvent;
  /** The index of the selected candidate (scores: higher is better, finite, at least one). */
  select(scores: ArrayLike<number>): number;
}

interface Prepared {
  readonly scores: ArrayLike<number>;
  readonly best: number;
  readonly factor: number;
  readonly epsilon: number;
  readonly divisor: number;
  readonly src: WordSource;
}

/** Largest score magnitude: the gap of two scores stays a finite double. */
const MAX_SCORE = 2 ** 1000;

function checkScores(scores: ArrayLike<number>): number {
  assertArrayLike('scores', scores);
  if (scores.length === 0) throw new RangeError('scores must contain at least one candidate, got an empty array');
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (typeof v !== 'number') throw new TypeError(`scores[${i}] must be a finite number, got ${describeValue(v)}`);
    if (!(Math.abs(v) <= MAX_SCORE)) {
      throw new RangeError(`scores[${i}] must be a finite number of magnitude at most 2^1000, got ${describeValue(v)}`);
    }
    if (v > best) best = v;
  }
  return best;
}

/** Bernoulli(exp(-eps (best - u_i) / divisor)), exactly. */
function accept(p: Prepared, i: number): boolean {
  const gap = p.best - p.scores[i]; // correctly rounded difference of the two doubles
  if (gap === 0 && p.best === p.scores[i]) return true;
  const d = decideExpNeg(p.src, gap * p.factor); // |estimate - gamma| <= 3 2^-53 gamma
  if (d !== -1) return d === 1;
  const w = p.src.prefix;
  // Rare: decide exactly with the rational gamma.
  const g = selectionGamma(p.epsilon, p.best, p.scores[i], p.divisor);
  return lazyLessThanExpNeg(w, g.num, g.den, p.src);
}

/** Internal: gamma = epsilon (best - score) / divisor as an exact rational (all four read exactly). */
export function selectionGamma(epsilon: number, best: number, score: number, divisor: number): Rational {
  const e = rationalFromDouble(epsilon);
  const b = rationalFromDouble(best);
  const u = rationalFromDouble(score);
  const d = rationalFromDouble(divisor);
  return { num: e.num * (b.num * u.den - u.num * b.den) * d.den, den: e.den * b.den * u.den * d.num };
}

interface Checked {
  /** The user's values. */
  readonly epsilon: number;
  readonly sensitivity: number;
  /** The calibrated values (module comment). */
  readonly eps: number;
  readonly sens: number;
  readonly divisor: number;
  readonly src: WordSource;
}

function prepare(options: SelectionOptions): Checked {
  const raw: unknown = options;
  assertOptions('options', raw, ['epsilon', 'sensitivity', 'monotonic', 'rng']);
  const { epsilon, sensitivity } = options;
  assertEpsilon(epsilon);
  assertPositive('sensitivity', sensitivity);
  if (options.monotonic !== undefined && typeof options.monotonic !== 'boolean') {
    throw new TypeError(`monotonic must be a boolean, got ${describeValue(options.monotonic)}`);
  }
  const eps = decimalFloor(epsilon);
  const sens = decimalCeil(sensitivity);
  const divisor = options.monotonic === true ? sens : 2 * sens;
  if (!Number.isFinite(divisor)) throw new RangeError(`sensitivity must be at most 2^1022, got ${sensitivity}`);
  // The fast path estimates gamma as (best - u) * (eps / divisor); the factor must be a finite double.
  if (!Number.isFinite(eps / divisor)) {
    throw new RangeError(`epsilon / sensitivity must be a finite double, got epsilon=${epsilon}, sensitivity=${sensitivity}`);
  }
  return { epsilon, sensitivity, eps, sens, divisor, src: sourceOf(options.rng ?? cryptoRng) };
}

/**
 * The exponential mechanism: selects index i with probability proportional to exp(eps u_i / (2 D)), exactly.
 * @example
 * ```ts
 * const em = exponentialMechanism({ epsilon: 1, sensitivity: 1 });
 * const winner = em.select([10, 12, 7]); // most likely 1
 * ```
 */
export function exponentialMechanism(options: SelectionOptions): SelectionMechanism {
  const c = prepare(options);
  return {
    epsilon: c.epsilon,
    sensitivity: c.sensitivity,
    guarantee: { epsilon: c.epsilon, delta: 0 },
    calibration: { epsilon: c.eps, sensitivity: c.sens },
    event: exponentialMechanismEvent(c.epsilon),
    select(scores: ArrayLike<number>): number {
      const best = checkScores(scores);
      const p: Prepared = { scores, best, factor: c.eps / c.divisor, epsilon: c.eps, divisor: c.divisor, src: c.src };
      const n = scores.length;
      for (;;) {
        const i = c.src.int(n);
        if (accept(p, i)) return i;
      }
    },
  };
}

/**
 * Permute-and-flip (McKenna & Sheldon 2020): visit candidates in random order, keep the first one accepted with
 * probability exp(eps (u_i - u*) / (2 D)). epsilon-DP, and never worse than the exponential mechanism in
 * expected score.
 * @example
 * ```ts
 * const pf = permuteAndFlip({ epsilon: 1, sensitivity: 1 });
 * const winner = pf.select([10, 12, 7]);
 * ```
 */
export function permuteAndFlip(options: SelectionOptions): SelectionMechanism {
  const c = prepare(options);
  return {
    epsilon: c.epsilon,
    sensitivity: c.sensitivity,
    guarantee: { epsilon: c.epsilon, delta: 0 },
    calibration: { epsilon: c.eps, sensitivity: c.sens },
    event: epsilonDeltaEvent(c.epsilon, 0),
    select(scores: ArrayLike<number>): number {
      const best = checkScores(scores);
      const p: Prepared = { scores, best, factor: c.eps / c.divisor, epsilon: c.eps, divisor: c.divisor, src: c.src };
      const n = scores.length;
      const order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      for (let k = 0; k < n; k++) {
        const j = k + c.src.int(n - k); // lazy Fisher-Yates
        const v = order[j];
        order[j] = order[k];
        order[k] = v;
        if (accept(p, v)) return v;
      }
      // Unreachable: the best candidate is accepted with probability 1.
      throw new Error('permute-and-flip visited every candidate without accepting the best one');
    },
  };
}
