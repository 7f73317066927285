/**
 * DP-SGD for a TensorFlow.js model: {@link fromTfjs} wraps a `tf.LayersModel` (Sequential or functional) as a
 * {@link GhostClippingModel}, so `trainDpSgd` and `trainSgd` train it with their usual options, accountant and
 * statement.
 *
 * Per-example gradients follow Opacus' hooks (Yousefpour et al. 2021, arXiv 2109.12298): one forward pass records
 * each layer's input, and one backward pass yields the gradient at each layer's output. Here the forward pass is
 * re-run from the layers' own weights with tfjs ops, and a zero "probe" tensor is added to each layer's affine
 * output z, so the gradient of the summed loss with respect to the probes is ∂L/∂z for every layer at once
 * (`tf.valueAndGrads`).
 * The per-example norms then come from the ghost-norm rules of `rules.ts` and the clipped sum from one weighted
 * matrix product per layer; no batch × parameters matrix is built. Dropout and noise layers are the identity
 * during private training; a layer without a rule is refused by name at construction (Opacus issues #502/#561:
 * a missing rule must fail loudly, not train wrongly).
 * @module
 */
import { assertOptions, describeValue } from '@ppml/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { BatchStats, GhostClippingModel, ParameterGroup } from '../sgd/model.ts';
import { TFJS_LOSSES, type TfjsLoss, perExampleLoss } from './loss.ts';
import { type Captured, IDENTITY_LAYERS, type Rule, type TfLayer, ruleFor } from './rules.ts';

/**
 * Options of {@link fromTfjs}.
 * @example
 * ```ts
 * const options: FromTfjsOptions = { loss: 'binaryCrossentropy' };
 * ```
 */
export interface FromTfjsOptions {
  /**
   * The per-example loss: `binaryCrossentropy` (one output in (0, 1), labels 0/1), `sparseCategoricalCrossentropy`
   * (K ≥ 2 outputs that are probabilities, labels 0..K-1) or `meanSquaredError` (one output, real labels).
   */
  loss: TfjsLoss;
  /**
   * How `trainDpSgd` forms the clipped sum. `'float32'` (default): ghost clipping, the norms and the weighted
   * sum in tfjs float32, fast, but the sum's float32 rounding (of order B·2⁻²⁴·C at worst) is not covered by the
   * noise margin (the same gap as Opacus). `'float64'`: per-example gradients are materialised (batch ×
   * parameters, float32 from tfjs, each a function of its own example only), their norms taken and the clipped
   * sum formed in float64, so no example moves the sum by more than C plus float64 rounding, which the margin
   * covers; about 2–5x slower. Sets {@link GhostClippingModel.ghostClipping} to false.
   */
  clippedSum?: 'float32' | 'float64';
}

/**
 * A TensorFlow.js model ready for `trainDpSgd` / `trainSgd`. `parameters` is the source of truth while training;
 * the trainers copy it into the tfjs model after every epoch ({@link TfjsTrainableModel.syncParameters}), so
 * `tfModel.predict` and `tfModel.save` see the trained weights.
 * @example
 * ```ts
 * using model = fromTfjs(net, { loss: 'meanSquaredError' });
 * trainSgd({ model, x, y, epochs: 5, sampleRate: 0.1, learningRate: 0.1 });
 * model.tfModel.predict(xTest);
 * ```
 */
export interface TfjsTrainableModel extends GhostClippingModel {
  /** The wrapped model (trained in place). */
  readonly tfModel: LayersModel;
  /** Summed loss and correct count of a batch under the current `parameters` (no dropout). */
  evaluate(x: Float64Array, y: Float64Array, rows: number): BatchStats;
  /** Copies `parameters` into the tfjs model's weights. */
  syncParameters(): void;
  /** Releases the tensors this wrapper owns (not the tfjs model). Idempotent. */
  dispose(): void;
  [Symbol.dispose](): void;
}

interface Step {
  layer: TfLayer;
  rule: Rule | null;
  identity: boolean;
  inputs: number[];
  output: number;
}

