/**
 * Training loops: {@link trainDpSgd} (DP-SGD, Abadi et al. 2016, Algorithm 1, with Poisson sampling, per-example
 * clipping, Gaussian noise and privacy accounting) and {@link trainSgd}, the same loop WITHOUT privacy for
 * baselines.
 *
 * Sampling and accounting are kept truthful together. With the default Poisson sampling each step samples every
 * example independently with probability q, an epoch is ⌊1/q⌋ steps (as in Opacus), and the accountant is told
 * (σ, q, steps): the sampled Gaussian mechanism of Mironov, Talwar, Zhang 2019, under the add-or-remove-one
 * relation. With `sampling: 'shuffle'` the batches are fixed-size slices of a random permutation with the
 * remainder dropped, so adding an example can displace another one from its batch: the clipped sum of a batch
 * moves by up to 2C, not C. Shuffled runs are therefore accounted under the replace-one relation (N fixed): with
 * the permutation coupled, replacing one example changes one batch sum by at most 2C, so each epoch is one
 * Gaussian mechanism with multiplier σ/2 (sensitivity 2C; the hockey-stick divergence is jointly convex, so
 * the mixture over permutations is no worse), composed over epochs. No amplification by sampling is claimed.
 *
 * The dataset size N is treated as public, as Opacus does: q = batchSize / N and the number of steps per epoch
 * depend on it. Every numeric option has a range the loop honours in bounded time (see {@link MAX_TRAINING_STEPS}).
 *
 * Models with ghost-clipping kernels (the built-in ones) never materialise per-example gradients; any other
 * {@link TrainableModel} goes through its `perSampleGradients`.
 * @module
 */
import {
  type Rng,
  assertArrayLike,
  assertDelta,
  assertFunction,
  assertInRange,
  assertInteger,
  assertOptions,
  assertRng,
  cryptoRng,
  describeValue,
  toMatrix,
} from '@ppml/core';
import {
  DEFAULT_RDP_ORDERS,
  PldAccountant,
  RdpAccountant,
  calibrateNoiseMultiplier,
  computeEpsilon,
  gaussianEvent,
  poissonSampledEvent,
  rdpToEpsilon,
  sampledGaussianRdp,
} from '../accountant/index.ts';
import { groupPrivacyEpsilon } from '../accountant/statement.ts';
import { type Clipping, assertClipNorm, clipAndSum, gradientRows, perLayerClipNorms, totalClipNorm } from './clip.ts';
import { type BatchStats, type GhostClippingModel, type TrainableModel, hasGhostClipping } from './model.ts';
import type { Rows } from './network.ts';
import {
  type AdaptiveClippingOptions,
  type ResolvedAdaptiveClipping,
  adaptiveClipUpdate,
  addNoiseAndScale,
  gradientNoiseStd,
  resolveAdaptiveClipping,
} from './optimizer.ts';
import { ParallelNoise } from './parallel-noise.ts';
import { poissonSampleInto, shuffledBatches } from './sampling.ts';

/** How batches are drawn: Poisson sampling (default, amplified accounting) or shuffled fixed-size batches. */
export type Sampling = 'poisson' | 'shuffle';

/** The privacy accountants the trainer can use. */
export type AccountantName = 'rdp' | 'pld';

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
const MAX_TRAINING_VALUES = 2 ** 27;

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
  /** Privacy spent so far (Infinity for the non-private trainer). */
  epsilon: number;
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
  /** Default 'rdp'. */
  accountant?: AccountantName;
  /** Calibration tolerance on ε (default 0.01, as Opacus). */
  epsilonTolerance?: number;
  /**
   * Draw the noise of upcoming steps on a worker thread (its own CSPRNG) while this thread computes gradients.
   * Default false. Costs a worker start-up (tens to hundreds of ms); pays off when the noise of a step (about
   * 1 µs per parameter) is a noticeable part of the step. Not available with a custom `rng` or adaptive clipping.
   */
  parallelNoise?: boolean;
  /**
   * A bound on the number of examples any one user contributes; when given, the statement adds user-level ε by
   * group privacy (example-level ε is what `epsilon` reports).
   */
  maxExamplesPerUser?: number;
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
  accountant: AccountantName | 'none';
  /** Final clip norm (differs from the start value under adaptive clipping; 0 when not private). */
  clipNorm: number;
}

interface Plan {
  n: number;
  sampling: Sampling;
  /** Poisson rate (or batchSize / N for shuffle, informative only). */
  q: number;
  batchSize: number;
  stepsPerEpoch: number;
  totalSteps: number;
  epochs: number;
  expectedBatchSize: number;
}

interface Prepared {
  x: Float64Array;
  /** ‖x_i‖² per example (for the first layer's ghost norm). */
  xSq: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
  valX: Float64Array | null;
  valY: Float64Array | null;
  valN: number;
}

