/**
 * The basic-composition accountant: every event is charged as an (ε, δ) pair and the pairs add up (Dwork &
 * Roth 2014, Thm 3.16), which stays valid when each mechanism's parameters are chosen adaptively (the basic
 * composition filter of Rogers, Roth, Ullman, Vadhan 2016). Pure-DP leaves (Laplace, randomized response,
 * exponential mechanism, (ε, 0)) and (ε, δ) leaves charge their own pair; Gaussian leaves have a whole curve, so
 * the δ left after the (ε, δ) leaves is split evenly over them and each charges the tight ε of the analytic
 * Gaussian at its share (Balle & Wang 2018, Thm 8). Sampling amplifies a pair to (ln(1 + q(e^ε − 1)), qδ)
 * (Balle, Barthe, Gaboardi 2018, Thm 8 for Poisson sampling, Thm 9 for sampling without replacement).
 * This is the loosest accountant; it is here for budgets whose spends are stated as (ε, δ) and for comparison.
 * @module
 */
import { assertDelta, assertNonNegative, assertOptions } from '@ppml/core';
import { gaussianDelta } from '../mechanisms/calibration.ts';
import { checkCount, checkRelation } from './internal-args.ts';
import { type DpEvent, effectiveGaussianNoiseMultiplier, pureEpsilonOf, validateEvent } from './events.ts';
import { amplifiedEpsilon } from './pure-dp.ts';
import type { NeighboringRelation, PrivacyAccountant } from './rdp-accountant.ts';

/**
 * Options of {@link BasicAccountant}.
 * @example
 * ```ts
 * const o: BasicAccountantOptions = { neighboringRelation: 'replace-one' };
 * ```
 */
export interface BasicAccountantOptions {
  /** Default 'add-or-remove-one' (needed by Poisson sampling; sampling without replacement needs 'replace-one'). */
  neighboringRelation?: NeighboringRelation;
}

/** A Gaussian leaf: multiplier σ, sampling rate q (1: none), multiplicity. */
interface GaussianLeaf {
  sigma: number;
  q: number;
  count: number;
}

/**
 * The smallest ε with δ_Gaussian(σ; ε) <= δ (analytic Gaussian, sensitivity 1; Balle & Wang 2018, Thm 8), by
 * bisection to 1e-13 relative, returning the upper end.
 * @internal
 * @example
 * ```ts
 * gaussianEpsilon(5, 1e-6); // the exact epsilon of one Gaussian with noise multiplier 5
 * ```
 */
