/**
 * Polynomial approximations of activation functions for CKKS, which can only add and multiply. A non-polynomial
 * activation (sigmoid, tanh, ReLU) is replaced by a polynomial that is accurate only on a declared input range
 * [a, b]; outside it the polynomial diverges and encrypted results are meaningless (the server cannot see
 * the inputs to check). Two fits are offered: Chebyshev interpolation at the Chebyshev nodes of the first kind
 * (Trefethen, "Approximation Theory and Approximation Practice", ch. 4 and 8: near-minimax) and discrete least
 * squares on a uniform grid (the fit TenSEAL's and Kim et al.'s logistic-regression work use; eprint 2018/462,
 * whose degree-3 sigmoid 0.5 + 0.197x − 0.004x³ for [−5, 5] is {@link SIGMOID_POLY3}). Both are computed in the
 * Chebyshev basis on [−1, 1] for conditioning and returned as monomial coefficients in x, lowest degree first.
 * @module
 */
import { assertArrayLike, assertFinite, assertFunction, assertInteger, describeValue } from '@ppml/core';

/** Functions with built-in approximations. */
export type ActivationName = 'sigmoid' | 'tanh' | 'relu';

/** How to fit: `'least-squares'` (uniform grid) or `'chebyshev'` (interpolation at Chebyshev nodes). */
export type FitMethod = 'least-squares' | 'chebyshev';

/** A polynomial standing in for an activation on `range`. */
export interface PolynomialApproximation {
  /** Monomial coefficients c0, c1, … (p(x) = Σ c_k x^k). */
  readonly coefficients: Float64Array;
  /** The declared input range: outside it the approximation is not valid. */
  readonly range: readonly [number, number];
  /** Largest |p(x) − f(x)| on the range (dense grid of 10,001 points). */
  readonly maxError: number;
  /** What was approximated and how, for reports. */
  readonly description: string;
}

/**
 * The activation functions, plain.
 * @example
 * ```ts
 * ACTIVATIONS.sigmoid(0); // 0.5
 * ```
 */
export const ACTIVATIONS: Readonly<Record<ActivationName, (x: number) => number>> = {
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  tanh: Math.tanh,
  relu: (x) => Math.max(x, 0),
};

/**
 * Evaluates monomial coefficients at x (Horner).
 * @example
 * ```ts
 * polyval(Float64Array.of(1, 0, 2), 3); // 19
 * ```
 */
export function polyval(coefficients: ArrayLike<number>, x: number): number {
  if (typeof x !== 'number') throw new TypeError(`x must be a number, got ${describeValue(x)}`);
  assertCoefficients(coefficients);
  return horner(coefficients, x);
}

/** {@link polyval} without the checks, for loops over checked coefficients. */
function horner(coefficients: ArrayLike<number>, x: number): number {
  let acc = 0;
  for (let k = coefficients.length - 1; k >= 0; k--) acc = acc * x + coefficients[k];
  return acc;
}

/** Most coefficients accepted (degree 4095: far beyond any depth a plan can hold). */
const MAX_COEFFICIENTS = 4096;

/** An array (or typed array) of at most {@link MAX_COEFFICIENTS} numbers; checked before any loop over it. */
function assertCoefficients(coefficients: unknown): asserts coefficients is ArrayLike<number> {
  if (coefficients instanceof Float64Array) {
    if (coefficients.length > MAX_COEFFICIENTS)
      throw new RangeError(`coefficients must have at most ${MAX_COEFFICIENTS} entries, got ${coefficients.length}`);
    return;
  }
  assertArrayLike('coefficients', coefficients, 0, MAX_COEFFICIENTS);
  for (let k = 0; k < coefficients.length; k++) {
    if (typeof coefficients[k] !== 'number')
      throw new TypeError(`coefficients[${k}] must be a number, got ${describeValue(coefficients[k])}`);
  }
}

/**
 * Largest |p(x) − f(x)| over `points` evenly spaced points of [a, b].
 * @example
 * ```ts
 * maxAbsError(SIGMOID_POLY3.coefficients, ACTIVATIONS.sigmoid, [-5, 5]); // ≈ 0.051
 * ```
 */
