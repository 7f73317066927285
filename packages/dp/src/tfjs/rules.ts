/**
 * Internal: the per-example gradient rules of the TensorFlow.js adapter, one per supported layer with weights.
 * Each rule splits its layer into an affine part z = f(a; W) and what follows (the activation), keeps a
 * representation `act` of the layer input a, and, given the gradient g = ∂L/∂z of the summed loss at z (one
 * backward pass for the whole batch), computes without any further pass over the model:
 * - the per-example squared gradient norms ("ghost norms": Goodfellow 2015, arXiv 1510.01799; Lee & Kifer 2021;
 *   Li et al. 2022): for a dense layer on one vector per example ‖∇W_i‖² = ‖a_i‖²·‖g_i‖²; for a sequence (T positions, and a
 *   convolution unfolded into its patches) ‖∇W_i‖² = ⟨A_iA_iᵀ, G_iG_iᵀ⟩ (the Gram form), or the per-example
 *   gradient A_iᵀG_i itself when that is smaller ("mixed ghost clipping", Bu, Mao, Xu, NeurIPS 2022);
 * - the clipped sum Σ_i w_i ∇W_i as one matrix product (Aᵀ·diag(w)·G over the batch);
 * - per-example gradients, for callers that ask for them.
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';

/** A layer of a TensorFlow.js model. */
export type TfLayer = LayersModel['layers'][number];

/** What a rule keeps from the forward pass. */
export interface Captured {
  /** Inputs in the form the rule needs ([B, T, D] activations, [B, T] indices, [B, T, d] normalised inputs). */
  act: tf.Tensor;
  /** Output shape of the affine part (the gradient g arrives in this shape). */
  zShape: number[];
}

/** A per-example gradient rule for one layer with weights. */
export interface Rule {
  readonly layer: TfLayer;
  /** Trainable weights in the order of the flat parameter vector. */
  readonly weights: readonly LayerVariable[];
  /** The affine part: returns z and what to keep. */
  affine(input: tf.Tensor): { z: tf.Tensor; captured: Captured };
  /** What follows the affine part (the layer's activation; identity for Embedding and LayerNormalization). */
  after(z: tf.Tensor): tf.Tensor;
  /** The layer's activation name when it is `sigmoid` or `softmax` (for a loss computed from logits). */
  readonly activationName: string;
  /** ‖∇_layer L_i‖² for each example, shape [B]. */
  squaredNorms(c: Captured, g: tf.Tensor): tf.Tensor;
  /** Σ_i w_i ∇W_i for each weight, in `weights` order (w has shape [B]). */
  weightedSum(c: Captured, g: tf.Tensor, w: tf.Tensor): tf.Tensor[];
  /** Per-example gradients [B, parameters of the layer], weights concatenated in order. */
  perExample(c: Captured, g: tf.Tensor): tf.Tensor;
  /** Releases tensors the rule owns. */
  dispose(): void;
}

type Config = Record<string, unknown>;

function activationOf(layer: TfLayer): { apply(x: tf.Tensor): tf.Tensor } {
  const a = (layer as unknown as { activation?: { apply?: unknown } }).activation;
  if (a === undefined || a === null || typeof a.apply !== 'function') {
    throw new TypeError(`fromTfjs: layer "${layer.name}" (${layer.getClassName()}) has no readable activation`);
  }
  return a as { apply(x: tf.Tensor): tf.Tensor };
}

function refuseExtras(layer: TfLayer, config: Config): void {
  for (const key of [
    'kernelRegularizer',
    'biasRegularizer',
    'activityRegularizer',
    'embeddingsRegularizer',
    'gammaRegularizer',
    'betaRegularizer',
  ]) {
    if (config[key] !== null && config[key] !== undefined) {
      throw new TypeError(
        `fromTfjs: layer "${layer.name}" (${layer.getClassName()}) has a ${key}; DP-SGD here trains the loss only (remove the regularizer or add it to the loss)`,
      );
    }
  }
  for (const key of ['kernelConstraint', 'biasConstraint', 'embeddingsConstraint', 'gammaConstraint', 'betaConstraint']) {
    if (config[key] !== null && config[key] !== undefined) {
      throw new TypeError(`fromTfjs: layer "${layer.name}" (${layer.getClassName()}) has a ${key}, which DP-SGD would bypass; remove it`);
    }
  }
}

