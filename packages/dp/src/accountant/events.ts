/**
 * Privacy events in the spirit of Google's `dp_accounting` `DpEvent`s: a small algebra describing what was
 * released, independent of how it is accounted. Leaves are the Gaussian and Laplace mechanisms (parametrized by
 * their noise multiplier: noise scale divided by sensitivity), randomized response, the exponential mechanism
 * and mechanisms known only by an (ε, δ) guarantee; wrappers are Poisson sampling, sampling without
 * replacement, composition of a list and self-composition. Any accountant ({@link RdpAccountant},
 * {@link PldAccountant}) consumes the same events.
 * @module
 */
import { assertInRange, assertInteger, assertNonNegative, assertOptions, describeValue } from '@ppml/core';
import { checkCount, checkNoiseMultiplier, checkSampleRate } from './internal-args.ts';

/** The Gaussian mechanism with noise standard deviation `noiseMultiplier` × L2 sensitivity. */
export interface GaussianEvent {
  readonly kind: 'gaussian';
  readonly noiseMultiplier: number;
}

/** The Laplace mechanism with scale `noiseMultiplier` × L1 sensitivity (pure ε = 1/noiseMultiplier). */
export interface LaplaceEvent {
  readonly kind: 'laplace';
  readonly noiseMultiplier: number;
}

/**
 * A mechanism known only by its (ε, δ) guarantee (`dp_accounting`'s `EpsilonDeltaDpEvent`): pure DP when δ = 0.
 * Accountants use its worst case, the (ε, δ) privacy region of Kairouz, Oh, Viswanath 2015 (Thm 2.4): the
 * four-output pair whose privacy loss is +∞ with mass δ, ε with mass (1 − δ)e^ε/(1 + e^ε) and −ε with mass
 * (1 − δ)/(1 + e^ε). Every (ε, δ)-DP mechanism is a post-processing of it, so accounting it is always valid.
 */
export interface EpsilonDeltaEvent {
  readonly kind: 'epsilonDelta';
  readonly epsilon: number;
  readonly delta: number;
}

/**
 * k-ary randomized response as `dp_accounting`'s `RandomizedResponseDpEvent`: with probability
 * `noiseParameter` the output is uniform over `buckets` values, otherwise it is the true value (replace-one on
 * the respondent's value). Pure DP with ε = ln(1 + k(1 − p)/p).
 */
export interface RandomizedResponseEvent {
  readonly kind: 'randomizedResponse';
  readonly noiseParameter: number;
  readonly buckets: number;
}

/**
 * The exponential mechanism at privacy parameter ε (scores of sensitivity Δ weighted by ε/(2Δ), or ε/Δ for
 * monotonic scores). It is ε-bounded-range (Durfee & Rogers 2019), which RDP exploits exactly (Cesar & Rogers
 * 2021); the PLD accountant uses its pure ε-DP pair (valid, not BR-tight).
 */
export interface ExponentialMechanismEvent {
  readonly kind: 'exponential';
  readonly epsilon: number;
}

/** `event` run on a Poisson sample: each example included independently with probability `sampleRate`. */
export interface PoissonSampledEvent {
  readonly kind: 'poissonSampled';
  readonly sampleRate: number;
  readonly event: DpEvent;
}

/** `event` run on `sampleSize` examples drawn uniformly without replacement from `datasetSize` (replace-one). */
export interface SampledWithoutReplacementEvent {
  readonly kind: 'sampledWithoutReplacement';
  readonly datasetSize: number;
  readonly sampleSize: number;
  readonly event: DpEvent;
}

/** Sequential composition of different events. */
export interface ComposedEvent {
  readonly kind: 'composed';
  readonly events: readonly DpEvent[];
}

/** `count`-fold composition of the same event. */
export interface SelfComposedEvent {
  readonly kind: 'selfComposed';
  readonly event: DpEvent;
  readonly count: number;
}

