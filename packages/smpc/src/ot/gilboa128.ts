/**
 * Products of two parties' private values over Z_2^128 from random OTs with 128-bit messages (internal):
 * Gilboa's multiplication (Gilboa, CRYPTO 1999, Sec. 4), as the SPDZ2k offline phase uses it for products
 * over Z_2^(k+s) (Cramer, Damgard, Escudero, Scholl and Xing, CRYPTO 2018, Sec. 5; k + s = 128 here). The
 * algebra is that of `gilboa.ts`, mod 2^128: the random OT l of an item gives the sender h0, h1 and the
 * receiver h_{y_l}; the sender sends d = h1 - h0 - x, the receiver takes g = h_{y_l} - y_l d = h0 + y_l x, and
 * sum_l 2^l g - sum_l 2^l h0 = x y (Horner's rule). The OT messages must be 128 bits wide
 * (`hashRows128` in `iknp.ts`): a 64-bit pad would leave the upper half of every correction d, and so of x,
 * in the clear.
 *
 * A value is two 64-bit words, `lo[t] + 2^64 hi[t]`. `bits` (64 or 128) is the number of the receiver's
 * choice bits per item, the low bits of y: 64 when y < 2^64 (SPDZ2k's MAC key shares alpha_i are in
 * Z_2^s, s = 64), so an item takes 64 OTs; 128 for any y. Item t uses the OTs bits * t + l, l = 0..bits-1,
 * and OT j's 128-bit message or correction is the words 2j (low) and 2j + 1 (high) of its array.
 *
 * The arithmetic runs on 32-bit limbs held in doubles (Uint32Array views of the words, least significant
 * limb first: a little-endian layout, as in `gilboa.ts`), carries and borrows propagated explicitly, with no
 * BigInt per OT.
 * @module
 */
import { storeNegated } from '../ring128.ts';

/** 2^-32: a limb sum s (|s| < 2^35) splits exactly into (s >>> 0) + 2^32 * ((s - (s >>> 0)) * INV32). */
const INV32 = 2 ** -32;

function checkBits(bits: number): void {
  if (bits !== 64 && bits !== 128) throw new RangeError(`bits must be 64 or 128, got ${String(bits)}`);
}

function words(a: BigUint64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, 2 * a.length);
}

/**
 * Sender's side of Gilboa products over Z_2^128: the corrections `d` (two words per OT, `bits` OTs per item)
 * and its additive share `lo + 2^64 hi` of x[t] y[t] mod 2^128, from its 128-bit OT messages `h0`, `h1`.
 * `h1` is consumed: the corrections are written over it, and `d` is that same array.
 * @example
 * ```ts
 * const { h0, h1 } = sender.extend(u, 128 * xLo.length, peer, 128);
 * const { d, lo, hi } = gilboa128Send(xLo, xHi, h0, h1, 128);
 * ```
 */
