/**
 * What a query call releases, its guarantee and its privacy event, in one shape for every query (as every
 * mechanism exposes `guarantee` and `event`). The queries return plain numbers (and group-by results), so the
 * description is asked for separately, for the same arguments: {@link describeQuery} runs every check of the call
 * and stops it where it would spend, so the event it returns is, by construction, the one the query charges to a
 * budget; nothing is spent and no noise is drawn. The events are the tightest the queries support: a pure
 * epsilon-DP pair for one discrete Laplace release (exact for a count: the privacy loss of discrete Laplace noise
 * on a sensitivity-1 integer takes the two values +-epsilon only), one pure pair per part for a mean (2 parts) or
 * a variance (3 parts), the exponential mechanism's own event for a quantile (epsilon-bounded-range, Durfee &
 * Rogers 2019), and the (epsilon, delta) pair of partition selection and group-by releases. No query adds
 * Gaussian noise today.
 * @module
 */
import { assertFunction, describeValue } from '@ppml/core';
import type { DpEvent } from '../accountant/events.ts';
import { dpCount, dpMean, dpSum, dpVariance } from './aggregates.ts';
import type { PrivacyCost } from './budget.ts';
import { probeQuery } from './common.ts';
import { dpGroupByCount, dpGroupBySum, dpHistogram } from './histogram.ts';
import { dpSelectPartitions } from './partition-selection.ts';
import { dpQuantile } from './quantile.ts';
import { dpUserCount, dpUserMean, dpUserSum } from './user-level.ts';

/**
 * The guarantee of one query call.
 * @example
 * ```ts
 * const g: QueryGuarantee = describeQuery(dpCount, rows, { epsilon: 0.5 }).guarantee; // { epsilon: 0.5, delta: 0, ... }
 * ```
 */
export interface QueryGuarantee {
  readonly epsilon: number;
  readonly delta: number;
  /** Neighbouring datasets differ by adding or removing one row, or one user with all of their rows. */
  readonly neighbouring: 'add or remove one row' | 'add or remove one user';
}

/**
 * A query call described: what it releases, its guarantee, its privacy event, and the cost (with the label) that
 * it spends on a budget.
 * @example
 * ```ts
 * const d: QueryDescription = describeQuery(dpMean, ages, { lower: 0, upper: 120, epsilon: 1 });
 * d.event; // composition of two pure (0.5, 0) events
 * ```
 */
export interface QueryDescription {
  /** The query's name ('count', 'mean', 'quantile', 'group-by count', ...). */
  readonly query: string;
  /** What the call releases and how (one sentence). */
  readonly releases: string;
  readonly guarantee: QueryGuarantee;
  /** The event a 'pld' or 'rdp' budget composes for this call. */
  readonly event: DpEvent;
  /** The cost the call spends: what `budget.spend(cost, label)` would record. */
  readonly cost: PrivacyCost;
  /** The ledger label (the `label` option, or the query's name). */
  readonly label: string;
}

type AnyQuery = (...args: never[]) => unknown;

interface Entry {
  readonly query: string;
  readonly releases: string;
  /** Always user-level, or user-level exactly when the options give `userIds`. */
  readonly unit: 'row' | 'user' | 'userIds';
}

