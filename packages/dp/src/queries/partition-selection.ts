/**
 * Partition selection: which keys (diagnosis codes, merchant ids, ...) of a group-by or histogram over keys not
 * known in advance may be released at all. Releasing every key present in the data leaks: a key held by one user
 * reveals that user. A key is therefore kept at random, with a probability that depends on its number of users, so
 * that the set of released keys is (epsilon, delta)-DP under adding or removing one user (who contributes to at most
 * `maxPartitionsPerUser` keys after bounding, see `contribution-bounds.ts`). Two rules:
 * - 'optimal' (default): the truncated-geometric keep probability of Desfontaines, Voss, Gipson, Mandayam, "Differentially
 *   private partition selection" (PoPETs 2022, arXiv 2006.03684, Thm. 1), the largest keep probability for every
 *   user count that the (epsilon, delta) constraints allow for one partition per user; with m partitions per user it
 *   runs at epsilon/m and delta' = 1 - (1 - delta)^(1/m) per partition, as Google's `PreaggPartitionSelection`
 *   (`cc/algorithms/partition-selection.h`). The keep decision is a Bernoulli draw against the keep probability,
 *   computed in floating point and scaled down by 2^-40 relative (which keeps both DP constraints) so that rounding
 *   can never raise it above the true bound.
 * - 'laplace': the noisy user count (exact discrete Laplace noise of scale m/epsilon on the integer count) is compared
 *   with an integer threshold tau, the smallest for which one user's partitions are released with probability at
 *   most delta: 1 - (1 - P[1 + Z >= tau])^m <= delta (Google's `LaplacePartitionSelection`, with the tail of the
 *   discrete instead of the continuous Laplace distribution). Its noisy counts are epsilon-DP as well.
 * - 'gaussian': the noisy user count with Gaussian noise is compared with a threshold (Google's
 *   `GaussianPartitionSelection`, `cc/algorithms/partition-selection.h`): delta is split evenly between the noise
 *   and the threshold. The noise has the analytic-Gaussian sigma (Balle & Wang 2018, Thm. 8) for (epsilon, delta/2)
 *   and L2 sensitivity sqrt(m) (one user adds 1 to at most m counts), drawn as the exact discrete Gaussian on the
 *   power-of-two grid g = 2^ceil(log2(sigma / 2^30)) with sigma inflated by 1 + 2^-20, as `gaussianMechanism` does
 *   (the counts are integers, hence on the grid, so no rounding is charged). The threshold tau (a grid point) is the
 *   smallest for which a key held by one user only is released with probability at most delta/2 over that user's
 *   m keys: 1 - (1 - P[1 + N >= tau])^m <= delta/2 (with a 1e-6 relative margin for the grid). The selection is
 *   then (epsilon, delta)-DP: the noisy counts of keys present in both neighbours are (epsilon, delta/2)-DP, and a
 *   key present in one only is released with probability at most delta/2. Gaussian noise suits large m: its
 *   scale grows as sqrt(m) where Laplace noise grows as m.
 * @module
 */
import { assertDelta, assertEpsilon, assertInteger, assertOptions, cryptoRng, describeValue, type Rng } from '@ppml/core';
import { type DpEvent, epsilonDeltaEvent } from '../accountant/events.ts';
import { decimalFloor } from '../mechanisms/decimal.ts';
import { analyticGaussianSigma } from '../mechanisms/calibration.ts';
import { gaussianGranularity } from '../mechanisms/granularity.ts';
import { DiscreteGaussianSampler, discreteLaplaceScale, laplaceScaleAtLeast, sourceOf } from '../mechanisms/samplers.ts';
import { normalSf } from '../special.ts';
import type { WordSource } from '../mechanisms/words.ts';
import { PrivacyBudget } from './budget.ts';
import { chargeQuery, checkLength } from './common.ts';
import { boundContributions, checkKeys, type Key, sourceChooser } from './contribution-bounds.ts';

/**
 * How partitions are selected: 'optimal' (truncated geometric, DVGM 2022), 'laplace' or 'gaussian' (noisy-count
 * thresholding).
 * @example
 * ```ts
 * const method: PartitionSelectionMethod = 'optimal';
 * ```
 */
export type PartitionSelectionMethod = 'optimal' | 'laplace' | 'gaussian';

