/**
 * Vector oblivious linear evaluation with a fixed scalar over Z_2^128 (internal): correlated OT with errors,
 * "COPEe" (Keller, Orsini and Scholl, "MASCOT", CCS 2016, Sec. 4), as the SPDZ2k offline phase uses it
 * to authenticate values under the fixed MAC key (Cramer, Damgard, Escudero, Scholl and Xing, CRYPTO 2018,
 * Sec. 5, "Pi_COPEe"). Semi-honest, between a holder of values v (the base-OT sender) and a holder of a fixed
 * scalar alpha < 2^64 (the base-OT receiver, whose 64 choice bits are the bits alpha_l of alpha).
 *
 * The 64 base-OT key pairs (k0_l, k1_l) seed AES-128-CTR streams t0_l = G(k0_l), t1_l = G(k1_l), continuing
 * from call to call (like the IKNP streams of `iknp.ts`); the alpha holder can expand only t_{alpha_l}. Per item
 * and bit l the v holder sends u_l = t0_l - t1_l + v mod 2^128 and the alpha holder computes
 * q_l = t_{alpha_l} + alpha_l u_l = t0_l + alpha_l v. So sum_l 2^l q_l = sum_l 2^l t0_l + alpha v: the alpha
 * holder's share is sum_l 2^l q_l, the v holder's is -sum_l 2^l t0_l. u_l hides v under t1_l, which the alpha
 * holder never sees when alpha_l = 0, and under t0_l when alpha_l = 1. No OT extension runs at all: only the
 * base OTs, once per run, which fix alpha for the run (a fresh scalar needs fresh base OTs).
 *
 * Values are `lo + 2^64 hi`; the arithmetic runs on 32-bit limbs held in doubles (as in `gilboa128.ts`), with
 * no BigInt per item. Layout of u: bit l's n values, 4 or 3 limbs each (least significant first; see `limbs`),
 * then bit l + 1's.
 * @module
 */
import { type Cipheriv, createCipheriv } from 'node:crypto';
import { ProtocolAbortError } from '../errors.ts';
import { storeNegated } from '../ring128.ts';

/** Bits of the fixed scalar: SPDZ2k's MAC key shares are in Z_2^s, s = 64. */
export const COPE_BITS = 64;
/** 2^-32: a limb sum s (|s| < 2^35) splits exactly into (s >>> 0) + 2^32 * ((s - (s >>> 0)) * INV32). */
const INV32 = 2 ** -32;
/** Bytes per AES-CTR call (64 KiB calls are the fastest, measured for `iknp.ts`). */
const PRG_CHUNK = 65_536;
const ZEROS = new Uint8Array(PRG_CHUNK);
/** Items per keystream chunk: 16 bytes each. */
const CHUNK_ITEMS = PRG_CHUNK / 16;

function checkKeys(name: string, keys: readonly Uint8Array[]): void {
  if (keys.length !== COPE_BITS) throw new RangeError(`${name} must hold ${COPE_BITS} keys, got ${keys.length}`);
}

function streams(seeds: readonly Uint8Array[]): Cipheriv[] {
  return seeds.map((k) => createCipheriv('aes-128-ctr', k, new Uint8Array(16)));
}

/**
 * The next `bytes` bytes (at most {@link PRG_CHUNK}) of stream `g` as 32-bit words, read in place: copying the
 * keystream into one large array cost more than the AES itself (measured, Node 24).
 */
function next32(g: Cipheriv, bytes: number): Uint32Array {
  const b = g.update(bytes === PRG_CHUNK ? ZEROS : ZEROS.subarray(0, bytes));
  if (b.byteOffset % 4 !== 0) return new Uint32Array(new Uint8Array(b).buffer);
  return new Uint32Array(b.buffer, b.byteOffset, bytes >>> 2);
}

/**
 * Limbs of u_l on the wire. The share takes 2^l q_l mod 2^128, so only the low 128 - l bits of u_l matter
 * (SPDZ2k, CRYPTO 2018, Sec. 5; MASCOT, CCS 2016, Sec. 4): for l >= 32 the top limb only moves bits 128 and
 * up, and is not sent (a message of 7/8 the full size). Bit-exact truncation would save 1/4 at the cost of
 * shifting every item.
 */
function limbs(l: number): 3 | 4 {
  return l < 32 ? 4 : 3;
}

