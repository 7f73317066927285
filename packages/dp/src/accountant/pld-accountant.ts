/**
 * The tight accountant: privacy loss distributions composed with the FFT (see `pld.ts`; Koskela et al. 2020,
 * `dp_accounting`'s `PLDAccountant`, connect-the-dots discretization of Doroshenko et al. 2022). It supports
 * the Gaussian and Laplace mechanisms, Poisson-sampled, composed and self-composed. It never throws where the
 * RDP accountant would answer: for events it cannot represent (sampling without replacement) or when a grid
 * would exceed {@link MAX_PLD_POINTS}, it falls back to an RDP accountant kept alongside and reports a warning.
 * Composition is lazy: events are recorded (identical consecutive events merged) and the PLD is built on the
 * first query after a change, so composing one step at a time costs nothing.
 *
 * Small δ: the discretization moves tails of at most 1e-15 per composition to +∞ (pessimistically), so below a
 * δ of about 1e-14 the PLD alone can only say ε = ∞. The accountant then answers with the best finite bound it
 * can prove instead, with a warning: the RDP accountant kept alongside, and, when every event is pure DP
 * (Laplace, possibly Poisson-sampled: ln(1 + q(e^ε − 1)), Balle, Barthe, Gaboardi 2018), the sum of the pure ε.
 * It returns ∞ only when none of them is finite.
 * @module
 */
import { assertDelta, assertFunction, assertNonNegative, assertOptions, assertPositive } from '@ppml/core';
import { checkCount, checkOrders, checkRelation } from './internal-args.ts';
import { type DpEvent, effectiveGaussianNoiseMultiplier, validateEvent } from './events.ts';
import {
  type DiscretePld,
  type PldBase,
  MAX_PLD_POINTS,
  compose,
  composedLossWidth,
  pldDelta,
  pldEpsilon,
  selfCompose,
  singleEventPld,
} from './pld.ts';
import { type NeighboringRelation, type PrivacyAccountant, RdpAccountant, rdpUnsupportedReason } from './rdp-accountant.ts';
import type { RdpOrders } from './rdp.ts';

/** Options of {@link PldAccountant}. */
export interface PldAccountantOptions {
  /**
   * Grid step of the privacy loss. 'auto' (default) picks 1e-4 (as `dp_accounting`) unless the composed
   * distribution would span more than 2^17 points, then up to 1e-3; the result is always an upper bound.
   */
  valueDiscretizationInterval?: number | 'auto';
  /** Default 'add-or-remove-one' (both directions are accounted and the worse is reported). */
  neighboringRelation?: NeighboringRelation;
  /** Orders of the RDP accountant used as a fallback (default {@link DEFAULT_RDP_ORDERS}). */
  orders?: RdpOrders;
  /**
   * Receives fallback warnings (default: `process.emitWarning` with type 'PrivacyAccountingWarning', each
   * distinct message once per process).
   */
  onWarning?: (message: string) => void;
}

/** One mechanism of the history: a base mechanism, its Poisson rate (1: none) and a multiplicity. */
interface Item {
  base: PldBase;
  q: number;
  count: number;
}

const warned = new Set<string>();

/** process.emitWarning (type 'PrivacyAccountingWarning'), each distinct message once per process. */
function defaultWarning(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  const proc = (globalThis as { process?: { emitWarning?: (m: string, o: { type: string }) => void } }).process;
  if (proc?.emitWarning) proc.emitWarning(message, { type: 'PrivacyAccountingWarning' });
  else console.warn(`PrivacyAccountingWarning: ${message}`);
}

