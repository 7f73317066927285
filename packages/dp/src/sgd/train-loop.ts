/**
 * The training loop shared by {@link trainSgd} and {@link trainDpSgd}: each step samples a batch (Poisson over
 * examples, Poisson over users, or a shuffled slice), gathers its rows, lets the trainer's step compute the
 * gradient estimate, and applies it; after each epoch it reports progress. The privacy-relevant work (clipping,
 * noise, accounting) lives in the step and the accountant, not here.
 * @module
 */
import type { Rng } from '@ppml/core';
import type { TrainableModel } from './model.ts';
import { poissonSampleInto, shuffledBatches } from './sampling.ts';
import type { Plan, Prepared, UserIndex } from './train-setup.ts';
import type { EpochProgress, TrainSgdOptions } from './train-types.ts';

/** A sampled batch as the step sees it: rows gathered in order; for user-level training, each user's rows are contiguous. */
export interface Batch {
  x: Float64Array;
  y: Float64Array;
  /** ‖x_i‖² per row. */
  xSq: Float64Array;
  rows: number;
  /** User-level training: user k of the batch owns rows userStart[k] .. userStart[k + 1] - 1. */
  userStart: Uint32Array;
  users: number;
}

/** Per-step state shared by the private and non-private loops. */
export interface Loop {
  prepared: Prepared;
  plan: Plan;
  model: TrainableModel;
  rng: Rng;
  /** Computes the gradient estimate of a batch into `grad`; returns loss/correct sums. */
  step(batch: Batch, grad: Float64Array): { lossSum: number; correct: number };
  /** ε after `steps` steps / `epochsStarted` epochs (called only when a progress report's ε is read). */
  epsilonAfter(steps: number, epochsStarted: number): number;
  clipNorm(): number;
}

/** The loop: sample, gather, step, update, report; the same for the private and non-private trainers. */
export function runLoop(loop: Loop, options: TrainSgdOptions<TrainableModel>): EpochProgress[] {
  const { prepared: data, plan: p, model, rng } = loop;
  const { d } = data;
  const users = data.users;
  const P = model.parameters.length;
  const grad = new Float64Array(P);
  const indices = new Uint32Array(p.n);
  const firstCap = Math.max(1, Math.ceil(p.expectedBatchSize * 2) * (users === null ? 1 : users.maxRows));
  const batch: Batch = {
    x: new Float64Array(firstCap * d),
    y: new Float64Array(firstCap),
    xSq: new Float64Array(firstCap),
    rows: 0,
    userStart: new Uint32Array(users === null ? 1 : p.n + 1),
    users: 0,
  };
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
      if (batches !== null) gather(data, batch, batches[s], batches[s].length);
      else if (users === null) gather(data, batch, indices, poissonSampleInto(indices, data.n, p.q, rng));
      else gatherUsers(data, users, batch, indices, poissonSampleInto(indices, users.count, p.q, rng));
      const rows = batch.rows;
      const stats = loop.step(batch, grad);
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
    model.syncParameters?.();
    const stepsNow = step;
    let epsilon: number | undefined;
    const progress = {
      epoch,
      epochs: p.epochs,
      steps: step,
      // An epoch of empty batches saw nothing: it has no loss (null), not a NaN one.
      loss: seen > 0 ? lossSum / seen : null,
      examples: seen,
      get epsilon(): number {
        epsilon ??= loop.epsilonAfter(stepsNow, epoch);
        return epsilon;
      },
      clipNorm: loop.clipNorm(),
      meanBatchSize: stepsThisEpoch > 0 ? seen / stepsThisEpoch : 0,
    } as EpochProgress;
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

function ensureCapacity(batch: Batch, rows: number, d: number): void {
  if (rows * d <= batch.x.length) return;
  const cap = Math.ceil(rows * 1.5);
  batch.x = new Float64Array(cap * d);
  batch.y = new Float64Array(cap);
  batch.xSq = new Float64Array(cap);
}

function copyRow(data: Prepared, batch: Batch, k: number, i: number): void {
  const d = data.d;
  const from = k * d;
  const to = i * d;
  const src = data.x;
  const x = batch.x;
  for (let j = 0; j < d; j++) x[to + j] = src[from + j];
  batch.y[i] = data.y[k];
  batch.xSq[i] = data.xSq[k];
}

/** Copies the rows idx[0..rows-1] into the batch. */
function gather(data: Prepared, batch: Batch, idx: Uint32Array, rows: number): void {
  ensureCapacity(batch, rows, data.d);
  for (let i = 0; i < rows; i++) copyRow(data, batch, idx[i], i);
  batch.rows = rows;
  batch.users = 0;
}

/** Copies every row of the sampled users (userIdx[0..count-1]) into the batch, user by user. */
function gatherUsers(data: Prepared, users: UserIndex, batch: Batch, userIdx: Uint32Array, count: number): void {
  let rows = 0;
  for (let k = 0; k < count; k++) rows += users.start[userIdx[k] + 1] - users.start[userIdx[k]];
  ensureCapacity(batch, rows, data.d);
  let i = 0;
  for (let k = 0; k < count; k++) {
    const u = userIdx[k];
    batch.userStart[k] = i;
    for (let r = users.start[u]; r < users.start[u + 1]; r++) copyRow(data, batch, users.rows[r], i++);
  }
  batch.userStart[count] = i;
  batch.rows = rows;
  batch.users = count;
}

/** Loss and correct count of a batch for a model without ghost kernels (through `evaluate`, if any). */
export function statsOf(model: TrainableModel, xb: Float64Array, yb: Float64Array, rows: number): { lossSum: number; correct: number } {
  if (rows === 0) return { lossSum: 0, correct: 0 };
  if (typeof model.evaluate === 'function') return model.evaluate(xb, yb, rows);
  return { lossSum: Number.NaN, correct: 0 };
}