const METHODS: readonly PartitionSelectionMethod[] = ['optimal', 'laplace', 'gaussian'];

/**
 * Parameters of a partition selection rule.
 * @example
 * ```ts
 * const p: PartitionSelectionParameters = { epsilon: 1, delta: 1e-6, maxPartitionsPerUser: 1 };
 * ```
 */
export interface PartitionSelectionParameters {
  readonly epsilon: number;
  /** delta in (0, 1): the probability of releasing a key held by one user only (over all of their keys). */
  readonly delta: number;
  /** Keys one user contributes to (after bounding), an integer >= 1; default 1. */
  readonly maxPartitionsPerUser?: number;
}

const PARAM_KEYS = ['epsilon', 'delta', 'maxPartitionsPerUser'] as const;

function checkParameters(p: PartitionSelectionParameters): { epsilon: number; delta: number; m: number } {
  assertOptions('options', p, PARAM_KEYS);
  assertEpsilon(p.epsilon);
  assertDelta(p.delta);
  const m = p.maxPartitionsPerUser ?? 1;
  assertInteger('maxPartitionsPerUser', m, 1, 2 ** 32 - 1);
  return { epsilon: p.epsilon, delta: p.delta, m };
}

/** Per-partition delta for m partitions per user: 1 - (1 - delta)^(1/m), computed stably. */
function adjustedDelta(delta: number, m: number): number {
  return -Math.expm1(Math.log1p(-delta) / m);
}

/**
 * The optimal keep probability for a key with `users` users (DVGM 2022, Thm. 1; Google's
 * `PreaggPartitionSelection::ProbabilityOfKeep`), before the 2^-40 safety scaling that the selection applies.
 * @example
 * ```ts
 * optimalKeepProbability(6, { epsilon: 0.5, delta: 0.02 }); // 0.58840484458...
 * ```
 */
export function optimalKeepProbability(users: number, parameters: PartitionSelectionParameters): number {
  const { epsilon, delta, m } = checkParameters(parameters);
  assertInteger('users', users, 0);
  return keepProbability(users, epsilon / m, adjustedDelta(delta, m));
}

function keepProbability(n: number, eps: number, delta: number): number {
  if (n === 0) return 0;
  // crossovers (Google's partition-selection.h): n1 ends the geometric growth, n2 the phase that approaches 1
  const n1 = 1 + Math.floor(Math.log1p(Math.tanh(eps / 2) * (1 / delta - 1)) / eps);
  const p1 = (Math.expm1(n1 * eps) / Math.expm1(eps)) * delta;
  if (n <= n1) return Math.min(1, (Math.expm1(n * eps) / Math.expm1(eps)) * delta);
  const n2 = n1 + Math.floor((1 / eps) * Math.log1p((Math.expm1(eps) / delta) * (1 - p1)));
  if (n > n2) return 1;
  return Math.min(1, p1 - (1 - p1 + delta / Math.expm1(eps)) * Math.expm1(-(n - n1) * eps));
}

/** P[Z >= j] for Z discrete Laplace with P(z) proportional to exp(-|z|/b). */
function discreteLaplaceTail(j: number, b: number): number {
  const r = Math.exp(-1 / b);
  if (j >= 1) return Math.exp(-j / b) / (1 + r);
  return 1 - Math.exp(-(1 - j) / b) / (1 + r);
}

/**
 * The delta of Laplace thresholding: the probability that one user's keys (held by nobody else) are released, for
 * integer threshold `threshold` and discrete Laplace scale `scale` on each key's user count.
 * @example
 * ```ts
 * laplaceSelectionDelta(10, 2, 1); // P[1 + Z >= 10] for one key
 * ```
 */
export function laplaceSelectionDelta(threshold: number, scale: number, maxPartitionsPerUser = 1): number {
  assertInteger('threshold', threshold, -(2 ** 52), 2 ** 52);
  if (!(typeof scale === 'number' && scale > 0 && Number.isFinite(scale))) {
    throw new RangeError(`scale must be a finite number > 0, got ${describeValue(scale)}`);
  }
  assertInteger('maxPartitionsPerUser', maxPartitionsPerUser, 1, 2 ** 32 - 1);
  const p = discreteLaplaceTail(threshold - 1, scale);
  return -Math.expm1(maxPartitionsPerUser * Math.log1p(-Math.min(p, 1 - 2 ** -53)));
}

