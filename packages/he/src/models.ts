/**
 * Model descriptions for encrypted inference: linear and logistic regression, softmax regression (the client
 * applies the softmax) and small MLPs whose hidden activations are polynomials. Everything here is plain data
 * (typed arrays), checked once, so that a model can be sent to worker threads and evaluated there.
 *
 * CKKS can only add and multiply (Cheon et al. 2017), so a non-polynomial activation (ReLU, tanh, the sigmoid)
 * must be replaced by a polynomial fitted on a declared input range (see `poly.ts`); inputs outside that range
 * give meaningless results, and the server cannot check them because it never sees them. Logistic regression can
 * instead leave the sigmoid to the client (`sigmoid: 'client'`, the Concrete ML approach), which is exact.
 *
 * Weights are accepted as plain JSON, including the `toJSON()` output of the DP-SGD models of `@ppml/dp`
 * (`{ kind: 'logistic-regression' | 'softmax-regression' | 'mlp', … }`) without depending on that package.
 * @module
 */
import { assertArrayLike, assertFinite, assertInteger, assertOptions, assertPositive, describeValue, toFloat64Array } from '@ppml/core';
import { CUBIC_SHIFT_LIMIT } from './evaluate.ts';
import type { CkksPlan } from './planner.ts';
import {
  type ActivationName,
  type FitMethod,
  type PolynomialApproximation,
  SIGMOID_POLY3,
  approximateActivation,
  degreeOf,
  polyval,
  polynomialDepth,
} from './poly.ts';

/** What the client does to decrypted outputs. */
export type PostProcess = 'none' | 'sigmoid' | 'softmax';

/** One dense layer: out = W·in + b, W row-major (out × in). */
export interface DenseLayer {
  readonly inputs: number;
  readonly outputs: number;
  readonly weights: Float64Array;
  readonly bias: Float64Array;
}

/** A polynomial applied under encryption, with where it came from. */
export interface PolynomialStep {
  readonly coefficients: Float64Array;
  /** Declared valid input range, or undefined for an exact polynomial (e.g. the square). */
  readonly range: readonly [number, number] | undefined;
  /** Largest approximation error on the range (0 for exact polynomials). */
  readonly maxError: number;
  readonly description: string;
}

/** A checked model, ready to compile: plain data, structured-clone safe. */
export interface ModelSpec {
  readonly kind: 'linear' | 'logistic-regression' | 'softmax-regression' | 'mlp';
  readonly layers: readonly DenseLayer[];
  /**
   * Declared |x_j| bound of each input feature (`featureBounds`), or undefined. Used to keep a server-side
   * polynomial inside its fitted range and, with the plan's `inputBound`, to bound intermediate values.
   */
  readonly inputBounds?: Float64Array;
  /** Applied after every layer but the last. */
  readonly activation: PolynomialStep | undefined;
  /** Applied under encryption after the last layer (e.g. a sigmoid polynomial). */
  readonly output: PolynomialStep | undefined;
  /** Applied by the client after decryption. */
  readonly post: PostProcess;
}

/** How a logistic regression's sigmoid is computed. */
export type SigmoidOption =
  | 'poly3'
  | 'client'
  | { readonly degree: number; readonly range: readonly [number, number] | number; readonly method?: FitMethod }
  | PolynomialApproximation;

/** A hidden activation: the exact square, a named function approximated on a range, or given coefficients. */
export type ActivationOption =
  | 'square'
  | {
      readonly approximate: ActivationName;
      readonly degree?: number;
      readonly range: readonly [number, number] | number;
      readonly method?: FitMethod;
    }
  | { readonly coefficients: ArrayLike<number>; readonly range?: readonly [number, number] };

/** Weights of a linear or logistic regression. */
export interface LinearWeights {
  readonly weights: ArrayLike<number>;
  readonly bias?: number;
}

