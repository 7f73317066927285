/**
 * Vector kernels over the ring Z_2^64 (arithmetic shares) and over 64-bit words with XOR/AND (binary shares),
 * on `BigUint64Array`. They follow the V8 code shapes that let TurboFan lower BigInt arithmetic to machine
 * int64 (every intermediate reaches a typed-array store or an inline `BigInt.asUintN(64, ...)`, products go to
 * truncated locals first, shift amounts are literals, no per-element `BigInt()`), which runs these loops at
 * hundreds of millions of elements per second instead of tens.
 *
 * Used by the parties of both protocols (additive and replicated sharing); not exported from the package.
 * @module
 */

/**
 * out[i] = a[i] + b[i] mod 2^64.
 * @example
 * ```ts
 * const c = add(a, b); // a + b mod 2^64
 * ```
 */
export function add(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array = new BigUint64Array(a.length)): BigUint64Array {
  const n = a.length;
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  return out;
}

/**
 * out[i] = a[i] + b[i] + c[i] mod 2^64.
 * @example
 * ```ts
 * const s = add3(z, fromNext, fromPrev);
 * ```
 */
export function add3(
  a: BigUint64Array,
  b: BigUint64Array,
  c: BigUint64Array,
  out: BigUint64Array = new BigUint64Array(a.length),
): BigUint64Array {
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const s = BigInt.asUintN(64, a[i] + b[i]);
    out[i] = BigInt.asUintN(64, s + c[i]);
  }
  return out;
}

/**
 * out[i] = a[i] + b[i] + k mod 2^64 for a public constant k.
 * @example
 * ```ts
 * const masked = addConst(z, r, 1n << 62n);
 * ```
 */
export function addConst(
  a: BigUint64Array,
  b: BigUint64Array,
  k: bigint,
  out: BigUint64Array = new BigUint64Array(a.length),
): BigUint64Array {
  const n = a.length;
  const kk = BigInt.asUintN(64, k);
  for (let i = 0; i < n; i++) {
    const s = BigInt.asUintN(64, a[i] + b[i]);
    out[i] = BigInt.asUintN(64, s + kk);
  }
  return out;
}

/**
 * out[i] = a[i] - b[i] mod 2^64.
 * @example
 * ```ts
 * const d = sub(x, a); // x - a mod 2^64
 * ```
 */
export function sub(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array = new BigUint64Array(a.length)): BigUint64Array {
  const n = a.length;
  for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
  return out;
}

/**
 * out[i] = -a[i] mod 2^64.
 * @example
 * ```ts
 * const m = neg(x);
 * ```
 */
export function neg(a: BigUint64Array, out: BigUint64Array = new BigUint64Array(a.length)): BigUint64Array {
  const n = a.length;
  for (let i = 0; i < n; i++) out[i] = 0n - a[i];
  return out;
}

/**
 * out[i] = a[i] * b[i] mod 2^64.
 * @example
 * ```ts
 * const p = mul(x, pub);
 * ```
 */
export function mul(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array = new BigUint64Array(a.length)): BigUint64Array {
  const n = a.length;
  for (let i = 0; i < n; i++) out[i] = BigInt.asUintN(64, a[i] * b[i]);
  return out;
}

/**
 * out[i] = k * a[i] mod 2^64 for a public scalar k.
 * @example
 * ```ts
 * const y = scale(x, 3n);
 * ```
 */
export function scale(a: BigUint64Array, k: bigint, out: BigUint64Array = new BigUint64Array(a.length)): BigUint64Array {
  const n = a.length;
  const kk = BigInt.asUintN(64, k);
  for (let i = 0; i < n; i++) out[i] = BigInt.asUintN(64, kk * a[i]);
  return out;
}

/**
 * out[i] = a[i] ^ b[i].
 * @example
 * ```ts
 * const d = xor(x, a);
 * ```
 */
