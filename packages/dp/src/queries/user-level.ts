/**
 * User-level queries: count, sum and mean where the unit of privacy is a user, not a row. Each row carries a
 * `userIds` entry; each user's rows are first bounded to `maxRowsPerUser` by sampling among the user's own rows
 * (`contribution-bounds.ts`: Google's differential-privacy library and PipelineDP do the same; no user is dropped),
 * then the clamped aggregate is released with exact discrete Laplace noise calibrated to the user-level
 * sensitivity: k = maxRowsPerUser rows for a count, k max(|lower|, |upper|) for a sum, and for a mean a count
 * (sensitivity k) and a centred sum (sensitivity k (upper - lower)/2) at epsilon/2 each (Google's BoundedMean).
 * The guarantee is epsilon-DP under adding or removing one user with all of their rows; each result carries a
 * statement naming the bounds.
 * @module
 */
import { describeValue } from '@ppml/core';
import { laplaceScaleAtLeast, discreteLaplaceScale } from '../mechanisms/samplers.ts';
import { clampedMean, clampedSum } from './aggregates.ts';
import {
  BOUNDED_KEYS,
  type BoundedQueryOptions,
  checkBounds,
  checkLength,
  checkOptions,
  checkValues,
  QUERY_KEYS,
  type QueryOptions,
} from './common.ts';
import {
  boundContributions,
  type Chooser,
  checkContributionBounds,
  checkKeys,
  type ContributionBounds,
  type Key,
  sourceChooser,
} from './contribution-bounds.ts';

/**
 * Options of {@link dpUserCount}.
 * @example
 * ```ts
 * const opts: UserCountOptions = { epsilon: 0.5, maxRowsPerUser: 3 };
 * ```
 */
export interface UserCountOptions extends QueryOptions {
  /** Rows kept per user (an integer >= 1); a user's rows beyond it are sampled down. */
  readonly maxRowsPerUser: number;
}

/**
 * Options of {@link dpUserSum} and {@link dpUserMean}.
 * @example
 * ```ts
 * const opts: UserBoundedOptions = { userIds, epsilon: 0.5, maxRowsPerUser: 3, lower: 0, upper: 100 };
 * ```
 */
export interface UserBoundedOptions extends BoundedQueryOptions {
  /** The user of each value (strings or safe integers), one per value. */
  readonly userIds: ArrayLike<Key>;
  /** Rows kept per user (an integer >= 1); a user's rows beyond it are sampled down. */
  readonly maxRowsPerUser: number;
}

/**
 * A user-level release: the value, its sensitivity under adding or removing one user, and a statement.
 * @example
 * ```ts
 * const r: UserLevelResult = dpUserCount(visits.map((v) => v.patient), { epsilon: 0.5, maxRowsPerUser: 3 });
 * console.log(r.value, r.statement);
 * ```
 */
export interface UserLevelResult {
  readonly value: number;
  /** L1 sensitivity of the released aggregate under adding or removing one user (after bounding). */
  readonly sensitivity: number;
  readonly epsilon: number;
  readonly bounds: Required<ContributionBounds>;
  /** What the guarantee is and assumes, for papers and audits. */
  readonly statement: string;
}

const USER_COUNT_KEYS: readonly string[] = [...QUERY_KEYS, 'maxRowsPerUser'];
const USER_BOUNDED_KEYS: readonly string[] = [...BOUNDED_KEYS, 'userIds', 'maxRowsPerUser'];

function statementOf(what: string, epsilon: number, k: number, sensitivity: number, clamp: string): string {
  return (
    `${what}: epsilon = ${epsilon} user-level DP (neighbouring relation: add or remove one user with all of their rows); ` +
    `contribution bounds: at most ${k} row(s) per user, sampled uniformly among the user's rows (no user is dropped)` +
    `${clamp}; L1 sensitivity ${sensitivity}; exact discrete Laplace noise on a power-of-two grid`
  );
}

/** Internal: the kept values after bounding (exposed for the sensitivity tests with a per-user chooser). */
export function boundedValues(values: ArrayLike<number>, userIds: ArrayLike<Key>, k: number, choose: Chooser): Float64Array {
  const kept = boundContributions(userIds, null, k, 1, choose);
  const out = new Float64Array(kept.length);
  for (let i = 0; i < kept.length; i++) out[i] = values[kept[i]];
  return out;
}