/** Options of a logistic regression. */
export interface LogisticOptions extends LinearWeights {
  /**
   * Default `'client'`: the server computes z = w·x + b and the client applies the exact sigmoid after
   * decryption (depth 1, right for every model). A polynomial (`'poly3'`, `{ degree, range }` or an
   * approximation) is evaluated by the server and is only valid on its fitted range, so it needs
   * `featureBounds`.
   */
  readonly sigmoid?: SigmoidOption;
  /**
   * The largest |x_j| of each feature (one number for all, or one per feature). Required with a polynomial
   * sigmoid: the model is refused unless every z = w·x + b with |x_j| <= bound_j lies in the polynomial's range
   * (for a symmetric range: ‖w‖₁·bound + |b| <= range). The server also refuses bounds below the client's
   * `inputBound` (the client refuses only larger features), so create the client with `inputBound` <= these.
   */
  readonly featureBounds?: number | ArrayLike<number>;
}

/** Keys of {@link LogisticOptions}. */
const LOGISTIC_KEYS = ['weights', 'bias', 'sigmoid', 'featureBounds'] as const;
/** Keys of {@link LinearWeights}. */
const LINEAR_KEYS = ['weights', 'bias'] as const;

/**
 * Largest number of inputs or outputs of a dense layer, and of weights in one layer, checked before anything is
 * allocated. In the column layout every feature is one ciphertext of each batch, all held at once (0.5-1 MiB
 * each in the SEAL heap), so 65,536 features would already need 32-64 GiB: far beyond the 4 GiB wasm32 heap.
 * @example
 * ```ts
 * linearSpec({ weights: new Array(MAX_LAYER_WIDTH + 1).fill(1) }); // RangeError: at most 65536 inputs
 * ```
 */
export const MAX_LAYER_WIDTH = 65_536;
/** Largest number of weights in one dense layer (2^24 doubles: 128 MiB). */
const MAX_LAYER_WEIGHTS = 2 ** 24;

/** One layer in JSON: weights row-major (out × in), as `@ppml/dp` writes them. */
export interface DenseLayerInput {
  readonly weights: ArrayLike<number>;
  readonly bias: ArrayLike<number>;
}

/** Options of an MLP. */
export interface MlpOptions {
  readonly layers: readonly DenseLayerInput[];
  /** Hidden activation; `'relu'`/`'tanh'` (as in `@ppml/dp` JSON) need `activationRange`. */
  readonly activation: ActivationOption | 'relu' | 'tanh' | 'sigmoid';
  /** Input range over which a named activation is approximated (with `activationDegree`, default 3). */
  readonly activationRange?: readonly [number, number] | number;
  readonly activationDegree?: number;
  /** The output head: `'none'` (raw scores), `'sigmoid'`/`'softmax'` applied by the client. Default `'none'`. */
  readonly output?: PostProcess;
}

function toRange(name: string, r: readonly [number, number] | number): readonly [number, number] {
  if (typeof r === 'number') {
    if (!(r > 0) || !Number.isFinite(r)) throw new RangeError(`${name} must be a finite number > 0 or a pair, got ${describeValue(r)}`);
    return [-r, r];
  }
  if (!Array.isArray(r) || r.length !== 2) throw new TypeError(`${name} must be a pair [min, max] or a number, got ${describeValue(r)}`);
  assertFinite(`${name}[0]`, r[0]);
  assertFinite(`${name}[1]`, r[1]);
  if (!(r[1] > r[0])) throw new RangeError(`${name} must have min < max, got [${r[0]}, ${r[1]}]`);
  return [r[0], r[1]];
}

/** Checks a weights/bias array-like's type and length before it is copied (a huge `length` is refused, not allocated). */
function arrayOf(name: string, x: unknown, max: number): ArrayLike<number> {
  assertArrayLike(name, x, 0, max);
  return x as ArrayLike<number>;
}

function fromApproximation(a: PolynomialApproximation): PolynomialStep {
  const coefficients = toFloat64Array('coefficients', a.coefficients);
  if (degreeOf(coefficients) < 1) throw new RangeError('a polynomial activation must have degree >= 1');
  return { coefficients, range: toRange('range', a.range), maxError: a.maxError, description: a.description };
}

