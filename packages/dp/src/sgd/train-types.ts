/**
 * Options, results and limits of the trainers ({@link trainSgd}, {@link trainDpSgd} in `train.ts`).
 * @module
 */
import type { Rng } from '@ppml/core';
import type { DpEvent } from '../accountant/events.ts';
import type { AccountantKind } from '../accountant/registry.ts';
import type { AdaptiveClippingOptions } from './optimizer.ts';
import type { Clipping } from './clip.ts';
import type { TrainableModel } from './model.ts';
import type { Rows } from './network.ts';

/** How batches are drawn: Poisson sampling (default, amplified accounting) or shuffled fixed-size batches. */
export type Sampling = 'poisson' | 'shuffle';

/**
 * The privacy accountants the trainer can use: the registry's kinds ('pld', 'rdp', 'basic'); the old name of
 * {@link AccountantKind}.
 */
export type AccountantName = AccountantKind;

/**
 * Largest number of steps one run may take (epochs × steps per epoch, or `steps`). Each step costs at least one
 * pass over the N examples (Poisson sampling) and one noise draw per parameter; beyond this a run would not end
 * in any useful time.
 * @example
 * ```ts
 * MAX_TRAINING_STEPS; // 10_000_000
 * ```
 */
export const MAX_TRAINING_STEPS: number = 10_000_000;

/**
 * Range of the noise multiplier σ the trainer accepts: below 1e-6 the guarantee is meaningless (ε above 1e11) and
 * the noise std leaves the secure sampler's grid; above 1e6 (Opacus's MAX_SIGMA) the update is pure noise.
 * @example
 * ```ts
 * TRAIN_NOISE_MULTIPLIER_RANGE; // [1e-6, 1e6]
 * ```
 */
export const TRAIN_NOISE_MULTIPLIER_RANGE: readonly [number, number] = Object.freeze([1e-6, 1e6]) as readonly [number, number];

/**
 * Largest learning rate accepted. Larger steps make any model diverge; a run whose parameters still become
 * non-finite throws a RangeError that says to lower the learning rate.
 * @example
 * ```ts
 * MAX_LEARNING_RATE; // 1e6
 * ```
 */
export const MAX_LEARNING_RATE: number = 1e6;

/** Most feature values (examples × features) the trainer copies into memory (2^27 doubles, 1 GiB). */
export const MAX_TRAINING_VALUES: number = 2 ** 27;

/**
 * Progress after one epoch. Loss and accuracy are NOT private: they are for monitoring only. An epoch whose
 * batches were all empty (possible under Poisson sampling with a small q·N) saw no example: it reports
 * `examples: 0` and `loss: null` (and `accuracy: null` for classifiers), never NaN.
 */
export interface EpochProgress {
  /** 1-based epoch number. */
  epoch: number;
  /** Total number of epochs of the run. */
  epochs: number;
  /** Steps taken so far. */
  steps: number;
  /**
   * Mean per-example loss over the batches of this epoch (computed before each step's update); null when the
   * epoch saw no example (all its Poisson batches were empty).
   */
  loss: number | null;
  /**
   * Fraction of correctly classified examples in the batches of this epoch; undefined without class labels,
   * null when the epoch saw no example.
   */
  accuracy?: number | null;
  /** Examples seen in the batches of this epoch (with repeats across steps). */
  examples: number;
  /** Loss on the validation data, when given. */
  validationLoss?: number;
  /** Accuracy on the validation data, when given and the model has class labels. */
  validationAccuracy?: number;
  /**
   * Privacy spent so far (Infinity for the non-private trainer). Computed by the run's accountant when first
   * read (a getter), so that runs which never look at it do not pay for one accounting per epoch.
   */
  readonly epsilon: number;
  /** The clip norm at the end of the epoch (changes under adaptive clipping). */
  clipNorm: number;
  /** Mean realised batch size in this epoch. */
  meanBatchSize: number;
}

/** Options shared by {@link trainSgd} and {@link trainDpSgd}. */
export interface TrainSgdOptions<M extends TrainableModel> {
  /** The model, trained in place and returned as `result.model`. */
  model: M;
  /** Features, one row per example. */
  x: Rows;
  /** Labels: 0/1 for binary models, a class index for multi-class models. */
  y: ArrayLike<number>;
  /**
   * Number of epochs (Poisson: ⌊1/q⌋ steps each), a positive integer. Give `epochs` or `steps`. The total number
   * of steps must not exceed {@link MAX_TRAINING_STEPS}.
   */
  epochs?: number;
  /** Number of steps, an integer in [1, {@link MAX_TRAINING_STEPS}]. Give `epochs` or `steps`. */
  steps?: number;
  /**
   * Poisson sampling rate q in (0, 1]. Give `sampleRate` or `batchSize` (Poisson: q = batchSize / N, with N
   * treated as public). An epoch is ⌊1/q⌋ steps, so a tiny q with `epochs` can exceed {@link MAX_TRAINING_STEPS}.
   */
  sampleRate?: number;
  /** Expected (Poisson) or fixed (shuffle) batch size. */
  batchSize?: number;
  /** Default 'poisson'. 'shuffle' uses fixed-size batches and gets no amplification by sampling. */
  sampling?: Sampling;
  /**
   * Step size, a finite number in (0, {@link MAX_LEARNING_RATE}]. If the parameters still become non-finite, the
   * run stops with a RangeError asking for a smaller learning rate.
   */
  learningRate: number;
  /** Randomness for sampling and noise (default: the CSPRNG): an object with `nextUint32` and `fillBytes`. Pass a seeded generator only in tests. */
  rng?: Rng;
  /** Called after every epoch (a function). */
  onProgress?: (progress: EpochProgress) => void;
  /** Held-out data evaluated after every epoch (not part of training, not private): an object `{ x, y }`. */
  validation?: { x: Rows; y: ArrayLike<number> };
}

