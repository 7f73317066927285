/**
 * Data preparation for the DP-SGD trainers: a reproducible train/test split and feature standardisation.
 *
 * Privacy note: a standardiser fitted on private training data is NOT differentially private (the means and
 * standard deviations are released through the model). Fit it on public data or on public bounds when the
 * preprocessing itself must be private; it is provided for experiments and baselines such as the Breast Cancer
 * example, where the usual practice (Abadi et al. 2016 use PCA fitted on public data) is followed only in spirit.
 * @module
 */
import { type Rng, assertArrayLike, assertInRange, cryptoRng, describeValue, toMatrix } from '@ppml/core';
import { randomPermutation } from './sampling.ts';
import type { Rows } from './network.ts';

/** Indices of a train/test split. */
export interface Split {
  readonly train: Uint32Array;
  readonly test: Uint32Array;
}

/**
 * A uniformly random split of 0..n-1 into ⌈(1 − testFraction)·n⌉ training and the remaining test indices. Pass a
 * seeded generator for a fixed, reproducible split.
 * @example
 * ```ts
 * const { train, test } = trainTestSplit(569, 0.2, seededTestRng('breast-cancer-split'));
 * ```
 */
export function trainTestSplit(n: number, testFraction: number, rng: Rng = cryptoRng): Split {
  assertInRange('testFraction', testFraction, 0, 1, { maxInclusive: false });
  const p = randomPermutation(n, rng);
  const nTest = Math.floor(testFraction * n);
  return { test: p.slice(0, nTest).sort(), train: p.slice(nTest).sort() };
}

/**
 * Picks elements (rows or labels) by index. `items` and `indices` must be arrays or typed arrays (their lengths
 * are checked before the result is allocated), and every index an integer in [0, items.length).
 * @example
 * ```ts
 * const xTrain = take(x, split.train);
 * ```
 */
export function take<T>(items: ArrayLike<T>, indices: ArrayLike<number>): T[] {
  assertArrayLike('items', items);
  assertArrayLike('indices', indices);
  const out: T[] = new Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    if (typeof k !== 'number') {
      throw new TypeError(`indices[${i}] must be an integer in [0, ${items.length}), got ${describeValue(k)}`);
    }
    if (!(Number.isInteger(k) && k >= 0 && k < items.length)) {
      throw new RangeError(`indices[${i}] must be an integer in [0, ${items.length}), got ${describeValue(k)}`);
    }
    out[i] = items[k];
  }
  return out;
}

/** A fitted per-feature standardiser (x − mean) / std. */
export interface Standardizer {
  readonly mean: Float64Array;
  /** Standard deviations (population); a constant feature gets 1 so it maps to 0. */
  readonly std: Float64Array;
  /** Standardises rows with the fitted statistics. */
  transform(rows: Rows): Float64Array[];
}

/**
 * Fits per-feature mean and standard deviation on `rows` (for example the training split only).
 * Not private: see the module note.
 * @example
 * ```ts
 * const scaler = fitStandardizer(xTrain);
 * const xTrainStd = scaler.transform(xTrain);
 * const xTestStd = scaler.transform(xTest);
 * ```
 */
export function fitStandardizer(rows: Rows): Standardizer {
  const { data, rows: n, cols } = toMatrix('rows', rows);
  if (n === 0) throw new RangeError('rows must hold at least one row');
  const mean = new Float64Array(cols);
  const std = new Float64Array(cols);
  for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) mean[j] += data[i * cols + j];
  for (let j = 0; j < cols; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < cols; j++) {
      const d = data[i * cols + j] - mean[j];
      std[j] += d * d;
    }
  }
  for (let j = 0; j < cols; j++) {
    const s = Math.sqrt(std[j] / n);
    std[j] = s > 0 ? s : 1;
  }
  return {
    mean,
    std,
    transform(input: Rows): Float64Array[] {
      const m = toMatrix('rows', input, cols);
      const out: Float64Array[] = [];
      for (let i = 0; i < m.rows; i++) {
        const r = new Float64Array(cols);
        for (let j = 0; j < cols; j++) r[j] = (m.data[i * cols + j] - mean[j]) / std[j];
        out.push(r);
      }
      return out;
    },
  };
}
