/**
 * DP-SGD: per-example clipping (flat, per layer, adaptive), Poisson sampling, Gaussian noise from the secure
 * sampler, accounting and privacy statements (Abadi et al. 2016), and built-in dense models whose per-example
 * gradient norms cost about as much as a plain SGD step (ghost clipping, Li et al. 2022).
 * @module
 */
export {
  type ParameterGroup,
  type BatchStats,
  type PerSampleGradients,
  type TrainableModel,
  type GhostClippingModel,
  hasGhostClipping,
} from './model.ts';
export {
  type Activation,
  type Precision,
  type ModelKind,
  type LogisticRegressionJSON,
  type SoftmaxRegressionJSON,
  type DenseLayerJSON,
  type MlpJSON,
  type ModelJSON,
  type Rows,
  type LogisticRegressionOptions,
  type SoftmaxRegressionOptions,
  type MlpOptions,
  DenseModel,
  MAX_MODEL_PARAMETERS,
  logisticRegression,
  softmaxRegression,
  mlp,
  modelFromJSON,
} from './network.ts';
export {
  type Clipping,
  type ClipOptions,
  type ClippedSum,
  clipFactor,
  assertClipNorm,
  perLayerClipNorms,
  totalClipNorm,
  gradientRows,
  clipPerSampleGradients,
  clipAndSum,
} from './clip.ts';
export { poissonSample, poissonSampleInto, randomPermutation, shuffledBatches } from './sampling.ts';
export {
  type DpSgdStepOptions,
  type DpSgdStepResult,
  type AdaptiveClippingOptions,
  type ResolvedAdaptiveClipping,
  type AdaptiveClipUpdateInput,
  dpSgdStep,
  gradientNoiseStd,
  addNoiseAndScale,
  adaptiveGradientNoiseMultiplier,
  resolveAdaptiveClipping,
  adaptiveClipUpdate,
} from './optimizer.ts';
export {
  type Sampling,
  type AccountantName,
  type EpochProgress,
  type TrainSgdOptions,
  type TrainDpSgdOptions,
  type TrainResult,
  MAX_TRAINING_STEPS,
  MAX_LEARNING_RATE,
  TRAIN_NOISE_MULTIPLIER_RANGE,
} from './train-types.ts';
export { trainSgd, trainDpSgd } from './train.ts';
export { ParallelNoise } from './parallel-noise.ts';
export { type Split, type Standardizer, trainTestSplit, take, fitStandardizer } from './data.ts';
