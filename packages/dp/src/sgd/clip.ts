/**
 * Per-example gradient clipping for DP-SGD (Abadi et al. 2016, Algorithm 1, "clip gradient"): each example's
 * gradient g_i is scaled by C / max(‖g_i‖₂, C), so its norm is at most C and the sum of clipped gradients has L2
 * sensitivity C under adding or removing one example. This is TensorFlow's `clip_by_global_norm` factor; it is
 * exactly 1 for gradients already within C (Opacus' min(1, C/(‖g‖ + 1e-6)) shrinks them slightly).
 *
 * Per-layer clipping (McMahan et al. 2018, §3 "per-layer clipping") clips each layer's slice to its own C_l; the
 * sum then has sensitivity ‖(C_1, …, C_L)‖₂, which is the clip norm the noise must be scaled by
 * ({@link totalClipNorm}).
 * @module
 */
import { assertArrayLike, assertInteger, assertNonNegative, assertOptions, describeValue } from '@ppml/core';
import type { PerSampleGradients } from './model.ts';

/** How per-example gradients are clipped: one norm for the whole vector, or one per layer. */
export type Clipping = 'flat' | 'per-layer';

/** Options of {@link clipPerSampleGradients} and {@link clipAndSum}. */
export interface ClipOptions {
  /**
   * Flat clipping: the bound C > 0. Per-layer clipping: one bound per layer, or a single total C split evenly as
   * C/√L per layer (so the total stays C).
   */
  clipNorm: number | readonly number[];
  /** Parameter counts of the layers, in order, for per-layer clipping; omit for flat clipping. */
  layers?: readonly number[];
  /** When given, every per-example gradient must have this length. */
  parameterCount?: number;
}

/** Result of {@link clipAndSum}. */
export interface ClippedSum {
  /** Σ_i clip(g_i). */
  sum: Float64Array;
  /** Number of examples. */
  rows: number;
  /** Examples whose gradient (or, per layer, any layer's slice) was scaled down. */
  clipped: number;
}

/**
 * Most layers per-layer clipping accepts: far above any real network, and small enough that the per-layer
 * arrays sized by it are allocated at once rather than refused by the engine.
 */
const MAX_CLIP_LAYERS = 1 << 20;

/** The clip factor without checks, for the kernels (their norms are computed here, finite and >= 0). */
function clipFactorOf(norm: number, clipNorm: number): number {
  return norm > clipNorm ? clipNorm / norm : 1;
}

/**
 * The clip factor C / max(norm, C): 1 when norm ≤ C, else C / norm. `norm` must be a finite number >= 0 (a
 * gradient norm) and `clipNorm` a finite number > 0; anything else is a TypeError/RangeError.
 * @example
 * ```ts
 * clipFactor(5, 1); // 0.2
 * clipFactor(0.5, 1); // 1
 * ```
 */
export function clipFactor(norm: number, clipNorm: number): number {
  assertNonNegative('norm', norm);
  assertClipNorm(clipNorm);
  return clipFactorOf(norm, clipNorm);
}

/**
 * Validates a clip norm (flat: a finite number > 0).
 * @example
 * ```ts
 * assertClipNorm(1); // ok; assertClipNorm(0) throws RangeError
 * ```
 */
export function assertClipNorm(clipNorm: unknown, name = 'clipNorm'): asserts clipNorm is number {
  if (typeof clipNorm !== 'number') throw new TypeError(`${name} must be a finite number > 0, got ${describeValue(clipNorm)}`);
  if (!(Number.isFinite(clipNorm) && clipNorm > 0)) {
    throw new RangeError(`${name} must be a finite number > 0, got ${describeValue(clipNorm)}`);
  }
}

/**
 * Per-layer clip norms from a single total (split as C/√L each) or an explicit list of L bounds. `layers` must be
 * an integer in [1, 2^20].
 * @example
 * ```ts
 * perLayerClipNorms(2, 4); // Float64Array [1, 1, 1, 1]
 * ```
 */
export function perLayerClipNorms(clipNorm: number | readonly number[], layers: number): Float64Array {
  // Checked before the allocation it sizes (a length of 1e308 is not the engine's error to report).
  assertInteger('layers', layers, 1, MAX_CLIP_LAYERS);
  if (typeof clipNorm === 'number') {
    assertClipNorm(clipNorm);
    return new Float64Array(layers).fill(clipNorm / Math.sqrt(layers));
  }
  if (!Array.isArray(clipNorm)) {
    throw new TypeError(`clipNorm must be a number or an array of per-layer numbers, got ${describeValue(clipNorm)}`);
  }
  if (clipNorm.length !== layers) {
    throw new RangeError(`clipNorm must list one bound per layer (${layers}), got ${clipNorm.length}`);
  }
  clipNorm.forEach((c, l) => {
    assertClipNorm(c, `clipNorm[${l}]`);
  });
  return Float64Array.from(clipNorm);
}

