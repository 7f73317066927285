/**
 * Internal: a fast exact sampler of the discrete Gaussian N_Z(0, s^2) for large s (the secure-noise regime, where
 * s = sigma / g is between 2^29 and 2^30 grid steps), by rejection from a table-driven staircase envelope.
 *
 * The magnitude a = |x| is proposed from buckets [jW, (j+1)W) of width W = 2^(floor(log2 s) - 5) (32 to 64 buckets
 * per s), for j < K with K W >= 8 s, plus one tail class for a >= K W:
 * - bucket j is chosen with probability H_j / 2^32 from one 32-bit word (Walker's alias method in integers, Vose
 *   1991; the weights leave a small remainder of 2^32 that means "start again"), where the
 *   integer H_j is an upper bound on D exp(-(jW)^2 / (2 s^2)) for a fixed integer scale D, i.e. D times the
 *   largest value of the (unnormalised) density on the bucket;
 * - a is uniform in the bucket (W is a power of two: the low bits of a second word; its top bit is the sign and
 *   the bits in between are the first bits of the acceptance uniform);
 * - a is accepted with probability exp(-a^2 / (2 s^2)) D / H_j, decided on a lazily drawn uniform: from its first
 *   bits almost always (usually against a per-bucket threshold, without evaluating exp), 32 bits otherwise, and exactly by BigInt bounds when even 32 bits cannot decide (probability
 *   about 2^-29; `lazyLessThanScaledExpNeg` in `exact-exp.ts`);
 * - the tail class has weight 16 H_K and proposes bucket K + i with i geometric, P(i) = (1/16)(15/16)^i, and
 *   envelope H_K (15/16)^i, which bounds the density there because K W^2 / s^2 >= 1/8 > ln(16/15); its
 *   acceptance is always decided exactly (it is reached with probability below e^-32);
 * - the sign is uniform, and x = -0 is rejected so that 0 keeps its single share.
 * Each accepted a then has probability proportional to exp(-a^2 / (2 s^2)) per sign: the output is exactly
 * N_Z(0, s^2). This is the classical rejection method with a piecewise-constant envelope (von Neumann 1951;
 * Devroye, "Non-Uniform Random Variate Generation", 1986, Sec. II.3 and VIII.2) with the exact-comparison
 * technique of Canonne, Kamath and Steinke (2020) for the acceptance step. The weights H_j are ceilings of
 * floating-point values inflated by 2^-40 relative, far above the proven error of `expNegApprox` (2^-48) and of
 * the gamma estimate (2^-51 relative), so they are rigorous upper bounds; only the acceptance probability is
 * exact-critical and it is decided exactly. About 1.03 proposals and two 32-bit words per draw.
 * @module
 */
import { expNegApprox, lazyLessThanScaledExpNeg, rationalFromDouble } from './exact-exp.ts';
import type { WordSource } from './words.ts';

/** Smallest and largest s handled by the table (W = 2^(floor(log2 s) - 5) must leave bit 31 free for the sign). */
export const TABLE_MIN_SIGMA: number = 2 ** 12;
export const TABLE_MAX_SIGMA: number = 2 ** 36;

const TWO_32 = 4_294_967_296;
/** Alias table: 2^10 columns of capacity 2^22 (one 32-bit word picks a class exactly). */
const ALIAS_BITS = 10;
const COLUMNS = 1 << ALIAS_BITS;
const CAPACITY = 2 ** (32 - ALIAS_BITS);
const CAPACITY_MASK = CAPACITY - 1;
/** 2^32 (1 - 2^-30) and 2^32 (1 + 2^-30): the margin of the fast acceptance decisions (as in exact-exp.ts). */
const SCALE_LO = TWO_32 * (1 - 2 ** -30);
const SCALE_HI = TWO_32 * (1 + 2 ** -30);

/** The table of one s. */
export class GaussianTable {
  readonly s: number;
  /** Bucket width W, a power of two 2^m. */
  readonly width: number;
  readonly widthBits: number;
  readonly widthMask: number;
  /** Number of body buckets K (classes 0..K-1); class K is the tail, class K + 1 "start again". */
  readonly buckets: number;
  /** The integer class weights (sum 2^32). */
  readonly classWeights: Float64Array;
  /** Walker/Vose alias table over the classes: column c keeps class c when the low 22 bits are < thr[c]. */
  readonly thr: Float64Array;
  readonly alias: Uint16Array;
  /** D / H_j as a double, for the fast acceptance decision. */
  readonly accept: Float64Array;
  /**
   * The acceptance uniform starts with the `spareBits` bits of the offset word between the offset and the sign;
   * sure[j]: a first cell b < sure[j] accepts every a of bucket j at once, because (b + 1) / 2^spareBits is at most
   * a rigorous lower bound of the smallest acceptance probability on the bucket, D exp(-((j+1)W)^2 / (2 s^2)) / H_j.
   */
  readonly sure: Uint16Array;
  readonly spareBits: number;
  readonly spareMask: number;
  /** The integer envelope heights H_0..H_K (H_K is the tail's envelope height at i = 0). */
  readonly weights: Float64Array;
  /** The integer scale D. */
  readonly scale: number;
  readonly inv2s2: number;
  #s2: { num: bigint; den: bigint } | null = null;