/**
 * Laplace thresholding: the discrete Laplace scale m/epsilon (at least, exactly) and the smallest integer threshold
 * whose delta ({@link laplaceSelectionDelta}) is at most `delta` (with a 1e-9 relative margin for rounding).
 * @example
 * ```ts
 * const { scale, threshold } = laplaceSelectionThreshold({ epsilon: Math.log(3), delta: 1e-8 });
 * ```
 */
export function laplaceSelectionThreshold(parameters: PartitionSelectionParameters): { scale: number; threshold: number } {
  const { epsilon, delta, m } = checkParameters(parameters);
  const scale = laplaceScaleAtLeast(m, decimalFloor(epsilon));
  // start below the continuous-Laplace threshold 1 - b ln(2 delta') and walk up
  let t = Math.floor(1 - scale * Math.log(2 * adjustedDelta(delta, m))) - 2;
  if (!Number.isFinite(t) || t > 2 ** 52) throw new RangeError(`epsilon=${epsilon} and delta=${delta} need a threshold beyond 2^52`);
  while (laplaceSelectionDelta(t, scale, m) * (1 + 1e-9) > delta) t++;
  while (t > -(2 ** 52) && laplaceSelectionDelta(t - 1, scale, m) * (1 + 1e-9) <= delta) t--;
  return { scale, threshold: t };
}

/**
 * The delta of Gaussian thresholding: the probability that one user's keys (held by nobody else) are released, for
 * threshold `threshold` and Gaussian noise of standard deviation `sigma` on each key's user count:
 * 1 - (1 - P[1 + N(0, sigma^2) >= threshold])^m.
 * @example
 * ```ts
 * gaussianSelectionDelta(20, 4, 1); // P[N(0, 16) >= 19], about 1e-6
 * ```
 */
export function gaussianSelectionDelta(threshold: number, sigma: number, maxPartitionsPerUser = 1): number {
  if (!(typeof threshold === 'number' && Number.isFinite(threshold))) {
    throw new RangeError(`threshold must be a finite number, got ${describeValue(threshold)}`);
  }
  if (!(typeof sigma === 'number' && sigma > 0 && Number.isFinite(sigma))) {
    throw new RangeError(`sigma must be a finite number > 0, got ${describeValue(sigma)}`);
  }
  assertInteger('maxPartitionsPerUser', maxPartitionsPerUser, 1, 2 ** 32 - 1);
  const p = normalSf((threshold - 1) / sigma);
  return -Math.expm1(maxPartitionsPerUser * Math.log1p(-Math.min(p, 1 - 2 ** -53)));
}

/** Relative margin on the threshold's delta covering the grid (discrete versus continuous tail, about 1e-8). */
const GAUSSIAN_TAIL_MARGIN = 1 + 1e-6;
/** Inflation of sigma covering the discrete-versus-continuous privacy loss, as in `gaussianMechanism`. */
const GAUSSIAN_DISCRETE_SLACK = 1 + 2 ** -20;

/**
 * Gaussian thresholding: the noise standard deviation `sigma` (analytic Gaussian for epsilon, delta/2 and L2
 * sensitivity sqrt(m), inflated by 1 + 2^-20 and expressed on the grid `granularity`) and the smallest threshold on
 * that grid whose delta ({@link gaussianSelectionDelta}) is at most delta/2 (with a 1e-6 relative margin).
 * @example
 * ```ts
 * const { sigma, threshold } = gaussianSelectionThreshold({ epsilon: 1, delta: 1e-6, maxPartitionsPerUser: 4 });
 * ```
 */
