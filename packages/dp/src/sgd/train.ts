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
 * With `userIds` the unit of privacy is a user: users are Poisson-sampled and each sampled user's aggregated
 * update is clipped as a whole (DP-FedAvg, McMahan, Ramage, Talwar, Zhang 2018), so the accountant is told the
 * user sampling rate and the guarantee is for adding or removing one user with all of their examples.
 *
 * This file is the wiring: setup and checks (`train-setup.ts`), the loop (`train-loop.ts`), the DP step
 * (`dp-step.ts`), one accountant from the registry that composes the run's per-step event, and the statement
 * (`train-statement.ts`). Models with ghost-clipping kernels (the built-in ones) never materialise per-example
 * gradients; any other {@link TrainableModel} goes through its `perSampleGradients`.
 * @module
 */
import { cryptoRng } from '@ppml/core';
import { type DpEvent, gaussianEvent, poissonSampledEvent, selfComposedEvent } from '../accountant/events.ts';
import type { RdpAccountant } from '../accountant/rdp-accountant.ts';
import { type Accountant, createAccountant } from '../accountant/registry.ts';
import { gradientRows } from './clip.ts';
import { makeDpStep } from './dp-step.ts';
import { type TrainableModel, ghostKernels } from './model.ts';
import { ParallelNoise } from './parallel-noise.ts';
import { type Loop, runLoop, statsOf } from './train-loop.ts';
import { DP_SGD_KEYS, SGD_KEYS, indexUsers, plan, prepare, probeGradient, resolveDpSetup } from './train-setup.ts';
import { dpSgdStatement } from './train-statement.ts';
import type { EpochProgress, TrainDpSgdOptions, TrainResult, TrainSgdOptions } from './train-types.ts';

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
  const ghost = ghostKernels(model);
  const loop: Loop = {
    prepared,
    plan: p,
    model,
    rng: options.rng ?? cryptoRng,
    step(b, grad) {
      const { x: xb, y: yb, rows } = b;
      grad.fill(0);
      if (rows === 0) return { lossSum: 0, correct: 0 };
      let stats: { lossSum: number; correct: number };
      if (ghost !== null) {
        stats = ghost.forwardBackward(xb, yb, rows);
        ghost.accumulateGradient(null, false, grad);
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
    privacyUnit: 'none',
    accountant: 'none',
    clipNorm: 0,
    event: null,
  };
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
  const users = options.userIds === undefined ? null : indexUsers(options.userIds, prepared.n);
  prepared.users = users;
  const p = plan(options, users === null ? prepared.n : users.count);
  const model = options.model;
  const rng = options.rng ?? cryptoRng;
  const setup = resolveDpSetup(options, p, users !== null);
  probeGradient(model, prepared);

  // One accountant for the run. Each step is the same event (the Poisson-sampled Gaussian, or for shuffled
  // batches one Gaussian per epoch), so steps are composed in bulk when epsilon is read rather than one call
  // per step: the composition is the same, and reading epsilon is what costs.
  const warnings = new Set<string>();
  const accountant = createAccountant(setup.accountant, { onWarning: (m) => warnings.add(m) });
  const stepEvent: DpEvent =
    p.sampling === 'poisson' ? poissonSampledEvent(setup.accountQ, gaussianEvent(setup.accountSigma)) : gaussianEvent(setup.accountSigma);
  let composed = 0;
  const composeUpTo = (count: number): Accountant => {
    if (count > composed) accountant.compose(stepEvent, count - composed);
    composed = count;
    return accountant;
  };
  const compositions = (steps: number, epochsStarted: number): number => (p.sampling === 'poisson' ? steps : epochsStarted);

  const noiseSource = setup.parallelNoise ? new ParallelNoise(model.parameters.length, setup.noiseStd) : null;
  const dpStep = makeDpStep(model, setup, p, rng, noiseSource);
  const loop: Loop = {
    prepared,
    plan: p,
    model,
    rng,
    step: dpStep.step,
    // ε after the given steps of this run, by a copy of the run's accountant (progress reports may be read late).
    epsilonAfter: (steps, epochsStarted) => {
      const count = compositions(steps, epochsStarted);
      if (count >= composed) return composeUpTo(count).getEpsilon(options.delta);
      return createAccountant(setup.accountant, { onWarning: (m) => warnings.add(m) })
        .compose(stepEvent, count)
        .getEpsilon(options.delta);
    },
    clipNorm: dpStep.clipNorm,
  };
  let history: EpochProgress[];
  try {
    history = runLoop(loop, options);
  } finally {
    noiseSource?.close();
  }
  const steps = history.length > 0 ? history[history.length - 1].steps : 0;
  const total = composeUpTo(compositions(steps, history.length));
  let epsilon = 0;
  let boundary: { order: number; low: boolean } | null = null;
  if (composed > 0) {
    if (total.kind === 'rdp') {
      const r = (total as RdpAccountant).getEpsilonAndOrder(options.delta);
      epsilon = r.epsilon;
      const orders = (total as RdpAccountant).orders;
      boundary = r.orderAtBoundary ? { order: r.order, low: r.order === orders[0] } : null;
    } else epsilon = total.getEpsilon(options.delta);
  }
  const event: DpEvent = selfComposedEvent(stepEvent, Math.max(1, composed));
  const statement = dpSgdStatement({
    plan: p,
    sigma: setup.sigma,
    accountSigma: setup.accountSigma,
    gradientSigma: setup.gradientSigma,
    delta: options.delta,
    accountant: setup.accountant,
    accountantDescription: total.describe(),
    epsilon,
    clipping: setup.clipping,
    startClipNorm: setup.clipNorm,
    adaptive: setup.adaptive,
    accountQ: setup.accountQ,
    accountSteps: composed,
    targetEpsilon: options.targetEpsilon,
    boundary,
    warnings: [...warnings],
    maxExamplesPerUser: options.maxExamplesPerUser,
    users: users === null ? null : { count: users.count, maxRows: users.maxRows },
  });
  return {
    model,
    private: true,
    epsilon,
    delta: options.delta,
    noiseMultiplier: setup.sigma,
    history,
    statement,
    steps: p.totalSteps,
    epochs: p.epochs,
    sampleRate: setup.accountQ,
    sampling: p.sampling,
    neighboringRelation: p.sampling === 'poisson' ? 'add-or-remove-one' : 'replace-one',
    privacyUnit: users === null ? 'example' : 'user',
    accountant: setup.accountant,
    clipNorm: dpStep.clipNorm(),
    event,
  };
}
