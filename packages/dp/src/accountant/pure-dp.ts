/**
 * Rényi-DP curves and privacy-loss distributions of the mechanisms that are pure DP on their own: a mechanism
 * known only by its (ε, δ) guarantee, k-ary randomized response and the exponential mechanism.
 *
 * - (ε, δ): the privacy region of Kairouz, Oh, Viswanath 2015 (Thm 2.4) is that of a four-output pair; every
 *   (ε, δ)-DP mechanism is a post-processing of it. Its privacy loss is +∞ with mass δ, ε with mass
 *   (1 − δ)e^ε/(1 + e^ε) and −ε with mass (1 − δ)/(1 + e^ε) (`dp_accounting`'s
 *   `from_privacy_parameters`). For δ = 0 it is binary randomized response, whose Rényi divergence
 *   (1/(α−1))·ln((e^{αε} + e^{(1−α)ε})/(1 + e^ε)) is therefore the tight RDP bound of pure ε-DP (Mironov 2017,
 *   Prop. 5 gives the same for randomized response).
 * - k-ary randomized response with noise parameter p: the true value has probability a = 1 − p + p/k, each
 *   other value b = p/k; neighbours swap the roles of two values, so the privacy loss is ln(a/b) with mass a,
 *   −ln(a/b) with mass b and 0 with mass (k − 2)b, and D_α = (1/(α−1))·ln(a^α b^{1−α} + b^α a^{1−α} + (k − 2)b).
 * - Exponential mechanism: it is ε-bounded-range (Durfee & Rogers 2019): the privacy loss lies in [t − ε, t]
 *   for some t in [0, ε]. For a fixed t, E_Q[e^{αL}] under the constraint E_Q[e^L] = 1 is a convex function of
 *   e^L maximized by the two-point distribution at the ends of the interval, so
 *   D_α = sup_t (1/(α−1))·ln(q_t e^{αt} + (1 − q_t)e^{α(t−ε)}) with q_t = (1 − e^{t−ε})/(e^t(1 − e^{−ε}))
 *   (Cesar & Rogers 2021, §3; at α → 1 it is their KL bound ε/(e^ε − 1) − 1 − ln(ε/(e^ε − 1))). The supremum is
 *   found by golden-section search and rounded up by 1e-12 relative. The PLD of the exponential mechanism is
 *   the pure ε-DP pair (valid; it does not use bounded range, which has no single dominating pair).
 * @module
 */
import { goldenSectionMin, logAdd } from './internal-log-math.ts';

/**
 * RDP at order α of any pure ε-DP mechanism (binary randomized response at ε; tight).
 * @internal
 * @example
 * ```ts
 * pureDpRdpAt(1, 2); // ln((e^2 + e^-1)/(1 + e))
 * ```
 */
export function pureDpRdpAt(eps: number, alpha: number): number {
  if (eps === 0) return 0;
  if (eps === Infinity) return Infinity;
  // ln(e^{αε} + e^{(1−α)ε}) − ln(1 + e^ε), all in log space.
  const num = logAdd(alpha * eps, (1 - alpha) * eps);
  const den = logAdd(0, eps);
  return Math.max(0, Math.min(eps, (num - den) / (alpha - 1)));
}

/**
 * RDP at order α of k-ary randomized response with noise parameter p (probability of a uniform answer).
 * @internal
 * @example
 * ```ts
 * randomizedResponseRdpAt(0.5, 2, 2); // ln(5/3)
 * ```
 */
export function randomizedResponseRdpAt(p: number, k: number, alpha: number): number {
  if (p === 1) return 0;
  if (p === 0) return Infinity;
  const logB = Math.log(p) - Math.log(k);
  const logA = Math.log1p(-p + p / k);
  let s = logAdd(alpha * logA + (1 - alpha) * logB, alpha * logB + (1 - alpha) * logA);
  if (k > 2) s = logAdd(s, Math.log(k - 2) + logB);
  const eps = logA - logB;
  return Math.max(0, Math.min(eps, s / (alpha - 1)));
}

