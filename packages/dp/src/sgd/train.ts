/**
 * Training loops: {@link trainDpSgd} (DP-SGD, Abadi et al. 2016, Algorithm 1, with Poisson sampling, per-example
 * clipping, Gaussian noise and privacy accounting) and {@link trainSgd}, the same loop WITHOUT privacy for
 * baselines.
 *
 * Sampling and accounting are kept truthful together. With the default Poisson sampling each step samples every
 * example independently with probability q, an epoch is ⌊1/q⌋ steps (as in Opacus), and the accountant is told
 * (σ, q, steps): the sampled Gaussian mechanism of Mironov, Talwar, Zhang 2019. With `sampling: 'shuffle'` the
 * batches are fixed-size slices of a random permutation; no amplification by sampling is claimed and every epoch
 * is accounted as one Gaussian mechanism with multiplier σ (each example is in exactly one batch per epoch), the
 * "no amplification" figure of TensorFlow Privacy's `compute_dp_sgd_privacy_statement`.
 *
 * Models with ghost-clipping kernels (the built-in ones) never materialise per-example gradients; any other
 * {@link TrainableModel} goes through its `perSampleGradients`.
 * @module
 */
import {
  type Rng,
  assertDelta,
  assertInRange,
  assertInteger,
  assertPositive,
  cryptoRng,
  describeValue,
  toMatrix,
} from '@ppml/core';
import {
  DEFAULT_RDP_ORDERS,
  calibrateNoiseMultiplier,
  computeEpsilon,
  privacyStatement,
  rdpToEpsilon,
  sampledGaussianRdp,
} from '../accountant/index.ts';
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

/** Progress after one epoch. Loss and accuracy are NOT private: they are for monitoring only. */
export interface EpochProgress {
  /** 1-based epoch number. */
  epoch: number;
  /** Total number of epochs of the run. */
  epochs: number;
  /** Steps taken so far. */
  steps: number;
  /** Mean per-example loss over the batches of this epoch (computed before each step's update). */
  loss: number;
  /** Fraction of correctly classified examples in the batches of this epoch; undefined without class labels. */
  accuracy?: number;
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
  /** Number of epochs (Poisson: ⌊1/q⌋ steps each). Give `epochs` or `steps`. */
  epochs?: number;
  /** Number of steps. Give `epochs` or `steps`. */
  steps?: number;
  /** Poisson sampling rate q in (0, 1]. Give `sampleRate` or `batchSize` (Poisson: q = batchSize / N). */
  sampleRate?: number;
  /** Expected (Poisson) or fixed (shuffle) batch size. */
  batchSize?: number;
  /** Default 'poisson'. 'shuffle' uses fixed-size batches and gets no amplification by sampling. */
  sampling?: Sampling;
  learningRate: number;
  /** Randomness for sampling and noise (default: the CSPRNG). Pass a seeded generator only in tests. */
  rng?: Rng;
  /** Called after every epoch. */
  onProgress?: (progress: EpochProgress) => void;
  /** Held-out data evaluated after every epoch (not part of training, not private). */
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
  /** σ. Give `noiseMultiplier` or `targetEpsilon`. */
  noiseMultiplier?: number;
  /** Calibrate σ so that the whole run spends at most this ε. */
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
  if (y === null || typeof y !== 'object' || typeof y.length !== 'number') {
    throw new TypeError(`${name} must be an array of labels, got ${describeValue(y)}`);
  }
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

function prepare(options: TrainSgdOptions<TrainableModel>): Prepared {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  checkModel(options.model);
  const d = options.model.features;
  const m = toMatrix('x', options.x, d);
  if (m.rows === 0) throw new RangeError('x must hold at least one example');
  if (options.y === undefined || options.y === null || typeof options.y.length !== 'number') {
    throw new TypeError(`y must be an array of labels, got ${describeValue(options.y)}`);
  }
  if (m.rows !== options.y.length) {
    throw new RangeError(`x and y must have the same length, got ${m.rows} rows and ${options.y.length} labels`);
  }
  const y = checkLabels('y', options.y, options.model.classes);
  let valX: Float64Array | null = null;
  let valY: Float64Array | null = null;
  let valN = 0;
  if (options.validation !== undefined) {
    const v = toMatrix('validation.x', options.validation.x, d);
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
    stepsPerEpoch = Math.max(1, Math.floor(1 / q));
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
    assertInteger('epochs', options.epochs, 1);
    epochs = options.epochs;
    totalSteps = epochs * stepsPerEpoch;
  } else {
    assertInteger('steps', options.steps, 1);
    totalSteps = options.steps as number;
    epochs = Math.ceil(totalSteps / stepsPerEpoch);
  }
  assertPositive('learningRate', options.learningRate);
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
      for (let k = 0; k < P; k++) params[k] -= lr * grad[k];
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
      loss: seen > 0 ? lossSum / seen : Number.NaN,
      epsilon: loop.epsilonAfter(step, epoch),
      clipNorm: loop.clipNorm(),
      meanBatchSize: stepsThisEpoch > 0 ? seen / stepsThisEpoch : 0,
    };
    if (model.classes >= 2) progress.accuracy = seen > 0 ? correct / seen : Number.NaN;
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
  const prepared = prepare(options);
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
  const prepared = prepare(options);
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
  // Accounting view of the run: Poisson (q, steps) or, for shuffled batches, one full pass per epoch (q = 1).
  const accountQ = p.sampling === 'poisson' ? p.q : 1;
  const accountSteps = (steps: number, epochsStarted: number): number => (p.sampling === 'poisson' ? steps : epochsStarted);
  const finalAccountSteps = accountSteps(p.totalSteps, p.epochs);
  if ((options.noiseMultiplier === undefined) === (options.targetEpsilon === undefined)) {
    throw new TypeError('give exactly one of noiseMultiplier and targetEpsilon');
  }
  let sigma: number;
  if (options.targetEpsilon !== undefined) {
    assertPositive('targetEpsilon', options.targetEpsilon);
    sigma = calibrateNoiseMultiplier({
      targetEpsilon: options.targetEpsilon,
      delta: options.delta,
      sampleRate: accountQ,
      steps: finalAccountSteps,
      accountant,
      ...(options.epsilonTolerance === undefined ? {} : { epsilonTolerance: options.epsilonTolerance }),
    });
  } else {
    assertPositive('noiseMultiplier', options.noiseMultiplier);
    sigma = options.noiseMultiplier as number;
  }
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
  const stepRdp = accountant === 'rdp' ? sampledGaussianRdp({ sampleRate: accountQ, noiseMultiplier: sigma }) : null;
  const totalRdp = new Float64Array(stepRdp?.length ?? 0);
  let orderAtBoundary = false;
  const noiseSource = parallel ? new ParallelNoise(P, gradientNoiseStd(gradientSigma, clipNorm, P)) : null;

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
        return computeEpsilon({ noiseMultiplier: sigma, sampleRate: accountQ, steps: count, delta: options.delta, accountant });
      }
      for (let k = 0; k < stepRdp.length; k++) totalRdp[k] = stepRdp[k] * count;
      const r = rdpToEpsilon({ orders: DEFAULT_RDP_ORDERS, rdp: totalRdp, delta: options.delta });
      if (r.orderAtBoundary) orderAtBoundary = true;
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
    orderAtBoundary,
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
    accountant,
    clipNorm,
  };
}

