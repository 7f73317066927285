/**
 * ε of DP-SGD (Poisson-sampled Gaussian steps) with either accountant, and noise calibration: the smallest
 * noise multiplier (on Opacus's dyadic search grid) whose ε does not exceed a target. The search reproduces
 * Opacus's `get_noise_multiplier` exactly: σ_high doubles from 10 (first try 20) until ε(σ_high) <= target
 * (failing above 1e6), then bisection on [σ_low, σ_high] keeps ε(σ_high) < target until
 * target − ε(σ_high) <= epsilonTolerance; σ_high is returned, so ε(σ*) never exceeds the target.
 * @module
 */
import { assertDelta, assertFunction, assertInRange, assertOptions, assertPositive } from '@ppml/core';
import { checkConversion, checkCount, checkNoiseMultiplier, checkSampleRate } from './internal-args.ts';
import { dpSgdEvent } from './events.ts';
import type { RdpAccountant } from './rdp-accountant.ts';
import type { RdpConversion, RdpOrders } from './rdp.ts';
import { type AccountantKind, checkAccountantKind, createAccountant } from './registry.ts';

export type { AccountantKind };

/** Options of {@link computeEpsilon}. */
export interface ComputeEpsilonOptions {
  /** Noise standard deviation / L2 clipping norm (>= 0). */
  noiseMultiplier: number;
  /** Poisson sampling rate q in (0, 1] (expected batch size / dataset size). */
  sampleRate: number;
  /** Number of steps (a positive integer). */
  steps: number;
  /** δ in (0, 1). */
  delta: number;
  /** A registered accountant ('pld', 'rdp' or 'basic'). */
  accountant: AccountantKind;
  /** RDP orders (default {@link DEFAULT_RDP_ORDERS}); also used by the PLD accountant's fallback. */
  orders?: RdpOrders;
  /** RDP to (ε, δ) conversion (default 'balle2020'); ignored by 'pld'. */
  conversion?: RdpConversion;
  /** Where PLD fallback warnings go (default `process.emitWarning`). */
  onWarning?: (message: string) => void;
}

const warned = new Set<string>();

function emitWarning(message: string, onWarning: ((m: string) => void) | undefined): void {
  if (onWarning !== undefined) {
    onWarning(message);
    return;
  }
  if (warned.has(message)) return;
  warned.add(message);
  const proc = (globalThis as { process?: { emitWarning?: (m: string, o: { type: string }) => void } }).process;
  if (proc?.emitWarning) proc.emitWarning(message, { type: 'PrivacyAccountingWarning' });
  else console.warn(`PrivacyAccountingWarning: ${message}`);
}

/**
 * The warning for an optimal RDP order at the edge of the list, with what to do about it (the reported ε is a
 * valid upper bound either way; only its tightness is in question).
 * @internal
 * @example
 * ```ts
 * orderAtBoundaryAdvice(63, false); // 'the optimal RDP order 63 is the largest ... pass orders ...'
 * ```
 */
export function orderAtBoundaryAdvice(order: number, low: boolean): string {
  return low
    ? `the optimal RDP order ${order} is the smallest one tried, so epsilon (a valid upper bound) may be loose: ` +
        `pass \`orders\` that start closer to 1 (e.g. 1.01, 1.02, ... before ${order}), or use accountant 'pld'`
    : `the optimal RDP order ${order} is the largest one tried, so epsilon (a valid upper bound) may be loose: ` +
        `pass \`orders\` that extend beyond ${order} (e.g. add 128, 256, 512, 1024 as dp_accounting does), or use accountant 'pld'`;
}

const COMPUTE_EPSILON_KEYS = [
  'noiseMultiplier',
  'sampleRate',
  'steps',
  'delta',
  'accountant',
  'orders',
  'conversion',
  'onWarning',
] as const;

function epsilonOf(o: ComputeEpsilonOptions, warnAtBoundary = false): number {
  const event = dpSgdEvent({ noiseMultiplier: o.noiseMultiplier, sampleRate: o.sampleRate, steps: o.steps });
  const acc = createAccountant(o.accountant, { orders: o.orders, conversion: o.conversion, onWarning: o.onWarning }).compose(event);
  if (acc.kind === 'rdp') {
    const r = (acc as RdpAccountant).getEpsilonAndOrder(o.delta);
    if (warnAtBoundary && r.orderAtBoundary) {
      emitWarning(orderAtBoundaryAdvice(r.order, r.order === (acc as RdpAccountant).orders[0]), o.onWarning);
    }
    return r.epsilon;
  }
  return acc.getEpsilon(o.delta);
}

/**
 * ε after `steps` Poisson-sampled Gaussian steps (add-or-remove-one relation).
 * @example
 * ```ts
 * computeEpsilon({ noiseMultiplier: 1.5, sampleRate: 0.04, steps: 2250, delta: 1e-5, accountant: 'rdp' }); // 7.329...
 * ```
 */
export function computeEpsilon(options: ComputeEpsilonOptions): number {
  assertOptions('options', options, COMPUTE_EPSILON_KEYS);
  assertFunction('onWarning', options.onWarning, true);
  const { noiseMultiplier, sampleRate, steps, delta, accountant, conversion = 'balle2020' } = options;
  checkNoiseMultiplier(noiseMultiplier);
  checkSampleRate(sampleRate);
  checkCount(steps, 'steps');
  assertDelta(delta);
  checkAccountantKind(accountant);
  checkConversion(conversion);
  return epsilonOf({ ...options, conversion }, true);
}

