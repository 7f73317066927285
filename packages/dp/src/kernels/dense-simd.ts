/**
 * The float32 training pass of the built-in MLP on WebAssembly SIMD kernels (`dense.wat`): forward pass, backward
 * pass and the (clipped) gradient sum of a stack of dense layers, with every matrix product in a register-blocked
 * 128-bit kernel. It is the arithmetic PyTorch and Opacus use by default (float32 weights, activations and
 * per-example errors: Opacus, Yousefpour et al. 2021, "Opacus: User-Friendly Differential Privacy Library in
 * PyTorch", computes per-sample gradients on PyTorch's default float32 tensors). What stays float64, and why:
 * - the parameter vector, the update and the noise (the public `parameters: Float64Array`; secure noise lives on a
 *   float64 grid, see optimizer.ts);
 * - the per-example gradient norms and clip factors (summed in float64 from the float32 values actually used);
 * - the clipped gradient sum of DP-SGD: the float32 errors and activations are promoted to float64 (exactly), each
 *   error row is scaled by its clip factor and the sum Σ_i w_i e_i [a_i, 1]ᵀ is formed in float64 (`gemm_f64`),
 *   so it carries only the float64 rounding that the noise grid margin already covers (see optimizer.ts). The
 *   first layer's input is rounded to float32 while its norm may come from the float64 data, so the clip factors
 *   are multiplied by 1 − 2^-22: no example's contribution exceeds the clip norm. Plain SGD (no weights) releases
 *   nothing private, so its sum is a float32 product, as in PyTorch.
 * Float32 rounding in the forward and backward passes (relative 2^-24 per operation) changes which gradient is
 * clipped, not the sensitivity of the sum, and is orders of magnitude below the DP noise (σC per coordinate).
 *
 * Matrices are row-major with their widths padded to a multiple of 4 (zeros) and their row count padded to a
 * multiple of 4, so the kernels need no scalar tails. Where WebAssembly or its SIMD extension is missing (an old
 * browser, a page whose content security policy forbids compiling WebAssembly), {@link createSimdDensePass} returns
 * null and the model keeps its float64 JavaScript kernels.
 * @module
 */
import { DENSE_WASM_BASE64 } from './dense-wasm.ts';

/** The kernel exports of dense.wat (pointers and strides in bytes). */
interface DenseExports {
  gemm_f32(a: number, b: number, c: number, m: number, n: number, k: number, sai: number, sak: number): void;
  gemm_f64(a: number, b: number, c: number, m: number, n: number, k: number, sai: number, sak: number): void;
  promote(src: number, dst: number, count: number): void;
  scale_rows(src: number, w: number, dst: number, rows: number, n: number): void;
  col_sums(p: number, rows: number, n: number, out: number): void;
  row_sumsq(p: number, rows: number, n: number, out: number): void;
  fill_rows(c: number, row: number, m: number, n: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  col_sums_f32(p: number, rows: number, n: number, out: number): void;
  relu(p: number, count: number): void;
  relu_backward(e: number, a: number, count: number): void;
  tanh_backward(e: number, a: number, count: number): void;
}

/** A compiled WebAssembly module (opaque here). */
type WasmModule = object;

/** A WebAssembly memory. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/**
 * The part of the WebAssembly JavaScript API used here. The package's type check has no DOM library, and the
 * global may be missing altogether (an engine without WebAssembly), so it is read from `globalThis`.
 */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { readonly exports: unknown };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}