interface Kept {
  captured: Captured[];
  grads: tf.Tensor[];
  rows: number;
}

function checkModel(model: unknown): LayersModel {
  const m = model as Partial<LayersModel> | null;
  if (m === null || typeof m !== 'object' || !Array.isArray(m.layers) || !Array.isArray(m.inputs) || !Array.isArray(m.outputs)) {
    throw new TypeError(`model must be a TensorFlow.js LayersModel (tf.sequential or tf.model), got ${describeValue(model)}`);
  }
  if (m.inputs.length !== 1 || m.outputs.length !== 1) {
    throw new RangeError(`model must have one input and one output, got ${m.inputs.length} inputs and ${m.outputs.length} outputs`);
  }
  return m as LayersModel;
}

/** The layers in execution order, each with its rule, refusing what the adapter cannot train. */
function planOf(model: LayersModel, inputId: number): Step[] {
  const steps: Step[] = [];
  const available = new Set<number>([inputId]);
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    if (kind === 'InputLayer') continue;
    if (layer.inboundNodes.length !== 1) {
      throw new TypeError(
        `fromTfjs: layer "${layer.name}" (${kind}) is ${layer.inboundNodes.length === 0 ? 'not connected' : 'shared (called more than once)'}; each layer must be used exactly once`,
      );
    }
    const node = layer.inboundNodes[0];
    if (node.outputTensors.length !== 1)
      throw new TypeError(`fromTfjs: layer "${layer.name}" (${kind}) has several outputs, which is not supported`);
    const inputs = node.inputTensors.map((t) => t.id);
    for (const id of inputs) {
      if (!available.has(id))
        throw new TypeError(`fromTfjs: layer "${layer.name}" (${kind}) reads a tensor this model does not compute first`);
    }
    const rule = ruleFor(layer);
    if (rule !== null && kind === 'Embedding' && inputs[0] !== inputId) {
      throw new TypeError(`fromTfjs: layer "${layer.name}" (Embedding) must read the model input directly (its indices are checked there)`);
    }
    if (rule !== null && inputs.length !== 1) throw new TypeError(`fromTfjs: layer "${layer.name}" (${kind}) must have one input`);
    steps.push({ layer, rule, identity: IDENTITY_LAYERS.includes(kind), inputs, output: node.outputTensors[0].id });
    available.add(node.outputTensors[0].id);
  }
  return steps;
}

function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

/**
 * Wraps a TensorFlow.js `LayersModel` for DP-SGD. Supported layers: Dense, Conv1D, Conv2D (channels last, valid
 * or same padding), Embedding, LayerNormalization (last axis), and the parameter-free layers (activations,
 * pooling, flatten, reshape, merges); Dropout and noise layers are the identity while training. Any other layer
 * (GRU, LSTM, BatchNormalization, ...) is a TypeError naming it. The model must have one input of fixed shape and
 * one output; inputs reach the model as rows of `features` = the product of the input shape, labels as one number
 * per row. Uses whatever tfjs backend is active (`cpu`, `wasm`, ...).
 * @example
 * ```ts
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { trainDpSgd } from '@ppml/dp';
 * import { fromTfjs } from '@ppml/dp/tfjs';
 * const net = tfl.sequential({ layers: [
 *   tfl.layers.dense({ units: 16, inputShape: [30], activation: 'relu' }),
 *   tfl.layers.dense({ units: 1, activation: 'sigmoid' }),
 * ] });
 * const model = fromTfjs(net, { loss: 'binaryCrossentropy' });
 * const result = trainDpSgd({ model, x, y, epochs: 10, sampleRate: 0.05, learningRate: 0.5, clipNorm: 1, targetEpsilon: 1, delta: 1e-5 });
 * net.predict(xTest); // the private weights
 * model.dispose();
 * ```
 */
