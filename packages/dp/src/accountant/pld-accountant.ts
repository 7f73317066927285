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
import { type DpEvent, effectiveGaussianNoiseMultiplier, pureEpsilonOf, validateEvent } from './events.ts';
import { gaussianDelta } from '../mechanisms/calibration.ts';
import { gaussianEpsilon } from './basic-accountant.ts';
import { amplifiedEpsilon, epsilonDeltaLoss, randomizedResponseLoss } from './pure-dp.ts';
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
  /** Pure ε of one occurrence (after sampling), or Infinity when the mechanism is not pure DP. */
  pure: number;
  /** Chernoff width of the composed item at the coarse grid (for the 'auto' grid), cached per count. */
  width?: { count: number; value: number };
}

/** Composition of a prefix of the history (without the unsampled Gaussians, which are merged exactly). */
interface Prefix {
  readonly h: number;
  /** Number of history items folded in. */
  readonly upTo: number;
  readonly remove: DiscretePld | undefined;
  readonly add: DiscretePld | undefined;
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

/** A finite PLD item for a pure or (ε, δ) mechanism that has been amplified by sampling at rate q. */
function pairItem(eps: number, delta: number, count: number): Item {
  const { losses, masses, infinity } = epsilonDeltaLoss(eps, delta);
  return {
    base: { kind: 'finite', key: `pair:${eps}:${delta}`, losses, masses, infinity },
    q: 1,
    count,
    pure: delta === 0 ? eps : Infinity,
  };
}

/** Flattens an event into PLD items, or returns why the PLD accountant cannot represent it. */
function flatten(event: DpEvent, count: number, relation: NeighboringRelation, out: Item[]): string | undefined {
  switch (event.kind) {
    case 'gaussian':
      out.push({ base: { kind: 'gaussian', noiseMultiplier: event.noiseMultiplier }, q: 1, count, pure: Infinity });
      return undefined;
    case 'laplace':
      out.push({ base: { kind: 'laplace', noiseMultiplier: event.noiseMultiplier }, q: 1, count, pure: pureEpsilonOf(event) ?? Infinity });
      return undefined;
    case 'epsilonDelta':
    case 'exponential':
      // The exponential mechanism is accounted by its pure ε-DP pair (see pure-dp.ts).
      out.push(pairItem(event.epsilon, event.kind === 'epsilonDelta' ? event.delta : 0, count));
      return undefined;
    case 'randomizedResponse': {
      const { noiseParameter: p, buckets: k } = event;
      const { losses, masses, infinity } = randomizedResponseLoss(p, k);
      out.push({
        base: { kind: 'finite', key: `rr:${p}:${k}`, losses, masses, infinity },
        q: 1,
        count,
        pure: pureEpsilonOf(event) ?? Infinity,
      });
      return undefined;
    }
    case 'poissonSampled': {
      if (relation !== 'add-or-remove-one') return 'Poisson sampling needs the add-or-remove-one relation';
      if (event.sampleRate === 0) return undefined;
      const q = event.sampleRate;
      const sigma = effectiveGaussianNoiseMultiplier(event.event);
      if (sigma !== undefined) {
        out.push({ base: { kind: 'gaussian', noiseMultiplier: sigma }, q, count, pure: Infinity });
        return undefined;
      }
      const inner = event.event;
      if (inner.kind === 'laplace') {
        const eps = pureEpsilonOf(inner) ?? Infinity;
        out.push({ base: { kind: 'laplace', noiseMultiplier: inner.noiseMultiplier }, q, count, pure: amplifiedEpsilon(eps, q) });
        return undefined;
      }
      return sampledPair(inner, q, count, out)
        ? undefined
        : 'only Gaussian, Laplace, pure-DP and (epsilon, delta) events can be Poisson-sampled in a PLD';
    }
    case 'sampledWithoutReplacement':
      if (relation !== 'replace-one') return 'sampling without replacement needs the replace-one relation';
      return sampledPair(event.event, event.sampleSize / event.datasetSize, count, out)
        ? undefined
        : 'sampling without replacement of Gaussian events has no PLD representation here';
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

/**
 * A sampled pure or (ε, δ) event as its amplified pair: (ln(1 + q(e^ε − 1)), qδ) (Balle, Barthe, Gaboardi
 * 2018, Thm 8 for Poisson sampling, Thm 9 for sampling without replacement under replace-one).
 */
function sampledPair(inner: DpEvent, q: number, count: number, out: Item[]): boolean {
  const pure = pureEpsilonOf(inner);
  if (pure !== undefined) {
    out.push(pairItem(amplifiedEpsilon(pure, q), 0, count));
    return true;
  }
  if (inner.kind === 'epsilonDelta') {
    out.push(pairItem(amplifiedEpsilon(inner.epsilon, q), q * inner.delta, count));
    return true;
  }
  return false;
}

function sameMechanism(a: Item, b: Item): boolean {
  if (a.q !== b.q || a.base.kind !== b.base.kind) return false;
  if (a.base.kind === 'finite' || b.base.kind === 'finite') {
    return a.base.kind === 'finite' && b.base.kind === 'finite' && a.base.key === b.base.key;
  }
  return a.base.noiseMultiplier === b.base.noiseMultiplier;
}

function isMergedGaussian(it: Item): boolean {
  return it.q === 1 && it.base.kind === 'gaussian';
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
  /** Registry name of this accountant. */
  readonly kind = 'pld' as const;
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
  #onWarningOption: ((message: string) => void) | undefined;
  #cache: { remove: DiscretePld; add: DiscretePld } | undefined;
  /** The composed prefix of the history: a new event costs one composition, not a rebuild (see #build). */
  #prefix: Prefix | undefined;
  /** Σ count/σ² over the unsampled Gaussians (merged exactly into one Gaussian). */
  #gaussianInvSq = 0;
  #gaussianCount = 0;
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
    this.#onWarningOption = onWarning as ((message: string) => void) | undefined;
    this.#onWarning = this.#onWarningOption ?? defaultWarning;
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
        this.#rdpHistory = [];
        this.#rdp = undefined;
      }
    }
    for (const it of items) {
      if (isMergedGaussian(it)) {
        this.#gaussianCount += it.count;
        this.#gaussianInvSq +=
          it.base.kind === 'gaussian' && it.base.noiseMultiplier === 0
            ? Infinity
            : it.count / (it.base as { noiseMultiplier: number }).noiseMultiplier ** 2;
        continue;
      }
      const last = this.#items[this.#items.length - 1];
      if (last !== undefined && sameMechanism(last, it)) {
        last.count += it.count;
        last.width = undefined;
      } else this.#items.push({ ...it });
    }
    this.#cache = undefined;
    return this;
  }

