/**
 * Contribution bounding for user-level queries: each user keeps at most `maxPartitionsPerUser` of the partitions
 * (keys) they contribute to and at most `maxRowsPerUser` rows in each kept partition (one partition when the query
 * is not grouped), chosen uniformly at random among the user's own partitions and rows. This is how Google's
 * differential-privacy library (`max_partitions_contributed`, `max_contributions_per_partition`) and PipelineDP
 * bound contributions: by sampling each user's rows, so that every user keeps some rows, never by dropping whole
 * users (dropping users with many rows would bias results against heavy users and is itself data-dependent).
 * After bounding, adding or removing one user changes at most `maxPartitionsPerUser` partitions, each by at most
 * `maxRowsPerUser` rows: the sensitivities of the queries follow from these two numbers and the value clamps.
 * @module
 */
import { assertInteger, describeValue } from '@ppml/core';
import type { WordSource } from '../mechanisms/words.ts';

/**
 * A user id or a partition key: a string or a safe integer.
 * @example
 * ```ts
 * const key: Key = 'I10'; // a diagnosis code
 * ```
 */
export type Key = string | number;

/**
 * Bounds on what one user may contribute.
 * @example
 * ```ts
 * const bounds: ContributionBounds = { maxRowsPerUser: 5, maxPartitionsPerUser: 2 };
 * ```
 */
export interface ContributionBounds {
  /** Rows kept per user (per partition in grouped queries), an integer >= 1: Google's max_contributions_per_partition. */
  readonly maxRowsPerUser: number;
  /** Partitions kept per user in grouped queries, an integer >= 1 (default 1): Google's max_partitions_contributed. */
  readonly maxPartitionsPerUser?: number;
}

/**
 * Chooses `keep` distinct positions in [0, available) for one user (and partition); the positions are written to
 * `out[0..keep-1]`. The default draws them uniformly from the CSPRNG; tests pass a chooser seeded per user, so that
 * adding a user does not change the choices made for the others.
 */
export type Chooser = (user: Key, partition: Key | undefined, available: number, keep: number, out: Uint32Array) => void;

/** Largest bound accepted (rows or partitions per user). */
const MAX_BOUND = 2 ** 32 - 1;

/** Internal: checks the two bounds; returns [maxRowsPerUser, maxPartitionsPerUser]. */
export function checkContributionBounds(bounds: ContributionBounds, grouped: boolean): [number, number] {
  assertInteger('maxRowsPerUser', bounds.maxRowsPerUser, 1, MAX_BOUND);
  const m = bounds.maxPartitionsPerUser ?? 1;
  assertInteger('maxPartitionsPerUser', m, 1, MAX_BOUND);
  if (!grouped && bounds.maxPartitionsPerUser !== undefined && m !== 1) {
    throw new RangeError(`maxPartitionsPerUser applies to grouped queries only, got ${m} for an ungrouped query`);
  }
  return [bounds.maxRowsPerUser, m];
}

/** Internal: checks a column of keys (strings or safe integers) of the given length. */
export function checkKeys(name: string, keys: unknown, n: number): ArrayLike<Key> {
  if (!(Array.isArray(keys) || ArrayBuffer.isView(keys))) {
    throw new TypeError(`${name} must be an array of strings or safe integers, got ${describeValue(keys)}`);
  }
  const k = keys as ArrayLike<unknown>;
  if (k.length !== n) throw new RangeError(`${name} must have one entry per value (${n}), got ${k.length}`);
  for (let i = 0; i < n; i++) {
    const v = k[i];
    if (!(typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v)))) {
      throw new TypeError(`${name}[${i}] must be a string or a safe integer, got ${describeValue(v)}`);
    }
  }
  return k as ArrayLike<Key>;
}

/**
 * The chooser over a word source: a partial Fisher–Yates shuffle with unbiased integers (rejection, no modulo bias).
 * @example
 * ```ts
 * const choose = sourceChooser(wordSource(cryptoRng));
 * ```
 */
export function sourceChooser(src: WordSource): Chooser {
  let perm = new Uint32Array(16);
  return (_user, _partition, available, keep, out) => {
    if (perm.length < available) perm = new Uint32Array(Math.max(available, 2 * perm.length));
    for (let i = 0; i < available; i++) perm[i] = i;
    for (let i = 0; i < keep; i++) {
      const j = i + src.int(available - i);
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
      out[i] = perm[i];
    }
  };
}

/**
 * The rows kept after bounding each user's contributions (indices into the input, in no particular order). With
 * `partitions` null the query is ungrouped: each user keeps at most `maxRowsPerUser` rows. Otherwise each user keeps
 * at most `maxPartitionsPerUser` of their partitions and at most `maxRowsPerUser` rows in each.
 * @example
 * ```ts
 * const kept = boundContributions(userIds, null, 3, 1, sourceChooser(src));
 * ```
 */
export function boundContributions(
  userIds: ArrayLike<Key>,
  partitions: ArrayLike<Key> | null,
  maxRows: number,
  maxPartitions: number,
  choose: Chooser,
): Uint32Array {
  const n = userIds.length;
  // rows of each user, in order of first appearance; within a user, rows of each partition
  const byUser = new Map<Key, number[]>();
  for (let i = 0; i < n; i++) {
    const u = userIds[i];
    let list = byUser.get(u);
    if (list === undefined) {
      list = [];
      byUser.set(u, list);
    }
    list.push(i);
  }
  const kept: number[] = [];
  let pick = new Uint32Array(16);
  const keepSome = (user: Key, partition: Key | undefined, rows: readonly number[], keep: number): void => {
    if (rows.length <= keep) {
      for (const r of rows) kept.push(r);
      return;
    }
    if (pick.length < keep) pick = new Uint32Array(keep);
    choose(user, partition, rows.length, keep, pick);
    for (let i = 0; i < keep; i++) kept.push(rows[pick[i]]);
  };
  for (const [user, rows] of byUser) {
    if (partitions === null) {
      keepSome(user, undefined, rows, maxRows);
      continue;
    }
    const byPartition = new Map<Key, number[]>();
    for (const r of rows) {
      const p = partitions[r];
      let list = byPartition.get(p);
      if (list === undefined) {
        list = [];
        byPartition.set(p, list);
      }
      list.push(r);
    }
    const keys = [...byPartition.keys()];
    let chosen = keys;
    if (keys.length > maxPartitions) {
      if (pick.length < maxPartitions) pick = new Uint32Array(maxPartitions);
      choose(user, undefined, keys.length, maxPartitions, pick);
      chosen = Array.from(pick.subarray(0, maxPartitions), (i) => keys[i]);
    }
    for (const p of chosen) keepSome(user, p, byPartition.get(p) as number[], maxRows);
  }
  return Uint32Array.from(kept);
}
