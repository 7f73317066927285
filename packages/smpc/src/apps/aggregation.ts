/**
 * Secure aggregation: each of k input parties contributes a vector and only the element-wise sum is revealed
 * (the setting of Bonawitz et al., CCS 2017, for federated learning; here with semi-honest parties that stay
 * online). Each contribution is secret-shared by its owner; the sum is local; one opening reveals it.
 * @module
 */
import { assertOptions, describeValue } from '@ppml/core';
import { allKeys } from '../option-keys.ts';
import { SmpcSession } from '../session.ts';

/** One party's input to {@link secureAggregation}. */
export interface Contribution {
  /** The contributing party. */
  readonly party: number;
  /**
   * Its vector; every contribution must have the same length. In a session across machines
   * (`SmpcSession.connect`) only the owner's process passes the values; the others pass the shape
   * `{ rows, cols: 1 }` of that party's vector.
   */
  readonly values: ArrayLike<number> | { readonly rows: number; readonly cols: number };
}

/**
 * Number of values of a contribution (or of the shape standing for another party's values).
 * @example
 * ```ts
 * contributionLength({ rows: 4, cols: 1 }); // 4
 * ```
 */
export function contributionLength(values: Contribution['values'] | undefined): number | undefined {
  if (values === null || typeof values !== 'object') return undefined;
  if ('length' in values) return values.length;
  return typeof values.rows === 'number' && typeof values.cols === 'number' ? values.rows * values.cols : undefined;
}

/**
 * Sums the parties' vectors under secret sharing and reveals only the sum.
 * @example
 * ```ts
 * const total = await secureAggregation(session, [
 *   { party: 0, values: [1, 2] },
 *   { party: 1, values: [3, 4] },
 *   { party: 2, values: [5, 6] },
 * ]); // Float64Array [9, 12]
 * ```
 */
export async function secureAggregation(session: SmpcSession, contributions: readonly Contribution[]): Promise<Float64Array> {
  if (!(session instanceof SmpcSession)) throw new TypeError(`session must be an SmpcSession, got ${describeValue(session)}`);
  if (!Array.isArray(contributions)) throw new TypeError(`contributions must be a non-empty array, got ${describeValue(contributions)}`);
  if (contributions.length === 0) throw new RangeError('contributions must be a non-empty array, got an array of length 0');
  // An index loop, not forEach: a hole in a sparse array must be reported, not skipped.
  for (let i = 0; i < contributions.length; i++)
    assertOptions(`contributions[${i}]`, contributions[i], allKeys<Contribution>()('party', 'values'));
  const len = contributionLength(contributions[0].values);
  contributions.forEach((c, i) => {
    if (contributionLength(c.values) !== len) {
      throw new RangeError(`contributions[${i}].values must have length ${len}, got ${describeValue(c.values)}`);
    }
  });
  const shared = await Promise.all(contributions.map((c) => session.share(c.party, c.values)));
  let acc = shared[0];
  for (let i = 1; i < shared.length; i++) acc = session.add(acc, shared[i]);
  const out = await session.reveal(acc);
  session.free(...shared);
  if (acc !== shared[0]) session.free(acc);
  return out;
}
