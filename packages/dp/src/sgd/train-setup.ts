/**
 * Setup and checks of the trainers: the options are validated and the data copied into flat typed arrays
 * ({@link prepare}), the sampling plan fixed ({@link plan}), user ids grouped ({@link indexUsers}) and, for
 * DP-SGD, the noise multiplier, clipping and accounting view resolved ({@link resolveDpSetup}) before any step.
 * Everything here runs once per run; nothing touches the data after it.
 * @module
 */
import {
  assertArrayLike,
  assertDelta,
  assertInRange,
  assertInteger,
  assertOptions,
  assertRng,
  assertFunction,
  describeValue,
  toMatrix,
} from '@ppml/core';
import { calibrateNoiseMultiplier } from '../accountant/calibrate.ts';
import { type AccountantKind, checkAccountantKind } from '../accountant/registry.ts';
import { type Clipping, assertClipNorm, gradientRows, perLayerClipNorms, totalClipNorm } from './clip.ts';
import { type TrainableModel, hasGhostClipping } from './model.ts';
import { type ResolvedAdaptiveClipping, gradientNoiseStd, resolveAdaptiveClipping } from './optimizer.ts';
import {
  MAX_LEARNING_RATE,
  MAX_TRAINING_STEPS,
  MAX_TRAINING_VALUES,
  type Sampling,
  TRAIN_NOISE_MULTIPLIER_RANGE,
  type TrainDpSgdOptions,
  type TrainSgdOptions,
} from './train-types.ts';

/** The sampling plan of a run. */
export interface Plan {
  /** The population sampled from: examples, or users in user-level training. */
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

/** The examples of each user, grouped (user-level training). */
export interface UserIndex {
  /** Number of distinct users. */
  count: number;
  /** Rows of user u: rows[start[u]] .. rows[start[u + 1] - 1]. */
  start: Uint32Array;
  rows: Uint32Array;
  /** Largest number of examples of one user. */
  maxRows: number;
}

/** The checked data of a run, copied into flat typed arrays. */
export interface Prepared {
  x: Float64Array;
  /** ‖x_i‖² per example (for the first layer's ghost norm). */
  xSq: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
  valX: Float64Array | null;
  valY: Float64Array | null;
  valN: number;
  /** Set for user-level training. */
  users: UserIndex | null;
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
    throw new RangeError(`model.parameterGroups cover ${offset} parameters but model.parameters has ${model.parameters.length}`);
  }
}

function checkLabels(name: string, y: ArrayLike<number>, classes: number): Float64Array {
  assertArrayLike(name, y);
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (typeof v !== 'number') throw new TypeError(`${name}[${i}] must be a number, got ${describeValue(v)}`);
    if (classes === 2 && v !== 0 && v !== 1)
      throw new RangeError(`${name}[${i}] must be 0 or 1 for a binary model, got ${describeValue(v)}`);
    if (classes > 2 && !(Number.isInteger(v) && v >= 0 && v < classes)) {
      throw new RangeError(`${name}[${i}] must be a class index in [0, ${classes - 1}], got ${describeValue(v)}`);
    }
    if (classes === 0 && !Number.isFinite(v)) throw new RangeError(`${name}[${i}] must be a finite number, got ${describeValue(v)}`);
    out[i] = v;
  }
  return out;
}

/** The option keys of `trainSgd`. */
export const SGD_KEYS: readonly string[] = [
  'model',
  'x',
  'y',
  'epochs',
  'steps',
  'sampleRate',
  'batchSize',
  'sampling',
  'learningRate',
  'rng',
  'onProgress',
  'validation',
];
/** The option keys of `trainDpSgd`. */
export const DP_SGD_KEYS: readonly string[] = [
  ...SGD_KEYS,
  'clipNorm',
  'clipping',
  'adaptiveClipping',
  'noiseMultiplier',
  'targetEpsilon',
  'delta',
  'accountant',
  'epsilonTolerance',
  'parallelNoise',
  'maxExamplesPerUser',
  'userIds',
];

/** Checks x before anything is allocated from its length: an array of at most MAX_TRAINING_VALUES / d rows. */
function checkRowsShape(name: string, x: unknown, d: number, minRows: number): void {
  assertArrayLike(name, x, minRows, Math.floor(MAX_TRAINING_VALUES / d));
}

/** Checks the options shared by both trainers and copies the data. */
export function prepare(options: TrainSgdOptions<TrainableModel>, keys: readonly string[]): Prepared {
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
      throw new RangeError(
        `validation.x and validation.y must have the same length, got ${v.rows} and ${describeValue(options.validation.y?.length)}`,
      );
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
  return { x: m.data, xSq, y, n: m.rows, d, valX, valY, valN, users: null };
}

