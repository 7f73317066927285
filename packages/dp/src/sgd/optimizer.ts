/**
 * The DP-SGD update for any model (Abadi et al. 2016, Algorithm 1): clip each per-example gradient to L2 norm C,
 * sum, add Gaussian noise N(0, (σC)²) to the sum, and divide by the EXPECTED batch size q·N.
 *
 * Why the expected batch size: under Poisson sampling the realised batch size |B| is itself a function of the
 * data (adding one example changes it by one), so dividing by |B| makes the update's sensitivity depend on |B| and
 * releases |B| un-noised. Dividing the noisy sum by the public constant q·N keeps the step a post-processing of
 * the sampled Gaussian mechanism that the accountant analyses (Opacus issue #420 made the same change). An empty
 * batch therefore still yields a noisy update (noise / qN), never a skipped step.
 *
 * Adaptive clipping follows Andrew, Thakkar, McMahan, Ramaswamy 2021 ("Differentially private learning with
 * adaptive clipping", Algorithm 1): a noisy count of unclipped examples moves C geometrically towards the
 * γ-quantile of gradient norms, and the gradient noise multiplier is raised to σ_Δ = (σ⁻² − (2σ_b)⁻²)^(−1/2) so
 * that the pair of releases costs exactly what one Gaussian mechanism with multiplier σ costs (their Thm 1).
 *
 * Noise comes from the package's secure Gaussian sampler (`sampleGaussianNoise`: exact discrete Gaussian
 * integers times a power-of-two granularity g); the randomness is the CSPRNG unless a test passes a seeded
 * generator. Following Google's granularity defence against precision attacks (Haney et al. 2022), the clipped sum
 * is rounded to the same grid before the noise is added, so the released noisy sum is an exact multiple of g. The
 * rounding moves the sum by at most g/2 per coordinate, which adds at most g·√P to its L2 sensitivity; the noise
 * std is therefore σ·(C + g·√P) ({@link gradientNoiseStd}), so the accountant's σ stays exact. g ≈ σC·2^-29, so
 * the margin is negligible (and it also covers float64 rounding in the clipped sum; a model that sums its
 * clipped gradients in float32, as `fromTfjs`' ghost clipping does, rounds more than it covers: see the README).
 * @module
 */
import { type Rng, assertInRange, assertInteger, assertOptions, assertPositive, assertRng, cryptoRng, describeValue } from '@ppml/core';
import { gaussianGranularity, sampleGaussianNoise } from '../mechanisms/index.ts';
import { type ClipOptions, assertClipNorm, clipAndSum, perLayerClipNorms, totalClipNorm } from './clip.ts';
import type { PerSampleGradients } from './model.ts';

/** Options of {@link dpSgdStep}. */
export interface DpSgdStepOptions extends ClipOptions {
  /** One gradient per example of the batch (may be empty when `parameterCount` is given). */
  perSampleGradients: PerSampleGradients;
  /** σ: noise std divided by the sum's L2 sensitivity (the clip norm). */
  noiseMultiplier: number;
  /** q·N under Poisson sampling; the fixed batch size for shuffled batches. */
  expectedBatchSize: number;
  /** Randomness for the noise (default: the CSPRNG). */
  rng?: Rng;
}

/** Result of {@link dpSgdStep}. */
export interface DpSgdStepResult {
  /** (Σ clip(g_i) + N(0, (σC)² I)) / expectedBatchSize: the private estimate of the mean gradient. */
  gradient: Float64Array;
  /** Realised batch size. */
  batchSize: number;
  /** Examples whose gradient was scaled down. */
  clipped: number;
  /** Std of the noise added to the sum: σ·(C + g√P), C = ‖(C_1..C_L)‖ per layer (see {@link gradientNoiseStd}). */
  noiseStd: number;
}

/**
 * The noise std for a sum of P-dimensional clipped gradients with L2 bound C and noise multiplier σ, including
 * the grid-rounding margin: σ·(C + g·√P) with g = gaussianGranularity(2σC), an upper bound on the granularity of
 * the noise actually drawn (see the module note).
 * @example
 * ```ts
 * gradientNoiseStd(1.1, 1, 1000); // 1.1 * (1 + 2^-29 * sqrt(1000)) ≈ 1.1000000648
 * ```
 */
export function gradientNoiseStd(noiseMultiplier: number, clipNorm: number, parameterCount: number): number {
  assertPositive('noiseMultiplier', noiseMultiplier);
  assertPositive('clipNorm', clipNorm);
  const g = gaussianGranularity(2 * noiseMultiplier * clipNorm);
  const margin = g * Math.sqrt(parameterCount);
  if (!(margin <= clipNorm)) {
    throw new RangeError(`parameterCount=${parameterCount} is too large for the grid-rounding margin (g·√P must be <= clipNorm)`);
  }
  return noiseMultiplier * (clipNorm + margin);
}

