/**
 * The CKKS evaluation layer: multiplication by constants, sums, ciphertext products and polynomials, with
 * relinearisation, rescaling, modulus switching and scale alignment done automatically, so callers never meet
 * SEAL's "scale out of bounds", "parameter mismatch" or "result ciphertext is transparent" errors.
 *
 * Scale management follows the exact-scale technique of Kim, Papadimitriou and Polyakov ("Approximate
 * homomorphic encryption with reduced approximation error", CT-RSA 2022, §3): rather than forcing scales equal
 * with `setScale` (which multiplies the message by q_l / 2^40, an error of up to 1e-6 relative with 40-bit primes),
 * the plaintext factor of each product is encoded at the scale that makes the rescaled result land exactly
 * on the wanted scale. Every layer output therefore has scale 2^scaleBits up to double rounding, and sums of
 * terms from different depths line up after a modulus switch. Multiplications by zero are skipped (TenSEAL
 * does the same), which also keeps SEAL from producing transparent ciphertexts.
 *
 * Polynomials use the cheapest depth-optimal form available: c0 + x^(2^j) by squaring (depth j); degree 2 as
 * (c2·x + c1)·x + c0 and degree 3 as (c3·x + c2)·(x² + c1/c3) + (c0 − c1·c2/c3) (depth 2, two relinearisations,
 * one plaintext product); higher degrees by a product tree of powers x^(2^j) with each coefficient folded into
 * its lowest factor, depth ⌈log2(n + 1)⌉ (the bound of Lee et al., "High-precision bootstrapping of RNS-CKKS", §4,
 * without the baby-step giant-step savings, which matter only for degrees beyond those used here).
 * @module
 */
import { describeValue } from '@ppml/core';
import type { Ciphertext, GaloisKeys, Plaintext, RelinKeys } from 'node-seal';
import { HeContext } from './context.ts';
import { degreeOf, isBarePower } from './poly.ts';
import { sealCall } from './seal.ts';

/**
 * Largest |c1/c3| for which a cubic uses the factored form (otherwise the general product tree, same depth).
 * @example
 * ```ts
 * Math.abs(0.197 / -0.004) <= CUBIC_SHIFT_LIMIT; // true: the TenSEAL sigmoid uses the factored form
 * ```
 */
export const CUBIC_SHIFT_LIMIT = 1e6;

/**
 * Ciphertext operations bound to one context and its evaluation keys, with a cache of encoded constants (each
 * encode costs about 1 ms at N = 8192). Owns its plaintexts; `dispose()` frees them. Ciphertexts returned by
 * the methods belong to the caller.
 * @example
 * ```ts
 * using ops = new CkksOps(ctx, relinKeys);
 * const y = ops.mulConst(x, 0.5, ctx.scale);
 * ```
 */
export class CkksOps implements Disposable {
  readonly ctx: HeContext;
  readonly relinKeys: RelinKeys | undefined;
  readonly galoisKeys: GaloisKeys | undefined;
  readonly #plains = new Map<string, Plaintext>();
  readonly #vectors = new Map<string, Plaintext>();
  readonly #buffer: Float64Array;
  #disposed = false;

  constructor(ctx: HeContext, relinKeys?: RelinKeys, galoisKeys?: GaloisKeys) {
    if (!(ctx instanceof HeContext)) throw new TypeError(`ctx must be an HeContext (from acquireContext), got ${describeValue(ctx)}`);
    this.ctx = ctx;
    this.relinKeys = relinKeys;
    this.galoisKeys = galoisKeys;
    this.#buffer = new Float64Array(ctx.slots);
  }

  /** Level of a ciphertext (0 = last). */
  level(ct: Ciphertext): number {
    return ct.coeffModulusSize() - 1;
  }

  /** A new empty ciphertext owned by the caller. */
  newCiphertext(): Ciphertext {
    return new this.ctx.seal.Ciphertext();
  }

