/**
 * OT extension (internal): IKNP (Ishai, Kilian, Nissim and Petrank, CRYPTO 2003, Sec. 3), semi-honest, turning
 * 128 base OTs per ordered pair into any number of random OTs. Notation of the paper with the roles of the base
 * OTs reversed: the extension receiver R (choice bits r, m of them) is the base-OT sender of 128 seed pairs
 * (k0_i, k1_i); the extension sender S is the base-OT receiver with choice bits s (128 of them) and learns
 * k_{s_i}. Per batch R sends the 128 columns u^i = G(k0_i) ^ G(k1_i) ^ r, S computes q^i = G(k_{s_i}) ^ s_i u^i,
 * so that row j of Q is q_j = t_j ^ r_j s, with t^i = G(k0_i). The random OT j then has the sender messages
 * H(q_j) and H(q_j ^ s) and the receiver message H(t_j) = H(q_j ^ r_j s).
 *
 * - G: AES-128-CTR keyed by the seed, one continuous keystream per seed for the run (both ends consume it in
 *   the same order, batch after batch).
 * - H: the fixed-key AES hash pi(sigma(x)) ^ sigma(x) with the orthomorphism sigma(xL || xR) = (xL ^ xR || xL)
 *   (Guo, Katz, Wang and Yu, "Efficient and secure multiparty computation from fixed-key block ciphers",
 *   S&P 2020, Sec. 7.3): circular correlation robust, which the semi-honest IKNP proof needs (correlation
 *   robustness of H(t_j ^ s) for a hidden s). The low 64 bits of each output are used. Node's AES-ECB runs
 *   on AES-NI, an order of magnitude faster than a JavaScript cipher.
 * - The m x 128 bit-matrix transposition works on 32 x 32 blocks of 32-bit words (Warren, "Hacker's Delight",
 *   2nd ed., Sec. 7-3).
 * @module
 */
import { type Cipheriv, createCipheriv } from 'node:crypto';
import { ProtocolAbortError } from '../errors.ts';

/** Base OTs (and columns of the extension matrix) per ordered pair: the computational security parameter. */
export const KAPPA = 128;
/** The public key of the fixed-key AES hash: any fixed key serves (the hash is keyed by nothing secret). */
const HASH_KEY = new Uint8Array(16).fill(0x5a);
/** ECB over whole blocks keeps no state between calls, so one cipher object serves every call. */
const HASH_CIPHER = createCipheriv('aes-128-ecb', HASH_KEY, null).setAutoPadding(false);
/** Rows per AES call of the hash (64 KiB). */
const HASH_CHUNK = 4096;
/** Bytes per AES-CTR call of the PRG (64 KiB calls are the fastest, measured). */
const PRG_CHUNK = 65_536;

/**
 * Transposes the KAPPA x m bit matrix `cols` (column i, OT j at bit j of the bit string of column i, words
 * of 32 bits, little-endian bit order) into m rows of 128 bits (4 words per row).
 * @example
 * ```ts
 * const rows = transposeColumns(cols, m);
 * ```
 */
