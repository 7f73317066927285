/**
 * mathjs's `Fraction` in a browser bundle (selected by the `#mathjs` import under the `browser` condition).
 * Browsers have no synchronous `require`, so the class is imported statically and the bundler includes it.
 * @module
 */
import { Fraction } from 'mathjs';

/**
 * The mathjs Fraction class (exact BigInt rationals).
 * @example
 * ```ts
 * const F = loadFraction();
 * new F(1n, 3n);
 * ```
 */
export function loadFraction(): typeof Fraction {
  return Fraction;
}