export function gilboa128Send(
  xLo: BigUint64Array,
  xHi: BigUint64Array,
  h0: BigUint64Array,
  h1: BigUint64Array,
  bits: 64 | 128,
): { d: BigUint64Array; lo: BigUint64Array; hi: BigUint64Array } {
  checkBits(bits);
  const count = xLo.length;
  if (xHi.length !== count) throw new RangeError(`xLo and xHi must have the same length, got ${count} and ${xHi.length}`);
  const m = bits * count;
  if (h0.length !== 2 * m || h1.length !== 2 * m) {
    throw new RangeError(`h0 and h1 must hold ${2 * m} words (${bits} OTs of 128 bits per item), got ${h0.length} and ${h1.length}`);
  }
  const a = words(h0);
  const b = words(h1);
  const xl = words(xLo);
  const xh = words(xHi);
  // The corrections overwrite h1 (each h1 word is read once, just before): a fresh 16-byte-per-OT array would
  // cost more in first-touch page faults than the arithmetic (measured, Node 24 on Linux).
  const d = h1;
  const dw = b;
  const lo = new BigUint64Array(count);
  const hi = new BigUint64Array(count);
  const lw = new Uint32Array(lo.buffer);
  const hw = new Uint32Array(hi.buffer);
  for (let t = 0; t < count; t++) {
    const x0 = xl[2 * t];
    const x1 = xl[2 * t + 1];
    const x2 = xh[2 * t];
    const x3 = xh[2 * t + 1];
    // acc = sum_l 2^l h0_l by Horner's rule, limbs c0 (least significant) .. c3.
    let c0 = 0;
    let c1 = 0;
    let c2 = 0;
    let c3 = 0;
    for (let o = 4 * (bits * t + bits - 1), end = 4 * bits * t; o >= end; o -= 4) {
      const a0 = a[o];
      const a1 = a[o + 1];
      const a2 = a[o + 2];
      const a3 = a[o + 3];
      // d = h1 - h0 - x mod 2^128.
      let s = b[o] - a0 - x0;
      let w = s >>> 0;
      dw[o] = w;
      let k = (s - w) * INV32;
      s = b[o + 1] - a1 - x1 + k;
      w = s >>> 0;
      dw[o + 1] = w;
      k = (s - w) * INV32;
      s = b[o + 2] - a2 - x2 + k;
      w = s >>> 0;
      dw[o + 2] = w;
      k = (s - w) * INV32;
      dw[o + 3] = (b[o + 3] - a3 - x3 + k) >>> 0;
      // acc = 2 acc + h0 mod 2^128.
      s = 2 * c0 + a0;
      c0 = s >>> 0;
      k = (s - c0) * INV32;
      s = 2 * c1 + a1 + k;
      c1 = s >>> 0;
      k = (s - c1) * INV32;
      s = 2 * c2 + a2 + k;
      c2 = s >>> 0;
      k = (s - c2) * INV32;
      c3 = (2 * c3 + a3 + k) >>> 0;
    }
    storeNegated(lw, hw, t, c0, c1, c2, c3); // the share is -acc mod 2^128
  }
  return { d, lo, hi };
}

/**
 * Receiver's side of Gilboa products over Z_2^128: its additive share `lo + 2^64 hi` of x[t] y[t] mod 2^128
 * from its 128-bit OT messages `h` (choice bits: the low `bits` bits of y[t]) and the sender's corrections
 * `d`. With `bits` 64, y must be below 2^64 (every yHi[t] zero).
 * @example
 * ```ts
 * const { u, h } = receiver.extend(choices, 64 * yLo.length, 128);
 * // ... send u, receive the sender's corrections d ...
 * const { lo, hi } = gilboa128Receive(yLo, yHi, h, d, 64);
 * ```
 */
export function gilboa128Receive(
  yLo: BigUint64Array,
  yHi: BigUint64Array,
  h: BigUint64Array,
  d: BigUint64Array,
  bits: 64 | 128,
): { lo: BigUint64Array; hi: BigUint64Array } {
  checkBits(bits);
  const count = yLo.length;
  if (yHi.length !== count) throw new RangeError(`yLo and yHi must have the same length, got ${count} and ${yHi.length}`);
  const m = bits * count;
  if (h.length !== 2 * m || d.length !== 2 * m) {
    throw new RangeError(`h and d must hold ${2 * m} words (${bits} OTs of 128 bits per item), got ${h.length} and ${d.length}`);
  }
  if (bits === 64) {
    for (let t = 0; t < count; t++) {
      if (yHi[t] !== 0n) throw new RangeError(`with bits 64, y must be below 2^64: yHi[${t}] must be 0`);
    }
  }
  return receiveShares(yLo, yHi, h, words(d), bits, false);
}

/** First packed limb of corrections 32q .. 32q + 31 within an item ({@link packCorrections}). */
const PACKED_GROUP = [0, 128, 224, 288];

/**
 * Horner's rule of the receiver over corrections `dv`: full (4 limbs per correction) or packed (corrections
 * 32q .. 32q + 31 keep 4 - q limbs, the others count as 0).
 */