/** Flattens an event into PLD items, or returns why the PLD accountant cannot represent it. */
function flatten(event: DpEvent, count: number, relation: NeighboringRelation, out: Item[]): string | undefined {
  switch (event.kind) {
    case 'gaussian':
    case 'laplace':
      out.push({ base: { kind: event.kind, noiseMultiplier: event.noiseMultiplier }, q: 1, count });
      return undefined;
    case 'poissonSampled': {
      if (relation !== 'add-or-remove-one') return 'Poisson sampling needs the add-or-remove-one relation';
      if (event.sampleRate === 0) return undefined;
      const sigma = effectiveGaussianNoiseMultiplier(event.event);
      if (sigma !== undefined) {
        out.push({ base: { kind: 'gaussian', noiseMultiplier: sigma }, q: event.sampleRate, count });
        return undefined;
      }
      if (event.event.kind === 'laplace') {
        out.push({ base: { kind: 'laplace', noiseMultiplier: event.event.noiseMultiplier }, q: event.sampleRate, count });
        return undefined;
      }
      return 'only Gaussian or Laplace events can be Poisson-sampled in a PLD';
    }
    case 'sampledWithoutReplacement':
      return 'sampling without replacement has no PLD representation here';
    case 'composed':
      for (const e of event.events) {
        const why = flatten(e, count, relation, out);
        if (why !== undefined) return why;
      }
      return undefined;
    case 'selfComposed':
      return flatten(event.event, count * event.count, relation, out);
  }
}

function sameMechanism(a: Item, b: Item): boolean {
  return a.q === b.q && a.base.kind === b.base.kind && a.base.noiseMultiplier === b.base.noiseMultiplier;
}

/**
 * Tight (PLD) accountant with automatic RDP fallback.
 * @example
 * ```ts
 * const acc = new PldAccountant();
 * acc.compose(poissonSampledEvent(0.04, gaussianEvent(1.5)), 2250);
 * acc.getEpsilon(1e-5); // about 6.77 (RDP: 7.33)
 * ```
 */
export class PldAccountant implements PrivacyAccountant {
  readonly neighboringRelation: NeighboringRelation;
  readonly valueDiscretizationInterval: number | 'auto';
  #items: Item[] = [];
  /** History for the RDP fallback (consecutive identical events merged), composed only if needed. */
  #rdpHistory: Array<{ event: DpEvent; count: number }> = [];
  #rdpOrders: Float64Array;
  #rdp: RdpAccountant | undefined;
  #fallbackReason: string | undefined;
  #warned = false;
  #tailWarned = false;
  #onWarning: (message: string) => void;
  #cache: { remove: DiscretePld; add: DiscretePld } | undefined;
  #lastMethod: 'pld' | 'rdp' | 'pure-dp' = 'pld';
  #h: number | undefined;
  #rdpComplete = true;
  #rdpMissing: string | undefined;

  constructor(options: PldAccountantOptions = {}) {
    assertOptions('options', options, ['valueDiscretizationInterval', 'neighboringRelation', 'orders', 'onWarning']);
    const { valueDiscretizationInterval = 'auto', neighboringRelation = 'add-or-remove-one', orders, onWarning } = options;
    if (valueDiscretizationInterval !== 'auto') {
      // Below 1e-6 the grid of even one Gaussian step would exceed MAX_PLD_POINTS; above 1 it says nothing.
      assertPositive('valueDiscretizationInterval', valueDiscretizationInterval);
    }
    checkRelation(neighboringRelation);
    assertFunction('onWarning', onWarning, true);
    this.valueDiscretizationInterval = valueDiscretizationInterval;
    this.neighboringRelation = neighboringRelation;
    // Validate (and copy) the orders now; the fallback accountant itself is built lazily.
    this.#rdpOrders = checkOrders(orders);
    this.#onWarning = (onWarning as ((message: string) => void) | undefined) ?? defaultWarning;
  }