export function transposeColumns(cols: Uint32Array, m: number): Uint32Array {
  if (m % 32 !== 0) throw new RangeError(`OT batch must be a multiple of 32, got ${m}`);
  const w = m >>> 5;
  const rows = new Uint32Array(m * 4);
  for (let c = 0; c < 4; c++) {
    for (let blk = 0; blk < w; blk++) {
      const o = 32 * c * w + blk;
      const base = blk * 128 + c;
      // Swap the off-diagonal j x j sub-blocks, j = 16, 8, 4, 2, 1 (LSB-first bit order), fully unrolled.
      // 32 locals: V8 keeps them in registers or on the stack, unlike the elements of a scratch array.
      let a0 = cols[o + 0 * w] | 0;
      let a1 = cols[o + 1 * w] | 0;
      let a2 = cols[o + 2 * w] | 0;
      let a3 = cols[o + 3 * w] | 0;
      let a4 = cols[o + 4 * w] | 0;
      let a5 = cols[o + 5 * w] | 0;
      let a6 = cols[o + 6 * w] | 0;
      let a7 = cols[o + 7 * w] | 0;
      let a8 = cols[o + 8 * w] | 0;
      let a9 = cols[o + 9 * w] | 0;
      let a10 = cols[o + 10 * w] | 0;
      let a11 = cols[o + 11 * w] | 0;
      let a12 = cols[o + 12 * w] | 0;
      let a13 = cols[o + 13 * w] | 0;
      let a14 = cols[o + 14 * w] | 0;
      let a15 = cols[o + 15 * w] | 0;
      let a16 = cols[o + 16 * w] | 0;
      let a17 = cols[o + 17 * w] | 0;
      let a18 = cols[o + 18 * w] | 0;
      let a19 = cols[o + 19 * w] | 0;
      let a20 = cols[o + 20 * w] | 0;
      let a21 = cols[o + 21 * w] | 0;
      let a22 = cols[o + 22 * w] | 0;
      let a23 = cols[o + 23 * w] | 0;
      let a24 = cols[o + 24 * w] | 0;
      let a25 = cols[o + 25 * w] | 0;
      let a26 = cols[o + 26 * w] | 0;
      let a27 = cols[o + 27 * w] | 0;
      let a28 = cols[o + 28 * w] | 0;
      let a29 = cols[o + 29 * w] | 0;
      let a30 = cols[o + 30 * w] | 0;
      let a31 = cols[o + 31 * w] | 0;
      let t = 0;
      t = ((a0 >>> 16) ^ a16) & 0x0000ffff;
      a0 ^= t << 16;
      a16 ^= t;
      t = ((a1 >>> 16) ^ a17) & 0x0000ffff;
      a1 ^= t << 16;
      a17 ^= t;
      t = ((a2 >>> 16) ^ a18) & 0x0000ffff;
      a2 ^= t << 16;
      a18 ^= t;
      t = ((a3 >>> 16) ^ a19) & 0x0000ffff;
      a3 ^= t << 16;
      a19 ^= t;
      t = ((a4 >>> 16) ^ a20) & 0x0000ffff;
      a4 ^= t << 16;
      a20 ^= t;
      t = ((a5 >>> 16) ^ a21) & 0x0000ffff;
      a5 ^= t << 16;
      a21 ^= t;
      t = ((a6 >>> 16) ^ a22) & 0x0000ffff;
      a6 ^= t << 16;
      a22 ^= t;
      t = ((a7 >>> 16) ^ a23) & 0x0000ffff;
      a7 ^= t << 16;
      a23 ^= t;
      t = ((a8 >>> 16) ^ a24) & 0x0000ffff;
      a8 ^= t << 16;
      a24 ^= t;
      t = ((a9 >>> 16) ^ a25) & 0x0000ffff;
      a9 ^= t << 16;
      a25 ^= t;
      t = ((a10 >>> 16) ^ a26) & 0x0000ffff;
      a10 ^= t << 16;
      a26 ^= t;
      t = ((a11 >>> 16) ^ a27) & 0x0000ffff;
      a11 ^= t << 16;
      a27 ^= t;
      t = ((a12 >>> 16) ^ a28) & 0x0000ffff;
      a12 ^= t << 16;
      a28 ^= t;
      t = ((a13 >>> 16) ^ a29) & 0x0000ffff;
      a13 ^= t << 16;
      a29 ^= t;
      t = ((a14 >>> 16) ^ a30) & 0x0000ffff;
      a14 ^= t << 16;
      a30 ^= t;
      t = ((a15 >>> 16) ^ a31) & 0x0000ffff;
      a15 ^= t << 16;
      a31 ^= t;
      t = ((a0 >>> 8) ^ a8) & 0x00ff00ff;
      a0 ^= t << 8;
      a8 ^= t;
      t = ((a1 >>> 8) ^ a9) & 0x00ff00ff;
      a1 ^= t << 8;
      a9 ^= t;
      t = ((a2 >>> 8) ^ a10) & 0x00ff00ff;
      a2 ^= t << 8;
      a10 ^= t;
      t = ((a3 >>> 8) ^ a11) & 0x00ff00ff;
      a3 ^= t << 8;
      a11 ^= t;
      t = ((a4 >>> 8) ^ a12) & 0x00ff00ff;
      a4 ^= t << 8;
      a12 ^= t;
      t = ((a5 >>> 8) ^ a13) & 0x00ff00ff;
      a5 ^= t << 8;
      a13 ^= t;
      t = ((a6 >>> 8) ^ a14) & 0x00ff00ff;
      a6 ^= t << 8;
      a14 ^= t;
      t = ((a7 >>> 8) ^ a15) & 0x00ff00ff;
      a7 ^= t << 8;
      a15 ^= t;
      t = ((a16 >>> 8) ^ a24) & 0x00ff00ff;
      a16 ^= t << 8;
      a24 ^= t;
      t = ((a17 >>> 8) ^ a25) & 0x00ff00ff;
      a17 ^= t << 8;
      a25 ^= t;
      t = ((a18 >>> 8) ^ a26) & 0x00ff00ff;
      a18 ^= t << 8;
      a26 ^= t;
      t = ((a19 >>> 8) ^ a27) & 0x00ff00ff;
      a19 ^= t << 8;
      a27 ^= t;
      t = ((a20 >>> 8) ^ a28) & 0x00ff00ff;
      a20 ^= t << 8;
      a28 ^= t;
      t = ((a21 >>> 8) ^ a29) & 0x00ff00ff;
      a21 ^= t << 8;
      a29 ^= t;
      t = ((a22 >>> 8) ^ a30) & 0x00ff00ff;
      a22 ^= t << 8;
      a30 ^= t;
      t = ((a23 >>> 8) ^ a31) & 0x00ff00ff;
      a23 ^= t << 8;
      a31 ^= t;
      t = ((a0 >>> 4) ^ a4) & 0x0f0f0f0f;
      a0 ^= t << 4;
      a4 ^= t;
      t = ((a1 >>> 4) ^ a5) & 0x0f0f0f0f;
      a1 ^= t << 4;
      a5 ^= t;
      t = ((a2 >>> 4) ^ a6) & 0x0f0f0f0f;
      a2 ^= t << 4;
      a6 ^= t;
      t = ((a3 >>> 4) ^ a7) & 0x0f0f0f0f;
      a3 ^= t << 4;
      a7 ^= t;
      t = ((a8 >>> 4) ^ a12) & 0x0f0f0f0f;
      a8 ^= t << 4;
      a12 ^= t;
      t = ((a9 >>> 4) ^ a13) & 0x0f0f0f0f;
      a9 ^= t << 4;
      a13 ^= t;
      t = ((a10 >>> 4) ^ a14) & 0x0f0f0f0f;
      a10 ^= t << 4;
      a14 ^= t;
      t = ((a11 >>> 4) ^ a15) & 0x0f0f0f0f;
      a11 ^= t << 4;
      a15 ^= t;
      t = ((a16 >>> 4) ^ a20) & 0x0f0f0f0f;
      a16 ^= t << 4;
      a20 ^= t;
      t = ((a17 >>> 4) ^ a21) & 0x0f0f0f0f;
      a17 ^= t << 4;
      a21 ^= t;
      t = ((a18 >>> 4) ^ a22) & 0x0f0f0f0f;
      a18 ^= t << 4;
      a22 ^= t;
      t = ((a19 >>> 4) ^ a23) & 0x0f0f0f0f;
      a19 ^= t << 4;
      a23 ^= t;
      t = ((a24 >>> 4) ^ a28) & 0x0f0f0f0f;
      a24 ^= t << 4;
      a28 ^= t;
      t = ((a25 >>> 4) ^ a29) & 0x0f0f0f0f;
      a25 ^= t << 4;
      a29 ^= t;
      t = ((a26 >>> 4) ^ a30) & 0x0f0f0f0f;
      a26 ^= t << 4;
      a30 ^= t;
      t = ((a27 >>> 4) ^ a31) & 0x0f0f0f0f;
      a27 ^= t << 4;
      a31 ^= t;
      t = ((a0 >>> 2) ^ a2) & 0x33333333;
      a0 ^= t << 2;
      a2 ^= t;
      t = ((a1 >>> 2) ^ a3) & 0x33333333;
      a1 ^= t << 2;
      a3 ^= t;
      t = ((a4 >>> 2) ^ a6) & 0x33333333;
      a4 ^= t << 2;
      a6 ^= t;
      t = ((a5 >>> 2) ^ a7) & 0x33333333;
      a5 ^= t << 2;
      a7 ^= t;
      t = ((a8 >>> 2) ^ a10) & 0x33333333;
      a8 ^= t << 2;
      a10 ^= t;
      t = ((a9 >>> 2) ^ a11) & 0x33333333;
      a9 ^= t << 2;
      a11 ^= t;
      t = ((a12 >>> 2) ^ a14) & 0x33333333;
      a12 ^= t << 2;
      a14 ^= t;
      t = ((a13 >>> 2) ^ a15) & 0x33333333;
      a13 ^= t << 2;
      a15 ^= t;
      t = ((a16 >>> 2) ^ a18) & 0x33333333;
      a16 ^= t << 2;
      a18 ^= t;
      t = ((a17 >>> 2) ^ a19) & 0x33333333;
      a17 ^= t << 2;
      a19 ^= t;
      t = ((a20 >>> 2) ^ a22) & 0x33333333;
      a20 ^= t << 2;
      a22 ^= t;
      t = ((a21 >>> 2) ^ a23) & 0x33333333;
      a21 ^= t << 2;
      a23 ^= t;
      t = ((a24 >>> 2) ^ a26) & 0x33333333;
      a24 ^= t << 2;
      a26 ^= t;
      t = ((a25 >>> 2) ^ a27) & 0x33333333;
      a25 ^= t << 2;
      a27 ^= t;
      t = ((a28 >>> 2) ^ a30) & 0x33333333;
      a28 ^= t << 2;
      a30 ^= t;
      t = ((a29 >>> 2) ^ a31) & 0x33333333;
      a29 ^= t << 2;
      a31 ^= t;
      t = ((a0 >>> 1) ^ a1) & 0x55555555;
      a0 ^= t << 1;
      a1 ^= t;
      t = ((a2 >>> 1) ^ a3) & 0x55555555;
      a2 ^= t << 1;
      a3 ^= t;
      t = ((a4 >>> 1) ^ a5) & 0x55555555;
      a4 ^= t << 1;
      a5 ^= t;
      t = ((a6 >>> 1) ^ a7) & 0x55555555;
      a6 ^= t << 1;
      a7 ^= t;
      t = ((a8 >>> 1) ^ a9) & 0x55555555;
      a8 ^= t << 1;
      a9 ^= t;
      t = ((a10 >>> 1) ^ a11) & 0x55555555;
      a10 ^= t << 1;
      a11 ^= t;
      t = ((a12 >>> 1) ^ a13) & 0x55555555;
      a12 ^= t << 1;
      a13 ^= t;
      t = ((a14 >>> 1) ^ a15) & 0x55555555;
      a14 ^= t << 1;
      a15 ^= t;
      t = ((a16 >>> 1) ^ a17) & 0x55555555;
      a16 ^= t << 1;
      a17 ^= t;
      t = ((a18 >>> 1) ^ a19) & 0x55555555;
      a18 ^= t << 1;
      a19 ^= t;
      t = ((a20 >>> 1) ^ a21) & 0x55555555;
      a20 ^= t << 1;
      a21 ^= t;
      t = ((a22 >>> 1) ^ a23) & 0x55555555;
      a22 ^= t << 1;
      a23 ^= t;
      t = ((a24 >>> 1) ^ a25) & 0x55555555;
      a24 ^= t << 1;
      a25 ^= t;
      t = ((a26 >>> 1) ^ a27) & 0x55555555;
      a26 ^= t << 1;
      a27 ^= t;
      t = ((a28 >>> 1) ^ a29) & 0x55555555;
      a28 ^= t << 1;
      a29 ^= t;
      t = ((a30 >>> 1) ^ a31) & 0x55555555;
      a30 ^= t << 1;
      a31 ^= t;
      rows[base + 0] = a0;
      rows[base + 4] = a1;
      rows[base + 8] = a2;
      rows[base + 12] = a3;
      rows[base + 16] = a4;
      rows[base + 20] = a5;
      rows[base + 24] = a6;
      rows[base + 28] = a7;
      rows[base + 32] = a8;
      rows[base + 36] = a9;
      rows[base + 40] = a10;
      rows[base + 44] = a11;
      rows[base + 48] = a12;
      rows[base + 52] = a13;
      rows[base + 56] = a14;
      rows[base + 60] = a15;
      rows[base + 64] = a16;
      rows[base + 68] = a17;
      rows[base + 72] = a18;
      rows[base + 76] = a19;
      rows[base + 80] = a20;
      rows[base + 84] = a21;
      rows[base + 88] = a22;
      rows[base + 92] = a23;
      rows[base + 96] = a24;
      rows[base + 100] = a25;
      rows[base + 104] = a26;
      rows[base + 108] = a27;
      rows[base + 112] = a28;
      rows[base + 116] = a29;
      rows[base + 120] = a30;
      rows[base + 124] = a31;
    }
  }
  return rows;
}

