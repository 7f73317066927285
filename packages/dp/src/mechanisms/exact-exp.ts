/**
 * Internal: exact Bernoulli(exp(-gamma)) decisions for rational gamma, fast enough for the hot loops.
 *
 * A Bernoulli(p) draw is the comparison u < p of a uniform real u in [0, 1) with p. The bits of u are drawn
 * lazily and compared with p = exp(-gamma):
 * - Fast path: the first 8 bits are compared with a table bracket of p (the values of exp at the ends of the
 *   1/256-interval holding gamma); if the 2^-8 cell of u straddles it, 24 more bits are compared with a
 *   floating-point estimate of p. Both use a relative margin of 2^-30 against proven errors of at most about
 *   2^-40 (the callers' gamma estimates) and 2^-44 (the tables and polynomial), so a decision is only taken
 *   when the cell of u lies certainly on one side of p.
 * - Exact path (probability about 2^-29 per draw): the same u is extended with more random bits and compared
 *   with rigorous integer bounds on exp(-gamma) computed with BigInt from the exact rational gamma (alternating
 *   Taylor series with floor arithmetic and an explicit error bound), refining until the answer is certain.
 *   For rational gamma > 0, exp(-gamma) is irrational (Lindemann), so this terminates with probability 1.
 * The result is therefore exactly Bernoulli(exp(-gamma)); floating point only ever takes decisions that are
 * certain. `Math.exp`/`Math.log` are never used. This is the lazy-comparison idea behind exact samplers of
 * von Neumann type; Canonne, Kamath and Steinke (2020, Alg. 1) give the purely integer loop that
 * `sampleBernoulliExp` in `samplers.ts` implements independently, and the tests check that both agree.
 * @module
 */
import type { WordSource } from './words.ts';

/** An exact rational num/den (den > 0). */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const LITTLE = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The exact value of a finite double as a rational (denominator a power of two). */
export function rationalFromDouble(x: number): Rational {
  if (!Number.isFinite(x)) throw new RangeError(`value must be a finite number, got ${x}`);
  if (x === 0) return { num: 0n, den: 1n };
  F64[0] = x;
  const lo = U32[LITTLE ? 0 : 1];
  const hi = U32[LITTLE ? 1 : 0];
  const negative = hi >>> 31 === 1;
  const biased = (hi >>> 20) & 0x7ff;
  let mHi = hi & 0xfffff;
  let mLo = lo;
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mHi |= 0x100000;
    exp = biased - 1075;
  }
  // strip trailing zero bits (at most 52) with 32-bit arithmetic, then build the bigint once
  let tz = mLo !== 0 ? ctz32(mLo) : 32 + ctz32(mHi);
  if (tz > -exp) tz = Math.max(0, -exp);
  if (tz >= 32) {
    mLo = mHi >>> (tz - 32);
    mHi = 0;
  } else if (tz > 0) {
    mLo = ((mLo >>> tz) | (mHi << (32 - tz))) >>> 0;
    mHi >>>= tz;
  }
  exp += tz;
  let mant = BigInt(mHi * 4_294_967_296 + mLo);
  if (negative) mant = -mant;
  return exp >= 0 ? { num: mant << BigInt(exp), den: 1n } : { num: mant, den: 1n << BigInt(-exp) };
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Bounds [lo, hi] on exp(-r/b) * 2^prec for 0 <= r <= b, from the alternating Taylor series. */
function expNegUnitBounds(r: bigint, b: bigint, prec: bigint): [bigint, bigint] {
  const one = 1n << prec;
  if (r === 0n) return [one, one];
  let term = one;
  let sum = one;
  let k = 1n;
  for (;;) {
    term = (term * r) / (b * k); // floor; the computed term is at most k units below the true one
    if (term === 0n) break;
    sum += (k & 1n) === 1n ? -term : term;
    k++;
  }
  // Accumulated floor error <= sum_{j<k} j <= k^2; the omitted tail is below the first omitted term (<= k).
  const err = k * k + k + 1n;
  return [sum - err, sum + err];
}

