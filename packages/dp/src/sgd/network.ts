/**
 * Built-in models for DP-SGD: logistic regression, softmax regression and a multilayer perceptron, all stacks of
 * dense layers with a sigmoid (one output) or softmax (several outputs) cross-entropy head. Gradients are computed
 * in batch on typed arrays by hand-written backpropagation, without an autograd framework.
 *
 * Per-example gradient norms follow the ghost-norm identity for dense layers (Goodfellow 2015, "Efficient
 * per-example gradient computations"; Lee & Kifer 2021, §3; Li et al. 2022, §4): the gradient of example i with
 * respect to layer l is b_i·[a_i, 1]ᵀ, where a_i is the layer input and b_i the backpropagated error, so its
 * squared norm is (‖a_i‖² + 1)·‖b_i‖². That costs O(B·(in + out)) per layer. The clipped sum Σ_i w_i b_i [a_i, 1]ᵀ
 * is the same matrix product plain SGD computes, with each row of errors scaled by its clip factor, so no second
 * backward pass is needed (the errors of every layer scale linearly with the output error of the example).
 *
 * The training pass of an MLP runs by default in float32 WebAssembly SIMD kernels (`../kernels/dense-simd.ts`), the
 * arithmetic PyTorch and Opacus use by default; the float64 JavaScript kernels below are the reference, the
 * fallback where WebAssembly SIMD is missing, and what `precision: 'float64'`, logistic and softmax regression,
 * prediction, evaluation and `perSampleGradients` use.
 *
 * Models serialise to a small JSON format ({@link ModelJSON}) read back by {@link modelFromJSON}.
 * @module
 */
import { type Rng, assertFunction, assertOptions, cryptoRng, describeValue, toMatrix, uniformDouble } from '@ppml/core';
import { type SimdDensePass, createSimdDensePass } from '../kernels/dense-simd.ts';
import type { BatchStats, GhostClippingModel, ParameterGroup, PerSampleGradients } from './model.ts';

/** Hidden-layer activation of an MLP. */
export type Activation = 'relu' | 'tanh';

/**
 * Arithmetic of a model's training pass (`forwardBackward`, `perSampleSquaredNorms`, `accumulateGradient`):
 * - `'float32'`: float32 weights, activations and errors in WebAssembly SIMD kernels, as PyTorch and Opacus train
 *   by default; norms, clip factors, the gradient sum, the parameters and the noise stay float64 (see
 *   `kernels/dense-simd.ts`). Where WebAssembly SIMD is unavailable the float64 kernels run instead.
 * - `'float64'`: float64 JavaScript kernels throughout (slower, bit-for-bit reproducible across engines).
 * Prediction, evaluation and `perSampleGradients` are float64 either way.
 */
export type Precision = 'float32' | 'float64';

/** Which built-in model a {@link DenseModel} is. */
export type ModelKind = 'logistic-regression' | 'softmax-regression' | 'mlp';

/** JSON of a logistic regression: P(y = 1 | x) = sigmoid(weights · x + bias). */
export interface LogisticRegressionJSON {
  kind: 'logistic-regression';
  version: 1;
  features: number;
  output: 'sigmoid';
  /** One weight per feature. */
  weights: number[];
  bias: number;
}

/** JSON of a softmax regression: P(y = k | x) = softmax(W x + b)_k. */
export interface SoftmaxRegressionJSON {
  kind: 'softmax-regression';
  version: 1;
  features: number;
  classes: number;
  output: 'softmax';
  /** Row-major classes × features. */
  weights: number[];
  /** One bias per class. */
  bias: number[];
}

/** One dense layer in JSON: out = W·in + b. */
export interface DenseLayerJSON {
  /** Row-major out × in. */
  weights: number[];
  /** One bias per output unit. */
  bias: number[];
}

/** JSON of a multilayer perceptron: dense layers, `activation` after every layer but the last. */
export interface MlpJSON {
  kind: 'mlp';
  version: 1;
  features: number;
  /** [features, ...hidden, outputs]. */
  sizes: number[];
  activation: Activation;
  /** 'sigmoid' when there is one output (binary), 'softmax' otherwise. */
  output: 'sigmoid' | 'softmax';
  layers: DenseLayerJSON[];
}

/** The serialised form of any built-in model. */
export type ModelJSON = LogisticRegressionJSON | SoftmaxRegressionJSON | MlpJSON;

