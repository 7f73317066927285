/**
 * Vector kernels over Z_2^128 (internal), the ring of SPDZ2k shares and MACs with k + s = 128 (Cramer,
 * Damgard, Escudero, Scholl, Xing, CRYPTO 2018). An element is split into two 64-bit words, `lo[i] + 2^64 hi[i]`,
 * kept in two `BigUint64Array`s so that a share's components have one entry per element like the 64-bit ring's.
 *
 * The loops work on 32-bit limbs through `Uint32Array` views with explicit carries (a BigInt per element made
 * them an order of magnitude slower); products split one factor into 16-bit limbs, so that every partial
 * product and column sum stays exact in a double.
 * @module
 */

/** Two words per element: `lo[i] + 2^64 hi[i]`. */
export interface Vec128 {
  readonly lo: BigUint64Array;
  readonly hi: BigUint64Array;
}

const TWO32 = 0x1_0000_0000;
const INV16 = 1 / 65536;
const INV32 = 2 ** -32;
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

function words(a: BigUint64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, 2 * a.length);
}

/**
 * Writes -(c0 + 2^32 c1 + 2^64 c2 + 2^96 c3) mod 2^128 into element t of the 32-bit limb views (lw, hw) of a
 * Vec128: the share an OT receiver keeps when its accumulated limbs are the sender's share (Gilboa, COPEe).
 * The limbs c_k are 32-bit values; a limb difference splits exactly into (s >>> 0) + 2^32 * borrow.
 * @example
 * ```ts
 * storeNegated(new Uint32Array(x.lo.buffer), new Uint32Array(x.hi.buffer), 0, 1, 0, 0, 0); // x[0] = 2^128 - 1
 * ```
 */
export function storeNegated(lw: Uint32Array, hw: Uint32Array, t: number, c0: number, c1: number, c2: number, c3: number): void {
  let s = 0 - c0;
  let w = s >>> 0;
  lw[2 * t] = w;
  let k = (s - w) * INV32;
  s = k - c1;
  w = s >>> 0;
  lw[2 * t + 1] = w;
  k = (s - w) * INV32;
  s = k - c2;
  w = s >>> 0;
  hw[2 * t] = w;
  k = (s - w) * INV32;
  hw[2 * t + 1] = (k - c3) >>> 0;
}

/**
 * A zero vector of n elements.
 * @example
 * ```ts
 * const z = zeros128(4);
 * ```
 */
export function zeros128(n: number): Vec128 {
  return { lo: new BigUint64Array(n), hi: new BigUint64Array(n) };
}

/**
 * Element i as a bigint in [0, 2^128).
 * @example
 * ```ts
 * const v = get128(x, 0);
 * ```
 */
export function get128(x: Vec128, i: number): bigint {
  return (x.hi[i] << 64n) | x.lo[i];
}

/**
 * Sets element i to v mod 2^128.
 * @example
 * ```ts
 * set128(x, 0, -1n); // 2^128 - 1
 * ```
 */
export function set128(x: Vec128, i: number, v: bigint): void {
  const u = BigInt.asUintN(128, v);
  x.lo[i] = BigInt.asUintN(64, u);
  x.hi[i] = u >> 64n;
}

/**
 * A copy of x.
 * @example
 * ```ts
 * const y = copy128(x);
 * ```
 */
export function copy128(x: Vec128): Vec128 {
  return { lo: x.lo.slice(), hi: x.hi.slice() };
}

/**
 * out = a + b mod 2^128, element-wise.
 * @example
 * ```ts
 * const c = add128(a, b);
 * ```
 */
export function add128(a: Vec128, b: Vec128, out: Vec128 = zeros128(a.lo.length)): Vec128 {
  const n = a.lo.length;
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) set128(out, i, get128(a, i) + get128(b, i));
    return out;
  }
  const al = words(a.lo);
  const ah = words(a.hi);
  const bl = words(b.lo);
  const bh = words(b.hi);
  const ol = words(out.lo);
  const oh = words(out.hi);
  for (let j = 0; j < 2 * n; j += 2) {
    let s = al[j] + bl[j];
    ol[j] = s;
    s = al[j + 1] + bl[j + 1] + (s >= TWO32 ? 1 : 0);
    ol[j + 1] = s;
    s = ah[j] + bh[j] + (s >= TWO32 ? 1 : 0);
    oh[j] = s;
    oh[j + 1] = ah[j + 1] + bh[j + 1] + (s >= TWO32 ? 1 : 0);
  }
  return out;
}