/** A privacy event. */
export type DpEvent =
  | GaussianEvent
  | LaplaceEvent
  | EpsilonDeltaEvent
  | RandomizedResponseEvent
  | ExponentialMechanismEvent
  | PoissonSampledEvent
  | SampledWithoutReplacementEvent
  | ComposedEvent
  | SelfComposedEvent;

/**
 * A Gaussian mechanism event.
 * @example
 * ```ts
 * const e = gaussianEvent(1.1);
 * ```
 */
export function gaussianEvent(noiseMultiplier: number): GaussianEvent {
  checkNoiseMultiplier(noiseMultiplier);
  return Object.freeze({ kind: 'gaussian', noiseMultiplier });
}

/**
 * A Laplace mechanism event (noise multiplier = scale / L1 sensitivity = 1/ε).
 * @example
 * ```ts
 * const e = laplaceEvent(2); // ε = 0.5
 * ```
 */
export function laplaceEvent(noiseMultiplier: number): LaplaceEvent {
  checkNoiseMultiplier(noiseMultiplier);
  return Object.freeze({ kind: 'laplace', noiseMultiplier });
}

function checkEventEpsilon(x: unknown, name: string): asserts x is number {
  assertNonNegative(name, x);
}

/**
 * An (ε, δ) event: a mechanism known only by its guarantee (pure DP when δ = 0).
 * @example
 * ```ts
 * const e = epsilonDeltaEvent(0.5, 1e-7);
 * const pure = epsilonDeltaEvent(1); // δ = 0
 * ```
 */
export function epsilonDeltaEvent(epsilon: number, delta = 0): EpsilonDeltaEvent {
  checkEventEpsilon(epsilon, 'epsilon');
  assertInRange('delta', delta, 0, 1, { maxInclusive: false });
  return Object.freeze({ kind: 'epsilonDelta', epsilon, delta });
}

/**
 * A k-ary randomized-response event (probability `noiseParameter` of a uniform answer over `buckets` values).
 * @example
 * ```ts
 * const e = randomizedResponseEvent({ noiseParameter: 0.5, buckets: 2 }); // ε = ln 3
 * ```
 */
export function randomizedResponseEvent(options: { noiseParameter: number; buckets: number }): RandomizedResponseEvent {
  assertOptions('options', options, ['noiseParameter', 'buckets']);
  const { noiseParameter, buckets } = options;
  assertInRange('noiseParameter', noiseParameter, 0, 1);
  assertInteger('buckets', buckets, 2);
  return Object.freeze({ kind: 'randomizedResponse', noiseParameter, buckets });
}

/**
 * An exponential-mechanism event at privacy parameter ε (ε-DP and ε-bounded-range).
 * @example
 * ```ts
 * const e = exponentialMechanismEvent(0.5);
 * ```
 */
export function exponentialMechanismEvent(epsilon: number): ExponentialMechanismEvent {
  checkEventEpsilon(epsilon, 'epsilon');
  return Object.freeze({ kind: 'exponential', epsilon });
}

/**
 * The pure ε of an event that is pure DP on its own (Laplace, pure (ε, 0), randomized response, exponential
 * mechanism), or undefined. ε = ∞ for a Laplace event without noise.
 * @example
 * ```ts
 * pureEpsilonOf(randomizedResponseEvent({ noiseParameter: 0.5, buckets: 2 })); // ln 3
 * ```
 */
export function pureEpsilonOf(event: DpEvent): number | undefined {
  validateEvent(event);
  switch (event.kind) {
    case 'laplace':
      return event.noiseMultiplier === 0 ? Infinity : 1 / event.noiseMultiplier;
    case 'epsilonDelta':
      return event.delta === 0 ? event.epsilon : undefined;
    case 'randomizedResponse': {
      const { noiseParameter: p, buckets: k } = event;
      return p === 0 ? Infinity : Math.log1p((k * (1 - p)) / p);
    }
    case 'exponential':
      return event.epsilon;
    default:
      return undefined;
  }
}

/**
 * A Poisson-sampled event (add-or-remove-one relation).
 * @example
 * ```ts
 * const step = poissonSampledEvent(0.01, gaussianEvent(1.1));
 * ```
 */