/** The sampling plan over a population of n examples (or users). */
export function plan(options: TrainSgdOptions<TrainableModel>, n: number): Plan {
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

/** Fails before training when a custom model's gradient rule does not match its parameters. */
export function probeGradient(model: TrainableModel, data: Prepared): void {
  if (hasGhostClipping(model)) return;
  const g = model.perSampleGradients(data.x.slice(0, data.d), data.y.slice(0, 1), 1);
  const rows = gradientRows(g, model.parameters.length);
  if (rows.length !== 1) throw new RangeError(`model.perSampleGradients returned ${rows.length} gradients for 1 example`);
}

/** Groups rows by user id (strings or safe integers, one per row). */
export function indexUsers(userIds: unknown, n: number): UserIndex {
  assertArrayLike('userIds', userIds);
  const ids = userIds as ArrayLike<unknown>;
  if (ids.length !== n) throw new RangeError(`userIds must have one id per row of x (${n}), got ${ids.length}`);
  const ofId = new Map<string | number, number>();
  const userOf = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (!(typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)))) {
      throw new TypeError(`userIds[${i}] must be a string or a safe integer, got ${describeValue(id)}`);
    }
    let u = ofId.get(id);
    if (u === undefined) {
      u = ofId.size;
      ofId.set(id, u);
    }
    userOf[i] = u;
  }
  const count = ofId.size;
  const start = new Uint32Array(count + 1);
  for (let i = 0; i < n; i++) start[userOf[i] + 1]++;
  let maxRows = 0;
  for (let u = 0; u < count; u++) {
    maxRows = Math.max(maxRows, start[u + 1]);
    start[u + 1] += start[u];
  }
  const fill = start.slice(0, count);
  const rows = new Uint32Array(n);
  for (let i = 0; i < n; i++) rows[fill[userOf[i]]++] = i;
  return { count, start, rows, maxRows };
}

/** Everything DP-SGD fixes before the first step. */
export interface DpSetup {
  accountant: AccountantKind;
  clipping: Clipping;
  /** Flat clip norm, or the total ‖(C_1..C_L)‖ per layer (the starting value under adaptive clipping). */
  clipNorm: number;
  /** Per-layer bounds, or null for flat clipping. */
  clipNorms: Float64Array | null;
  /** σ: noise std / clip norm. */
  sigma: number;
  /** σ per unit of sensitivity as the accountant sees it (σ/2 for shuffled batches). */
  accountSigma: number;
  /** The multiplier of the gradient noise (raised from σ under adaptive clipping). */
  gradientSigma: number;
  /** Sampling rate the accountant sees (1 for shuffled batches). */
  accountQ: number;
  /** Number of compositions of the run (steps, or epochs for shuffled batches). */
  accountSteps: number;
  adaptive: ResolvedAdaptiveClipping | null;
  parallelNoise: boolean;
  /** The fixed noise std of the gradient sum (adaptive clipping recomputes it every step). */
  noiseStd: number;
  userLevel: boolean;
}

/** Resolves and checks the DP options (calibrating σ for a target ε) before any step. */
export function resolveDpSetup(options: TrainDpSgdOptions<TrainableModel>, p: Plan, userLevel: boolean): DpSetup {
  const model = options.model;
  assertDelta(options.delta);
  const accountant = options.accountant ?? 'rdp';
  checkAccountantKind(accountant);
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
  if (userLevel) {
    if (p.sampling !== 'poisson') throw new RangeError("user-level training (userIds) needs sampling 'poisson'");
    if (clipping !== 'flat') throw new RangeError("user-level training (userIds) clips each user's update as a whole: use clipping 'flat'");
    if (options.maxExamplesPerUser !== undefined) {
      throw new TypeError('give userIds (user-level training) or maxExamplesPerUser (group privacy), not both');
    }
  }
  // Accounting view of the run: Poisson (q, steps, add-or-remove-one) or, for shuffled batches, one Gaussian
  // mechanism per epoch with sensitivity 2C under replace-one, i.e. multiplier σ/2 at q = 1 (train.ts note).
  const accountQ = p.sampling === 'poisson' ? p.q : 1;
  const sensitivityFactor = p.sampling === 'poisson' ? 1 : 2;
  const accountSteps = p.sampling === 'poisson' ? p.totalSteps : p.epochs;
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
        steps: accountSteps,
        accountant,
        ...(options.epsilonTolerance === undefined ? {} : { epsilonTolerance: options.epsilonTolerance }),
      });
  } else {
    const [lo, hi] = TRAIN_NOISE_MULTIPLIER_RANGE;
    assertInRange('noiseMultiplier', options.noiseMultiplier, lo, hi);
    sigma = options.noiseMultiplier as number;
  }
  let adaptive: ResolvedAdaptiveClipping | null = null;
  if (options.adaptiveClipping !== undefined && options.adaptiveClipping !== false) {
    if (clipping !== 'flat') throw new RangeError("adaptiveClipping works with clipping 'flat' only");
    if (userLevel) throw new RangeError('adaptiveClipping is not available with user-level training (userIds)');
    adaptive = resolveAdaptiveClipping(options.adaptiveClipping === true ? {} : options.adaptiveClipping, sigma, p.expectedBatchSize);
  }
  const gradientSigma = adaptive === null ? sigma : adaptive.gradientNoiseMultiplier;
  if (options.maxExamplesPerUser !== undefined) assertInteger('maxExamplesPerUser', options.maxExamplesPerUser, 1);
  const parallel = options.parallelNoise ?? false;
  if (typeof parallel !== 'boolean') throw new TypeError(`parallelNoise must be a boolean, got ${describeValue(parallel)}`);
  if (parallel && options.rng !== undefined) {
    throw new TypeError("parallelNoise draws from the worker thread's own CSPRNG: it cannot be combined with a custom rng");
  }
  if (parallel && adaptive !== null)
    throw new TypeError('parallelNoise needs a fixed noise std: it cannot be combined with adaptiveClipping');
  return {
    accountant,
    clipping,
    clipNorm,
    clipNorms,
    sigma,
    accountSigma: sigma / sensitivityFactor,
    gradientSigma,
    accountQ,
    accountSteps,
    adaptive,
    parallelNoise: parallel,
    noiseStd: gradientNoiseStd(gradientSigma, clipNorm, model.parameters.length),
    userLevel,
  };
}
