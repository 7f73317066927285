/**
 * Zero-concentrated DP (Bun & Steinke 2016) to (ε, δ): the optimal conversion of Canonne, Kamath, Steinke 2020
 * (Prop. 12 / Cor. 13), as in OpenDP's `cdp_delta`: δ(ρ, ε) = min_{α>1} e^{(α−1)(αρ−ε)}·(1 − 1/α)^α / (α − 1).
 * The exponent is convex in α with derivative (2α−1)ρ − ε + ln(1 − 1/α), so the optimal α is found by
 * bisection on ln(α − 1); any α gives a valid bound, so an imprecise α only loosens the answer. Also the
 * privacy maps ρ = 1/(2σ²) for the Gaussian mechanism and ρ = ε²/2 for ε-DP mechanisms.
 * @module
 */
import { assertDelta, assertNonNegative, assertOptions, assertPositive } from '@ppml/core';
import { goldenSectionMin } from './internal-log-math.ts';

/** Relative outward rounding applied to the results (4 ulps of 1). */
const OUTWARD = 4 * Number.EPSILON;

/**
 * ln δ at order α for zCDP ρ and ε, rounded up by a bound on its floating-point error (a few ulps of the
 * magnitude of each term), so that exp() of it is never below the exact value.
 */
function logDeltaAt(rho: number, epsilon: number, alpha: number): number {
  const am1 = alpha - 1;
  const t1 = am1 * alpha * rho;
  const t2 = am1 * epsilon;
  const t3 = alpha * Math.log1p(-1 / alpha);
  const t4 = Math.log(am1);
  const err = 8 * Number.EPSILON * (Math.abs(t1) + Math.abs(t2) + Math.abs(t3) + Math.abs(t4) + 1);
  return t1 - t2 + t3 - t4 + err;
}

/** The α minimizing ln δ (root of (2α−1)ρ − ε + ln(1 − 1/α)), by bisection on u = ln(α − 1). */
function optimalAlpha(rho: number, epsilon: number): number {
  const deriv = (alpha: number): number => (2 * alpha - 1) * rho - epsilon + Math.log1p(-1 / alpha);
  let lo = -40;
  let hi = 40;
  while (deriv(1 + Math.exp(hi)) < 0 && hi < 700) hi += 40;
  for (let it = 0; it < 200; it++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (deriv(1 + Math.exp(mid)) > 0) hi = mid;
    else lo = mid;
  }
  return 1 + Math.exp(hi);
}

/**
 * δ such that a ρ-zCDP mechanism is (ε, δ)-DP (Canonne, Kamath, Steinke 2020).
 * @example
 * ```ts
 * zcdpToDelta({ rho: 0.05, epsilon: 0.25 }); // 0.0817727531036956 (OpenDP test value)
 * ```
 */
export function zcdpToDelta(options: { rho: number; epsilon: number }): number {
  assertOptions('options', options, ['rho', 'epsilon']);
  const { rho, epsilon } = options;
  assertNonNegative('rho', rho);
  if (typeof epsilon !== 'number' || Number.isNaN(epsilon) || epsilon < 0) assertNonNegative('epsilon', epsilon);
  if (rho === 0 || epsilon === Infinity) return 0;
  const alpha = optimalAlpha(rho, epsilon);
  let best = logDeltaAt(rho, epsilon, alpha);
  // Guard against an optimum at the edge of the search range.
  for (const a of [1.0001, 1.01, 1.1, 2]) best = Math.min(best, logDeltaAt(rho, epsilon, a));
  // Round outward by a few ulps more for exp() itself.
  return Math.min(1, Math.exp(best) * (1 + OUTWARD));
}

/**
 * Smallest ε such that a ρ-zCDP mechanism is (ε, δ)-DP: ε = min_α αρ + (ln(1/δ) + (α−1)ln(1 − 1/α) − ln α)/(α−1).
 * @example
 * ```ts
 * zcdpToEpsilon({ rho: 1 / 32, delta: 1e-3 }); // 0.68800245548780...
 * ```
 */
export function zcdpToEpsilon(options: { rho: number; delta: number }): number {
  assertOptions('options', options, ['rho', 'delta']);
  const { rho, delta } = options;
  assertNonNegative('rho', rho);
  assertDelta(delta);
  if (rho === 0) return 0;
  const epsAt = (alpha: number): number => {
    const am1 = alpha - 1;
    const a = alpha * rho;
    const num = -Math.log(delta) + am1 * Math.log1p(-1 / alpha) - Math.log(alpha);
    const err =
      8 *
      Number.EPSILON *
      (Math.abs(a) + (Math.abs(Math.log(delta)) + Math.abs(am1 * Math.log1p(-1 / alpha)) + Math.abs(Math.log(alpha))) / am1 + 1);
    return a + num / am1 + err;
  };
  // ε(α) is quasi-convex in u = ln(α − 1): golden-section search.
  const f = (u: number): number => epsAt(1 + Math.exp(u));
  const best = goldenSectionMin(f, -30, 40, 200, 1e-13);
  return Math.max(0, best * (1 + OUTWARD));
}

/**
 * ρ of the Gaussian mechanism: (sensitivity/σ)²/2 = 1/(2·noiseMultiplier²).
 * @example
 * ```ts
 * gaussianZcdpRho(4); // 0.03125
 * ```
 */
export function gaussianZcdpRho(noiseMultiplier: number): number {
  assertPositive('noiseMultiplier', noiseMultiplier);
  return 1 / (2 * noiseMultiplier * noiseMultiplier);
}

/**
 * ρ = ε²/2 of an ε-DP mechanism (Bun & Steinke 2016, Prop. 1.4).
 * @example
 * ```ts
 * pureDpToZcdpRho(1); // 0.5
 * ```
 */
export function pureDpToZcdpRho(epsilon: number): number {
  assertNonNegative('epsilon', epsilon);
  return (epsilon * epsilon) / 2;
}
