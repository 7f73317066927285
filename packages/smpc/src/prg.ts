/**
 * Seeded pseudorandom generator for correlated randomness: AES-128 in counter mode (`node:crypto`), producing
 * ring elements in 64 KiB blocks. Used for seed-compressed dealer material (a party expands a 16-byte seed
 * instead of receiving the array, as in SPDZ-style "PRG seed" preprocessing) and for the pairwise zero-sharing
 * of replicated 3PC (Araki et al. 2016, Sec. 2.1; ABY3, Mohassel and Rindal 2018, Sec. 2.2).
 *
 * A seed is used with distinct 64-bit stream indices (the high half of the 128-bit counter block), so one
 * key can serve many independent streams; a stream may produce up to 2^64 blocks.
 * @module
 */
import { createCipheriv } from 'node:crypto';
import { cryptoRng, type Rng } from '@ppml/core';

const BLOCK = 65_536;
const ZEROS = new Uint8Array(BLOCK);

/** Length in bytes of a PRG seed (an AES-128 key): 16. */
export const SEED_BYTES = 16;

/**
 * A fresh uniformly random seed.
 * @example
 * ```ts
 * const seed = freshSeed();
 * ```
 */
export function freshSeed(rng: Rng = cryptoRng): Uint8Array {
  const s = new Uint8Array(SEED_BYTES);
  rng.fillBytes(s);
  return s;
}

/**
 * Fills `out` with the AES-128-CTR keystream of `seed` at stream index `stream`.
 * @example
 * ```ts
 * expandInto(seed, bytes, 7n);
 * ```
 */
export function expandInto(seed: Uint8Array, out: Uint8Array, stream = 0n): void {
  if (seed.length !== SEED_BYTES) throw new RangeError(`seed must have ${SEED_BYTES} bytes, got ${seed.length}`);
  const iv = new Uint8Array(16);
  new DataView(iv.buffer).setBigUint64(0, BigInt.asUintN(64, stream), false);
  const cipher = createCipheriv('aes-128-ctr', seed, iv);
  let off = 0;
  while (off < out.length) {
    const n = Math.min(BLOCK, out.length - off);
    const block = cipher.update(n === BLOCK ? ZEROS : ZEROS.subarray(0, n));
    out.set(block, off);
    off += n;
  }
}

/**
 * `count` pseudorandom ring elements from `seed` at stream index `stream`.
 * @example
 * ```ts
 * const mask = expand(seed, 1024);
 * ```
 */
export function expand(seed: Uint8Array, count: number, stream = 0n): BigUint64Array {
  const out = new BigUint64Array(count);
  expandInto(seed, new Uint8Array(out.buffer), stream);
  return out;
}

/**
 * `count` uniformly random ring elements from the CSPRNG.
 * @example
 * ```ts
 * const r = randomRing(1024);
 * ```
 */
export function randomRing(count: number, rng: Rng = cryptoRng): BigUint64Array {
  const out = new BigUint64Array(count);
  rng.fillBytes(new Uint8Array(out.buffer));
  return out;
}
