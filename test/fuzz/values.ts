/**
 * Generated inputs for the bad-input suite: a pool of hostile values (NaN, infinities, subnormals, numbers at
 * the edges of Node's timers and of safe integers, BigInts, null, sparse arrays, array-likes that claim absurd
 * lengths, throwing callbacks) and option objects built from a table of good values per key, where each key may
 * be replaced by a hostile value, dropped, or joined by an unknown key. Everything is drawn from fast-check with
 * a fixed seed, so a failure names a seed and an index that reproduce it.
 * @module
 */
import fc from 'fast-check';

/** Numbers that broke some entry point in review: edges of doubles, timers, int32 and safe integers. */
export const hostileNumbers: readonly number[] = [
  Number.NaN,
  Infinity,
  -Infinity,
  0,
  -0,
  -1,
  0.5,
  1,
  2,
  3,
  100,
  1e-5,
  1e-320,
  5e-324,
  1e-300,
  1e308,
  1.79e308,
  -1e308,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
];

function sparse(n: number): unknown[] {
  const a: unknown[] = [];
  a.length = n;
  return a;
}

/** Keys no options object of ppml has: an options object that contains one must be refused by name. */
export const UNKNOWN_KEYS: readonly string[] = ['timeoutMS', 'Epsilon', 'unknownOption'];

/** Hostile values that are not numbers, made fresh for each use (some are mutable). */
export function hostileOthers(): unknown[] {
  return [
    null,
    undefined,
    '',
    '1',
    true,
    1n,
    2n ** 64n,
    {},
    [],
    [Number.NaN],
    [1n, 2n],
    ['a'],
    sparse(5),
    { length: 2 ** 40 },
    { length: -1 },
    { length: Number.NaN },
    Object.create(null) as object,
    () => {
      throw new Error('callback failed');
    },
    new Float64Array([Number.NaN, 1, 2]),
  ];
}

/**
 * The systematic part: the good options `base` with one key at a time replaced by each hostile value, then the
 * options object itself replaced by each hostile value, then `base` plus one unknown key.
 */
export function sweepOptions(base: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  const values = [...hostileNumbers, ...hostileOthers()];
  for (const key of Object.keys(base)) for (const v of values) out.push({ ...base, [key]: v });
  out.push(...hostileOthers());
  out.push({ ...base, [UNKNOWN_KEYS[0] as string]: 1 });
  return out;
}

/** Values of every kind that a JavaScript caller can pass by mistake. */
export function hostileValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...hostileNumbers) },
    { weight: 1, arbitrary: fc.double() },
    {
      weight: 3,
      arbitrary: fc.constantFrom<unknown>(
        null,
        undefined,
        '',
        'x',
        '1',
        true,
        false,
        1n,
        -1n,
        2n ** 64n,
        {},
        [],
        [Number.NaN],
        [1, 2, 3],
        [[1, 2], [3]],
        [1n, 2n],
        ['a', 'b'],
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom<() => unknown>(
          () => sparse(5),
          () => ({ length: 2 ** 40 }),
          () => ({ length: -1 }),
          () => ({ length: Number.NaN }),
          () => ({ length: 2 ** 31 }),
          () => Object.create(null) as object,
          () => () => 1,
          () => () => {
            throw new Error('callback failed');
          },
          () => new Float64Array(3),
          () => new Float64Array([Number.NaN, 1, 2]),
          () => new Map(),
        )
        .map((make) => make()),
    },
  );
}

/** For each key: good values (arbitrary). A generated options object mixes good and hostile values. */
export type OptionTable = Record<string, fc.Arbitrary<unknown>>;

/**
 * Options objects: mostly well-formed (each key good with probability ~0.8, hostile ~0.1, absent ~0.1), now and
 * then an unknown key, and now and then not an object at all.
 */
export function optionsFrom(table: OptionTable, required: readonly string[] = []): fc.Arbitrary<unknown> {
  const keys = Object.keys(table);
  const entry = (k: string): fc.Arbitrary<[string, unknown] | undefined> =>
    fc.oneof(
      { weight: 12, arbitrary: (table[k] as fc.Arbitrary<unknown>).map((v): [string, unknown] => [k, v]) },
      { weight: 3, arbitrary: hostileValue().map((v): [string, unknown] => [k, v]) },
      { weight: required.includes(k) ? 1 : 2, arbitrary: fc.constant(undefined) },
    );
  const object = fc
    .tuple(
      fc.tuple(...keys.map(entry)),
      fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...UNKNOWN_KEYS) }),
    )
    .map(([pairs, extra]) => {
      const o: Record<string, unknown> = {};
      for (const p of pairs) if (p !== undefined) o[p[0]] = p[1];
      if (extra !== undefined) o[extra] = 1;
      return o;
    });
  return fc.oneof({ weight: 19, arbitrary: object }, { weight: 1, arbitrary: hostileValue() });
}

/** Small finite numbers in [lo, hi] (no NaN), for good values. */
export function num(lo: number, hi: number): fc.Arbitrary<number> {
  return fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
}

/** Small integers in [lo, hi], for good values. */
export function int(lo: number, hi: number): fc.Arbitrary<number> {
  return fc.integer({ min: lo, max: hi });
}

/** A small finite matrix (rows x cols) of numbers in [-3, 3]. */
export function matrix(rows: number, cols: number): fc.Arbitrary<number[][]> {
  return fc.array(fc.array(num(-3, 3), { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows });
}

/** Positional arguments for the generic sweep: each hostile or a plausible small value. */
export function genericArgs(count: number): fc.Arbitrary<unknown[]> {
  const plausible = fc.oneof(
    num(-10, 10),
    int(0, 8),
    fc.constantFrom<unknown>(
      [1, 2, 3],
      [
        [1, 2],
        [3, 4],
      ],
      new Float64Array([0.5, 1.5]),
      { epsilon: 1, delta: 1e-5 },
    ),
  );
  return fc.array(fc.oneof(hostileValue(), plausible), { minLength: count, maxLength: count });
}