  supports(event: DpEvent): boolean {
    validateEvent(event);
    return (
      flatten(event, 1, this.neighboringRelation, []) === undefined ||
      (this.#rdpComplete && rdpUnsupportedReason(event, this.neighboringRelation) === undefined)
    );
  }

  compose(event: DpEvent, count = 1): this {
    validateEvent(event);
    checkCount(count, 'count');
    const items: Item[] = [];
    const why = flatten(event, count, this.neighboringRelation, items);
    if (why !== undefined) {
      // Not representable as a PLD: the RDP fallback answers, or we throw (RangeError) when it cannot either.
      const rdpWhy = rdpUnsupportedReason(event, this.neighboringRelation);
      if (rdpWhy !== undefined) throw new RangeError(`event is not supported: ${why}; and for RDP: ${rdpWhy}`);
      if (!this.#rdpComplete) {
        throw new RangeError(
          `event is not supported: ${why}, and the RDP fallback cannot account for earlier events ` +
            `(${this.#rdpMissing ?? 'unsupported by RDP'})`,
        );
      }
      this.#recordRdp(event, count);
      this.#fallBack(why);
      return this;
    }
    if (this.#rdpComplete) {
      if (rdpUnsupportedReason(event, this.neighboringRelation) === undefined) this.#recordRdp(event, count);
      else {
        // E.g. Poisson-sampled Laplace: PLD can, RDP cannot; the fallback is no longer available.
        this.#rdpComplete = false;
        this.#rdpMissing = `${event.kind} event`;
      }
    }
    for (const it of items) {
      const last = this.#items[this.#items.length - 1];
      if (last !== undefined && sameMechanism(last, it)) last.count += it.count;
      else this.#items.push({ ...it });
    }
    this.#cache = undefined;
    return this;
  }

  /**
   * 'pld' when the last answer came from the PLD, 'rdp' when it came from the RDP fallback, 'pure-dp' when it
   * came from the sum of pure-DP epsilons (all events Laplace; see the module note on small δ).
   */
  get method(): 'pld' | 'rdp' | 'pure-dp' {
    return this.#lastMethod;
  }

  /** Why the accountant fell back to RDP, if it did. */
  get fallbackReason(): string | undefined {
    return this.#fallbackReason;
  }

  /** The grid step used by the last PLD computation (undefined before any). */
  get discretizationInterval(): number | undefined {
    return this.#h;
  }

  getEpsilon(delta: number): number {
    assertDelta(delta);
    const pld = this.#build();
    if (pld === undefined) return this.#rdpAccountant().getEpsilon(delta);
    const eps = Math.max(pldEpsilon(pld.remove, delta), pldEpsilon(pld.add, delta));
    if (eps < Infinity) return eps;
    // The PLD's pessimistic tail mass (moved to +∞) exceeds δ: answer with another proven bound, if any.
    const rdp = this.#rdpComplete ? this.#rdpAccountant().getEpsilon(delta) : Infinity;
    const pure = this.#pureEpsilon();
    const best = Math.min(rdp, pure);
    if (best === Infinity) return Infinity;
    this.#lastMethod = pure <= rdp ? 'pure-dp' : 'rdp';
    const tail = Math.max(pld.remove.infinity, pld.add.infinity);
    const warning =
      `PldAccountant: delta = ${delta} is below the PLD's truncated tail mass (${tail.toExponential(2)}), where the ` +
      `PLD can only bound epsilon by Infinity; reporting the ${pure <= rdp ? 'pure-DP (sum of Laplace epsilons)' : 'RDP'} ` +
      `bound ${best} instead (valid, possibly less tight). For the PLD's own figure use delta >= ${tail.toExponential(2)}.`;
    if (!this.#tailWarned) {
      this.#tailWarned = true;
      this.#onWarning(warning);
    }
    return best;
  }

  /** Σ pure ε over the history when every event is (Poisson-sampled) Laplace, else Infinity. */
  #pureEpsilon(): number {
    let total = 0;
    for (const it of this.#items) {
      if (it.base.kind !== 'laplace') return Infinity;
      const eps = it.base.noiseMultiplier === 0 ? Infinity : 1 / it.base.noiseMultiplier;
      // Amplification by Poisson sampling of a pure-DP mechanism: ln(1 + q(e^ε − 1)) (Balle et al. 2018).
      total += it.count * (it.q === 1 ? eps : Math.log1p(it.q * Math.expm1(eps)));
    }
    return total;
  }

  getDelta(epsilon: number): number {
    assertNonNegative('epsilon', epsilon);
    const pld = this.#build();
    if (pld === undefined) return this.#rdpAccountant().getDelta(epsilon);
    return Math.max(pldDelta(pld.remove, epsilon), pldDelta(pld.add, epsilon));
  }

