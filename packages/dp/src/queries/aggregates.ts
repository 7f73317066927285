/**
 * Clamped aggregate queries on a numeric column, epsilon-DP under add/remove-one-record neighbours: count,
 * sum, mean and variance. Values are clamped to [lower, upper] and rounded to a power-of-two grid g (Google's
 * Laplace granularity for the query's scale), so every record contributes an integer number of grid steps
 * with a known bound; the integers are summed exactly (fixed point, Casacuberta et al. 2022, arXiv
 * 2207.10635) and exact discrete Laplace noise (Canonne, Kamath & Steinke 2020) is added to the exact sum.
 * Neither float rounding in the sum nor the low bits of the noise can then break the sensitivity.
 * Mean and variance follow Google's BoundedMean/BoundedVariance (`cc/algorithms/bounded-mean.h`): noisy
 * count, noisy sum (and sum of squares) of values centred at the midpoint, the budget split evenly.
 *
 * The number of records is treated as non-empty by precondition: an empty column throws a RangeError.
 * @module
 */
import { type DpEvent, composedEvent, epsilonDeltaEvent } from '../accountant/events.ts';
import { rationalFromDouble } from '../mechanisms/exact-exp.ts';
import { laplaceGranularity } from '../mechanisms/granularity.ts';
import { discreteLaplaceInt, discreteLaplaceScale, laplaceScaleAtLeast } from '../mechanisms/samplers.ts';
import type { WordSource } from '../mechanisms/words.ts';
import {
  BOUNDED_KEYS,
  type BoundedQueryOptions,
  checkBounds,
  checkLength,
  checkOptions,
  checkValues,
  ExactIntegerSum,
  QUERY_KEYS,
  type QueryOptions,
} from './common.ts';

const MAX_T = 2 ** 46;
/** Smallest sensitivity used for a grid: tinier clamping ranges are charged as this (more noise, never less). */
const MIN_SENSITIVITY = 2 ** -900;

/** The largest double e with k e <= epsilon exactly, so that k parts never add up to more than epsilon. */
function splitEpsilon(epsilon: number, k: number): number {
  let part = epsilon / k;
  const total = rationalFromDouble(epsilon);
  for (;;) {
    const r = rationalFromDouble(part);
    if (BigInt(k) * r.num * total.den <= total.num * r.den) return part;
    part -= part * 2 ** -52;
  }
}

/**
 * Internal: the event of `parts` mechanisms, each pure `part`-DP on the same data (mean: 2, variance: 3). Their
 * composition is tighter than one pure (parts x part)-DP pair under the PLD and RDP accountants (and the same
 * under basic composition).
 */
export function splitEvent(part: number, parts: number): DpEvent {
  return composedEvent(Array.from({ length: parts }, () => epsilonDeltaEvent(part, 0)));
}

/** ceil(D / epsilon) for an integer D >= 1, exactly. */
function integerScale(d: number, epsilon: number): number {
  if (!Number.isSafeInteger(d))
    throw new RangeError(`epsilon=${epsilon} is too large for these bounds (sensitivity above 2^53 grid steps)`);
  const t = Math.ceil(laplaceScaleAtLeast(d, epsilon));
  if (t > MAX_T) throw new RangeError(`epsilon=${epsilon} is too small for this query (noise above 2^46 grid steps)`);
  return t;
}

/** The clamped values on the grid g, centred at integer c: round(clamp(x)/g) - c. */
function gridValues(values: ArrayLike<number>, lower: number, upper: number, g: number, c: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    const clamped = x < lower ? lower : Math.min(x, upper);
    out[i] = Math.round(clamped / g) - c;
  }
  return out;
}

/**
 * Noisy number of records: n + discrete Laplace(1/epsilon). Sensitivity 1 (add/remove one record).
 * @example
 * ```ts
 * const n = dpCount(rows, { epsilon: 0.1, budget });
 * ```
 */
