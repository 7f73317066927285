/**
 * Noisy histogram of a numeric column, epsilon-DP under add/remove-one-record neighbours: each record falls
 * in exactly one bin (values outside the edges are clamped into the first or last bin), so the vector of
 * counts has L1 sensitivity 1 and every bin gets independent exact discrete Laplace noise of scale 1/epsilon
 * (Dwork, McSherry, Nissim & Smith 2006; discrete noise: Canonne, Kamath & Steinke 2020). Bins and edges
 * must not depend on the data. For keys that are not known in advance, {@link dpGroupByCount} selects the keys
 * to release by partition selection (`partition-selection.ts`), at the user level when user ids are given.
 * @module
 */
import { assertArrayLike, assertInteger, describeValue } from '@ppml/core';
import { type DpEvent, epsilonDeltaEvent } from '../accountant/events.ts';
import { decimalFloor } from '../mechanisms/decimal.ts';
import { discreteLaplaceScale, laplaceScaleAtLeast } from '../mechanisms/samplers.ts';
import { clampedSum, sumGrid } from './aggregates.ts';
import { chargeQuery, checkBounds, checkOptions, checkValues, QUERY_KEYS, type QueryOptions } from './common.ts';
import type { Key } from './contribution-bounds.ts';
import {
  checkRule,
  checkSelection,
  type SelectPartitionsOptions,
  selectFromCounts,
  selectionStatement,
  boundedRows,
  usersPerKey,
} from './partition-selection.ts';

const HISTOGRAM_KEYS: readonly string[] = [...QUERY_KEYS, 'edges', 'lower', 'upper', 'bins'];
/** Most bins accepted (the counts are allocated up front). */
const MAX_BINS = 1e7;

/**
 * Options of {@link dpHistogram}: either explicit `edges` or `lower`, `upper` and `bins`.
 * @example
 * ```ts
 * const opts: HistogramOptions = { epsilon: 0.5, edges: [0, 18, 65, 120] };
 * ```
 */
export interface HistogramOptions extends QueryOptions {
  /** Strictly increasing finite bin edges (at least 2): bin k is [edges[k], edges[k+1]), the last one closed. */
  readonly edges?: ArrayLike<number>;
  /** With `upper` and `bins`: equal-width bins on [lower, upper]. */
  readonly lower?: number;
  readonly upper?: number;
  readonly bins?: number;
}

function resolveEdges(options: HistogramOptions): Float64Array {
  if (options.edges !== undefined) {
    const e = options.edges;
    if (options.lower !== undefined || options.upper !== undefined || options.bins !== undefined) {
      throw new TypeError('options must give either edges or lower, upper and bins, got both');
    }
    if ((Array.isArray(e) || ArrayBuffer.isView(e)) && e.length < 2) {
      throw new RangeError(`edges must have at least 2 entries, got ${e.length}`);
    }
    assertArrayLike('edges', e, 2, MAX_BINS + 1);
    const out = new Float64Array(e.length);
    for (let i = 0; i < e.length; i++) {
      const v = e[i];
      if (typeof v !== 'number') throw new TypeError(`edges[${i}] must be a finite number, got ${describeValue(v)}`);
      if (!Number.isFinite(v)) throw new RangeError(`edges[${i}] must be a finite number, got ${describeValue(v)}`);
      if (i > 0 && !(v > out[i - 1])) {
        throw new RangeError(`edges must be strictly increasing, got edges[${i - 1}]=${out[i - 1]} and edges[${i}]=${v}`);
      }
      out[i] = v;
    }
    return out;
  }
  const { lower, upper, bins } = options;
  if (typeof lower !== 'number' || !Number.isFinite(lower)) {
    throw new RangeError(`lower must be a finite number (or give edges), got ${describeValue(lower)}`);
  }
  if (typeof upper !== 'number' || !Number.isFinite(upper)) {
    throw new RangeError(`upper must be a finite number (or give edges), got ${describeValue(upper)}`);
  }
  if (!(lower < upper)) throw new RangeError(`lower must be < upper, got lower=${lower}, upper=${upper}`);
  if (Math.max(Math.abs(lower), Math.abs(upper)) > 2 ** 1000) {
    // upper - lower and the edges must stay finite
    throw new RangeError(`lower and upper must have magnitude at most 2^1000, got [${lower}, ${upper}]`);
  }
  if (typeof bins !== 'number' || !Number.isInteger(bins) || bins < 1 || bins > MAX_BINS) {
    throw new RangeError(`bins must be an integer in [1, 1e7], got ${describeValue(bins)}`);
  }
  const out = new Float64Array(bins + 1);
  for (let i = 0; i <= bins; i++) out[i] = lower + ((upper - lower) * i) / bins;
  out[bins] = upper;
  return out;
}

/**
 * Noisy bin counts (integers, possibly negative: clamp or round them afterwards as post-processing).
 * @example
 * ```ts
 * const counts = dpHistogram(ages, { lower: 0, upper: 100, bins: 10, epsilon: 0.5 });
 * ```
 */