function checkModel(model: TrainableModel): void {
  if (model === null || typeof model !== 'object') throw new TypeError(`model must be an object, got ${describeValue(model)}`);
  if (!(model.parameters instanceof Float64Array)) {
    throw new TypeError(`model.parameters must be a Float64Array, got ${describeValue(model.parameters)}`);
  }
  assertInteger('model.features', model.features, 1);
  assertInteger('model.classes', model.classes, 0);
  if (model.classes === 1) throw new RangeError('model.classes must be 0 (no class labels) or >= 2, got 1');
  if (typeof model.perSampleGradients !== 'function') {
    throw new TypeError('model.perSampleGradients must be a function (every model needs a per-example gradient rule)');
  }
  const groups = model.parameterGroups;
  if (!Array.isArray(groups) || groups.length === 0) throw new TypeError('model.parameterGroups must be a non-empty array');
  let offset = 0;
  groups.forEach((g, l) => {
    if (g.offset !== offset || !Number.isSafeInteger(g.length) || g.length < 1) {
      throw new RangeError(
        `model.parameterGroups[${l}] must start at ${offset} with length >= 1, got offset ${describeValue(g.offset)} and length ${describeValue(g.length)}`,
      );
    }
    offset += g.length;
  });
  if (offset !== model.parameters.length) {
    throw new RangeError(
      `model.parameterGroups cover ${offset} parameters but model.parameters has ${model.parameters.length}`,
    );
  }
}

function checkLabels(name: string, y: ArrayLike<number>, classes: number): Float64Array {
  assertArrayLike(name, y);
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (typeof v !== 'number') throw new TypeError(`${name}[${i}] must be a number, got ${describeValue(v)}`);
    if (classes === 2 && v !== 0 && v !== 1) throw new RangeError(`${name}[${i}] must be 0 or 1 for a binary model, got ${describeValue(v)}`);
    if (classes > 2 && !(Number.isInteger(v) && v >= 0 && v < classes)) {
      throw new RangeError(`${name}[${i}] must be a class index in [0, ${classes - 1}], got ${describeValue(v)}`);
    }
    if (classes === 0 && !Number.isFinite(v)) throw new RangeError(`${name}[${i}] must be a finite number, got ${describeValue(v)}`);
    out[i] = v;
  }
  return out;
}

const SGD_KEYS = [
  'model', 'x', 'y', 'epochs', 'steps', 'sampleRate', 'batchSize', 'sampling', 'learningRate', 'rng', 'onProgress', 'validation',
] as const;
const DP_SGD_KEYS = [
  ...SGD_KEYS,
  'clipNorm', 'clipping', 'adaptiveClipping', 'noiseMultiplier', 'targetEpsilon', 'delta', 'accountant',
  'epsilonTolerance', 'parallelNoise', 'maxExamplesPerUser',
] as const;

/** Checks x before anything is allocated from its length: an array of at most MAX_TRAINING_VALUES / d rows. */
function checkRowsShape(name: string, x: unknown, d: number, minRows: number): void {
  assertArrayLike(name, x, minRows, Math.floor(MAX_TRAINING_VALUES / d));
}

function prepare(options: TrainSgdOptions<TrainableModel>, keys: readonly string[]): Prepared {
  assertOptions('options', options, keys);
  checkModel(options.model);
  if (options.rng !== undefined) assertRng('rng', options.rng);
  assertFunction('onProgress', options.onProgress, true);
  assertOptions('validation', options.validation, ['x', 'y'], true);
  const d = options.model.features;
  checkRowsShape('x', options.x, d, 0);
  const m = toMatrix('x', options.x, d);
  if (m.rows === 0) throw new RangeError('x must hold at least one example');
  assertArrayLike('y', options.y);
  if (m.rows !== options.y.length) {
    throw new RangeError(`x and y must have the same length, got ${m.rows} rows and ${options.y.length} labels`);
  }
  const y = checkLabels('y', options.y, options.model.classes);
  let valX: Float64Array | null = null;
  let valY: Float64Array | null = null;
  let valN = 0;
  if (options.validation !== undefined) {
    checkRowsShape('validation.x', options.validation.x, d, 1);
    const v = toMatrix('validation.x', options.validation.x, d);
    assertArrayLike('validation.y', options.validation.y);
    if (v.rows !== options.validation.y?.length) {
      throw new RangeError(`validation.x and validation.y must have the same length, got ${v.rows} and ${describeValue(options.validation.y?.length)}`);
    }
    valX = v.data;
    valY = checkLabels('validation.y', options.validation.y, options.model.classes);
    valN = v.rows;
  }
  const xSq = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += m.data[i * d + j] * m.data[i * d + j];
    xSq[i] = s;
  }
  return { x: m.data, xSq, y, n: m.rows, d, valX, valY, valN };
}

