/**
 * The RDP accountant: composes privacy events by adding their Rényi-DP curves order by order and converts the
 * total to (ε, δ) with the optimal conversion of Balle et al. 2020 (Thm 21) or, on request, Mironov 2017
 * (Prop. 3). Event semantics follow `dp_accounting`'s `RdpAccountant`: Poisson sampling requires the
 * add-or-remove-one relation, sampling without replacement the replace-one relation (Wang, Balle,
 * Kasiviswanathan 2019); the sampled event must be a Gaussian or a composition of Gaussians.
 * @module
 */
import { assertDelta, assertNonNegative, assertOptions } from '@ppml/core';
import { checkConversion, checkCount, checkOrders, checkRelation } from './internal-args.ts';
import { type DpEvent, effectiveGaussianNoiseMultiplier, pureEpsilonOf, validateEvent } from './events.ts';
import { amplifiedEpsilon, exponentialMechanismRdpAt, pureDpRdpAt, randomizedResponseRdpAt } from './pure-dp.ts';
import {
  type RdpConversion,
  type RdpDelta,
  type RdpEpsilon,
  type RdpOrders,
  laplaceRdpAt,
  minimizeDelta,
  minimizeEpsilon,
  sampledGaussianRdpAt,
  sampledWithoutReplacementGaussianRdpAt,
} from './rdp.ts';

/**
 * Neighbouring relation: datasets differ by adding or removing one example (the default, what Poisson
 * sampling needs) or by replacing one example (what sampling without replacement needs).
 */
export type NeighboringRelation = 'add-or-remove-one' | 'replace-one';

/** What every accountant offers. */
export interface PrivacyAccountant {
  /** Composes `count` copies of `event` (count a positive integer, default 1); returns the accountant. */
  compose(event: DpEvent, count?: number): this;
  /** Smallest ε such that everything composed so far is (ε, δ)-DP. */
  getEpsilon(delta: number): number;
  /** Smallest δ such that everything composed so far is (ε, δ)-DP. */
  getDelta(epsilon: number): number;
  /** True if `event` can be composed (no error would be thrown). */
  supports(event: DpEvent): boolean;
}

/** Options of {@link RdpAccountant}. */
export interface RdpAccountantOptions {
  /** Rényi orders (default {@link DEFAULT_RDP_ORDERS}, Opacus's list). */
  orders?: RdpOrders;
  /** Default 'add-or-remove-one'. */
  neighboringRelation?: NeighboringRelation;
  /** Default 'balle2020'. */
  conversion?: RdpConversion;
}

/**
 * Why the RDP accountant cannot compose `event` under `relation`, or undefined if it can (structural check,
 * nothing is computed).
 * @internal
 * @example
 * ```ts
 * rdpUnsupportedReason(poissonSampledEvent(0.1, laplaceEvent(1)), 'add-or-remove-one'); // a message
 * ```
 */
export function rdpUnsupportedReason(event: DpEvent, relation: NeighboringRelation): string | undefined {
  // Structural: the same walk as eventRdp on a single order (closed forms and one series term, cheap).
  const r = eventRdp(event, PROBE_ORDER, relation, { epsilon: 0, delta: 0 });
  return typeof r === 'string' ? r : undefined;
}

const PROBE_ORDER = Float64Array.of(2);

/** (ε, δ) parts of a history that RDP cannot represent (approximate-DP events), composed basically. */
export interface ApproximatePart {
  epsilon: number;
  delta: number;
}

/** ε of a pure-DP leaf (Laplace, (ε, 0), randomized response, exponential mechanism), else undefined. */
function pureLeafRdp(event: DpEvent, q: number, orders: Float64Array, out: Float64Array): boolean {
  const eps = pureEpsilonOf(event);
  if (eps === undefined) return false;
  if (q === 1 && event.kind === 'laplace') {
    for (let k = 0; k < orders.length; k++) out[k] = laplaceRdpAt(eps, orders[k]);
  } else if (q === 1 && event.kind === 'randomizedResponse') {
    for (let k = 0; k < orders.length; k++) out[k] = randomizedResponseRdpAt(event.noiseParameter, event.buckets, orders[k]);
  } else if (q === 1 && event.kind === 'exponential') {
    for (let k = 0; k < orders.length; k++) out[k] = exponentialMechanismRdpAt(eps, orders[k]);
  } else {
    // Sampled (or an (ε, 0) event): amplified pure ε, then the tight RDP of pure DP.
    const e = amplifiedEpsilon(eps, q);
    for (let k = 0; k < orders.length; k++) out[k] = pureDpRdpAt(e, orders[k]);
  }
  return true;
}

/**
 * RDP of one event at every order, or a message saying why the event is not supported.
 * @internal
 * @example
 * ```ts
 * eventRdp(gaussianEvent(2), Float64Array.of(2, 4), 'add-or-remove-one'); // Float64Array [0.25, 0.5]
 * ```
 */