/**
 * The correlation-robust hash of every 128-bit row (XORed with `delta` first when given): the low 64 bits
 * of pi(sigma(x)) ^ sigma(x), as one ring element per row.
 * @example
 * ```ts
 * const h = hashRows(rows);
 * ```
 */
export function hashRows(rows: Uint32Array, delta: Uint32Array | null = null): BigUint64Array {
  const m = rows.length >>> 2;
  const out = new BigUint64Array(m);
  const ow = new Uint32Array(out.buffer);
  const d0 = delta === null ? 0 : delta[0];
  const d1 = delta === null ? 0 : delta[1];
  const d2 = delta === null ? 0 : delta[2];
  const d3 = delta === null ? 0 : delta[3];
  // 64 KiB per call: OpenSSL's ECB on one large buffer runs about 4x slower here (measured, Node 24).
  const sig = new Uint32Array(Math.min(m, HASH_CHUNK) * 4);
  for (let from = 0; from < m; from += HASH_CHUNK) {
    const len = Math.min(HASH_CHUNK, m - from);
    for (let j = 0, o = from * 4; j < len; j++, o += 4) {
      const x0 = rows[o] ^ d0;
      const x1 = rows[o + 1] ^ d1;
      const s = 4 * j;
      sig[s] = x0 ^ rows[o + 2] ^ d2;
      sig[s + 1] = x1 ^ rows[o + 3] ^ d3;
      sig[s + 2] = x0;
      sig[s + 3] = x1;
    }
    const enc = HASH_CIPHER.update(new Uint8Array(sig.buffer, 0, len * 16));
    const e = new Uint32Array(enc.buffer, enc.byteOffset, enc.byteLength >>> 2);
    for (let j = 0, k = 2 * from; j < len; j++, k += 2) {
      ow[k] = e[4 * j] ^ sig[4 * j];
      ow[k + 1] = e[4 * j + 1] ^ sig[4 * j + 1];
    }
  }
  return out;
}