export function gaussianSelectionThreshold(parameters: PartitionSelectionParameters): {
  sigma: number;
  threshold: number;
  granularity: number;
} {
  const { epsilon, delta, m } = checkParameters(parameters);
  const eps = decimalFloor(epsilon);
  const half = decimalFloor(delta) / 2; // exact: halving a double
  // sqrt is correctly rounded; one ulp up makes the sensitivity at least sqrt(m)
  const sensitivity = Math.sqrt(m) * (1 + 2 ** -52);
  const analytic = analyticGaussianSigma({ epsilon: eps, delta: half, sensitivity });
  if (!(analytic >= 2 ** -10 && analytic <= 2 ** 30)) {
    // Above 2^30 the integer counts would not lie on the noise grid; below 2^-10 the threshold would sit within
    // rounding of 1 + 0 (such an epsilon selects like no noise at all: use the 'optimal' rule).
    throw new RangeError(
      `epsilon=${epsilon}, delta=${delta} and maxPartitionsPerUser=${m} need sigma = ${analytic} for Gaussian thresholding, ` +
        'outside [2^-10, 2^30]',
    );
  }
  const g = gaussianGranularity(analytic);
  const sigma = (analytic / g) * GAUSSIAN_DISCRETE_SLACK * g;
  // z with 1 - (1 - sf(z))^m <= delta/2, by bisection on the accurate normal tail (no inverse CDF needed)
  const fits = (z: number): boolean => gaussianSelectionDelta(1 + z * sigma, sigma, m) * GAUSSIAN_TAIL_MARGIN <= half;
  let lo = 0;
  let hi = 1;
  while (!fits(hi)) {
    hi *= 2;
    if (hi > 2 ** 20) throw new RangeError(`delta=${delta} is too small for Gaussian thresholding`);
  }
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = 0.5 * (lo + hi);
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  // round up to the grid: the noisy counts lie on it, and a larger threshold only lowers delta
  let threshold = Math.ceil((1 + hi * sigma) / g) * g;
  for (let i = 0; !(gaussianSelectionDelta(threshold, sigma, m) * GAUSSIAN_TAIL_MARGIN <= half); i++) {
    if (i === 64) throw new RangeError(`epsilon=${epsilon} and delta=${delta}: no Gaussian threshold found on the noise grid`);
    threshold += g * 2 ** i; // still on the grid (g is a power of two; so is every step)
  }
  return { sigma, threshold, granularity: g };
}

/**
 * Options of {@link dpSelectPartitions} and `dpGroupByCount`.
 * @example
 * ```ts
 * const opts: SelectPartitionsOptions = { epsilon: 1, delta: 1e-6, userIds, maxPartitionsPerUser: 2 };
 * ```
 */
export interface SelectPartitionsOptions extends PartitionSelectionParameters {
  /** The user of each row (default: each row is its own user). */
  readonly userIds?: ArrayLike<Key>;
  /** Default 'optimal'. */
  readonly method?: PartitionSelectionMethod;
  /** When given, (epsilon, delta) is spent here before any randomness is drawn. */
  readonly budget?: PrivacyBudget;
  readonly label?: string;
  /** Randomness; default the CSPRNG. Pass a seeded generator only in tests. */
  readonly rng?: Rng;
}

/**
 * Released keys with their guarantee.
 * @example
 * ```ts
 * const r: SelectedPartitions = dpSelectPartitions(codes, { epsilon: 1, delta: 1e-6 });
 * r.partitions; r.statement;
 * ```
 */
export interface SelectedPartitions {
  /** The released keys, in order of first appearance in the data. */
  readonly partitions: Key[];
  readonly epsilon: number;
  readonly delta: number;
  /** The selection as one event ((epsilon, delta)-DP), for a budget or an accountant. */
  readonly event: DpEvent;
  readonly statement: string;
}

const SELECT_KEYS = [...PARAM_KEYS, 'userIds', 'method', 'budget', 'label', 'rng'] as const;

/** Internal: the checked common options of partition selection and group-by. */
export interface CheckedSelection {
  epsilon: number;
  delta: number;
  m: number;
  method: PartitionSelectionMethod;
  src: WordSource;
  /** The user of each row, or null when each row is its own user (row-level). */
  ids: ArrayLike<Key> | null;
  keys: ArrayLike<Key>;
  n: number;
}

