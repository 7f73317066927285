/**
 * Encrypted vectors for custom server-side computations (the TenSEAL `CKKSVector` style): element-wise sums and
 * products with ciphertexts, numbers or plain vectors, squares and polynomials, with relinearisation, rescaling,
 * modulus switching and scale alignment done for you. A vector is one ciphertext of up to N/2 values.
 *
 * Scales are kept exact where a plaintext factor allows it (see `evaluate.ts`); a ciphertext product lands on
 * scale S_a·S_b/q, and when two operands of a sum have different scales the one with more levels left is
 * multiplied by an exactly scaled 1 (one level) rather than having its scale overwritten, which would shift its
 * value by up to 1e-6 relative with 40-bit primes. Results that run out of levels raise a `RangeError` naming
 * the plan's depth.
 * @module
 */
import { assertArrayLike, describeValue, toFloat64Array } from '@ppml/core';
import type { Ciphertext } from 'node-seal';
import type { CkksOps } from './evaluate.ts';
import { HeFormatError } from './errors.ts';
import { sealCall } from './seal.ts';
import { WireKind, WireWriter, openMessage } from './wire.ts';

/** What {@link EncryptedVector} needs from its owner: the ops, and the ids to stamp on serialised output. */
export interface VectorHost {
  readonly ops: CkksOps;
  readonly keyId: Uint8Array;
}

/** Right-hand sides accepted by {@link EncryptedVector.add} and {@link EncryptedVector.mul}. */
export type VectorOperand = EncryptedVector | number | ArrayLike<number>;

/**
 * Writes an encrypted-vector message around a serialised ciphertext.
 * @example
 * ```ts
 * const bytes = writeVector(hash, keyId, 3, ct.saveToArray(none));
 * ```
 */
export function writeVector(hash: Uint8Array, keyId: Uint8Array, length: number, ciphertext: Uint8Array): Uint8Array {
  return new WireWriter().u32(length).bytes(ciphertext).finish(WireKind.encryptedVector, hash, keyId);
}

/**
 * Reads an encrypted-vector message: the vector length and the serialised ciphertext (a view).
 * @example
 * ```ts
 * const { length, ciphertext } = readVector(bytes, hash, keyId, 4096);
 * ```
 */
export function readVector(bytes: unknown, hash: Uint8Array, keyId: Uint8Array, slots: number): { length: number; ciphertext: Uint8Array } {
  const { reader } = openMessage(bytes, WireKind.encryptedVector, hash, keyId, 'encVector');
  const length = reader.u32();
  const ciphertext = reader.bytes();
  reader.end();
  if (length < 1 || length > slots) throw new HeFormatError(`encVector announce ${length} values; a vector holds 1 to ${slots}`);
  return { length, ciphertext };
}

/**
 * One encrypted vector on the server. Every operation returns a new vector (owned by the caller) and leaves its
 * operands untouched; `dispose()` frees the ciphertext.
 * @example
 * ```ts
 * using v = server.vector(client.encryptVector([1, 2, 3]));
 * using y = v.mul(v);
 * const bytes = y.toBytes();
 * ```
 */
export class EncryptedVector implements Disposable {
  /** Number of meaningful values (slots beyond it hold zeros or garbage). */
  readonly length: number;
  readonly #host: VectorHost;
  readonly #ct: Ciphertext;
  #disposed = false;

  /** @internal Use `HeServer.vector`. Takes ownership of `ct`. */
  constructor(host: VectorHost, ct: Ciphertext, length: number) {
    this.#host = host;
    this.#ct = ct;
    this.length = length;
  }

  #live(): Ciphertext {
    if (this.#disposed) throw new Error('this EncryptedVector was disposed');
    return this.#ct;
  }

  /** Levels left (rescales still possible). */
  get level(): number {
    return this.#host.ops.level(this.#live());
  }

  /** Current CKKS scale. */
  get scale(): number {
    return this.#live().scale();
  }

  #wrap(ct: Ciphertext): EncryptedVector {
    return new EncryptedVector(this.#host, ct, this.length);
  }