/** One AES-128-CTR keystream per seed, kept for the whole run: each batch continues where the last one stopped. */
function streams(seeds: readonly Uint8Array[]): Cipheriv[] {
  return seeds.map((k) => createCipheriv('aes-128-ctr', k, new Uint8Array(16)));
}

/** The next m bits of every stream, as KAPPA columns of m / 32 words. */
function columns(gens: readonly Cipheriv[], m: number): Uint32Array {
  const bytes = m >>> 3;
  const cols = new Uint32Array((KAPPA * m) >>> 5);
  const view = new Uint8Array(cols.buffer);
  const zeros = new Uint8Array(Math.min(bytes, PRG_CHUNK));
  for (let i = 0; i < KAPPA; i++) {
    for (let off = 0; off < bytes; off += PRG_CHUNK) {
      const len = Math.min(PRG_CHUNK, bytes - off);
      view.set(gens[i].update(len === zeros.length ? zeros : zeros.subarray(0, len)), i * bytes + off);
    }
  }
  return cols;
}

/**
 * The extension receiver's side towards one peer (it sent the base-OT key pairs).
 * @example
 * ```ts
 * const r = new IknpReceiver(k0, k1);
 * const { u, h } = r.extend(choiceBits, m);
 * ```
 */
export class IknpReceiver {
  readonly #g0: Cipheriv[];
  readonly #g1: Cipheriv[];