/** Internal: checks keys, user ids, parameters, method, budget, label and rng (nothing is spent). */
export function checkSelection(keys: ArrayLike<Key>, options: SelectPartitionsOptions, allowed: readonly string[]): CheckedSelection {
  assertOptions('options', options, allowed);
  const { epsilon, delta, m } = checkParameters({
    epsilon: options.epsilon,
    delta: options.delta,
    ...(options.maxPartitionsPerUser === undefined ? {} : { maxPartitionsPerUser: options.maxPartitionsPerUser }),
  });
  const method = options.method ?? 'optimal';
  if (!METHODS.includes(method)) {
    throw new RangeError(`method must be 'optimal', 'laplace' or 'gaussian', got ${describeValue(method)}`);
  }
  if (options.budget !== undefined && !(options.budget instanceof PrivacyBudget)) {
    throw new TypeError(`budget must be a PrivacyBudget, got ${describeValue(options.budget)}`);
  }
  if (options.label !== undefined && typeof options.label !== 'string') {
    throw new TypeError(`label must be a string, got ${describeValue(options.label)}`);
  }
  const n = checkLength(keys, 'keys');
  const k = checkKeys('keys', keys, n);
  const ids = options.userIds === undefined ? null : checkKeys('userIds', options.userIds, n);
  return { epsilon, delta, m, method, src: sourceOf(options.rng ?? cryptoRng), ids, keys: k, n };
}

/** The last Gaussian rule built (repeated selections with the same parameters skip the two bisections). */
let lastGaussian: { key: string; rule: { sampler: DiscreteGaussianSampler; threshold: number; granularity: number } } | undefined;

function gaussianRule(
  epsilon: number,
  delta: number,
  m: number,
): { sampler: DiscreteGaussianSampler; threshold: number; granularity: number } {
  const key = `${epsilon} ${delta} ${m}`;
  if (lastGaussian?.key !== key) {
    const { sigma, threshold, granularity } = gaussianSelectionThreshold({ epsilon, delta, maxPartitionsPerUser: m });
    lastGaussian = { key, rule: { sampler: new DiscreteGaussianSampler(sigma / granularity), threshold, granularity } };
  }
  return lastGaussian.rule;
}

/** Internal: computes the threshold of a thresholding rule, so that its RangeError comes before any spend. */
export function checkRule(c: Pick<CheckedSelection, 'epsilon' | 'delta' | 'm' | 'method'>): void {
  const p = { epsilon: c.epsilon, delta: c.delta, maxPartitionsPerUser: c.m };
  if (c.method === 'laplace') laplaceSelectionThreshold(p);
  else if (c.method === 'gaussian') gaussianRule(p.epsilon, p.delta, p.maxPartitionsPerUser);
}

/** A uniform double in [0, 1) with 53 random bits. */
function uniform53(src: WordSource): number {
  return ((src.next() >>> 5) * 67_108_864 + (src.next() >>> 6)) / 9_007_199_254_740_992;
}

/**
 * Internal: the selection itself on per-key user counts (after bounding). Returns the kept keys in the order given.
 */
export function selectFromCounts(
  partitions: readonly Key[],
  users: ArrayLike<number>,
  c: Pick<CheckedSelection, 'epsilon' | 'delta' | 'm' | 'method' | 'src'>,
): Key[] {
  const kept: Key[] = [];
  // decimalFloor: never calibrate to more than the decimal epsilon/delta that a budget charges
  const eps = decimalFloor(c.epsilon);
  const del = decimalFloor(c.delta);
  if (c.method === 'optimal') {
    const e = eps / c.m;
    const d = adjustedDelta(del, c.m);
    for (let i = 0; i < partitions.length; i++) {
      const p = keepProbability(users[i], e, d) * (1 - 2 ** -40);
      if (uniform53(c.src) < p) kept.push(partitions[i]);
    }
    return kept;
  }
  if (c.method === 'gaussian') {
    // gaussianSelectionThreshold reads epsilon and delta as their decimals itself
    const { sampler, threshold, granularity: g } = gaussianRule(c.epsilon, c.delta, c.m);
    // In grid units, exactly: keep when users/g + Z >= threshold/g (integers; users/g = users * 2^k, g <= 1).
    const inv = BigInt(1 / g);
    const t = BigInt(threshold / g);
    for (let i = 0; i < partitions.length; i++) {
      if (BigInt(users[i]) * inv + BigInt(sampler.sample(c.src)) >= t) kept.push(partitions[i]);
    }
    return kept;
  }
  const { scale, threshold } = laplaceSelectionThreshold({ epsilon: eps, delta: del, maxPartitionsPerUser: c.m });
  for (let i = 0; i < partitions.length; i++) {
    if (users[i] + discreteLaplaceScale(scale, c.src) >= threshold) kept.push(partitions[i]);
  }
  return kept;
}

/**
 * Internal: the rows kept by the contribution bounds (`maxRows` rows and `c.m` keys per user). Row-level (no user
 * ids), every row is a user with one row and one key, within any bounds: all rows are kept, and no map per row is
 * built (bounding would draw no randomness for them either).
 */
