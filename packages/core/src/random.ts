/**
 * Randomness for every ppml package: one small {@link Rng} interface, a pooled CSPRNG over
 * `crypto.getRandomValues` (the default everywhere), a seeded ChaCha20 generator for reproducible tests, and
 * exact samplers built on them: unbiased uniform integers (rejection, never modulo), uniform doubles with all 53
 * bits random, and Bernoulli draws that are exact for every double probability.
 *
 * Why pooled: `getRandomValues` throws above 65,536 bytes per call and each call has a fixed cost, so the pool
 * refills 64 KiB at a time and hands out 32-bit words from it (2-4 GB/s on one core).
 * @module
 */
import { chacha20 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describeValue } from './validate.ts';

/**
 * A source of uniformly random bits. Every random function in ppml takes an optional `Rng`; when omitted it
 * uses {@link cryptoRng}, the CSPRNG. Pass a {@link SeededTestRng} only in tests.
 * @example
 * ```ts
 * import { cryptoRng, uniformInt } from '@ppml/core';
 * const die = uniformInt(6, cryptoRng) + 1;
 * ```
 */
export interface Rng {
  /** Fills `out` with independent uniformly random bytes. */
  fillBytes(out: Uint8Array): void;
  /** Returns one uniformly random unsigned 32-bit integer. */
  nextUint32(): number;
}

/**
 * Requires an {@link Rng}: an object with `fillBytes` and `nextUint32` methods. Checked at every public entry
 * that takes a generator, so that a wrong argument is named instead of failing deep inside a sampler.
 * @example
 * ```ts
 * assertRng('rng', cryptoRng); // ok; assertRng('rng', 42) throws TypeError
 * ```
 */
export function assertRng(name: string, rng: unknown): asserts rng is Rng {
  const r = rng as Partial<Rng> | null;
  if (r === null || typeof r !== 'object' || typeof r.fillBytes !== 'function' || typeof r.nextUint32 !== 'function') {
    throw new TypeError(`${name} must be an Rng (an object with fillBytes and nextUint32 methods), got ${describeValue(rng)}`);
  }
}

/** The largest byte count {@link randomBytes} draws at once (1 GiB): beyond it a caller wants a stream. */
export const MAX_RANDOM_BYTES: number = 2 ** 30;

const POOL_BYTES = 65_536;

/**
 * Base for generators that produce bytes in 64 KiB blocks and serve them from a pool.
 * Subclasses implement {@link PooledRng.refill}.
 * @example
 * ```ts
 * class ZeroRng extends PooledRng { protected refill(b: Uint8Array): void { b.fill(0); } }
 * ```
 */
export abstract class PooledRng implements Rng {
  readonly #bytes = new Uint8Array(POOL_BYTES);
  readonly #words = new Uint32Array(this.#bytes.buffer);
  /** Next unused byte in the pool; always a multiple of 4 between word reads. */
  #pos = POOL_BYTES;

  /** Overwrites all of `block` (64 KiB) with fresh random bytes. */
  protected abstract refill(block: Uint8Array): void;