/**
 * Resolves a sigmoid option to a polynomial step (or undefined for `'client'`).
 * @example
 * ```ts
 * sigmoidStep({ degree: 3, range: 8 })?.maxError;
 * ```
 */
export function sigmoidStep(option: SigmoidOption = 'client'): PolynomialStep | undefined {
  if (option === 'client') return undefined;
  if (option === 'poly3') return fromApproximation(SIGMOID_POLY3);
  if (option !== null && typeof option === 'object' && !Array.isArray(option)) {
    if ('coefficients' in option) {
      assertOptions('sigmoid', option as unknown, ['coefficients', 'range', 'maxError', 'description']);
      return fromApproximation(option);
    }
    if ('degree' in option) {
      assertOptions('sigmoid', option as unknown, ['degree', 'range', 'method']);
      return fromApproximation(approximateActivation('sigmoid', option.degree, toRange('sigmoid.range', option.range), option.method));
    }
  }
  throw new RangeError(`sigmoid must be 'poly3', 'client', { degree, range } or an approximation, got ${describeValue(option)}`);
}

/** Most dense layers an MLP may have (each costs at least one level; no plan holds more than 30). */
const MAX_LAYERS = 64;

const NOT_POLYNOMIAL =
  'is not a polynomial and CKKS can only add and multiply: give activationRange (the interval the pre-activations ' +
  "stay in) so it can be approximated there, or use activation: 'square'";

/**
 * Resolves an activation option to a polynomial step.
 * @example
 * ```ts
 * activationStep({ approximate: 'tanh', degree: 3, range: 4 });
 * ```
 */
export function activationStep(option: MlpOptions['activation'], range?: readonly [number, number] | number, degree = 3): PolynomialStep {
  if (option === 'square') {
    return { coefficients: Float64Array.of(0, 0, 1), range: undefined, maxError: 0, description: 'square x^2 (exact)' };
  }
  if (option === 'relu' || option === 'tanh' || option === 'sigmoid') {
    if (range === undefined) throw new RangeError(`activation '${option}' ${NOT_POLYNOMIAL}`);
    return fromApproximation(approximateActivation(option, degree, toRange('activationRange', range)));
  }
  if (option !== null && typeof option === 'object' && !Array.isArray(option)) {
    if ('approximate' in option) {
      assertOptions('activation', option as unknown, ['approximate', 'degree', 'range', 'method']);
      return fromApproximation(
        approximateActivation(option.approximate, option.degree ?? degree, toRange('activation.range', option.range), option.method),
      );
    }
    if ('coefficients' in option) {
      assertOptions('activation', option as unknown, ['coefficients', 'range']);
      const coefficients = toFloat64Array('activation.coefficients', arrayOf('activation.coefficients', option.coefficients, 256));
      if (degreeOf(coefficients) < 1) throw new RangeError('activation.coefficients must describe a polynomial of degree >= 1');
      return {
        coefficients,
        range: option.range === undefined ? undefined : toRange('activation.range', option.range),
        maxError: 0,
        description: `polynomial [${Array.from(coefficients).join(', ')}]`,
      };
    }
  }
  throw new RangeError(
    `activation must be 'square', { approximate, range }, { coefficients } or 'relu'/'tanh' with activationRange, got ${describeValue(option)}`,
  );
}

