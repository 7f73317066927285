/**
 * Products of two parties' private values from random OTs (internal): Gilboa's multiplication over Z_2^64
 * (Gilboa, CRYPTO 1999, Sec. 4; as used for triples in MASCOT and SPDZ2k offline phases) and its one-bit
 * analogue for AND. The sender holds x, the receiver y; item t uses the 64 OTs 64t + l, l = 0..63, whose
 * choice bit is bit l of y[t].
 *
 * Arithmetic: the random OT l gives the sender h0, h1 and the receiver h_{y_l}. The sender sends the
 * correction d = h1 - h0 - x, the receiver takes g = h_{y_l} - y_l d = h0 + y_l x. Then
 * sum_l 2^l g - sum_l 2^l h0 = x sum_l 2^l y_l = x y: the sender's share is -sum_l 2^l h0, the receiver's
 * sum_l 2^l g (Horner's rule, so every shift is a constant). d is uniform to the receiver (h_{1-y_l} is hidden
 * from it), and the sender sees only the OT messages, which do not depend on y.
 * Binary: the same with the lowest bit of each message and d = h0 ^ h1 ^ x_l (one bit per OT, packed).
 * @module
 */

/**
 * Sender's side of Gilboa products: the corrections `d` (one per OT) and its additive share of x[t] y[t].
 * @example
 * ```ts
 * const { d, share } = gilboaSend(x, h0, h1);
 * ```
 */
export function gilboaSend(x: BigUint64Array, h0: BigUint64Array, h1: BigUint64Array): { d: BigUint64Array; share: BigUint64Array } {
  const count = x.length;
  const d = new BigUint64Array(64 * count);
  const share = new BigUint64Array(count);
  for (let t = 0; t < count; t++) {
    const xt = x[t];
    let acc = 0n;
    for (let l = 63; l >= 0; l--) {
      const j = 64 * t + l;
      const a0 = h0[j];
      const diff = BigInt.asUintN(64, h1[j] - a0);
      d[j] = diff - xt;
      acc = BigInt.asUintN(64, (acc << 1n) + a0);
    }
    share[t] = 0n - acc;
  }
  return { d, share };
}

/**
 * Receiver's side of Gilboa products: its additive share of x[t] y[t] from its OT messages `h` and the
 * sender's corrections `d`.
 * @example
 * ```ts
 * const share = gilboaReceive(y, h, d);
 * ```
 */
export function gilboaReceive(y: BigUint64Array, h: BigUint64Array, d: BigUint64Array): BigUint64Array {
  const count = y.length;
  const yw = new Uint32Array(y.buffer, y.byteOffset, 2 * count);
  const share = new BigUint64Array(count);
  for (let t = 0; t < count; t++) {
    let acc = 0n;
    for (let l = 63; l >= 0; l--) {
      const j = 64 * t + l;
      const bit = (yw[2 * t + (l >>> 5)] >>> (l & 31)) & 1;
      const g = bit === 1 ? BigInt.asUintN(64, h[j] - d[j]) : h[j];
      acc = BigInt.asUintN(64, (acc << 1n) + g);
    }
    share[t] = acc;
  }
  return share;
}

/**
 * Sender's side of bitwise AND products of 64-bit words: the packed corrections (one bit per OT) and its XOR
 * share of x[t] & y[t].
 * @example
 * ```ts
 * const { d, share } = andSend(x, h0, h1);
 * ```
 */
export function andSend(x: BigUint64Array, h0: BigUint64Array, h1: BigUint64Array): { d: BigUint64Array; share: BigUint64Array } {
  const count = x.length;
  const xw = new Uint32Array(x.buffer, x.byteOffset, 2 * count);
  const a = new Uint32Array(h0.buffer, h0.byteOffset, 2 * h0.length);
  const b = new Uint32Array(h1.buffer, h1.byteOffset, 2 * h1.length);
  const d = new BigUint64Array(count);
  const share = new BigUint64Array(count);
  const dw = new Uint32Array(d.buffer);
  const sw = new Uint32Array(share.buffer);
  for (let w = 0; w < 2 * count; w++) {
    let s = 0;
    let c = 0;
    for (let l = 0, j = 64 * w; l < 32; l++, j += 2) {
      s |= (a[j] & 1) << l;
      c |= ((a[j] ^ b[j]) & 1) << l;
    }
    sw[w] = s;
    dw[w] = c ^ xw[w];
  }
  return { d, share };
}

/**
 * Receiver's side of bitwise AND products: its XOR share of x[t] & y[t] from its OT messages `h` and the
 * sender's packed corrections `d`.
 * @example
 * ```ts
 * const share = andReceive(y, h, d);
 * ```
 */
export function andReceive(y: BigUint64Array, h: BigUint64Array, d: BigUint64Array): BigUint64Array {
  const count = y.length;
  const yw = new Uint32Array(y.buffer, y.byteOffset, 2 * count);
  const hw = new Uint32Array(h.buffer, h.byteOffset, 2 * h.length);
  const dw = new Uint32Array(d.buffer, d.byteOffset, 2 * count);
  const share = new BigUint64Array(count);
  const sw = new Uint32Array(share.buffer);
  for (let w = 0; w < 2 * count; w++) {
    let g = 0;
    for (let l = 0, j = 64 * w; l < 32; l++, j += 2) g |= (hw[j] & 1) << l;
    sw[w] = g ^ (dw[w] & yw[w]);
  }
  return share;
}
