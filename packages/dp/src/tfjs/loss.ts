/**
 * Internal: per-example losses of the TensorFlow.js adapter. When the model ends in a Dense or convolution layer
 * whose activation is the one the loss expects (sigmoid for binary cross-entropy, softmax for sparse categorical
 * cross-entropy), the loss is computed from the logits (log-sum-exp form): the same function, without the
 * saturation of log(p) in float32.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * The losses `fromTfjs` accepts.
 * @example
 * ```ts
 * const loss: TfjsLoss = 'sparseCategoricalCrossentropy';
 * ```
 */
export type TfjsLoss = 'binaryCrossentropy' | 'sparseCategoricalCrossentropy' | 'meanSquaredError';

/**
 * The loss names, for checks and messages.
 * @example
 * ```ts
 * TFJS_LOSSES.includes('meanSquaredError'); // true
 * ```
 */
export const TFJS_LOSSES: readonly TfjsLoss[] = ['binaryCrossentropy', 'sparseCategoricalCrossentropy', 'meanSquaredError'];

/** Probabilities are clipped to [ε, 1 − ε] as Keras does when a loss is computed from probabilities. */
const EPSILON = 1e-7;

/**
 * Per-example losses [B] and the 0/1 correctness [B] (classification) of the model output `out` ([B, K]) for
 * labels `y` ([B] float32); `logits` is the pre-activation of `out` when the last activation matches the loss.
 */
export function perExampleLoss(
  loss: TfjsLoss,
  out: tf.Tensor,
  logits: tf.Tensor | null,
  y: tf.Tensor,
): { losses: tf.Tensor; correct: tf.Tensor | null } {
  const B = out.shape[0];
  if (loss === 'meanSquaredError') {
    return { losses: tf.square(tf.sub(tf.reshape(out, [B]), y)), correct: null };
  }
  if (loss === 'binaryCrossentropy') {
    const yb = tf.reshape(y, [B]);
    if (logits !== null) {
      const z = tf.reshape(logits, [B]);
      // max(z, 0) − z·y + log(1 + e^−|z|)
      const losses = tf.add(tf.sub(tf.relu(z), tf.mul(z, yb)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
      return { losses, correct: tf.cast(tf.equal(tf.cast(tf.greater(z, 0), 'float32'), yb), 'float32') };
    }
    const p = tf.clipByValue(tf.reshape(out, [B]), EPSILON, 1 - EPSILON);
    const losses = tf.neg(tf.add(tf.mul(yb, tf.log(p)), tf.mul(tf.sub(1, yb), tf.log(tf.sub(1, p)))));
    return { losses, correct: tf.cast(tf.equal(tf.cast(tf.greater(p, 0.5), 'float32'), yb), 'float32') };
  }
  const K = out.shape[out.shape.length - 1];
  const labels = tf.cast(tf.reshape(y, [B]), 'int32');
  const hot = tf.oneHot(labels as tf.Tensor1D, K);
  const logp =
    logits !== null ? tf.logSoftmax(tf.reshape(logits, [B, K])) : tf.log(tf.clipByValue(tf.reshape(out, [B, K]), EPSILON, 1 - EPSILON));
  const losses = tf.neg(tf.sum(tf.mul(hot, logp), 1));
  const correct = tf.cast(tf.equal(tf.argMax(tf.reshape(out, [B, K]), 1), labels), 'float32');
  return { losses, correct };
}