function plan(options: TrainSgdOptions<TrainableModel>, n: number): Plan {
  const sampling = options.sampling ?? 'poisson';
  if (sampling !== 'poisson' && sampling !== 'shuffle') {
    throw new RangeError(`sampling must be 'poisson' or 'shuffle', got ${describeValue(sampling)}`);
  }
  if ((options.sampleRate === undefined) === (options.batchSize === undefined)) {
    throw new TypeError('give exactly one of sampleRate and batchSize');
  }
  if ((options.epochs === undefined) === (options.steps === undefined)) {
    throw new TypeError('give exactly one of epochs and steps');
  }
  let q: number;
  let batchSize: number;
  let stepsPerEpoch: number;
  let expectedBatchSize: number;
  if (sampling === 'poisson') {
    if (options.sampleRate !== undefined) {
      assertInRange('sampleRate', options.sampleRate, 0, 1, { minInclusive: false });
      q = options.sampleRate;
    } else {
      assertInteger('batchSize', options.batchSize, 1, n);
      q = (options.batchSize as number) / n;
    }
    expectedBatchSize = q * n;
    batchSize = expectedBatchSize;
    // ⌊1/q⌋ can be astronomically large for a tiny q: clamp before the step bound below rejects it.
    stepsPerEpoch = Math.max(1, Math.floor(Math.min(1 / q, 2 * MAX_TRAINING_STEPS)));
  } else {
    if (options.sampleRate !== undefined) {
      throw new TypeError("sampling 'shuffle' needs batchSize (fixed-size batches), not sampleRate");
    }
    assertInteger('batchSize', options.batchSize, 1, n);
    batchSize = options.batchSize as number;
    q = batchSize / n;
    expectedBatchSize = batchSize;
    stepsPerEpoch = Math.floor(n / batchSize);
  }
  let totalSteps: number;
  let epochs: number;
  if (options.epochs !== undefined) {
    assertInteger('epochs', options.epochs, 1, MAX_TRAINING_STEPS);
    epochs = options.epochs;
    totalSteps = epochs * stepsPerEpoch;
    if (totalSteps > MAX_TRAINING_STEPS) {
      throw new RangeError(
        `epochs × steps per epoch must be at most ${MAX_TRAINING_STEPS}, got ${epochs} × ${stepsPerEpoch}` +
          (sampling === 'poisson' ? ' (⌊1/sampleRate⌋ steps per epoch): raise sampleRate or batchSize, or lower epochs' : ': lower epochs'),
      );
    }
  } else {
    assertInteger('steps', options.steps, 1, MAX_TRAINING_STEPS);
    totalSteps = options.steps as number;
    epochs = Math.ceil(totalSteps / stepsPerEpoch);
  }
  assertInRange('learningRate', options.learningRate, 0, MAX_LEARNING_RATE, { minInclusive: false });
  return { n, sampling, q, batchSize, stepsPerEpoch, totalSteps, epochs, expectedBatchSize };
}

/** Per-step state shared by the private and non-private loops. */
interface Loop {
  prepared: Prepared;
  plan: Plan;
  model: TrainableModel;
  rng: Rng;
  /** Computes the gradient estimate of a batch into `grad`; returns loss/correct sums. */
  step(xb: Float64Array, yb: Float64Array, xSqb: Float64Array, rows: number, grad: Float64Array): { lossSum: number; correct: number };
  /** ε after `steps` steps / `epochsStarted` epochs. */
  epsilonAfter(steps: number, epochsStarted: number): number;
  clipNorm(): number;
}

