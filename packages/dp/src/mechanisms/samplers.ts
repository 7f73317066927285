/**
 * Exact integer samplers for differential privacy, following Canonne, Kamath and Steinke, "The Discrete
 * Gaussian for Differential Privacy" (NeurIPS 2020, arXiv 2004.00010): Bernoulli(exp(-gamma)) for rational
 * gamma (Alg. 1), the geometric and discrete Laplace distributions (Alg. 2) and the discrete Gaussian (Alg. 3).
 * Every draw is exact: integers, rationals and BigInt where the numbers need it, randomness only from an
 * {@link Rng} (default: the pooled CSPRNG of `@ppml/core`), rejection instead of modulo, and no
 * `Math.exp`/`Math.log` on the sampling path. The hot loops decide most exp(-gamma) comparisons from 8 (rarely
 * 32) random bits with a proven floating-point margin and fall back to BigInt bounds otherwise (see
 * `exact-exp.ts`), which keeps them exact while reaching several million draws per second.
 *
 * Doubles passed as parameters (gamma, scale, sigma) are read as the exact rationals they represent.
 * @module
 */
import { cryptoRng, describeValue, type Rng } from '@ppml/core';
import { decideExpNeg, LazyUniform, lazyLessThanExpNeg, rationalFromDouble, type Rational } from './exact-exp.ts';
import { type GaussianTable, TABLE_MAX_SIGMA, TABLE_MIN_SIGMA, gaussianTable } from './gaussian-table.ts';
import { type WordSource, wordSource } from './words.ts';

/**
 * A non-negative rational given by two bigints, for {@link sampleBernoulliExp}.
 * @example
 * ```ts
 * const third: BigRational = { numerator: 1n, denominator: 3n };
 * ```
 */