export function fromTfjs(model: LayersModel, options: FromTfjsOptions): TfjsTrainableModel {
  const tfModel = checkModel(model);
  assertOptions('options', options, ['loss', 'clippedSum']);
  const loss = options.loss;
  if (!TFJS_LOSSES.includes(loss))
    throw new RangeError(`options.loss must be one of ${TFJS_LOSSES.join(', ')}, got ${describeValue(loss)}`);
  const clippedSum = options.clippedSum ?? 'float32';
  if (clippedSum !== 'float32' && clippedSum !== 'float64') {
    throw new RangeError(`options.clippedSum must be 'float32' or 'float64', got ${describeValue(options.clippedSum)}`);
  }
  const input = tfModel.inputs[0];
  const inShape = input.shape.slice(1);
  if (!inShape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 1)) {
    throw new RangeError(`model input must have a fixed shape, got [${input.shape.map(String).join(', ')}]`);
  }
  const inputShape = inShape as number[];
  const features = sizeOf(inputShape);
  const intInput = input.dtype === 'int32';
  const outShape = tfModel.outputs[0].shape;
  const outSize = sizeOf(outShape.slice(1).map((d) => (d === null ? 0 : d)));
  let classes: number;
  if (loss === 'sparseCategoricalCrossentropy') {
    if (outShape.length !== 2 || outSize < 2)
      throw new RangeError(
        `sparseCategoricalCrossentropy needs an output of shape [batch, K >= 2], got [${outShape.map(String).join(', ')}]`,
      );
    classes = outSize;
  } else {
    if (outSize !== 1) throw new RangeError(`${loss} needs one output per example, got shape [${outShape.map(String).join(', ')}]`);
    classes = loss === 'binaryCrossentropy' ? 2 : 0;
  }

  const steps = planOf(tfModel, input.id);
  const outputId = tfModel.outputs[0].id;
  if (steps.length === 0 || steps[steps.length - 1].output !== outputId)
    throw new TypeError('fromTfjs: the last layer must produce the model output');
  const rules: Rule[] = [];
  for (const s of steps) if (s.rule !== null && s.rule.weights.length > 0) rules.push(s.rule);
  if (rules.length === 0) throw new RangeError('fromTfjs: the model has no trainable weights');
  const lastRule = steps[steps.length - 1].rule;
  const fused =
    lastRule !== null &&
    ((loss === 'binaryCrossentropy' && lastRule.activationName === 'sigmoid') ||
      (loss === 'sparseCategoricalCrossentropy' && lastRule.activationName === 'softmax'));
  const embeddingSizes = steps
    .filter((s) => s.rule !== null && s.layer.getClassName() === 'Embedding')
    .map((s) => s.layer.weights[0].shape[0] as number);
  const maxIndex = embeddingSizes.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...embeddingSizes);

  const groups: ParameterGroup[] = [];
  let P = 0;
  for (const r of rules) {
    let n = 0;
    for (const w of r.weights) n += sizeOf(w.shape as number[]);
    groups.push({ name: r.layer.name, offset: P, length: n });
    P += n;
  }
  const parameters = new Float64Array(P);
  {
    let k = 0;
    for (const r of rules) {
      for (const w of r.weights) {
        const v = w.read().dataSync();
        for (let j = 0; j < v.length; j++) parameters[k++] = v[j];
      }
    }
  }
  const G = rules.length;
  const ruleIndex = new Map<Rule, number>(rules.map((r, i) => [r, i]));
  let kept: Kept | null = null;
  let norms: Float32Array<ArrayBufferLike> = new Float32Array(0);
  let disposed = false;

  const release = (): void => {
    if (kept === null) return;
    for (const c of kept.captured) c.act.dispose();
    for (const g of kept.grads) g.dispose();
    kept = null;
  };
  const assertLive = (): void => {
    if (disposed) throw new TypeError('this fromTfjs model was disposed');
  };
  const upload = (): void => {
    let k = 0;
    for (const r of rules) {
      for (const w of r.weights) {
        const n = sizeOf(w.shape as number[]);
        const t = tf.tensor(Float32Array.from(parameters.subarray(k, k + n)), w.shape as number[]);
        w.write(t);
        t.dispose();
        k += n;
      }
    }
  };
  const inputTensor = (x: Float64Array, rows: number): tf.Tensor => {
    const n = rows * features;
    if (!(x instanceof Float64Array) || x.length < n)
      throw new RangeError(`x must be a Float64Array of at least rows x ${features} values`);
    if (maxIndex !== Number.POSITIVE_INFINITY) {
      for (let k = 0; k < n; k++) {
        const v = x[k];
        if (!(Number.isInteger(v) && v >= 0 && v < maxIndex)) {
          throw new RangeError(`x[${k}] must be an embedding index, an integer in [0, ${maxIndex - 1}], got ${describeValue(v)}`);
        }
      }
    }
    return intInput
      ? tf.tensor(Int32Array.from(x.subarray(0, n)), [rows, ...inputShape], 'int32')
      : tf.tensor(Float32Array.from(x.subarray(0, n)), [rows, ...inputShape]);
  };

  /** The forward pass; with probes, z + probe at each trainable layer, and its captured inputs. */
  const forward = (x: tf.Tensor, probes: tf.Tensor[] | null, captured: Captured[]): { out: tf.Tensor; logits: tf.Tensor | null } => {
    const values = new Map<number, tf.Tensor>([[input.id, x]]);
    let logits: tf.Tensor | null = null;
    let out = x;
    for (let s = 0; s < steps.length; s++) {
      const step = steps[s];
      const ins = step.inputs.map((id) => values.get(id) as tf.Tensor);
      if (step.identity) out = ins[0];
      else if (step.rule === null) out = step.layer.apply(ins.length === 1 ? ins[0] : ins) as tf.Tensor;
      else {
        const r = step.rule.affine(ins[0]);
        let z = r.z;
        const i = ruleIndex.get(step.rule);
        if (i !== undefined && probes !== null) {
          z = tf.add(z, probes[i]);
          captured[i] = r.captured;
        }
        if (s === steps.length - 1 && fused) logits = z;
        out = step.rule.after(z);
      }
      values.set(step.output, out);
    }
    return { out, logits };
  };

  const labels = (y: Float64Array, rows: number): tf.Tensor => {
    if (!(y instanceof Float64Array) || y.length < rows) throw new RangeError(`y must be a Float64Array of at least ${rows} labels`);
    return tf.tensor(Float32Array.from(y.subarray(0, rows)), [rows]);
  };

  /** One forward and one backward pass; keeps the captured inputs and output gradients; returns the stats. */
  const pass = (x: Float64Array, y: Float64Array, rows: number): { stats: BatchStats; kept: Kept } => {
    assertLive();
    release();
    norms = new Float32Array(0);
    upload();
    const xt = inputTensor(x, rows);
    const captured: Captured[] = new Array<Captured>(G);
    let yt: tf.Tensor | null = null;
    let probes: tf.Tensor[] = [];
    let correctT: tf.Tensor | null = null;
    let grads: tf.Tensor[];
    let lossSum: number;
    let correctSum: number;
    // A bad label (or a loss that throws) must not leak the inputs, probes or the activations kept for the backward
    // pass: the tape's own intermediates are tidied by tfjs, these are not.
    try {
      const ytLive = labels(y, rows);
      yt = ytLive;
      probes = rules.map((r) => {
        const shape = r.layer.outputShape as number[];
        return tf.zeros([rows, ...shape.slice(1)]);
      });
      const f = (...ps: tf.Tensor[]): tf.Tensor => {
        const { out, logits } = forward(xt, ps, captured);
        for (const c of captured) tf.keep(c.act);
        const { losses, correct } = perExampleLoss(loss, out, logits, ytLive);
        if (correct !== null) correctT = tf.keep(tf.sum(correct));
        return tf.sum(losses);
      };
      const r = tf.valueAndGrads(f)(probes);
      grads = r.grads;
      lossSum = r.value.dataSync()[0];
      correctSum = correctT === null ? 0 : (correctT as tf.Tensor).dataSync()[0];
      r.value.dispose();
    } catch (err) {
      for (const c of captured) c?.act.dispose();
      throw err;
    } finally {
      (correctT as tf.Tensor | null)?.dispose();
      xt.dispose();
      yt?.dispose();
      for (const p of probes) p.dispose();
    }
    kept = { captured, grads, rows };
    return { stats: { lossSum, correct: correctSum }, kept };
  };

  const wrapper: TfjsTrainableModel = {
    tfModel,
    features,
    classes,
    parameters,
    parameterGroups: groups,
    ghostClipping: clippedSum === 'float32',
    forwardBackward(x, y, rows) {
      const { stats, kept: k } = pass(x, y, rows);
      const sq = tf.tidy(() =>
        tf.stack(
          rules.map((r, i) => r.squaredNorms(k.captured[i], k.grads[i])),
          1,
        ),
      );
      norms = sq.dataSync() as Float32Array;
      sq.dispose();
      return stats;
    },
    perSampleSquaredNorms(out) {
      assertLive();
      const n = kept === null ? 0 : kept.rows * G;
      if (kept === null || norms.length < n) throw new TypeError('perSampleSquaredNorms needs a forwardBackward call first');
      if (!(out instanceof Float64Array) || out.length < n) throw new RangeError(`out must be a Float64Array of at least ${n} values`);
      for (let k = 0; k < n; k++) out[k] = norms[k];
    },
    accumulateGradient(weights, perGroup, out) {
      assertLive();
      if (kept === null) throw new TypeError('accumulateGradient needs a forwardBackward call first');
      const k = kept;
      const B = k.rows;
      if (!(out instanceof Float64Array) || out.length !== P) throw new RangeError(`out must be a Float64Array of ${P} values`);
      if (weights !== null && weights.length < B * (perGroup ? G : 1))
        throw new RangeError('weights must hold one factor per example (and group)');
      const sum = tf.tidy(() => {
        const w =
          weights === null
            ? tf.ones([B, 1])
            : tf.tensor(Float32Array.from(weights.subarray(0, B * (perGroup ? G : 1))), [B, perGroup ? G : 1]);
        const parts: tf.Tensor[] = [];
        rules.forEach((r, i) => {
          const wi = tf.reshape(perGroup ? tf.slice(w, [0, i], [B, 1]) : w, [B]);
          for (const t of r.weightedSum(k.captured[i], k.grads[i], wi)) parts.push(tf.reshape(t, [-1]));
        });
        return tf.concat(parts);
      });
      const v = sum.dataSync();
      sum.dispose();
      for (let j = 0; j < P; j++) out[j] += v[j];
    },
    perSampleGradients(x, y, rows) {
      const { kept: k } = pass(x, y, rows);
      const all = tf.tidy(() =>
        tf.concat(
          rules.map((r, i) => r.perExample(k.captured[i], k.grads[i])),
          1,
        ),
      );
      const data = all.dataSync() as Float32Array;
      all.dispose();
      return { data, rows, cols: P };
    },
    evaluate(x, y, rows) {
      assertLive();
      upload();
      const xt = inputTensor(x, rows);
      let yt: tf.Tensor | null = null;
      try {
        const ytLive = labels(y, rows);
        yt = ytLive;
        const r = tf.tidy(() => {
          const { out, logits } = forward(xt, null, []);
          const { losses, correct } = perExampleLoss(loss, out, logits, ytLive);
          return tf.stack([tf.sum(losses), correct === null ? tf.scalar(0) : tf.sum(correct)]);
        });
        const v = r.dataSync();
        r.dispose();
        return { lossSum: v[0], correct: v[1] };
      } finally {
        xt.dispose();
        yt?.dispose();
      }
    },
    syncParameters() {
      assertLive();
      upload();
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      release();
      for (const s of steps) s.rule?.dispose();
    },
    [Symbol.dispose]() {
      wrapper.dispose();
    },
  };
  return wrapper;
}