/**
 * The L2 sensitivity of a sum of per-layer clipped gradients: ‖(C_1, …, C_L)‖₂. Noise std is σ times this.
 * `clipNorms` must be an array or typed array of 1 to 2^20 finite numbers > 0 (its length is
 * checked before the loop, so an array-like claiming 2^31 entries is refused, not iterated). The sum is scaled by
 * the largest bound so that squares of large bounds do not overflow; a total beyond the largest double is a
 * RangeError.
 * @example
 * ```ts
 * totalClipNorm([3, 4]); // 5
 * ```
 */
export function totalClipNorm(clipNorms: ArrayLike<number>): number {
  assertArrayLike('clipNorms', clipNorms, 1, MAX_CLIP_LAYERS);
  let max = 0;
  for (let l = 0; l < clipNorms.length; l++) {
    const c = clipNorms[l];
    assertClipNorm(c, `clipNorms[${l}]`);
    if (c > max) max = c;
  }
  let s = 0;
  for (let l = 0; l < clipNorms.length; l++) {
    const r = clipNorms[l] / max;
    s += r * r;
  }
  const total = max * Math.sqrt(s);
  if (!Number.isFinite(total)) {
    throw new RangeError(`clipNorms must have a total L2 norm below ${Number.MAX_VALUE}, got more (largest bound ${max})`);
  }
  return total;
}

/**
 * Rows of a {@link PerSampleGradients} value as views (no copies), checking that every row is a typed array of
 * the same length, equal to `parameterCount` when given.
 * @example
 * ```ts
 * const rows = gradientRows({ data: new Float64Array(6), rows: 2, cols: 3 }); // two views of length 3
 * ```
 */
export function gradientRows(grads: PerSampleGradients, parameterCount?: number): (Float64Array | Float32Array)[] {
  let rows: (Float64Array | Float32Array)[];
  if (Array.isArray(grads)) {
    rows = grads as (Float64Array | Float32Array)[];
  } else if (grads !== null && typeof grads === 'object' && 'data' in grads) {
    const m = grads as { data: Float64Array | Float32Array; rows: number; cols: number };
    if (!(m.data instanceof Float64Array || m.data instanceof Float32Array)) {
      throw new TypeError(`per-sample gradients data must be a Float64Array or Float32Array, got ${describeValue(m.data)}`);
    }
    if (!Number.isSafeInteger(m.rows) || !Number.isSafeInteger(m.cols) || m.rows < 0 || m.cols < 0 || m.rows * m.cols !== m.data.length) {
      throw new RangeError(
        `per-sample gradients must be rows x cols = data.length, got rows=${describeValue(m.rows)}, cols=${describeValue(m.cols)}, data.length=${m.data.length}`,
      );
    }
    rows = [];
    for (let i = 0; i < m.rows; i++) rows.push(m.data.subarray(i * m.cols, (i + 1) * m.cols));
  } else {
    throw new TypeError(`per-sample gradients must be an array of typed arrays or { data, rows, cols }, got ${describeValue(grads)}`);
  }
  const width = parameterCount ?? (rows.length > 0 ? rows[0]?.length : 0);
  for (let i = 0; i < rows.length; i++) {
    const g = rows[i];
    if (!(g instanceof Float64Array || g instanceof Float32Array)) {
      throw new TypeError(`per-sample gradient ${i} must be a Float64Array or Float32Array, got ${describeValue(g)}`);
    }
    if (g.length !== width) {
      throw new RangeError(
        parameterCount === undefined
          ? `per-sample gradient ${i} has length ${g.length}, gradient 0 has ${width}: all must have the same length`
          : `per-sample gradient ${i} has length ${g.length}, but the model has ${parameterCount} parameters`,
      );
    }
  }
  return rows;
}

function layerBounds(layers: readonly number[] | undefined, width: number): Int32Array | null {
  if (layers === undefined) return null;
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new TypeError(`layers must be a non-empty array of parameter counts, got ${describeValue(layers)}`);
  }
  const bounds = new Int32Array(layers.length + 1);
  for (let l = 0; l < layers.length; l++) {
    const n = layers[l];
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`layers[${l}] must be an integer >= 1, got ${describeValue(n)}`);
    bounds[l + 1] = bounds[l] + n;
  }
  if (bounds[layers.length] !== width) {
    throw new RangeError(`layers must add up to the gradient length ${width}, got ${bounds[layers.length]}`);
  }
  return bounds;
}

function sumSquares(g: Float64Array | Float32Array, from: number, to: number): number {
  let s = 0;
  for (let k = from; k < to; k++) s += g[k] * g[k];
  return s;
}

/**
 * Internal: THE clip-factor computation, shared by {@link clipAndSum} and the trainer's ghost-clipping step. From
 * squared norms `sq[i * groups + l]` of example i's slice l, writes the factors C / max(norm, C) into `out`: one
 * per example from the total norm (flat: `clipNorms` null, bound `clipNorm`), or one per example and group at
 * `i * groups + l` (per layer: bound `clipNorms[l]`). Returns the number of examples scaled down (per layer: in
 * any group).
 */
