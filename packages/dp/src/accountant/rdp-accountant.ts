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
import { type DpEvent, effectiveGaussianNoiseMultiplier, validateEvent } from './events.ts';
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
  switch (event.kind) {
    case 'gaussian':
    case 'laplace':
      return undefined;
    case 'poissonSampled':
      if (relation !== 'add-or-remove-one') return 'Poisson-sampled events need the add-or-remove-one neighbouring relation';
      if (event.sampleRate === 0) return undefined;
      return effectiveGaussianNoiseMultiplier(event.event) === undefined
        ? 'the RDP accountant supports Poisson sampling only of Gaussian events (or compositions of them)'
        : undefined;
    case 'sampledWithoutReplacement':
      if (relation !== 'replace-one') return 'sampled-without-replacement events need the replace-one neighbouring relation';
      return effectiveGaussianNoiseMultiplier(event.event) === undefined
        ? 'the RDP accountant supports sampling without replacement only of Gaussian events'
        : undefined;
    case 'composed':
      for (const e of event.events) {
        const why = rdpUnsupportedReason(e, relation);
        if (why !== undefined) return why;
      }
      return undefined;
    case 'selfComposed':
      return rdpUnsupportedReason(event.event, relation);
  }
}

/**
 * RDP of one event at every order, or a message saying why the event is not supported.
 * @internal
 * @example
 * ```ts
 * eventRdp(gaussianEvent(2), Float64Array.of(2, 4), 'add-or-remove-one'); // Float64Array [0.25, 0.5]
 * ```
 */
export function eventRdp(event: DpEvent, orders: Float64Array, relation: NeighboringRelation): Float64Array | string {
  const out = new Float64Array(orders.length);
  switch (event.kind) {
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
        return 'the RDP accountant supports Poisson sampling only of Gaussian events (or compositions of them)';
      }
      for (let k = 0; k < orders.length; k++) out[k] = sampledGaussianRdpAt(event.sampleRate, sigma, orders[k]);
      return out;
    }
    case 'sampledWithoutReplacement': {
      if (relation !== 'replace-one') {
        return 'sampled-without-replacement events need the replace-one neighbouring relation';
      }
      const sigma = effectiveGaussianNoiseMultiplier(event.event);
      if (sigma === undefined) {
        return 'the RDP accountant supports sampling without replacement only of Gaussian events';
      }
      const q = event.sampleSize / event.datasetSize;
      for (let k = 0; k < orders.length; k++) out[k] = sampledWithoutReplacementGaussianRdpAt(q, sigma, orders[k]);
      return out;
    }
    case 'composed': {
      for (const e of event.events) {
        const r = eventRdp(e, orders, relation);
        if (typeof r === 'string') return r;
        for (let k = 0; k < orders.length; k++) out[k] += r[k];
      }
      return out;
    }
    case 'selfComposed': {
      const r = eventRdp(event.event, orders, relation);
      if (typeof r === 'string') return r;
      for (let k = 0; k < orders.length; k++) out[k] = r[k] * event.count;
      return out;
    }
  }
}

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
  /** The orders (a copy; read-only by convention). */
  readonly orders: Float64Array;
  readonly neighboringRelation: NeighboringRelation;
  readonly conversion: RdpConversion;
  #rdp: Float64Array;

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
    const r = eventRdp(event, this.orders, this.neighboringRelation);
    if (typeof r === 'string') throw new RangeError(`event is not supported by RdpAccountant: ${r}`);
    for (let k = 0; k < r.length; k++) this.#rdp[k] += count * r[k];
    return this;
  }

  /** Total RDP at each order (a copy). */
  get rdp(): Float64Array {
    return this.#rdp.slice();
  }

  getEpsilon(delta: number): number {
    return this.getEpsilonAndOrder(delta).epsilon;
  }

  /** ε together with the optimal order and whether it lies at the edge of the list. */
  getEpsilonAndOrder(delta: number): RdpEpsilon {
    assertDelta(delta);
    return minimizeEpsilon(this.orders, this.#rdp, delta, this.conversion);
  }

  getDelta(epsilon: number): number {
    return this.getDeltaAndOrder(epsilon).delta;
  }

  /** δ together with the optimal order. */
  getDeltaAndOrder(epsilon: number): RdpDelta {
    assertNonNegative('epsilon', epsilon);
    return minimizeDelta(this.orders, this.#rdp, epsilon, this.conversion);
  }
}