export function dpHistogram(values: ArrayLike<number>, options: HistogramOptions): Float64Array {
  const { epsilon, src, charge } = checkOptions(options, HISTOGRAM_KEYS, 'histogram');
  const edges = resolveEdges(options);
  const n = checkValues(values);
  const bins = edges.length - 1;
  const counts = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const x = values[i];
    let lo = 0;
    let hi = bins - 1;
    // largest k with edges[k] <= x (k = 0 below the first edge; the last bin is closed on the right)
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (edges[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    counts[lo]++;
  }
  const scale = laplaceScaleAtLeast(1, epsilon);
  charge();
  for (let k = 0; k < bins; k++) counts[k] += discreteLaplaceScale(scale, src);
  return counts;
}

/**
 * Options of {@link dpGroupByCount}.
 * @example
 * ```ts
 * const opts: GroupByCountOptions = { epsilon: 1, delta: 1e-6, userIds, maxPartitionsPerUser: 2, maxRowsPerUser: 3 };
 * ```
 */
export interface GroupByCountOptions extends SelectPartitionsOptions {
  /** Rows kept per user and key (an integer >= 1, default 1): Google's max_contributions_per_partition. */
  readonly maxRowsPerUser?: number;
}

/**
 * A released group-by count over keys found in the data.
 * @example
 * ```ts
 * const r: GroupByCounts = dpGroupByCount(codes, { epsilon: 1, delta: 1e-6 });
 * for (const [code, count] of r.counts) console.log(code, count);
 * ```
 */
export interface GroupByCounts {
  /** Noisy counts of the released keys (integers, possibly negative: clamp afterwards as post-processing). */
  readonly counts: Map<Key, number>;
  readonly epsilon: number;
  readonly delta: number;
  /** The whole release as one (epsilon, delta) event. */
  readonly event: DpEvent;
  readonly statement: string;
}

const GROUP_BY_KEYS: readonly string[] = [
  'epsilon',
  'delta',
  'maxPartitionsPerUser',
  'userIds',
  'method',
  'budget',
  'label',
  'rng',
  'maxRowsPerUser',
];

/**
 * Histogram / group-by count over keys NOT known in advance (diagnosis codes, merchant ids): (epsilon, delta)-DP
 * under adding or removing one user (one row when `userIds` is omitted). Each user's contributions are bounded by
 * sampling to `maxPartitionsPerUser` keys and `maxRowsPerUser` rows per key; the keys are chosen by partition
 * selection at epsilon/2 (with all of delta; `dpSelectPartitions`), and the counts of the kept keys get exact
 * discrete Laplace noise of scale maxPartitionsPerUser maxRowsPerUser / (epsilon/2) (L1 sensitivity of the
 * bounded counts). Keys absent from the data are never released; a key held by few users rarely is.
 * @example
 * ```ts
 * const byCode = dpGroupByCount(codes, { userIds: patients, maxPartitionsPerUser: 3, epsilon: 1, delta: 1e-6, budget });
 * ```
 */
export function dpGroupByCount(keys: ArrayLike<Key>, options: GroupByCountOptions): GroupByCounts {
  const c = checkSelection(keys, options, GROUP_BY_KEYS);
  const k = options.maxRowsPerUser ?? 1;
  assertInteger('maxRowsPerUser', k, 1, 2 ** 32 - 1);
  const half = c.epsilon / 2; // exact in binary: the two halves add up to epsilon
  const sel = { ...c, epsilon: half };
  checkRule(sel);
  const scale = laplaceScaleAtLeast(c.m * k, decimalFloor(half));
  const rows = boundedRows(c, k);
  const event = epsilonDeltaEvent(c.epsilon, c.delta);
  chargeQuery(options.budget, { epsilon: c.epsilon, delta: c.delta, event }, options.label ?? 'group-by count');
  const { partitions, users } = usersPerKey(c.keys, c.ids, rows);
  const rowCount = new Map<Key, number>();
  for (const r of rows) rowCount.set(c.keys[r], (rowCount.get(c.keys[r]) ?? 0) + 1);
  const counts = new Map<Key, number>();
  for (const key of selectFromCounts(partitions, users, sel)) {
    counts.set(key, (rowCount.get(key) as number) + discreteLaplaceScale(scale, c.src));
  }
  const userLevel = options.userIds !== undefined;
  return {
    counts,
    epsilon: c.epsilon,
    delta: c.delta,
    event,
    statement:
      `Group-by count: (epsilon = ${c.epsilon}, delta = ${c.delta.toExponential()})-DP under adding or removing one ` +
      `${userLevel ? 'user with all of their rows' : 'row'}. Contribution bounds: at most ${c.m} key(s) and ` +
      `${k} row(s) per key for each ${userLevel ? 'user' : 'row'} (sampled, no user is dropped). ` +
      selectionStatement({ ...sel, epsilon: half }, userLevel) +
      ` Counts: exact discrete Laplace noise of scale ${scale} (L1 sensitivity ${c.m * k}) at epsilon/2 = ${half}.`,
  };
}

/**
 * Options of {@link dpGroupBySum}: those of {@link dpGroupByCount} plus the per-partition clamps of each value.
 * @example
 * ```ts
 * const opts: GroupBySumOptions = { epsilon: 1, delta: 1e-6, lower: 0, upper: 500, userIds, maxRowsPerUser: 3 };
 * ```
 */
export interface GroupBySumOptions extends GroupByCountOptions {
  /** Each value is clamped to [lower, upper] in every partition (finite, lower < upper). */
  readonly lower: number;
  readonly upper: number;
}

/**
 * A released group-by sum over keys found in the data.
 * @example
 * ```ts
 * const r: GroupBySums = dpGroupBySum(codes, costs, { epsilon: 1, delta: 1e-6, lower: 0, upper: 1000 });
 * r.sums.get('I10');
 * ```
 */
export interface GroupBySums {
  /** Noisy sums of the released keys. */
  readonly sums: Map<Key, number>;
  readonly epsilon: number;
  readonly delta: number;
  readonly event: DpEvent;
  readonly statement: string;
}

/**
 * Group-by sum over keys NOT known in advance, (epsilon, delta)-DP under adding or removing one user (one row
 * without `userIds`): contributions bounded by sampling to `maxPartitionsPerUser` keys (m) and `maxRowsPerUser`
 * rows per key (k), every value clamped to [lower, upper] (the per-partition clamps), keys chosen by partition
 * selection at epsilon/2 with all of delta, and each kept key's sum released in exact fixed point with discrete
 * Laplace noise for the L1 sensitivity m k max(|lower|, |upper|) at epsilon/2.
 * @example
 * ```ts
 * const spend = dpGroupBySum(merchant, amount, { userIds: customer, maxPartitionsPerUser: 4, maxRowsPerUser: 5, lower: 0, upper: 500, epsilon: 1, delta: 1e-6 });
 * ```
 */
export function dpGroupBySum(keys: ArrayLike<Key>, values: ArrayLike<number>, options: GroupBySumOptions): GroupBySums {
  const c = checkSelection(keys, options, GROUP_BY_SUM_KEYS);
  const k = options.maxRowsPerUser ?? 1;
  assertInteger('maxRowsPerUser', k, 1, 2 ** 32 - 1);
  checkBounds(options);
  const n = checkValues(values);
  if (n !== c.n) throw new RangeError(`values must have one entry per key (${c.n}), got ${n}`);
  const { lower, upper } = options;
  const half = c.epsilon / 2; // exact in binary: the two halves add up to epsilon
  const sel = { ...c, epsilon: half };
  checkRule(sel);
  const sumEpsilon = decimalFloor(half);
  sumGrid(lower, upper, sumEpsilon, c.m * k); // throws here, before the spend, if these bounds cannot be noised
  const rows = boundedRows(c, k);
  const event = epsilonDeltaEvent(c.epsilon, c.delta);
  chargeQuery(options.budget, { epsilon: c.epsilon, delta: c.delta, event }, options.label ?? 'group-by sum');
  const { partitions, users } = usersPerKey(c.keys, c.ids, rows);
  const byKey = new Map<Key, number[]>();
  for (const r of rows) {
    let list = byKey.get(c.keys[r]);
    if (list === undefined) {
      list = [];
      byKey.set(c.keys[r], list);
    }
    list.push(values[r]);
  }
  const sums = new Map<Key, number>();
  for (const key of selectFromCounts(partitions, users, sel)) {
    // the vector of per-key sums has L1 sensitivity m k max(|lower|, |upper|): each key gets that noise
    sums.set(
      key,
      clampedSum(byKey.get(key) as number[], lower, upper, sumEpsilon, c.m * k, c.src, () => {}),
    );
  }
  const userLevel = options.userIds !== undefined;
  const sensitivity = c.m * k * Math.max(Math.abs(lower), Math.abs(upper));
  return {
    sums,
    epsilon: c.epsilon,
    delta: c.delta,
    event,
    statement:
      `Group-by sum: (epsilon = ${c.epsilon}, delta = ${c.delta.toExponential()})-DP under adding or removing one ` +
      `${userLevel ? 'user with all of their rows' : 'row'}. Contribution bounds: at most ${c.m} key(s) and ` +
      `${k} row(s) per key for each ${userLevel ? 'user' : 'row'} (sampled, no user is dropped); values clamped to ` +
      `[${lower}, ${upper}] in every key. ` +
      selectionStatement(sel, userLevel) +
      ` Sums: exact fixed point with discrete Laplace noise for L1 sensitivity ${sensitivity} at epsilon/2 = ${half}.`,
  };
}

const GROUP_BY_SUM_KEYS: readonly string[] = [...GROUP_BY_KEYS, 'lower', 'upper'];