  /** The constant vector (value in every slot) encoded at `scale` and `level`; cached, owned by this object. */
  constant(value: number, scale: number, level: number): Plaintext {
    if (this.#disposed) throw new Error('these CKKS operations were disposed (their server or model was closed)');
    const key = `${value}|${scale}|${level}`;
    let pt = this.#plains.get(key);
    if (pt === undefined) {
      this.#buffer.fill(value);
      pt = this.#encode(this.#buffer, scale, level, 'encoding a constant');
      this.#plains.set(key, pt);
    }
    return pt;
  }

  /** A vector encoded at `scale` and `level` under a caller-chosen cache key; owned by this object. */
  vector(key: string, values: Float64Array, scale: number, level: number): Plaintext {
    if (this.#disposed) throw new Error('these CKKS operations were disposed (their server or model was closed)');
    const k = `${key}|${scale}|${level}`;
    let pt = this.#vectors.get(k);
    if (pt === undefined) {
      pt = this.#encode(values, scale, level, 'encoding a vector');
      this.#vectors.set(k, pt);
    }
    return pt;
  }

  #encode(values: Float64Array, scale: number, level: number, what: string): Plaintext {
    const pt = new this.ctx.seal.Plaintext();
    try {
      sealCall(what, () => this.ctx.encoder.encode(values, scale, pt));
      if (level !== this.ctx.topLevel) {
        sealCall(what, () => this.ctx.evaluator.plainModSwitchToInplace(pt, this.ctx.parmsIdAt(level)));
      }
      return pt;
    } catch (e) {
      pt.delete();
      throw e;
    }
  }

  /** Moves `ct` down to `level` in place (drops primes; scale unchanged). */
  dropTo(ct: Ciphertext, level: number): void {
    if (this.level(ct) === level) return;
    if (this.level(ct) < level) throw new RangeError(`cannot raise a ciphertext from level ${this.level(ct)} to ${level}`);
    sealCall('modulus switching', () => this.ctx.evaluator.cipherModSwitchToInplace(ct, this.ctx.parmsIdAt(level)));
  }

  /** Sets the scale of `ct` to `target` when they differ only by double rounding (relative 1e-9). */
  alignScale(ct: Ciphertext, target: number): void {
    const s = ct.scale();
    if (s === target) return;
    if (Math.abs(s / target - 1) > 1e-9) {
      throw new Error(`internal scale mismatch: ${s} vs ${target} (relative ${Math.abs(s / target - 1)})`);
    }
    ct.setScale(target);
  }

  /** Rescales in place and snaps the scale to `target` (which the caller planned exactly). */
  rescaleTo(ct: Ciphertext, target: number): void {
    sealCall('rescaling', () => this.ctx.evaluator.rescaleToNextInplace(ct));
    this.alignScale(ct, target);
  }

  /** Relinearises in place when the ciphertext has three polynomials. */
  relinearize(ct: Ciphertext): void {
    if (ct.size() <= 2) return;
    const rk = this.relinKeys;
    if (rk === undefined) throw new Error('relinearisation keys are needed for ciphertext products but were not loaded');
    sealCall('relinearising', () => this.ctx.evaluator.relinearizeInplace(ct, rk));
  }

  /**
   * c·x rescaled to exactly `targetScale` (one level down); `undefined` when c = 0 (the product would be a
   * transparent ciphertext). Adds `plus` (a constant) before rescaling when given.
   */
  mulConst(x: Ciphertext, c: number, targetScale: number, plus = 0): Ciphertext | undefined {
    const l = this.level(x);
    if (l === 0) throw new RangeError('the circuit is deeper than the plan: no level left to rescale');
    const q = this.ctx.primes[l];
    const ptScale = (targetScale * q) / x.scale();
    // A constant with |c|·scale < 1 encodes to the zero plaintext (and a transparent product): it is zero here.
    if (Math.abs(c) * ptScale < 1) return undefined;
    const out = this.newCiphertext();
    try {
      sealCall('multiplying by a constant', () => this.ctx.evaluator.multiplyPlain(x, this.constant(c, ptScale, l), out));
      if (plus !== 0) {
        sealCall('adding a constant', () => this.ctx.evaluator.addPlainInplace(out, this.constant(plus, out.scale(), l)));
      }
      this.rescaleTo(out, targetScale);
      return out;
    } catch (e) {
      out.delete();
      throw e;
    }
  }

  /** Adds the constant c to `ct` in place, at its own scale and level. */
  addConst(ct: Ciphertext, c: number): void {
    if (c === 0) return;
    sealCall('adding a constant', () => this.ctx.evaluator.addPlainInplace(ct, this.constant(c, ct.scale(), this.level(ct))));
  }

  /** acc += t after moving both to the lower level and checking their scales agree. */
  addInto(acc: Ciphertext, t: Ciphertext): void {
    const la = this.level(acc);
    const lt = this.level(t);
    if (la > lt) this.dropTo(acc, lt);
    if (lt > la) {
      const tmp = this.newCiphertext();
      try {
        sealCall('modulus switching', () => this.ctx.evaluator.cipherModSwitchTo(t, this.ctx.parmsIdAt(la), tmp));
        this.alignScale(tmp, acc.scale());
        sealCall('adding', () => this.ctx.evaluator.addInplace(acc, tmp));
      } finally {
        tmp.delete();
      }
      return;
    }
    this.alignScale(t, acc.scale());
    sealCall('adding', () => this.ctx.evaluator.addInplace(acc, t));
  }

  /** a·b (new ciphertext), relinearised and rescaled once; both are first brought to the lower level. */
  mul(a: Ciphertext, b: Ciphertext): Ciphertext {
    const la = this.level(a);
    const lb = this.level(b);
    const l = Math.min(la, lb);
    if (l === 0) throw new RangeError('the circuit is deeper than the plan: no level left to rescale');
    const out = this.newCiphertext();
    const tmp = la !== lb ? this.newCiphertext() : undefined;
    try {
      let x = a;
      let y = b;
      if (tmp !== undefined) {
        const hi = la > lb ? a : b;
        sealCall('modulus switching', () => this.ctx.evaluator.cipherModSwitchTo(hi, this.ctx.parmsIdAt(l), tmp));
        if (la > lb) x = tmp;
        else y = tmp;
      }
      if (x === y || a === b) sealCall('squaring', () => this.ctx.evaluator.square(x, out));
      else sealCall('multiplying ciphertexts', () => this.ctx.evaluator.multiply(x, y, out));
      this.relinearize(out);
      const target = (a.scale() * b.scale()) / this.ctx.primes[l];
      this.rescaleTo(out, target);
      return out;
    } catch (e) {
      out.delete();
      throw e;
    } finally {
      tmp?.delete();
    }
  }

  /**
   * Σ_j w[j]·xs[j] + bias, rescaled to exactly `targetScale`; all inputs must share level and scale. Zero
   * weights are skipped; throws `RangeError` if every weight is zero (the server cannot encrypt a constant).
   */
  linear(xs: readonly Ciphertext[], w: ArrayLike<number>, bias: number, targetScale: number): Ciphertext {
    const x0 = xs[0];
    const l = this.level(x0);
    if (l === 0) throw new RangeError('the circuit is deeper than the plan: no level left to rescale');
    const inScale = x0.scale();
    const ptScale = (targetScale * this.ctx.primes[l]) / inScale;
    const ev = this.ctx.evaluator;
    let acc: Ciphertext | undefined;
    const tmp = this.newCiphertext();
    try {
      for (let j = 0; j < xs.length; j++) {
        const wj = w[j];
        if (Math.abs(wj) * ptScale < 1) continue; // encodes to zero: skip (no transparent ciphertext)
        const xj = xs[j];
        if (this.level(xj) !== l || xj.scale() !== inScale) {
          throw new Error('internal: inputs of a linear layer must share level and scale');
        }
        const pt = this.constant(wj, ptScale, l);
        if (acc === undefined) {
          acc = this.newCiphertext();
          const a = acc;
          sealCall('multiplying by a weight', () => ev.multiplyPlain(xj, pt, a));
        } else {
          sealCall('multiplying by a weight', () => ev.multiplyPlain(xj, pt, tmp));
          const a = acc;
          sealCall('adding', () => ev.addInplace(a, tmp));
        }
      }
      if (acc === undefined) throw new RangeError('a linear output has only zero weights; it is a constant and needs no encryption');
      this.addConst(acc, bias);
      this.rescaleTo(acc, targetScale);
      return acc;
    } catch (e) {
      acc?.delete();
      throw e;
    } finally {
      tmp.delete();
    }
  }

  /** Rotate-and-add so that slot i·width holds the sum of slots i·width … i·width + width − 1 (width a power of 2). */
  sumBlocks(ct: Ciphertext, width: number): void {
    const gk = this.galoisKeys;
    if (width > 1 && gk === undefined) throw new Error('Galois keys are needed for the row layout but were not loaded');
    const tmp = this.newCiphertext();
    try {
      for (let s = 1; s < width; s *= 2) {
        sealCall(`rotating by ${s}`, () => this.ctx.evaluator.rotateVector(ct, s, gk as GaloisKeys, tmp));
        sealCall('adding', () => this.ctx.evaluator.addInplace(ct, tmp));
      }
    } finally {
      tmp.delete();
    }
  }

  /** x^(2^j) for j = 0..J as new ciphertexts (index 0 is a copy of x). */
  #powers(x: Ciphertext, J: number): Ciphertext[] {
    const out: Ciphertext[] = [x.copy()];
    try {
      for (let j = 1; j <= J; j++) out.push(this.mul(out[j - 1], out[j - 1]));
      return out;
    } catch (e) {
      for (const c of out) c.delete();
      throw e;
    }
  }