/** The first limb of u_l in the message of n items: bits 0..31 take 4 limbs per item, bits 32..63 take 3. */
function offset(l: number, n: number): number {
  return l < 32 ? 4 * n * l : 128 * n + 3 * n * (l - 32);
}

/**
 * Bytes of the COPE message for n items: 4 limbs per item for each of the low 32 bits of alpha, 3 for each of
 * the high 32.
 * @example
 * ```ts
 * const u = await channel.receiveBytes(peer, tag, copeMessageBytes(n));
 * ```
 */
export function copeMessageBytes(n: number): number {
  return 4 * n * (4 * 32 + 3 * 32);
}

function words(a: BigUint64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, 2 * a.length);
}

/**
 * The v holder's side towards one peer (it sent the 64 base-OT key pairs).
 * @example
 * ```ts
 * const s = new CopeSender(sent[peer].k0, sent[peer].k1);
 * const { u, lo, hi } = s.send(vLo, vHi); // u to the peer; lo + 2^64 hi is this party's share of alpha v
 * ```
 */
export class CopeSender {
  readonly #g0: Cipheriv[];
  readonly #g1: Cipheriv[];

  constructor(k0: readonly Uint8Array[], k1: readonly Uint8Array[]) {
    checkKeys('k0', k0);
    checkKeys('k1', k1);
    this.#g0 = streams(k0);
    this.#g1 = streams(k1);
  }