function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/**
 * The shared kernel of Dense and the convolutions: z = A·W + b per position, with A [B, T, D] and W [D, P].
 * T = 1 for a dense layer on one vector per example.
 */
function matmulRule(
  layer: TfLayer,
  kernel: LayerVariable,
  bias: LayerVariable | null,
  trainable: boolean,
  toRows: (input: tf.Tensor) => { act: tf.Tensor; outShape: number[] },
  extraDispose: () => void,
): Rule {
  const D = kernel.shape[0] === null ? 0 : sizeOf(kernel.shape.slice(0, -1) as number[]);
  const P = kernel.shape[kernel.shape.length - 1] as number;
  const activation = activationOf(layer);
  const activationName = String((layer.getConfig() as Config).activation ?? 'linear');
  return {
    layer,
    weights: trainable ? (bias === null ? [kernel] : [kernel, bias]) : [],
    activationName,
    affine(input) {
      const { act, outShape } = toRows(input);
      const [B, T] = act.shape;
      let z2 = tf.matMul(tf.reshape(act, [B * T, D]), tf.reshape(kernel.read(), [D, P]));
      if (bias !== null) z2 = tf.add(z2, bias.read());
      const z = tf.reshape(z2, outShape);
      return { z, captured: { act, zShape: outShape } };
    },
    after: (z) => activation.apply(z),
    squaredNorms(c, g) {
      const [B, T] = c.act.shape;
      const G = tf.reshape(g, [B, T, P]);
      let kernelSq: tf.Tensor;
      if (T === 1) {
        // ‖a_i ⊗ g_i‖² = ‖a_i‖²·‖g_i‖²: O(B·(D + P)).
        kernelSq = tf.mul(tf.sum(tf.square(c.act), [1, 2]), tf.sum(tf.square(G), [1, 2]));
      } else if (T * (D + P) < D * P) {
        // Gram form ⟨AAᵀ, GGᵀ⟩: O(B·T²·(D + P)), cheaper than the per-example gradient when T is short.
        const aa = tf.matMul(c.act, c.act, false, true);
        const gg = tf.matMul(G, G, false, true);
        kernelSq = tf.sum(tf.mul(aa, gg), [1, 2]);
      } else {
        kernelSq = tf.sum(tf.square(tf.matMul(c.act, G, true, false)), [1, 2]);
      }
      if (bias === null) return kernelSq;
      return tf.add(kernelSq, tf.sum(tf.square(tf.sum(G, 1)), 1));
    },
    weightedSum(c, g, w) {
      const [B, T] = c.act.shape;
      const Gw = tf.mul(tf.reshape(g, [B, T, P]), tf.reshape(w, [B, 1, 1]));
      const G2 = tf.reshape(Gw, [B * T, P]);
      const k = tf.reshape(tf.matMul(tf.reshape(c.act, [B * T, D]), G2, true, false), kernel.shape as number[]);
      return bias === null ? [k] : [k, tf.sum(G2, 0)];
    },
    perExample(c, g) {
      const [B, T] = c.act.shape;
      const G = tf.reshape(g, [B, T, P]);
      const k = tf.reshape(tf.matMul(c.act, G, true, false), [B, D * P]);
      return bias === null ? k : tf.concat([k, tf.sum(G, 1)], 1);
    },
    dispose: extraDispose,
  };
}

function trainableOf(layer: TfLayer): boolean {
  return layer.trainable && layer.trainableWeights.length > 0;
}