function denseLayer(name: string, input: DenseLayerInput, inputs: number | undefined): DenseLayer {
  if (input === null || typeof input !== 'object') throw new TypeError(`${name} must be { weights, bias }, got ${describeValue(input)}`);
  const bias = toFloat64Array(`${name}.bias`, arrayOf(`${name}.bias`, input.bias, MAX_LAYER_WIDTH));
  const weights = toFloat64Array(`${name}.weights`, arrayOf(`${name}.weights`, input.weights, MAX_LAYER_WEIGHTS));
  const outputs = bias.length;
  if (outputs < 1) throw new RangeError(`${name}.bias must have at least one entry`);
  if (weights.length % outputs !== 0) {
    throw new RangeError(`${name}.weights must have outputs × inputs = ${outputs} × n entries, got ${weights.length}`);
  }
  const n = weights.length / outputs;
  if (inputs !== undefined && n !== inputs)
    throw new RangeError(`${name} must take ${inputs} inputs (row-major ${outputs} × ${inputs} weights), got ${n}`);
  if (n < 1) throw new RangeError(`${name}.weights must not be empty`);
  if (n > MAX_LAYER_WIDTH) throw new RangeError(`${name} must take at most ${MAX_LAYER_WIDTH} inputs, got ${n}`);
  for (let k = 0; k < outputs; k++) {
    let any = false;
    for (let j = 0; j < n; j++) if (weights[k * n + j] !== 0) any = true;
    if (!any) throw new RangeError(`${name} output ${k} has only zero weights: it is a constant and cannot be an encrypted result`);
  }
  return { inputs: n, outputs, weights, bias };
}

/**
 * A linear regression y = w·x + b.
 * @example
 * ```ts
 * const spec = linearSpec({ weights: [0.5, -1], bias: 0.1 });
 * ```
 */
export function linearSpec(options: LinearWeights): ModelSpec {
  return linearOf(options, LINEAR_KEYS);
}

function linearOf(options: LinearWeights, keys: readonly string[]): ModelSpec {
  assertOptions('options', options as unknown, keys);
  const bias = options.bias ?? 0;
  assertFinite('bias', bias);
  const layer = denseLayer('model', { weights: options.weights, bias: [bias] }, undefined);
  return { kind: 'linear', layers: [layer], activation: undefined, output: undefined, post: 'none' };
}

/**
 * A logistic regression σ(w·x + b), σ a polynomial or applied by the client.
 * @example
 * ```ts
 * const spec = logisticSpec({ weights: [0.5, -1], bias: 0.1, sigmoid: 'client' });
 * ```
 */
export function logisticSpec(options: LogisticOptions): ModelSpec {
  const base = linearOf(options, LOGISTIC_KEYS);
  const output = sigmoidStep(options.sigmoid ?? 'client');
  const layer = base.layers[0];
  const inputBounds = options.featureBounds === undefined ? undefined : featureBoundsOf(options.featureBounds, layer.inputs);
  if (output !== undefined) {
    // A polynomial is the sigmoid only on its fitted range; beyond it (|z| > 7 for poly3) the label flips. So the
    // range must hold every z the declared features can produce: z in [b - Σ|w_j|B_j, b + Σ|w_j|B_j].
    const [lo, hi] = output.range ?? [-Infinity, Infinity];
    if (inputBounds === undefined) {
      throw new RangeError(
        `sigmoid ${describeSigmoid(options.sigmoid)} is a polynomial evaluated by the server and is the sigmoid only on [${lo}, ${hi}]: ` +
          "declare featureBounds (the largest |x_j| of the features) so that the model can be checked against that range, or use sigmoid: 'client' (exact, the default)",
      );
    }
    let spread = 0;
    for (let j = 0; j < layer.inputs; j++) spread += Math.abs(layer.weights[j]) * inputBounds[j];
    const b = layer.bias[0];
    if (b - spread < lo || b + spread > hi) {
      throw new RangeError(
        `sigmoid ${describeSigmoid(options.sigmoid)} is fitted on [${lo}, ${hi}], but with featureBounds the model's z = w·x + b ranges over ` +
          `[${(b - spread).toPrecision(4)}, ${(b + spread).toPrecision(4)}] (‖w‖₁·bound + |b| = ${(spread + Math.abs(b)).toPrecision(4)}), where the polynomial ` +
          "is not the sigmoid and labels flip: use sigmoid: 'client' (exact), tighter featureBounds, or a polynomial fitted on a range that holds z " +
          `(e.g. sigmoid: { degree: 3, range: ${Math.ceil(spread + Math.abs(b))} }, less accurate)`,
      );
    }
  }
  return { ...base, kind: 'logistic-regression', inputBounds, output, post: output === undefined ? 'sigmoid' : 'none' };
}