  constructor(s: number) {
    if (!(s >= TABLE_MIN_SIGMA && s < TABLE_MAX_SIGMA)) throw new RangeError(`table sampler needs s in [2^12, 2^36), got ${s}`);
    this.s = s;
    let width = 2 ** (Math.floor(Math.log2(s)) - 5);
    // Math.log2 may round across a power of two: keep s / W in [32, 64).
    while (s / width >= 64) width *= 2;
    while (s / width < 32) width /= 2;
    this.width = width;
    this.widthBits = Math.round(Math.log2(width));
    this.widthMask = width - 1;
    // bits of the offset word between the offset (m bits) and the sign (bit 31), at most 8
    this.spareBits = Math.min(8, 31 - this.widthBits);
    this.spareMask = (1 << this.spareBits) - 1;
    const K = Math.ceil((8 * s) / width) + 1;
    this.buckets = K;
    this.inv2s2 = 1 / (2 * s * s);
    // Tail envelope condition (module note): K W^2 / s^2 >= ln(16/15); here it is at least 8/64.
    if (!((K * width * width) / (s * s) >= 0.07) || K + 2 > COLUMNS) throw new RangeError('internal: table shape');
    const f = new Float64Array(K + 1);
    let total = 0;
    for (let j = 0; j <= K; j++) {
      const a = j * width;
      f[j] = expNegApprox(a * a * this.inv2s2);
      total += j < K ? f[j] : 16 * f[j];
    }
    // D such that the inflated weights sum to at most 2^32 (1 - 2^-10): a restart probability of about 0.1 %.
    const scale = Math.floor((TWO_32 * (1 - 2 ** -10)) / (total * (1 + 2 ** -30)));
    this.scale = scale;
    this.weights = new Float64Array(K + 1);
    this.accept = new Float64Array(K + 1);
    this.classWeights = new Float64Array(COLUMNS);
    let sum = 0;
    for (let j = 0; j <= K; j++) {
      // relative errors: expNegApprox 2^-48, gamma 2^-51, the products 2^-52: far inside the 2^-40 inflation
      const h = Math.max(1, Math.ceil(f[j] * scale * (1 + 2 ** -40)));
      this.weights[j] = h;
      this.accept[j] = scale / h;
      this.classWeights[j] = j < K ? h : 16 * h;
      sum += this.classWeights[j];
    }
    if (!(sum <= TWO_32)) throw new RangeError('internal: table weights exceed 2^32');
    this.classWeights[K + 1] = TWO_32 - sum;
    this.sure = new Uint16Array(K);
    for (let j = 0; j < K; j++) {
      const a = (j + 1) * width;
      const pMin = expNegApprox(a * a * this.inv2s2) * this.accept[j] * (1 - 2 ** -30);
      this.sure[j] = Math.max(0, Math.min(this.spareMask + 1, Math.floor(pMin * (this.spareMask + 1))));
    }
    // Vose's alias method in integers: every column holds exactly CAPACITY units (the weights sum to 2^32).
    this.thr = new Float64Array(COLUMNS);
    this.alias = new Uint16Array(COLUMNS);
    const w = Float64Array.from(this.classWeights);
    const small: number[] = [];
    const large: number[] = [];
    for (let c = 0; c < COLUMNS; c++) (w[c] < CAPACITY ? small : large).push(c);
    while (small.length > 0 && large.length > 0) {
      const sm = small.pop() as number;
      const lg = large[large.length - 1];
      this.thr[sm] = w[sm];
      this.alias[sm] = lg;
      w[lg] -= CAPACITY - w[sm];
      if (w[lg] < CAPACITY) {
        large.pop();
        small.push(lg);
      }
    }
    for (const c of large) {
      if (w[c] !== CAPACITY) throw new RangeError('internal: alias table does not balance');
      this.thr[c] = CAPACITY;
      this.alias[c] = c;
    }
    if (small.length > 0) throw new RangeError('internal: alias table does not balance');
  }

  /** s^2 = num / den exactly (for the exact acceptance). */
  get s2(): { num: bigint; den: bigint } {
    if (this.#s2 === null) {
      const r = rationalFromDouble(this.s);
      this.#s2 = { num: r.num * r.num, den: r.den * r.den };
    }
    return this.#s2;
  }

  /** One exact draw of N_Z(0, s^2). */
  sample(src: WordSource): number {
    const K = this.buckets;
    for (;;) {
      const r = src.next();
      const col = r >>> (32 - ALIAS_BITS);
      const c = (r & CAPACITY_MASK) < this.thr[col] ? col : this.alias[col];
      if (c > K) continue; // the restart class
      const x = this.attempt(c, src.next(), src);
      if (!Number.isNaN(x)) return x; // NaN: rejected, start again
    }
  }