/** Rows accepted by `predict` and the trainers. */
export type Rows = ReadonlyArray<ArrayLike<number>>;

const EVAL_CHUNK = 1024;

/**
 * A stack of dense layers with a cross-entropy head; the class behind {@link logisticRegression},
 * {@link softmaxRegression} and {@link mlp}. Parameters are one flat `Float64Array`: for each layer, its weights
 * (row-major out × in) then its bias. `precision` (default `'float64'` here, `'float32'` from {@link mlp}) picks the
 * arithmetic of the training pass (see {@link Precision}).
 * @example
 * ```ts
 * const model = mlp({ sizes: [30, 16, 1], activation: 'tanh', rng: seededTestRng(1) });
 * const p = model.predict([new Float64Array(30)]); // P(y = 1)
 * ```
 */
export class DenseModel implements GhostClippingModel {
  readonly kind: ModelKind;
  /** Layer widths [features, ...hidden, outputs]. */
  readonly sizes: readonly number[];
  readonly activation: Activation;
  readonly features: number;
  /** Output units: 1 for a binary (sigmoid) head, the number of classes for a softmax head. */
  readonly outputs: number;
  readonly classes: number;
  readonly parameters: Float64Array;
  readonly parameterGroups: readonly ParameterGroup[];
  /** Arithmetic of the training pass (see {@link Precision}). */
  readonly precision: Precision;

  readonly #weightOffset: number[] = [];
  readonly #biasOffset: number[] = [];
  /** acts[l] holds the output of layer l-1 (acts[0] is the batch input, set by reference). */
  #acts: Float64Array[] = [];
  /** errs[l] holds dLoss/d(pre-activation of layer l). */
  #errs: Float64Array[] = [];
  #capacity = 0;
  #rows = -1;
  /** Precomputed ‖x_i‖² of the last batch's rows, when the caller supplied them. */
  #inputSq: Float64Array | null = null;
  /** The float32 SIMD workspace (undefined until first used, null when unavailable or precision is float64). */
  #simd: SimdDensePass | null | undefined;
  /** Whether the last batch went through the SIMD workspace. */
  #batchSimd = false;