/** Bounds [lo, hi] with lo <= exp(-num/den) * 2^prec <= hi, for num >= 0, den > 0. */
export function expNegBounds(num: bigint, den: bigint, prec: number): [bigint, bigint] {
  const n = num / den;
  const r = num - n * den;
  const p = BigInt(prec);
  if (n === 0n) return clampBounds(expNegUnitBounds(r, den, p));
  if (n > p) return [0n, 1n]; // exp(-gamma) < e^-prec < 2^-prec
  const guard = 64n + 2n * BigInt(n.toString(2).length);
  const w = p + guard;
  const [eLo, eHi] = clampBounds(expNegUnitBounds(1n, 1n, w));
  let lo = 1n << w;
  let hi = 1n << w;
  for (let i = 0n; i < n; i++) {
    lo = (lo * eLo) >> w;
    hi = ceilShift(hi * eHi, w);
  }
  const [fLo, fHi] = clampBounds(expNegUnitBounds(r, den, w));
  lo = (lo * fLo) >> w;
  hi = ceilShift(hi * fHi, w);
  return [lo >> guard, ceilShift(hi, guard)];
}

function ceilShift(x: bigint, s: bigint): bigint {
  return -(-x >> s);
}

function clampBounds([lo, hi]: [bigint, bigint]): [bigint, bigint] {
  return [lo < 0n ? 0n : lo, hi];
}

/**
 * Exact comparison u < exp(-num/den), where the first 32 bits of the uniform u are `w` and further bits are
 * drawn from `src` as needed.
 */
export function lazyLessThanExpNeg(w: number, num: bigint, den: bigint, src: WordSource): boolean {
  return new LazyUniform(w).lessThanExpNeg(num, den, src);
}

/**
 * A uniform real u in [0, 1) of which only a prefix of bits has been drawn; comparisons with exp(-num/den)
 * draw further bits only while the answer is uncertain, so several comparisons can share one u.
 */
export class LazyUniform {
  u: bigint;
  m: number;

  constructor(firstWord: number) {
    this.u = BigInt(firstWord);
    this.m = 32;
  }

  lessThanExpNeg(num: bigint, den: bigint, src: WordSource): boolean {
    if (num === 0n) return true;
    for (;;) {
      const [lo, hi] = expNegBounds(num, den, this.m + 16);
      if ((this.u + 1n) << 16n <= lo) return true;
      if (this.u << 16n >= hi) return false;
      this.u = (this.u << 32n) | BigInt(src.next());
      this.m += 32;
    }
  }
}

/** Largest gamma for which the fast path evaluates exp(-gamma); beyond it, p < e^-100 < 2^-144. */
export const GAMMA_CUT = 100;
/** exp(-n) for n = 0..GAMMA_CUT and exp(-j/256) for j = 0..255, from the rigorous BigInt bounds (error < 2^-60). */
const EXP_NEG_INT = new Float64Array(GAMMA_CUT + 1);
const EXP_NEG_FRAC = new Float64Array(257);
for (let n = 0; n <= GAMMA_CUT; n++) {
  const prec = 64 + Math.ceil(1.45 * n); // e^-n >= 2^(-1.45 n): keeps 64 significant bits
  EXP_NEG_INT[n] = Number(expNegBounds(BigInt(n), 1n, prec)[0]) * 2 ** -prec;
}
for (let j = 0; j <= 256; j++) EXP_NEG_FRAC[j] = Number(expNegBounds(BigInt(j), 256n, 64)[0]) * 2 ** -64;

/**
 * exp(-g) for 0 <= g <= GAMMA_CUT with relative error below 2^-48: g = n + j/256 + r with r < 1/256, two
 * table factors and a degree-5 Taylor polynomial for exp(-r) (truncation below 2^-57). Used only to decide
 * comparisons with a 2^-30 margin; never as a probability.
 */
export function expNegApprox(g: number): number {
  const n = Math.floor(g);
  const f = (g - n) * 256; // exact
  const j = Math.floor(f);
  const r = (f - j) * 0.00390625; // exact: r = g - n - j/256
  const poly = 1 - r * (1 - r * (0.5 - r * (0.16666666666666666 - r * (0.041666666666666664 - r * 0.008333333333333333))));
  return EXP_NEG_INT[n] * EXP_NEG_FRAC[j] * poly;
}

const TWO_32 = 4_294_967_296;
/** 2^32 (1 - 2^-30) and 2^32 (1 + 2^-30): the margin of the fast path. */
const SCALE_LO = TWO_32 * (1 - 2 ** -30);
const SCALE_HI = TWO_32 * (1 + 2 ** -30);