  /**
   * Fills `out` with exact draws times `multiplier` (a power of two, so the products are exact): the loop of
   * {@link GaussianTable.sample} with the common case kept in local variables, and the rare cases (restart,
   * tail, a cell that straddles the threshold) handed to {@link GaussianTable.attempt} and, on rejection, to
   * `sample`.
   */
  fill(out: Float64Array, multiplier: number, src: WordSource): Float64Array {
    const K = this.buckets;
    const thr = this.thr;
    const alias = this.alias;
    const sure = this.sure;
    const width = this.width;
    const mask = this.widthMask;
    const wBits = this.widthBits;
    const spareMask = this.spareMask;
    const words = src.words;
    const last = words.length - 2;
    const n = out.length;
    // Words are read straight from the source's block (two per proposal; the second is wasted, harmlessly, when
    // the first picks the restart or tail class); `src.pos` is synchronised around every call into `src`.
    let pos = src.pos;
    for (let i = 0; i < n; i++) {
      let r: number;
      let word: number;
      if (pos <= last) {
        r = words[pos];
        word = words[pos + 1];
        pos += 2;
      } else {
        src.pos = pos;
        r = src.next();
        word = src.next();
        pos = src.pos;
      }
      const col = r >>> (32 - ALIAS_BITS);
      const c = (r & CAPACITY_MASK) < thr[col] ? col : alias[col];
      if (c < K) {
        const a = c * width + (word & mask);
        if (((word >>> wBits) & spareMask) < sure[c] && a !== 0) {
          out[i] = (word >>> 31 === 1 ? -a : a) * multiplier;
          continue;
        }
        src.pos = pos;
        const x = this.attempt(c, word, src);
        out[i] = (Number.isNaN(x) ? this.sample(src) : x) * multiplier;
      } else {
        src.pos = pos;
        const x = c === K ? this.attempt(c, word, src) : Number.NaN; // c > K: the restart class
        out[i] = (Number.isNaN(x) ? this.sample(src) : x) * multiplier;
      }
      pos = src.pos;
    }
    src.pos = pos;
    return out;
  }

  /**
   * The rest of one proposal once class c <= K and the offset word were drawn: the draw if accepted, NaN if
   * rejected (the caller starts again). Shared by {@link GaussianTable.sample} and {@link GaussianTable.fill}.
   */
  attempt(c: number, word: number, src: WordSource): number {
    const negative = word >>> 31 === 1;
    if (c === this.buckets) {
      const x = this.tail(word & this.widthMask, src);
      return x < 0 || (negative && x === 0) ? Number.NaN : negative ? -x : x;
    }
    const a = c * this.width + (word & this.widthMask);
    if (negative && a === 0) return Number.NaN;
    // the acceptance uniform u: its first spareBits bits come from the offset word
    const b = (word >>> this.widthBits) & this.spareMask;
    if (b < this.sure[c]) return negative ? -a : a;
    const p = expNegApprox(a * a * this.inv2s2) * this.accept[c];
    const lo = p * SCALE_LO;
    const hi = p * SCALE_HI;
    const k = this.spareBits;
    const cell = 2 ** (32 - k);
    if ((b + 1) * cell <= lo) return negative ? -a : a;
    if (b * cell >= hi) return Number.NaN;
    const w = b * cell + (src.next() >>> k); // the first 32 bits of u
    if (w + 1 <= lo) return negative ? -a : a;
    if (w >= hi) return Number.NaN;
    return this.exactAccept(w, a, BigInt(this.weights[c]), 1n, src) ? (negative ? -a : a) : Number.NaN;
  }

  /** u < exp(-a^2 / (2 s^2)) D f / h, exactly, for the uniform u with first 32 bits w. */
  exactAccept(w: number, a: number, h: bigint, f: bigint, src: WordSource): boolean {
    const aa = BigInt(a);
    const { num, den } = this.s2;
    return lazyLessThanScaledExpNeg(w, aa * aa * den, 2n * num, BigInt(this.scale) * f, h, src);
  }

  /** The tail class: a = (K + i) W + offset with i ~ Geometric(1/16); returns a, or -1 when rejected. */
  tail(offset: number, src: WordSource): number {
    let i = 0;
    while ((src.byte() & 15) !== 0) i++;
    const a = (this.buckets + i) * this.width + offset;
    const h = BigInt(this.weights[this.buckets]) * 15n ** BigInt(i);
    return this.exactAccept(src.next(), a, h, 16n ** BigInt(i), src) ? a : -1;
  }
}

const cache = new Map<number, GaussianTable>();
const CACHE_SIZE = 16;

/** The (cached) table of s; building one costs a few microseconds. */
export function gaussianTable(s: number): GaussianTable {
  let t = cache.get(s);
  if (t === undefined) {
    t = new GaussianTable(s);
    if (cache.size >= CACHE_SIZE) cache.clear();
    cache.set(s, t);
  }
  return t;
}