export function clipFactorsFromSquaredNorms(
  sq: Float64Array,
  rows: number,
  groups: number,
  clipNorms: Float64Array | null,
  clipNorm: number,
  out: Float64Array,
): number {
  let clipped = 0;
  if (clipNorms === null) {
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let l = 0; l < groups; l++) s += sq[i * groups + l];
      const f = clipFactorOf(Math.sqrt(s), clipNorm);
      out[i] = f;
      if (f < 1) clipped++;
    }
    return clipped;
  }
  for (let i = 0; i < rows; i++) {
    let any = false;
    for (let l = 0; l < groups; l++) {
      const f = clipFactorOf(Math.sqrt(sq[i * groups + l]), clipNorms[l]);
      out[i * groups + l] = f;
      if (f < 1) any = true;
    }
    if (any) clipped++;
  }
  return clipped;
}

/**
 * Clip factors for each example: one per example (flat) or `rows × layers` (per layer, at `i * L + l`).
 * Also returns how many examples were scaled down.
 */
function clipFactors(
  rows: (Float64Array | Float32Array)[],
  options: ClipOptions,
  width: number,
): { factors: Float64Array; perGroup: boolean; bounds: Int32Array | null; clipped: number } {
  const bounds = layerBounds(options.layers, width);
  if (bounds === null) {
    const C = options.clipNorm;
    assertClipNorm(C);
    const sq = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) sq[i] = sumSquares(rows[i], 0, width);
    const factors = new Float64Array(rows.length);
    const clipped = clipFactorsFromSquaredNorms(sq, rows.length, 1, null, C, factors);
    return { factors, perGroup: false, bounds, clipped };
  }
  const L = bounds.length - 1;
  const Cs = perLayerClipNorms(options.clipNorm, L);
  const sq = new Float64Array(rows.length * L);
  for (let i = 0; i < rows.length; i++) {
    for (let l = 0; l < L; l++) sq[i * L + l] = sumSquares(rows[i], bounds[l], bounds[l + 1]);
  }
  const factors = new Float64Array(rows.length * L);
  const clipped = clipFactorsFromSquaredNorms(sq, rows.length, L, Cs, 0, factors);
  return { factors, perGroup: true, bounds, clipped };
}

/**
 * Clipped copies of per-example gradients (for inspection and custom pipelines; training uses
 * {@link clipAndSum}, which never stores them).
 * @example
 * ```ts
 * const [a, b] = clipPerSampleGradients([Float64Array.of(3, 4), Float64Array.of(0.3, 0.4)], { clipNorm: 1 });
 * // a = [0.6, 0.8] (norm 1), b unchanged
 * ```
 */
const CLIP_KEYS = ['clipNorm', 'layers', 'parameterCount'] as const;

export function clipPerSampleGradients(grads: PerSampleGradients, options: ClipOptions): Float64Array[] {
  assertOptions('options', options, CLIP_KEYS);
  const rows = gradientRows(grads, options.parameterCount);
  const width = rows.length > 0 ? rows[0].length : (options.parameterCount ?? 0);
  const { factors, perGroup, bounds } = clipFactors(rows, options, width);
  return rows.map((g, i) => {
    const out = Float64Array.from(g);
    if (!perGroup || bounds === null) {
      const f = factors[i];
      if (f !== 1) for (let k = 0; k < width; k++) out[k] *= f;
      return out;
    }
    const L = bounds.length - 1;
    for (let l = 0; l < L; l++) {
      const f = factors[i * L + l];
      if (f !== 1) for (let k = bounds[l]; k < bounds[l + 1]; k++) out[k] *= f;
    }
    return out;
  });
}

/**
 * Σ_i clip(g_i) over per-example gradients, flat or per layer, without storing clipped copies.
 * @example
 * ```ts
 * const { sum } = clipAndSum([Float64Array.of(3, 4), Float64Array.of(0, 0.5)], { clipNorm: 1 });
 * // sum = [0.6, 1.3]
 * ```
 */
export function clipAndSum(grads: PerSampleGradients, options: ClipOptions, out?: Float64Array): ClippedSum {
  assertOptions('options', options, CLIP_KEYS);
  const rows = gradientRows(grads, options.parameterCount);
  const width = rows.length > 0 ? rows[0].length : (options.parameterCount ?? out?.length ?? 0);
  const sum = out ?? new Float64Array(width);
  if (sum.length !== width) throw new RangeError(`out must have length ${width}, got ${sum.length}`);
  sum.fill(0);
  const { factors, perGroup, bounds, clipped } = clipFactors(rows, options, width);
  for (let i = 0; i < rows.length; i++) {
    const g = rows[i];
    if (!perGroup || bounds === null) {
      const f = factors[i];
      for (let k = 0; k < width; k++) sum[k] += f * g[k];
      continue;
    }
    const L = bounds.length - 1;
    for (let l = 0; l < L; l++) {
      const f = factors[i * L + l];
      for (let k = bounds[l]; k < bounds[l + 1]; k++) sum[k] += f * g[k];
    }
  }
  return { sum, rows: rows.length, clipped };
}