function describeSigmoid(option: SigmoidOption | undefined): string {
  return typeof option === 'string' ? `'${option}'` : 'polynomial';
}

/** Per-feature bounds from one number or an array of `features` positive finite numbers. */
function featureBoundsOf(bounds: number | ArrayLike<number>, features: number): Float64Array {
  if (typeof bounds === 'number') {
    assertPositive('featureBounds', bounds);
    return new Float64Array(features).fill(bounds);
  }
  assertArrayLike('featureBounds', bounds, features, features);
  const out = toFloat64Array('featureBounds', bounds);
  out.forEach((v, j) => {
    if (!(v > 0)) throw new RangeError(`featureBounds[${j}] must be a finite number > 0, got ${v}`);
  });
  return out;
}

/**
 * An MLP with polynomial hidden activations.
 * @example
 * ```ts
 * const spec = mlpSpec({ layers: [{ weights: [1, 2], bias: [0] }, { weights: [3], bias: [1] }], activation: 'square' });
 * ```
 */
export function mlpSpec(options: MlpOptions): ModelSpec {
  assertOptions('options', options as unknown, ['layers', 'activation', 'activationRange', 'activationDegree', 'output']);
  // A bounded array first, then every entry by index: forEach would skip the holes of a sparse array.
  const input: unknown = options.layers;
  if (!Array.isArray(input)) throw new TypeError(`layers must be an array of { weights, bias }, got ${describeValue(input)}`);
  if (input.length < 1 || input.length > MAX_LAYERS) {
    throw new RangeError(`layers must have 1 to ${MAX_LAYERS} entries, got ${input.length}`);
  }
  const layers: DenseLayer[] = [];
  let inputs: number | undefined;
  for (let i = 0; i < input.length; i++) {
    if (!(i in input)) throw new TypeError(`layers[${i}] must be { weights, bias }, got a hole (sparse array)`);
    const layer = denseLayer(`layers[${i}]`, input[i] as DenseLayerInput, inputs);
    layers.push(layer);
    inputs = layer.outputs;
  }
  const activation = layers.length > 1 ? activationStep(options.activation, options.activationRange, options.activationDegree) : undefined;
  const post = options.output ?? 'none';
  if (post !== 'none' && post !== 'sigmoid' && post !== 'softmax') {
    throw new RangeError(`output must be 'none', 'sigmoid' or 'softmax', got ${describeValue(post)}`);
  }
  return { kind: 'mlp', layers, activation, output: undefined, post };
}

/** Options when importing JSON whose activations are not polynomials. */
export interface ImportOptions {
  /** For logistic regression (default `'client'`: exact and cheapest). */
  readonly sigmoid?: SigmoidOption;
  /** For logistic regression with a polynomial sigmoid: the largest |x_j| of the features (see {@link LogisticOptions}). */
  readonly featureBounds?: number | ArrayLike<number>;
  /** Override the hidden activation of an MLP (e.g. `{ approximate: 'tanh', degree: 3, range: 4 }`). */
  readonly activation?: ActivationOption;
  /** Range on which a JSON `'relu'`/`'tanh'` activation is approximated. */
  readonly activationRange?: readonly [number, number] | number;
  readonly activationDegree?: number;
}

/**
 * A model from plain JSON: `{ kind: 'linear' | 'logistic-regression' | 'softmax-regression' | 'mlp', … }` as
 * `@ppml/dp` models write it (`model.toJSON()`), or `{ weights, bias }` for a linear model.
 * @example
 * ```ts
 * const spec = specFromJSON({ kind: 'logistic-regression', features: 2, weights: [1, -1], bias: 0 });
 * ```
 */