  constructor(
    kind: ModelKind,
    sizes: readonly number[],
    activation: Activation,
    parameters?: Float64Array,
    precision: Precision = 'float64',
  ) {
    if (kind !== 'logistic-regression' && kind !== 'softmax-regression' && kind !== 'mlp') {
      throw new RangeError(`kind must be 'logistic-regression', 'softmax-regression' or 'mlp', got ${describeValue(kind)}`);
    }
    if (!Array.isArray(sizes) || sizes.length < 2) throw new TypeError('sizes must be an array of at least 2 layer widths');
    sizes.forEach((n, i) => {
      checkSize(`sizes[${i}]`, n, 1);
    });
    if (activation !== 'relu' && activation !== 'tanh') {
      throw new RangeError(`activation must be 'relu' or 'tanh', got ${describeValue(activation)}`);
    }
    if (parameters !== undefined && !(parameters instanceof Float64Array)) {
      throw new TypeError(`parameters must be a Float64Array, got ${describeValue(parameters)}`);
    }
    if (precision !== 'float32' && precision !== 'float64') {
      throw new RangeError(`precision must be 'float32' or 'float64', got ${describeValue(precision)}`);
    }
    this.precision = precision;
    this.#simd = precision === 'float64' ? null : undefined;
    this.kind = kind;
    this.sizes = Object.freeze([...sizes]);
    this.activation = activation;
    this.features = sizes[0];
    this.outputs = sizes[sizes.length - 1];
    this.classes = this.outputs === 1 ? 2 : this.outputs;
    const groups: ParameterGroup[] = [];
    let offset = 0;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const start = offset;
      this.#weightOffset.push(offset);
      offset += sizes[l] * sizes[l + 1];
      this.#biasOffset.push(offset);
      offset += sizes[l + 1];
      groups.push(Object.freeze({ name: `layer${l}`, offset: start, length: offset - start }));
    }
    if (offset > MAX_MODEL_PARAMETERS) {
      throw new RangeError(
        `a model with sizes [${sizes.join(', ')}] would have ${offset} parameters; at most ${MAX_MODEL_PARAMETERS} are supported`,
      );
    }
    this.parameterGroups = Object.freeze(groups);
    if (parameters !== undefined && parameters.length !== offset) {
      throw new RangeError(`parameters must have length ${offset} for sizes [${sizes.join(', ')}], got ${parameters.length}`);
    }
    this.parameters = parameters ?? new Float64Array(offset);
  }

  /** Number of dense layers. */
  get layerCount(): number {
    return this.sizes.length - 1;
  }

  /** An independent copy (same architecture and parameters). */
  clone(): DenseModel {
    return new DenseModel(this.kind, this.sizes, this.activation, this.parameters.slice(), this.precision);
  }

  #ensureCapacity(rows: number): void {
    if (rows <= this.#capacity) return;
    const cap = Math.max(rows, Math.ceil(this.#capacity * 1.5), 16);
    this.#acts = [new Float64Array(0)];
    this.#errs = [];
    for (let l = 1; l < this.sizes.length; l++) this.#acts.push(new Float64Array(cap * this.sizes[l]));
    for (let l = 0; l + 1 < this.sizes.length; l++) this.#errs.push(new Float64Array(cap * this.sizes[l + 1]));
    this.#capacity = cap;
  }

  /** Forward pass; leaves logits in acts[L]. */
  #forward(x: Float64Array, rows: number): void {
    this.#ensureCapacity(rows);
    const P = this.parameters;
    const L = this.layerCount;
    this.#acts[0] = x;
    for (let l = 0; l < L; l++) {
      const nIn = this.sizes[l];
      const nOut = this.sizes[l + 1];
      const inp = this.#acts[l];
      const out = this.#acts[l + 1];
      const wOff = this.#weightOffset[l];
      const bOff = this.#biasOffset[l];
      const hidden = l + 1 < L;
      const relu = this.activation === 'relu';
      for (let i = 0; i < rows; i++) {
        const ib = i * nIn;
        const ob = i * nOut;
        for (let o = 0; o < nOut; o++) {
          let s = P[bOff + o];
          const wb = wOff + o * nIn;
          for (let j = 0; j < nIn; j++) s += P[wb + j] * inp[ib + j];
          if (hidden) s = relu ? Math.max(s, 0) : Math.tanh(s);
          out[ob + o] = s;
        }
      }
    }
  }

  /**
   * Loss and head error for a batch whose logits are in acts[L]; writes dLoss/dlogits into errs[L-1] when
   * `withErrors`.
   */
  #head(y: Float64Array, rows: number, withErrors: boolean): BatchStats {
    const L = this.layerCount;
    return headLoss(this.#acts[L], this.#errs[L - 1], this.outputs, this.outputs, y, rows, withErrors);
  }

  forwardBackward(x: Float64Array, y: Float64Array, rows: number, inputSquaredNorms?: Float64Array): BatchStats {
    if (inputSquaredNorms !== undefined && inputSquaredNorms.length < rows) {
      throw new RangeError(`inputSquaredNorms must have length >= rows=${rows}, got ${inputSquaredNorms.length}`);
    }
    this.#inputSq = inputSquaredNorms ?? null;
    const simd = this.#simdPass();
    if (simd !== null) {
      try {
        simd.forward(x, rows, this.parameters, this.#weightOffset, this.#biasOffset);
      } catch (e) {
        // The workspace could not grow (out of memory for WebAssembly): the float64 kernels take over.
        if (!(e instanceof RangeError)) throw e;
        this.#simd = null;
        return this.forwardBackward(x, y, rows, inputSquaredNorms);
      }
      const K = this.outputs;
      const stride = simd.widths[this.layerCount];
      const err = simd.headError();
      err.fill(0, 0, ((rows + 3) & ~3) * stride);
      const stats = headLoss(simd.logits(), err, K, stride, y, rows, true);
      simd.backward(rows);
      this.#batchSimd = true;
      this.#rows = rows;
      return stats;
    }
    return this.#forwardBackward64(x, y, rows);
  }

  /** The SIMD workspace, created on first use; null for float64 models or where WebAssembly SIMD is missing. */
  #simdPass(): SimdDensePass | null {
    if (this.#simd === undefined) this.#simd = createSimdDensePass(this.sizes, this.activation === 'relu');
    return this.#simd;
  }

  /** The float64 training pass (the reference arithmetic; also behind `perSampleGradients`). */
  #forwardBackward64(x: Float64Array, y: Float64Array, rows: number): BatchStats {
    this.#forward(x, rows);
    const stats = this.#head(y, rows, true);
    const P = this.parameters;
    const relu = this.activation === 'relu';
    for (let l = this.layerCount - 1; l >= 1; l--) {
      // errs[l-1] = (errs[l] · W_l) ⊙ act'(acts[l]).
      const nIn = this.sizes[l];
      const nOut = this.sizes[l + 1];
      const e = this.#errs[l];
      const prev = this.#errs[l - 1];
      const a = this.#acts[l];
      const wOff = this.#weightOffset[l];
      prev.fill(0, 0, rows * nIn);
      for (let i = 0; i < rows; i++) {
        const ib = i * nIn;
        const eb = i * nOut;
        for (let o = 0; o < nOut; o++) {
          const c = e[eb + o];
          if (c === 0) continue;
          const wb = wOff + o * nIn;
          for (let j = 0; j < nIn; j++) prev[ib + j] += c * P[wb + j];
        }
        if (relu) {
          for (let j = 0; j < nIn; j++) if (!(a[ib + j] > 0)) prev[ib + j] = 0;
        } else {
          for (let j = 0; j < nIn; j++) prev[ib + j] *= 1 - a[ib + j] * a[ib + j];
        }
      }
    }
    this.#batchSimd = false;
    this.#rows = rows;
    return stats;
  }

  #requireBatch(): number {
    if (this.#rows < 0) throw new Error('forwardBackward must be called before reading per-example gradients');
    return this.#rows;
  }

  perSampleSquaredNorms(out: Float64Array): void {
    const rows = this.#requireBatch();
    const G = this.layerCount;
    if (out.length < rows * G) {
      throw new RangeError(`out must have length >= ${rows * G} (rows x groups), got ${out.length}`);
    }
    if (this.#batchSimd) {
      (this.#simd as SimdDensePass).squaredNorms(rows, this.#inputSq, out);
      return;
    }
    for (let l = 0; l < G; l++) {
      const nIn = this.sizes[l];
      const nOut = this.sizes[l + 1];
      const a = this.#acts[l];
      const e = this.#errs[l];
      const cached = l === 0 ? this.#inputSq : null;
      for (let i = 0; i < rows; i++) {
        let aa = 1; // the bias input
        const ib = i * nIn;
        if (cached !== null) aa += cached[i];
        else for (let j = 0; j < nIn; j++) aa += a[ib + j] * a[ib + j];
        let ee = 0;
        const eb = i * nOut;
        for (let o = 0; o < nOut; o++) ee += e[eb + o] * e[eb + o];
        out[i * G + l] = aa * ee;
      }
    }
  }

  accumulateGradient(weights: Float64Array | null, perGroup: boolean, out: Float64Array): void {
    const rows = this.#requireBatch();
    const G = this.layerCount;
    if (out.length !== this.parameters.length) {
      throw new RangeError(`out must have length ${this.parameters.length} (the parameter count), got ${out.length}`);
    }
    if (this.#batchSimd) {
      const simd = this.#simd as SimdDensePass;
      for (let l = 0; l < G; l++) {
        const stride = weights === null ? 0 : perGroup ? G : 1;
        simd.accumulate(l, rows, weights, stride, perGroup ? l : 0, out, this.#weightOffset[l], this.#biasOffset[l]);
      }
      return;
    }
    for (let l = 0; l < G; l++) {
      const nIn = this.sizes[l];
      const nOut = this.sizes[l + 1];
      const a = this.#acts[l];
      const e = this.#errs[l];
      const wOff = this.#weightOffset[l];
      const bOff = this.#biasOffset[l];
      for (let i = 0; i < rows; i++) {
        const w = weights === null ? 1 : perGroup ? weights[i * G + l] : weights[i];
        if (w === 0) continue;
        const ib = i * nIn;
        const eb = i * nOut;
        for (let o = 0; o < nOut; o++) {
          const c = w * e[eb + o];
          if (c === 0) continue;
          out[bOff + o] += c;
          const wb = wOff + o * nIn;
          for (let j = 0; j < nIn; j++) out[wb + j] += c * a[ib + j];
        }
      }
    }
  }

  perSampleGradients(x: Float64Array, y: Float64Array, rows: number): PerSampleGradients {
    // Materialised gradients are the float64 reference (tests and the generic clipping path compare against them).
    this.#inputSq = null;
    this.#forwardBackward64(x, y, rows);
    const cols = this.parameters.length;
    const data = new Float64Array(rows * cols);
    for (let l = 0; l < this.layerCount; l++) {
      const nIn = this.sizes[l];
      const nOut = this.sizes[l + 1];
      const a = this.#acts[l];
      const e = this.#errs[l];
      const wOff = this.#weightOffset[l];
      const bOff = this.#biasOffset[l];
      for (let i = 0; i < rows; i++) {
        const base = i * cols;
        for (let o = 0; o < nOut; o++) {
          const c = e[i * nOut + o];
          data[base + bOff + o] = c;
          const wb = base + wOff + o * nIn;
          for (let j = 0; j < nIn; j++) data[wb + j] = c * a[i * nIn + j];
        }
      }
    }
    return { data, rows, cols };
  }

  evaluate(x: Float64Array, y: Float64Array, rows: number): BatchStats {
    let lossSum = 0;
    let correct = 0;
    const d = this.features;
    for (let start = 0; start < rows; start += EVAL_CHUNK) {
      const n = Math.min(EVAL_CHUNK, rows - start);
      this.#forward(x.subarray(start * d, (start + n) * d), n);
      const s = this.#head(y.subarray(start, start + n), n, false);
      lossSum += s.lossSum;
      correct += s.correct;
    }
    this.#rows = -1;
    return { lossSum, correct };
  }

  /**
   * Raw outputs (logits) for each row: `rows × outputs` values, row-major.
   * @example
   * ```ts
   * const z = softmaxRegression({ features: 4, classes: 3 }).logits([[1, 2, 3, 4]]); // 3 values
   * ```
   */
  logits(x: Rows | Float64Array): Float64Array {
    const { data, rows } = this.#input(x);
    const out = new Float64Array(rows * this.outputs);
    const d = this.features;
    for (let start = 0; start < rows; start += EVAL_CHUNK) {
      const n = Math.min(EVAL_CHUNK, rows - start);
      this.#forward(data.subarray(start * d, (start + n) * d), n);
      out.set(this.#acts[this.layerCount].subarray(0, n * this.outputs), start * this.outputs);
    }
    this.#rows = -1;
    return out;
  }

  /**
   * Class probabilities: `rows × classes` values, row-major (for a binary model, [P(y=0), P(y=1)] per row).
   * @example
   * ```ts
   * const p = logisticRegression({ features: 2 }).predictProbabilities([[0, 0]]); // [0.5, 0.5]
   * ```
   */
  predictProbabilities(x: Rows | Float64Array): Float64Array {
    const z = this.logits(x);
    const K = this.outputs;
    if (K === 1) {
      const out = new Float64Array(z.length * 2);
      for (let i = 0; i < z.length; i++) {
        const p = sigmoid(z[i]);
        out[2 * i] = 1 - p;
        out[2 * i + 1] = p;
      }
      return out;
    }
    for (let b = 0; b < z.length; b += K) softmaxInPlace(z, b, K);
    return z;
  }

  /**
   * Binary models: P(y = 1) per row. Multi-class models: the most probable class index per row.
   * @example
   * ```ts
   * const labels = softmaxRegression({ features: 2, classes: 3 }).predict([[1, 0], [0, 1]]);
   * ```
   */
  predict(x: Rows | Float64Array): Float64Array {
    const z = this.logits(x);
    const K = this.outputs;
    if (K === 1) {
      for (let i = 0; i < z.length; i++) z[i] = sigmoid(z[i]);
      return z;
    }
    const rows = z.length / K;
    const out = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let arg = 0;
      for (let k = 1; k < K; k++) if (z[i * K + k] > z[i * K + arg]) arg = k;
      out[i] = arg;
    }
    return out;
  }

  #input(x: Rows | Float64Array): { data: Float64Array; rows: number } {
    if (x instanceof Float64Array) {
      if (x.length % this.features !== 0) {
        throw new RangeError(`x must hold a multiple of features=${this.features} values, got ${x.length}`);
      }
      for (let i = 0; i < x.length; i++) {
        if (!Number.isFinite(x[i])) throw new RangeError(`x[${i}] must be a finite number, got ${describeValue(x[i])}`);
      }
      return { data: x, rows: x.length / this.features };
    }
    const m = toMatrix('x', x, this.features);
    return { data: m.data, rows: m.rows };
  }

  /** Weights of layer `l` as a row-major out × in copy. */
  layerWeights(l: number): Float64Array {
    const o = this.#weightOffset[l];
    return this.parameters.slice(o, o + this.sizes[l] * this.sizes[l + 1]);
  }

  /** Bias of layer `l` (a copy). */
  layerBias(l: number): Float64Array {
    const o = this.#biasOffset[l];
    return this.parameters.slice(o, o + this.sizes[l + 1]);
  }

  /**
   * The model as JSON (see {@link ModelJSON}); `JSON.stringify(model)` calls it.
   * @example
   * ```ts
   * const copy = modelFromJSON(JSON.parse(JSON.stringify(model)));
   * ```
   */
  toJSON(): ModelJSON {
    if (this.kind === 'logistic-regression') {
      return {
        kind: 'logistic-regression',
        version: 1,
        features: this.features,
        output: 'sigmoid',
        weights: Array.from(this.layerWeights(0)),
        bias: this.layerBias(0)[0],
      };
    }
    if (this.kind === 'softmax-regression') {
      return {
        kind: 'softmax-regression',
        version: 1,
        features: this.features,
        classes: this.outputs,
        output: 'softmax',
        weights: Array.from(this.layerWeights(0)),
        bias: Array.from(this.layerBias(0)),
      };
    }
    const layers: DenseLayerJSON[] = [];
    for (let l = 0; l < this.layerCount; l++) {
      layers.push({ weights: Array.from(this.layerWeights(l)), bias: Array.from(this.layerBias(l)) });
    }
    return {
      kind: 'mlp',
      version: 1,
      features: this.features,
      sizes: [...this.sizes],
      activation: this.activation,
      output: this.outputs === 1 ? 'sigmoid' : 'softmax',
      layers,
    };
  }
}

/**
 * Loss sum and correct count of a batch from its logits `z` (row stride `stride`, `K` outputs per row); writes
 * dLoss/dlogits into `err` (same layout) when `withErrors`. Arithmetic is float64 whatever the arrays hold.
 */
function headLoss(
  z: Float64Array | Float32Array,
  err: Float64Array | Float32Array,
  K: number,
  stride: number,
  y: Float64Array,
  rows: number,
  withErrors: boolean,
): BatchStats {
  let lossSum = 0;
  let correct = 0;
  if (K === 1) {
    for (let i = 0; i < rows; i++) {
      const zi = z[i * stride];
      const yi = y[i];
      // Binary cross-entropy with logits, stable: max(z, 0) - y z + log(1 + e^{-|z|}); one exponential.
      const e = Math.exp(-Math.abs(zi));
      lossSum += Math.max(zi, 0) - yi * zi + Math.log1p(e);
      const p = zi >= 0 ? 1 / (1 + e) : e / (1 + e);
      if ((p >= 0.5 ? 1 : 0) === yi) correct++;
      if (withErrors) err[i * stride] = p - yi;
    }
    return { lossSum, correct };
  }
  for (let i = 0; i < rows; i++) {
    const b = i * stride;
    const yi = y[i];
    let max = z[b];
    let arg = 0;
    for (let k = 1; k < K; k++) {
      if (z[b + k] > max) {
        max = z[b + k];
        arg = k;
      }
    }
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(z[b + k] - max);
    const logSum = Math.log(sum) + max;
    lossSum += logSum - z[b + yi];
    if (arg === yi) correct++;
    if (withErrors) {
      for (let k = 0; k < K; k++) err[b + k] = Math.exp(z[b + k] - logSum) - (k === yi ? 1 : 0);
    }
  }
  return { lossSum, correct };
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function softmaxInPlace(z: Float64Array, b: number, K: number): void {
  let max = z[b];
  for (let k = 1; k < K; k++) if (z[b + k] > max) max = z[b + k];
  let sum = 0;
  for (let k = 0; k < K; k++) {
    z[b + k] = Math.exp(z[b + k] - max);
    sum += z[b + k];
  }
  for (let k = 0; k < K; k++) z[b + k] /= sum;
}

/**
 * Most parameters a built-in model may have (2^27 doubles, 1 GiB; also the parallel-noise worker's limit). Checked
 * before anything is allocated, so `features: 2147483648` is a RangeError, not a 16 GiB allocation.
 * @example
 * ```ts
 * MAX_MODEL_PARAMETERS; // 134217728
 * ```
 */
export const MAX_MODEL_PARAMETERS: number = 2 ** 27;

function checkSize(name: string, x: unknown, min: number): asserts x is number {
  if (typeof x !== 'number') throw new TypeError(`${name} must be an integer >= ${min}, got ${describeValue(x)}`);
  if (!Number.isSafeInteger(x) || x < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${describeValue(x)}`);
}

/** Options of {@link logisticRegression}. */
export interface LogisticRegressionOptions {
  /** Number of input features. */
  features: number;
}

/**
 * Binary logistic regression, P(y = 1 | x) = sigmoid(w·x + b), trained with binary cross-entropy. Starts at zero.
 * @example
 * ```ts
 * const model = logisticRegression({ features: 30 });
 * const result = trainDpSgd({ model, x, y, epochs: 20, sampleRate: 0.05, learningRate: 0.5, clipNorm: 1, targetEpsilon: 1, delta: 1e-5 });
 * ```
 */
export function logisticRegression(options: LogisticRegressionOptions): DenseModel {
  assertOptions('options', options, ['features']);
  checkSize('features', options.features, 1);
  return new DenseModel('logistic-regression', [options.features, 1], 'tanh');
}

/** Options of {@link softmaxRegression}. */
export interface SoftmaxRegressionOptions {
  /** Number of input features. */
  features: number;
  /** Number of classes (at least 2); labels are 0..classes-1. */
  classes: number;
}

/**
 * Multinomial logistic (softmax) regression with cross-entropy loss. Starts at zero.
 * @example
 * ```ts
 * const model = softmaxRegression({ features: 4, classes: 3 });
 * model.predict([[5.1, 3.5, 1.4, 0.2]]); // a class index
 * ```
 */
export function softmaxRegression(options: SoftmaxRegressionOptions): DenseModel {
  assertOptions('options', options, ['features', 'classes']);
  checkSize('features', options.features, 1);
  checkSize('classes', options.classes, 2);
  return new DenseModel('softmax-regression', [options.features, options.classes], 'tanh');
}

/** Options of {@link mlp}. */
export interface MlpOptions {
  /** [features, ...hidden, outputs]; outputs = 1 gives a binary (sigmoid) head, ≥ 2 a softmax over classes. */
  sizes: readonly number[];
  /** Activation after every hidden layer. */
  activation: Activation;
  /** Randomness for the initial weights (default: the CSPRNG). */
  rng?: Rng;
  /**
   * Arithmetic of the training pass (default `'float32'`, PyTorch's and Opacus' default; `'float64'` for the
   * reference kernels). See {@link Precision}.
   */
  precision?: Precision;
}

/**
 * A multilayer perceptron of dense layers. Weights start uniform in ±√(6/(in+out)) (Glorot) for tanh and
 * ±√(6/in) (He) for ReLU; biases start at zero. Training runs in float32 WebAssembly SIMD kernels by default
 * (`precision`), with float64 parameters, norms, gradient sums and noise.
 * @example
 * ```ts
 * const model = mlp({ sizes: [30, 64, 64, 1], activation: 'relu' });
 * const exact = mlp({ sizes: [30, 64, 64, 1], activation: 'relu', precision: 'float64' });
 * ```
 */
export function mlp(options: MlpOptions): DenseModel {
  assertOptions('options', options, ['sizes', 'activation', 'rng', 'precision']);
  const sizes = options.sizes;
  if (!Array.isArray(sizes)) throw new TypeError(`sizes must be an array of layer widths, got ${describeValue(sizes)}`);
  if (sizes.length < 2) throw new RangeError(`sizes must list at least [features, outputs], got ${sizes.length} entries`);
  sizes.forEach((s, i) => {
    checkSize(`sizes[${i}]`, s, 1);
  });
  const activation = options.activation;
  if (activation !== 'relu' && activation !== 'tanh') {
    throw new RangeError(`activation must be 'relu' or 'tanh', got ${describeValue(activation)}`);
  }
  const rng = options.rng ?? cryptoRng;
  if (rng === null || typeof rng !== 'object') throw new TypeError(`rng must be an Rng, got ${describeValue(rng)}`);
  assertFunction('rng.nextUint32', rng.nextUint32);
  const precision = options.precision ?? 'float32';
  if (precision !== 'float32' && precision !== 'float64') {
    throw new RangeError(`precision must be 'float32' or 'float64', got ${describeValue(precision)}`);
  }
  const model = new DenseModel('mlp', sizes, activation, undefined, precision);
  const P = model.parameters;
  let offset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    const limit = activation === 'relu' ? Math.sqrt(6 / nIn) : Math.sqrt(6 / (nIn + nOut));
    for (let k = 0; k < nIn * nOut; k++) P[offset + k] = (2 * uniformDouble(rng) - 1) * limit;
    offset += nIn * nOut + nOut;
  }
  return model;
}

function readNumbers(name: string, xs: unknown, length: number): number[] {
  if (!Array.isArray(xs)) throw new TypeError(`${name} must be an array of numbers, got ${describeValue(xs)}`);
  if (xs.length !== length) throw new RangeError(`${name} must have length ${length}, got ${xs.length}`);
  for (let i = 0; i < xs.length; i++) {
    const v: unknown = xs[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new RangeError(`${name}[${i}] must be a finite number, got ${describeValue(v)}`);
    }
  }
  return xs as number[];
}

/**
 * Rebuilds a model from {@link DenseModel.toJSON} output (an object or its JSON text), checking every field.
 * @example
 * ```ts
 * const model = modelFromJSON('{"kind":"logistic-regression","version":1,"features":2,"output":"sigmoid","weights":[1,-1],"bias":0}');
 * ```
 */
export function modelFromJSON(json: ModelJSON | string): DenseModel {
  const obj: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  if (obj === null || typeof obj !== 'object') throw new TypeError(`json must be a model object, got ${describeValue(obj)}`);
  const j = obj as Record<string, unknown>;
  if (j.version !== undefined && j.version !== 1) throw new RangeError(`json.version must be 1, got ${describeValue(j.version)}`);
  checkSize('json.features', j.features, 1);
  const d = j.features;
  if (j.kind === 'logistic-regression') {
    const w = readNumbers('json.weights', j.weights, d);
    if (typeof j.bias !== 'number' || !Number.isFinite(j.bias)) {
      throw new RangeError(`json.bias must be a finite number, got ${describeValue(j.bias)}`);
    }
    return new DenseModel('logistic-regression', [d, 1], 'tanh', Float64Array.from([...w, j.bias]));
  }
  if (j.kind === 'softmax-regression') {
    checkSize('json.classes', j.classes, 2);
    const K = j.classes;
    const w = readNumbers('json.weights', j.weights, K * d);
    const b = readNumbers('json.bias', j.bias, K);
    return new DenseModel('softmax-regression', [d, K], 'tanh', Float64Array.from([...w, ...b]));
  }
  if (j.kind === 'mlp') {
    if (!Array.isArray(j.sizes) || j.sizes.length < 2) throw new TypeError('json.sizes must be an array of at least 2 layer widths');
    const sizes = j.sizes as unknown[];
    sizes.forEach((s, i) => {
      checkSize(`json.sizes[${i}]`, s, 1);
    });
    const widths = sizes as number[];
    if (widths[0] !== d) throw new RangeError(`json.sizes[0] must equal json.features=${d}, got ${widths[0]}`);
    if (j.activation !== 'relu' && j.activation !== 'tanh') {
      throw new RangeError(`json.activation must be 'relu' or 'tanh', got ${describeValue(j.activation)}`);
    }
    if (!Array.isArray(j.layers) || j.layers.length !== widths.length - 1) {
      throw new RangeError(`json.layers must be an array of ${widths.length - 1} layers`);
    }
    // The training precision is not part of the JSON: a loaded MLP trains like a new one (float32, see mlp()).
    const model = new DenseModel('mlp', widths, j.activation, undefined, 'float32');
    let offset = 0;
    (j.layers as unknown[]).forEach((layer, l) => {
      if (layer === null || typeof layer !== 'object') throw new TypeError(`json.layers[${l}] must be an object`);
      const lj = layer as Record<string, unknown>;
      const w = readNumbers(`json.layers[${l}].weights`, lj.weights, widths[l] * widths[l + 1]);
      model.parameters.set(w, offset);
      offset += w.length;
      const b = readNumbers(`json.layers[${l}].bias`, lj.bias, widths[l + 1]);
      model.parameters.set(b, offset);
      offset += b.length;
    });
    return model;
  }
  throw new RangeError(`json.kind must be 'logistic-regression', 'softmax-regression' or 'mlp', got ${describeValue(j.kind)}`);
}