  /** c·x^k at exactly `target` scale, using powers P[j] = x^(2^j); undefined when c = 0. */
  #term(x: Ciphertext, P: Ciphertext[], c: number, k: number, target: number): Ciphertext | undefined {
    if (c === 0) return undefined;
    if (k === 1) return this.mulConst(x, c, target);
    const j = Math.floor(Math.log2(k));
    const r = k - 2 ** j;
    // c·x^k = (c·x^r)·x^(2^j), or for k = 2^j, (c·x^(2^(j-1)))·x^(2^(j-1)).
    const factor = r === 0 ? P[j - 1] : P[j];
    const inner = r === 0 ? 2 ** (j - 1) : r;
    const lx = this.level(x);
    const productLevel = Math.min(lx - Math.ceil(Math.log2(inner + 1)), this.level(factor));
    const innerTarget = (target * this.ctx.primes[productLevel]) / factor.scale();
    const sub = this.#term(x, P, c, inner, innerTarget);
    if (sub === undefined) return undefined;
    try {
      const out = this.mul(sub, factor);
      this.alignScale(out, target);
      return out;
    } finally {
      sub.delete();
    }
  }

  /**
   * p(x) = Σ c_k x^k (monomial coefficients, lowest first) as a new ciphertext at exactly `targetScale`
   * (except for a bare power x^(2^j), whose scale is whatever squaring gives). Coefficients smaller than
   * 2^-scaleBits count as zero.
   */
  polynomial(x: Ciphertext, coefficients: Float64Array, targetScale: number): Ciphertext {
    // Coefficients below 2^-scaleBits encode to zero plaintexts: treat them as zero.
    const c = coefficients.map((v) => (Math.abs(v) * this.ctx.scale < 1 ? 0 : v));
    const n = degreeOf(c);
    if (n < 1) throw new RangeError('an activation polynomial must have degree >= 1');
    if (isBarePower(c)) {
      let cur = x.copy();
      try {
        for (let k = 1; k < n; k *= 2) {
          const next = this.mul(cur, cur);
          cur.delete();
          cur = next;
        }
        this.addConst(cur, c[0]);
        return cur;
      } catch (e) {
        cur.delete();
        throw e;
      }
    }
    const lx = this.level(x);
    if (n === 1) {
      const out = this.mulConst(x, c[1], targetScale, c[0]);
      if (out === undefined) throw new RangeError('an activation polynomial must have degree >= 1');
      return out;
    }
    if (n === 2) {
      // (c2·x + c1)·x + c0
      const v = this.mulConst(x, c[2], (targetScale * this.ctx.primes[lx - 1]) / x.scale());
      if (v === undefined) throw new Error('internal: zero leading coefficient');
      try {
        this.addConst(v, c[1]);
        const out = this.mul(v, x);
        this.alignScale(out, targetScale);
        this.addConst(out, c[0]);
        return out;
      } finally {
        v.delete();
      }
    }
    if (n === 3 && Math.abs(c[1] / c[3]) <= CUBIC_SHIFT_LIMIT) {
      // (c3·x + c2)·(x² + c1/c3) + (c0 − c1·c2/c3); a huge c1/c3 would eat the headroom, so it takes the tree.
      const u = this.mul(x, x);
      let v: Ciphertext | undefined;
      try {
        this.addConst(u, c[1] / c[3]);
        v = this.mulConst(x, c[3], (targetScale * this.ctx.primes[lx - 1]) / u.scale());
        if (v === undefined) throw new Error('internal: zero leading coefficient');
        this.addConst(v, c[2]);
        const out = this.mul(v, u);
        this.alignScale(out, targetScale);
        this.addConst(out, c[0] - (c[1] * c[2]) / c[3]);
        return out;
      } finally {
        u.delete();
        v?.delete();
      }
    }
    const J = Math.floor(Math.log2(n));
    const P = this.#powers(x, J);
    let acc: Ciphertext | undefined;
    try {
      for (let k = n; k >= 1; k--) {
        const t = this.#term(x, P, c[k], k, targetScale);
        if (t === undefined) continue;
        if (acc === undefined) acc = t;
        else {
          try {
            this.addInto(acc, t);
          } finally {
            t.delete();
          }
        }
      }
      if (acc === undefined) throw new Error('internal: zero polynomial');
      this.alignScale(acc, targetScale);
      this.addConst(acc, c[0]);
      return acc;
    } catch (e) {
      acc?.delete();
      throw e;
    } finally {
      for (const p of P) p.delete();
    }
  }

  /** Number of cached plaintexts (constants and vectors). */
  get cachedPlaintexts(): number {
    return this.#plains.size + this.#vectors.size;
  }

  /** Frees the cached plaintexts (not the keys or the context, which the caller owns). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const p of this.#plains.values()) p.delete();
    for (const p of this.#vectors.values()) p.delete();
    this.#plains.clear();
    this.#vectors.clear();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