const wasmApi = (): WasmApi | undefined => (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: WasmModule | null | undefined;

/**
 * The compiled kernels, or null where WebAssembly SIMD cannot be compiled here. Compiled once per realm,
 * synchronously: the module is under 3 KB, below the 4 KB that some browsers allow for synchronous compilation
 * on the main thread.
 */
function kernelModule(): WasmModule | null {
  if (compiled !== undefined) return compiled;
  let result: WasmModule | null = null;
  try {
    const api = wasmApi();
    if (api !== undefined && typeof atob === 'function') {
      const text = atob(DENSE_WASM_BASE64);
      const bytes = new Uint8Array(text.length);
      for (let k = 0; k < text.length; k++) bytes[k] = text.charCodeAt(k);
      // validate() is false where the SIMD proposal is not supported; a CSP that forbids compilation throws.
      if (api.validate(bytes)) result = new api.Module(bytes);
    }
  } catch {
    result = null;
  }
  compiled = result;
  return result;
}

/**
 * Whether the WebAssembly SIMD kernels run here (false in an engine without WebAssembly SIMD).
 * @example
 * ```ts
 * const fast = simdDenseKernelsAvailable(); // true on Node 16.4+ and current browsers
 * ```
 */
export function simdDenseKernelsAvailable(): boolean {
  return kernelModule() !== null;
}

const PAGE = 65536;
/**
 * 1 − 2^-22: with ‖x_i‖² from the float64 data, the first layer's float32 input can be longer by a factor up to
 * 1 + 2^-24; this shrink (plus float64 rounding, far smaller) keeps each clipped contribution within C.
 */
const CLIP_SHRINK = 1 - 2 ** -22;

const pad4 = (n: number): number => (n + 3) & ~3;

/**
 * One model's float32 workspace: padded weights, activations, errors and scratch in a WebAssembly memory of its
 * own. Not exported from the package; `DenseModel` owns one (released with it by the garbage collector: it holds
 * only memory, no handles).
 * @example
 * ```ts
 * const pass = createSimdDensePass([2, 4, 1], true);
 * pass?.forward(Float64Array.of(1, 2), 1, params, [0, 12], [8, 16]); // logits in pass.logits()[0]
 * ```
 */
export class SimdDensePass {
  /** Padded layer widths. */
  readonly widths: readonly number[];
  readonly #sizes: readonly number[];
  readonly #relu: boolean;
  readonly #memory: WasmMemory;
  readonly #k: DenseExports;
  #capacity = 0;
  /** Byte offsets. */
  #wt: number[] = [];
  #w: number[] = [];
  #bias: number[] = [];
  #acts: number[] = [];
  #errs: number[] = [];
  /** float64 scratch: scaled errors, promoted activations, weights, row norms, bias gradient. */
  #scaled = 0;
  #acts64 = 0;
  #weights = 0;
  #rowSq = 0;
  #biasGrad = 0;
  #grad = 0;
  /** Views (rebuilt when the memory grows). */
  #wView: Float32Array[] = [];
  #biasView: Float32Array[] = [];
  #actView: Float32Array[] = [];
  #errView: Float32Array[] = [];
  #weightsView = new Float64Array(0);
  #rowSqView = new Float64Array(0);
  #biasGradView = new Float64Array(0);
  #gradView = new Float64Array(0);
  #grad32View = new Float32Array(0);

  constructor(api: WasmApi, module: WasmModule, sizes: readonly number[], relu: boolean) {
    this.#sizes = sizes;
    this.widths = sizes.map(pad4);
    this.#relu = relu;
    this.#memory = new api.Memory({ initial: 1 });
    const instance = new api.Instance(module, { env: { memory: this.#memory } });
    this.#k = instance.exports as unknown as DenseExports;
    this.reserve(16);
  }

  /** Makes room for `rows` rows (a RangeError when the memory cannot grow). */
  reserve(rows: number): void {
    if (rows <= this.#capacity) return;
    const cap = pad4(Math.max(rows, Math.ceil(this.#capacity * 1.5), 16));
    const s = this.widths;
    const L = s.length - 1;
    let at = 0;
    const take = (bytes: number): number => {
      const p = at;
      at += (bytes + 15) & ~15;
      return p;
    };
    this.#wt = [];
    this.#w = [];
    this.#bias = [];
    this.#acts = [];
    this.#errs = [];
    let maxWidth = 0;
    let maxLayer = 0;
    for (let l = 0; l < L; l++) {
      this.#wt.push(take(s[l] * s[l + 1] * 4));
      this.#w.push(take(s[l] * s[l + 1] * 4));
      this.#bias.push(take(s[l + 1] * 4));
      this.#errs.push(take(cap * s[l + 1] * 4));
      maxLayer = Math.max(maxLayer, s[l] * s[l + 1]);
    }
    for (let l = 0; l <= L; l++) {
      this.#acts.push(take(cap * s[l] * 4));
      maxWidth = Math.max(maxWidth, s[l]);
    }
    this.#scaled = take(cap * maxWidth * 8);
    this.#acts64 = take(cap * maxWidth * 8);
    this.#weights = take(cap * 8);
    this.#rowSq = take(2 * cap * 8);
    this.#biasGrad = take(maxWidth * 8);
    this.#grad = take(maxLayer * 8);
    const have = this.#memory.buffer.byteLength;
    if (at > have) this.#memory.grow(Math.ceil((at - have) / PAGE));
    // A new layout reuses old bytes: zero everything so that padding starts (and stays) zero.
    new Uint8Array(this.#memory.buffer).fill(0);
    const buf = this.#memory.buffer;
    this.#wView = this.#w.map((p, l) => new Float32Array(buf, p, s[l] * s[l + 1]));
    this.#biasView = this.#bias.map((p, l) => new Float32Array(buf, p, s[l + 1]));
    this.#actView = this.#acts.map((p, l) => new Float32Array(buf, p, cap * s[l]));
    this.#errView = this.#errs.map((p, l) => new Float32Array(buf, p, cap * s[l + 1]));
    this.#weightsView = new Float64Array(buf, this.#weights, cap);
    this.#rowSqView = new Float64Array(buf, this.#rowSq, 2 * cap);
    this.#biasGradView = new Float64Array(buf, this.#biasGrad, maxWidth);
    this.#gradView = new Float64Array(buf, this.#grad, maxLayer);
    this.#grad32View = new Float32Array(buf, this.#grad, maxLayer);
    this.#capacity = cap;
  }

  /** Copies the float64 parameters (per layer: weights out × in, then bias) into the float32 padded matrices. */
  loadParameters(P: Float64Array, weightOffset: readonly number[], biasOffset: readonly number[]): void {
    const n = this.#sizes;
    const s = this.widths;
    for (let l = 0; l + 1 < n.length; l++) {
      const nIn = n[l];
      const nOut = n[l + 1];
      const sOut = s[l + 1];
      const sIn = s[l];
      const w = this.#wView[l];
      const wOff = weightOffset[l];
      for (let o = 0; o < nOut; o++) {
        const src = wOff + o * nIn;
        const dst = o * sIn;
        for (let j = 0; j < nIn; j++) w[dst + j] = P[src + j];
      }
      // W (out × in) for the backward pass, Wᵀ (in × out) for the forward pass; padding stays zero in both.
      this.#k.transpose(this.#w[l], this.#wt[l], sOut, sIn);
      const b = this.#biasView[l];
      for (let o = 0; o < nOut; o++) b[o] = P[biasOffset[l] + o];
    }
  }

  /**
   * Forward pass of `rows` rows of `x` (row-major, `features` per row) with the current float64 parameters; the
   * logits end in {@link logits}.
   */
  forward(x: Float64Array, rows: number, P: Float64Array, weightOffset: readonly number[], biasOffset: readonly number[]): void {
    this.reserve(rows);
    this.loadParameters(P, weightOffset, biasOffset);
    const n = this.#sizes;
    const s = this.widths;
    const L = s.length - 1;
    const rp = pad4(rows);
    const a0 = this.#actView[0];
    const d = n[0];
    const s0 = s[0];
    for (let i = 0; i < rows; i++) {
      const to = i * s0;
      const from = i * d;
      for (let j = 0; j < d; j++) a0[to + j] = x[from + j];
    }
    a0.fill(0, rows * s0, rp * s0);
    for (let l = 0; l < L; l++) {
      const sOut = s[l + 1];
      const out = this.#actView[l + 1];
      this.#k.fill_rows(this.#acts[l + 1], this.#bias[l], rp, sOut);
      this.#k.gemm_f32(this.#acts[l], this.#wt[l], this.#acts[l + 1], rp, sOut, s[l], s[l] * 4, 4);
      if (l + 1 < L) {
        if (this.#relu) this.#k.relu(this.#acts[l + 1], rp * sOut);
        else for (let k = 0; k < rp * sOut; k++) out[k] = Math.tanh(out[k]);
      }
    }
  }

  /** Logits of the last forward pass: `widths[L]` values per row (the first `outputs` are the logits). */
  logits(): Float32Array {
    return this.#actView[this.widths.length - 1];
  }

  /** The head error (dLoss/dlogits) to fill before {@link backward}; rows and columns past the batch must be 0. */
  headError(): Float32Array {
    return this.#errView[this.widths.length - 2];
  }

  /** Layer input activations of layer l (row stride `widths[l]`). */
  activations(l: number): Float32Array {
    return this.#actView[l];
  }

  /** Backpropagated errors of layer l (row stride `widths[l + 1]`). */
  errors(l: number): Float32Array {
    return this.#errView[l];
  }

  /** Backward pass: errors of every layer from the head error, for `rows` rows. */
  backward(rows: number): void {
    const s = this.widths;
    const rp = pad4(rows);
    for (let l = s.length - 2; l >= 1; l--) {
      const sIn = s[l];
      const sOut = s[l + 1];
      this.#errView[l - 1].fill(0, 0, rp * sIn);
      this.#k.gemm_f32(this.#errs[l], this.#w[l], this.#errs[l - 1], rp, sIn, sOut, sOut * 4, 4);
      if (this.#relu) this.#k.relu_backward(this.#errs[l - 1], this.#acts[l], rp * sIn);
      else this.#k.tanh_backward(this.#errs[l - 1], this.#acts[l], rp * sIn);
    }
  }

  /**
   * Adds Σ_i w_i·e_i [a_i, 1]ᵀ of layer l to `out` (the float64 gradient, at the layer's offsets). `weights` null
   * means all ones: plain SGD, which releases nothing private, so its sum is a float32 product like PyTorch's.
   * Otherwise w_i = weights[i * stride + shift], multiplied by 1 − 2^-22, and the sum is formed in float64 (see the
   * module note).
   */
  accumulate(
    l: number,
    rows: number,
    weights: Float64Array | null,
    stride: number,
    shift: number,
    out: Float64Array,
    weightOffset: number,
    biasOffset: number,
  ): void {
    const s = this.widths;
    const nIn = this.#sizes[l];
    const nOut = this.#sizes[l + 1];
    const sIn = s[l];
    const sOut = s[l + 1];
    const rp = pad4(rows);
    const bg = this.#biasGradView;
    bg.fill(0, 0, sOut);
    if (weights === null) {
      this.#k.col_sums_f32(this.#errs[l], rp, sOut, this.#biasGrad);
      for (let o = 0; o < nOut; o++) out[biasOffset + o] += bg[o];
      const g32 = this.#grad32View;
      g32.fill(0, 0, sOut * sIn);
      this.#k.gemm_f32(this.#errs[l], this.#acts[l], this.#grad, sOut, sIn, rp, 4, sOut * 4);
      for (let o = 0; o < nOut; o++) {
        const src = o * sIn;
        const dst = weightOffset + o * nIn;
        for (let j = 0; j < nIn; j++) out[dst + j] += g32[src + j];
      }
      return;
    }
    // Clipped sum in float64: scaled[i, :] = w_i·e_i, the layer input promoted to float64, G = scaledᵀ · acts.
    const wv = this.#weightsView;
    for (let i = 0; i < rows; i++) wv[i] = weights[i * stride + shift] * CLIP_SHRINK;
    wv.fill(0, rows, rp);
    this.#k.scale_rows(this.#errs[l], this.#weights, this.#scaled, rp, sOut);
    this.#k.col_sums(this.#scaled, rp, sOut, this.#biasGrad);
    for (let o = 0; o < nOut; o++) out[biasOffset + o] += bg[o];
    this.#k.promote(this.#acts[l], this.#acts64, rp * sIn);
    const g = this.#gradView;
    g.fill(0, 0, sOut * sIn);
    // A(o, i) = scaled[i, o]: A's row stride is one value (8 bytes), its k stride one row of scaled.
    this.#k.gemm_f64(this.#scaled, this.#acts64, this.#grad, sOut, sIn, rp, 8, sOut * 8);
    for (let o = 0; o < nOut; o++) {
      const src = o * sIn;
      const dst = weightOffset + o * nIn;
      for (let j = 0; j < nIn; j++) out[dst + j] += g[src + j];
    }
  }

  /**
   * Ghost norms of the last batch: out[i * layers + l] = (‖a_i‖² + 1)·‖e_i‖² for layer l, in float64 from the
   * float32 values the gradient sum uses. `inputSq`, when given, replaces ‖a_i‖² of layer 0 (the trainer's ‖x_i‖²).
   */
  squaredNorms(rows: number, inputSq: Float64Array | null, out: Float64Array): void {
    const s = this.widths;
    const G = s.length - 1;
    const sq = this.#rowSqView;
    const cap = this.#capacity;
    for (let l = 0; l < G; l++) {
      if (l > 0 || inputSq === null) this.#k.row_sumsq(this.#acts[l], rows, s[l], this.#rowSq);
      this.#k.row_sumsq(this.#errs[l], rows, s[l + 1], this.#rowSq + cap * 8);
      for (let i = 0; i < rows; i++) {
        const aa = 1 + (l === 0 && inputSq !== null ? inputSq[i] : sq[i]);
        out[i * G + l] = aa * sq[cap + i];
      }
    }
  }
}

/**
 * A float32 SIMD workspace for a dense stack, or null where the kernels are unavailable or the memory cannot be
 * allocated (the caller then keeps its float64 kernels).
 * @example
 * ```ts
 * const pass = createSimdDensePass([30, 64, 64, 1], true); // null without WebAssembly SIMD
 * ```
 */
export function createSimdDensePass(sizes: readonly number[], relu: boolean): SimdDensePass | null {
  const module = kernelModule();
  const api = wasmApi();
  if (module === null || api === undefined) return null;
  try {
    return new SimdDensePass(api, module, sizes, relu);
  } catch {
    return null;
  }
}