  #plainVector(values: ArrayLike<number>, name: string): Float64Array {
    const ops = this.#host.ops;
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw new TypeError(`${name} must be an EncryptedVector, a number or an array of numbers, got ${describeValue(values)}`);
    }
    if (values.length !== this.length) {
      throw new RangeError(`${name} must have ${this.length} values (the vector's length), got ${values.length}`);
    }
    const v = new Float64Array(ops.ctx.slots);
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (typeof x !== 'number' || !Number.isFinite(x))
        throw new RangeError(`${name}[${i}] must be a finite number, got ${describeValue(x)}`);
      v[i] = x;
    }
    return v;
  }

  /** Copies of a and b at a common level and the same scale (one level is spent only when scales differ). */
  #aligned(a: Ciphertext, b: Ciphertext): [Ciphertext, Ciphertext] {
    const ops = this.#host.ops;
    const la = ops.level(a);
    const lb = ops.level(b);
    const same = Math.abs(a.scale() / b.scale() - 1) <= 1e-9;
    const copy = (c: Ciphertext, level: number): Ciphertext => {
      const out = c.copy();
      ops.dropTo(out, level);
      return out;
    };
    if (same) {
      const l = Math.min(la, lb);
      const x = copy(a, l);
      const y = copy(b, l);
      y.setScale(x.scale());
      return [x, y];
    }
    // Re-target the operand with more levels onto the other's scale with an exactly scaled 1.
    const [hi, lo, swap] = la >= lb ? [a, b, false] : [b, a, true];
    const lh = Math.max(la, lb);
    const ll = Math.min(la, lb);
    let x: Ciphertext;
    let y: Ciphertext;
    if (lh > ll) {
      const h = copy(hi, ll + 1);
      try {
        x = ops.mulConst(h, 1, lo.scale()) as Ciphertext;
      } finally {
        h.delete();
      }
      y = lo.copy();
    } else {
      if (ll === 0) throw new RangeError('cannot align the scales of two vectors at level 0; plan a larger depth');
      x = ops.mulConst(hi, 1, ops.ctx.scale) as Ciphertext;
      y = ops.mulConst(lo, 1, ops.ctx.scale) as Ciphertext;
    }
    return swap ? [y, x] : [x, y];
  }

  /**
   * Element-wise sum with another vector, a number, or a plain array of `length` values.
   * @example
   * ```ts
   * using w = v.add([1, 2, 3]);
   * ```
   */
  add(other: VectorOperand): EncryptedVector {
    return this.#addOrSub(other, 1);
  }

  /**
   * Element-wise difference.
   * @example
   * ```ts
   * const d = a.sub(b);
   * ```
   */
  sub(other: VectorOperand): EncryptedVector {
    return this.#addOrSub(other, -1);
  }

  #addOrSub(other: VectorOperand, sign: 1 | -1): EncryptedVector {
    const ops = this.#host.ops;
    const ev = ops.ctx.evaluator;
    const ct = this.#live();
    if (other instanceof EncryptedVector) {
      const [x, y] = this.#aligned(ct, other.#live());
      try {
        if (sign === 1) sealCall('adding', () => ev.addInplace(x, y));
        else sealCall('subtracting', () => ev.subInplace(x, y));
      } catch (e) {
        x.delete();
        throw e;
      } finally {
        y.delete();
      }
      return this.#wrap(x);
    }
    const out = ct.copy();
    try {
      if (typeof other === 'number') {
        if (!Number.isFinite(other)) throw new RangeError(`operand must be a finite number, got ${describeValue(other)}`);
        ops.addConst(out, sign * other);
      } else {
        const v = this.#plainVector(other, 'operand');
        if (sign === -1) for (let i = 0; i < v.length; i++) v[i] = -v[i];
        const pt = new ops.ctx.seal.Plaintext();
        try {
          sealCall('encoding', () => ops.ctx.encoder.encode(v, out.scale(), pt));
          sealCall('encoding', () => ev.plainModSwitchToInplace(pt, ops.ctx.parmsIdAt(ops.level(out))));
          sealCall('adding', () => ev.addPlainInplace(out, pt));
        } finally {
          pt.delete();
        }
      }
      return this.#wrap(out);
    } catch (e) {
      out.delete();
      throw e;
    }
  }

  /**
   * Element-wise product with another vector (relinearised and rescaled), a number or a plain array; products
   * with plaintexts land exactly on the plan's scale. Uses one level.
   * @example
   * ```ts
   * using y = v.mul(0.25);
   * ```
   */
  mul(other: VectorOperand): EncryptedVector {
    const ops = this.#host.ops;
    const ct = this.#live();
    if (other instanceof EncryptedVector) return this.#wrap(ops.mul(ct, other.#live()));
    if (typeof other === 'number') {
      if (!Number.isFinite(other)) throw new RangeError(`operand must be a finite number, got ${describeValue(other)}`);
      const out = ops.mulConst(ct, other, ops.ctx.scale);
      if (out === undefined) throw new RangeError('multiplying by 0 gives a constant, not an encrypted vector');
      return this.#wrap(out);
    }
    const v = this.#plainVector(other, 'operand');
    const l = ops.level(ct);
    if (l === 0) throw new RangeError('the circuit is deeper than the plan: no level left to rescale');
    const ptScale = (ops.ctx.scale * ops.ctx.primes[l]) / ct.scale();
    if (v.every((x) => Math.abs(x) * ptScale < 1)) throw new RangeError('multiplying by zeros gives a constant, not an encrypted vector');
    const pt = new ops.ctx.seal.Plaintext();
    const out = ops.newCiphertext();
    try {
      sealCall('encoding', () => ops.ctx.encoder.encode(v, ptScale, pt));
      sealCall('encoding', () => ops.ctx.evaluator.plainModSwitchToInplace(pt, ops.ctx.parmsIdAt(l)));
      sealCall('multiplying', () => ops.ctx.evaluator.multiplyPlain(ct, pt, out));
      ops.rescaleTo(out, ops.ctx.scale);
      return this.#wrap(out);
    } catch (e) {
      out.delete();
      throw e;
    } finally {
      pt.delete();
    }
  }

  /**
   * Element-wise square (one level).
   * @example
   * ```ts
   * const s = v.square();
   * ```
   */
  square(): EncryptedVector {
    const ct = this.#live();
    return this.#wrap(this.#host.ops.mul(ct, ct));
  }

  /**
   * p(v) element-wise for monomial coefficients (lowest first), depth-optimal (see `CkksOps.polynomial`).
   * @example
   * ```ts
   * const s = v.polyval([0.5, 0.197, 0, -0.004]); // the TenSEAL degree-3 sigmoid
   * ```
   */
  polyval(coefficients: ArrayLike<number>): EncryptedVector {
    // Length first (a huge array-like is refused, not copied): degree up to 255 is already 8 levels of depth.
    assertArrayLike('coefficients', coefficients, 1, 256);
    const c = toFloat64Array('coefficients', coefficients as ArrayLike<number>);
    return this.#wrap(this.#host.ops.polynomial(this.#live(), c, this.#host.ops.ctx.scale));
  }

  /**
   * The wire message for the client (`client.decryptVector`), switched down to `level` (default 0, the
   * smallest; values must then satisfy |value| < 2^integerBits of the plan).
   * @example
   * ```ts
   * const bytes = v.toBytes();
   * ```
   */
  toBytes(level = 0): Uint8Array {
    const ops = this.#host.ops;
    const out = this.#live().copy();
    try {
      ops.dropTo(out, Math.min(level, ops.level(out)));
      const bytes = out.saveToArray(ops.ctx.seal.ComprModeType.none) as Uint8Array;
      return writeVector(ops.ctx.parameterHash, this.#host.keyId, this.length, bytes);
    } finally {
      out.delete();
    }
  }

  /** Frees the ciphertext; idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#ct.delete();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
