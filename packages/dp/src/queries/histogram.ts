/**
 * Noisy histogram of a numeric column, epsilon-DP under add/remove-one-record neighbours: each record falls
 * in exactly one bin (values outside the edges are clamped into the first or last bin), so the vector of
 * counts has L1 sensitivity 1 and every bin gets independent exact discrete Laplace noise of scale 1/epsilon
 * (Dwork, McSherry, Nissim & Smith 2006; discrete noise: Canonne, Kamath & Steinke 2020). Bins and edges
 * must not depend on the data.
 * @module
 */
import { assertArrayLike, describeValue } from '@ppml/core';
import { discreteLaplaceScale, laplaceScaleAtLeast } from '../mechanisms/samplers.ts';
import { checkOptions, checkValues, QUERY_KEYS, type QueryOptions } from './common.ts';

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