  /**
   * The message u ({@link copeMessageBytes}(n) bytes) and this side's share -sum_l 2^l t0_l of alpha v[t], for
   * n = vLo.length.
   */
  send(vLo: BigUint64Array, vHi: BigUint64Array): { u: Uint8Array; lo: BigUint64Array; hi: BigUint64Array } {
    const n = vLo.length;
    if (vHi.length !== n) throw new RangeError(`vLo and vHi must have the same length, got ${n} and ${vHi.length}`);
    const u = new Uint32Array(copeMessageBytes(n) >>> 2);
    const vl = words(vLo);
    const vh = words(vHi);
    const lo = new BigUint64Array(n);
    const hi = new BigUint64Array(n);
    const lw = words(lo);
    const hw = words(hi);
    // acc = sum_l 2^l t0_l per item, by Horner's rule from the top bit down, one stream chunk at a time.
    const acc = new Uint32Array(4 * n);
    for (let l = COPE_BITS - 1; l >= 0; l--) {
      for (let from = 0; from < n; from += CHUNK_ITEMS) {
        const len = Math.min(CHUNK_ITEMS, n - from);
        const a = next32(this.#g0[l], 16 * len);
        const b = next32(this.#g1[l], 16 * len);
        const wl = limbs(l);
        for (let j = 0, c = 4 * from, o = offset(l, n) + wl * from, x = 2 * from; j < 4 * len; j += 4, c += 4, o += wl, x += 2) {
          const a0 = a[j];
          const a1 = a[j + 1];
          const a2 = a[j + 2];
          const a3 = a[j + 3];
          // u_l = t0_l - t1_l + v mod 2^128.
          let s = a0 - b[j] + vl[x];
          let w = s >>> 0;
          u[o] = w;
          let k = (s - w) * INV32;
          s = a1 - b[j + 1] + vl[x + 1] + k;
          w = s >>> 0;
          u[o + 1] = w;
          k = (s - w) * INV32;
          s = a2 - b[j + 2] + vh[x] + k;
          w = s >>> 0;
          u[o + 2] = w;
          k = (s - w) * INV32;
          if (wl === 4) u[o + 3] = (a3 - b[j + 3] + vh[x + 1] + k) >>> 0;
          // acc = 2 acc + t0_l mod 2^128.
          s = 2 * acc[c] + a0;
          w = s >>> 0;
          acc[c] = w;
          k = (s - w) * INV32;
          s = 2 * acc[c + 1] + a1 + k;
          w = s >>> 0;
          acc[c + 1] = w;
          k = (s - w) * INV32;
          s = 2 * acc[c + 2] + a2 + k;
          w = s >>> 0;
          acc[c + 2] = w;
          k = (s - w) * INV32;
          acc[c + 3] = (2 * acc[c + 3] + a3 + k) >>> 0;
        }
      }
    }
    for (let t = 0; t < n; t++) {
      const c0 = acc[4 * t];
      const c1 = acc[4 * t + 1];
      const c2 = acc[4 * t + 2];
      const c3 = acc[4 * t + 3];
      storeNegated(lw, hw, t, c0, c1, c2, c3); // the share is -acc mod 2^128
    }
    return { u: new Uint8Array(u.buffer), lo, hi };
  }
}

/**
 * The alpha holder's side towards one peer (it received the keys k_{alpha_l} of its scalar's bits).
 * @example
 * ```ts
 * const r = new CopeReceiver(alpha, received[peer]);
 * const { lo, hi } = r.receive(u, n, peer); // this party's share of alpha v
 * ```
 */
export class CopeReceiver {
  readonly #bits: Uint8Array;
  readonly #g: Cipheriv[];

  /** `alpha`: the fixed scalar, 0 <= alpha < 2^64; `keys[l]` = k_{alpha_l}. */
  constructor(alpha: bigint, keys: readonly Uint8Array[]) {
    if (typeof alpha !== 'bigint' || alpha < 0n || alpha >= 1n << BigInt(COPE_BITS)) {
      throw new RangeError(`alpha must be a bigint in [0, 2^${COPE_BITS}), got ${String(alpha)}`);
    }
    checkKeys('keys', keys);
    this.#bits = scalarBits(alpha);
    this.#g = streams(keys);
  }

  /**
   * This side's share sum_l 2^l q_l of alpha v[t] for n items, from the peer's message u (its size is checked:
   * a wrong length aborts naming `peer`).
   */
  receive(u: Uint8Array, n: number, peer: number): { lo: BigUint64Array; hi: BigUint64Array } {
    const expected = copeMessageBytes(n);
    if (u.byteLength !== expected) {
      throw new ProtocolAbortError(`COPE message from party ${peer} has ${u.byteLength} bytes, expected ${expected}`, { party: peer });
    }
    const uw = u.byteOffset % 4 === 0 ? new Uint32Array(u.buffer, u.byteOffset, expected >>> 2) : new Uint32Array(u.slice().buffer);
    const lo = new BigUint64Array(n);
    const hi = new BigUint64Array(n);
    // acc = sum_l 2^l (t_{alpha_l} + alpha_l u_l) per item (q_l is never formed on its own), by Horner's rule
    // from the top bit down, one stream chunk at a time; the accumulator is the result's words.
    const acc = new Uint32Array(4 * n);
    const bits = this.#bits;
    for (let l = COPE_BITS - 1; l >= 0; l--) {
      const e = bits[l];
      for (let from = 0; from < n; from += CHUNK_ITEMS) {
        const len = Math.min(CHUNK_ITEMS, n - from);
        const tq = next32(this.#g[l], 16 * len);
        const wl = limbs(l);
        for (let j = 0, c = 4 * from, o = offset(l, n) + wl * from; j < 4 * len; j += 4, c += 4, o += wl) {
          let s = 2 * acc[c] + tq[j] + e * uw[o];
          let w = s >>> 0;
          acc[c] = w;
          let k = (s - w) * INV32;
          s = 2 * acc[c + 1] + tq[j + 1] + e * uw[o + 1] + k;
          w = s >>> 0;
          acc[c + 1] = w;
          k = (s - w) * INV32;
          s = 2 * acc[c + 2] + tq[j + 2] + e * uw[o + 2] + k;
          w = s >>> 0;
          acc[c + 2] = w;
          k = (s - w) * INV32;
          acc[c + 3] = (2 * acc[c + 3] + tq[j + 3] + (wl === 4 ? e * uw[o + 3] : 0) + k) >>> 0;
        }
      }
    }
    const lw = words(lo);
    const hw = words(hi);
    for (let t = 0; t < n; t++) {
      lw[2 * t] = acc[4 * t];
      lw[2 * t + 1] = acc[4 * t + 1];
      hw[2 * t] = acc[4 * t + 2];
      hw[2 * t + 1] = acc[4 * t + 3];
    }
    return { lo, hi };
  }
}

/**
 * The 64 bits of a scalar alpha < 2^64, one per byte, least significant first: the alpha holder's base-OT
 * choice bits.
 * @example
 * ```ts
 * const choices = scalarBits(alpha); // choices[l] = (alpha >> l) & 1
 * ```
 */
export function scalarBits(alpha: bigint): Uint8Array {
  const out = new Uint8Array(COPE_BITS);
  for (let l = 0; l < COPE_BITS; l++) out[l] = Number((alpha >> BigInt(l)) & 1n);
  return out;
}
