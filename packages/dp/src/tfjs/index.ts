/**
 * `@ppml/dp/tfjs`: DP-SGD for TensorFlow.js models. {@link fromTfjs} turns a `tf.LayersModel` into a model that
 * `trainDpSgd` and `trainSgd` accept, with Opacus-style per-example gradients (one forward and one backward pass,
 * ghost norms, one weighted matrix product for the clipped sum). TensorFlow.js (`@tensorflow/tfjs-core`,
 * `@tensorflow/tfjs-layers` and a backend such as `@tensorflow/tfjs-backend-wasm`) is a peer dependency of this
 * subpath only; the root entry of `@ppml/dp` does not load it.
 * @module
 */
export { type FromTfjsOptions, type TfjsTrainableModel, fromTfjs } from './from-tfjs.ts';
export { type TfjsLoss, TFJS_LOSSES } from './loss.ts';
export { WEIGHTED_LAYERS, PARAMETER_FREE_LAYERS, IDENTITY_LAYERS } from './rules.ts';