const QUERIES: ReadonlyMap<AnyQuery, Entry> = new Map<AnyQuery, Entry>([
  [dpCount, { query: 'count', unit: 'row', releases: 'the number of records plus exact discrete Laplace noise of scale 1/epsilon' }],
  [dpSum, { query: 'sum', unit: 'row', releases: 'the sum of the clamped values in exact fixed point plus exact discrete Laplace noise' }],
  [dpMean, { query: 'mean', unit: 'row', releases: 'a clamped mean from a noisy count and a noisy centred sum, epsilon/2 each' }],
  [
    dpVariance,
    { query: 'variance', unit: 'row', releases: 'a clamped variance from a noisy count, sum and sum of squares, epsilon/3 each' },
  ],
  [dpHistogram, { query: 'histogram', unit: 'row', releases: 'every bin count plus exact discrete Laplace noise of scale 1/epsilon' }],
  [
    dpQuantile,
    { query: 'quantile', unit: 'row', releases: 'one candidate of a data-independent grid chosen by the exponential mechanism' },
  ],
  [
    dpUserCount,
    { query: 'user-level count', unit: 'user', releases: 'the number of rows after bounding each user, plus exact discrete Laplace noise' },
  ],
  [
    dpUserSum,
    { query: 'user-level sum', unit: 'user', releases: 'the clamped sum after bounding each user, plus exact discrete Laplace noise' },
  ],
  [
    dpUserMean,
    { query: 'user-level mean', unit: 'user', releases: 'a clamped mean after bounding each user (noisy count and sum, epsilon/2 each)' },
  ],
  [dpSelectPartitions, { query: 'partition selection', unit: 'userIds', releases: 'the keys kept by partition selection' }],
  [
    dpGroupByCount,
    {
      query: 'group-by count',
      unit: 'userIds',
      releases: 'the keys kept by partition selection (epsilon/2) and their noisy counts (epsilon/2)',
    },
  ],
  [
    dpGroupBySum,
    {
      query: 'group-by sum',
      unit: 'userIds',
      releases: 'the keys kept by partition selection (epsilon/2) and their noisy clamped sums (epsilon/2)',
    },
  ],
]);

/**
 * Internal: the registry entry of a query function, or a TypeError naming the accepted queries.
 */
function entryOf(query: unknown): Entry {
  assertFunction('query', query);
  const e = QUERIES.get(query as AnyQuery);
  if (e === undefined) {
    throw new TypeError(
      `query must be one of the @ppml/dp queries (dpCount, dpSum, dpMean, dpVariance, dpHistogram, dpQuantile, dpUserCount, ` +
        `dpUserSum, dpUserMean, dpSelectPartitions, dpGroupByCount, dpGroupBySum), got ${describeValue(query)}`,
    );
  }
  return e;
}

/**
 * Describes a query call without making it: what `query(...args)` releases, its guarantee and the privacy event
 * it charges (the same one, by construction). Every check of the call runs first and throws as the query would;
 * nothing is spent and no noise is drawn.
 * @example
 * ```ts
 * const { releases, guarantee, event } = describeQuery(dpQuantile, incomes, { q: 0.5, lower: 0, upper: 2e5, epsilon: 0.5 });
 * event; // { kind: 'exponential', epsilon: 0.5 }
 * ```
 */
export function describeQuery<A extends unknown[]>(query: (...args: A) => unknown, ...args: A): QueryDescription {
  const entry = entryOf(query);
  const { cost, label } = probeQuery(() => query(...args));
  const options = args[args.length - 1] as { userIds?: unknown } | undefined;
  const user = entry.unit === 'user' || (entry.unit === 'userIds' && options?.userIds !== undefined);
  return Object.freeze({
    query: entry.query,
    releases: entry.releases,
    guarantee: Object.freeze({
      epsilon: cost.epsilon ?? 0,
      delta: cost.delta ?? 0,
      neighbouring: user ? 'add or remove one user' : 'add or remove one row',
    }),
    event: cost.event as DpEvent,
    cost,
    label,
  });
}

/**
 * Internal: checks that a query call can be charged to a budget other than its own `budget` option, and returns
 * its description and a copy of the arguments with the options object copied (so that changing the caller's
 * options after the spend cannot change the call that is run).
 */
export function prepareChargedQuery<A extends unknown[]>(
  query: (...args: A) => unknown,
  args: A,
): { description: QueryDescription; args: A } {
  entryOf(query);
  const last: unknown = args[args.length - 1];
  if (last === null || typeof last !== 'object' || Array.isArray(last) || ArrayBuffer.isView(last)) {
    throw new TypeError(`the last argument of the query must be its options object, got ${describeValue(last)}`);
  }
  if ((last as { budget?: unknown }).budget !== undefined) {
    throw new TypeError('options.budget must be omitted: the query is charged to the budget it is run on');
  }
  const copy = [...args.slice(0, -1), { ...last }] as unknown as A;
  return { description: describeQuery(query, ...copy), args: copy };
}