  nextUint32(): number {
    if (this.#pos >= POOL_BYTES) {
      this.refill(this.#bytes);
      this.#pos = 0;
    }
    const w = this.#words[this.#pos >>> 2];
    this.#pos += 4;
    return w;
  }

  fillBytes(out: Uint8Array): void {
    let off = 0;
    // Large requests skip the pool: fresh blocks are produced straight into the caller's buffer.
    while (out.length - off >= POOL_BYTES) {
      this.refill(out.subarray(off, off + POOL_BYTES));
      off += POOL_BYTES;
    }
    while (off < out.length) {
      if (this.#pos >= POOL_BYTES) {
        this.refill(this.#bytes);
        this.#pos = 0;
      }
      const n = Math.min(out.length - off, POOL_BYTES - this.#pos);
      out.set(this.#bytes.subarray(this.#pos, this.#pos + n), off);
      // Keep word alignment so nextUint32 never re-serves a byte that fillBytes handed out.
      this.#pos = Math.min(POOL_BYTES, (this.#pos + n + 3) & ~3);
      off += n;
    }
  }
}

/**
 * The operating system's CSPRNG (`crypto.getRandomValues`), pooled. This is the default generator of every
 * ppml function.
 * @example
 * ```ts
 * const rng = new CryptoRng();
 * const key = new Uint8Array(32);
 * rng.fillBytes(key);
 * ```
 */
export class CryptoRng extends PooledRng {
  protected refill(block: Uint8Array): void {
    globalThis.crypto.getRandomValues(block);
  }
}

/**
 * The shared default CSPRNG instance.
 * @example
 * ```ts
 * const x = uniformDouble(cryptoRng);
 * ```
 */
export const cryptoRng: Rng = new CryptoRng();

/** Seeds accepted by {@link seededTestRng}. */
export type Seed = number | bigint | string | Uint8Array;

/**
 * A deterministic ChaCha20 keystream (RFC 8439, via `@noble/ciphers`) keyed by SHA-256 of a seed.
 *
 * **Not for production.** Anyone who knows the seed knows every output. It exists so that tests and
 * statistical checks are reproducible; privacy mechanisms and protocols must use {@link cryptoRng}.
 * @example
 * ```ts
 * const a = seededTestRng(42).nextUint32();
 * const b = seededTestRng(42).nextUint32();
 * // a === b
 * ```
 */
export class SeededTestRng extends PooledRng {
  readonly #key: Uint8Array;
  readonly #nonce = new Uint8Array(12);
  readonly #zeros = new Uint8Array(POOL_BYTES);
  #counter = 0;

  constructor(seed: Seed) {
    super();
    this.#key = sha256(seedBytes(seed));
  }

  protected refill(block: Uint8Array): void {
    const blocks = block.length / 64;
    if (this.#counter + blocks > 0xffff_ffff) {
      // ChaCha20's block counter is 32 bits: move to the next nonce instead of wrapping.
      const view = new DataView(this.#nonce.buffer);
      view.setUint32(0, view.getUint32(0, true) + 1, true);
      this.#counter = 0;
    }
    chacha20(this.#key, this.#nonce, this.#zeros.subarray(0, block.length), block, this.#counter);
    this.#counter += blocks;
  }
}

/**
 * Creates a {@link SeededTestRng}. **Not for production**: for reproducible tests only.
 * @example
 * ```ts
 * const rng = seededTestRng('laplace-statistics');
 * ```
 */
export function seededTestRng(seed: Seed): SeededTestRng {
  return new SeededTestRng(seed);
}

function seedBytes(seed: Seed): Uint8Array {
  if (seed instanceof Uint8Array) return seed;
  if (typeof seed === 'string') return new TextEncoder().encode(`str:${seed}`);
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`seed must be a safe integer, a bigint, a string or bytes, got ${describeValue(seed)}`);
    }
    return new TextEncoder().encode(`int:${seed}`);
  }
  if (typeof seed === 'bigint') return new TextEncoder().encode(`int:${seed}`);
  throw new TypeError(`seed must be a number, bigint, string or Uint8Array, got ${describeValue(seed)}`);
}

const TWO_32 = 4_294_967_296;
const TWO_53 = 9_007_199_254_740_992;

/**
 * Returns `n` random bytes.
 * @example
 * ```ts
 * const nonce = randomBytes(12);
 * ```
 */
export function randomBytes(n: number, rng: Rng = cryptoRng): Uint8Array {
  if (typeof n !== 'number') throw new TypeError(`n must be an integer in [0, 2^30], got ${describeValue(n)}`);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_RANDOM_BYTES) {
    throw new RangeError(`n must be an integer in [0, 2^30], got ${describeValue(n)}`);
  }
  assertRng('rng', rng);
  const out = new Uint8Array(n);
  rng.fillBytes(out);
  return out;
}

/**
 * A uniform integer in `[0, bound)` for any integer `bound` in `[1, 2^53]`, by rejection sampling on the
 * smallest covering power of two (expected fewer than 2 draws; never modulo bias).
 * @example
 * ```ts
 * const index = uniformInt(rows.length);
 * ```
 */
export function uniformInt(bound: number, rng: Rng = cryptoRng): number {
  if (!Number.isInteger(bound) || bound < 1 || bound > TWO_53) {
    throw new RangeError(`bound must be an integer in [1, 2^53], got ${describeValue(bound)}`);
  }
  assertRng('rng', rng);
  const max = bound - 1;
  if (max < TWO_32) {
    const bits = 32 - Math.clz32(max);
    const mask = bits === 32 ? 0xffff_ffff : (1 << bits) - 1;
    for (;;) {
      const x = (rng.nextUint32() & mask) >>> 0;
      if (x <= max) return x;
    }
  }
  const hiMax = Math.floor(max / TWO_32);
  const hiBits = 32 - Math.clz32(hiMax);
  const hiMask = (1 << hiBits) - 1;
  for (;;) {
    const hi = (rng.nextUint32() & hiMask) >>> 0;
    const lo = rng.nextUint32();
    const x = hi * TWO_32 + lo; // exact: hi < 2^21
    if (x <= max) return x;
  }
}

/**
 * A uniform bigint in `[0, bound)` for any `bound >= 1n`, by rejection on the covering power of two.
 * @example
 * ```ts
 * const r = uniformBigInt(1n << 64n); // a uniform ring element of Z_2^64
 * ```
 */
export function uniformBigInt(bound: bigint, rng: Rng = cryptoRng): bigint {
  if (typeof bound !== 'bigint') throw new TypeError(`bound must be a bigint, got ${describeValue(bound)}`);
  if (bound < 1n) throw new RangeError(`bound must be a bigint >= 1, got ${bound}`);
  assertRng('rng', rng);
  const max = bound - 1n;
  if (max === 0n) return 0n;
  const bits = max.toString(2).length;
  const words = Math.ceil(bits / 32);
  const topBits = bits - 32 * (words - 1);
  const topMask = topBits === 32 ? 0xffff_ffff : (1 << topBits) - 1;
  for (;;) {
    let x = BigInt((rng.nextUint32() & topMask) >>> 0);
    for (let i = 1; i < words; i++) x = (x << 32n) | BigInt(rng.nextUint32());
    if (x <= max) return x;
  }
}

/**
 * A uniform double in `[0, 1)` with all 53 bits of the mantissa random (multiples of 2^-53).
 * @example
 * ```ts
 * const u = uniformDouble(seededTestRng(1));
 * ```
 */
export function uniformDouble(rng: Rng = cryptoRng): number {
  assertRng('rng', rng);
  const a = rng.nextUint32() >>> 5; // 27 bits
  const b = rng.nextUint32() >>> 6; // 26 bits
  return (a * 67_108_864 + b) / TWO_53;
}

/**
 * An exact Bernoulli(p) draw for any double `p` in `[0, 1]`: random bits are compared lazily with the binary
 * expansion of `p` (which is finite for a double), so the probability is exactly `p`, not `p` rounded to 2^-53.
 * Uses two random bits on average.
 * @example
 * ```ts
 * const heads = bernoulli(0.5);
 * ```
 */
export function bernoulli(p: number, rng: Rng = cryptoRng): boolean {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new RangeError(`p must be a number in [0, 1], got ${describeValue(p)}`);
  }
  assertRng('rng', rng);
  if (p === 0) return false;
  if (p === 1) return true;
  let q = p;
  for (;;) {
    let word = rng.nextUint32();
    for (let i = 0; i < 32; i++) {
      q *= 2; // exact for doubles in (0, 1)
      let pBit = 0;
      if (q >= 1) {
        pBit = 1;
        q -= 1;
      }
      const r = word & 1;
      word >>>= 1;
      if (r !== pBit) return r < pBit;
      if (q === 0) return false; // remaining digits of p are all zero and r matched so far: u >= p
    }
  }
}

/**
 * An exact Bernoulli(numerator / denominator) draw for non-negative bigints with numerator <= denominator.
 * @example
 * ```ts
 * const oneThird = bernoulliRational(1n, 3n);
 * ```
 */
export function bernoulliRational(numerator: bigint, denominator: bigint, rng: Rng = cryptoRng): boolean {
  if (typeof numerator !== 'bigint' || typeof denominator !== 'bigint') {
    throw new TypeError('numerator and denominator must be bigints');
  }
  if (denominator < 1n) throw new RangeError(`denominator must be >= 1, got ${denominator}`);
  if (numerator < 0n || numerator > denominator) {
    throw new RangeError(`numerator must be in [0, denominator=${denominator}], got ${numerator}`);
  }
  return uniformBigInt(denominator, rng) < numerator;
}
