/**
 * Public value ranges of secret-shared tensors (internal). Every {@link SecretTensor} carries an interval
 * [lo, hi] of ring integers (fixed-point values times 2^f) that provably contains each of its elements: it
 * starts from the bound declared when the tensor is shared and is propagated through every operation with
 * interval arithmetic (Moore 1966), so that it depends on declared bounds and shapes only, never on secret
 * values. Operations whose correctness needs a range check it before anything is queued:
 *
 * - every value must stay in the signed ring range [-2^63, 2^63) (otherwise it wraps, and comparisons and
 *   reveals are wrong);
 * - the exact-wrap truncation after a product (see `party.ts`) needs the unscaled product z in
 *   [-2^62, 2^62): z + 2^62 must fit in 63 bits. A matrix product needs this for the sum of k products.
 *
 * This is the check CrypTen and MP-SPDZ leave to the user (CrypTen issues 347 and 402, MP-SPDZ issue 1718):
 * their fixed point silently wraps when a sum of products leaves the ring.
 * @module
 */

/** A closed interval of ring integers (fixed-point values scaled by 2^f). */
export interface Range {
  readonly lo: bigint;
  readonly hi: bigint;
}

/**
 * sigmoid's exp step computes (1 - |x|/1024)^1024, valid for |x| <= 1024: inputs whose range lies within
 * +-this take the cheaper path; others the saturating one (`party.ts`).
 */
export const SIGMOID_SATURATION = 1024;

/**
 * exp's documented domain [-1024, 6] (`party.ts`, (1 + x/1024)^1024). Above 6 the limit method leaves its
 * documented error (x^2/2048 relative) and soon the truncation's range, so `exp` refuses a range that reaches
 * past {@link EXP_MAX}. Below -1024 the base 1 + x/1024 is negative and its powers grow: the session then asks
 * for the saturating variant, which gives exactly 0 there (e^-1024 is below every supported fixed-point unit,
 * 2^-20).
 */
export const EXP_MAX = 6;

/** exp's lower limit: inputs whose range reaches below -this take the saturating variant. */
export const EXP_SATURATION = 1024;

/**
 * reciprocal's domain [0.01, 500]: Newton-Raphson from 3 e^(0.5 - x) + 0.003 converges only when
 * 0 < x y0 < 2, which fails above about 666 and for x <= 0, and needs more than its 12 steps far below 0.01.
 */
export const RECIPROCAL_DOMAIN = { lo: 0.01, hi: 500 } as const;

/** The signed ring range: values outside it wrap mod 2^64. */
export const RING: Range = { lo: -(1n << 63n), hi: (1n << 63n) - 1n };

/** The truncation's input range [-2^62, 2^62) (exact-wrap truncation, `party.ts`). */
export const TRUNC: Range = { lo: -(1n << 62n), hi: (1n << 62n) - 1n };

// biome-ignore lint/complexity/useMathMinMax: Math.min and Math.max do not take BigInts.
const min = (...v: bigint[]): bigint => v.reduce((a, b) => (b < a ? b : a));
// biome-ignore lint/complexity/useMathMinMax: Math.min and Math.max do not take BigInts.
const max = (...v: bigint[]): bigint => v.reduce((a, b) => (b > a ? b : a));

/**
 * Whether `r` lies inside `limit`.
 * @example
 * ```ts
 * within({ lo: 0n, hi: 5n }, RING); // true
 * ```
 */
export function within(r: Range, limit: Range): boolean {
  return r.lo >= limit.lo && r.hi <= limit.hi;
}

/**
 * [-b, b] for a non-negative integer b.
 * @example
 * ```ts
 * symmetric(65536n); // { lo: -65536n, hi: 65536n }
 * ```
 */
export function symmetric(b: bigint): Range {
  return { lo: -b, hi: b };
}

/**
 * Interval sum.
 * @example
 * ```ts
 * addRange({ lo: -1n, hi: 2n }, { lo: 0n, hi: 3n }); // { lo: -1n, hi: 5n }
 * ```
 */
export function addRange(a: Range, b: Range): Range {
  return { lo: a.lo + b.lo, hi: a.hi + b.hi };
}

/**
 * Interval difference a - b.
 * @example
 * ```ts
 * subRange({ lo: 0n, hi: 1n }, { lo: 0n, hi: 1n }); // { lo: -1n, hi: 1n }
 * ```
 */