export function eventRdp(
  event: DpEvent,
  orders: Float64Array,
  relation: NeighboringRelation,
  approx?: ApproximatePart,
  multiplicity = 1,
): Float64Array | string {
  const out = new Float64Array(orders.length);
  switch (event.kind) {
    case 'epsilonDelta':
    case 'randomizedResponse':
    case 'exponential':
      if (event.kind === 'epsilonDelta' && event.delta > 0) {
        if (approx === undefined) return 'approximate (epsilon, delta > 0) events have no RDP curve';
        approx.epsilon += multiplicity * event.epsilon;
        approx.delta += multiplicity * event.delta;
        return out;
      }
      pureLeafRdp(event, 1, orders, out);
      return out;
    case 'gaussian':
      for (let k = 0; k < orders.length; k++) out[k] = sampledGaussianRdpAt(1, event.noiseMultiplier, orders[k]);
      return out;
    case 'laplace': {
      const eps = event.noiseMultiplier === 0 ? Infinity : 1 / event.noiseMultiplier;
      for (let k = 0; k < orders.length; k++) out[k] = laplaceRdpAt(eps, orders[k]);
      return out;
    }
    case 'poissonSampled': {
      if (relation !== 'add-or-remove-one') {
        return 'Poisson-sampled events need the add-or-remove-one neighbouring relation';
      }
      if (event.sampleRate === 0) return out;
      const sigma = effectiveGaussianNoiseMultiplier(event.event);
      if (sigma === undefined) {
        if (pureLeafRdp(event.event, event.sampleRate, orders, out)) return out;
        const inner = event.event;
        if (inner.kind === 'epsilonDelta' && approx !== undefined) {
          approx.epsilon += multiplicity * amplifiedEpsilon(inner.epsilon, event.sampleRate);
          approx.delta += multiplicity * event.sampleRate * inner.delta;
          return out;
        }
        return 'the RDP accountant supports Poisson sampling only of Gaussian events (or compositions of them) and of pure-DP events';
      }
      for (let k = 0; k < orders.length; k++) out[k] = sampledGaussianRdpAt(event.sampleRate, sigma, orders[k]);
      return out;
    }
    case 'sampledWithoutReplacement': {
      if (relation !== 'replace-one') {
        return 'sampled-without-replacement events need the replace-one neighbouring relation';
      }
      const sigma = effectiveGaussianNoiseMultiplier(event.event);
      const q = event.sampleSize / event.datasetSize;
      if (sigma === undefined) {
        if (pureLeafRdp(event.event, q, orders, out)) return out;
        return 'the RDP accountant supports sampling without replacement only of Gaussian events and of pure-DP events';
      }
      for (let k = 0; k < orders.length; k++) out[k] = sampledWithoutReplacementGaussianRdpAt(q, sigma, orders[k]);
      return out;
    }
    case 'composed': {
      for (const e of event.events) {
        const r = eventRdp(e, orders, relation, approx, multiplicity);
        if (typeof r === 'string') return r;
        for (let k = 0; k < orders.length; k++) out[k] += r[k];
      }
      return out;
    }
    case 'selfComposed': {
      const r = eventRdp(event.event, orders, relation, approx, multiplicity * event.count);
      if (typeof r === 'string') return r;
      for (let k = 0; k < orders.length; k++) out[k] = r[k] * event.count;
      return out;
    }
  }
}

/** One event's cached RDP curve (never mutated: compose only reads it). */
interface CachedCurve {
  readonly rdp: Float64Array;
  readonly approx: Readonly<ApproximatePart>;
}

/** Distinct events cached per accountant (a history rarely holds more; the cache is cleared when full). */
const CURVE_CACHE_SIZE = 256;

/**
 * Rényi-DP accountant (Mironov 2017; sampled Gaussian of Mironov, Talwar, Zhang 2019).
 * @example
 * ```ts
 * const acc = new RdpAccountant();
 * acc.compose(poissonSampledEvent(0.04, gaussianEvent(1.5)), 2250);
 * acc.getEpsilon(1e-5); // 7.3291111714...
 * ```
 */
export class RdpAccountant implements PrivacyAccountant {
  /** Registry name of this accountant. */
  readonly kind = 'rdp' as const;
  /** The orders (a copy; read-only by convention). */
  readonly orders: Float64Array;
  readonly neighboringRelation: NeighboringRelation;
  readonly conversion: RdpConversion;
  #rdp: Float64Array;
  /** Approximate-DP events ((ε, δ > 0), which have no RDP curve), composed basically with the RDP part. */
  #approx: ApproximatePart = { epsilon: 0, delta: 0 };
  /**
   * RDP curve (and approximate part) of one copy of each event composed so far, keyed by the event's parameters
   * (its JSON: plain objects parsed from a ledger hit the same entry as the frozen event they describe). The
   * trainer composes the same step event every step; the sampled-Gaussian series costs milliseconds per call,
   * the cached curve O(orders). Shared with clones (same orders and relation); bounded in size.
   */
  #cache: Map<string, CachedCurve> = new Map();