export function maxAbsError(
  coefficients: ArrayLike<number>,
  f: (x: number) => number,
  range: readonly [number, number],
  points = 10_001,
): number {
  assertCoefficients(coefficients);
  assertFunction('f', f);
  checkRange(range);
  assertInteger('points', points, 2, 10_000_000);
  const [a, b] = range;
  let worst = 0;
  for (let i = 0; i < points; i++) {
    const x = a + ((b - a) * i) / (points - 1);
    worst = Math.max(worst, Math.abs(horner(coefficients, x) - f(x)));
  }
  return worst;
}

/** Monomial coefficients (in t) of the Chebyshev series Σ a_k T_k(t). */
function chebyshevToMonomial(a: Float64Array): Float64Array {
  const n = a.length;
  const out = new Float64Array(n);
  let prev = new Float64Array(n); // T_{k-1}
  let cur = new Float64Array(n); // T_k
  prev[0] = 1;
  if (n > 0) out[0] += a[0];
  if (n > 1) {
    cur[1] = 1;
    out[1] += a[1];
  }
  for (let k = 2; k < n; k++) {
    const next = new Float64Array(n);
    for (let j = 0; j < n - 1; j++) next[j + 1] += 2 * cur[j];
    for (let j = 0; j < n; j++) next[j] -= prev[j];
    for (let j = 0; j < n; j++) out[j] += a[k] * next[j];
    prev = cur;
    cur = next;
  }
  return out;
}

/** Substitutes t = alpha·x + beta into monomial coefficients in t. */
function substituteAffine(c: Float64Array, alpha: number, beta: number): Float64Array {
  const n = c.length;
  const out = new Float64Array(n);
  // (alpha x + beta)^k expanded by the binomial theorem.
  for (let k = 0; k < n; k++) {
    if (c[k] === 0) continue;
    let binom = 1;
    for (let j = 0; j <= k; j++) {
      out[j] += c[k] * binom * alpha ** j * beta ** (k - j);
      binom = (binom * (k - j)) / (j + 1);
    }
  }
  return out;
}

function checkFit(degree: number, range: readonly [number, number]): void {
  assertInteger('degree', degree, 1, 15);
  checkRange(range);
}

function checkRange(range: readonly [number, number]): void {
  if (!Array.isArray(range) || range.length !== 2) {
    throw new TypeError(`range must be a pair [min, max], got ${describeValue(range)}`);
  }
  assertFinite('range[0]', range[0]);
  assertFinite('range[1]', range[1]);
  if (!(range[1] > range[0])) throw new RangeError(`range must have min < max, got [${range[0]}, ${range[1]}]`);
}

/** Solves the small symmetric positive definite system A x = b (Cholesky). */
function solveSpd(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) throw new RangeError('the least-squares system is singular; use fewer degrees or more points');
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
    y[i] = s / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  return x;
}

/**
 * Fits a polynomial of `degree` to `f` on `range`.
 * @example
 * ```ts
 * const p = approximate(ACTIVATIONS.tanh, 3, [-4, 4], 'chebyshev');
 * p.maxError; // about 0.06
 * ```
 */
export function approximate(
  f: (x: number) => number,
  degree: number,
  range: readonly [number, number],
  method: FitMethod = 'least-squares',
  name = 'f',
): PolynomialApproximation {
  checkFit(degree, range);
  if (method !== 'least-squares' && method !== 'chebyshev') {
    throw new RangeError(`method must be 'least-squares' or 'chebyshev', got ${describeValue(method)}`);
  }
  const [lo, hi] = range;
  const half = (hi - lo) / 2;
  const mid = (hi + lo) / 2;
  const n = degree + 1;
  const cheb = new Float64Array(n);
  if (method === 'chebyshev') {
    // Interpolation at the n Chebyshev points of the first kind (discrete orthogonality of T_k).
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (let j = 0; j < n; j++) {
        const theta = (Math.PI * (j + 0.5)) / n;
        s += f(mid + half * Math.cos(theta)) * Math.cos(k * theta);
      }
      cheb[k] = ((k === 0 ? 1 : 2) / n) * s;
    }
  } else {
    const points = 2001;
    const A = new Float64Array(n * n);
    const rhs = new Float64Array(n);
    const T = new Float64Array(n);
    for (let i = 0; i < points; i++) {
      const t = -1 + (2 * i) / (points - 1);
      const y = f(mid + half * t);
      T[0] = 1;
      if (n > 1) T[1] = t;
      for (let k = 2; k < n; k++) T[k] = 2 * t * T[k - 1] - T[k - 2];
      for (let r = 0; r < n; r++) {
        rhs[r] += T[r] * y;
        for (let c = 0; c < n; c++) A[r * n + c] += T[r] * T[c];
      }
    }
    cheb.set(solveSpd(A, rhs, n));
  }
  const inT = chebyshevToMonomial(cheb);
  // Values of f are often odd around 0 (tanh, sigmoid − 1/2): clean round-off in coefficients that are 0 by symmetry.
  const coefficients = substituteAffine(inT, 1 / half, -mid / half);
  const scaleMax = coefficients.reduce((m, c, k) => Math.max(m, Math.abs(c) * Math.max(Math.abs(lo), Math.abs(hi)) ** k), 0);
  for (let k = 0; k < n; k++) {
    if (Math.abs(coefficients[k]) * Math.max(Math.abs(lo), Math.abs(hi)) ** k < 1e-13 * scaleMax) coefficients[k] = 0;
  }
  return {
    coefficients,
    range: [lo, hi],
    maxError: maxAbsError(coefficients, f, range),
    description: `${method} degree-${degree} approximation of ${name} on [${lo}, ${hi}]`,
  };
}

