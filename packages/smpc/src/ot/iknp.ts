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
 *   robustness of H(t_j ^ s) for a hidden s). The low 64 bits of each output are used for products over
 *   Z_2^64, all 128 for products over Z_2^128 (`gilboa128.ts`), whose corrections a 64-bit pad would leave
 *   half unmasked. Node's AES-ECB runs on AES-NI, an order of magnitude faster than a JavaScript cipher.
 * - The m x 128 bit-matrix transposition works on 32 x 32 blocks of 32-bit words (Warren, "Hacker's Delight",
 *   2nd ed., Sec. 7-3).
 * - Optional active security against a malicious receiver (`extendRows(..., { checked: true })` on both sides):
 *   the consistency check of Keller, Orsini and Scholl ("Actively secure OT extension with optimal overhead",
 *   CRYPTO 2015, Sec. 3 and Fig. 7). Without it a receiver that sends columns u^i with different choice vectors
 *   learns bits of s from the pads, then both messages of some OTs. The batch is extended by
 *   {@link KOS_PADDING} = kappa + s (s = 64) OTs with random choice bits, dropped afterwards; after it received u
 *   the sender sends a fresh 16-byte seed; the receiver answers x = sum_j chi_j r_j and t = sum_j chi_j t_j over
 *   GF(2^128), and the sender checks sum_j chi_j q_j = t + x s, aborting on a mismatch.
 *   - The seed: Fig. 7 draws the chi from a coin-tossing functionality (F_Rand) after u is sent; here the sender
 *     alone picks it after it received u, which saves the commitment round of a coin toss. Soundness needs the
 *     chi unpredictable to the receiver when it sends u, which holds, and only the sender relies on the check.
 *     The receiver's privacy needs the padding rows' chi to span GF(2^128) over GF(2), so that x hides the real
 *     choice bits; a sender that picks the seed still cannot pick the chi (they are the powers of an AES output
 *     under it, below), only try seeds, each failing with probability below 2^-63.
 *   - The chi: KOS draws every chi_j uniformly; here chi_j = H^(m' + 2 - j) for one H = AES_seed(0), so both
 *     sums are GHASH values that OpenSSL computes at memory speed (`gf128.ts`), where a JavaScript product per
 *     row cost about 3x the extension itself (measured). A fixed nonzero combination sum_j a_j chi_j of m' rows
 *     then hits a given value with probability at most (m' + 1) / 2^128 (a nonzero polynomial of degree m' + 1
 *     in H) instead of 2^-128: 2^-107 for a batch of 2^20 OTs, the factor by which the check's failure bound
 *     grows; the padding's chi H^a .. H^(a + 191) span GF(2)[H], all of GF(2^128) unless H lies in a proper
 *     subfield (probability below 2^-63).
 * @module
 */
import { type Cipheriv, createCipheriv } from 'node:crypto';
import { assertOptions, cryptoRng, type Rng } from '@ppml/core';
import { ProtocolAbortError } from '../errors.ts';
import { gcmMul, ghashSum } from './gf128.ts';

/** Base OTs (and columns of the extension matrix) per ordered pair: the computational security parameter. */
export const KAPPA = 128;
/**
 * Extra OTs per checked batch (KOS, CRYPTO 2015, Fig. 7: kappa + s, here s = 64): their random choice bits hide
 * the real ones in the check value x.
 * @example
 * ```ts
 * const uBytes = (KAPPA * (m + KOS_PADDING)) / 8; // size of a checked batch's u
 * ```
 */
export const KOS_PADDING = 192;
/**
 * Bytes of the sender's check seed (an AES-128 key: the check's chi are the powers of H = AES_seed(0)).
 * @example
 * ```ts
 * const seed = await channel.receiveBytes(peer, tag, KOS_SEED_BYTES);
 * ```
 */
export const KOS_SEED_BYTES = 16;
/**
 * Bytes of the receiver's answer to the check seed: x, then t (GCM blocks, 16 bytes each).
 * @example
 * ```ts
 * sender.verify(await channel.receiveBytes(peer, tag, KOS_ANSWER_BYTES));
 * ```
 */
export const KOS_ANSWER_BYTES = 32;
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
  const out = new BigUint64Array(rows.length >>> 2);
  hashInto(rows, delta, new Uint32Array(out.buffer), 2);
  return out;
}