/**
 * Fast-path decision of u < exp(-gamma) from the first 32 bits `w` of u, given an estimate `gHat` of gamma
 * whose absolute error is below 2^-40 (1 + gamma). Returns 1 (true), 0 (false) or -1 (undecided: call
 * {@link lazyLessThanExpNeg} with the same `w` and the exact gamma).
 */
export function fastLessThanExpNeg(w: number, gHat: number): number {
  if (gHat > GAMMA_CUT) return w >= 1 ? 0 : -1;
  const p = gHat <= 0 ? 1 : expNegApprox(gHat);
  if (w + 1 <= p * SCALE_LO) return 1;
  if (w >= p * SCALE_HI) return 0;
  return -1;
}

const TWO_24 = 16_777_216;
/** Upper bound used for p when gamma > GAMMA_CUT (p < e^-100 < 2^-144 < 2^-100): in 2^32 units. */
const TINY = 2 ** -68;

/**
 * Decides u < exp(-gamma) for a fresh lazy uniform u, reading 8 random bits first and 24 more only when the
 * 2^-8 cell straddles the margin around p (probability about 2^-7), given an estimate `gHat` of gamma with
 * absolute error below 2^-40 (1 + gamma). Returns 1 (true) or 0 (false), or -1 when even 32 bits cannot decide;
 * then `src.prefix` holds the first 32 bits of u for {@link lazyLessThanExpNeg} with the exact gamma.
 */
export function decideExpNeg(src: WordSource, gHat: number): number {
  let lo: number;
  let hi: number;
  if (gHat > GAMMA_CUT) {
    lo = 0;
    hi = TINY;
  } else if (gHat <= 0) {
    lo = SCALE_LO;
    hi = SCALE_HI;
  } else {
    // Coarse bracket from the tables alone: exp(-gamma) lies between the values at the ends of the 1/256
    // interval containing gamma (monotonicity), enough for the 8-bit cell almost always.
    const n = Math.floor(gHat);
    const j = Math.floor((gHat - n) * 256);
    const base = EXP_NEG_INT[n];
    lo = base * EXP_NEG_FRAC[j + 1] * SCALE_LO;
    hi = base * EXP_NEG_FRAC[j] * SCALE_HI;
  }
  const b = src.byte();
  if ((b + 1) * TWO_24 <= lo) return 1;
  if (b * TWO_24 >= hi) return 0;
  if (gHat > 0 && gHat <= GAMMA_CUT) {
    const p = expNegApprox(gHat);
    lo = p * SCALE_LO;
    hi = p * SCALE_HI;
  }
  const w = b * TWO_24 + (src.next() >>> 8);
  if (w + 1 <= lo) return 1;
  if (w >= hi) return 0;
  src.prefix = w;
  return -1;
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/**
 * Exact comparison u < exp(-num/den) * scaleNum/scaleDen for a uniform u in [0, 1) whose first 32 bits are `w`
 * (further bits drawn from `src` while the answer is uncertain), with num >= 0, den, scaleNum, scaleDen > 0.
 * The bounds on exp(-num/den) are rigorous (see {@link expNegBounds}); the loop ends with probability 1 because
 * the probability that every drawn prefix straddles the threshold halves with each 32-bit extension.
 */
export function lazyLessThanScaledExpNeg(
  w: number,
  num: bigint,
  den: bigint,
  scaleNum: bigint,
  scaleDen: bigint,
  src: WordSource,
): boolean {
  let u = BigInt(w);
  let m = 32;
  for (;;) {
    // u lies in [u/2^m, (u+1)/2^m); the threshold in [lo, hi] * scaleNum / (scaleDen 2^prec)
    const prec = m + 16 + bitLength(scaleDen);
    const [lo, hi] = num === 0n ? [1n << BigInt(prec), 1n << BigInt(prec)] : expNegBounds(num, den, prec);
    const shift = BigInt(prec - m);
    if (((u + 1n) * scaleDen) << shift <= lo * scaleNum) return true;
    if ((u * scaleDen) << shift >= hi * scaleNum) return false;
    u = (u << 32n) | BigInt(src.next());
    m += 32;
  }
}