function denseRule(layer: TfLayer): Rule {
  const config = layer.getConfig() as Config;
  refuseExtras(layer, config);
  const [kernel, bias] = layer.weights;
  const useBias = config.useBias !== false;
  return matmulRule(
    layer,
    kernel,
    useBias ? bias : null,
    trainableOf(layer),
    (input) => {
      const shape = input.shape;
      const B = shape[0];
      const D = shape[shape.length - 1];
      const T = sizeOf(shape.slice(1, -1));
      return { act: tf.reshape(input, [B, T, D]), outShape: [...shape.slice(0, -1), kernel.shape[1] as number] };
    },
    () => {},
  );
}

function positiveInts(value: unknown, n: number, name: string, layer: TfLayer): number[] {
  const list = Array.isArray(value) ? (value as number[]) : new Array<number>(n).fill(value as number);
  if (list.length !== n || !list.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new TypeError(`fromTfjs: layer "${layer.name}" has an unsupported ${name} ${JSON.stringify(value)}`);
  }
  return list;
}

/**
 * Conv1D / Conv2D (channels last): the input is unfolded into its patches by a convolution with an identity
 * kernel (each output channel copies one input value of the window, so the patches are exact), after which the
 * layer is the matrix product of the patches [B, T, k·c_in] with the kernel reshaped to [k·c_in, c_out], whose
 * row order is the kernel's own [kh, kw, c_in] order.
 */
function convRule(layer: TfLayer, rank: 1 | 2): Rule {
  const config = layer.getConfig() as Config;
  refuseExtras(layer, config);
  if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') {
    throw new TypeError(
      `fromTfjs: layer "${layer.name}" (${layer.getClassName()}) uses dataFormat ${String(config.dataFormat)}; only channelsLast is supported`,
    );
  }
  const padding = config.padding;
  if (padding !== 'valid' && padding !== 'same') {
    throw new TypeError(
      `fromTfjs: layer "${layer.name}" (${layer.getClassName()}) uses padding ${String(padding)}; only valid and same are supported`,
    );
  }
  const kernelSize = positiveInts(config.kernelSize, rank, 'kernelSize', layer);
  const strides = positiveInts(config.strides, rank, 'strides', layer);
  const dilation = positiveInts(config.dilationRate ?? 1, rank, 'dilationRate', layer);
  if (dilation.some((d) => d !== 1)) {
    // tfjs has no gradient for dilated convolutions (Conv2D_grad asserts dilation 1), so it cannot train them either.
    throw new TypeError(
      `fromTfjs: layer "${layer.name}" (${layer.getClassName()}) uses dilationRate ${JSON.stringify(config.dilationRate)}; only 1 is supported`,
    );
  }
  const [kernel, bias] = layer.weights;
  const useBias = config.useBias !== false;
  const cin = kernel.shape[kernel.shape.length - 2] as number;
  const D = sizeOf(kernelSize) * cin;
  const P = kernel.shape[kernel.shape.length - 1] as number;
  const eyeValues = new Float32Array(D * D);
  for (let d = 0; d < D; d++) eyeValues[d * D + d] = 1;
  const eye = tf.tensor(eyeValues, rank === 1 ? [kernelSize[0], cin, D] : [kernelSize[0], kernelSize[1], cin, D]);
  return matmulRule(
    layer,
    kernel,
    useBias ? bias : null,
    trainableOf(layer),
    (input) => {
      const B = input.shape[0];
      const patches =
        rank === 1
          ? tf.conv1d(input as tf.Tensor3D, eye as tf.Tensor3D, strides[0], padding, 'NWC', dilation[0])
          : tf.conv2d(input as tf.Tensor4D, eye as tf.Tensor4D, [strides[0], strides[1]], padding, 'NHWC', [dilation[0], dilation[1]]);
      const spatial = patches.shape.slice(1, -1);
      return { act: tf.reshape(patches, [B, sizeOf(spatial), D]), outShape: [B, ...spatial, P] };
    },
    () => eye.dispose(),
  );
}

/**
 * Embedding: z = E[idx]. Example i's gradient is Σ_t e_{idx_t} g_tᵀ, whose squared norm is
 * Σ_{t,s} [idx_t = idx_s]·g_t·g_s (the Gram form with an equality mask); the weighted sum scatters w_i·g_t into
 * row idx_t (one segment sum).
 */
