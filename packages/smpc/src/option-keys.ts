/**
 * Allowed-key lists for `assertOptions` (internal), checked against the options interface at compile time: a
 * list that misses a key of the interface, or names a key it does not have, fails the type check. An option
 * added to an interface but not to its list would otherwise be refused at run time as "unknown".
 * @module
 */

/** The `[never]` test: `unknown` when K covers every key of T, else a tuple naming the missing keys. */
type Complete<T, K extends readonly string[]> = [Exclude<keyof T & string, K[number]>] extends [never]
  ? unknown
  : readonly ['missing option keys:', Exclude<keyof T & string, K[number]>];

/**
 * Returns a function that takes every key of `T` (and only those) and returns them as a list.
 * @example
 * ```ts
 * const KEYS = allKeys<{ a?: number; b?: string }>()('a', 'b'); // ['a', 'b']; ('a') alone is a type error
 * ```
 */
export function allKeys<T>(): <const K extends readonly (keyof T & string)[]>(...keys: K & Complete<T, K>) => readonly string[] {
  return (...keys) => keys;
}