function runLoop(loop: Loop, options: TrainSgdOptions<TrainableModel>): EpochProgress[] {
  const { prepared: data, plan: p, model, rng } = loop;
  const { d } = data;
  const P = model.parameters.length;
  const grad = new Float64Array(P);
  const indices = new Uint32Array(data.n);
  let xb = new Float64Array(Math.max(1, Math.ceil(p.expectedBatchSize * 2)) * d);
  let yb = new Float64Array(xb.length / d);
  let xSqb = new Float64Array(yb.length);
  const lr = options.learningRate;
  const history: EpochProgress[] = [];
  let step = 0;
  for (let epoch = 1; epoch <= p.epochs; epoch++) {
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let stepsThisEpoch = 0;
    const batches = p.sampling === 'shuffle' ? shuffledBatches(data.n, p.batchSize, rng) : null;
    for (let s = 0; s < p.stepsPerEpoch && step < p.totalSteps; s++) {
      let rows: number;
      let idx: Uint32Array;
      if (batches !== null) {
        idx = batches[s];
        rows = idx.length;
      } else {
        rows = poissonSampleInto(indices, data.n, p.q, rng);
        idx = indices;
      }
      if (rows * d > xb.length) {
        xb = new Float64Array(Math.ceil(rows * 1.5) * d);
        yb = new Float64Array(xb.length / d);
        xSqb = new Float64Array(yb.length);
      }
      const src = data.x;
      for (let i = 0; i < rows; i++) {
        const k = idx[i];
        const from = k * d;
        const to = i * d;
        for (let j = 0; j < d; j++) xb[to + j] = src[from + j];
        yb[i] = data.y[k];
        xSqb[i] = data.xSq[k];
      }
      const stats = loop.step(xb, yb, xSqb, rows, grad);
      const params = model.parameters;
      let finite = true;
      for (let k = 0; k < P; k++) {
        const v = params[k] - lr * grad[k];
        params[k] = v;
        if (v - v !== 0) finite = false; // false for ±Infinity and NaN
      }
      if (!finite) {
        throw new RangeError(
          `training diverged at step ${step + 1}: the model parameters became non-finite with learningRate ` +
            `${lr}; lower learningRate (typical values are 0.01 to 1 for standardized features)`,
        );
      }
      lossSum += stats.lossSum;
      correct += stats.correct;
      seen += rows;
      step++;
      stepsThisEpoch++;
    }
    const progress: EpochProgress = {
      epoch,
      epochs: p.epochs,
      steps: step,
      // An epoch of empty batches saw nothing: it has no loss (null), not a NaN one.
      loss: seen > 0 ? lossSum / seen : null,
      examples: seen,
      epsilon: loop.epsilonAfter(step, epoch),
      clipNorm: loop.clipNorm(),
      meanBatchSize: stepsThisEpoch > 0 ? seen / stepsThisEpoch : 0,
    };
    if (model.classes >= 2) progress.accuracy = seen > 0 ? correct / seen : null;
    if (data.valX !== null && data.valY !== null && typeof model.evaluate === 'function') {
      const v = model.evaluate(data.valX, data.valY, data.valN);
      progress.validationLoss = v.lossSum / data.valN;
      if (model.classes >= 2) progress.validationAccuracy = v.correct / data.valN;
    }
    history.push(progress);
    options.onProgress?.(progress);
  }
  return history;
}

/** Loss and correct count of a batch for a model without ghost kernels (through `evaluate`, if any). */
function statsOf(model: TrainableModel, xb: Float64Array, yb: Float64Array, rows: number): { lossSum: number; correct: number } {
  if (rows === 0) return { lossSum: 0, correct: 0 };
  if (typeof model.evaluate === 'function') return model.evaluate(xb, yb, rows);
  return { lossSum: Number.NaN, correct: 0 };
}

/**
 * Trains a model WITHOUT differential privacy: the same sampling and loop as {@link trainDpSgd}, no clipping, no
 * noise, gradients averaged over the realised batch (empty batches are skipped). For baselines only; the result
 * says `private: false`, ε = Infinity.
 * @example
 * ```ts
 * const baseline = trainSgd({ model: logisticRegression({ features: 30 }), x, y, epochs: 20, sampleRate: 0.05, learningRate: 0.5 });
 * baseline.model.predict(xTest);
 * ```
 */
export function trainSgd<M extends TrainableModel>(options: TrainSgdOptions<M>): TrainResult<M> {
  const prepared = prepare(options, SGD_KEYS);
  const p = plan(options, prepared.n);
  const model = options.model;
  const P = model.parameters.length;
  probeGradient(model, prepared);
  const loop: Loop = {
    prepared,
    plan: p,
    model,
    rng: options.rng ?? cryptoRng,
    step(xb, yb, _xSqb, rows, grad) {
      grad.fill(0);
      if (rows === 0) return { lossSum: 0, correct: 0 };
      let stats: { lossSum: number; correct: number };
      if (hasGhostClipping(model)) {
        stats = model.forwardBackward(xb, yb, rows);
        model.accumulateGradient(null, false, grad);
      } else {
        const g = gradientRows(model.perSampleGradients(xb, yb, rows), P);
        for (const row of g) for (let k = 0; k < P; k++) grad[k] += row[k];
        stats = statsOf(model, xb, yb, rows);
      }
      const inv = 1 / rows;
      for (let k = 0; k < P; k++) grad[k] *= inv;
      return stats;
    },
    epsilonAfter: () => Number.POSITIVE_INFINITY,
    clipNorm: () => 0,
  };
  const history = runLoop(loop, options);
  return {
    model,
    private: false,
    epsilon: Number.POSITIVE_INFINITY,
    delta: 1,
    noiseMultiplier: 0,
    history,
    statement:
      `NOT PRIVATE: trained by plain SGD without clipping or noise (${p.totalSteps} steps, ${p.sampling} batches); ` +
      'the model carries no differential-privacy guarantee and may memorise its training data.',
    steps: p.totalSteps,
    epochs: p.epochs,
    sampleRate: p.q,
    sampling: p.sampling,
    neighboringRelation: 'none',
    accountant: 'none',
    clipNorm: 0,
  };
}