  #recordRdp(event: DpEvent, count: number): void {
    this.#rdp = undefined;
    const last = this.#rdpHistory[this.#rdpHistory.length - 1];
    if (last !== undefined && (last.event === event || JSON.stringify(last.event) === JSON.stringify(event))) {
      last.count += count;
    } else {
      this.#rdpHistory.push({ event, count });
    }
  }

  #rdpAccountant(): RdpAccountant {
    if (this.#rdp === undefined) {
      const acc = new RdpAccountant({ orders: this.#rdpOrders, neighboringRelation: this.neighboringRelation });
      for (const { event, count } of this.#rdpHistory) acc.compose(event, count);
      this.#rdp = acc;
    }
    return this.#rdp;
  }

  #fallBack(reason: string): void {
    this.#fallbackReason ??= reason;
    this.#cache = undefined;
    if (!this.#warned) {
      this.#warned = true;
      this.#onWarning(
        `PldAccountant falls back to RDP accounting (${reason}); the reported epsilon is the RDP bound, valid but ` +
          'less tight. For the PLD figure, compose fewer or less extreme events, or pass a coarser valueDiscretizationInterval.',
      );
    }
  }

  /**
   * The history with all unsampled Gaussian mechanisms folded into one: k Gaussians with multipliers σ_i
   * compose exactly to one Gaussian with multiplier (Σ σ_i^{-2})^{-1/2} (their PLDs are N(μ²/2, μ²), closed
   * under composition), which saves FFTs and discretization error.
   */
  #mergedItems(): Item[] {
    let invSq = 0;
    let gaussians = 0;
    const rest: Item[] = [];
    for (const it of this.#items) {
      if (it.q === 1 && it.base.kind === 'gaussian') {
        gaussians++;
        invSq += it.base.noiseMultiplier === 0 ? Infinity : it.count / it.base.noiseMultiplier ** 2;
      } else rest.push(it);
    }
    if (gaussians === 0) return rest;
    const sigma = invSq === Infinity ? 0 : 1 / Math.sqrt(invSq);
    return [{ base: { kind: 'gaussian', noiseMultiplier: sigma }, q: 1, count: 1 }, ...rest];
  }

  #chooseInterval(): number {
    if (this.valueDiscretizationInterval !== 'auto') return this.valueDiscretizationInterval;
    const coarse = 1e-3;
    let width = 0;
    for (const it of this.#mergedItems()) width += composedLossWidth(singleEventPld(it.base, it.q, 'remove', coarse), it.count);
    return Math.min(1e-3, Math.max(1e-4, width / (1 << 17)));
  }

  #build(): { remove: DiscretePld; add: DiscretePld } | undefined {
    if (this.#fallbackReason !== undefined) {
      this.#lastMethod = 'rdp';
      return undefined;
    }
    if (this.#cache !== undefined) {
      this.#lastMethod = 'pld';
      return this.#cache;
    }
    const empty: DiscretePld = { h: 1, offset: 0, probs: Float64Array.of(1), infinity: 0 };
    if (this.#items.length === 0) {
      this.#lastMethod = 'pld';
      return { remove: empty, add: empty };
    }
    try {
      const h = this.#chooseInterval();
      let remove: DiscretePld | undefined;
      let add: DiscretePld | undefined;
      for (const it of this.#mergedItems()) {
        const r = selfCompose(singleEventPld(it.base, it.q, 'remove', h), it.count);
        // Without sampling the two directions have the same PLD (the noise is symmetric).
        const a = it.q === 1 ? r : selfCompose(singleEventPld(it.base, it.q, 'add', h), it.count);
        remove = remove === undefined ? r : compose(remove, r);
        add = add === undefined ? a : compose(add, a);
      }
      if (remove === undefined || add === undefined) throw new RangeError('empty history');
      const total = remove.probs.reduce((s, x) => s + x, 0) + remove.infinity;
      if (!(total <= 1 + 1e-6) || !Number.isFinite(total)) throw new RangeError('the PLD lost its normalization');
      this.#h = h;
      this.#cache = { remove, add };
      this.#lastMethod = 'pld';
      return this.#cache;
    } catch (err) {
      if (!(err instanceof RangeError) || !this.#rdpComplete) throw err;
      this.#fallBack(err.message);
      this.#lastMethod = 'rdp';
      return undefined;
    }
  }
}

export { MAX_PLD_POINTS };