/** Options of {@link trainDpSgd}. */
export interface TrainDpSgdOptions<M extends TrainableModel> extends TrainSgdOptions<M> {
  /** Clip norm C (flat), or per-layer bounds / a total split as C/√L (per-layer). */
  clipNorm: number | readonly number[];
  /** Default 'flat'. */
  clipping?: Clipping;
  /** Adaptive clipping (Andrew et al. 2021); flat clipping only. `clipNorm` is the starting value. */
  adaptiveClipping?: boolean | AdaptiveClippingOptions;
  /** σ, a number in {@link TRAIN_NOISE_MULTIPLIER_RANGE}. Give `noiseMultiplier` or `targetEpsilon`. */
  noiseMultiplier?: number;
  /** Calibrate σ so that the whole run spends at most this ε (a number in (0, 1e6]). */
  targetEpsilon?: number;
  delta: number;
  /** Default 'rdp'. One of the registry's accountants ('rdp', 'pld', 'basic'). */
  accountant?: AccountantName;
  /** Calibration tolerance on ε (default 0.01, as Opacus). */
  epsilonTolerance?: number;
  /**
   * Draw the noise of upcoming steps on a worker thread (its own CSPRNG) while this thread computes gradients.
   * Default false. Costs a worker start-up (tens to hundreds of ms); pays off when the noise of a step (about
   * 0.02 µs per parameter on an idle core) is a noticeable part of the step. Not available with a custom `rng` or
   * adaptive clipping.
   */
  parallelNoise?: boolean;
  /**
   * A bound on the number of examples any one user contributes; when given, the statement adds user-level ε by
   * group privacy (example-level ε is what `epsilon` reports). Not with `userIds` (user-level training).
   */
  maxExamplesPerUser?: number;
  /**
   * User-level DP-SGD (DP-FedAvg style, McMahan, Ramage, Talwar, Zhang 2018): the user of each example (strings
   * or integers, one per row of x). Each step samples USERS by Poisson sampling at `sampleRate` (or
   * `batchSize` expected users), computes each sampled user's aggregated update (the mean gradient over the
   * user's examples), clips it to `clipNorm` and adds noise to the sum; the guarantee is user-level (add or
   * remove one user with all their examples). Flat clipping and Poisson sampling only.
   */
  userIds?: ArrayLike<string | number>;
}

/** What the trainers return. */
export interface TrainResult<M extends TrainableModel> {
  model: M;
  /** False for {@link trainSgd}: the model carries no privacy guarantee. */
  private: boolean;
  /** ε spent by the whole run (Infinity when not private). */
  epsilon: number;
  /** δ of the guarantee (1 when not private: no (ε, δ) statement holds). */
  delta: number;
  /** σ used (0 when not private). */
  noiseMultiplier: number;
  /** One entry per epoch. */
  history: EpochProgress[];
  /** What was assumed and guaranteed, for papers and audits. */
  statement: string;
  steps: number;
  epochs: number;
  /** q per step (Poisson), or 1 for shuffled batches (each example once per epoch). */
  sampleRate: number;
  sampling: Sampling;
  /**
   * The neighbouring relation of the guarantee: 'add-or-remove-one' for Poisson sampling, 'replace-one' for
   * shuffled batches (N fixed and public); 'none' for the non-private trainer.
   */
  neighboringRelation: 'add-or-remove-one' | 'replace-one' | 'none';
  /** 'example' (one example is the unit of privacy), 'user' (all examples of one user), 'none' (not private). */
  privacyUnit: 'example' | 'user' | 'none';
  accountant: AccountantName | 'none';
  /**
   * The whole run as one event (null when not private): the per-step sampled Gaussian composed `steps` times
   * (Poisson), or the per-epoch Gaussian composed `epochs` times (shuffle). Compose it with other releases in
   * any accountant or `PrivacyBudget`.
   */
  event: DpEvent | null;
  /** Final clip norm (differs from the start value under adaptive clipping; 0 when not private). */
  clipNorm: number;
}
