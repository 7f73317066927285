/**
 * Internal: argument checks and exact integer sums shared by the queries. Sums of grid integers are exact:
 * they accumulate in a double while below 2^52 and flush to a BigInt, so no rounding can change the
 * sensitivity of a sum (Casacuberta et al. 2022, arXiv 2207.10635, Sec. 4: fixed point instead of floats).
 * @module
 */
import { assertArrayLike, assertEpsilon, assertOptions, describeValue, type Rng } from '@ppml/core';
import { type DpEvent, epsilonDeltaEvent } from '../accountant/events.ts';
import { decimalFloor } from '../mechanisms/decimal.ts';
import { sourceOf } from '../mechanisms/samplers.ts';
import type { WordSource } from '../mechanisms/words.ts';
import { PrivacyBudget, type PrivacyCost } from './budget.ts';

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

/** The option keys every query takes. */
export const QUERY_KEYS: readonly string[] = ['epsilon', 'budget', 'label', 'rng'];
/** The option keys of a bounded query. */
export const BOUNDED_KEYS: readonly string[] = [...QUERY_KEYS, 'lower', 'upper'];

/**
 * Internal: the checked common options of a query. `epsilon` is the value the noise is calibrated for: the
 * largest double at most the decimal that the budget charges for `options.epsilon` (see `decimal.ts`).
 */
export interface CheckedQuery {
  readonly epsilon: number;
  readonly src: WordSource;
  /**
   * The query's privacy event: pure epsilon-DP (the queries add discrete Laplace noise; the pure pair dominates
   * it). A query with another mechanism passes its own event to `charge`.
   */
  readonly event: DpEvent;
  /**
   * Spends the query's cost (its epsilon, and `event` or the query's default event) on its budget, if any; call
   * it after every check, before any noise is drawn.
   */
  readonly charge: (event?: DpEvent) => void;
}

/**
 * Internal: validates the options every query takes (unknown keys, epsilon, budget, label, rng) before anything
 * is spent or computed. `keys` lists the keys this query accepts.
 */
export function checkOptions(options: QueryOptions, keys: readonly string[], label: string): CheckedQuery {
  assertOptions('options', options, keys);
  assertEpsilon(options.epsilon);
  if (options.epsilon < MIN_QUERY_EPSILON) {
    throw new RangeError(`epsilon must be a finite number >= 2^-40, got ${describeValue(options.epsilon)}`);
  }
  if (options.label !== undefined && typeof options.label !== 'string') {
    throw new TypeError(`label must be a string, got ${describeValue(options.label)}`);
  }
  const budget = options.budget;
  if (budget !== undefined && !(budget instanceof PrivacyBudget)) {
    throw new TypeError(`budget must be a PrivacyBudget, got ${describeValue(budget)}`);
  }
  const src = sourceOf(options.rng);
  const name = options.label ?? label;
  const event = epsilonDeltaEvent(options.epsilon, 0);
  return {
    epsilon: decimalFloor(options.epsilon),
    src,
    event,
    charge: (own?: DpEvent) => chargeQuery(budget, { epsilon: options.epsilon, event: own ?? event }, name),
  };
}

/** Internal: thrown by {@link chargeQuery} while a query is probed, to stop it before any noise is drawn. */
const PROBED: unique symbol = Symbol('probed');

/** Internal: the spend a probed query reached, or undefined while it has not reached one. */
interface Probe {
  taken?: { readonly cost: PrivacyCost; readonly label: string };
}

let probe: Probe | undefined;

/**
 * Internal: the one place where a query spends. Every query calls it after all of its checks and before any
 * noise; while {@link probeQuery} runs, it records the cost instead of spending and stops the query.
 */
export function chargeQuery(budget: PrivacyBudget | undefined, cost: PrivacyCost, label: string): void {
  if (probe !== undefined) {
    probe.taken = { cost, label };
    throw PROBED;
  }
  budget?.spend(cost, label);
}

/**
 * Internal: runs `run` (a call of a query) up to its spend, which is recorded, not made: every check of the call
 * runs (and throws as the query would), nothing is spent and no noise is drawn. Queries are synchronous, so no
 * other call can observe the probe.
 */
export function probeQuery(run: () => unknown): { cost: PrivacyCost; label: string } {
  const previous = probe;
  const mine: Probe = {};
  probe = mine;
  try {
    run();
  } catch (err) {
    if (err !== PROBED) throw err;
  } finally {
    probe = previous;
  }
  if (mine.taken === undefined) throw new TypeError('query must be a ppml query that spends before it draws noise');
  return mine.taken;
}

/** Internal: validates finite bounds with lower < upper. */
export function checkBounds(options: BoundedQueryOptions): void {
  const { lower, upper } = options;
  if (typeof lower !== 'number') throw new TypeError(`lower must be a finite number, got ${describeValue(lower)}`);
  if (typeof upper !== 'number') throw new TypeError(`upper must be a finite number, got ${describeValue(upper)}`);
  if (!Number.isFinite(lower)) throw new RangeError(`lower must be a finite number, got ${describeValue(lower)}`);
  if (!Number.isFinite(upper)) throw new RangeError(`upper must be a finite number, got ${describeValue(upper)}`);
  if (!(lower < upper)) throw new RangeError(`lower must be < upper, got lower=${lower}, upper=${upper}`);
  // 2^900: a sum of up to 2^32 clamped values plus noise of scale up to 2^940 (epsilon >= 2^-40) stays finite.
  if (Math.max(Math.abs(lower), Math.abs(upper)) > 2 ** 900) {
    throw new RangeError(`lower and upper must have magnitude at most 2^900, got [${lower}, ${upper}]`);
  }
}

/**
 * Internal: the largest number of values a query accepts (2^32 - 1, the longest JavaScript array). The length
 * is checked before anything is allocated or read.
 */
export const MAX_QUERY_VALUES: number = 2 ** 32 - 1;

/** Internal: checks a non-empty array or typed array (any elements); returns its length. */
export function checkLength(values: unknown, name = 'values'): number {
  if (Array.isArray(values) || ArrayBuffer.isView(values)) {
    if ((values as ArrayLike<unknown>).length === 0) {
      throw new RangeError(`${name} must contain at least one value, got an empty array`);
    }
  }
  assertArrayLike(name, values, 1, MAX_QUERY_VALUES);
  return values.length;
}

/** Internal: checks a non-empty array or typed array of finite numbers; returns its length. */
export function checkValues(values: ArrayLike<number>, name = 'values'): number {
  const n = checkLength(values, name);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number') throw new TypeError(`${name}[${i}] must be a finite number, got ${describeValue(v)}`);
    if (!Number.isFinite(v)) throw new RangeError(`${name}[${i}] must be a finite number, got ${describeValue(v)}`);
  }
  return n;
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