export function xor(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array = new BigUint64Array(a.length)): BigUint64Array {
  // On 32-bit words: a BigUint64Array element read allocates a BigInt, which made XOR 10x slower.
  const x = words(a);
  const y = words(b);
  const o = words(out);
  for (let i = 0; i < x.length; i++) o[i] = x[i] ^ y[i];
  return out;
}

/** The 32-bit words of a ring vector (little- or big-endian alike: bitwise operations act word by word). */
function words(a: BigUint64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, 2 * a.length);
}

/**
 * out[i] = a[i] ^ b[i] ^ c[i].
 * @example
 * ```ts
 * const v = xor3(x0, x1, missing, missing);
 * ```
 */
export function xor3(
  a: BigUint64Array,
  b: BigUint64Array,
  c: BigUint64Array,
  out: BigUint64Array = new BigUint64Array(a.length),
): BigUint64Array {
  const x = words(a);
  const y = words(b);
  const z = words(c);
  const o = words(out);
  for (let i = 0; i < x.length; i++) o[i] = x[i] ^ y[i] ^ z[i];
  return out;
}

/**
 * out[i] = a[i] & b[i].
 * @example
 * ```ts
 * const g = and(s, c);
 * ```
 */
export function and(a: BigUint64Array, b: BigUint64Array, out: BigUint64Array = new BigUint64Array(a.length)): BigUint64Array {
  const x = words(a);
  const y = words(b);
  const o = words(out);
  for (let i = 0; i < x.length; i++) o[i] = x[i] & y[i];
  return out;
}

/**
 * One Beaver step for arithmetic triples: out[i] = c[i] + d[i] b[i] + e[i] a[i] (+ d[i] e[i] when `withDe`).
 * @example
 * ```ts
 * const z = beaverCombine(a, b, c, d, e, party === 0);
 * ```
 */
export function beaverCombine(
  a: BigUint64Array,
  b: BigUint64Array,
  c: BigUint64Array,
  d: BigUint64Array,
  e: BigUint64Array,
  withDe: boolean,
  out: BigUint64Array = new BigUint64Array(a.length),
): BigUint64Array {
  const n = a.length;
  if (withDe) {
    for (let i = 0; i < n; i++) {
      const di = d[i];
      const ei = e[i];
      const p = BigInt.asUintN(64, di * b[i]);
      const q = BigInt.asUintN(64, ei * a[i]);
      const r = BigInt.asUintN(64, di * ei);
      out[i] = BigInt.asUintN(64, c[i] + p + q + r);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const p = BigInt.asUintN(64, d[i] * b[i]);
      const q = BigInt.asUintN(64, e[i] * a[i]);
      out[i] = BigInt.asUintN(64, c[i] + p + q);
    }
  }
  return out;
}

/**
 * Binary Beaver step: out[i] = c[i] ^ (d[i] & b[i]) ^ (e[i] & a[i]) (^ (d[i] & e[i]) when `withDe`).
 * @example
 * ```ts
 * const z = beaverCombineXor(a, b, c, d, e, party === 0);
 * ```
 */