export function dpCount(values: ArrayLike<unknown>, options: QueryOptions): number {
  const { epsilon, src, charge } = checkOptions(options, QUERY_KEYS, 'count');
  const n = checkLength(values);
  const scale = laplaceScaleAtLeast(1, epsilon);
  charge();
  return n + discreteLaplaceScale(scale, src);
}

/**
 * Noisy sum of values clamped to [lower, upper]: sensitivity max(|lower|, |upper|) (add/remove), computed in
 * exact fixed point on Google's Laplace grid and released with exact discrete Laplace noise.
 * @example
 * ```ts
 * const total = dpSum(incomes, { lower: 0, upper: 200_000, epsilon: 0.5, budget });
 * ```
 */
export function dpSum(values: ArrayLike<number>, options: BoundedQueryOptions): number {
  const { epsilon, src, charge } = checkOptions(options, BOUNDED_KEYS, 'sum');
  checkBounds(options);
  checkValues(values);
  return clampedSum(values, options.lower, options.upper, epsilon, 1, src, charge);
}

/**
 * Internal: the noisy clamped sum for contributions of at most `k` values per unit of privacy (1 for rows, the
 * rows-per-user bound for user-level queries), so its sensitivity is k max(|lower|, |upper|). `charge` runs after
 * every check and before any noise.
 */
export function clampedSum(
  values: ArrayLike<number>,
  lower: number,
  upper: number,
  epsilon: number,
  k: number,
  src: WordSource,
  charge: () => void,
): number {
  // Every check that can throw runs before the spend, so a refused call never costs budget.
  const { g, d, t } = sumGrid(lower, upper, epsilon, k);
  charge();
  if (d === 0) return 0; // every clamped value rounds to 0: the sum is 0 for every dataset
  const grid = gridValues(values, lower, upper, g, 0);
  const s = new ExactIntegerSum();
  for (let i = 0; i < grid.length; i++) s.add(grid[i]);
  return Number(s.value + BigInt(discreteLaplaceInt(t, src))) * g;
}

/**
 * Internal: the grid g, the per-value bound d (grid steps) and the integer noise scale t of a clamped sum with k
 * values per unit of privacy; throws the RangeError a sum with these parameters would throw (before any spend).
 */
export function sumGrid(lower: number, upper: number, epsilon: number, k: number): { g: number; d: number; t: number } {
  // Bounds below 2^-900 in magnitude are charged as 2^-900 (more noise, never less), which keeps the grid normal.
  const g = laplaceGranularity({ epsilon, sensitivity: k * Math.max(Math.abs(lower), Math.abs(upper), MIN_SENSITIVITY) });
  const lo = Math.round(lower / g);
  const hi = Math.round(upper / g);
  const d = Math.max(Math.abs(lo), Math.abs(hi));
  return { g, d, t: d === 0 ? 0 : integerScale(k * d, epsilon) };
}

interface Centred {
  readonly g: number;
  readonly c: number;
  readonly d: number;
  readonly grid: Float64Array;
}

function centred(values: ArrayLike<number>, lower: number, upper: number, epsilon: number, k = 1): Centred {
  const g = laplaceGranularity({ epsilon, sensitivity: k * Math.max((upper - lower) / 2, MIN_SENSITIVITY) });
  const lo = Math.round(lower / g);
  const hi = Math.round(upper / g);
  const c = Math.round(lo / 2 + hi / 2);
  const d = Math.max(c - lo, hi - c, 1);
  return { g, c, d, grid: gridValues(values, lower, upper, g, c) };
}

/**
 * Noisy mean of values clamped to [lower, upper] (Google's BoundedMean): a noisy count (epsilon/2) and a
 * noisy sum of values centred at the midpoint (epsilon/2, sensitivity (upper - lower)/2), the ratio clamped
 * to [lower, upper].
 * @example
 * ```ts
 * const avgAge = dpMean(ages, { lower: 0, upper: 120, epsilon: 0.5 });
 * ```
 */
