/**
 * Privacy parameters read as the decimals people write. A user who types `0.1` means one tenth, but the double
 * 0.1 is 0.1000000000000000055..., so ten of them exceed a budget of 1 when added exactly. ppml therefore gives
 * every privacy amount x its decimal value: the shortest decimal that rounds to x (what `String(x)` prints, and
 * what was typed for any literal of at most 15 significant digits; ECMA-262, Number::toString). A
 * {@link PrivacyBudget} adds these decimals exactly (mathjs `Fraction`, BigInt rationals), and every mechanism
 * calibrates its noise from a value that is at most that decimal ({@link decimalFloor} for epsilon and delta)
 * and at least it for a sensitivity ({@link decimalCeil}), so the privacy loss a mechanism really incurs never
 * exceeds what the budget records. The difference to the double is below one unit in the last place.
 * @module
 */
import { describeValue } from '@ppml/core';
import type { Fraction } from 'mathjs';
import { loadFraction } from '#mathjs';
import { rationalFromDouble } from './exact-exp.ts';

// mathjs is loaded on first use, synchronously: importing it costs about a second, which only programs that
// use a PrivacyBudget should pay (the mechanisms compare decimals with plain BigInt, below). In Node `#mathjs`
// loads it with createRequire on first use; in a browser bundle it is imported statically (no sync require).
let FractionClass: typeof Fraction | undefined;

/** Internal: the mathjs Fraction class (exact BigInt rationals), loaded on first use. */
export function fractionClass(): typeof Fraction {
  FractionClass ??= loadFraction();
  return FractionClass;
}

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** The next double above a finite x >= 0. */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  F64[0] = x;
  U64[0] += 1n;
  return F64[0];
}

/** The next double below a finite x > 0. */
function nextDown(x: number): number {
  F64[0] = x;
  U64[0] -= 1n;
  return F64[0];
}

function checkAmount(name: string, x: unknown): asserts x is number {
  if (typeof x !== 'number') throw new TypeError(`${name} must be a finite number >= 0, got ${describeValue(x)}`);
  if (!(x >= 0) || !Number.isFinite(x)) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${describeValue(x)}`);
  }
}

/**
 * Internal: the exact decimal value of a finite double x >= 0: the shortest decimal that rounds to x, as a
 * mathjs Fraction (BigInt numerator and denominator).
 */
export function decimalOf(x: number): Fraction {
  const { n, d } = decimalParts(x);
  return new (fractionClass())(n, d);
}

/** The decimal value of a finite double x >= 0 as n / d (plain BigInt, not reduced). */
function decimalParts(x: number): { readonly n: bigint; readonly d: bigint } {
  checkAmount('value', x);
  if (x === 0) return { n: 0n, d: 1n };
  // String(x) is "d.ddd", "d.ddde+N" or "d.ddde-N" with the shortest round-tripping digits.
  const s = String(x);
  const [mant, expPart] = s.split('e');
  const dot = mant.indexOf('.');
  const digits = dot < 0 ? mant : mant.slice(0, dot) + mant.slice(dot + 1);
  const exp = (expPart === undefined ? 0 : Number(expPart)) - (dot < 0 ? 0 : mant.length - dot - 1);
  const n = BigInt(digits);
  return exp >= 0 ? { n: n * 10n ** BigInt(exp), d: 1n } : { n, d: 10n ** BigInt(-exp) };
}

/** -1, 0 or 1 as the exact value of the double x compares with the decimal of x. */
function compareDoubleToDecimal(x: number): number {
  const r = rationalFromDouble(x);
  const d = decimalParts(x);
  const lhs = r.num * d.d;
  const rhs = d.n * r.den;
  return lhs < rhs ? -1 : lhs > rhs ? 1 : 0;
}

/**
 * The largest double that is at most the decimal value of `x` (x itself when the double is not above its
 * decimal, else the double just below). Mechanisms calibrate epsilon and delta from this value, so their true
 * privacy loss is never above the decimal a {@link PrivacyBudget} charges for `x`.
 * @example
 * ```ts
 * decimalFloor(0.1); // 0.09999999999999999 (the double 0.1 is above 1/10)
 * decimalFloor(0.3); // 0.3 (the double 0.3 is below 3/10)
 * ```
 */
export function decimalFloor(x: number): number {
  checkAmount('x', x);
  if (x === 0) return 0;
  return compareDoubleToDecimal(x) > 0 ? nextDown(x) : x;
}

/**
 * The smallest double that is at least the decimal value of `x`. Mechanisms calibrate to this sensitivity, so a
 * sensitivity written as 0.3 (the double is below 3/10) is never under-estimated.
 * @example
 * ```ts
 * decimalCeil(0.3); // 0.30000000000000004
 * decimalCeil(0.1); // 0.1
 * ```
 */
export function decimalCeil(x: number): number {
  checkAmount('x', x);
  if (x === 0 || x === Number.MAX_VALUE) return x;
  return compareDoubleToDecimal(x) < 0 ? nextUp(x) : x;
}

/** A double near the exact value of a non-negative fraction (within a few ulps; adjusted exactly by callers). */
function approximate(f: Fraction): number {
  if (f.n === 0n) return 0;
  const shift = f.n.toString(2).length - f.d.toString(2).length - 64;
  const q = shift >= 0 ? f.n / (f.d << BigInt(shift)) : (f.n << BigInt(-shift)) / f.d;
  // q * 2^shift, the power applied in two halves so that neither factor overflows or underflows early
  const half = Math.trunc(shift / 2);
  return Number(q) * 2 ** half * 2 ** (shift - half);
}

/**
 * Internal: the largest double d >= 0 whose decimal value is at most f (f >= 0). Decimal values increase with
 * the double, so this is well defined; it is what a budget reports as remaining, so that spending exactly the
 * reported amount always fits.
 */
export function doubleAtMost(f: Fraction): number {
  if (f.s < 0n || f.n === 0n) return 0;
  let d = Math.min(approximate(f), Number.MAX_VALUE);
  while (d > 0 && decimalOf(d).compare(f) > 0) d = nextDown(d);
  while (d < Number.MAX_VALUE && decimalOf(nextUp(d)).compare(f) <= 0) d = nextUp(d);
  return d;
}

/**
 * Internal: the smallest double d whose decimal value is at least f (f >= 0), or Infinity when f is above every
 * double. A budget reports what was spent this way, so the report never under-states the exact total.
 */
export function doubleAtLeast(f: Fraction): number {
  if (f.s < 0n || f.n === 0n) return 0;
  let d = approximate(f);
  if (d > Number.MAX_VALUE) return decimalOf(Number.MAX_VALUE).compare(f) >= 0 ? Number.MAX_VALUE : Infinity;
  while (d < Number.MAX_VALUE && decimalOf(d).compare(f) < 0) d = nextUp(d);
  if (decimalOf(d).compare(f) < 0) return Number.POSITIVE_INFINITY;
  while (d > 0 && decimalOf(nextDown(d)).compare(f) >= 0) d = nextDown(d);
  return d;
}