  /**
   * An independent accountant with the same options and history; the composed distributions computed so far
   * are shared (they are never mutated), so a trial composition costs what one new event costs.
   * @example
   * ```ts
   * const fits = acc.clone().compose(gaussianEvent(3)).getEpsilon(1e-6) <= 1;
   * ```
   */
  clone(): PldAccountant {
    const c = new PldAccountant({
      valueDiscretizationInterval: this.valueDiscretizationInterval,
      neighboringRelation: this.neighboringRelation,
      orders: this.#rdpOrders,
      onWarning: this.#onWarningOption,
    });
    // Only the last entry of each history can change (its count grows), so the others are shared.
    c.#items = this.#items.slice();
    if (c.#items.length > 0) c.#items[c.#items.length - 1] = { ...c.#items[c.#items.length - 1] };
    c.#rdpHistory = this.#rdpHistory.slice();
    if (c.#rdpHistory.length > 0) c.#rdpHistory[c.#rdpHistory.length - 1] = { ...c.#rdpHistory[c.#rdpHistory.length - 1] };
    c.#rdp = this.#rdp?.clone();
    c.#fallbackReason = this.#fallbackReason;
    c.#warned = this.#warned;
    c.#tailWarned = this.#tailWarned;
    c.#cache = this.#cache;
    c.#prefix = this.#prefix;
    c.#gaussianInvSq = this.#gaussianInvSq;
    c.#gaussianCount = this.#gaussianCount;
    c.#lastMethod = this.#lastMethod;
    c.#h = this.#h;
    c.#rdpComplete = this.#rdpComplete;
    c.#rdpMissing = this.#rdpMissing;
    return c;
  }

  /**
   * How ε is computed, for privacy statements.
   * @example
   * ```ts
   * new PldAccountant().describe(); // 'privacy loss distributions (...)'
   * ```
   */
  describe(): string {
    return (
      'privacy loss distributions (pessimistic connect-the-dots discretization, FFT composition, both add and ' +
      'remove directions; falls back to Renyi DP with a warning if a distribution cannot be built)'
    );
  }

  /**
   * 'pld' when the last answer came from the PLD, 'rdp' when it came from the RDP fallback, 'pure-dp' when it
   * came from the sum of pure-DP epsilons (all events pure DP; see the module note on small δ).
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

  /**
   * The noise multiplier of the history when it holds only unsampled Gaussians (merged exactly), else undefined:
   * their PLD is N(μ²/2, μ²) and δ(ε) is the analytic Gaussian's (Balle & Wang 2018, Thm 8), so no grid is needed.
   */
  #onlyGaussian(): number | undefined {
    if (this.#fallbackReason !== undefined || this.#items.length > 0 || this.#gaussianCount === 0) return undefined;
    return this.#gaussianInvSq === Infinity ? 0 : 1 / Math.sqrt(this.#gaussianInvSq);
  }

  getEpsilon(delta: number): number {
    assertDelta(delta);
    const sigma = this.#onlyGaussian();
    if (sigma !== undefined) {
      this.#lastMethod = 'pld';
      return gaussianEpsilon(sigma, delta);
    }
    const pld = this.#build();
    if (pld === undefined) return this.#rdpAccountant().getEpsilon(delta);
    const eps =
      pld.remove === pld.add ? pldEpsilon(pld.remove, delta) : Math.max(pldEpsilon(pld.remove, delta), pldEpsilon(pld.add, delta));
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
      `PLD can only bound epsilon by Infinity; reporting the ${pure <= rdp ? 'pure-DP (sum of pure epsilons)' : 'RDP'} ` +
      `bound ${best} instead (valid, possibly less tight). For the PLD's own figure use delta >= ${tail.toExponential(2)}.`;
    if (!this.#tailWarned) {
      this.#tailWarned = true;
      this.#onWarning(warning);
    }
    return best;
  }

  /** Σ pure ε over the history when every event is pure DP (Laplace, RR, exponential, (ε, 0); sampled or not). */
  #pureEpsilon(): number {
    if (this.#gaussianCount > 0) return Infinity;
    let total = 0;
    for (const it of this.#items) total += it.count * it.pure;
    return total;
  }

  getDelta(epsilon: number): number {
    assertNonNegative('epsilon', epsilon);
    const sigma = this.#onlyGaussian();
    if (sigma !== undefined) {
      this.#lastMethod = 'pld';
      return gaussianDelta({ sigma, epsilon, sensitivity: 1 });
    }
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
   * All unsampled Gaussian mechanisms folded into one: k Gaussians with multipliers σ_i compose exactly to one
   * Gaussian with multiplier (Σ σ_i^{-2})^{-1/2} (their PLDs are N(μ²/2, μ²), closed under composition), which
   * saves FFTs and discretization error.
   */
  #mergedGaussian(): Item | undefined {
    if (this.#gaussianCount === 0) return undefined;
    const invSq = this.#gaussianInvSq;
    const sigma = invSq === Infinity ? 0 : 1 / Math.sqrt(invSq);
    return { base: { kind: 'gaussian', noiseMultiplier: sigma }, q: 1, count: 1, pure: Infinity };
  }

  #chooseInterval(): number {
    if (this.valueDiscretizationInterval !== 'auto') return this.valueDiscretizationInterval;
    const coarse = 1e-3;
    const widthOf = (it: Item): number => {
      if (it.width === undefined || it.width.count !== it.count) {
        it.width = { count: it.count, value: composedLossWidth(singleEventPld(it.base, it.q, 'remove', coarse), it.count) };
      }
      return it.width.value;
    };
    let width = 0;
    for (const it of this.#items) width += widthOf(it);
    const g = this.#mergedGaussian();
    if (g !== undefined) width += widthOf(g);
    return Math.min(1e-3, Math.max(1e-4, width / (1 << 17)));
  }

  /** The composed PLD of one history item in both directions. */
  static #itemPld(it: Item, h: number): { remove: DiscretePld; add: DiscretePld } {
    const r = selfCompose(singleEventPld(it.base, it.q, 'remove', h), it.count);
    // Without sampling the two directions have the same PLD (the noise is symmetric).
    const a = it.q === 1 ? r : selfCompose(singleEventPld(it.base, it.q, 'add', h), it.count);
    return { remove: r, add: a };
  }

  /**
   * The composed PLD. The history except its last item is kept composed (#prefix) on the current grid, so a new
   * event costs one or two compositions whatever the length of the history; the exact Gaussian merge, the last
   * item (whose count may still grow) and the prefix are combined on each query after a change.
   */
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
    const g = this.#mergedGaussian();
    if (this.#items.length === 0 && g === undefined) {
      this.#lastMethod = 'pld';
      return { remove: empty, add: empty };
    }
    try {
      const h = this.#chooseInterval();
      let prefix = this.#prefix;
      if (prefix === undefined || prefix.h !== h || prefix.upTo > this.#items.length - 1) {
        prefix = { h, upTo: 0, remove: undefined, add: undefined };
      }
      const join = (x: DiscretePld | undefined, y: DiscretePld): DiscretePld => (x === undefined ? y : compose(x, y));
      // Without sampling both directions share one distribution: compose it once.
      const both = (
        x: { remove: DiscretePld | undefined; add: DiscretePld | undefined },
        y: { remove: DiscretePld; add: DiscretePld },
      ): { remove: DiscretePld; add: DiscretePld } => {
        const remove = join(x.remove, y.remove);
        const add = x.remove === x.add && y.remove === y.add ? remove : join(x.add, y.add);
        return { remove, add };
      };
      for (let i = prefix.upTo; i < this.#items.length - 1; i++) {
        prefix = { h, upTo: i + 1, ...both(prefix, PldAccountant.#itemPld(this.#items[i], h)) };
      }
      this.#prefix = prefix;
      let acc: { remove: DiscretePld | undefined; add: DiscretePld | undefined } = prefix;
      const lastItem = this.#items[this.#items.length - 1];
      for (const it of [lastItem, g]) {
        if (it === undefined) continue;
        acc = both(acc, PldAccountant.#itemPld(it, h));
      }
      const { remove, add } = acc;
      if (remove === undefined || add === undefined) throw new RangeError('empty history');
      let total = remove.infinity;
      for (let k = 0; k < remove.probs.length; k++) total += remove.probs[k];
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
