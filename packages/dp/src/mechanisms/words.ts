/**
 * Internal: buffered random words for the samplers. Every exact sampler in this folder consumes random bits
 * at a high rate (a discrete Laplace draw uses about four 32-bit words). @ppml/core's generators are pooled
 * already; this 4 KiB block, filled by one `rng.fillBytes` call, keeps the samplers' inner loops on a plain
 * array read per word instead of a call through the `Rng` interface, and serves single bits and bytes from
 * cached words. The block is cached per generator, so mechanisms that share the default CSPRNG share one block.
 * Unbiased integers up to 2^53 are drawn by rejecting the incomplete top block of the 32- or 53-bit range and
 * then reducing modulo the bound (no modulo bias; fewer rejections than core's power-of-two mask); larger
 * bigints go through core's `uniformBigInt`, with this source as its `Rng`.
 * @module
 */
import { type Rng, uniformBigInt } from '@ppml/core';

const BLOCK_WORDS = 1024;
const TWO_32 = 4_294_967_296;
const TWO_53 = 9_007_199_254_740_992;

/** A buffered stream of uniform 32-bit words drawn from one {@link Rng}; itself an `Rng` over that stream. */
export class WordSource implements Rng {
  readonly rng: Rng;
  readonly words: Uint32Array;
  readonly bytes: Uint8Array;
  pos: number;
  bitWord: number;
  bitsLeft: number;
  byteWord: number;
  bytesLeft: number;
  /** The 32-bit prefix of the last uniform that the fast exp(-gamma) decision could not settle. */
  prefix: number;
  /** Cache of the rejection limit of the last bound passed to {@link WordSource.int}. */
  lastBound: number;
  lastLimit: number;

  constructor(rng: Rng) {
    this.rng = rng;
    this.words = new Uint32Array(BLOCK_WORDS);
    this.bytes = new Uint8Array(this.words.buffer);
    this.pos = BLOCK_WORDS;
    this.bitWord = 0;
    this.bitsLeft = 0;
    this.byteWord = 0;
    this.bytesLeft = 0;
    this.prefix = 0;
    this.lastBound = 0;
    this.lastLimit = 0;
  }

  /** Eight uniform bits (0..255), served from a cached word. */
  byte(): number {
    if (this.bytesLeft === 0) {
      this.byteWord = this.next();
      this.bytesLeft = 4;
    }
    const b = this.byteWord & 255;
    this.byteWord >>>= 8;
    this.bytesLeft--;
    return b;
  }

  /** One uniform bit (0 or 1), served from a cached word. */
  bit(): number {
    if (this.bitsLeft === 0) {
      this.bitWord = this.next();
      this.bitsLeft = 32;
    }
    const b = this.bitWord & 1;
    this.bitWord >>>= 1;
    this.bitsLeft--;
    return b;
  }

  /** One uniform unsigned 32-bit word. */
  next(): number {
    if (this.pos === BLOCK_WORDS) {
      this.rng.fillBytes(this.bytes);
      this.pos = 0;
    }
    return this.words[this.pos++];
  }

  /**
   * A uniform integer in [0, bound) for an integer bound in [1, 2^53]: x uniform on [0, 2^32) (bound <= 2^32)
   * or [0, 2^53), rejected when x >= floor(2^k / bound) * bound, then x mod bound. Unbiased; one word (or two)
   * per draw, and a rejection probability below bound / 2^k instead of up to 1/2 for a power-of-two mask.
   */
  int(bound: number): number {
    if (bound !== this.lastBound) {
      // largest multiple of bound <= 2^32 (or 2^53)
      this.lastLimit = bound <= TWO_32 ? TWO_32 - (TWO_32 % bound) : TWO_53 - (TWO_53 % bound);
      this.lastBound = bound;
    }
    const limit = this.lastLimit;
    if (bound <= TWO_32) {
      for (;;) {
        const x = this.next();
        if (x < limit) return x - Math.floor(x / bound) * bound;
      }
    }
    for (;;) {
      const x = (this.next() >>> 11) * TWO_32 + this.next(); // 21 + 32 random bits
      if (x < limit) {
        // floor(x / bound) may be one too large when x / bound rounds up to an integer: correct exactly.
        let r = x - Math.floor(x / bound) * bound;
        if (r < 0) r += bound;
        return r;
      }
    }
  }

  /** A uniform bigint in [0, bound) for bound >= 1n. */
  bigInt(bound: bigint): bigint {
    if (bound <= 9_007_199_254_740_992n) return BigInt(this.int(Number(bound)));
    return uniformBigInt(bound, this);
  }

  /** `Rng`: one uniform unsigned 32-bit word from the buffered stream. */
  nextUint32(): number {
    return this.next();
  }

  /** `Rng`: fills `out` with bytes from the buffered stream. */
  fillBytes(out: Uint8Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.byte();
  }
}

const sources = new WeakMap<Rng, WordSource>();

/** The shared {@link WordSource} of `rng` (created on first use). */
export function wordSource(rng: Rng): WordSource {
  let s = sources.get(rng);
  if (s === undefined) {
    s = new WordSource(rng);
    sources.set(rng, s);
  }
  return s;
}