  constructor(options: RdpAccountantOptions = {}) {
    assertOptions('options', options, ['orders', 'neighboringRelation', 'conversion']);
    const { orders, neighboringRelation = 'add-or-remove-one', conversion = 'balle2020' } = options;
    this.orders = checkOrders(orders);
    checkRelation(neighboringRelation);
    checkConversion(conversion);
    this.neighboringRelation = neighboringRelation;
    this.conversion = conversion;
    this.#rdp = new Float64Array(this.orders.length);
  }

  supports(event: DpEvent): boolean {
    validateEvent(event);
    return rdpUnsupportedReason(event, this.neighboringRelation) === undefined;
  }

  compose(event: DpEvent, count = 1): this {
    validateEvent(event);
    checkCount(count, 'count');
    const { rdp: r, approx } = this.#curve(event);
    for (let k = 0; k < r.length; k++) this.#rdp[k] += count * r[k];
    // the approximate part is linear in the multiplicity (eventRdp adds multiplicity x each part)
    this.#approx.epsilon += count * approx.epsilon;
    this.#approx.delta += count * approx.delta;
    return this;
  }

  /** The (cached) RDP curve and approximate part of one copy of a validated event; throws if unsupported. */
  #curve(event: DpEvent): CachedCurve {
    const key = JSON.stringify(event);
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    const approx: ApproximatePart = { epsilon: 0, delta: 0 };
    const r = eventRdp(event, this.orders, this.neighboringRelation, approx, 1);
    if (typeof r === 'string') throw new RangeError(`event is not supported by RdpAccountant: ${r}`);
    if (this.#cache.size >= CURVE_CACHE_SIZE) this.#cache.clear();
    const curve: CachedCurve = Object.freeze({ rdp: r, approx: Object.freeze(approx) });
    this.#cache.set(key, curve);
    return curve;
  }

  /**
   * An independent accountant with the same options and history.
   * @example
   * ```ts
   * const trial = acc.clone().compose(gaussianEvent(2));
   * ```
   */
  clone(): RdpAccountant {
    const c = new RdpAccountant({ orders: this.orders, neighboringRelation: this.neighboringRelation, conversion: this.conversion });
    c.#rdp = this.#rdp.slice();
    c.#approx = { ...this.#approx };
    c.#cache = this.#cache;
    return c;
  }

  /**
   * How ε is computed, for privacy statements.
   * @example
   * ```ts
   * new RdpAccountant().describe(); // 'Renyi DP over 151 orders ...'
   * ```
   */
  describe(): string {
    const o = this.orders;
    return (
      `Renyi DP over ${o.length} orders from ${o[0]} to ${o[o.length - 1]}, converted to (epsilon, delta) with ` +
      (this.conversion === 'balle2020' ? 'the conversion of Balle et al. 2020 (Thm 21)' : 'the conversion of Mironov 2017 (Prop. 3)') +
      (this.#approx.delta > 0 ? '; approximate-DP events added by basic composition' : '')
    );
  }

  /** Total RDP at each order (a copy). */
  get rdp(): Float64Array {
    return this.#rdp.slice();
  }

  getEpsilon(delta: number): number {
    return this.getEpsilonAndOrder(delta).epsilon;
  }

  /**
   * ε together with the optimal order and whether it lies at the edge of the list. Approximate-DP events, if
   * any, take their δ first and add their ε (basic composition, Dwork & Roth 2014, Thm 3.16).
   */
  getEpsilonAndOrder(delta: number): RdpEpsilon {
    assertDelta(delta);
    const a = this.#approx;
    if (a.delta === 0) return minimizeEpsilon(this.orders, this.#rdp, delta, this.conversion);
    if (!(a.delta < delta)) return { epsilon: Infinity, order: this.orders[0], orderAtBoundary: false, conversion: this.conversion };
    const r = minimizeEpsilon(this.orders, this.#rdp, delta - a.delta, this.conversion);
    return { ...r, epsilon: r.epsilon + a.epsilon };
  }

  getDelta(epsilon: number): number {
    return this.getDeltaAndOrder(epsilon).delta;
  }

  /** δ together with the optimal order. */
  getDeltaAndOrder(epsilon: number): RdpDelta {
    assertNonNegative('epsilon', epsilon);
    const a = this.#approx;
    if (a.delta === 0 && a.epsilon === 0) return minimizeDelta(this.orders, this.#rdp, epsilon, this.conversion);
    if (epsilon < a.epsilon) return { delta: 1, order: this.orders[0], orderAtBoundary: false, conversion: this.conversion };
    const r = minimizeDelta(this.orders, this.#rdp, epsilon - a.epsilon, this.conversion);
    return { ...r, delta: Math.min(1, r.delta + a.delta) };
  }
}
