/**
 * Internal: argument checks and exact integer sums shared by the queries. Sums of grid integers are exact:
 * they accumulate in a double while below 2^52 and flush to a BigInt, so no rounding can change the
 * sensitivity of a sum (Casacuberta et al. 2022, arXiv 2207.10635, Sec. 4: fixed point instead of floats).
 * @module
 */
import { assertEpsilon, describeValue, type Rng } from '@ppml/core';
import type { PrivacyBudget } from './budget.ts';

/**
 * Options every query takes.
 * @example
 * ```ts
 * const opts: QueryOptions = { epsilon: 0.1, budget };
 * ```
 */
export interface QueryOptions {
  /** Privacy parameter of this query, > 0. */
  readonly epsilon: number;
  /** When given, the query's cost is spent (or refused) here before any noise is drawn. */
  readonly budget?: PrivacyBudget;
  /** Ledger label (default: the query's name). */
  readonly label?: string;
  /** Randomness; default the CSPRNG. Pass a seeded generator only in tests. */
  readonly rng?: Rng;
}

/**
 * Options of queries on values clamped to [lower, upper].
 * @example
 * ```ts
 * const opts: BoundedQueryOptions = { epsilon: 0.1, lower: 0, upper: 100, budget };
 * ```
 */
export interface BoundedQueryOptions extends QueryOptions {
  /** Lower clamping bound (finite, < upper). */
  readonly lower: number;
  /** Upper clamping bound (finite, > lower). */
  readonly upper: number;
}

/**
 * Smallest epsilon a query accepts (the noise must stay below 2^46 grid steps).
 * @example
 * ```ts
 * dpCount(rows, { epsilon: Math.max(epsilon, MIN_QUERY_EPSILON) });
 * ```
 */
export const MIN_QUERY_EPSILON: number = 2 ** -40;

/** Internal: validates the options every query takes. */
export function checkOptions(options: QueryOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, got ${describeValue(options)}`);
  }
  assertEpsilon(options.epsilon);
  if (options.epsilon < MIN_QUERY_EPSILON) {
    throw new RangeError(`epsilon must be a finite number >= 2^-40, got ${describeValue(options.epsilon)}`);
  }
  if (options.label !== undefined && typeof options.label !== 'string') {
    throw new TypeError(`label must be a string, got ${describeValue(options.label)}`);
  }
}

/** Internal: validates finite bounds with lower < upper. */
export function checkBounds(options: BoundedQueryOptions): void {
  const { lower, upper } = options;
  if (typeof lower !== 'number') throw new TypeError(`lower must be a finite number, got ${describeValue(lower)}`);
  if (typeof upper !== 'number') throw new TypeError(`upper must be a finite number, got ${describeValue(upper)}`);
  if (!Number.isFinite(lower)) throw new RangeError(`lower must be a finite number, got ${describeValue(lower)}`);
  if (!Number.isFinite(upper)) throw new RangeError(`upper must be a finite number, got ${describeValue(upper)}`);
  if (!(lower < upper)) throw new RangeError(`lower must be < upper, got lower=${lower}, upper=${upper}`);
  if (Math.max(Math.abs(lower), Math.abs(upper)) > 2 ** 1000) {
    throw new RangeError(`lower and upper must have magnitude at most 2^1000, got [${lower}, ${upper}]`);
  }
}

/** Checks a non-empty array-like of finite numbers. */
export function checkValues(values: ArrayLike<number>, name = 'values'): number {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
    throw new TypeError(`${name} must be an array of finite numbers, got ${describeValue(values)}`);
  }
  const n = values.length;
  if (n === 0) throw new RangeError(`${name} must contain at least one value, got an empty array`);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number') throw new TypeError(`${name}[${i}] must be a finite number, got ${describeValue(v)}`);
    if (!Number.isFinite(v)) throw new RangeError(`${name}[${i}] must be a finite number, got ${describeValue(v)}`);
  }
  return n;
}

/** Spends the query's cost on its budget, if any (before any noise is drawn). */
export function charge(options: QueryOptions, label: string): void {
  options.budget?.spend({ epsilon: options.epsilon }, options.label ?? label);
}

const FLUSH = 2 ** 52;

/** Exact sum of integer-valued doubles (each |v| < 2^52) as a bigint. */
export class ExactIntegerSum {
  #acc = 0;
  #big = 0n;

  add(v: number): void {
    this.#acc += v;
    if (this.#acc >= FLUSH || this.#acc <= -FLUSH) {
      this.#big += BigInt(this.#acc);
      this.#acc = 0;
    }
  }

  get value(): bigint {
    return this.#big + BigInt(this.#acc);
  }
}
