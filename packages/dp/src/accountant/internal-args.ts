/**
 * Internal argument checks shared by the accountant modules (built on `@ppml/core`'s validators, which throw a
 * `TypeError` for a wrong type and a `RangeError` naming the parameter and the allowed range otherwise).
 * @module
 */
import { assertInRange, assertInteger, assertNonNegative, describeValue } from '@ppml/core';
import type { AccountantKind } from './calibrate.ts';
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

/** Orders: a non-empty array of numbers > 1 (Infinity allowed); returns a Float64Array copy. */
export function checkOrders(orders: unknown, name = 'orders'): Float64Array {
  if (orders === undefined) return Float64Array.from(DEFAULT_RDP_ORDERS);
  if (!(Array.isArray(orders) || orders instanceof Float64Array)) {
    throw new TypeError(`${name} must be an array of numbers > 1, got ${describeValue(orders)}`);
  }
  const list = orders as ArrayLike<unknown>;
  if (list.length === 0) throw new RangeError(`${name} must be a non-empty array of numbers > 1, got an empty array`);
  const out = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const a = list[i];
    if (typeof a !== 'number') {
      throw new TypeError(`${name}[${i}] must be a number > 1, got ${describeValue(a)}`);
    }
    if (!(a > 1)) throw new RangeError(`${name}[${i}] must be a number > 1, got ${describeValue(a)}`);
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

/** Accountant name. */
export function checkAccountantKind(a: unknown): asserts a is AccountantKind {
  if (a !== 'rdp' && a !== 'pld') throw new RangeError(`accountant must be 'rdp' or 'pld', got ${describeValue(a)}`);
}
