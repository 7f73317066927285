/**
 * Noisy quantiles by the exponential mechanism over a data-independent grid of candidates (Smith, STOC 2011,
 * discretised; as in diffprivlib's and OpenDP's quantile mechanisms), epsilon-DP under add/remove neighbours.
 * The candidates are `candidates` equally spaced points on [lower, upper]; candidate z scores
 * -|#{x_i < z} - round(q n)|, an integer score whose sensitivity is 1 (adding a record moves both the count
 * below z and the target rank by 0 or 1 in the same direction). Selection uses the exact exponential
 * mechanism of `mechanisms/exponential.ts`, so no floating-point weights are computed.
 * @module
 */
import { assertInRange, assertInteger } from '@ppml/core';
import { exponentialMechanism } from '../mechanisms/exponential.ts';
import { rationalFromDouble } from '../mechanisms/exact-exp.ts';
import { BOUNDED_KEYS, type BoundedQueryOptions, checkBounds, checkOptions, checkValues } from './common.ts';

const QUANTILE_KEYS: readonly string[] = [...BOUNDED_KEYS, 'q', 'candidates'];

/**
 * Options of {@link dpQuantile}.
 * @example
 * ```ts
 * const opts: QuantileOptions = { q: 0.5, lower: 0, upper: 100, epsilon: 0.5 };
 * ```
 */
export interface QuantileOptions extends BoundedQueryOptions {
  /** The quantile in [0, 1] (0.5: median). */
  readonly q: number;
  /** Number of equally spaced candidates on [lower, upper] (default 1001, at least 2). */
  readonly candidates?: number;
}

/** round(q n) exactly (ties up), with q read as an exact rational. */
function targetRank(q: number, n: number): number {
  const r = rationalFromDouble(q);
  const twice = (2n * r.num * BigInt(n) + r.den) / (2n * r.den);
  return Number(twice);
}

/**
 * A noisy q-quantile of values clamped to [lower, upper], one of `candidates` grid points.
 * @example
 * ```ts
 * const median = dpQuantile(incomes, { q: 0.5, lower: 0, upper: 200_000, epsilon: 0.5 });
 * ```
 */
export function dpQuantile(values: ArrayLike<number>, options: QuantileOptions): number {
  const { charge } = checkOptions(options, QUANTILE_KEYS, 'quantile');
  checkBounds(options);
  assertInRange('q', options.q, 0, 1);
  const m = options.candidates ?? 1001;
  assertInteger('candidates', m, 2, 1_000_000);
  const n = checkValues(values);
  const { lower, upper } = options;
  // The mechanism calibrates from the largest double at most the decimal of epsilon, as the budget charges.
  const em = exponentialMechanism({ epsilon: options.epsilon, sensitivity: 1, rng: options.rng });
  const sorted = Float64Array.from(values).sort();
  const grid = new Float64Array(m);
  for (let j = 0; j < m; j++) grid[j] = lower + ((upper - lower) * j) / (m - 1);
  grid[m - 1] = upper;
  const r = targetRank(options.q, n);
  const scores = new Float64Array(m);
  let below = 0; // #{x_i < grid[j]}: values outside [lower, upper] fall below or above every candidate
  for (let j = 0; j < m; j++) {
    while (below < n && sorted[below] < grid[j]) below++;
    scores[j] = -Math.abs(below - r);
  }
  // The exponential mechanism's own event: epsilon-bounded-range, which the RDP accountant composes more
  // tightly than a pure epsilon-DP pair (Cesar & Rogers 2021).
  charge(em.event);
  return grid[em.select(scores)];
}