export function specFromJSON(json: unknown, options: ImportOptions = {}): ModelSpec {
  assertOptions('options', options as unknown, ['sigmoid', 'featureBounds', 'activation', 'activationRange', 'activationDegree']);
  const obj: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  if (obj === null || typeof obj !== 'object') throw new TypeError(`json must be a model object, got ${describeValue(obj)}`);
  const j = obj as Record<string, unknown>;
  const features = j.features;
  if (features !== undefined) assertInteger('json.features', features, 1, 1 << 20);
  const checkFeatures = (spec: ModelSpec): ModelSpec => {
    if (features !== undefined && spec.layers[0].inputs !== features) {
      throw new RangeError(`json.features is ${features} but the weights describe ${spec.layers[0].inputs} inputs`);
    }
    return spec;
  };
  switch (j.kind) {
    case undefined:
    case 'linear':
    case 'linear-regression':
      return checkFeatures(linearSpec({ weights: j.weights as ArrayLike<number>, bias: (j.bias as number | undefined) ?? 0 }));
    case 'logistic-regression':
      return checkFeatures(
        logisticSpec({
          weights: j.weights as ArrayLike<number>,
          bias: j.bias as number,
          sigmoid: options.sigmoid ?? 'client',
          ...(options.featureBounds === undefined ? {} : { featureBounds: options.featureBounds }),
        }),
      );
    case 'softmax-regression': {
      const layer = denseLayer(
        'json',
        { weights: j.weights as ArrayLike<number>, bias: j.bias as ArrayLike<number> },
        features as number | undefined,
      );
      return { kind: 'softmax-regression', layers: [layer], activation: undefined, output: undefined, post: 'softmax' };
    }
    case 'mlp': {
      const layers = j.layers as DenseLayerInput[];
      if (!Array.isArray(layers)) throw new TypeError(`json.layers must be an array of { weights, bias }, got ${describeValue(layers)}`);
      const out = j.output === 'sigmoid' || j.output === 'softmax' ? j.output : 'none';
      const spec = mlpSpec({
        layers,
        activation: options.activation ?? (j.activation as MlpOptions['activation']),
        activationRange: options.activationRange,
        activationDegree: options.activationDegree,
        output: out,
      });
      return checkFeatures(spec);
    }
    default:
      throw new RangeError(
        `json.kind must be 'linear', 'logistic-regression', 'softmax-regression' or 'mlp', got ${describeValue(j.kind)}`,
      );
  }
}

/**
 * Requires a spec as the factories here build it (checked structure, not trusted fields): a plain object in
 * from a caller or a worker message must not reach the loops with a wrong shape.
 */
function assertSpec(spec: unknown): asserts spec is ModelSpec {
  const bad = (why: string): TypeError =>
    new TypeError(`spec must be a ModelSpec (from linearSpec, logisticSpec, mlpSpec or specFromJSON): ${why}`);
  if (spec === null || typeof spec !== 'object') throw bad(`got ${describeValue(spec)}`);
  const s = spec as Record<string, unknown>;
  const layers = s.layers;
  if (!Array.isArray(layers) || layers.length < 1 || layers.length > MAX_LAYERS)
    throw bad(`layers must be an array of 1 to ${MAX_LAYERS} layers`);
  let inputs: number | undefined;
  for (let i = 0; i < layers.length; i++) {
    const l: unknown = layers[i];
    if (l === null || typeof l !== 'object') throw bad(`layers[${i}] is ${describeValue(l)}`);
    const { inputs: n, outputs: m, weights, bias } = l as Record<string, unknown>;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_LAYER_WIDTH)
      throw bad(`layers[${i}].inputs is ${describeValue(n)}`);
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > MAX_LAYER_WIDTH)
      throw bad(`layers[${i}].outputs is ${describeValue(m)}`);
    if (inputs !== undefined && n !== inputs) throw bad(`layers[${i}] takes ${n} inputs, the previous layer gives ${inputs}`);
    if (!(weights instanceof Float64Array) || weights.length !== n * m)
      throw bad(`layers[${i}].weights must be a Float64Array of ${n} × ${m}`);
    if (!(bias instanceof Float64Array) || bias.length !== m) throw bad(`layers[${i}].bias must be a Float64Array of ${m}`);
    inputs = m;
  }
  for (const k of ['activation', 'output'] as const) {
    const st: unknown = s[k];
    if (st === undefined) continue;
    if (st === null || typeof st !== 'object' || !((st as { coefficients?: unknown }).coefficients instanceof Float64Array)) {
      throw bad(`${k} must be a polynomial step ({ coefficients: Float64Array, … }) or undefined`);
    }
  }
}