/**
 * out = a - b mod 2^128, element-wise.
 * @example
 * ```ts
 * const d = sub128(x, a);
 * ```
 */
export function sub128(a: Vec128, b: Vec128, out: Vec128 = zeros128(a.lo.length)): Vec128 {
  const n = a.lo.length;
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) set128(out, i, get128(a, i) - get128(b, i));
    return out;
  }
  const al = words(a.lo);
  const ah = words(a.hi);
  const bl = words(b.lo);
  const bh = words(b.hi);
  const ol = words(out.lo);
  const oh = words(out.hi);
  for (let j = 0; j < 2 * n; j += 2) {
    let s = al[j] - bl[j];
    ol[j] = s;
    s = al[j + 1] - bl[j + 1] - (s < 0 ? 1 : 0);
    ol[j + 1] = s;
    s = ah[j] - bh[j] - (s < 0 ? 1 : 0);
    oh[j] = s;
    oh[j + 1] = ah[j + 1] - bh[j + 1] - (s < 0 ? 1 : 0);
  }
  return out;
}

/**
 * out = -a mod 2^128, element-wise.
 * @example
 * ```ts
 * const m = neg128(x);
 * ```
 */
export function neg128(a: Vec128, out: Vec128 = zeros128(a.lo.length)): Vec128 {
  return sub128(zeros128(a.lo.length), a, out);
}

/**
 * Low 128 bits of (a0..a3) * (b0..b7) for a in 32-bit limbs and b in 16-bit limbs, into word j of (ol, oh).
 * The term a_i b_k (below 2^48) sits at 16-bit column 2i + k; a column sums at most 4 terms (below 2^50, exact
 * in a double) before carries move up 16 bits at a time.
 */
function mulWords(
  a0: number,
  a1: number,
  a2: number,
  a3: number,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  ol: Uint32Array,
  oh: Uint32Array,
  j: number,
): void {
  const b0 = w0 & 0xffff;
  const b1 = w0 >>> 16;
  const b2 = w1 & 0xffff;
  const b3 = w1 >>> 16;
  const b4 = w2 & 0xffff;
  const b5 = w2 >>> 16;
  const b6 = w3 & 0xffff;
  const b7 = w3 >>> 16;
  // Carries by an exact multiplication with 2^-16 and floor (faster than % and / on doubles).
  let c = a0 * b0;
  let h = Math.floor(c * INV16);
  let l0 = c - h * 65536;
  c = h + a0 * b1;
  h = Math.floor(c * INV16);
  const l1 = c - h * 65536;
  c = h + a0 * b2 + a1 * b0;
  h = Math.floor(c * INV16);
  const l2 = c - h * 65536;
  c = h + a0 * b3 + a1 * b1;
  h = Math.floor(c * INV16);
  const l3 = c - h * 65536;
  c = h + a0 * b4 + a1 * b2 + a2 * b0;
  h = Math.floor(c * INV16);
  const l4 = c - h * 65536;
  c = h + a0 * b5 + a1 * b3 + a2 * b1;
  h = Math.floor(c * INV16);
  const l5 = c - h * 65536;
  c = h + a0 * b6 + a1 * b4 + a2 * b2 + a3 * b0;
  h = Math.floor(c * INV16);
  const l6 = c - h * 65536;
  c = h + a0 * b7 + a1 * b5 + a2 * b3 + a3 * b1;
  h = Math.floor(c * INV16);
  const l7 = c - h * 65536;
  l0 += l1 * 65536;
  ol[j] = l0;
  ol[j + 1] = l2 + l3 * 65536;
  oh[j] = l4 + l5 * 65536;
  oh[j + 1] = l6 + l7 * 65536;
}

/**
 * out = a * b mod 2^128, element-wise.
 * @example
 * ```ts
 * const p = mul128(x, y);
 * ```
 */
export function mul128(a: Vec128, b: Vec128, out: Vec128 = zeros128(a.lo.length)): Vec128 {
  const n = a.lo.length;
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) set128(out, i, get128(a, i) * get128(b, i));
    return out;
  }
  const al = words(a.lo);
  const ah = words(a.hi);
  const bl = words(b.lo);
  const bh = words(b.hi);
  const ol = words(out.lo);
  const oh = words(out.hi);
  for (let j = 0; j < 2 * n; j += 2) mulWords(al[j], al[j + 1], ah[j], ah[j + 1], bl[j], bl[j + 1], bh[j], bh[j + 1], ol, oh, j);
  return out;
}