/**
 * Rounds `sum` to the grid of the secure Gaussian noise of std `noiseStd`, adds that noise (drawn into `scratch`,
 * same length, or taken from `scratch` when `noiseReady` is true), and divides by `expectedBatchSize`, in place.
 * @example
 * ```ts
 * const g = Float64Array.of(1, 2);
 * addNoiseAndScale(g, gradientNoiseStd(1, 1, 2), 10, new Float64Array(2)); // ≈ [0.1, 0.2] + noise / 10
 * ```
 */
export function addNoiseAndScale(
  sum: Float64Array,
  noiseStd: number,
  expectedBatchSize: number,
  scratch: Float64Array,
  rng: Rng = cryptoRng,
  noiseReady = false,
): void {
  const noise = noiseReady ? scratch : sampleGaussianNoise(scratch, noiseStd, rng);
  const g = gaussianGranularity(noiseStd);
  const inv = 1 / expectedBatchSize;
  const invG = 1 / g; // exact: g is a power of two in the normal range, so x * invG === x / g
  for (let k = 0; k < sum.length; k++) sum[k] = (Math.round(sum[k] * invG) * g + noise[k]) * inv;
}

/**
 * One DP-SGD gradient from per-example gradients of any model: clip (flat or per layer), sum, round to the noise
 * grid, add Gaussian noise with std σ·C (C = ‖(C_1..C_L)‖ per layer; plus the tiny grid margin), divide by the
 * expected batch size. An empty batch still gets noise.
 * @example
 * ```ts
 * const { gradient } = dpSgdStep({
 *   perSampleGradients: [Float64Array.of(3, 4), Float64Array.of(0.1, 0.2)],
 *   clipNorm: 1, noiseMultiplier: 1.1, expectedBatchSize: 2,
 * });
 * params.forEach((_, k) => (params[k] -= 0.1 * gradient[k]));
 * ```
 */
export function dpSgdStep(options: DpSgdStepOptions): DpSgdStepResult {
  assertOptions('options', options, [
    'perSampleGradients',
    'noiseMultiplier',
    'expectedBatchSize',
    'rng',
    'clipNorm',
    'layers',
    'parameterCount',
  ]);
  assertPositive('noiseMultiplier', options.noiseMultiplier);
  assertPositive('expectedBatchSize', options.expectedBatchSize);
  const grads = options.perSampleGradients;
  const empty = Array.isArray(grads) ? grads.length === 0 : (grads as { rows: number }).rows === 0;
  if (empty && options.parameterCount === undefined) {
    throw new RangeError('parameterCount is required for an empty batch (an empty Poisson batch still gets noise)');
  }
  const { sum, rows, clipped } = clipAndSum(grads, {
    clipNorm: options.clipNorm,
    ...(options.layers === undefined ? {} : { layers: options.layers }),
    ...(options.parameterCount === undefined ? {} : { parameterCount: options.parameterCount }),
  });
  const C =
    options.layers === undefined ? (options.clipNorm as number) : totalClipNorm(perLayerClipNorms(options.clipNorm, options.layers.length));
  const noiseStd = gradientNoiseStd(options.noiseMultiplier, C, sum.length);
  addNoiseAndScale(sum, noiseStd, options.expectedBatchSize, new Float64Array(sum.length), options.rng ?? cryptoRng);
  return { gradient: sum, batchSize: rows, clipped, noiseStd };
}

/** Settings of adaptive clipping (Andrew et al. 2021); every field has the paper's default. */
export interface AdaptiveClippingOptions {
  /** γ: the quantile of per-example gradient norms the clip norm tracks. Default 0.5. */
  targetQuantile?: number;
  /** η_C: step of the geometric update C ← C·exp(−η_C(b̃ − γ)). Default 0.2. */
  learningRate?: number;
  /** σ_b: std of the noise on the count of unclipped examples. Default expectedBatchSize / 20. */
  countNoiseStd?: number;
}

/** Fully resolved adaptive-clipping settings. */
export interface ResolvedAdaptiveClipping {
  targetQuantile: number;
  learningRate: number;
  countNoiseStd: number;
  /** σ_Δ: the noise multiplier used for the gradient sum. */
  gradientNoiseMultiplier: number;
}

/**
 * The gradient noise multiplier σ_Δ = (σ⁻² − (2σ_b)⁻²)^(−1/2) that makes the gradient release plus the count
 * release (sensitivity ½, noise std σ_b) cost the same as one Gaussian mechanism with multiplier σ. Requires
 * σ < 2σ_b.
 * @example
 * ```ts
 * adaptiveGradientNoiseMultiplier(1, 5); // ≈ 1.005
 * ```
 */