/**
 * Rescales the model needs: one per dense layer plus the depth of each polynomial.
 * @example
 * ```ts
 * modelDepth(logisticSpec({ weights: [1], sigmoid: 'poly3' })); // 3
 * ```
 */
export function modelDepth(spec: ModelSpec): number {
  assertSpec(spec);
  let d = spec.layers.length;
  if (spec.activation) d += (spec.layers.length - 1) * polynomialDepth(spec.activation.coefficients);
  if (spec.output) d += polynomialDepth(spec.output.coefficients);
  return d;
}

/**
 * Plaintext evaluation of a spec (what the encrypted path must reproduce), before client post-processing.
 * @example
 * ```ts
 * evaluatePlain(linearSpec({ weights: [1, 2], bias: 1 }), [3, 4]); // Float64Array [12]
 * ```
 */
export function evaluatePlain(spec: ModelSpec, row: ArrayLike<number>): Float64Array {
  assertSpec(spec);
  const inputs = spec.layers[0].inputs;
  assertArrayLike('row', row, inputs, inputs);
  let cur = toFloat64Array('row', row);
  spec.layers.forEach((layer, i) => {
    const next = new Float64Array(layer.outputs);
    for (let k = 0; k < layer.outputs; k++) {
      let s = layer.bias[k];
      for (let j = 0; j < layer.inputs; j++) s += layer.weights[k * layer.inputs + j] * cur[j];
      next[k] = s;
    }
    const step = i < spec.layers.length - 1 ? spec.activation : spec.output;
    if (step) for (let k = 0; k < next.length; k++) next[k] = polyval(step.coefficients, next[k]);
    cur = next;
  });
  return cur;
}

/**
 * Applies the client-side head in place: sigmoid per value, or softmax over each row of `outputs` values.
 * @example
 * ```ts
 * applyPost('sigmoid', Float64Array.of(0), 1); // [0.5]
 * ```
 */
export function applyPost(post: PostProcess, values: Float64Array, outputs: number): Float64Array {
  if (post === 'sigmoid') {
    for (let i = 0; i < values.length; i++) {
      const z = values[i];
      values[i] = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }
  } else if (post === 'softmax') {
    for (let r = 0; r < values.length; r += outputs) {
      let m = -Infinity;
      for (let k = 0; k < outputs; k++) m = Math.max(m, values[r + k]);
      let s = 0;
      for (let k = 0; k < outputs; k++) s += values[r + k] = Math.exp(values[r + k] - m);
      for (let k = 0; k < outputs; k++) values[r + k] /= s;
    }
  }
  return values;
}

function stepBound(step: PolynomialStep, inputBound: number): number {
  if (step.range === undefined) {
    let s = 0;
    for (let k = 0; k < step.coefficients.length; k++) s += Math.abs(step.coefficients[k]) * inputBound ** k;
    return s;
  }
  const [a, b] = step.range;
  let m = 0;
  for (let i = 0; i <= 2000; i++) m = Math.max(m, Math.abs(polyval(step.coefficients, a + ((b - a) * i) / 2000)));
  return m * 1.01 + 1e-6;
}

/** Level bookkeeping of a compiled model. */
export interface ModelLayout {
  /** Rescales used. */
  readonly depth: number;
  /** Level of the outputs after evaluation. */
  readonly outputLevel: number;
  /** Level the reply is switched down to (0 whenever the output bound allows). */
  readonly replyLevel: number;
  /** Worst-case |output| given |input| <= plan.inputBound (polynomials assumed within their ranges). */
  readonly outputBound: number;
}

/**
 * Checks a spec against a plan (depth, value headroom) and decides the reply level.
 * @example
 * ```ts
 * const layout = layoutFor(spec, plan, (level) => ctx.headroom(level));
 * ```
 */