export interface BigRational {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/**
 * Largest integer scale handled by the number-only discrete Laplace / geometric path.
 * @example
 * ```ts
 * discreteLaplaceInt(MAX_INTEGER_SCALE, src); // the largest scale of the fast path
 * ```
 */
export const MAX_INTEGER_SCALE: number = 2 ** 46;
/**
 * Largest sigma accepted by {@link sampleDiscreteGaussian} (its integers then stay far below 2^53).
 * @example
 * ```ts
 * sampleDiscreteGaussian(Math.min(sigma, MAX_DISCRETE_GAUSSIAN_SIGMA));
 * ```
 */
export const MAX_DISCRETE_GAUSSIAN_SIGMA: number = 2 ** 40;
/**
 * Largest scale accepted by {@link sampleDiscreteLaplace} and {@link sampleGeometric}.
 * @example
 * ```ts
 * sampleDiscreteLaplace(Math.min(scale, MAX_DISCRETE_LAPLACE_SCALE));
 * ```
 */
export const MAX_DISCRETE_LAPLACE_SCALE: number = 2 ** 45;

// ---------------------------------------------------------------------------------------------------------
// Bernoulli(exp(-gamma)), CKS20 Algorithm 1 (pure integer arithmetic)

function bernoulliRationalWords(num: bigint, den: bigint, src: WordSource): boolean {
  if (den <= 9_007_199_254_740_992n) return src.int(Number(den)) < Number(num);
  return src.bigInt(den) < num;
}

/** Bernoulli(exp(-num/den)) for 0 <= num/den <= 1 by the parity of the first failure (CKS20 Alg. 1). */
function bernoulliExpUnit(num: bigint, den: bigint, src: WordSource): boolean {
  let k = 1n;
  while (bernoulliRationalWords(num, den * k, src)) k++;
  return (k & 1n) === 1n;
}

function bernoulliExpCks(num: bigint, den: bigint, src: WordSource): boolean {
  if (num <= den) return bernoulliExpUnit(num, den, src);
  const whole = num / den;
  for (let i = 0n; i < whole; i++) if (!bernoulliExpUnit(1n, 1n, src)) return false;
  return bernoulliExpUnit(num - whole * den, den, src);
}

function toRational(name: string, x: number | BigRational): Rational {
  if (typeof x === 'number') {
    if (!(Number.isFinite(x) && x >= 0)) {
      throw new RangeError(`${name} must be a finite number >= 0, got ${describeValue(x)}`);
    }
    return rationalFromDouble(x);
  }
  if (x === null || typeof x !== 'object' || typeof x.numerator !== 'bigint' || typeof x.denominator !== 'bigint') {
    throw new TypeError(`${name} must be a number or { numerator: bigint, denominator: bigint }, got ${describeValue(x)}`);
  }
  if (x.denominator < 1n) throw new RangeError(`${name}.denominator must be >= 1n, got ${x.denominator}n`);
  if (x.numerator < 0n) throw new RangeError(`${name}.numerator must be >= 0n, got ${x.numerator}n`);
  return { num: x.numerator, den: x.denominator };
}

/**
 * An exact Bernoulli(exp(-gamma)) draw for rational gamma >= 0 (CKS20 Alg. 1: for gamma <= 1, the parity of
 * the first failing Bernoulli(gamma/k); for gamma > 1, floor(gamma) draws of Bernoulli(exp(-1)) and one of
 * the fractional part). A number `gamma` is read as the exact rational value of the double.
 * @example
 * ```ts
 * const heads = sampleBernoulliExp({ numerator: 1n, denominator: 3n }); // P(true) = exp(-1/3)
 * const tails = sampleBernoulliExp(2.5);                                 // P(true) = exp(-2.5)
 * ```
 */
export function sampleBernoulliExp(gamma: number | BigRational, rng: Rng = cryptoRng): boolean {
  const g = toRational('gamma', gamma);
  return bernoulliExpCks(g.num, g.den, sourceOf(rng));
}

// ---------------------------------------------------------------------------------------------------------
// Geometric and discrete Laplace, CKS20 Algorithm 2, with fast exact exp comparisons

const TWO_32 = 4_294_967_296;
const V_TABLE = 32;
const V_LO = new Float64Array(V_TABLE + 1);
const V_HI = new Float64Array(V_TABLE + 1);
{
  let p = 1;
  for (let k = 1; k <= V_TABLE; k++) {
    p *= 0.36787944117144233; // relative error <= k 2^-52, far inside the 2^-30 margin below
    V_LO[k] = p * TWO_32 * (1 - 2 ** -30);
    V_HI[k] = p * TWO_32 * (1 + 2 ** -30);
  }
}

/**
 * V with P(V >= k) = e^-k: the number of thresholds e^-1, e^-2, ... lying above one lazy uniform u, read 8 bits
 * at a time first (the 2^-8 cell of u decides unless it straddles a threshold's margin).
 */
function geometricE1(src: WordSource): number {
  const b = src.byte();
  let v = 0;
  const cellLo = b * 16_777_216;
  const cellHi = cellLo + 16_777_216;
  while (v < V_TABLE) {
    const k = v + 1;
    if (cellHi <= V_LO[k]) v = k;
    else if (cellLo >= V_HI[k]) return v;
    else break;
  }
  const w = cellLo + (src.next() >>> 8);
  while (v < V_TABLE) {
    const k = v + 1;
    if (w + 1 <= V_LO[k]) v = k;
    else if (w >= V_HI[k]) return v;
    else break;
  }
  const u = new LazyUniform(w);
  while (u.lessThanExpNeg(BigInt(v + 1), 1n, src)) v++;
  return v;
}

/**
 * Internal fast path: floor(E * t) for E ~ Exp(1) and integer t in [1, 2^46], i.e. P(X >= k) = e^(-k/t).
 * X = U + t V with U in [0, t) accepted with probability exp(-U/t) and V ~ geometricE1 (CKS20 Alg. 2, s = 1).
 */
export function geometricInt(t: number, src: WordSource): number {
  const invT = 1 / t;
  let u: number;
  for (;;) {
    u = src.int(t);
    const d = decideExpNeg(src, u * invT); // |u*invT - u/t| <= 2^-52 u/t
    if (d === 1) break;
    if (d === -1 && lazyLessThanExpNeg(src.prefix, BigInt(u), BigInt(t), src)) break;
  }
  const v = geometricE1(src);
  // Exact while u + t v < 2^53, i.e. unless v >= 127 (t <= 2^46), which has probability e^-127 < 2^-183; such a
  // value would be rounded to the nearest double, a deviation from the exact law far below any delta in use.
  return u + t * v;
}

/**
 * Internal fast path: the discrete Laplace distribution P(x) proportional to exp(-|x|/t) for integer t in
 * [1, 2^46] (CKS20 Alg. 2 with s = 1): a geometric magnitude and a sign, rejecting "negative zero".
 */
export function discreteLaplaceInt(t: number, src: WordSource): number {
  for (;;) {
    const x = geometricInt(t, src);
    if (src.bit() === 1) {
      if (x !== 0) return -x;
    } else return x;
  }
}

/** floor(E * a / b) for E ~ Exp(1), a/b a dyadic rational (b a power of two) with a < 2^53 (CKS20 Alg. 2, t = a, s = b). */
function geometricDyadic(a: bigint, b: bigint, src: WordSource): number {
  const t = Number(a);
  const invT = 1 / t;
  let u: number;
  for (;;) {
    u = src.int(t);
    const d = decideExpNeg(src, u * invT);
    if (d === 1) break;
    if (d === -1 && lazyLessThanExpNeg(src.prefix, BigInt(u), a, src)) break;
  }
  const v = geometricE1(src);
  if (t <= MAX_INTEGER_SCALE && v < 127) return Math.floor((u + t * v) / Number(b)); // b is a power of two: exact
  return Number((BigInt(u) + a * BigInt(v)) / b);
}

function checkScale(name: string, scale: unknown, max: number): asserts scale is number {
  if (typeof scale !== 'number') throw new TypeError(`${name} must be a finite number in (0, ${max}], got ${describeValue(scale)}`);
  if (!(scale > 0 && scale <= max)) {
    throw new RangeError(`${name} must be a finite number in (0, ${max}], got ${describeValue(scale)}`);
  }
}

function geometricScale(scale: number, src: WordSource): number {
  if (Number.isInteger(scale)) return geometricInt(scale, src);
  const r = rationalFromDouble(scale);
  return geometricDyadic(r.num, r.den, src);
}

/**
 * An exact geometric draw X >= 0 with P(X >= k) = exp(-k/scale), i.e. success probability 1 - exp(-1/scale)
 * (CKS20 Alg. 2 without the sign). `scale` in (0, 2^45] is read as an exact rational.
 * @example
 * ```ts
 * const failures = sampleGeometric(10); // mean 1/(e^0.1 - 1), about 9.51
 * ```
 */
export function sampleGeometric(scale: number, rng: Rng = cryptoRng): number {
  checkScale('scale', scale, MAX_DISCRETE_LAPLACE_SCALE);
  return geometricScale(scale, sourceOf(rng));
}

/**
 * An exact discrete Laplace draw: P(x) proportional to exp(-|x|/scale) on the integers (CKS20 Alg. 2).
 * Variance 2e^(-1/scale)/(1 - e^(-1/scale))^2. `scale` in (0, 2^45] is read as an exact rational.
 * @example
 * ```ts
 * const noisyCount = trueCount + sampleDiscreteLaplace(1 / epsilon);
 * ```
 */
export function sampleDiscreteLaplace(scale: number, rng: Rng = cryptoRng): number {
  checkScale('scale', scale, MAX_DISCRETE_LAPLACE_SCALE);
  return discreteLaplaceScale(scale, sourceOf(rng));
}

/**
 * Fills `out` with exact discrete Laplace draws of the given scale (see {@link sampleDiscreteLaplace}).
 * @example
 * ```ts
 * const noise = fillDiscreteLaplace(new Float64Array(1000), 4);
 * ```
 */
export function fillDiscreteLaplace(out: Float64Array, scale: number, rng: Rng = cryptoRng): Float64Array {
  if (!(out instanceof Float64Array)) throw new TypeError(`out must be a Float64Array, got ${describeValue(out)}`);
  checkScale('scale', scale, MAX_DISCRETE_LAPLACE_SCALE);
  const src = sourceOf(rng);
  for (let i = 0; i < out.length; i++) out[i] = discreteLaplaceScale(scale, src);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Discrete Gaussian, CKS20 Algorithm 3

/**
 * Internal: an exact sampler of N_Z(0, sigma^2), P(x) proportional to exp(-x^2/(2 sigma^2)), for a double sigma
 * in (0, 2^40]. For sigma in [2^12, 2^36) (the secure-noise regime) draws come from the table-driven rejection
 * sampler of `gaussian-table.ts` (about 1.03 proposals and two random words per draw); otherwise proposals are
 * discrete Laplace with t = floor(sigma) + 1, accepted with probability exp(-(|y| - sigma^2/t)^2 / (2 sigma^2))
 * (CKS20 Alg. 3; about 1.3 proposals per draw for large sigma). Both are exact.
 */
export class DiscreteGaussianSampler {
  readonly sigma: number;
  readonly t: number;
  readonly c: number;
  readonly inv2s2: number;
  /** sigma^2 = num / den exactly, computed on first use (only the rare exact CKS20 acceptance needs it). */
  #s2: { num: bigint; den: bigint } | null = null;
  /** The table sampler used for this sigma, if any. */
  readonly table: GaussianTable | null;

  constructor(sigma: number) {
    this.sigma = sigma;
    this.table = sigma >= TABLE_MIN_SIGMA && sigma < TABLE_MAX_SIGMA ? gaussianTable(sigma) : null;
    this.t = Math.floor(sigma) + 1;
    const s2 = sigma * sigma;
    this.c = s2 / this.t;
    this.inv2s2 = 1 / (2 * s2);
  }

  /** sigma^2 = s2Num / s2Den exactly. */
  get s2Num(): bigint {
    return this.#square().num;
  }

  get s2Den(): bigint {
    return this.#square().den;
  }

  #square(): { num: bigint; den: bigint } {
    if (this.#s2 === null) {
      const r = rationalFromDouble(this.sigma);
      this.#s2 = { num: r.num * r.num, den: r.den * r.den };
    }
    return this.#s2;
  }

  /** One draw. */
  sample(src: WordSource): number {
    if (this.table !== null) return this.table.sample(src);
    return this.sampleCks(src);
  }

  /** Fills `out` with draws times `multiplier` (a power of two: the products are exact). */
  fill(out: Float64Array, multiplier: number, src: WordSource): Float64Array {
    if (this.table !== null) return this.table.fill(out, multiplier, src);
    for (let i = 0; i < out.length; i++) out[i] = this.sampleCks(src) * multiplier;
    return out;
  }

  /** One draw by CKS20 Alg. 3 (whatever sigma). */
  sampleCks(src: WordSource): number {
    const t = this.t;
    for (;;) {
      const y = discreteLaplaceInt(t, src);
      const a = y < 0 ? -y : y;
      const diff = a - this.c;
      // |gHat - gamma| <= (sqrt(2 gamma) + gamma) 2^-50 for |y| < 2^53 (rounding of sigma^2, sigma^2/t, the
      // difference and the product), well inside the 2^-40 (1 + gamma) required by the fast path.
      const gHat = diff * diff * this.inv2s2;
      const d = decideExpNeg(src, gHat);
      if (d === 1) return y;
      if (d === -1 && this.exactAccept(src.prefix, a, src)) return y;
    }
  }

  /** The exact comparison: gamma = (|y| t d - n)^2 / (2 n d t^2) with sigma^2 = n/d. */
  exactAccept(w: number, a: number, src: WordSource): boolean {
    const t = BigInt(this.t);
    const n = this.s2Num;
    const d = this.s2Den;
    const diff = BigInt(a) * t * d - n;
    return lazyLessThanExpNeg(w, diff * diff, 2n * n * d * t * t, src);
  }
}

function checkSigma(sigma: unknown): asserts sigma is number {
  if (typeof sigma !== 'number') {
    throw new TypeError(`sigma must be a finite number in (0, 2^40], got ${describeValue(sigma)}`);
  }
  if (!(sigma > 0 && sigma <= MAX_DISCRETE_GAUSSIAN_SIGMA)) {
    throw new RangeError(`sigma must be a finite number in (0, 2^40], got ${describeValue(sigma)}`);
  }
}

/**
 * An exact discrete Gaussian draw N_Z(0, sigma^2): P(x) proportional to exp(-x^2 / (2 sigma^2)) on the integers
 * (CKS20 Alg. 3). Its variance is below sigma^2 and equal to it within 1e-12 relative for sigma >= 2.
 * @example
 * ```ts
 * const noisyCount = trueCount + sampleDiscreteGaussian(3.5);
 * ```
 */
export function sampleDiscreteGaussian(sigma: number, rng: Rng = cryptoRng): number {
  checkSigma(sigma);
  return new DiscreteGaussianSampler(sigma).sample(sourceOf(rng));
}

/**
 * Fills `out` with exact discrete Gaussian draws N_Z(0, sigma^2) (see {@link sampleDiscreteGaussian}).
 * @example
 * ```ts
 * const noise = fillDiscreteGaussian(new Float64Array(1000), 3.5);
 * ```
 */
export function fillDiscreteGaussian(out: Float64Array, sigma: number, rng: Rng = cryptoRng): Float64Array {
  if (!(out instanceof Float64Array)) throw new TypeError(`out must be a Float64Array, got ${describeValue(out)}`);
  checkSigma(sigma);
  return new DiscreteGaussianSampler(sigma).fill(out, 1, sourceOf(rng));
}

/** Internal: the {@link WordSource} for an optional generator. */
export function sourceOf(rng: Rng | undefined): WordSource {
  if (rng === undefined) return wordSource(cryptoRng);
  if (rng === null || typeof rng !== 'object' || typeof rng.fillBytes !== 'function') {
    throw new TypeError(`rng must be an Rng (fillBytes, nextUint32), got ${describeValue(rng)}`);
  }
  return wordSource(rng);
}

/** Internal: an exact Bernoulli(exp(-gamma)) with the fast path, given an estimate and the exact rational. */
export function bernoulliExpFast(gHat: number, num: bigint, den: bigint, src: WordSource): boolean {
  const d = decideExpNeg(src, gHat);
  if (d !== -1) return d === 1;
  return lazyLessThanExpNeg(src.prefix, num, den, src);
}

/** Internal: one discrete Laplace draw for a double scale in (0, 2^45], read as an exact rational. */
export function discreteLaplaceScale(scale: number, src: WordSource): number {
  if (Number.isInteger(scale)) return discreteLaplaceInt(scale, src);
  for (;;) {
    const x = geometricScale(scale, src);
    if (src.bit() === 1) {
      if (x !== 0) return -x;
    } else return x;
  }
}

/**
 * Internal: a Laplace scale s >= sensitivity / epsilon, checked exactly (so a rounded division can never make
 * the scale smaller than the privacy proof needs), rounded up to 24 significant bits so that the sampler's
 * integers stay small (the noise grows by less than 2^-23 relative).
 */
export function laplaceScaleAtLeast(sensitivity: number, epsilon: number): number {
  const raw = sensitivity / epsilon;
  const unit = 2 ** (Math.floor(Math.log2(raw)) - 23);
  let s = Math.ceil(raw / unit) * unit;
  const e = rationalFromDouble(epsilon);
  const d = rationalFromDouble(sensitivity);
  for (;;) {
    const r = rationalFromDouble(s);
    // s * epsilon >= sensitivity  <=>  r.num e.num d.den >= d.num r.den e.den
    if (r.num * e.num * d.den >= d.num * r.den * e.den) return s;
    s += unit;
  }
}