function receiveShares(
  yLo: BigUint64Array,
  yHi: BigUint64Array,
  h: BigUint64Array,
  dv: Uint32Array,
  bits: 64 | 128,
  packed: boolean,
): { lo: BigUint64Array; hi: BigUint64Array } {
  const count = yLo.length;
  const hv = words(h);
  const yl = words(yLo);
  const yh = words(yHi);
  const lo = new BigUint64Array(count);
  const hi = new BigUint64Array(count);
  const lw = new Uint32Array(lo.buffer);
  const hw = new Uint32Array(hi.buffer);
  const y4 = new Uint32Array(4);
  const itemLimbs = packed ? packedLimbs(bits) : 4 * bits;
  for (let t = 0; t < count; t++) {
    y4[0] = yl[2 * t];
    y4[1] = yl[2 * t + 1];
    y4[2] = yh[2 * t];
    y4[3] = yh[2 * t + 1];
    let c0 = 0;
    let c1 = 0;
    let c2 = 0;
    let c3 = 0;
    let o = 4 * (bits * t + bits - 1);
    // Limb q of y holds the choice bits 32q .. 32q + 31; Horner runs from the top bit down.
    for (let q = (bits >>> 5) - 1; q >= 0; q--) {
      const yq = y4[q];
      const keep = packed ? 4 - q : 4;
      let p = itemLimbs * t + (packed ? PACKED_GROUP[q] : 128 * q) + 31 * keep;
      for (let r = 31; r >= 0; r--, o -= 4, p -= keep) {
        // acc = 2 acc + h - y_l d mod 2^128 (g = h - y_l d is never formed on its own).
        const e = (yq >>> r) & 1;
        let s = 2 * c0 + hv[o] - e * dv[p];
        c0 = s >>> 0;
        let k = (s - c0) * INV32;
        s = 2 * c1 + hv[o + 1] - (keep > 1 ? e * dv[p + 1] : 0) + k;
        c1 = s >>> 0;
        k = (s - c1) * INV32;
        s = 2 * c2 + hv[o + 2] - (keep > 2 ? e * dv[p + 2] : 0) + k;
        c2 = s >>> 0;
        k = (s - c2) * INV32;
        c3 = (2 * c3 + hv[o + 3] - (keep > 3 ? e * dv[p + 3] : 0) + k) >>> 0;
      }
    }
    lw[2 * t] = c0;
    lw[2 * t + 1] = c1;
    hw[2 * t] = c2;
    hw[2 * t + 1] = c3;
  }
  return { lo, hi };
}

/**
 * Limbs per item on the wire for `bits` corrections of 128 bits: the receiver takes 2^l (h - y_l d_l) mod
 * 2^128, so only the low 128 - l bits of correction l matter (the truncation of SPDZ2k, CRYPTO 2018, Sec. 5, and
 * MASCOT, CCS 2016, Sec. 5): corrections 32q .. 32q + 31 keep their low 4 - q limbs, the limbs above only move
 * bits 128 and up. 320 of 512 limbs per item with `bits` 128 (5/8), 224 of 256 with 64 (7/8).
 */
function packedLimbs(bits: 64 | 128): number {
  return bits === 128 ? 320 : 224;
}

/**
 * Bytes of `count` items' packed corrections ({@link packCorrections}).
 * @example
 * ```ts
 * const d = await channel.receiveBytes(peer, tag, packedCorrectionBytes(128, n));
 * ```
 */
export function packedCorrectionBytes(bits: 64 | 128, count: number): number {
  checkBits(bits);
  return 4 * packedLimbs(bits) * count;
}

/**
 * The corrections `d` of {@link gilboa128Send} (`bits` per item, 4 limbs each) as sent: correction l of an item
 * keeps its low 4 - floor(l / 32) limbs, item after item. Written into `out` at byte offset `at` when given.
 * @example
 * ```ts
 * const { d } = gilboa128Send(xLo, xHi, h0, h1, 128);
 * channel.sendBytes(peer, tag, packCorrections(d, 128));
 * ```
 */
