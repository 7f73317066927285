/**
 * Internal argument checks shared by the accountant modules (built on `@ppml/core`'s validators, which throw a
 * `TypeError` for a wrong type and a `RangeError` naming the parameter and the allowed range otherwise).
 * @module
 */
import { assertArrayLike, assertInRange, assertInteger, assertNonNegative, describeValue } from '@ppml/core';
import { DEFAULT_RDP_ORDERS } from './orders.ts';
import type { NeighboringRelation } from './rdp-accountant.ts';
import type { RdpConversion } from './rdp.ts';

/** Noise multiplier: finite and >= 0 (0 means no noise, hence infinite privacy loss). */
export function checkNoiseMultiplier(x: unknown, name = 'noiseMultiplier'): asserts x is number {
  assertNonNegative(name, x);
}

/** Sampling rate in (0, 1] (or [0, 1] when `allowZero`). */
export function checkSampleRate(x: unknown, name = 'sampleRate', allowZero = false): asserts x is number {
  assertInRange(name, x, 0, 1, { minInclusive: allowZero, maxInclusive: true });
}

/** A positive safe integer count (steps, compositions). */
export function checkCount(x: unknown, name = 'steps'): asserts x is number {
  assertInteger(name, x, 1);
}

/**
 * Longest order list accepted (1e5 orders, 800 kB). Each order costs O(1) for the closed forms and at most
 * O({@link MAX_EXPANSION_ORDER}) for the sampled Gaussian, so the length bounds the time of every accountant.
 */
export const MAX_RDP_ORDERS_LENGTH = 100_000;

/**
 * Orders above this are not expanded as series for the sampled Gaussian (the integer expansion allocates
 * O(α) and the fractional series runs past α terms): the unsampled Gaussian's α/(2σ²), a valid upper bound,
 * is used instead. No published order list goes beyond 1024 (dp_accounting), so the bound never binds there.
 */
export const MAX_EXPANSION_ORDER = 4096;

/**
 * Orders: a non-empty array (or Float64Array) of at most {@link MAX_RDP_ORDERS_LENGTH} finite numbers > 1;
 * returns a Float64Array copy. The length is checked before anything is allocated. α = ∞ is refused: for the
 * Gaussian it is always ∞ (a useless bound), and a list holding only ∞ would report ε = ∞ where finite orders
 * prove a finite bound.
 */
export function checkOrders(orders: unknown, name = 'orders'): Float64Array {
  if (orders === undefined) return Float64Array.from(DEFAULT_RDP_ORDERS);
  if (!(Array.isArray(orders) || orders instanceof Float64Array)) {
    throw new TypeError(`${name} must be an array of finite numbers > 1, got ${describeValue(orders)}`);
  }
  if (orders.length === 0) {
    throw new RangeError(`${name} must be a non-empty array of finite numbers > 1, got an empty array`);
  }
  assertArrayLike(name, orders, 1, MAX_RDP_ORDERS_LENGTH);
  const list = orders as ArrayLike<unknown>;
  const out = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const a = list[i];
    if (typeof a !== 'number') {
      throw new TypeError(`${name}[${i}] must be a finite number > 1, got ${describeValue(a)}`);
    }
    if (!(a > 1 && a < Infinity)) {
      throw new RangeError(`${name}[${i}] must be a finite number > 1, got ${describeValue(a)}`);
    }
    out[i] = a;
  }
  return out;
}

/** RDP conversion name. */
export function checkConversion(c: unknown): asserts c is RdpConversion {
  if (c !== 'balle2020' && c !== 'mironov2017') {
    throw new RangeError(`conversion must be 'balle2020' or 'mironov2017', got ${describeValue(c)}`);
  }
}

/** Neighbouring relation name. */
export function checkRelation(r: unknown): asserts r is NeighboringRelation {
  if (r !== 'add-or-remove-one' && r !== 'replace-one') {
    throw new RangeError(`neighboringRelation must be 'add-or-remove-one' or 'replace-one', got ${describeValue(r)}`);
  }
}