/**
 * out = k * a mod 2^128 for a public scalar k (any bigint, taken mod 2^128).
 * @example
 * ```ts
 * const y = scale128(x, 3n);
 * ```
 */
export function scale128(a: Vec128, k: bigint, out: Vec128 = zeros128(a.lo.length)): Vec128 {
  const n = a.lo.length;
  const kk = BigInt.asUintN(128, k);
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) set128(out, i, get128(a, i) * kk);
    return out;
  }
  const kv = zeros128(1);
  set128(kv, 0, kk);
  const kl = words(kv.lo);
  const kh = words(kv.hi);
  const al = words(a.lo);
  const ah = words(a.hi);
  const ol = words(out.lo);
  const oh = words(out.hi);
  for (let j = 0; j < 2 * n; j += 2) mulWords(kl[0], kl[1], kh[0], kh[1], al[j], al[j + 1], ah[j], ah[j + 1], ol, oh, j);
  return out;
}

/**
 * out = a >> 1 (logical, per element): halves every element of an even vector exactly mod 2^127.
 * @example
 * ```ts
 * const h = half128(x);
 * ```
 */
export function half128(a: Vec128, out: Vec128 = zeros128(a.lo.length)): Vec128 {
  const n = a.lo.length;
  for (let i = 0; i < n; i++) {
    const h = a.hi[i];
    out.lo[i] = (a.lo[i] >> 1n) | BigInt.asUintN(64, h << 63n);
    out.hi[i] = h >> 1n;
  }
  return out;
}

/**
 * A Z_2^64 vector lifted to Z_2^128 (high words zero). The vector itself becomes the low words (no copy).
 * @example
 * ```ts
 * const v = lift128(pub);
 * ```
 */
export function lift128(a: BigUint64Array): Vec128 {
  return { lo: a, hi: new BigUint64Array(a.length) };
}

/**
 * The concatenation of vectors.
 * @example
 * ```ts
 * const ab = concat128([a, b]);
 * ```
 */
export function concat128(parts: readonly Vec128[]): Vec128 {
  let n = 0;
  for (const p of parts) n += p.lo.length;
  const out = zeros128(n);
  let off = 0;
  for (const p of parts) {
    out.lo.set(p.lo, off);
    out.hi.set(p.hi, off);
    off += p.lo.length;
  }
  return out;
}

/**
 * Elements [from, to) as a view (no copy).
 * @example
 * ```ts
 * const head = view128(x, 0, 10);
 * ```
 */
export function view128(x: Vec128, from: number, to: number): Vec128 {
  return { lo: x.lo.subarray(from, to), hi: x.hi.subarray(from, to) };
}

/**
 * The sum of all elements mod 2^128.
 * @example
 * ```ts
 * const s = total128(x);
 * ```
 */
export function total128(x: Vec128): bigint {
  const n = x.lo.length;
  const l = words(x.lo);
  const h = words(x.hi);
  let lo = 0n;
  let hi = 0n;
  // Limb sums in doubles (exact below 2^53: 2^20 limbs of 32 bits), folded into BigInts per chunk.
  for (let from = 0; from < n; from += 1 << 20) {
    const to = Math.min(n, from + (1 << 20));
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = from; i < to; i++) {
      s0 += l[2 * i];
      s1 += l[2 * i + 1];
      s2 += h[2 * i];
      s3 += h[2 * i + 1];
    }
    lo += BigInt(s0) + (BigInt(s1) << 32n);
    hi += BigInt(s2) + (BigInt(s3) << 32n);
  }
  return BigInt.asUintN(128, lo + (hi << 64n));
}

/**
 * Σ_i a_i·chi_i mod 2^128 for 64-bit coefficients chi: the random combination of a batched MAC check, in one
 * pass without a product vector. The term of a's 32-bit limb j and chi's 16-bit limb k (below 2^48) falls in 16-bit
 * column 2j + k; a column takes at most two terms per element, so eight elements' column sums stay below 2^53
 * (exact in a double) before their carries are moved up; columns from 8 on are beyond 2^128 and never formed.
 * @example
 * ```ts
 * const y = dot128x64(values, BigUint64Array.of(3n, 5n)); // 3 values[0] + 5 values[1] mod 2^128
 * ```
 */