export function poissonSampledEvent(sampleRate: number, event: DpEvent): PoissonSampledEvent {
  checkSampleRate(sampleRate, 'sampleRate', true);
  validateEvent(event);
  return Object.freeze({ kind: 'poissonSampled', sampleRate, event });
}

/**
 * An event run on a fixed-size batch drawn without replacement (replace-one relation).
 * @example
 * ```ts
 * const step = sampledWithoutReplacementEvent({ datasetSize: 60000, sampleSize: 256 }, gaussianEvent(1));
 * ```
 */
export function sampledWithoutReplacementEvent(
  options: { datasetSize: number; sampleSize: number },
  event: DpEvent,
): SampledWithoutReplacementEvent {
  assertOptions('options', options, ['datasetSize', 'sampleSize']);
  const { datasetSize, sampleSize } = options;
  assertInteger('datasetSize', datasetSize, 1);
  assertInteger('sampleSize', sampleSize, 0, datasetSize);
  validateEvent(event);
  return Object.freeze({ kind: 'sampledWithoutReplacement', datasetSize, sampleSize, event });
}

/**
 * Composition of a list of events.
 * @example
 * ```ts
 * const e = composedEvent([gaussianEvent(1), laplaceEvent(2)]);
 * ```
 */
export function composedEvent(events: readonly DpEvent[]): ComposedEvent {
  if (!Array.isArray(events)) throw new TypeError(`events must be an array of events, got ${describeValue(events)}`);
  events.forEach((e: unknown, i: number) => {
    validateEvent(e, `events[${i}]`);
  });
  return Object.freeze({ kind: 'composed', events: Object.freeze([...events]) });
}

/**
 * `count`-fold self-composition.
 * @example
 * ```ts
 * const training = selfComposedEvent(poissonSampledEvent(0.01, gaussianEvent(1.1)), 10_000);
 * ```
 */
export function selfComposedEvent(event: DpEvent, count: number): SelfComposedEvent {
  validateEvent(event);
  checkCount(count, 'count');
  return Object.freeze({ kind: 'selfComposed', event, count });
}

/**
 * The event of DP-SGD: `steps` Poisson-sampled Gaussian steps.
 * @example
 * ```ts
 * const e = dpSgdEvent({ noiseMultiplier: 1.1, sampleRate: 256 / 60000, steps: 2340 });
 * ```
 */
export function dpSgdEvent(options: { noiseMultiplier: number; sampleRate: number; steps: number }): SelfComposedEvent {
  assertOptions('options', options, ['noiseMultiplier', 'sampleRate', 'steps']);
  const { noiseMultiplier, sampleRate, steps } = options;
  checkNoiseMultiplier(noiseMultiplier);
  checkSampleRate(sampleRate);
  checkCount(steps, 'steps');
  return selfComposedEvent(poissonSampledEvent(sampleRate, gaussianEvent(noiseMultiplier)), steps);
}

/** The fields each kind of event has (`kind` included). */
const EVENT_KEYS: Readonly<Record<string, readonly string[] | undefined>> = {
  gaussian: ['kind', 'noiseMultiplier'],
  laplace: ['kind', 'noiseMultiplier'],
  epsilonDelta: ['kind', 'epsilon', 'delta'],
  randomizedResponse: ['kind', 'noiseParameter', 'buckets'],
  exponential: ['kind', 'epsilon'],
  poissonSampled: ['kind', 'sampleRate', 'event'],
  sampledWithoutReplacement: ['kind', 'datasetSize', 'sampleSize', 'event'],
  composed: ['kind', 'events'],
  selfComposed: ['kind', 'event', 'count'],
};

/**
 * Checks an event tree (plain objects are accepted, e.g. parsed from JSON); throws TypeError/RangeError naming
 * the offending field.
 * @example
 * ```ts
 * validateEvent({ kind: 'gaussian', noiseMultiplier: 1 });
 * ```
 */