/** Fails before training when a custom model's gradient rule does not match its parameters. */
function probeGradient(model: TrainableModel, data: Prepared): void {
  if (hasGhostClipping(model)) return;
  const g = model.perSampleGradients(data.x.slice(0, data.d), data.y.slice(0, 1), 1);
  const rows = gradientRows(g, model.parameters.length);
  if (rows.length !== 1) throw new RangeError(`model.perSampleGradients returned ${rows.length} gradients for 1 example`);
}

/**
 * Trains a model with DP-SGD: Poisson sampling (default), per-example clipping (flat or per layer, optionally
 * adaptive), Gaussian noise from the secure sampler, division by the expected batch size, and accounting with
 * the chosen accountant after every epoch. With `targetEpsilon` the noise multiplier is calibrated first so that
 * the whole run spends at most that ε.
 * @example
 * ```ts
 * const result = trainDpSgd({
 *   model: logisticRegression({ features: 30 }), x: xTrain, y: yTrain,
 *   epochs: 30, sampleRate: 0.05, learningRate: 0.5, clipNorm: 1,
 *   targetEpsilon: 1, delta: 1e-5,
 * });
 * console.log(result.epsilon, result.statement);
 * result.model.predict(xTest);
 * ```
 */
export function trainDpSgd<M extends TrainableModel>(options: TrainDpSgdOptions<M>): TrainResult<M> {
  const prepared = prepare(options, DP_SGD_KEYS);
  const p = plan(options, prepared.n);
  const model = options.model;
  const rng = options.rng ?? cryptoRng;
  assertDelta(options.delta);
  const accountant = options.accountant ?? 'rdp';
  if (accountant !== 'rdp' && accountant !== 'pld') {
    throw new RangeError(`accountant must be 'rdp' or 'pld', got ${describeValue(accountant)}`);
  }
  const clipping = options.clipping ?? 'flat';
  if (clipping !== 'flat' && clipping !== 'per-layer') {
    throw new RangeError(`clipping must be 'flat' or 'per-layer', got ${describeValue(clipping)}`);
  }
  const L = model.parameterGroups?.length ?? 0;
  let clipNorms: Float64Array | null = null;
  let clipNorm: number;
  if (clipping === 'flat') {
    assertClipNorm(options.clipNorm);
    clipNorm = options.clipNorm;
  } else {
    clipNorms = perLayerClipNorms(options.clipNorm, L);
    clipNorm = totalClipNorm(clipNorms);
  }
  // Accounting view of the run: Poisson (q, steps, add-or-remove-one) or, for shuffled batches, one Gaussian
  // mechanism per epoch with sensitivity 2C under replace-one, i.e. multiplier σ/2 at q = 1 (module note).
  const accountQ = p.sampling === 'poisson' ? p.q : 1;
  const sensitivityFactor = p.sampling === 'poisson' ? 1 : 2;
  const accountSteps = (steps: number, epochsStarted: number): number => (p.sampling === 'poisson' ? steps : epochsStarted);
  const finalAccountSteps = accountSteps(p.totalSteps, p.epochs);
  if ((options.noiseMultiplier === undefined) === (options.targetEpsilon === undefined)) {
    throw new TypeError('give exactly one of noiseMultiplier and targetEpsilon');
  }
  let sigma: number;
  if (options.targetEpsilon !== undefined) {
    sigma =
      sensitivityFactor *
      calibrateNoiseMultiplier({
        targetEpsilon: options.targetEpsilon,
        delta: options.delta,
        sampleRate: accountQ,
        steps: finalAccountSteps,
        accountant,
        ...(options.epsilonTolerance === undefined ? {} : { epsilonTolerance: options.epsilonTolerance }),
      });
  } else {
    const [lo, hi] = TRAIN_NOISE_MULTIPLIER_RANGE;
    assertInRange('noiseMultiplier', options.noiseMultiplier, lo, hi);
    sigma = options.noiseMultiplier as number;
  }
  /** The noise multiplier the accountant sees (σ per unit of sensitivity). */
  const accountSigma = sigma / sensitivityFactor;
  let adaptive: ResolvedAdaptiveClipping | null = null;
  if (options.adaptiveClipping !== undefined && options.adaptiveClipping !== false) {
    if (clipping !== 'flat') throw new RangeError("adaptiveClipping works with clipping 'flat' only");
    adaptive = resolveAdaptiveClipping(
      options.adaptiveClipping === true ? {} : options.adaptiveClipping,
      sigma,
      p.expectedBatchSize,
    );
  }
  const gradientSigma = adaptive === null ? sigma : adaptive.gradientNoiseMultiplier;
  probeGradient(model, prepared);
  if (options.maxExamplesPerUser !== undefined) assertInteger('maxExamplesPerUser', options.maxExamplesPerUser, 1);
  const parallel = options.parallelNoise ?? false;
  if (typeof parallel !== 'boolean') throw new TypeError(`parallelNoise must be a boolean, got ${describeValue(parallel)}`);
  if (parallel && options.rng !== undefined) {
    throw new TypeError('parallelNoise draws from the worker thread\'s own CSPRNG: it cannot be combined with a custom rng');
  }
  if (parallel && adaptive !== null) throw new TypeError('parallelNoise needs a fixed noise std: it cannot be combined with adaptiveClipping');

  const P = model.parameters.length;
  const G = L;
  const noise = new Float64Array(P);
  let sq = new Float64Array(64 * G);
  let factors = new Float64Array(64 * G);
  const groupSizes = clipping === 'per-layer' ? model.parameterGroups.map((g) => g.length) : undefined;

  const ghostStep = (
    m: GhostClippingModel,
    xb: Float64Array,
    yb: Float64Array,
    xSqb: Float64Array,
    rows: number,
    grad: Float64Array,
  ): BatchStats & { unclipped: number } => {
    const stats = m.forwardBackward(xb, yb, rows, xSqb);
    if (sq.length < rows * G) {
      sq = new Float64Array(Math.ceil(rows * 1.5) * G);
      factors = new Float64Array(sq.length);
    }
    m.perSampleSquaredNorms(sq);
    let unclipped = 0;
    if (clipNorms === null) {
      const C = clipNorm;
      for (let i = 0; i < rows; i++) {
        let s = 0;
        for (let l = 0; l < G; l++) s += sq[i * G + l];
        const norm = Math.sqrt(s);
        factors[i] = norm > C ? C / norm : 1;
        if (norm <= C) unclipped++;
      }
      m.accumulateGradient(factors, false, grad);
    } else {
      for (let i = 0; i < rows; i++) {
        let all = true;
        for (let l = 0; l < G; l++) {
          const norm = Math.sqrt(sq[i * G + l]);
          const C = clipNorms[l];
          factors[i * G + l] = norm > C ? C / norm : 1;
          if (norm > C) all = false;
        }
        if (all) unclipped++;
      }
      m.accumulateGradient(factors, true, grad);
    }
    return { ...stats, unclipped };
  };

  // RDP is additive over steps: the per-step curve is computed once and each epoch's ε is one conversion, the same
  // numbers computeEpsilon gives (it multiplies the same per-step curve by the step count).
  const stepRdp = accountant === 'rdp' ? sampledGaussianRdp({ sampleRate: accountQ, noiseMultiplier: accountSigma }) : null;
  const totalRdp = new Float64Array(stepRdp?.length ?? 0);
  let boundary: { order: number; low: boolean } | null = null;
  const noiseSource = parallel ? new ParallelNoise(P, gradientNoiseStd(gradientSigma, clipNorm, P)) : null;
  const warnings = new Set<string>();

  const loop: Loop = {
    prepared,
    plan: p,
    model,
    rng,
    step(xb, yb, xSqb, rows, grad) {
      grad.fill(0);
      let stats = { lossSum: 0, correct: 0 };
      let unclipped = 0;
      if (rows > 0) {
        if (hasGhostClipping(model)) {
          const r = ghostStep(model, xb, yb, xSqb, rows, grad);
          stats = r;
          unclipped = r.unclipped;
        } else {
          const g = model.perSampleGradients(xb, yb, rows);
          const clipOptions =
            groupSizes === undefined
              ? { clipNorm, parameterCount: P }
              : { clipNorm: Array.from(clipNorms as Float64Array), layers: groupSizes, parameterCount: P };
          const r = clipAndSum(g, clipOptions, grad);
          if (r.rows !== rows) throw new RangeError(`model.perSampleGradients returned ${r.rows} gradients for ${rows} examples`);
          unclipped = rows - r.clipped;
          stats = statsOf(model, xb, yb, rows);
        }
      }
      // Noise is added even to an empty batch; the divisor is the expected batch size (see optimizer.ts).
      const std = gradientNoiseStd(gradientSigma, clipNorm, P);
      if (noiseSource !== null) noiseSource.next(noise);
      addNoiseAndScale(grad, std, p.expectedBatchSize, noise, rng, noiseSource !== null);
      if (adaptive !== null) {
        clipNorm = adaptiveClipUpdate({
          clipNorm,
          unclipped,
          batchSize: rows,
          expectedBatchSize: p.expectedBatchSize,
          settings: adaptive,
          rng,
        });
      }
      return stats;
    },
    epsilonAfter: (steps, epochsStarted) => {
      const count = accountSteps(steps, epochsStarted);
      if (stepRdp === null) {
        return computeEpsilon({
          noiseMultiplier: accountSigma,
          sampleRate: accountQ,
          steps: count,
          delta: options.delta,
          accountant,
          onWarning: (m) => warnings.add(m),
        });
      }
      for (let k = 0; k < stepRdp.length; k++) totalRdp[k] = stepRdp[k] * count;
      const r = rdpToEpsilon({ orders: DEFAULT_RDP_ORDERS, rdp: totalRdp, delta: options.delta });
      // Only the final epsilon's order matters for the statement (earlier epochs are superseded).
      boundary = r.orderAtBoundary ? { order: r.order, low: r.order === DEFAULT_RDP_ORDERS[0] } : null;
      return r.epsilon;
    },
    clipNorm: () => clipNorm,
  };
  let history: EpochProgress[];
  try {
    history = runLoop(loop, options);
  } finally {
    noiseSource?.close();
  }
  const epsilon = history.length > 0 ? history[history.length - 1].epsilon : 0;
  const statement = dpSgdStatement({
    plan: p,
    sigma,
    accountSigma,
    gradientSigma,
    delta: options.delta,
    accountant,
    epsilon,
    clipping,
    startClipNorm: typeof options.clipNorm === 'number' ? options.clipNorm : totalClipNorm(options.clipNorm),
    adaptive,
    accountQ,
    accountSteps: finalAccountSteps,
    targetEpsilon: options.targetEpsilon,
    boundary,
    warnings: [...warnings],
    maxExamplesPerUser: options.maxExamplesPerUser,
  });
  return {
    model,
    private: true,
    epsilon,
    delta: options.delta,
    noiseMultiplier: sigma,
    history,
    statement,
    steps: p.totalSteps,
    epochs: p.epochs,
    sampleRate: accountQ,
    sampling: p.sampling,
    neighboringRelation: p.sampling === 'poisson' ? 'add-or-remove-one' : 'replace-one',
    accountant,
    clipNorm,
  };
}