export function layoutFor(spec: ModelSpec, plan: CkksPlan, headroom: (level: number) => number): ModelLayout {
  const depth = modelDepth(spec);
  if (depth > plan.depth) {
    throw new RangeError(
      `the model needs multiplicative depth ${depth} but the keys were planned for depth ${plan.depth}; ` +
        `create the client with depth >= ${depth}`,
    );
  }
  if (spec.output !== undefined && spec.output.range !== undefined && spec.inputBounds !== undefined) {
    // The range check of logisticSpec holds only for features within the declared bounds, and the client refuses
    // only |x| > inputBound: a declared bound below inputBound would let values through that the check never saw.
    const below = spec.inputBounds.findIndex((b) => b < plan.inputBound);
    if (below >= 0) {
      throw new RangeError(
        `featureBounds[${below}] is ${spec.inputBounds[below]}, but the client's keys accept features up to inputBound ${plan.inputBound}: ` +
          `a feature between the two would take z outside the polynomial's range unnoticed; create the client with inputBound <= ${Math.min(...spec.inputBounds)}, ` +
          "declare featureBounds >= inputBound (and a polynomial range that holds the larger z), or use sigmoid: 'client'",
      );
    }
  }
  let level = plan.depth;
  // The client refuses only |x| > inputBound, so that is the bound the headroom must hold (declared featureBounds
  // below it would let accepted values overflow unnoticed).
  let bounds = new Float64Array(spec.layers[0].inputs).fill(plan.inputBound);
  const check = (b: number, where: string): void => {
    if (b >= headroom(level)) {
      throw new RangeError(
        `${where} may reach ${b.toPrecision(3)} (Σ|w|·bound + |b| with |x| <= inputBound ${plan.inputBound}), beyond what level ${level} can hold ` +
          `(${headroom(level).toPrecision(3)}); create the client with a smaller inputBound (the largest |x| it will encrypt) or a larger integerBits`,
      );
    }
  };
  spec.layers.forEach((layer, i) => {
    const next = new Float64Array(layer.outputs);
    for (let k = 0; k < layer.outputs; k++) {
      let s = Math.abs(layer.bias[k]);
      for (let j = 0; j < layer.inputs; j++) s += Math.abs(layer.weights[k * layer.inputs + j]) * bounds[j];
      next[k] = s;
    }
    level -= 1;
    next.forEach((b) => {
      check(b, `layer ${i} outputs`);
    });
    const step = i < spec.layers.length - 1 ? spec.activation : spec.output;
    if (step) {
      const inBound = step.range === undefined ? Math.max(...next) : Math.max(Math.abs(step.range[0]), Math.abs(step.range[1]));
      const n = degreeOf(step.coefficients);
      // Intermediate powers x^(2^j) live j levels down.
      for (let p = 2, j = 1; p <= n; p *= 2, j++) {
        if (inBound ** p >= headroom(level - j)) {
          throw new RangeError(`x^${p} for |x| <= ${inBound} overflows level ${level - j}; use a smaller range or larger integerBits`);
        }
      }
      const a = n === 3 ? Math.abs(step.coefficients[1] / step.coefficients[3]) : 0;
      if (n === 3 && a <= CUBIC_SHIFT_LIMIT && inBound ** 2 + a >= headroom(level - 1)) {
        throw new RangeError('the cubic activation (x^2 + c1/c3) overflows the plan headroom; use a larger integerBits');
      }
      level -= polynomialDepth(step.coefficients);
      for (let k = 0; k < next.length; k++) next[k] = step.range === undefined ? stepBound(step, next[k]) : stepBound(step, 0);
      next.forEach((b) => {
        check(b, `layer ${i} activations`);
      });
    }
    bounds = next;
  });
  const outputBound = Math.max(...bounds);
  let replyLevel = level;
  while (replyLevel > 0 && headroom(replyLevel - 1) > 2 * outputBound) replyLevel--;
  return { depth, outputLevel: level, replyLevel, outputBound };
}
