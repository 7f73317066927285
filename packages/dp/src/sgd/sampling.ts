/**
 * Batch sampling for DP-SGD. The default is Poisson sampling: every example joins a batch independently with
 * probability q, so batch sizes are Binomial(N, q) and may be zero. That is the sampling the privacy analysis of
 * the sampled Gaussian mechanism assumes (Mironov, Talwar, Zhang 2019, §3; Abadi et al. 2016, §3.1), and what
 * Opacus does by default. Drawing a batch size first and then sampling without replacement is NOT Poisson
 * sampling and does not get its amplification.
 *
 * Shuffled fixed-size batches ({@link shuffledBatches}) are offered as an explicit non-default: each example is
 * used once per epoch, and the trainer accounts them without any amplification by sampling (one Gaussian
 * mechanism per epoch, as TensorFlow Privacy's "no amplification" statement does).
 * @module
 */
import { type Rng, assertInRange, assertInteger, assertRng, bernoulli, cryptoRng, describeValue, uniformInt } from '@ppml/core';

const TWO_32 = 4_294_967_296;

/**
 * Largest population the samplers accept: 2^27 examples, the most rows the trainer accepts (its 2^27-value cap
 * at one feature). Each sampler draws one random word per example, so this bounds a call to seconds (about 60 ns
 * per example for a permutation) and its index array to 512 MiB; 2^32 − 1 would allow minutes and 16 GiB.
 */
const MAX_POPULATION = 2 ** 27;

/**
 * Draws one Poisson batch: the indices i in [0, n) of the examples that joined, each independently with
 * probability exactly `sampleRate` (a 32-bit uniform word is compared with the first 32 bits of q, and only a tie
 * consults further bits through the exact {@link bernoulli}). Returns the count; the indices are written to
 * `out[0..count)`. `out` must have room for n indices; n is at most 2^27 (134,217,728) in every sampler here.
 * @example
 * ```ts
 * const idx = new Uint32Array(1000);
 * const size = poissonSampleInto(idx, 1000, 0.01, seededTestRng(1)); // about 10
 * ```
 */
export function poissonSampleInto(out: Uint32Array, n: number, sampleRate: number, rng: Rng = cryptoRng): number {
  if (!(out instanceof Uint32Array)) throw new TypeError(`out must be a Uint32Array, got ${describeValue(out)}`);
  assertInteger('n', n, 0, MAX_POPULATION);
  assertInRange('sampleRate', sampleRate, 0, 1, { minInclusive: false });
  assertRng('rng', rng);
  if (out.length < n) throw new RangeError(`out must have room for n=${n} indices, got length ${out.length}`);
  if (sampleRate === 1) {
    for (let i = 0; i < n; i++) out[i] = i;
    return n;
  }
  const scaled = sampleRate * TWO_32; // exact: a power-of-two scaling of a double
  const hi = Math.floor(scaled);
  const rest = scaled - hi; // exact, in [0, 1)
  let count = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.nextUint32();
    if (u < hi || (u === hi && rest > 0 && bernoulli(rest, rng))) out[count++] = i;
  }
  return count;
}

/**
 * One Poisson batch as a new array of indices (see {@link poissonSampleInto}). May be empty.
 * @example
 * ```ts
 * const batch = poissonSample(569, 0.05); // about 28 indices, in increasing order
 * ```
 */
export function poissonSample(n: number, sampleRate: number, rng: Rng = cryptoRng): Uint32Array {
  // Checked here too, before the allocation sized by n.
  assertInteger('n', n, 0, MAX_POPULATION);
  const out = new Uint32Array(n);
  const count = poissonSampleInto(out, n, sampleRate, rng);
  return out.slice(0, count);
}

/**
 * A uniformly random permutation of 0..n-1 (Fisher–Yates with unbiased {@link uniformInt}).
 * @example
 * ```ts
 * const order = randomPermutation(10, seededTestRng(3));
 * ```
 */
export function randomPermutation(n: number, rng: Rng = cryptoRng): Uint32Array {
  assertInteger('n', n, 0, MAX_POPULATION);
  assertRng('rng', rng);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = uniformInt(i + 1, rng);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * One epoch of shuffled fixed-size batches: a random permutation cut into ⌊n / batchSize⌋ batches (the last
 * n mod batchSize examples are dropped for this epoch, so every batch has exactly `batchSize` examples).
 * NOT Poisson sampling: privacy accounting must not claim amplification by subsampling for these batches.
 * @example
 * ```ts
 * const batches = shuffledBatches(100, 32, seededTestRng(1)); // 3 batches of 32
 * ```
 */
export function shuffledBatches(n: number, batchSize: number, rng: Rng = cryptoRng): Uint32Array[] {
  assertInteger('n', n, 1, MAX_POPULATION);
  assertInteger('batchSize', batchSize, 1, n);
  const p = randomPermutation(n, rng);
  const batches: Uint32Array[] = [];
  for (let b = 0; b + batchSize <= n; b += batchSize) batches.push(p.subarray(b, b + batchSize));
  return batches;
}