/** Options of {@link calibrateNoiseMultiplier}. */
export interface CalibrateNoiseOptions {
  /** Target ε (finite, > 0). */
  targetEpsilon: number;
  /** δ in (0, 1). */
  delta: number;
  /** Poisson sampling rate q in (0, 1]. */
  sampleRate: number;
  /** Number of steps; give either `steps` or `epochs` (then steps = trunc(epochs / sampleRate), as Opacus). */
  steps?: number;
  /** Number of epochs (finite, > 0), used when `steps` is not given. */
  epochs?: number;
  /** A registered accountant ('pld', 'rdp' or 'basic'). */
  accountant: AccountantKind;
  /** Stop when target − ε(σ) <= epsilonTolerance (default 0.01, as Opacus). */
  epsilonTolerance?: number;
  /** RDP orders (default {@link DEFAULT_RDP_ORDERS}). */
  orders?: RdpOrders;
  /** RDP conversion (default 'balle2020'). */
  conversion?: RdpConversion;
  /** Where PLD fallback warnings go. */
  onWarning?: (message: string) => void;
}

/**
 * Largest noise multiplier tried before giving up (as Opacus's MAX_SIGMA).
 * @example
 * ```ts
 * MAX_NOISE_MULTIPLIER; // 1e6: calibrateNoiseMultiplier throws beyond it
 * ```
 */
export const MAX_NOISE_MULTIPLIER: number = 1e6;

/**
 * Largest target ε accepted by {@link calibrateNoiseMultiplier}. Beyond it the search would bisect σ towards 0
 * for a target no meaningful guarantee needs (ε = 1e6 allows probability ratios of e^1e6).
 * @example
 * ```ts
 * MAX_TARGET_EPSILON; // 1e6
 * ```
 */
export const MAX_TARGET_EPSILON: number = 1e6;

/** Bisection steps before the search stops (σ_high is then within 20·2^-200 of the bracket; always a valid answer). */
const MAX_BISECTION_STEPS = 200;

/**
 * The noise multiplier σ* of Opacus's `get_noise_multiplier` search: ε(σ*) <= targetEpsilon always, and
 * targetEpsilon − ε(σ*) <= epsilonTolerance. Throws a RangeError when even σ = 1e6 exceeds the target.
 * @example
 * ```ts
 * calibrateNoiseMultiplier({ targetEpsilon: 8, delta: 1e-5, sampleRate: 0.04, steps: 2000, accountant: 'rdp' }); // 1.3562...
 * ```
 */
export function calibrateNoiseMultiplier(options: CalibrateNoiseOptions): number {
  assertOptions('options', options, [
    'targetEpsilon',
    'delta',
    'sampleRate',
    'steps',
    'epochs',
    'accountant',
    'epsilonTolerance',
    'orders',
    'conversion',
    'onWarning',
  ]);
  assertFunction('onWarning', options.onWarning, true);
  const { targetEpsilon, delta, sampleRate, accountant, epsilonTolerance = 0.01, conversion = 'balle2020' } = options;
  assertInRange('targetEpsilon', targetEpsilon, 0, MAX_TARGET_EPSILON, { minInclusive: false });
  assertDelta(delta);
  checkSampleRate(sampleRate);
  checkAccountantKind(accountant);
  assertPositive('epsilonTolerance', epsilonTolerance);
  checkConversion(conversion);
  let steps: number;
  if (options.steps !== undefined) {
    checkCount(options.steps, 'steps');
    if (options.epochs !== undefined) throw new TypeError('give either steps or epochs, not both');
    steps = options.steps;
  } else {
    if (options.epochs === undefined) throw new TypeError('steps must be a positive integer (or give epochs), got undefined');
    assertPositive('epochs', options.epochs);
    steps = Math.trunc(options.epochs / sampleRate);
    checkCount(steps, 'steps (trunc(epochs / sampleRate))');
  }
  const eps = (sigma: number): number =>
    epsilonOf({
      noiseMultiplier: sigma,
      sampleRate,
      steps,
      delta,
      accountant,
      orders: options.orders,
      conversion,
      onWarning: options.onWarning,
    });
  let sigmaLow = 0;
  let sigmaHigh = 10;
  let epsHigh = Infinity;
  while (epsHigh > targetEpsilon) {
    sigmaHigh *= 2;
    epsHigh = eps(sigmaHigh);
    if (sigmaHigh > MAX_NOISE_MULTIPLIER) {
      throw new RangeError(
        `targetEpsilon ${targetEpsilon} is not reachable with noise multipliers up to ${MAX_NOISE_MULTIPLIER} ` +
          `(epsilon at ${sigmaHigh} is ${epsHigh}); raise targetEpsilon or delta, or lower steps or sampleRate`,
      );
    }
  }
  for (let it = 0; it < MAX_BISECTION_STEPS && targetEpsilon - epsHigh > epsilonTolerance; it++) {
    const sigma = (sigmaLow + sigmaHigh) / 2;
    const e = eps(sigma);
    if (e < targetEpsilon) {
      sigmaHigh = sigma;
      epsHigh = e;
    } else {
      sigmaLow = sigma;
    }
    if (sigmaHigh - sigmaLow < 1e-12 * sigmaHigh) break;
  }
  return sigmaHigh;
}