/**
 * Approximation of a named activation.
 * @example
 * ```ts
 * const s = approximateActivation('sigmoid', 3, [-8, 8]);
 * ```
 */
export function approximateActivation(
  name: ActivationName,
  degree: number,
  range: readonly [number, number],
  method: FitMethod = 'least-squares',
): PolynomialApproximation {
  const f = ACTIVATIONS[name];
  if (f === undefined) throw new RangeError(`activation must be 'sigmoid', 'tanh' or 'relu', got ${describeValue(name)}`);
  return approximate(f, degree, range, method, name);
}

/**
 * The degree-3 sigmoid of the TenSEAL logistic-regression tutorial (Kim et al., eprint 2018/462):
 * 0.5 + 0.197x − 0.004x³, meant for inputs in [−5, 5] (max error 0.051 there).
 * @example
 * ```ts
 * polyval(SIGMOID_POLY3.coefficients, 0); // 0.5
 * ```
 */
export const SIGMOID_POLY3: PolynomialApproximation = {
  coefficients: Float64Array.of(0.5, 0.197, 0, -0.004),
  range: [-5, 5],
  maxError: maxAbsError(Float64Array.of(0.5, 0.197, 0, -0.004), ACTIVATIONS.sigmoid, [-5, 5]),
  description: 'degree-3 sigmoid 0.5 + 0.197x - 0.004x^3 on [-5, 5] (Kim et al., eprint 2018/462; TenSEAL tutorial)',
};

/**
 * Rescales depth of evaluating a polynomial with the evaluator of `evaluate.ts`: 0 for the identity,
 * ⌈log2 k⌉ for a bare power x^k with k a power of two (e.g. the square activation), otherwise ⌈log2(n + 1)⌉
 * for degree n (the scalar coefficient is folded into the product tree).
 * @example
 * ```ts
 * polynomialDepth(Float64Array.of(0.5, 0.197, 0, -0.004)); // 2
 * ```
 */
export function polynomialDepth(coefficients: ArrayLike<number>): number {
  assertCoefficients(coefficients);
  const n = degreeOf(coefficients);
  if (n <= 0) return 0;
  if (isBarePower(coefficients)) return Math.log2(n);
  return Math.ceil(Math.log2(n + 1));
}

/**
 * Degree ignoring trailing zeros (−1 for the zero polynomial).
 * @example
 * ```ts
 * degreeOf([1, 2, 0]); // 1
 * ```
 */
export function degreeOf(coefficients: ArrayLike<number>): number {
  for (let k = coefficients.length - 1; k >= 0; k--) if (coefficients[k] !== 0) return k;
  return -1;
}

/**
 * True for c0 + x^k with k a power of two (coefficient exactly 1, no other terms).
 * @example
 * ```ts
 * isBarePower([0, 0, 1]); // true (the square)
 * ```
 */
export function isBarePower(coefficients: ArrayLike<number>): boolean {
  const n = degreeOf(coefficients);
  if (n < 1 || (n & (n - 1)) !== 0 || coefficients[n] !== 1) return false;
  for (let k = 1; k < n; k++) if (coefficients[k] !== 0) return false;
  return true;
}