  constructor(k0: readonly Uint8Array[], k1: readonly Uint8Array[]) {
    this.#g0 = streams(k0);
    this.#g1 = streams(k1);
  }

  /**
   * One batch of m random OTs with choice bits `choices` (m bits, little-endian bit order, m a multiple of
   * 32): `u` goes to the sender; `h[j]` is the receiver's message of OT j (64 bits).
   */
  extend(choices: Uint8Array, m: number): { u: Uint8Array; h: BigUint64Array } {
    if (choices.byteLength * 8 < m) throw new RangeError(`choices must hold ${m} bits`);
    const t = columns(this.#g0, m);
    const u = columns(this.#g1, m);
    const w = m >>> 5;
    const r = new Uint32Array(choices.buffer.slice(choices.byteOffset, choices.byteOffset + w * 4));
    for (let i = 0; i < KAPPA; i++) {
      const o = i * w;
      for (let k = 0; k < w; k++) u[o + k] ^= t[o + k] ^ r[k];
    }
    return { u: new Uint8Array(u.buffer), h: hashRows(transposeColumns(t, m)) };
  }
}

/**
 * The extension sender's side towards one peer (it received the base-OT keys for its choice bits s).
 * @example
 * ```ts
 * const s = new IknpSender(sBits, keys);
 * const { h0, h1 } = s.extend(u, m, peer);
 * ```
 */
export class IknpSender {
  readonly #s: Uint8Array;
  readonly #delta: Uint32Array;
  readonly #g: Cipheriv[];

  /** `s`: KAPPA choice bits, one per byte (0 or 1); `keys[i]` = k_{s_i}. */
  constructor(s: Uint8Array, keys: readonly Uint8Array[]) {
    this.#s = s;
    this.#g = streams(keys);
    this.#delta = new Uint32Array(4);
    for (let i = 0; i < KAPPA; i++) this.#delta[i >>> 5] |= s[i] << (i & 31);
  }

  /**
   * The sender's messages of one batch of m random OTs, from the receiver's columns `u` (checked for size:
   * a wrong length aborts naming `peer`): `h0[j]`, `h1[j]` (64 bits each).
   */
  extend(u: Uint8Array, m: number, peer: number): { h0: BigUint64Array; h1: BigUint64Array } {
    if (u.byteLength !== (KAPPA * m) >>> 3) {
      throw new ProtocolAbortError(`OT extension message from party ${peer} has ${u.byteLength} bytes, expected ${(KAPPA * m) >>> 3}`, {
        party: peer,
      });
    }
    const q = columns(this.#g, m);
    const uw = new Uint32Array(u.buffer, u.byteOffset, u.byteLength >>> 2);
    const w = m >>> 5;
    for (let i = 0; i < KAPPA; i++) {
      if (this.#s[i] === 0) continue;
      const o = i * w;
      for (let k = 0; k < w; k++) q[o + k] ^= uw[o + k];
    }
    const rows = transposeColumns(q, m);
    return { h0: hashRows(rows), h1: hashRows(rows, this.#delta) };
  }
}
