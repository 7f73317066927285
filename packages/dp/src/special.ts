/**
 * Special functions for the accountants: the complementary error function `erfc`, its logarithm, and the
 * standard normal CDF Φ and log Φ, accurate to about 1e-15 relative over the whole real line (including the far
 * tails, where `1 - erf(x)` would underflow to 0 by x ≈ 6). They feed the fractional-order sampled-Gaussian RDP
 * series (Mironov, Talwar, Zhang 2019, §3.3), the privacy loss distributions and the analytic Gaussian calibration
 * (Balle & Wang 2018, Thm 8).
 *
 * Method: erfc(x) = Γ(1/2, x²)/√π. For x² < 1.5625 the lower incomplete gamma series (all terms positive) gives
 * erf and erfc = 1 - erf loses less than 4 bits; above it the Legendre continued fraction for Γ(1/2, x²),
 * evaluated by the modified Lentz algorithm, converges in at most about 60 steps and keeps the factor e^{-x²}
 * separate, so `logErfc` never underflows. Negative arguments use erfc(-x) = 2 - erfc(x).
 * @module
 */
import { describeValue } from '@ppml/core';

const SQRT_PI = Math.sqrt(Math.PI);
const LN2 = Math.LN2;
const SERIES_LIMIT = 1.25;
const EPS = 3e-16;
const TINY = 1e-300;

/** erf(x) for |x| < SERIES_LIMIT: (2/√π)·x·e^{-x²}·Σ (2x²)^n / (1·3···(2n+1)). */
function erfSeries(x: number): number {
  const z = x * x;
  let term = 1;
  let sum = 1;
  for (let n = 1; n < 200; n++) {
    term *= (2 * z) / (2 * n + 1);
    sum += term;
    if (term < sum * EPS) break;
  }
  return (2 / SQRT_PI) * x * Math.exp(-z) * sum;
}

/**
 * For x >= SERIES_LIMIT returns h such that erfc(x) = e^{-x²}·x·h/√π (continued fraction of Γ(1/2, x²), modified
 * Lentz).
 */
function erfcContinuedFraction(x: number): number {
  const z = x * x;
  const a = 0.5;
  let b = z + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/**
 * Special functions follow IEEE conventions for NaN (NaN in, NaN out, like `Math.exp`), but a value that is not
 * a number at all (a BigInt, a string) is a caller's mistake and gets a TypeError rather than a coercion.
 */
function requireNumber(x: unknown): asserts x is number {
  if (typeof x !== 'number') throw new TypeError(`x must be a number, got ${describeValue(x)}`);
}

/**
 * The complementary error function erfc(x) = 1 - erf(x) = (2/√π)∫ₓ^∞ e^{-t²} dt, accurate in relative terms
 * for large x (until it underflows near x ≈ 26.5; use {@link logErfc} beyond).
 * @example
 * ```ts
 * erfc(5); // 1.5374597944280349e-12
 * ```
 */
export function erfc(x: number): number {
  requireNumber(x);
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Infinity) return 0;
  if (x === -Infinity) return 2;
  if (x < 0) return 2 - erfc(-x);
  if (x < SERIES_LIMIT) return 1 - erfSeries(x);
  if (x > 27.3) return 0;
  return (Math.exp(-x * x) * x * erfcContinuedFraction(x)) / SQRT_PI;
}

/**
 * ln erfc(x), finite for every finite x (no underflow in the right tail: ln erfc(40) ≈ -1604.3).
 * @example
 * ```ts
 * logErfc(40); // -1604.2...
 * ```
 */
export function logErfc(x: number): number {
  requireNumber(x);
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Infinity) return -Infinity;
  if (x === -Infinity) return LN2;
  if (x >= SERIES_LIMIT) return -x * x + Math.log((x * erfcContinuedFraction(x)) / SQRT_PI);
  if (x > -SERIES_LIMIT) return Math.log1p(-erfSeries(x));
  // erfc(x) = 2 - erfc(-x) with erfc(-x) small.
  return LN2 + Math.log1p(-0.5 * erfc(-x));
}

/**
 * Standard normal cumulative distribution function Φ(x) = ½·erfc(-x/√2), accurate in relative terms in the left
 * tail (Φ(-37) ≈ 5.7e-300).
 * @example
 * ```ts
 * normalCdf(0); // 0.5
 * normalCdf(-10); // 7.61985302416047e-24
 * ```
 */
export function normalCdf(x: number): number {
  requireNumber(x);
  return 0.5 * erfc(-x / Math.SQRT2);
}

/**
 * ln Φ(x), finite for every finite x (ln Φ(-50) ≈ -1254.9).
 * @example
 * ```ts
 * logNormalCdf(-50); // -1254.8...
 * ```
 */
export function logNormalCdf(x: number): number {
  requireNumber(x);
  return logErfc(-x / Math.SQRT2) - LN2;
}

/**
 * Standard normal survival function 1 - Φ(x) = Φ(-x), accurate in relative terms in the right tail.
 * @example
 * ```ts
 * normalSf(10); // 7.61985302416047e-24
 * ```
 */
export function normalSf(x: number): number {
  requireNumber(x);
  return 0.5 * erfc(x / Math.SQRT2);
}