/**
 * The whole 128-bit correlation-robust hash of every row (XORed with `delta` first when given), for OT
 * messages over Z_2^128: 2m words, interleaved, word 2j the low and word 2j + 1 the high 64 bits of row j's
 * hash (so a Uint32Array view holds row j's value in its words 4j..4j + 3, least significant first, on a
 * little-endian platform).
 * @example
 * ```ts
 * const h = hashRows128(rows);
 * const lo = h[2 * j], hi = h[2 * j + 1];
 * ```
 */
export function hashRows128(rows: Uint32Array, delta: Uint32Array | null = null): BigUint64Array {
  const out = new BigUint64Array(rows.length >>> 1);
  hashInto(rows, delta, new Uint32Array(out.buffer), 4);
  return out;
}

/** pi(sigma(x)) ^ sigma(x) of every row into `ow`, its low `words` 32-bit words per row (2 or 4). */
function hashInto(rows: Uint32Array, delta: Uint32Array | null, ow: Uint32Array, words: 2 | 4): void {
  const m = rows.length >>> 2;
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
    // One loop per width, so the 64-bit path keeps its tight loop.
    if (words === 2) {
      for (let j = 0, k = 2 * from; j < len; j++, k += 2) {
        ow[k] = e[4 * j] ^ sig[4 * j];
        ow[k + 1] = e[4 * j + 1] ^ sig[4 * j + 1];
      }
    } else {
      for (let j = 0, k = 4 * from; j < 4 * len; j++, k++) ow[k] = e[j] ^ sig[j];
    }
  }
}

/** The hash of the rows at the message width (bits per OT message) the caller checked. */
function hashWidth(rows: Uint32Array, delta: Uint32Array | null, width: 64 | 128): BigUint64Array {
  return width === 128 ? hashRows128(rows, delta) : hashRows(rows, delta);
}

/** One AES-128-CTR keystream per seed, kept for the whole run: each batch continues where the last one stopped. */
function streams(seeds: readonly Uint8Array[]): Cipheriv[] {
  return seeds.map((k) => createCipheriv('aes-128-ctr', k, new Uint8Array(16)));
}