export function beaverCombineXor(
  a: BigUint64Array,
  b: BigUint64Array,
  c: BigUint64Array,
  d: BigUint64Array,
  e: BigUint64Array,
  withDe: boolean,
  out: BigUint64Array = new BigUint64Array(a.length),
): BigUint64Array {
  const n = a.length;
  if (withDe) {
    for (let i = 0; i < n; i++) {
      const di = d[i];
      const ei = e[i];
      out[i] = c[i] ^ (di & b[i]) ^ (ei & a[i]) ^ (di & ei);
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = c[i] ^ (d[i] & b[i]) ^ (e[i] & a[i]);
  }
  return out;
}

/**
 * Replicated local product: out[i] = x0 y0 + x0 y1 + x1 y0 (+ alpha), the 3-out-of-3 additive share of x*y
 * from two replicated components (Araki et al. 2016, Sec. 2.2).
 * @example
 * ```ts
 * const z = replicatedProduct(x[0], x[1], y[0], y[1], alpha);
 * ```
 */
export function replicatedProduct(
  x0: BigUint64Array,
  x1: BigUint64Array,
  y0: BigUint64Array,
  y1: BigUint64Array,
  alpha: BigUint64Array | null,
  out: BigUint64Array = new BigUint64Array(x0.length),
): BigUint64Array {
  const n = x0.length;
  if (alpha === null) {
    for (let i = 0; i < n; i++) {
      const a = x0[i];
      const s = BigInt.asUintN(64, y0[i] + y1[i]);
      const p = BigInt.asUintN(64, a * s);
      const q = BigInt.asUintN(64, x1[i] * y0[i]);
      out[i] = BigInt.asUintN(64, p + q);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const a = x0[i];
      const s = BigInt.asUintN(64, y0[i] + y1[i]);
      const p = BigInt.asUintN(64, a * s);
      const q = BigInt.asUintN(64, x1[i] * y0[i]);
      out[i] = BigInt.asUintN(64, p + q + alpha[i]);
    }
  }
  return out;
}

/**
 * Replicated local AND: out[i] = (x0 & y0) ^ (x0 & y1) ^ (x1 & y0) ^ alpha.
 * @example
 * ```ts
 * const z = replicatedAnd(x[0], x[1], y[0], y[1], alpha);
 * ```
 */
export function replicatedAnd(
  x0: BigUint64Array,
  x1: BigUint64Array,
  y0: BigUint64Array,
  y1: BigUint64Array,
  alpha: BigUint64Array,
  out: BigUint64Array = new BigUint64Array(x0.length),
): BigUint64Array {
  const [a, b, u, v, al, o] = [x0, x1, y0, y1, alpha, out].map(words);
  for (let i = 0; i < a.length; i++) o[i] = (a[i] & (u[i] ^ v[i])) ^ (b[i] & u[i]) ^ al[i];
  return out;
}

/**
 * Two replicated local ANDs with a common left operand, into one array of 2n:
 * out[i] = x & y (first n), out[n + i] = x & w (last n), each plus its alpha.
 * @example
 * ```ts
 * const z = replicatedAnd2(p[0], p[1], g[0], g[1], q[0], q[1], alpha); // 2n words
 * ```
 */
export function replicatedAnd2(
  x0: BigUint64Array,
  x1: BigUint64Array,
  y0: BigUint64Array,
  y1: BigUint64Array,
  w0: BigUint64Array,
  w1: BigUint64Array,
  alpha: BigUint64Array,
): BigUint64Array {
  const out = new BigUint64Array(2 * x0.length);
  const [a, b, u, u1, v, v1, al, o] = [x0, x1, y0, y1, w0, w1, alpha, out].map(words);
  const m = a.length;
  for (let i = 0; i < m; i++) {
    o[i] = (a[i] & (u[i] ^ u1[i])) ^ (b[i] & u[i]) ^ al[i];
    o[m + i] = (a[i] & (v[i] ^ v1[i])) ^ (b[i] & v[i]) ^ al[m + i];
  }
  return out;
}

/**
 * daBit conversion step: out[i] = b[i] + e[i] (k - 2 b[i]) for public bits e (0 or 1) and k = 1 on the
 * component that carries constants, 0 elsewhere; i.e. b when e = 0 and k - b when e = 1.
 * @example
 * ```ts
 * const bit = b2aCombine(daBitShare, opened, isPublicSlot ? 1n : 0n);
 * ```
 */
export function b2aCombine(
  b: BigUint64Array,
  e: BigUint64Array,
  k: bigint,
  out: BigUint64Array = new BigUint64Array(b.length),
): BigUint64Array {
  const n = b.length;
  const kk = BigInt.asUintN(64, k);
  for (let i = 0; i < n; i++) {
    const bi = b[i];
    const twice = BigInt.asUintN(64, bi << 1n);
    const d = BigInt.asUintN(64, kk - twice);
    const p = BigInt.asUintN(64, e[i] * d);
    out[i] = BigInt.asUintN(64, bi + p);
  }
  return out;
}

/**
 * Left shift of every word by a literal amount s in {1, 2, 4, 8, 16, 32} (one loop per amount: V8 only
 * lowers BigInt shifts by constants).
 * @example
 * ```ts
 * const g4 = shiftLeft(g, 4);
 * ```
 */
export function shiftLeft(a: BigUint64Array, s: number, out: BigUint64Array = new BigUint64Array(a.length)): BigUint64Array {
  const n = a.length;
  switch (s) {
    case 1:
      for (let i = 0; i < n; i++) out[i] = BigInt.asUintN(64, a[i] << 1n);
      break;
    case 2:
      for (let i = 0; i < n; i++) out[i] = BigInt.asUintN(64, a[i] << 2n);
      break;
    case 4:
      for (let i = 0; i < n; i++) out[i] = BigInt.asUintN(64, a[i] << 4n);
      break;
    case 8:
      for (let i = 0; i < n; i++) out[i] = BigInt.asUintN(64, a[i] << 8n);
      break;
    case 16:
      for (let i = 0; i < n; i++) out[i] = BigInt.asUintN(64, a[i] << 16n);
      break;
    case 32:
      for (let i = 0; i < n; i++) out[i] = BigInt.asUintN(64, a[i] << 32n);
      break;
    default:
      throw new RangeError(`shift must be one of 1, 2, 4, 8, 16, 32, got ${s}`);
  }
  return out;
}

/**
 * Bit 63 of each word, as 0 or 1 in a ring element.
 * @example
 * ```ts
 * const bits = msb(x); // 0n or 1n per word
 * ```
 */
export function msb(a: BigUint64Array, out: BigUint64Array = new BigUint64Array(a.length)): BigUint64Array {
  const n = a.length;
  for (let i = 0; i < n; i++) out[i] = a[i] >> 63n;
  return out;
}

/**
 * Sum of all elements mod 2^64 (returned as a ring element).
 * @example
 * ```ts
 * const s = total(x);
 * ```
 */
export function total(a: BigUint64Array): bigint {
  let s = 0n;
  const n = a.length;
  for (let i = 0; i < n; i++) s = BigInt.asUintN(64, s + a[i]);
  return s;
}

/**
 * Row-major matrix product mod 2^64: out (m x n) = A (m x k) * B (k x n).
 * @example
 * ```ts
 * const c = matmul(a, b, 2, 3, 1); // (2 x 3)(3 x 1)
 * ```
 */
export function matmul(
  a: BigUint64Array,
  b: BigUint64Array,
  m: number,
  k: number,
  n: number,
  out: BigUint64Array = new BigUint64Array(m * n),
): BigUint64Array {
  out.fill(0n);
  if (n === 1) {
    for (let i = 0; i < m; i++) {
      let s = 0n;
      const base = i * k;
      for (let t = 0; t < k; t++) {
        const p = BigInt.asUintN(64, a[base + t] * b[t]);
        s = BigInt.asUintN(64, s + p);
      }
      out[i] = s;
    }
    return out;
  }
  for (let i = 0; i < m; i++) {
    const ob = i * n;
    for (let t = 0; t < k; t++) {
      const av = a[i * k + t];
      const bb = t * n;
      for (let j = 0; j < n; j++) {
        const p = BigInt.asUintN(64, av * b[bb + j]);
        out[ob + j] = out[ob + j] + p;
      }
    }
  }
  return out;
}

/**
 * Transpose of a row-major rows x cols matrix.
 * @example
 * ```ts
 * const t = transpose(a, 2, 3); // 3 x 2
 * ```
 */
export function transpose(a: BigUint64Array, rows: number, cols: number): BigUint64Array {
  const out = new BigUint64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

/**
 * Concatenates arrays into one new array.
 * @example
 * ```ts
 * const both = concat([x, y]);
 * ```
 */
export function concat(parts: readonly BigUint64Array[]): BigUint64Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new BigUint64Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Public part of the exact-wrap truncation. For opened c and shift f in [1, 30], returns (c >> f) - 2^(62-f)
 * (unsigned shift of the whole word) and writes to `sk` the signed weight of the shared mask bit: K = 2^(63-f)
 * when bit 63 of c is 0, -K when it is 1. Computed on 32-bit limbs so that the shift amount can be a variable.
 * @example
 * ```ts
 * const pub = truncPublic(c, 16, sk);
 * ```
 */
export function truncPublic(
  c: BigUint64Array,
  f: number,
  sk: BigUint64Array,
  out: BigUint64Array = new BigUint64Array(c.length),
): BigUint64Array {
  const n = c.length;
  if (!LITTLE_ENDIAN) {
    const F = BigInt(f);
    const bias = 1n << BigInt(62 - f);
    const K = 1n << BigInt(63 - f);
    for (let i = 0; i < n; i++) {
      out[i] = BigInt.asUintN(64, (c[i] >> F) - bias);
      sk[i] = c[i] >> 63n === 0n ? K : BigInt.asUintN(64, 0n - K);
    }
    return out;
  }
  const w = new Uint32Array(c.buffer, c.byteOffset, 2 * n);
  const o = new Uint32Array(out.buffer, out.byteOffset, 2 * n);
  const s = new Uint32Array(sk.buffer, sk.byteOffset, 2 * n);
  const biasHi = 1 << (30 - f); // 2^(62-f) = biasHi * 2^32
  const kHi = 1 << (31 - f); // K = kHi * 2^32
  const negKHi = (0x1_0000_0000 - kHi) >>> 0; // -K mod 2^64, high word (low word 0)
  const up = 32 - f;
  for (let i = 0; i < n; i++) {
    const lo = w[2 * i];
    const h = w[2 * i + 1];
    o[2 * i] = ((lo >>> f) | (h << up)) >>> 0;
    o[2 * i + 1] = ((h >>> f) - biasHi) >>> 0;
    s[2 * i] = 0;
    s[2 * i + 1] = h >>> 31 === 0 ? kHi : negKHi;
  }
  return out;
}

/**
 * Share part of the exact-wrap truncation, applied to one component: pub - lo + sk * hi, with `pub` null for
 * components that do not carry public constants. Writes into `lo` (dealer material, used once) and returns it.
 * @example
 * ```ts
 * const share = truncCombine(isPublicSlot ? pub : null, lo, hi, sk);
 * ```
 */
export function truncCombine(pub: BigUint64Array | null, lo: BigUint64Array, hiShare: BigUint64Array, sk: BigUint64Array): BigUint64Array {
  const n = lo.length;
  if (pub === null) {
    for (let i = 0; i < n; i++) {
      const p = BigInt.asUintN(64, sk[i] * hiShare[i]);
      lo[i] = BigInt.asUintN(64, p - lo[i]);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const p = BigInt.asUintN(64, sk[i] * hiShare[i]);
      const q = BigInt.asUintN(64, pub[i] - lo[i]);
      lo[i] = BigInt.asUintN(64, p + q);
    }
  }
  return lo;
}

/**
 * (w mod 2^63) >> shift per word, on 32-bit limbs (a variable BigInt shift is an order of magnitude slower): the
 * middle bits of a truncation mask, which both dealer-free generators take from a random binary r.
 * @example
 * ```ts
 * const lo = middleBits(r, 16);
 * ```
 */
export function middleBits(r: BigUint64Array, shift: number): BigUint64Array {
  const count = r.length;
  const lo = new BigUint64Array(count);
  const w = new Uint32Array(r.buffer, r.byteOffset, 2 * count);
  const lw = new Uint32Array(lo.buffer, 0, 2 * count);
  const up = 32 - shift;
  for (let i = 0, j = 0; i < count; i++, j += 2) {
    const h31 = w[j + 1] & 0x7fff_ffff;
    lw[j] = ((w[j] >>> shift) | (h31 << up)) >>> 0;
    lw[j + 1] = h31 >>> shift;
  }
  return lo;
}