export function boundedRows(c: Pick<CheckedSelection, 'ids' | 'keys' | 'm' | 'src' | 'n'>, maxRows: number): Uint32Array {
  if (c.ids === null) return Uint32Array.from({ length: c.n }, (_, i) => i);
  return boundContributions(c.ids, c.keys, maxRows, c.m, sourceChooser(c.src));
}

/** Internal: distinct keys in order of first appearance among `rows`, with the number of distinct users of each. */
export function usersPerKey(
  keys: ArrayLike<Key>,
  ids: ArrayLike<Key> | null,
  rows: Uint32Array,
): { partitions: Key[]; users: Float64Array } {
  if (ids === null) {
    // row-level: every row is its own user, so a key's users are its rows (no set per key)
    const index = new Map<Key, number>();
    const partitions: Key[] = [];
    const counts: number[] = [];
    for (const r of rows) {
      const key = keys[r];
      const i = index.get(key);
      if (i === undefined) {
        index.set(key, partitions.length);
        partitions.push(key);
        counts.push(1);
      } else counts[i] += 1;
    }
    return { partitions, users: Float64Array.from(counts) };
  }
  const index = new Map<Key, number>();
  const seen: Set<Key>[] = [];
  const partitions: Key[] = [];
  for (const r of rows) {
    const key = keys[r];
    let i = index.get(key);
    if (i === undefined) {
      i = partitions.length;
      index.set(key, i);
      partitions.push(key);
      seen.push(new Set());
    }
    seen[i].add(ids[r]);
  }
  return { partitions, users: Float64Array.from(seen, (s) => s.size) };
}

/** Internal: the statement of a selection. */
export function selectionStatement(c: Pick<CheckedSelection, 'epsilon' | 'delta' | 'm' | 'method'>, userLevel: boolean): string {
  const rule =
    c.method === 'optimal'
      ? 'the optimal truncated-geometric keep probability (Desfontaines, Voss, Gipson, Mandayam 2022, Thm. 1)'
      : c.method === 'laplace'
        ? 'Laplace thresholding of the noisy number of users per key (exact discrete Laplace noise)'
        : 'Gaussian thresholding of the noisy number of users per key (exact discrete Gaussian noise on a fine grid; ' +
          'delta split evenly between the noise, at L2 sensitivity sqrt of the keys per user, and the threshold)';
  return (
    `Partition selection: (epsilon = ${c.epsilon}, delta = ${c.delta.toExponential()})-DP under adding or removing one ` +
    `${userLevel ? 'user with all of their rows' : 'row'}; each ${userLevel ? 'user' : 'row'} contributes to at most ${c.m} key(s) ` +
    `(${userLevel ? "a user's keys beyond the bound are sampled down, no user is dropped" : 'one key per row'}); keys are kept by ` +
    `${rule}; delta is the probability that keys held by one ${userLevel ? 'user' : 'row'} only are released.`
  );
}

/**
 * The keys of a column that may be released, chosen by (epsilon, delta)-DP partition selection over users (each
 * row its own user when `userIds` is omitted). Each user's keys are first bounded to `maxPartitionsPerUser` by
 * sampling. The result lists the kept keys and the statement; it spends (epsilon, delta) on `budget` first.
 * @example
 * ```ts
 * const { partitions } = dpSelectPartitions(diagnosisCodes, { userIds: patientIds, epsilon: 1, delta: 1e-6, maxPartitionsPerUser: 3 });
 * ```
 */
export function dpSelectPartitions(keys: ArrayLike<Key>, options: SelectPartitionsOptions): SelectedPartitions {
  const c = checkSelection(keys, options, SELECT_KEYS);
  const event = epsilonDeltaEvent(c.epsilon, c.delta);
  checkRule(c);
  const rows = boundedRows(c, 1);
  chargeQuery(options.budget, { epsilon: c.epsilon, delta: c.delta, event }, options.label ?? 'partition selection');
  const { partitions, users } = usersPerKey(c.keys, c.ids, rows);
  return {
    partitions: selectFromCounts(partitions, users, c),
    epsilon: c.epsilon,
    delta: c.delta,
    event,
    statement: selectionStatement(c, options.userIds !== undefined),
  };
}