export function dpMean(values: ArrayLike<number>, options: BoundedQueryOptions): number {
  const { epsilon, src, charge } = checkOptions(options, BOUNDED_KEYS, 'mean');
  checkBounds(options);
  checkValues(values);
  return clampedMean(values, options.lower, options.upper, epsilon, 1, src, charge);
}

/**
 * Internal: the noisy clamped mean (noisy count with sensitivity k, noisy centred sum with sensitivity
 * k (upper - lower)/2, epsilon/2 each) for contributions of at most `k` values per unit of privacy.
 */
export function clampedMean(
  values: ArrayLike<number>,
  lower: number,
  upper: number,
  epsilon: number,
  k: number,
  src: WordSource,
  charge: (event?: DpEvent) => void,
): number {
  const n = values.length;
  const half = splitEpsilon(epsilon, 2);
  const { g, c, d, grid } = centred(values, lower, upper, half, k);
  const t = integerScale(k * d, half);
  const countScale = laplaceScaleAtLeast(k, half);
  charge(splitEvent(half, 2));
  const s = new ExactIntegerSum();
  for (let i = 0; i < n; i++) s.add(grid[i]);
  const noisySum = Number(s.value + BigInt(discreteLaplaceInt(t, src)));
  const count = Math.max(1, n + discreteLaplaceScale(countScale, src));
  const mean = (c + noisySum / count) * g;
  return Math.min(upper, Math.max(lower, mean));
}

/**
 * Noisy variance of values clamped to [lower, upper] (Google's BoundedVariance): noisy count, noisy centred
 * sum and noisy centred sum of squares, epsilon/3 each; the result is clamped to [0, ((upper - lower)/2)^2].
 * @example
 * ```ts
 * const v = dpVariance(ages, { lower: 0, upper: 120, epsilon: 0.9 });
 * ```
 */
export function dpVariance(values: ArrayLike<number>, options: BoundedQueryOptions): number {
  const { epsilon, src, charge } = checkOptions(options, BOUNDED_KEYS, 'variance');
  checkBounds(options);
  const n = checkValues(values);
  const { lower, upper } = options;
  if (!((upper - lower) / 2 <= 2 ** 450)) {
    // The sum of squares must stay representable: ((upper - lower)/2)^2 times 2^32 records plus its noise.
    throw new RangeError(`upper - lower must be at most 2^451 for dpVariance, got lower=${lower}, upper=${upper}`);
  }
  const third = splitEpsilon(epsilon, 3);
  const { g, d, grid } = centred(values, lower, upper, third);
  const t = integerScale(d, third);
  // Squares on their own grid g2: q_i = round((m_i g)^2 / g2) in [0, round((d g)^2 / g2)] (rounding is monotone).
  const maxSq = d * g * (d * g);
  const g2 = laplaceGranularity({ epsilon: third, sensitivity: Math.max(maxSq, MIN_SENSITIVITY) });
  const dq = Math.max(1, Math.round(maxSq / g2));
  const tq = integerScale(dq, third);
  const countScale = laplaceScaleAtLeast(1, third);
  charge(splitEvent(third, 3));
  const s = new ExactIntegerSum();
  const sq = new ExactIntegerSum();
  for (let i = 0; i < n; i++) {
    const m = grid[i];
    const v = m * g;
    s.add(m);
    sq.add(Math.round((v * v) / g2));
  }
  const noisySum = Number(s.value + BigInt(discreteLaplaceInt(t, src))) * g;
  const noisySq = Number(sq.value + BigInt(discreteLaplaceInt(tq, src))) * g2;
  const count = Math.max(1, n + discreteLaplaceScale(countScale, src));
  const mean = noisySum / count;
  const variance = noisySq / count - mean * mean;
  const maxVar = ((upper - lower) / 2) ** 2;
  return Math.min(maxVar, Math.max(0, variance));
}
