/**
 * Optimal advanced composition of k (ε, δ)-DP mechanisms (Kairouz, Oh, Viswanath 2015, Thm 3.3), as in
 * `dp_accounting`'s `advanced_composition`: the k-fold composition is ((k−2i)ε, 1 − (1−δ)^k(1 − δ_i))-DP for
 * i = 0..⌊k/2⌋ with δ_i = Σ_{l<i} C(k,l)(e^{(k−l)ε} − e^{(k−2i+l)ε})/(1 + e^ε)^k; the smallest ε whose total δ
 * fits is returned (sums in log space).
 * @module
 */
import { assertInRange, assertInteger, assertNonNegative, assertOptions } from '@ppml/core';
import { log1mExp, logAdd } from './internal-log-math.ts';

/**
 * Largest k accepted. The KOV sum costs O(k²) operations (each δ_i sums i terms for i up to k/2), and the inverse
 * evaluates it up to 200 times; k = 2000 keeps the inverse near a second. For more mechanisms, an RDP or PLD
 * accountant is tighter anyway.
 * @example
 * ```ts
 * MAX_ADVANCED_COMPOSITION_COUNT; // 2000
 * ```
 */
export const MAX_ADVANCED_COMPOSITION_COUNT: number = 2000;

/** Options of {@link advancedComposition}. */
export interface AdvancedCompositionOptions {
  /** ε of each mechanism (>= 0). */
  epsilon: number;
  /** δ of each mechanism in [0, 1]. */
  delta: number;
  /** Number of mechanisms k, an integer in [1, {@link MAX_ADVANCED_COMPOSITION_COUNT}]. */
  count: number;
  /** Total δ allowed for the composition, in [0, 1]. */
  totalDelta: number;
}

/**
 * Smallest total ε of the k-fold composition for the given total δ, or null when totalDelta < 1 − (1 − δ)^k.
 * @example
 * ```ts
 * advancedComposition({ epsilon: 1, delta: 0.001, count: 30, totalDelta: 0.06 }); // 22
 * ```
 */
export function advancedComposition(options: AdvancedCompositionOptions): number | null {
  assertOptions('options', options, ['epsilon', 'delta', 'count', 'totalDelta']);
  const { epsilon, delta, count, totalDelta } = options;
  assertNonNegative('epsilon', epsilon);
  assertInRange('delta', delta, 0, 1);
  assertInteger('count', count, 1, MAX_ADVANCED_COMPOSITION_COUNT);
  assertInRange('totalDelta', totalDelta, 0, 1);
  const k = count;
  // ln((1 − δ)^k)
  const logOneMinusDeltaK = k * Math.log1p(-delta);
  const logNorm = k * (epsilon + Math.log1p(Math.exp(-epsilon))); // ln (1 + e^ε)^k
  let best: number | null = null;
  // log C(k, l) accumulated incrementally.
  for (let i = 0; i <= Math.floor(k / 2); i++) {
    let logDi = -Infinity;
    let logC = 0;
    for (let l = 0; l < i; l++) {
      if (l > 0) logC += Math.log((k - l + 1) / l);
      const hi = (k - l) * epsilon;
      const lo = (k - 2 * i + l) * epsilon;
      if (hi > lo) logDi = logAdd(logDi, logC + hi + log1mExp(lo - hi) - logNorm);
    }
    const di = Math.exp(logDi);
    // total δ = 1 − (1 − δ)^k (1 − δ_i)
    const total = -Math.expm1(logOneMinusDeltaK + Math.log1p(-Math.min(1, di)));
    if (total <= totalDelta * (1 + 1e-12)) best = (k - 2 * i) * epsilon;
    else break;
  }
  return best;
}

/**
 * Largest ε per mechanism such that k-fold optimal advanced composition stays within (totalEpsilon,
 * totalDelta), or null if no ε > 0 fits (`dp_accounting`'s `get_smallest_epsilon_from_advanced_composition`).
 * @example
 * ```ts
 * advancedCompositionInverse({ totalEpsilon: 22, totalDelta: 0.06, delta: 0.001, count: 30 }); // ≈ 1
 * ```
 */
export function advancedCompositionInverse(options: {
  totalEpsilon: number;
  totalDelta: number;
  delta: number;
  count: number;
}): number | null {
  assertOptions('options', options, ['totalEpsilon', 'totalDelta', 'delta', 'count']);
  const { totalEpsilon, totalDelta, delta, count } = options;
  assertNonNegative('totalEpsilon', totalEpsilon);
  assertInRange('totalDelta', totalDelta, 0, 1);
  assertInRange('delta', delta, 0, 1);
  assertInteger('count', count, 1, MAX_ADVANCED_COMPOSITION_COUNT);
  const fits = (eps: number): boolean => {
    const e = advancedComposition({ epsilon: eps, delta, count, totalDelta });
    return e !== null && e <= totalEpsilon;
  };
  if (!fits(0)) return null;
  let lo = 0;
  let hi = totalEpsilon;
  if (fits(hi)) return hi;
  for (let it = 0; it < 200 && hi - lo > 1e-15 * Math.max(1, hi); it++) {
    const mid = 0.5 * (lo + hi);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
