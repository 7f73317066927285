/**
 * Loading mathjs's `Fraction` in Node (selected by the `#mathjs` import outside browsers): synchronously on first
 * use through `createRequire`, because importing mathjs costs about a second, which only programs that use a
 * `PrivacyBudget` should pay.
 * @module
 */
import { createRequire } from 'node:module';
import type { Fraction } from 'mathjs';

const load = createRequire(import.meta.url);

/**
 * The mathjs Fraction class (exact BigInt rationals).
 * @example
 * ```ts
 * const F = loadFraction();
 * new F(1n, 3n);
 * ```
 */
export function loadFraction(): typeof Fraction {
  return (load('mathjs') as { Fraction: typeof Fraction }).Fraction;
}
