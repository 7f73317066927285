/**
 * The DP-SGD step of {@link trainDpSgd}: per-example clipping (ghost norms for the built-in models, the model's
 * per-example gradients otherwise) or, in user-level training, clipping of each sampled user's aggregated update
 * (DP-FedAvg, McMahan, Ramage, Talwar, Zhang 2018, Algorithm 1 with one local full-batch gradient step per user:
 * the user's update is the mean gradient over their examples); then the clipped sum is rounded to the noise grid,
 * secure Gaussian noise is added, and the result is divided by the expected batch size (examples or users),
 * as in `optimizer.ts`. Adaptive clipping moves C after each step (Andrew et al. 2021).
 * @module
 */
import type { Rng } from '@ppml/core';
import { clipAndSum, clipFactorsFromSquaredNorms, gradientRows } from './clip.ts';
import { type GhostClippingModel, type TrainableModel, hasGhostClipping } from './model.ts';
import { adaptiveClipUpdate, addNoiseAndScale, gradientNoiseStd } from './optimizer.ts';
import type { ParallelNoise } from './parallel-noise.ts';
import { type Batch, statsOf } from './train-loop.ts';
import type { DpSetup, Plan } from './train-setup.ts';

/** A DP step with its mutable state (the clip norm under adaptive clipping). */
export interface DpStep {
  step(batch: Batch, grad: Float64Array): { lossSum: number; correct: number };
  clipNorm(): number;
}

/** Builds the DP step of a run; `noiseSource`, when given, supplies pre-drawn noise (parallelNoise). */
export function makeDpStep(model: TrainableModel, setup: DpSetup, p: Plan, rng: Rng, noiseSource: ParallelNoise | null): DpStep {
  const P = model.parameters.length;
  const G = model.parameterGroups.length;
  const noise = new Float64Array(P);
  const userGrad = setup.userLevel ? new Float64Array(P) : null;
  const groupSizes = setup.clipNorms === null ? undefined : model.parameterGroups.map((g) => g.length);
  const perGroup = setup.clipNorms !== null;
  let clipNorm = setup.clipNorm;
  let sq = new Float64Array(64 * G);
  let factors = new Float64Array(64 * G);
  const ghost = hasGhostClipping(model) ? model : null;

  /** Clipped sum of per-example gradients into grad (zeroed by the caller); returns stats and unclipped count. */
  const clipExamples = (b: Batch, grad: Float64Array): { lossSum: number; correct: number; unclipped: number } => {
    const rows = b.rows;
    if (ghost !== null) {
      const stats = ghost.forwardBackward(b.x, b.y, rows, b.xSq);
      if (sq.length < rows * G) {
        sq = new Float64Array(Math.ceil(rows * 1.5) * G);
        factors = new Float64Array(sq.length);
      }
      ghost.perSampleSquaredNorms(sq);
      const clipped = clipFactorsFromSquaredNorms(sq, rows, G, setup.clipNorms, clipNorm, factors);
      ghost.accumulateGradient(factors, perGroup, grad);
      return { lossSum: stats.lossSum, correct: stats.correct, unclipped: rows - clipped };
    }
    const g = model.perSampleGradients(b.x, b.y, rows);
    const clipOptions =
      groupSizes === undefined
        ? { clipNorm, parameterCount: P }
        : { clipNorm: Array.from(setup.clipNorms as Float64Array), layers: groupSizes, parameterCount: P };
    const r = clipAndSum(g, clipOptions, grad);
    if (r.rows !== rows) throw new RangeError(`model.perSampleGradients returned ${r.rows} gradients for ${rows} examples`);
    const stats = statsOf(model, b.x, b.y, rows);
    return { lossSum: stats.lossSum, correct: stats.correct, unclipped: rows - r.clipped };
  };

  /** Adds each sampled user's clipped mean gradient to grad (zeroed by the caller). */
  const clipUsers = (b: Batch, grad: Float64Array): { lossSum: number; correct: number } => {
    const ug = userGrad as Float64Array;
    let lossSum = 0;
    let correct = 0;
    for (let k = 0; k < b.users; k++) {
      const from = b.userStart[k];
      const rows = b.userStart[k + 1] - from;
      const x = b.x.subarray(from * model.features, (from + rows) * model.features);
      const y = b.y.subarray(from, from + rows);
      ug.fill(0);
      if (ghost !== null) {
        const stats = (ghost as GhostClippingModel).forwardBackward(x, y, rows, b.xSq.subarray(from, from + rows));
        ghost.accumulateGradient(null, false, ug);
        lossSum += stats.lossSum;
        correct += stats.correct;
      } else {
        for (const row of gradientRows(model.perSampleGradients(x, y, rows), P)) for (let j = 0; j < P; j++) ug[j] += row[j];
        const stats = statsOf(model, x, y, rows);
        lossSum += stats.lossSum;
        correct += stats.correct;
      }
      // the user's update: the mean gradient, clipped to C as a whole (its L2 norm then bounds the user's effect)
      let s = 0;
      for (let j = 0; j < P; j++) s += ug[j] * ug[j];
      const norm = Math.sqrt(s) / rows;
      const f = (norm > clipNorm ? clipNorm / norm : 1) / rows;
      for (let j = 0; j < P; j++) grad[j] += f * ug[j];
    }
    return { lossSum, correct };
  };

  return {
    step(b, grad) {
      grad.fill(0);
      let stats = { lossSum: 0, correct: 0 };
      let unclipped = 0;
      if (setup.userLevel) stats = clipUsers(b, grad);
      else if (b.rows > 0) {
        const r = clipExamples(b, grad);
        stats = r;
        unclipped = r.unclipped;
      }
      // Noise is added even to an empty batch; the divisor is the expected batch size (see optimizer.ts).
      const std = setup.adaptive === null ? setup.noiseStd : gradientNoiseStd(setup.gradientSigma, clipNorm, P);
      if (noiseSource !== null) noiseSource.next(noise);
      addNoiseAndScale(grad, std, p.expectedBatchSize, noise, rng, noiseSource !== null);
      if (setup.adaptive !== null) {
        clipNorm = adaptiveClipUpdate({
          clipNorm,
          unclipped,
          batchSize: b.rows,
          expectedBatchSize: p.expectedBatchSize,
          settings: setup.adaptive,
          rng,
        });
      }
      return stats;
    },
    clipNorm: () => clipNorm,
  };
}