export function subRange(a: Range, b: Range): Range {
  return { lo: a.lo - b.hi, hi: a.hi - b.lo };
}

/**
 * Interval negation.
 * @example
 * ```ts
 * negRange({ lo: -1n, hi: 2n }); // { lo: -2n, hi: 1n }
 * ```
 */
export function negRange(a: Range): Range {
  return { lo: -a.hi, hi: -a.lo };
}

/**
 * Interval product (before truncation).
 * @example
 * ```ts
 * mulRange({ lo: -2n, hi: 3n }, { lo: 1n, hi: 4n }); // { lo: -8n, hi: 12n }
 * ```
 */
export function mulRange(a: Range, b: Range): Range {
  const p = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
  return { lo: min(...p), hi: max(...p) };
}

/**
 * Interval of x * x (never negative).
 * @example
 * ```ts
 * squareRange({ lo: -3n, hi: 2n }); // { lo: 0n, hi: 9n }
 * ```
 */
export function squareRange(a: Range): Range {
  const l = a.lo * a.lo;
  const h = a.hi * a.hi;
  if (a.lo <= 0n && a.hi >= 0n) return { lo: 0n, hi: max(l, h) };
  return { lo: min(l, h), hi: max(l, h) };
}

/**
 * Interval of a sum of n terms each in `a` (n >= 0).
 * @example
 * ```ts
 * scaleRange({ lo: -1n, hi: 2n }, 3); // { lo: -3n, hi: 6n }
 * ```
 */
export function scaleRange(a: Range, n: number): Range {
  const k = BigInt(n);
  return { lo: a.lo * k, hi: a.hi * k };
}

/**
 * Smallest interval containing all of `list`.
 * @example
 * ```ts
 * hull([{ lo: 0n, hi: 1n }, { lo: -3n, hi: 0n }]); // { lo: -3n, hi: 1n }
 * ```
 */
export function hull(list: readonly Range[]): Range {
  // A loop, not min(...list): spreading a long list (concatRows of many tensors) overflows the call stack.
  let { lo, hi } = list[0];
  for (const r of list) {
    if (r.lo < lo) lo = r.lo;
    if (r.hi > hi) hi = r.hi;
  }
  return { lo, hi };
}

/**
 * Range of the exact-wrap truncation of z by 2^shift: floor(z / 2^shift) or one more (`party.ts`).
 * BigInt `>>` rounds toward minus infinity, as floor does.
 * @example
 * ```ts
 * truncRange({ lo: -65536n, hi: 65536n }, 16); // { lo: -1n, hi: 2n }
 * ```
 */
export function truncRange(z: Range, shift: number): Range {
  const s = BigInt(shift);
  return { lo: z.lo >> s, hi: (z.hi >> s) + 1n };
}

/**
 * Range of round(v * 2^f) over public values v (the encoding `party.ts` applies to public operands).
 * @example
 * ```ts
 * publicRange(Float64Array.of(0.5, -1), 16); // { lo: -65536n, hi: 32768n }
 * ```
 */
export function publicRange(values: ArrayLike<number>, f: number): Range {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(values[i] * 2 ** f);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { lo: BigInt(lo), hi: BigInt(hi) };
}

/**
 * The fixed-point value of a ring integer, for messages (|result| rounded up to a double).
 * @example
 * ```ts
 * toReal(1n << 47n, 16); // 2147483648
 * ```
 */
export function toReal(v: bigint, f: number): number {
  const x = Number(v);
  // Number() rounds to nearest: step outward once if that rounded toward zero, so a bound stays a bound.
  const up = BigInt(x) === v ? x : v > 0n ? (BigInt(x) < v ? x * (1 + 2 ** -52) : x) : BigInt(x) > v ? x * (1 + 2 ** -52) : x;
  return up / 2 ** f;
}

/**
 * The largest |x| a range allows, as a fixed-point value.
 * @example
 * ```ts
 * maxAbsOf({ lo: -131072n, hi: 65536n }, 16); // 2
 * ```
 */
export function maxAbsOf(r: Range, f: number): number {
  return toReal(max(-r.lo, r.hi), f);
}

/**
 * A range as text for error messages, in fixed-point values.
 * @example
 * ```ts
 * describeRange({ lo: -65536n, hi: 65536n }, 16); // '[-1, 1]'
 * ```
 */
export function describeRange(r: Range, f: number): string {
  return `[${toReal(r.lo, f)}, ${toReal(r.hi, f)}]`;
}