function embeddingRule(layer: TfLayer): Rule {
  const config = layer.getConfig() as Config;
  refuseExtras(layer, config);
  if (config.maskZero === true) {
    throw new TypeError(
      `fromTfjs: layer "${layer.name}" (Embedding) uses maskZero, whose masks this adapter does not propagate; set maskZero: false`,
    );
  }
  const [table] = layer.weights;
  const V = table.shape[0] as number;
  const dim = table.shape[1] as number;
  return {
    layer,
    weights: trainableOf(layer) ? [table] : [],
    activationName: 'linear',
    affine(input) {
      const B = input.shape[0];
      const T = sizeOf(input.shape.slice(1));
      const idx = tf.reshape(tf.cast(input, 'int32'), [B, T]);
      const z = tf.reshape(tf.gather(table.read(), tf.reshape(idx, [B * T])), [...input.shape, dim]);
      return { z, captured: { act: idx, zShape: z.shape } };
    },
    after: (z) => z,
    squaredNorms(c, g) {
      const [B, T] = c.act.shape;
      const G = tf.reshape(g, [B, T, dim]);
      if (T === 1) return tf.sum(tf.square(G), [1, 2]);
      const same = tf.cast(tf.equal(tf.reshape(c.act, [B, T, 1]), tf.reshape(c.act, [B, 1, T])), 'float32');
      return tf.sum(tf.mul(same, tf.matMul(G, G, false, true)), [1, 2]);
    },
    weightedSum(c, g, w) {
      const [B, T] = c.act.shape;
      const Gw = tf.reshape(tf.mul(tf.reshape(g, [B, T, dim]), tf.reshape(w, [B, 1, 1])), [B * T, dim]);
      const idx = tf.reshape(c.act, [B * T]) as tf.Tensor1D;
      // The wasm backend has no UnsortedSegmentSum kernel: there the scatter is the product oneHot(idx)ᵀ·(w ⊙ G).
      if (tf.getKernel('UnsortedSegmentSum', tf.getBackend()) !== undefined) return [tf.unsortedSegmentSum(Gw, idx, V)];
      return [tf.matMul(tf.oneHot(idx, V), Gw, true, false)];
    },
    perExample(c, g) {
      const [B, T] = c.act.shape;
      const oneHot = tf.oneHot(c.act as tf.Tensor2D, V); // [B, T, V]
      return tf.reshape(tf.matMul(oneHot, tf.reshape(g, [B, T, dim]), true, false), [B, V * dim]);
    },
    dispose: () => {},
  };
}

/**
 * LayerNormalization over the last axis: z = γ ⊙ x̂ + β with x̂ = (x − μ)/√(σ² + ε) (the same formula as the tfjs
 * layer). Its parameters are per feature, so per-example gradients (Σ_t g ⊙ x̂ and Σ_t g) are small and built
 * directly.
 */