export function packCorrections(d: BigUint64Array, bits: 64 | 128, out?: Uint8Array, at = 0): Uint8Array {
  checkBits(bits);
  if (d.length % (2 * bits) !== 0) throw new RangeError(`d must hold ${2 * bits} words per item, got ${d.length}`);
  const count = d.length / (2 * bits);
  const bytes = packedCorrectionBytes(bits, count);
  const target = out ?? new Uint8Array(bytes);
  if (at % 4 !== 0 || target.byteOffset % 4 !== 0 || at + bytes > target.byteLength) {
    throw new RangeError(`out must have ${bytes} bytes from a 4-byte aligned offset ${at}`);
  }
  const src = words(d);
  const dst = new Uint32Array(target.buffer, target.byteOffset + at, bytes >>> 2);
  // One loop per kept width (no inner loop over limbs): this copy runs on every correction sent.
  let o = 0;
  for (let i = 0, end = src.length; i < end; ) {
    dst.set(src.subarray(i, i + 128), o);
    i += 128;
    o += 128;
    for (let r = 0; r < 32; r++, i += 4, o += 3) {
      dst[o] = src[i];
      dst[o + 1] = src[i + 1];
      dst[o + 2] = src[i + 2];
    }
    if (bits === 64) continue;
    for (let r = 0; r < 32; r++, i += 4, o += 2) {
      dst[o] = src[i];
      dst[o + 1] = src[i + 1];
    }
    for (let r = 0; r < 32; r++, i += 4, o++) dst[o] = src[i];
  }
  return target;
}

/**
 * The corrections of `count` items from their packed form ({@link packCorrections}), the limbs not sent as 0:
 * the input of {@link gilboa128Receive}, which then gives the same share (the dropped limbs only move bits
 * 128 and up).
 * @example
 * ```ts
 * const d = unpackCorrections(bytes, 128, n);
 * const { lo, hi } = gilboa128Receive(yLo, yHi, h, d, 128);
 * ```
 */
export function unpackCorrections(bytes: Uint8Array, bits: 64 | 128, count: number): BigUint64Array {
  checkBits(bits);
  const expected = packedCorrectionBytes(bits, count);
  if (bytes.byteLength !== expected) throw new RangeError(`packed corrections must have ${expected} bytes, got ${bytes.byteLength}`);
  const src =
    bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, expected >>> 2) : new Uint32Array(bytes.slice().buffer);
  const d = new BigUint64Array(2 * bits * count);
  const dst = words(d);
  let o = 0;
  for (let i = 0, end = dst.length; i < end; ) {
    dst.set(src.subarray(o, o + 128), i);
    i += 128;
    o += 128;
    for (let r = 0; r < 32; r++, i += 4, o += 3) {
      dst[i] = src[o];
      dst[i + 1] = src[o + 1];
      dst[i + 2] = src[o + 2];
    }
    if (bits === 64) continue;
    for (let r = 0; r < 32; r++, i += 4, o += 2) {
      dst[i] = src[o];
      dst[i + 1] = src[o + 1];
    }
    for (let r = 0; r < 32; r++, i += 4, o++) dst[i] = src[o];
  }
  return d;
}

/**
 * {@link gilboa128Receive} from the corrections as sent ({@link packCorrections}), read in place: the same share
 * as unpacking them first, without the full-size copy.
 * @example
 * ```ts
 * const bytes = await channel.receiveBytes(peer, tag, packedCorrectionBytes(128, n));
 * const { lo, hi } = gilboa128ReceivePacked(yLo, yHi, h, bytes, 128);
 * ```
 */
export function gilboa128ReceivePacked(
  yLo: BigUint64Array,
  yHi: BigUint64Array,
  h: BigUint64Array,
  packed: Uint8Array,
  bits: 64 | 128,
): { lo: BigUint64Array; hi: BigUint64Array } {
  checkBits(bits);
  const count = yLo.length;
  if (yHi.length !== count) throw new RangeError(`yLo and yHi must have the same length, got ${count} and ${yHi.length}`);
  if (h.length !== 2 * bits * count)
    throw new RangeError(`h must hold ${2 * bits * count} words (${bits} OTs of 128 bits per item), got ${h.length}`);
  const expected = packedCorrectionBytes(bits, count);
  if (packed.byteLength !== expected) throw new RangeError(`packed corrections must have ${expected} bytes, got ${packed.byteLength}`);
  if (bits === 64) {
    const i = yHi.findIndex((v) => v !== 0n);
    if (i >= 0) throw new RangeError(`with bits 64, y must be below 2^64: yHi[${i}] must be 0`);
  }
  const dv =
    packed.byteOffset % 4 === 0
      ? new Uint32Array(packed.buffer, packed.byteOffset, expected >>> 2)
      : new Uint32Array(packed.slice().buffer);
  return receiveShares(yLo, yHi, h, dv, bits, true);
}
