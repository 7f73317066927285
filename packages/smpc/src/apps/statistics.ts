/**
 * Joint statistics over values held by different parties: count, mean, variance and histogram counts, with
 * only those aggregates revealed (sum, sum of squares, and per-edge counts of values below each edge). The
 * histogram uses one batched secure comparison per (value, edge) pair.
 * @module
 */
import { assertFiniteArray, assertOptions, describeValue } from '@ppml/core';
import { allKeys } from '../option-keys.ts';
import { SmpcSession } from '../session.ts';
import type { Contribution } from './aggregation.ts';

/** Result of {@link jointStatistics}. */
export interface JointStatistics {
  /** Number of values (public: every party's input size is public). */
  readonly count: number;
  readonly mean: number;
  /** Population variance (divides by count). */
  readonly variance: number;
  /** Counts per bin [edges[i], edges[i+1]) when edges were given; values outside the edges are not counted. */
  readonly histogram?: { readonly edges: readonly number[]; readonly counts: number[] };
  /** What the computation revealed to every party (and assumed public), for audit statements. */
  readonly revealed: string;
}

/**
 * Mean, variance and (optionally) histogram counts of the union of the parties' values.
 * Values must satisfy |x| <= session.maxAbs; the squares and sums are range-checked from that public bound
 * (at the default 1024 and 16 fractional bits, up to 2^27 values).
 * @example
 * ```ts
 * const stats = await jointStatistics(session, [
 *   { party: 0, values: ages0 },
 *   { party: 1, values: ages1 },
 * ], { edges: [0, 18, 65, 120] });
 * ```
 */
export async function jointStatistics(
  session: SmpcSession,
  inputs: readonly Contribution[],
  options: { readonly edges?: readonly number[] } = {},
): Promise<JointStatistics> {
  if (!(session instanceof SmpcSession)) throw new TypeError(`session must be an SmpcSession, got ${describeValue(session)}`);
  if (!Array.isArray(inputs)) throw new TypeError(`inputs must be a non-empty array, got ${describeValue(inputs)}`);
  if (inputs.length === 0) throw new RangeError('inputs must be a non-empty array, got an array of length 0');
  for (let i = 0; i < inputs.length; i++) assertOptions(`inputs[${i}]`, inputs[i], allKeys<Contribution>()('party', 'values'));
  assertOptions('options', options, allKeys<NonNullable<typeof options>>()('edges'));
  const edges = options.edges;
  if (edges !== undefined) {
    if (!Array.isArray(edges)) throw new TypeError(`options.edges must be an array of at least 2 numbers, got ${describeValue(edges)}`);
    if (edges.length < 2) throw new RangeError('edges must be an array of at least 2 numbers');
    assertFiniteArray('options.edges', edges);
    for (let i = 1; i < edges.length; i++) {
      if (!(edges[i] > edges[i - 1])) throw new RangeError(`edges must be strictly increasing, got ${edges[i - 1]} then ${edges[i]}`);
    }
  }
  const parts = await Promise.all(inputs.map((c) => session.share(c.party, c.values)));
  const x = parts.length === 1 ? parts[0] : session.concatRows(parts);
  const n = x.length;
  const s1 = session.sum(x);
  const sq = session.square(x);
  const s2 = session.sum(sq);
  const [sum] = await session.reveal(s1);
  const [sumSq] = await session.reveal(s2);
  const mean = sum / n;
  const variance = Math.max(0, sumSq / n - mean * mean);
  let histogram: JointStatistics['histogram'];
  if (edges !== undefined) {
    const e = edges.length;
    const tiled = session.concatRows(new Array<typeof x>(e).fill(x));
    const thresholds = new Float64Array(e * n);
    for (let k = 0; k < e; k++) thresholds.fill(edges[k], k * n, (k + 1) * n);
    const below = session.lessThan(tiled, thresholds);
    const grid = session.reshape(below, e, n);
    const perEdge = session.sum(grid, 1);
    const cum = await session.reveal(perEdge);
    const counts: number[] = [];
    for (let k = 0; k + 1 < e; k++) counts.push(Math.round(cum[k + 1] - cum[k]));
    histogram = { edges: [...edges], counts };
    session.free(tiled, below, grid, perEdge);
  }
  session.free(...parts, s1, sq, s2);
  if (parts.length > 1) session.free(x);
  const revealed =
    'the sum and the sum of squares of all values' +
    (histogram ? ', and for each edge the number of values below it' : '') +
    '; the number of values each party holds is public. Semi-honest parties, trusted dealer.';
  return histogram ? { count: n, mean, variance, histogram, revealed } : { count: n, mean, variance, revealed };
}