export function adaptiveGradientNoiseMultiplier(noiseMultiplier: number, countNoiseStd: number): number {
  assertPositive('noiseMultiplier', noiseMultiplier);
  assertPositive('countNoiseStd', countNoiseStd);
  if (!(noiseMultiplier < 2 * countNoiseStd)) {
    throw new RangeError(
      `adaptive clipping needs noiseMultiplier < 2 * countNoiseStd, got noiseMultiplier=${noiseMultiplier} and countNoiseStd=${countNoiseStd}`,
    );
  }
  return 1 / Math.sqrt(noiseMultiplier ** -2 - (2 * countNoiseStd) ** -2);
}

/**
 * Fills in the defaults of {@link AdaptiveClippingOptions} and checks them.
 * @example
 * ```ts
 * const a = resolveAdaptiveClipping({}, 1.0, 25); // countNoiseStd 1.25
 * ```
 */
export function resolveAdaptiveClipping(
  options: AdaptiveClippingOptions,
  noiseMultiplier: number,
  expectedBatchSize: number,
): ResolvedAdaptiveClipping {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`adaptiveClipping must be true or an options object, got ${describeValue(options)}`);
  }
  assertOptions('adaptiveClipping', options, ['targetQuantile', 'learningRate', 'countNoiseStd']);
  const targetQuantile = options.targetQuantile ?? 0.5;
  assertInRange('adaptiveClipping.targetQuantile', targetQuantile, 0, 1);
  const learningRate = options.learningRate ?? 0.2;
  assertPositive('adaptiveClipping.learningRate', learningRate);
  const countNoiseStd = options.countNoiseStd ?? expectedBatchSize / 20;
  assertPositive('adaptiveClipping.countNoiseStd', countNoiseStd);
  const gradientNoiseMultiplier = adaptiveGradientNoiseMultiplier(noiseMultiplier, countNoiseStd);
  return { targetQuantile, learningRate, countNoiseStd, gradientNoiseMultiplier };
}

/** Inputs of {@link adaptiveClipUpdate}. */
export interface AdaptiveClipUpdateInput {
  /** The current clip norm C. */
  clipNorm: number;
  /** Examples of the batch whose gradient norm was ≤ C. */
  unclipped: number;
  /** Realised batch size. */
  batchSize: number;
  /** q·N (Poisson) or the fixed batch size. */
  expectedBatchSize: number;
  settings: ResolvedAdaptiveClipping;
  rng?: Rng;
}

/**
 * One adaptive-clipping update: releases Σ_i (1[‖g_i‖ ≤ C] − ½) + N(0, σ_b²) (sensitivity ½), turns it into the
 * noisy unclipped fraction b̃ = noisy / expectedBatchSize + ½, and returns C·exp(−η_C·(b̃ − γ)).
 *
 * Every field is checked (`unclipped` an integer in [0, batchSize], `settings` as returned by
 * {@link resolveAdaptiveClipping}); a next clip norm outside (0, Number.MAX_VALUE] is a RangeError, since it
 * could not bound the next step's sensitivity.
 * @example
 * ```ts
 * const settings = resolveAdaptiveClipping({}, 1, 25);
 * const next = adaptiveClipUpdate({ clipNorm: 1, unclipped: 12, batchSize: 24, expectedBatchSize: 25, settings });
 * ```
 */
export function adaptiveClipUpdate(options: AdaptiveClipUpdateInput): number {
  assertOptions('options', options, ['clipNorm', 'unclipped', 'batchSize', 'expectedBatchSize', 'settings', 'rng']);
  const { clipNorm, unclipped, batchSize, expectedBatchSize, settings } = options;
  assertClipNorm(clipNorm);
  assertInteger('batchSize', batchSize, 0);
  assertInteger('unclipped', unclipped, 0, batchSize);
  assertPositive('expectedBatchSize', expectedBatchSize);
  assertOptions('settings', settings, ['targetQuantile', 'learningRate', 'countNoiseStd', 'gradientNoiseMultiplier']);
  assertInRange('settings.targetQuantile', settings.targetQuantile, 0, 1);
  assertPositive('settings.learningRate', settings.learningRate);
  assertPositive('settings.countNoiseStd', settings.countNoiseStd);
  if (options.rng !== undefined) assertRng('rng', options.rng);
  const noise = sampleGaussianNoise(new Float64Array(1), settings.countNoiseStd, options.rng ?? cryptoRng)[0];
  const noisyFraction = (unclipped - batchSize / 2 + noise) / expectedBatchSize + 0.5;
  const next = clipNorm * Math.exp(-settings.learningRate * (noisyFraction - settings.targetQuantile));
  if (!(Number.isFinite(next) && next > 0)) {
    throw new RangeError(
      `the adaptive clip norm left the range of doubles (got ${describeValue(next)} from clipNorm=${clipNorm}); ` +
        `settings.learningRate=${settings.learningRate} is too large for this clip norm`,
    );
  }
  return next;
}