export function dot128x64(a: Vec128, chi: BigUint64Array): bigint {
  const n = a.lo.length;
  if (chi.length < n) throw new RangeError(`chi must have at least ${n} coefficients, got ${chi.length}`);
  if (!LITTLE_ENDIAN) {
    let s = 0n;
    for (let i = 0; i < n; i++) s += get128(a, i) * chi[i];
    return BigInt.asUintN(128, s);
  }
  const al = words(a.lo);
  const ah = words(a.hi);
  const cw = words(chi);
  // c[k]: the sum of 16-bit column k (weight 2^(16k)).
  const c = new Float64Array(8);
  for (let from = 0; from < n; from += 8) {
    const to = Math.min(n, from + 8);
    for (let i = from; i < to; i++) {
      const a0 = al[2 * i];
      const a1 = al[2 * i + 1];
      const a2 = ah[2 * i];
      const a3 = ah[2 * i + 1];
      const w0 = cw[2 * i];
      const w1 = cw[2 * i + 1];
      const b0 = w0 & 0xffff;
      const b1 = w0 >>> 16;
      const b2 = w1 & 0xffff;
      const b3 = w1 >>> 16;
      c[0] += a0 * b0;
      c[1] += a0 * b1;
      c[2] += a0 * b2 + a1 * b0;
      c[3] += a0 * b3 + a1 * b1;
      c[4] += a1 * b2 + a2 * b0;
      c[5] += a1 * b3 + a2 * b1;
      c[6] += a2 * b2 + a3 * b0;
      c[7] += a2 * b3 + a3 * b1;
    }
    // Carries up one column at a time (every column ends below 2^16; the carry out of column 7 is 2^128 and dropped).
    for (let k = 0; k < 8; k++) {
      const h = Math.floor(c[k] * INV16);
      c[k] -= h * 65536;
      if (k < 7) c[k + 1] += h;
    }
  }
  const lo = BigInt(c[0] + c[1] * 65536) | (BigInt(c[2] + c[3] * 65536) << 32n);
  const hi = BigInt(c[4] + c[5] * 65536) | (BigInt(c[6] + c[7] * 65536) << 32n);
  return lo | (hi << 64n);
}

/**
 * out = c + d * b + e * a mod 2^128 element-wise, in one pass: the share part of a Beaver product.
 * @example
 * ```ts
 * const z = beaver128(a, b, c, d, e);
 * ```
 */
export function beaver128(a: Vec128, b: Vec128, c: Vec128, d: Vec128, e: Vec128, out: Vec128 = zeros128(a.lo.length)): Vec128 {
  const n = a.lo.length;
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) set128(out, i, get128(c, i) + get128(d, i) * get128(b, i) + get128(e, i) * get128(a, i));
    return out;
  }
  const al = words(a.lo);
  const ah = words(a.hi);
  const bl = words(b.lo);
  const bh = words(b.hi);
  const cl = words(c.lo);
  const ch = words(c.hi);
  const dl = words(d.lo);
  const dh = words(d.hi);
  const el = words(e.lo);
  const eh = words(e.hi);
  const ol = words(out.lo);
  const oh = words(out.hi);
  const p = new Uint32Array(2);
  const q = new Uint32Array(2);
  for (let j = 0; j < 2 * n; j += 2) {
    mulWords(dl[j], dl[j + 1], dh[j], dh[j + 1], bl[j], bl[j + 1], bh[j], bh[j + 1], p, q, 0);
    let s0 = cl[j] + p[0];
    let s1 = cl[j + 1] + p[1];
    let s2 = ch[j] + q[0];
    let s3 = ch[j + 1] + q[1];
    mulWords(el[j], el[j + 1], eh[j], eh[j + 1], al[j], al[j + 1], ah[j], ah[j + 1], p, q, 0);
    s0 += p[0];
    s1 += p[1];
    s2 += q[0];
    s3 += q[1];
    let k = Math.floor(s0 / TWO32);
    ol[j] = s0 - k * TWO32;
    s1 += k;
    k = Math.floor(s1 / TWO32);
    ol[j + 1] = s1 - k * TWO32;
    s2 += k;
    k = Math.floor(s2 / TWO32);
    oh[j] = s2 - k * TWO32;
    oh[j + 1] = (s3 + k) % TWO32;
  }
  return out;
}