/** The RNG of a checked batch, or null for an unchecked one (options absent). */
function checkedOption(options: { checked: true; rng?: Rng } | undefined): Rng | null {
  if (options === undefined) return null;
  assertOptions('options', options, ['checked', 'rng']);
  if (options.checked !== true) throw new TypeError('options.checked must be true when options are given');
  const rng = options.rng ?? cryptoRng;
  if (typeof rng !== 'object' || rng === null || typeof rng.fillBytes !== 'function') {
    throw new TypeError('options.rng must be an Rng');
  }
  return rng;
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
  /** Zeros between checked batches: the blocks of the check value x are written here and cleared after. */
  #ones = new Uint8Array(0);

  constructor(k0: readonly Uint8Array[], k1: readonly Uint8Array[]) {
    this.#g0 = streams(k0);
    this.#g1 = streams(k1);
  }

  /**
   * One batch of m random OTs with choice bits `choices` (m bits, little-endian bit order, m a multiple of
   * 32): `u` goes to the sender; `h[j]` is the receiver's message of OT j (64 bits), or with `width` 128
   * the 128-bit message `h[2j] + 2^64 h[2j + 1]` (layout of {@link hashRows128}).
   */
  extend(choices: Uint8Array, m: number, width: 64 | 128 = 64): { u: Uint8Array; h: BigUint64Array } {
    if (width !== 64 && width !== 128) throw new RangeError(`width must be 64 or 128, got ${String(width)}`);
    const { u, rows } = this.extendRows(choices, m);
    return { u, h: hashWidth(rows, null, width) };
  }

  /**
   * One batch of m random OTs as {@link extend}, with the receiver's rows t_j (4 words each) unhashed, for
   * several pads per OT ({@link tweakedPads}): `u` goes to the sender.
   */
  extendRows(choices: Uint8Array, m: number): { u: Uint8Array; rows: Uint32Array };
  /**
   * With `{ checked: true }` the batch is checked (KOS; see the module doc): `u` covers m + {@link KOS_PADDING}
   * OTs (the padding's choice bits drawn from `rng`, default the CSPRNG), `rows` only the m real ones, and
   * `answer(seed)` turns the sender's check seed into the {@link KOS_ANSWER_BYTES} bytes to send back.
   */
  extendRows(
    choices: Uint8Array,
    m: number,
    options: { checked: true; rng?: Rng },
  ): { u: Uint8Array; rows: Uint32Array; answer(seed: Uint8Array): Uint8Array };
  extendRows(
    choices: Uint8Array,
    m: number,
    options?: { checked: true; rng?: Rng },
  ): { u: Uint8Array; rows: Uint32Array; answer?(seed: Uint8Array): Uint8Array } {
    if (choices.byteLength * 8 < m) throw new RangeError(`choices must hold ${m} bits`);
    if (m % 32 !== 0) throw new RangeError(`OT batch must be a multiple of 32, got ${m}`);
    const checked = checkedOption(options);
    const total = checked === null ? m : m + KOS_PADDING;
    const t = columns(this.#g0, total);
    const u = columns(this.#g1, total);
    const w = total >>> 5;
    const r = new Uint32Array(w);
    new Uint8Array(r.buffer).set(choices.subarray(0, m >>> 3));
    if (checked !== null) checked.fillBytes(new Uint8Array(r.buffer, m >>> 3, KOS_PADDING >>> 3));
    for (let i = 0; i < KAPPA; i++) {
      const o = i * w;
      for (let k = 0; k < w; k++) u[o + k] ^= t[o + k] ^ r[k];
    }
    const rows = transposeColumns(t, total);
    if (checked === null) return { u: new Uint8Array(u.buffer), rows };
    return {
      u: new Uint8Array(u.buffer),
      rows: rows.subarray(0, 4 * m),
      answer: (seed: Uint8Array): Uint8Array => {
        if (!(seed instanceof Uint8Array) || seed.byteLength !== KOS_SEED_BYTES) {
          throw new RangeError(`seed must be ${KOS_SEED_BYTES} bytes`);
        }
        // x: the GHASH of the blocks r_j * 1 (GCM's 1 is the block 80 00 .. 00); t: of the rows. The blocks go in
        // a zeroed buffer kept between batches (allocating and faulting in 16 MiB per batch cost more than the
        // GHASH itself, measured) and cleared again before returning.
        if (this.#ones.byteLength < 16 * total) this.#ones = new Uint8Array(16 * total);
        const ones = this.#ones.subarray(0, 16 * total);
        for (let k = 0; k < w; k++) {
          for (let bits = r[k]; bits !== 0; bits &= bits - 1) ones[16 * (32 * k + 31 - Math.clz32(bits & -bits))] = 0x80;
        }
        const out = new Uint8Array(KOS_ANSWER_BYTES);
        out.set(ghashSum(seed, ones), 0);
        for (let k = 0; k < w; k++) {
          for (let bits = r[k]; bits !== 0; bits &= bits - 1) ones[16 * (32 * k + 31 - Math.clz32(bits & -bits))] = 0;
        }
        out.set(ghashSum(seed, new Uint8Array(rows.buffer, rows.byteOffset, 16 * total)), 16);
        return out;
      },
    };
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
   * a wrong length aborts naming `peer`): `h0[j]`, `h1[j]` (64 bits each), or with `width` 128 the 128-bit
   * messages in the layout of {@link hashRows128}.
   */
  extend(u: Uint8Array, m: number, peer: number, width: 64 | 128 = 64): { h0: BigUint64Array; h1: BigUint64Array } {
    if (width !== 64 && width !== 128) throw new RangeError(`width must be 64 or 128, got ${String(width)}`);
    const rows = this.extendRows(u, m, peer);
    return { h0: hashWidth(rows, null, width), h1: hashWidth(rows, this.#delta, width) };
  }

  /**
   * The rows q_j = t_j ^ r_j s of one batch of m random OTs, unhashed, from the receiver's columns `u`
   * (checked for size as in {@link extend}), for several pads per OT ({@link pads128}).
   */
  extendRows(u: Uint8Array, m: number, peer: number): Uint32Array;
  /**
   * With `{ checked: true }` (the receiver's batch was checked as well): `u` covers m + {@link KOS_PADDING}
   * OTs, `rows` the m real ones, `seed` (fresh from `rng`, default the CSPRNG) goes to the receiver, and
   * `verify(answer)` checks its answer, throwing a ProtocolAbortError naming `peer` on a mismatch. Use the rows
   * only after `verify` returned.
   */
  extendRows(
    u: Uint8Array,
    m: number,
    peer: number,
    options: { checked: true; rng?: Rng },
  ): { rows: Uint32Array; seed: Uint8Array; verify(answer: Uint8Array): void };
  extendRows(
    u: Uint8Array,
    m: number,
    peer: number,
    options?: { checked: true; rng?: Rng },
  ): Uint32Array | { rows: Uint32Array; seed: Uint8Array; verify(answer: Uint8Array): void } {
    if (m % 32 !== 0) throw new RangeError(`OT batch must be a multiple of 32, got ${m}`);
    const checked = checkedOption(options);
    const total = checked === null ? m : m + KOS_PADDING;
    if (u.byteLength !== (KAPPA * total) >>> 3) {
      throw new ProtocolAbortError(`OT extension message from party ${peer} has ${u.byteLength} bytes, expected ${(KAPPA * total) >>> 3}`, {
        party: peer,
      });
    }
    const q = columns(this.#g, total);
    const uw = new Uint32Array(u.buffer, u.byteOffset, u.byteLength >>> 2);
    const w = total >>> 5;
    for (let i = 0; i < KAPPA; i++) {
      if (this.#s[i] === 0) continue;
      const o = i * w;
      for (let k = 0; k < w; k++) q[o + k] ^= uw[o + k];
    }
    const rows = transposeColumns(q, total);
    if (checked === null) return rows;
    const seed = new Uint8Array(KOS_SEED_BYTES);
    checked.fillBytes(seed);
    // sum_j chi_j q_j: q_j = t_j + r_j s, so it equals t + x s for an honest receiver.
    const expected = ghashSum(seed, new Uint8Array(rows.buffer, rows.byteOffset, 16 * total));
    const delta = new Uint8Array(this.#delta.buffer);
    return {
      rows: rows.subarray(0, 4 * m),
      seed,
      verify: (answer: Uint8Array): void => {
        if (!(answer instanceof Uint8Array) || answer.byteLength !== KOS_ANSWER_BYTES) {
          throw new ProtocolAbortError(`OT extension check answer from party ${peer} has a wrong size`, { party: peer });
        }
        const xs = gcmMul(answer.subarray(0, 16), delta);
        let diff = 0;
        for (let k = 0; k < 16; k++) diff |= expected[k] ^ answer[16 + k] ^ xs[k];
        if (diff !== 0) {
          throw new ProtocolAbortError(`OT extension consistency check failed: party ${peer} sent inconsistent extension columns`, {
            party: peer,
            cause: new Error('KOS check: sum_j chi_j q_j != t + x s'),
          });
        }
      },
    };
  }

  /**
   * The sender's 128-bit pads number `k` of the OTs whose rows are `rows` ({@link extendRows}): h0 = H(q_j ^ w_k)
   * and h1 = H(q_j ^ s ^ w_k), with the tweak w_k of {@link tweakedPads}; pad 0 is {@link extend}'s message.
   */
  pads128(rows: Uint32Array, k: number): { h0: BigUint64Array; h1: BigUint64Array } {
    const w = tweak(k);
    const d = this.#delta.slice();
    if (w !== null) for (let i = 0; i < 4; i++) d[i] ^= w[i];
    return { h0: hashRows128(rows, w), h1: hashRows128(rows, d) };
  }
}

/**
 * The tweak w_k of pad number k: 0 for k = 0 (the plain OT message), else k in the top word. Several pads per
 * OT are the correlation-robust hash at distinct offsets of one row, H(x ^ w_k): the receiver, whose row t_j
 * equals q_j ^ r_j s, gets H(t_j ^ w_k), the pad of its choice, and the pads it must not learn are
 * H(t_j ^ s ^ w_k) for the hidden s. Correlation robustness (Ishai, Kilian, Nissim and Petrank, CRYPTO 2003,
 * the property their OT extension asks of H; for this hash Guo, Katz, Wang and Yu, S&P 2020, Sec. 7.3) makes
 * H(x_i ^ s) pseudorandom for any distinct x_i; the points t_j ^ w_k are distinct except with probability
 * (m K)^2 / 2^128 over m pseudorandom rows and K tweaks. So each OT yields K independent pads, an OT with vector messages as MASCOT (Keller, Orsini and
 * Scholl, CCS 2016, Sec. 5) uses, and K products that share the receiver's operand need one extension, not K.
 * @example
 * ```ts
 * const { u, rows } = receiver.extendRows(choices, m);
 * const h1 = tweakedPads(rows, 1); // the receiver's pad number 1 of every OT
 * ```
 */
export function tweakedPads(rows: Uint32Array, k: number): BigUint64Array {
  return hashRows128(rows, tweak(k));
}

function tweak(k: number): Uint32Array | null {
  if (!Number.isInteger(k) || k < 0 || k > 0xffff_ffff) throw new RangeError(`pad number must be an integer in [0, 2^32), got ${k}`);
  return k === 0 ? null : Uint32Array.of(0, 0, 0, k);
}