export function validateEvent(event: unknown, path = 'event'): asserts event is DpEvent {
  if (event === null || typeof event !== 'object') {
    throw new TypeError(`${path} must be a privacy event object, got ${describeValue(event)}`);
  }
  const e = event as { kind?: unknown } & Record<string, unknown>;
  // A key the kind does not define is refused: in a tree parsed from JSON a misspelt field (`sampleRAte`) would
  // otherwise be ignored and the event accounted as something other than what the user described.
  const keys = typeof e.kind === 'string' ? EVENT_KEYS[e.kind] : undefined;
  if (keys !== undefined) assertOptions(path, e, keys);
  switch (e.kind) {
    case 'gaussian':
    case 'laplace':
      checkNoiseMultiplier(e.noiseMultiplier, `${path}.noiseMultiplier`);
      return;
    case 'epsilonDelta':
      checkEventEpsilon(e.epsilon, `${path}.epsilon`);
      assertInRange(`${path}.delta`, e.delta, 0, 1, { maxInclusive: false });
      return;
    case 'randomizedResponse':
      assertInRange(`${path}.noiseParameter`, e.noiseParameter, 0, 1);
      assertInteger(`${path}.buckets`, e.buckets, 2);
      return;
    case 'exponential':
      checkEventEpsilon(e.epsilon, `${path}.epsilon`);
      return;
    case 'poissonSampled':
      checkSampleRate(e.sampleRate, `${path}.sampleRate`, true);
      validateEvent(e.event, `${path}.event`);
      return;
    case 'sampledWithoutReplacement':
      assertInteger(`${path}.datasetSize`, e.datasetSize, 1);
      assertInteger(`${path}.sampleSize`, e.sampleSize, 0, e.datasetSize as number);
      validateEvent(e.event, `${path}.event`);
      return;
    case 'composed':
      if (!Array.isArray(e.events)) {
        throw new TypeError(`${path}.events must be an array of events, got ${describeValue(e.events)}`);
      }
      e.events.forEach((x: unknown, i: number) => {
        validateEvent(x, `${path}.events[${i}]`);
      });
      return;
    case 'selfComposed':
      validateEvent(e.event, `${path}.event`);
      checkCount(e.count, `${path}.count`);
      return;
    default:
      throw new RangeError(
        `${path}.kind must be one of 'gaussian', 'laplace', 'epsilonDelta', 'randomizedResponse', 'exponential', ` +
          `'poissonSampled', 'sampledWithoutReplacement', ` +
          `'composed', 'selfComposed', got ${describeValue(e.kind)}`,
      );
  }
}

/**
 * Effective noise multiplier of a tree of composed Gaussians (Σσ_i^{-2})^{-1/2}, or undefined if the tree holds
 * anything else (a composition of Gaussians on the same data is one Gaussian; Mironov, Talwar, Zhang 2019 §3).
 * The tree is checked first ({@link validateEvent}), so a malformed event is a TypeError/RangeError naming the
 * field, not a wrong multiplier.
 * @example
 * ```ts
 * effectiveGaussianNoiseMultiplier(composedEvent([gaussianEvent(1), gaussianEvent(1)])); // 0.7071...
 * ```
 */
export function effectiveGaussianNoiseMultiplier(event: DpEvent): number | undefined {
  validateEvent(event);
  const invSq = gaussianInvSq(event);
  if (invSq === undefined) return undefined;
  return invSq === Infinity ? 0 : invSq === 0 ? Infinity : 1 / Math.sqrt(invSq);
}

function gaussianInvSq(event: DpEvent): number | undefined {
  switch (event.kind) {
    case 'gaussian':
      return event.noiseMultiplier === 0 ? Infinity : event.noiseMultiplier ** -2;
    case 'composed': {
      let s = 0;
      for (const e of event.events) {
        const v = gaussianInvSq(e);
        if (v === undefined) return undefined;
        s += v;
      }
      return s;
    }
    case 'selfComposed': {
      const v = gaussianInvSq(event.event);
      return v === undefined ? undefined : v * event.count;
    }
    default:
      return undefined;
  }
}