export function gaussianEpsilon(sigma: number, delta: number): number {
  if (delta >= 1) return 0;
  if (sigma === 0) return Infinity;
  if (sigma === Infinity) return 0;
  const d = (eps: number): number => gaussianDelta({ sigma, epsilon: eps, sensitivity: 1 });
  if (d(0) <= delta) return 0;
  let hi = 1;
  while (d(hi) > delta) {
    hi *= 2;
    if (hi > 1e12) return Infinity;
  }
  let lo = hi / 2 >= 1 ? hi / 2 : 0;
  for (let i = 0; i < 100 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (d(mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Basic composition over (ε, δ).
 * @example
 * ```ts
 * const acc = new BasicAccountant().compose(epsilonDeltaEvent(0.1, 1e-8), 30);
 * acc.getEpsilon(1e-6); // 3 (up to float rounding)
 * ```
 */
export class BasicAccountant implements PrivacyAccountant {
  /** Registry name of this accountant. */
  readonly kind = 'basic' as const;
  readonly neighboringRelation: NeighboringRelation;
  #epsilon = 0;
  #delta = 0;
  #gaussians: GaussianLeaf[] = [];
  #gaussianCount = 0;

  constructor(options: BasicAccountantOptions = {}) {
    assertOptions('options', options, ['neighboringRelation']);
    const { neighboringRelation = 'add-or-remove-one' } = options;
    checkRelation(neighboringRelation);
    this.neighboringRelation = neighboringRelation;
  }

  /** Walks an event; records its parts into `out` or returns why it cannot be accounted. */
  #walk(event: DpEvent, count: number, q: number, out: { eps: number; delta: number; gaussians: GaussianLeaf[] }): string | undefined {
    switch (event.kind) {
      case 'gaussian':
        out.gaussians.push({ sigma: event.noiseMultiplier, q, count });
        return undefined;
      case 'laplace':
      case 'randomizedResponse':
      case 'exponential':
      case 'epsilonDelta': {
        const pure = pureEpsilonOf(event);
        const eps = pure ?? (event.kind === 'epsilonDelta' ? event.epsilon : Infinity);
        const delta = pure === undefined && event.kind === 'epsilonDelta' ? event.delta : 0;
        out.eps += count * amplifiedEpsilon(eps, q);
        out.delta += count * q * delta;
        return undefined;
      }
      case 'poissonSampled':
        if (this.neighboringRelation !== 'add-or-remove-one') return 'Poisson sampling needs the add-or-remove-one relation';
        if (event.sampleRate === 0) return undefined;
        return this.#sampled(event.event, count, q * event.sampleRate, out);
      case 'sampledWithoutReplacement':
        if (this.neighboringRelation !== 'replace-one') return 'sampling without replacement needs the replace-one relation';
        return this.#sampled(event.event, count, (q * event.sampleSize) / event.datasetSize, out);
      case 'composed':
        for (const e of event.events) {
          const why = this.#walk(e, count, q, out);
          if (why !== undefined) return why;
        }
        return undefined;
      case 'selfComposed':
        return this.#walk(event.event, count * event.count, q, out);
    }
  }

  #sampled(inner: DpEvent, count: number, q: number, out: { eps: number; delta: number; gaussians: GaussianLeaf[] }): string | undefined {
    // A sampled composition of Gaussians is one sampled Gaussian; any other sampled tree must be one leaf.
    const sigma = effectiveGaussianNoiseMultiplier(inner);
    if (sigma !== undefined) {
      out.gaussians.push({ sigma, q, count });
      return undefined;
    }
    if (
      inner.kind === 'composed' ||
      inner.kind === 'selfComposed' ||
      inner.kind === 'poissonSampled' ||
      inner.kind === 'sampledWithoutReplacement'
    ) {
      return 'basic composition amplifies only single mechanisms by sampling';
    }
    return this.#walk(inner, count, q, out);
  }

  supports(event: DpEvent): boolean {
    validateEvent(event);
    return this.#walk(event, 1, 1, { eps: 0, delta: 0, gaussians: [] }) === undefined;
  }

  compose(event: DpEvent, count = 1): this {
    validateEvent(event);
    checkCount(count, 'count');
    const out = { eps: 0, delta: 0, gaussians: [] as GaussianLeaf[] };
    const why = this.#walk(event, count, 1, out);
    if (why !== undefined) throw new RangeError(`event is not supported by BasicAccountant: ${why}`);
    this.#epsilon += out.eps;
    this.#delta += out.delta;
    for (const g of out.gaussians) {
      const last = this.#gaussians[this.#gaussians.length - 1];
      if (last !== undefined && last.sigma === g.sigma && last.q === g.q) last.count += g.count;
      else this.#gaussians.push(g);
      this.#gaussianCount += g.count;
    }
    return this;
  }

  /**
   * An independent accountant with the same history.
   * @example
   * ```ts
   * const trial = acc.clone().compose(laplaceEvent(10));
   * ```
   */
  clone(): BasicAccountant {
    const c = new BasicAccountant({ neighboringRelation: this.neighboringRelation });
    c.#epsilon = this.#epsilon;
    c.#delta = this.#delta;
    c.#gaussians = this.#gaussians.map((g) => ({ ...g }));
    c.#gaussianCount = this.#gaussianCount;
    return c;
  }

  /**
   * How ε is computed, for privacy statements.
   * @example
   * ```ts
   * new BasicAccountant().describe(); // 'basic composition ...'
   * ```
   */
  describe(): string {
    return (
      'basic composition (Dwork & Roth 2014, Thm 3.16): epsilons and deltas add up; Gaussian mechanisms share the ' +
      'remaining delta evenly, each at its analytic-Gaussian epsilon'
    );
  }

  getEpsilon(delta: number): number {
    assertDelta(delta);
    if (this.#gaussianCount === 0) return this.#delta <= delta ? this.#epsilon : Infinity;
    const rest = delta - this.#delta;
    if (!(rest > 0)) return Infinity;
    const share = rest / this.#gaussianCount;
    let eps = this.#epsilon;
    for (const g of this.#gaussians) eps += g.count * amplifiedEpsilon(gaussianEpsilon(g.sigma, share / g.q), g.q);
    return eps;
  }

  getDelta(epsilon: number): number {
    assertNonNegative('epsilon', epsilon);
    if (this.#gaussianCount === 0) return this.#epsilon <= epsilon ? Math.min(1, this.#delta) : 1;
    // Smallest δ with getEpsilon(δ) <= ε, by bisection on ln δ (ε(δ) decreases in δ).
    if (this.getEpsilon(1 - 1e-16) > epsilon) return 1;
    let lo = Math.log(Number.MIN_VALUE);
    let hi = Math.log(1 - 1e-16);
    if (this.getEpsilon(Math.exp(lo)) <= epsilon) return Math.exp(lo);
    for (let i = 0; i < 80 && hi - lo > 1e-10; i++) {
      const mid = (lo + hi) / 2;
      if (this.getEpsilon(Math.exp(mid)) <= epsilon) hi = mid;
      else lo = mid;
    }
    return Math.exp(hi);
  }
}
