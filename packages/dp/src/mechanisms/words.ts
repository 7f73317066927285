/**
 * Internal: batched random words for the samplers. Every exact sampler in this folder consumes 32-bit words
 * at a high rate (a discrete Laplace draw uses about eight), so instead of one `rng.nextUint32()` call per
 * word the words are taken from a 4 KiB block filled by one `rng.fillBytes` call ("batch the randomness").
 * The block is cached per generator, so mechanisms that share the default CSPRNG share one block.
 * Unbiased integers are drawn by rejection on the covering power of two, never by modulo.
 * @module
 */
import type { Rng } from '@ppml/core';

const BLOCK_WORDS = 1024;
const TWO_32 = 4_294_967_296;

/** A buffered stream of uniform 32-bit words drawn from one {@link Rng}. */
export class WordSource {
  readonly rng: Rng;
  readonly words: Uint32Array;
  readonly bytes: Uint8Array;
  pos: number;
  bitWord: number;
  bitsLeft: number;

  constructor(rng: Rng) {
    this.rng = rng;
    this.words = new Uint32Array(BLOCK_WORDS);
    this.bytes = new Uint8Array(this.words.buffer);
    this.pos = BLOCK_WORDS;
    this.bitWord = 0;
    this.bitsLeft = 0;
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

  /** A uniform integer in [0, bound) for an integer bound in [1, 2^53]. */
  int(bound: number): number {
    const max = bound - 1;
    if (max < TWO_32) {
      const mask = max === 0 ? 0 : 0xffff_ffff >>> Math.clz32(max);
      for (;;) {
        const x = (this.next() & mask) >>> 0;
        if (x <= max) return x;
      }
    }
    const hiMax = Math.floor(max / TWO_32);
    const hiMask = 0xffff_ffff >>> Math.clz32(hiMax);
    for (;;) {
      const hi = (this.next() & hiMask) >>> 0;
      const x = hi * TWO_32 + this.next();
      if (x <= max) return x;
    }
  }

  /** A uniform bigint in [0, bound) for bound >= 1n. */
  bigInt(bound: bigint): bigint {
    if (bound <= 9_007_199_254_740_992n) return BigInt(this.int(Number(bound)));
    const max = bound - 1n;
    const bits = max.toString(2).length;
    const words = Math.ceil(bits / 32);
    const topBits = bits - 32 * (words - 1);
    const topMask = topBits === 32 ? 0xffff_ffff : (1 << topBits) - 1;
    for (;;) {
      let x = BigInt((this.next() & topMask) >>> 0);
      for (let i = 1; i < words; i++) x = (x << 32n) | BigInt(this.next());
      if (x <= max) return x;
    }
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