/**
 * The inverse square root y of every odd square A mod 2^128 (y^2 A = 1), or -1 at index i when A[i] is not
 * 1 mod 8 (not an odd square: the caller aborts). Newton's iteration y <- y (3 - A y^2) / 2 doubles the number
 * of correct bits from y = 1 (right mod 8), computed mod 2^130 so that the halving keeps 128 bits.
 * @example
 * ```ts
 * const { y, bad } = invSqrt128(opened);
 * ```
 */
export function invSqrt128(a: Vec128): { y: Vec128; bad: number } {
  const n = a.lo.length;
  const y = zeros128(n);
  for (let i = 0; i < n; i++) {
    const A = get128(a, i);
    if ((A & 7n) !== 1n) return { y, bad: i };
    let v = 1n;
    for (let k = 0; k < 7; k++) v = BigInt.asUintN(130, (v * BigInt.asUintN(130, 3n - BigInt.asUintN(130, A * v * v))) >> 1n);
    set128(y, i, v);
  }
  return { y, bad: -1 };
}

/**
 * acc += x * 2^j mod 2^128 in place, for 0 <= j < 128: a shift on 32-bit limbs (the masks of truncation and
 * comparison are sums of shifted bits; a general product per bit cost an order of magnitude more).
 * @example
 * ```ts
 * addShifted128(r, bit, 5); // r += 32 * bit
 * ```
 */
export function addShifted128(acc: Vec128, x: Vec128, j: number): Vec128 {
  // One bit position of `shiftSum128` whose weight is 2^j (offset -j).
  return shiftSum128(x, acc.lo.length, 0, 1, -j, acc);
}

/**
 * acc[i] += sum over j in [from, to) of src[j n + i] * 2^(j - offset) mod 2^128, for j - offset in [0, 128): the
 * weighted sum of bit-sharings stored one bit position after another (n elements each), in one pass. Limb
 * sums stay below 2^39 in a double; carries move once per element.
 * @example
 * ```ts
 * shiftSum128(bits, n, 0, 64, 0, r); // r += sum_j 2^j b_j
 * ```
 */
export function shiftSum128(src: Vec128, n: number, from: number, to: number, offset: number, acc: Vec128): Vec128 {
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) {
      let v = get128(acc, i);
      for (let j = from; j < to; j++) v += get128(src, j * n + i) << BigInt(j - offset);
      set128(acc, i, v);
    }
    return acc;
  }
  const sl = words(src.lo);
  const sh = words(src.hi);
  const al = words(acc.lo);
  const ah = words(acc.hi);
  for (let i = 0; i < n; i++) {
    let s0 = al[2 * i];
    let s1 = al[2 * i + 1];
    let s2 = ah[2 * i];
    let s3 = ah[2 * i + 1];
    for (let j = from; j < to; j++) {
      const e = 2 * (j * n + i);
      const t = j - offset;
      const q = t >>> 5;
      const r = t & 31;
      const x0 = sl[e];
      const x1 = sl[e + 1];
      const x2 = sh[e];
      const x3 = sh[e + 1];
      // Limb k of x lands in limb k + q shifted left by r; its top r bits in limb k + q + 1 (x >>> 32 would be
      // x >>> 0 in JavaScript, hence the r = 0 guard).
      const u = 32 - r;
      const y0 = (x0 << r) >>> 0;
      const y1 = ((x1 << r) | (r === 0 ? 0 : x0 >>> u)) >>> 0;
      const y2 = ((x2 << r) | (r === 0 ? 0 : x1 >>> u)) >>> 0;
      const y3 = ((x3 << r) | (r === 0 ? 0 : x2 >>> u)) >>> 0;
      if (q === 0) {
        s0 += y0;
        s1 += y1;
        s2 += y2;
        s3 += y3;
      } else if (q === 1) {
        s1 += y0;
        s2 += y1;
        s3 += y2;
      } else if (q === 2) {
        s2 += y0;
        s3 += y1;
      } else s3 += y0;
    }
    let c = Math.floor(s0 / TWO32);
    al[2 * i] = s0 - c * TWO32;
    s1 += c;
    c = Math.floor(s1 / TWO32);
    al[2 * i + 1] = s1 - c * TWO32;
    s2 += c;
    c = Math.floor(s2 / TWO32);
    ah[2 * i] = s2 - c * TWO32;
    s3 += c;
    ah[2 * i + 1] = s3 % TWO32;
  }
  return acc;
}
