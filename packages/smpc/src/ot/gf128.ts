/**
 * Arithmetic in GF(2^128) = GF(2)[x] / (x^128 + x^7 + x^2 + x + 1) (internal), for the KOS consistency check of
 * OT extension (`iknp.ts`).
 *
 * - {@link gfMul}: one product on 32-bit words. An element is 4 words, least significant first; bit b of word w
 *   is the coefficient of x^(32 w + b).
 * - {@link ghashSum}: the check's sum over ~2^20 rows, sum_j chi_j v_j with chi_j = H^(n + 2 - j) for one
 *   random H, is a polynomial hash, which GCM's GHASH computes (McGrew and Viega, "The Galois/Counter Mode of
 *   Operation", 2005, Sec. 2.3; NIST SP 800-38D, Sec. 6.4): Node's AES-GCM runs it in OpenSSL with carry-less
 *   multiply instructions, hundreds of times faster than any JavaScript loop over the rows. GHASH uses the same
 *   field with the 16 bytes of a block read as coefficients x^0 .. x^127, most significant bit of each byte
 *   first ({@link fromGcmBlock}, {@link toGcmBlock} convert).
 * @module
 */
import { createCipheriv } from 'node:crypto';

/** x^128 = x^7 + x^2 + x + 1 modulo the field polynomial: the reduction XORs 0x87 into the low word. */
const REDUCTION = 0x87;

/**
 * a * x in place (a shift by one bit, reduced).
 * @example
 * ```ts
 * const a = Uint32Array.of(0, 0, 0, 0x8000_0000); // x^127
 * gfMulX(a); // x^128 = x^7 + x^2 + x + 1: a = [0x87, 0, 0, 0]
 * ```
 */
export function gfMulX(a: Uint32Array): void {
  const carry = a[3] >>> 31;
  a[3] = (a[3] << 1) | (a[2] >>> 31);
  a[2] = (a[2] << 1) | (a[1] >>> 31);
  a[1] = (a[1] << 1) | (a[0] >>> 31);
  a[0] = (a[0] << 1) ^ (carry * REDUCTION);
}

/**
 * The product a * b in GF(2^128) (shift and add: 128 steps, for the few products per batch, not per row).
 * @example
 * ```ts
 * const c = gfMul(Uint32Array.of(2, 0, 0, 0), Uint32Array.of(3, 0, 0, 0)); // x (x + 1) = x^2 + x: [6, 0, 0, 0]
 * ```
 */
export function gfMul(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length !== 4 || b.length !== 4) throw new RangeError(`GF(2^128) elements are 4 words, got ${a.length} and ${b.length}`);
  const p = a.slice();
  const out = new Uint32Array(4);
  for (let i = 0; i < 128; i++) {
    if ((b[i >>> 5] >>> (i & 31)) & 1) {
      out[0] ^= p[0];
      out[1] ^= p[1];
      out[2] ^= p[2];
      out[3] ^= p[3];
    }
    gfMulX(p);
  }
  return out;
}

/**
 * The field element of a 16-byte GCM block (coefficient of x^i: bit 7 - i mod 8 of byte floor(i / 8)).
 * @example
 * ```ts
 * fromGcmBlock(Uint8Array.of(0x80, ...new Uint8Array(15))); // 1: [1, 0, 0, 0]
 * ```
 */
export function fromGcmBlock(block: Uint8Array): Uint32Array {
  if (block.byteLength !== 16) throw new RangeError(`a GCM block is 16 bytes, got ${block.byteLength}`);
  const out = new Uint32Array(4);
  for (let i = 0; i < 16; i++) out[i >>> 2] |= REVERSED[block[i]] << ((i & 3) << 3);
  return out;
}

/**
 * The 16-byte GCM block of a field element ({@link fromGcmBlock} inverted).
 * @example
 * ```ts
 * toGcmBlock(Uint32Array.of(1, 0, 0, 0)); // 80 00 .. 00
 * ```
 */
export function toGcmBlock(a: Uint32Array): Uint8Array {
  if (a.length !== 4) throw new RangeError(`GF(2^128) elements are 4 words, got ${a.length}`);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = REVERSED[(a[i >>> 2] >>> ((i & 3) << 3)) & 255];
  return out;
}

/** Every byte with its bits in reverse order. */
const REVERSED = Uint8Array.from({ length: 256 }, (_, b) => {
  let r = 0;
  for (let k = 0; k < 8; k++) r |= ((b >>> k) & 1) << (7 - k);
  return r;
});

/**
 * The product of two GCM blocks as field elements, as a GCM block.
 * @example
 * ```ts
 * const p = gcmMul(a, b);
 * ```
 */
export function gcmMul(a: Uint8Array, b: Uint8Array): Uint8Array {
  return toGcmBlock(gfMul(fromGcmBlock(a), fromGcmBlock(b)));
}

/**
 * sum_(j = 1..n) A_j H^(n + 2 - j) over the n 16-byte blocks A_j of `data`, as a GCM block, with H = AES_key(0):
 * GHASH_H(A, empty) (SP 800-38D, Sec. 6.4, 7.1) without its length block's term L H. Computed as the tag of
 * AES-128-GCM with `data` as additional data and nothing to encrypt, minus E_key(J0) and L H; linear in `data`.
 * @example
 * ```ts
 * const h = ghashSum(key, new Uint8Array(rows.buffer)); // sum_j H^(n + 2 - j) row_j
 * ```
 */
export function ghashSum(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (key.byteLength !== 16) throw new RangeError(`key must be 16 bytes, got ${key.byteLength}`);
  if (data.byteLength % 16 !== 0) throw new RangeError(`data must be whole 16-byte blocks, got ${data.byteLength} bytes`);
  const iv = new Uint8Array(12);
  const gcm = createCipheriv('aes-128-gcm', key, iv);
  gcm.setAAD(data);
  gcm.final();
  const tag = gcm.getAuthTag();
  // H = E_key(0^128) and E_key(J0), J0 = IV || 0^31 1 for a 96-bit IV (SP 800-38D, Sec. 7.1).
  const j0 = new Uint8Array(32);
  j0[31] = 1;
  const ecb = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  const enc = ecb.update(j0);
  const h = enc.subarray(0, 16);
  // L = [len(A)]_64 || [len(C)]_64 in bits, big-endian.
  const len = new Uint8Array(16);
  new DataView(len.buffer).setBigUint64(0, BigInt(data.byteLength) * 8n, false);
  const lh = gcmMul(len, h);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = tag[i] ^ enc[16 + i] ^ lh[i];
  return out;
}
