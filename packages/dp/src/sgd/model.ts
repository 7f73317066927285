/**
 * The contract between DP-SGD and a model. DP-SGD (Abadi et al. 2016, Algorithm 1) only needs, for each example
 * of a batch, the gradient of that example's loss with respect to one flat parameter vector; {@link TrainableModel}
 * asks for exactly that, so any model (hand-written, or wrapping another library) can be trained privately.
 *
 * Built-in dense models also implement {@link GhostClippingModel}: one forward and one backward pass over the
 * batch, after which the per-example gradient norms come from the stored activations and backpropagated errors
 * (Lee & Kifer 2021, §3; Li et al. 2022, §4, "ghost clipping": for a dense layer the per-example gradient is the
 * outer product b_i a_iᵀ, whose norm is |a_i|·|b_i|), and the clipped sum is one reweighted matrix product. No
 * batch × parameters matrix is ever built, so DP-SGD costs about as much as plain SGD.
 * @module
 */
import { describeValue } from '@ppml/core';

/** A contiguous slice of the flat parameter vector (one layer: weights then bias), for per-layer clipping. */
export interface ParameterGroup {
  /** Human-readable name, e.g. `layer0`. */
  readonly name: string;
  /** Index of the first parameter of the group in the flat vector. */
  readonly offset: number;
  /** Number of parameters in the group. */
  readonly length: number;
}

/** Sums over a batch returned by the model kernels; the trainer turns them into means. */
export interface BatchStats {
  /** Sum of the per-example losses. */
  lossSum: number;
  /** Number of correctly classified examples (0 for a model without class labels). */
  correct: number;
}

/**
 * Per-example gradients: either one flat vector per example, or a row-major matrix with one row per example.
 * @example
 * ```ts
 * const g: PerSampleGradients = [Float64Array.of(3, 4), Float64Array.of(0.1, 0)];
 * const same: PerSampleGradients = { data: Float64Array.of(3, 4, 0.1, 0), rows: 2, cols: 2 };
 * ```
 */
export type PerSampleGradients =
  | ReadonlyArray<Float64Array | Float32Array>
  | { readonly data: Float64Array | Float32Array; readonly rows: number; readonly cols: number };

/**
 * What the DP-SGD trainer needs from any model. Inputs arrive as a row-major `Float64Array` of `rows × features`
 * values and labels as a `Float64Array` of `rows` values (0/1 for binary models, a class index otherwise).
 * @example
 * ```ts
 * // A linear least-squares model written by hand.
 * const model: TrainableModel = {
 *   features: 2, classes: 0, parameters: new Float64Array(2),
 *   parameterGroups: [{ name: 'w', offset: 0, length: 2 }],
 *   perSampleGradients(x, y, rows) {
 *     const out = new Float64Array(rows * 2);
 *     for (let i = 0; i < rows; i++) {
 *       const r = this.parameters[0] * x[2 * i] + this.parameters[1] * x[2 * i + 1] - y[i];
 *       out[2 * i] = r * x[2 * i];
 *       out[2 * i + 1] = r * x[2 * i + 1];
 *     }
 *     return { data: out, rows, cols: 2 };
 *   },
 * };
 * ```
 */
export interface TrainableModel {
  /** Number of input features per example. */
  readonly features: number;
  /**
   * Label space: 2 for binary models (labels 0/1), K ≥ 3 for K classes (labels 0..K-1), 0 for a model whose
   * labels are arbitrary finite numbers (regression).
   */
  readonly classes: number;
  /** The flat parameter vector; trainers update it in place. */
  readonly parameters: Float64Array;
  /** Contiguous groups covering `parameters` in order (one per layer), used by per-layer clipping. */
  readonly parameterGroups: readonly ParameterGroup[];
  /** The gradient of each example's loss (not the mean loss) with respect to `parameters`. */
  perSampleGradients(x: Float64Array, y: Float64Array, rows: number): PerSampleGradients;
  /** Optional: summed loss and correct count on a batch, for progress reports. */
  evaluate?(x: Float64Array, y: Float64Array, rows: number): BatchStats;
  /**
   * Optional: called by the trainers after each epoch (before its progress report), so a model that mirrors
   * `parameters` elsewhere (a TensorFlow.js model) can copy the updated values back.
   */
  syncParameters?(): void;
}

/**
 * A model that computes per-example gradient norms without materialising per-example gradients (ghost
 * clipping). The three batch methods share state: call {@link GhostClippingModel.forwardBackward} first.
 * @example
 * ```ts
 * const model = logisticRegression({ features: 2 });
 * model.forwardBackward(Float64Array.of(1, 2, 3, 4), Float64Array.of(0, 1), 2);
 * const sq = new Float64Array(2 * model.parameterGroups.length);
 * model.perSampleSquaredNorms(sq);
 * ```
 */
export interface GhostClippingModel extends TrainableModel {
  /**
   * Forward and backward pass over a batch; keeps activations and backpropagated errors for the calls below.
   * `inputSquaredNorms`, when given, holds ‖x_i‖² for each row (the trainer computes them once per data set), so
   * the first layer's ghost norm does not re-read the inputs.
   */
  forwardBackward(x: Float64Array, y: Float64Array, rows: number, inputSquaredNorms?: Float64Array): BatchStats;
  /** Writes ‖g_i restricted to group l‖² into `out[i * groups + l]` for the last batch. */
  perSampleSquaredNorms(out: Float64Array): void;
  /**
   * Adds Σ_i w_i·g_i to `out` for the last batch. `weights` is null (all ones), one weight per example
   * (`perGroup` false), or one per example and group at `i * groups + l` (`perGroup` true).
   */
  accumulateGradient(weights: Float64Array | null, perGroup: boolean, out: Float64Array): void;
  /**
   * False: the trainers do not use the three methods above but `perSampleGradients`, clipping and summing in
   * float64 (for a model whose ghost kernels sum in a lower precision than the noise margin covers). Absent or
   * true: they do.
   */
  readonly ghostClipping?: boolean;
}

/**
 * Internal: `model` when it has the ghost-clipping kernels, whether or not it opts out of them for clipped sums
 * (plain SGD sums unclipped gradients and needs no sensitivity bound, so it uses them either way); else null.
 */
export function ghostKernels(model: TrainableModel): GhostClippingModel | null {
  const m = model as Partial<GhostClippingModel>;
  return typeof m.forwardBackward === 'function' &&
    typeof m.perSampleSquaredNorms === 'function' &&
    typeof m.accumulateGradient === 'function'
    ? (model as GhostClippingModel)
    : null;
}

/**
 * True when `model` implements the ghost-clipping kernels and does not opt out of them (`ghostClipping: false`).
 * A `model` that is not an object at all is a TypeError (it cannot be a {@link TrainableModel}), not `false`.
 * @example
 * ```ts
 * if (hasGhostClipping(model)) model.forwardBackward(x, y, rows);
 * ```
 */
export function hasGhostClipping(model: TrainableModel): model is GhostClippingModel {
  if (model === null || (typeof model !== 'object' && typeof model !== 'function')) {
    throw new TypeError(`model must be a TrainableModel object, got ${describeValue(model)}`);
  }
  return (model as Partial<GhostClippingModel>).ghostClipping !== false && ghostKernels(model) !== null;
}