interface StatementInput {
  plan: Plan;
  /** σ: noise std / clip norm. */
  sigma: number;
  /** σ per unit of sensitivity as the accountant sees it (σ/2 for shuffled batches). */
  accountSigma: number;
  gradientSigma: number;
  delta: number;
  accountant: AccountantName;
  epsilon: number;
  clipping: Clipping;
  startClipNorm: number;
  adaptive: ResolvedAdaptiveClipping | null;
  accountQ: number;
  accountSteps: number;
  targetEpsilon: number | undefined;
  /** Set when the optimal RDP order of the final ε was the first or last of the list. */
  boundary: { order: number; low: boolean } | null;
  /** Warnings the accountant raised (each says what to do). */
  warnings: string[];
  maxExamplesPerUser: number | undefined;
}

/** A figure for people: 4 significant digits (exact values stay in the result object). */
function fmt(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x);
}

/** ε for people: rounded UP to 3 significant digits, so the printed guarantee never under-reports. */
function fmtEpsilon(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const f = 10 ** (2 - Math.floor(Math.log10(x)));
  const up = Math.ceil(x * f) / f;
  return Number(up.toPrecision(3)).toString();
}

function dpSgdStatement(s: StatementInput): string {
  const p = s.plan;
  const poisson = p.sampling === 'poisson';
  const name = s.accountant.toUpperCase();
  const relation = poisson
    ? 'add or remove one example'
    : 'replace one example (N fixed)';
  const deltaText = s.delta.toExponential();
  const lines: string[] = [];
  lines.push(
    `Guarantee: (epsilon = ${fmtEpsilon(s.epsilon)}, delta = ${deltaText})-DP at the example level (neighbouring relation: ` +
      `${relation}), by the ${name} accountant, for the final model and every intermediate model. ` +
      'Epsilon is rounded up here; the exact value is result.epsilon. Loss and accuracy reports are not private.',
  );
  const whole = p.totalSteps === p.epochs * p.stepsPerEpoch;
  lines.push(
    (whole
      ? `Training: ${p.totalSteps} steps = ${p.epochs} epoch(s) of ${p.stepsPerEpoch} steps`
      : `Training: ${p.totalSteps} steps in ${p.epochs} epoch(s) of up to ${p.stepsPerEpoch} steps (the last one partial)`) +
      ` on N = ${p.n} examples. N is treated as public (as in Opacus): the sampling rate and the steps per epoch depend on it.`,
  );
  if (poisson) {
    lines.push(
      `Sampling: Poisson, each example joins each batch independently with probability q = ${fmt(p.q)} ` +
        `(expected batch size ${fmt(p.expectedBatchSize)}); the noisy sum is divided by the expected batch size.`,
    );
  } else {
    const dropped = p.n % p.batchSize;
    lines.push(
      `Sampling: shuffled fixed-size batches of ${p.batchSize} (${p.stepsPerEpoch} per epoch` +
        (dropped > 0 ? `, ${dropped} example(s) of each permutation dropped` : '') +
        '), NOT Poisson: no amplification by sampling is claimed. Adding an example can displace another from its ' +
        'batch, so a batch sum can move by 2C; each epoch is accounted as one Gaussian mechanism with sensitivity 2C ' +
        'under the replace-one relation.',
    );
  }
  lines.push(
    `Noise multiplier sigma = ${fmt(s.sigma)}${s.targetEpsilon === undefined ? '' : ` (calibrated for target epsilon ${fmt(s.targetEpsilon)})`}; ` +
      `secure Gaussian noise (exact discrete Gaussian on a power-of-two grid g, the clipped sum rounded to the same grid) ` +
      (s.adaptive === null
        ? 'with std sigma·(C + g·√P) on the sum of clipped gradients.'
        : `with std sigma_grad·(C + g·√P) on the sum of clipped gradients, where sigma_grad = ${fmt(s.gradientSigma)} is raised ` +
          'from sigma so that the gradient and the clip-count releases together cost one Gaussian mechanism with multiplier sigma.'),
  );
  lines.push(
    `Clipping: ${s.clipping} L2, ` +
      (s.adaptive === null
        ? `C = ${fmt(s.startClipNorm)}.`
        : `adaptive (Andrew et al. 2021) from C = ${fmt(s.startClipNorm)}, target quantile ${fmt(s.adaptive.targetQuantile)}, ` +
          `count noise std ${fmt(s.adaptive.countNoiseStd)}.`),
  );
  const how =
    s.accountant === 'rdp'
      ? `Renyi DP over ${DEFAULT_RDP_ORDERS.length} orders (Opacus's default list, 1.1 to 63), converted with Balle et al. 2020 (Thm 21)`
      : 'privacy loss distributions (connect-the-dots discretization, FFT composition, both directions)';
  lines.push(
    `Accounting: ${how}; ` +
      (poisson
        ? `${s.accountSteps} compositions of the Poisson-sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019) with ` +
          'noise multiplier sigma.'
        : `${s.accountSteps} compositions (one per epoch) of the Gaussian mechanism with noise multiplier sigma/2 (sensitivity 2C).`),
  );
  if (s.maxExamplesPerUser === undefined) {
    lines.push(
      'No user-level guarantee: a user contributing several examples gets weaker protection (give maxExamplesPerUser ' +
        'for a user-level figure).',
    );
  } else {
    const k = s.maxExamplesPerUser;
    const user = userLevelEpsilon(s, k);
    lines.push(
      `User-level DP (at most ${k} examples per user, by group privacy): (epsilon = ${fmtEpsilon(user)}, delta = ${deltaText}).` +
        (user === Infinity
          ? ' The group-privacy conversion gives no finite bound here: lower maxExamplesPerUser or add noise.'
          : ''),
    );
  }
  if (s.boundary !== null) {
    lines.push(
      `Warning: the optimal RDP order (${s.boundary.order}) is the ${s.boundary.low ? 'smallest' : 'largest'} of the ` +
        'default list, so epsilon is a valid but possibly loose upper bound. To tighten it, train with ' +
        "accountant: 'pld', or recompute it with computeEpsilon and an `orders` list " +
        (s.boundary.low ? 'that starts closer to 1 (e.g. 1.01, 1.02, ...).' : 'that goes beyond 63 (e.g. 128, 256, 512, 1024).'),
    );
  }
  for (const w of s.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n');
}

/** User-level ε for at most k examples per user (Infinity when no finite bound follows). */
function userLevelEpsilon(s: StatementInput, k: number): number {
  const p = s.plan;
  const make = (): RdpAccountant | PldAccountant =>
    s.accountant === 'rdp' ? new RdpAccountant() : new PldAccountant({ onWarning: () => {} });
  if (p.sampling === 'shuffle') {
    // k replaced examples move the batch sums by at most 2kC in L2 (all in one batch is the worst case): the
    // epoch is the Gaussian mechanism with multiplier σ/(2k), exactly.
    return make().compose(gaussianEvent(s.accountSigma / k), s.accountSteps).getEpsilon(s.delta);
  }
  const acc = make().compose(poissonSampledEvent(s.accountQ, gaussianEvent(s.accountSigma)), s.accountSteps);
  return groupPrivacyEpsilon((d) => acc.getEpsilon(d), s.delta, k);
}
