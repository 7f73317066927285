/**
 * Noise calibration for queries, as `dp_accounting`'s `calibrate_dp_mechanism` (`dp_accounting/mechanism_calibration.py`):
 * the smallest noise parameter x such that `count` compositions of the event made from x, optionally Poisson
 * sampled, are (targetEpsilon, targetDelta)-DP under the chosen accountant. ε(x) decreases in x, so the search
 * brackets x by doubling or halving from 1 and then bisects on ln x until the bracket is within `tolerance`
 * (relative); it returns the upper end, whose ε never exceeds the target. Wrappers give the Laplace scale and
 * the Gaussian standard deviation per unit of sensitivity.
 * @module
 */
import { assertDelta, assertFunction, assertInRange, assertOptions, assertPositive } from '@ppml/core';
import { type DpEvent, gaussianEvent, laplaceEvent, poissonSampledEvent } from './events.ts';
import { checkCount, checkSampleRate } from './internal-args.ts';
import { type AccountantKind, type AccountantOptions, checkAccountantKind, createAccountant } from './registry.ts';

/**
 * Options of {@link calibrateGaussianNoise} and {@link calibrateLaplaceNoise}.
 * @example
 * ```ts
 * const o: QueryNoiseOptions = { targetEpsilon: 1, targetDelta: 1e-6, count: 100, accountant: 'pld' };
 * ```
 */
export interface QueryNoiseOptions extends AccountantOptions {
  /** Target ε (finite, > 0). */
  targetEpsilon: number;
  /** Target δ in (0, 1). */
  targetDelta: number;
  /** Number of compositions (default 1). */
  count?: number;
  /** Poisson sampling rate of each composition in (0, 1] (default 1: no sampling). */
  sampleRate?: number;
  /** Default 'pld'. */
  accountant?: AccountantKind;
  /** Relative width of the final bracket (default 1e-3; at least 1e-12). */
  tolerance?: number;
}

/**
 * Options of {@link calibrateNoise}: {@link QueryNoiseOptions} plus the event made from the noise parameter.
 * @example
 * ```ts
 * const o: CalibrateNoiseParameterOptions = { targetEpsilon: 1, targetDelta: 1e-6, event: (x) => gaussianEvent(x) };
 * ```
 */
export interface CalibrateNoiseParameterOptions extends QueryNoiseOptions {
  /** The event of one composition at noise parameter x (more noise for larger x). */
  event: (x: number) => DpEvent;
}

const QUERY_KEYS = [
  'targetEpsilon',
  'targetDelta',
  'count',
  'sampleRate',
  'accountant',
  'tolerance',
  'orders',
  'conversion',
  'neighboringRelation',
  'valueDiscretizationInterval',
  'onWarning',
] as const;

/** Smallest and largest noise parameters tried. */
const MIN_PARAMETER = 1e-12;
const MAX_PARAMETER = 1e12;

function search(options: CalibrateNoiseParameterOptions): number {
  const { targetEpsilon, targetDelta, count = 1, sampleRate = 1, accountant = 'pld', tolerance = 1e-3 } = options;
  assertInRange('targetEpsilon', targetEpsilon, 0, 1e6, { minInclusive: false });
  assertDelta(targetDelta, 'targetDelta');
  checkCount(count, 'count');
  checkSampleRate(sampleRate);
  checkAccountantKind(accountant);
  assertInRange('tolerance', tolerance, 1e-12, 1);
  assertFunction('event', options.event);
  const accountantOptions: AccountantOptions = {
    orders: options.orders,
    conversion: options.conversion,
    neighboringRelation: options.neighboringRelation,
    valueDiscretizationInterval: options.valueDiscretizationInterval,
    onWarning: options.onWarning,
  };
  const epsilonAt = (x: number): number => {
    const one = options.event(x);
    const event = sampleRate === 1 ? one : poissonSampledEvent(sampleRate, one);
    return createAccountant(accountant, accountantOptions).compose(event, count).getEpsilon(targetDelta);
  };
  let lo: number;
  let hi: number;
  if (epsilonAt(1) <= targetEpsilon) {
    hi = 1;
    lo = 0.5;
    while (epsilonAt(lo) <= targetEpsilon) {
      hi = lo;
      lo /= 2;
      if (lo < MIN_PARAMETER) return hi;
    }
  } else {
    lo = 1;
    hi = 2;
    while (!(epsilonAt(hi) <= targetEpsilon)) {
      lo = hi;
      hi *= 2;
      if (hi > MAX_PARAMETER) {
        throw new RangeError(
          `targetEpsilon ${targetEpsilon} at targetDelta ${targetDelta} is not reachable with noise parameters up to ` +
            `${MAX_PARAMETER}; raise the targets or lower count or sampleRate`,
        );
      }
    }
  }
  for (let i = 0; i < 200 && hi / lo - 1 > tolerance; i++) {
    const mid = Math.sqrt(lo * hi);
    if (epsilonAt(mid) <= targetEpsilon) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The smallest noise parameter x (within `tolerance`) whose event, composed `count` times (Poisson sampled
 * at `sampleRate` when given), meets (targetEpsilon, targetDelta) under the accountant.
 * @example
 * ```ts
 * calibrateNoise({ targetEpsilon: 1, targetDelta: 1e-6, count: 10, event: (b) => laplaceEvent(b) });
 * ```
 */
export function calibrateNoise(options: CalibrateNoiseParameterOptions): number {
  assertOptions('options', options, [...QUERY_KEYS, 'event']);
  return search(options);
}

/**
 * The smallest Gaussian noise multiplier σ (standard deviation / L2 sensitivity) such that `count` Gaussian
 * queries (Poisson sampled at `sampleRate` if given) are (targetEpsilon, targetDelta)-DP under the accountant.
 * @example
 * ```ts
 * calibrateGaussianNoise({ targetEpsilon: 1, targetDelta: 1e-6, count: 100 }); // about 46 (PLD)
 * ```
 */
export function calibrateGaussianNoise(options: QueryNoiseOptions): number {
  assertOptions('options', options, QUERY_KEYS);
  return search({ ...options, event: (x) => gaussianEvent(x) });
}

/**
 * The smallest Laplace noise multiplier b (scale / L1 sensitivity) such that `count` Laplace queries (Poisson
 * sampled at `sampleRate` if given) are (targetEpsilon, targetDelta)-DP under the accountant. (For δ = 0 the
 * answer is count / targetEpsilon without sampling: pure DP composes additively.)
 * @example
 * ```ts
 * calibrateLaplaceNoise({ targetEpsilon: 1, targetDelta: 1e-6, count: 100 }); // below 100 (basic: 100)
 * ```
 */
export function calibrateLaplaceNoise(options: QueryNoiseOptions): number {
  assertOptions('options', options, QUERY_KEYS);
  assertPositive('targetEpsilon', options.targetEpsilon);
  return search({ ...options, event: (x) => laplaceEvent(x) });
}