/** ln q_t and ln(1 − q_t) of the bounded-range two-point pair at loss range [t − ε, t]. */
function boundedRangeLogMasses(t: number, eps: number): [number, number] {
  const logDen = t + Math.log(-Math.expm1(-eps));
  return [Math.log(-Math.expm1(t - eps)) - logDen, Math.log(Math.expm1(t)) - logDen];
}

/**
 * RDP at order α of the ε-bounded-range exponential mechanism (supremum over the loss offset t, see the
 * module note).
 * @internal
 * @example
 * ```ts
 * exponentialMechanismRdpAt(1, 2); // below alpha·ε²/8 = 0.25
 * ```
 */
export function exponentialMechanismRdpAt(eps: number, alpha: number): number {
  if (eps === 0) return 0;
  if (eps === Infinity) return Infinity;
  const at = (t: number): number => {
    if (!(t > 0 && t < eps)) return 0;
    const [lq, l1q] = boundedRangeLogMasses(t, eps);
    return Math.max(0, logAdd(lq + alpha * t, l1q + alpha * (t - eps)) / (alpha - 1));
  };
  const best = -goldenSectionMin((t) => -at(t), 0, eps, 200, 1e-15 * eps);
  // Cesar & Rogers 2021 (Lemma 3.2): ε-BR is (ε²/8)-zCDP, so α·ε²/8 bounds every order; pure ε-DP bounds it too.
  return Math.min(best * (1 + 1e-12), (alpha * eps * eps) / 8, pureDpRdpAt(eps, alpha));
}

/**
 * The privacy loss distribution of an (ε, δ) pair: losses, their masses and the mass at +∞.
 * @internal
 * @example
 * ```ts
 * epsilonDeltaLoss(1, 0); // { losses: [1, -1], masses: [e/(1+e), 1/(1+e)], infinity: 0 }
 * ```
 */
export function epsilonDeltaLoss(eps: number, delta: number): { losses: Float64Array; masses: Float64Array; infinity: number } {
  if (eps === 0) return { losses: Float64Array.of(0), masses: Float64Array.of(1 - delta), infinity: delta };
  const up = (1 - delta) / (1 + Math.exp(-eps));
  const down = (1 - delta) / (1 + Math.exp(eps));
  return { losses: Float64Array.of(eps, -eps), masses: Float64Array.of(up, down), infinity: delta };
}

/**
 * The privacy loss distribution of k-ary randomized response with noise parameter p.
 * @internal
 * @example
 * ```ts
 * randomizedResponseLoss(0.5, 2); // losses ±ln 3 with masses 3/4 and 1/4
 * ```
 */
export function randomizedResponseLoss(p: number, k: number): { losses: Float64Array; masses: Float64Array; infinity: number } {
  if (p === 0) return { losses: Float64Array.of(0), masses: Float64Array.of(0), infinity: 1 };
  const b = p / k;
  const a = 1 - p + b;
  if (p === 1) return { losses: Float64Array.of(0), masses: Float64Array.of(1), infinity: 0 };
  const l = Math.log(a) - Math.log(b);
  if (k === 2) return { losses: Float64Array.of(l, -l), masses: Float64Array.of(a, b), infinity: 0 };
  return { losses: Float64Array.of(l, 0, -l), masses: Float64Array.of(a, (k - 2) * b, b), infinity: 0 };
}

/**
 * Pure ε after Poisson sampling at rate q (Balle, Barthe, Gaboardi 2018, Thm 8): ln(1 + q(e^ε − 1)); the same
 * bound holds with q = m/n for sampling m of n without replacement under replace-one (their Thm 9).
 * @internal
 * @example
 * ```ts
 * amplifiedEpsilon(1, 0.01); // about 0.0170
 * ```
 */
export function amplifiedEpsilon(eps: number, q: number): number {
  if (q === 1) return eps;
  if (eps === Infinity) return q === 0 ? 0 : Infinity;
  return Math.log1p(q * Math.expm1(eps));
}