interface StatementInput {
  plan: Plan;
  sigma: number;
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
  /** The optimal RDP order was the first or last of the list at some epoch. */
  orderAtBoundary: boolean;
  maxExamplesPerUser: number | undefined;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x);
}

function dpSgdStatement(s: StatementInput): string {
  const p = s.plan;
  const lines: string[] = [];
  lines.push(
    `DP-SGD trained ${p.totalSteps} steps (${p.epochs} epochs) on N = ${p.n} examples.`,
    p.sampling === 'poisson'
      ? `Sampling: Poisson, each example in each batch independently with probability q = ${fmt(p.q)} (expected batch size ${fmt(p.expectedBatchSize)}; ${p.stepsPerEpoch} steps per epoch); the noisy sum is divided by the expected batch size.`
      : `Sampling: shuffled fixed-size batches of ${p.batchSize} (${p.stepsPerEpoch} per epoch), NOT Poisson: no amplification by sampling is claimed; each epoch is accounted as one Gaussian mechanism (q = 1, ${s.accountSteps} compositions).`,
    `Clipping: ${s.clipping} L2, ${s.adaptive === null ? `C = ${fmt(s.startClipNorm)}` : `adaptive (Andrew et al. 2021) from C = ${fmt(s.startClipNorm)}, target quantile ${s.adaptive.targetQuantile}, count noise std ${fmt(s.adaptive.countNoiseStd)}`}; secure Gaussian noise (exact discrete Gaussian on a power-of-two grid g, the clipped sum rounded to the same grid) with std ${fmt(s.gradientSigma)}·(C + g·√P) on the sum of clipped gradients.`,
    `Noise multiplier sigma = ${fmt(s.sigma)}${s.targetEpsilon === undefined ? '' : ` (calibrated for target epsilon ${fmt(s.targetEpsilon)})`}.`,
    s.maxExamplesPerUser === undefined
      ? 'Neighbouring relation: add or remove one example (example-level privacy; a user contributing several examples gets weaker protection).'
      : `Neighbouring relation: add or remove one example; user-level figures below assume at most ${s.maxExamplesPerUser} examples per user.`,
    `Guarantee: (${fmt(s.epsilon)}, ${s.delta.toExponential()})-DP by the ${s.accountant.toUpperCase()} accountant for the final model and every intermediate model (loss and accuracy reports are not private).`,
  );
  // The accountant package's statement (TF Privacy style): example-level ε once per epoch and under Poisson
  // sampling, and the accounting details. For shuffled batches the "once per epoch" figure is the guarantee.
  if (s.orderAtBoundary) {
    lines.push('Warning: the optimal RDP order was at the edge of the order list; more orders could give a smaller epsilon.');
  }
  lines.push(
    p.sampling === 'poisson'
      ? 'This run used true Poisson sampling: the "assuming Poisson sampling" figure below is its guarantee (footnote (*) does not apply).'
      : 'This run used shuffled batches: the "once per epoch" figure below is its guarantee; the Poisson figure does not apply.',
    '',
    privacyStatement({
      noiseMultiplier: s.sigma,
      delta: s.delta,
      accountant: s.accountant,
      sampleRate: p.q,
      steps: p.totalSteps,
      epochs: p.sampling === 'poisson' ? p.totalSteps * p.q : p.epochs,
      datasetSize: p.n,
      ...(p.sampling === 'shuffle' ? { batchSize: p.batchSize } : {}),
      ...(s.maxExamplesPerUser === undefined ? {} : { maxExamplesPerUser: s.maxExamplesPerUser }),
    }),
  );
  return lines.join('\n');
}