function layerNormRule(layer: TfLayer): Rule {
  const config = layer.getConfig() as Config;
  refuseExtras(layer, config);
  const axis = config.axis;
  const rank = layer.inboundNodes[0]?.inputTensors[0]?.shape.length ?? 0;
  const one = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  const lastAxis = one === -1 || one === rank - 1;
  if (!lastAxis) {
    throw new TypeError(
      `fromTfjs: layer "${layer.name}" (LayerNormalization) normalises over axis ${JSON.stringify(axis)}; only the last axis (-1) is supported`,
    );
  }
  const epsilon = Number(config.epsilon ?? 1e-3);
  const scale = config.scale !== false;
  const center = config.center !== false;
  const gamma = scale ? layer.weights[0] : null;
  const beta = center ? layer.weights[scale ? 1 : 0] : null;
  const weights: LayerVariable[] = [];
  if (trainableOf(layer)) {
    if (gamma !== null) weights.push(gamma);
    if (beta !== null) weights.push(beta);
  }
  const perExample = (c: Captured, g: tf.Tensor): tf.Tensor[] => {
    const [B, T, d] = c.act.shape;
    const G = tf.reshape(g, [B, T, d]);
    const out: tf.Tensor[] = [];
    if (gamma !== null) out.push(tf.sum(tf.mul(G, c.act), 1));
    if (beta !== null) out.push(tf.sum(G, 1));
    return out;
  };
  return {
    layer,
    weights,
    activationName: 'linear',
    affine(input) {
      const shape = input.shape;
      const d = shape[shape.length - 1];
      const { mean, variance } = tf.moments(input, -1, true);
      const xhat = tf.mul(tf.sub(input, mean), tf.rsqrt(tf.add(variance, epsilon)));
      let z = xhat;
      if (gamma !== null) z = tf.mul(z, gamma.read());
      if (beta !== null) z = tf.add(z, beta.read());
      return { z, captured: { act: tf.reshape(xhat, [shape[0], sizeOf(shape.slice(1, -1)), d]), zShape: shape } };
    },
    after: (z) => z,
    squaredNorms(c, g) {
      return tf.addN(perExample(c, g).map((t) => tf.sum(tf.square(t), 1)));
    },
    weightedSum(c, g, w) {
      const wb = tf.reshape(w, [-1, 1]);
      return perExample(c, g).map((t) => tf.sum(tf.mul(t, wb), 0));
    },
    perExample(c, g) {
      const parts = perExample(c, g);
      return parts.length === 1 ? parts[0] : tf.concat(parts, 1);
    },
    dispose: () => {},
  };
}

/**
 * Layers with weights that have a per-example rule (tfjs class names).
 * @example
 * ```ts
 * WEIGHTED_LAYERS.includes('Conv2D'); // true
 * ```
 */
export const WEIGHTED_LAYERS: readonly string[] = ['Dense', 'Conv1D', 'Conv2D', 'Embedding', 'LayerNormalization'];

/**
 * Layers without weights that `fromTfjs` applies as they are (inference mode).
 * @example
 * ```ts
 * PARAMETER_FREE_LAYERS.includes('Flatten'); // true
 * ```
 */
export const PARAMETER_FREE_LAYERS: readonly string[] = [
  'InputLayer',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'Softmax',
  'ThresholdedReLU',
  'Flatten',
  'Reshape',
  'Permute',
  'RepeatVector',
  'MaxPooling1D',
  'MaxPooling2D',
  'AveragePooling1D',
  'AveragePooling2D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'ZeroPadding2D',
  'Cropping2D',
  'UpSampling2D',
  'Add',
  'Subtract',
  'Multiply',
  'Average',
  'Maximum',
  'Minimum',
  'Concatenate',
];

/**
 * Dropout and noise layers: the identity during private training (their randomness is not what DP-SGD accounts).
 * @example
 * ```ts
 * IDENTITY_LAYERS.includes('Dropout'); // true
 * ```
 */
export const IDENTITY_LAYERS: readonly string[] = ['Dropout', 'SpatialDropout1D', 'AlphaDropout', 'GaussianDropout', 'GaussianNoise'];

/** The rule of a layer with weights, or null for a layer on the other lists; refuses any other layer by name. */
export function ruleFor(layer: TfLayer): Rule | null {
  const kind = layer.getClassName();
  switch (kind) {
    case 'Dense':
      return denseRule(layer);
    case 'Conv1D':
      return convRule(layer, 1);
    case 'Conv2D':
      return convRule(layer, 2);
    case 'Embedding':
      return embeddingRule(layer);
    case 'LayerNormalization':
      return layerNormRule(layer);
    default:
  }
  if ((PARAMETER_FREE_LAYERS.includes(kind) || IDENTITY_LAYERS.includes(kind)) && layer.weights.length === 0) return null;
  throw new TypeError(
    `fromTfjs: layer "${layer.name}" (${kind}) has no per-example gradient rule; supported layers: ` +
      `${[...WEIGHTED_LAYERS, ...PARAMETER_FREE_LAYERS.filter((k) => k !== 'InputLayer'), ...IDENTITY_LAYERS].join(', ')}`,
  );
}