/**
 * Noisy number of rows with at most `maxRowsPerUser` rows per user: user-level epsilon-DP with sensitivity
 * maxRowsPerUser. `userIds` holds the user of each row.
 * @example
 * ```ts
 * const visits = dpUserCount(patientOfVisit, { epsilon: 0.5, maxRowsPerUser: 4, budget });
 * visits.value; visits.statement;
 * ```
 */
export function dpUserCount(userIds: ArrayLike<Key>, options: UserCountOptions): UserLevelResult {
  const { epsilon, src, charge } = checkOptions(options, USER_COUNT_KEYS, 'user-level count');
  const [k] = checkContributionBounds(options, false);
  const n = checkLength(userIds, 'userIds');
  const ids = checkKeys('userIds', userIds, n);
  const scale = laplaceScaleAtLeast(k, epsilon);
  const kept = boundContributions(ids, null, k, 1, sourceChooser(src));
  charge();
  return {
    value: kept.length + discreteLaplaceScale(scale, src),
    sensitivity: k,
    epsilon: options.epsilon,
    bounds: { maxRowsPerUser: k, maxPartitionsPerUser: 1 },
    statement: statementOf('User-level count', options.epsilon, k, k, ''),
  };
}

function prepareBounded(
  values: ArrayLike<number>,
  options: UserBoundedOptions,
  label: string,
): { k: number; ids: ArrayLike<Key>; checked: ReturnType<typeof checkOptions> } {
  const checked = checkOptions(options, USER_BOUNDED_KEYS, label);
  checkBounds(options);
  const [k] = checkContributionBounds(options, false);
  const n = checkValues(values);
  if (options.userIds === undefined)
    throw new TypeError(`userIds must be an array of strings or safe integers, got ${describeValue(options.userIds)}`);
  const ids = checkKeys('userIds', options.userIds, n);
  return { k, ids, checked };
}

/**
 * Noisy sum of values clamped to [lower, upper] with at most `maxRowsPerUser` rows per user: user-level
 * epsilon-DP with sensitivity maxRowsPerUser max(|lower|, |upper|).
 * @example
 * ```ts
 * const spend = dpUserSum(amounts, { userIds: customerOfRow, maxRowsPerUser: 5, lower: 0, upper: 500, epsilon: 0.5 });
 * ```
 */
export function dpUserSum(values: ArrayLike<number>, options: UserBoundedOptions): UserLevelResult {
  const { k, ids, checked } = prepareBounded(values, options, 'user-level sum');
  const { lower, upper } = options;
  const sensitivity = k * Math.max(Math.abs(lower), Math.abs(upper));
  // Bounding draws which rows a user keeps (not output noise); the spend is recorded before any noise is drawn.
  const kept = boundedValues(values, ids, k, sourceChooser(checked.src));
  const result = clampedSum(kept, lower, upper, checked.epsilon, k, checked.src, checked.charge);
  return {
    value: result,
    sensitivity,
    epsilon: options.epsilon,
    bounds: { maxRowsPerUser: k, maxPartitionsPerUser: 1 },
    statement: statementOf('User-level sum', options.epsilon, k, sensitivity, `; values clamped to [${lower}, ${upper}]`),
  };
}

/**
 * Noisy mean of values clamped to [lower, upper] with at most `maxRowsPerUser` rows per user (Google's
 * BoundedMean at the user level): user-level epsilon-DP.
 * @example
 * ```ts
 * const avg = dpUserMean(glucose, { userIds: patientOfRow, maxRowsPerUser: 3, lower: 50, upper: 250, epsilon: 1 });
 * ```
 */
export function dpUserMean(values: ArrayLike<number>, options: UserBoundedOptions): UserLevelResult {
  const { k, ids, checked } = prepareBounded(values, options, 'user-level mean');
  const { lower, upper } = options;
  const kept = boundedValues(values, ids, k, sourceChooser(checked.src));
  const value = clampedMean(kept, lower, upper, checked.epsilon, k, checked.src, checked.charge);
  return {
    value,
    sensitivity: k * (upper - lower),
    epsilon: options.epsilon,
    bounds: { maxRowsPerUser: k, maxPartitionsPerUser: 1 },
    statement: statementOf(
      'User-level mean',
      options.epsilon,
      k,
      k * (upper - lower),
      `; values clamped to [${lower}, ${upper}]; a noisy count (sensitivity ${k}) and a noisy centred sum ` +
        `(sensitivity ${(k * (upper - lower)) / 2}) at epsilon/2 each`,
    ),
  };
}
