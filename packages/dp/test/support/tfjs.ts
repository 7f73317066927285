// Shared by the tfjs tests: deterministic data and the explicit per-example reference loop.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { expect } from 'vitest';
import { type TfjsLoss, fromTfjs } from '../../src/tfjs/index.ts';

export type Net = tfl.LayersModel;

/** Deterministic pseudo-random values in [-1, 1) (test data only). */
export function values(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/**
 * Replaces a tfjs model's randomly initialised weights (tfjs draws them unseeded) by fixed values of a like scale,
 * so a test checks the same model on every run. Why it matters here: the library and the reference loop both
 * compute in float32 in different orders, and an example whose prediction nearly equals its label (|p - y| a few
 * thousandths of |p|) loses that many digits to cancellation in both; with random weights such an example turned
 * up now and then (a norm off by 6e-5 relative, about one model in a hundred). Constant weights (zero biases, unit
 * LayerNormalization scales) are perturbed by up to 0.1 so their gradients are checked away from the default.
 */
export function fixWeights<T extends Net>(net: T, seed: number): T {
  const fixed = net.getWeights().map((w, k) => {
    const now = w.dataSync();
    const constant = now.every((v) => v === now[0]);
    const scale = Math.sqrt(3 / (now.length / w.shape[w.shape.length - 1])); // uniform with variance 1/fan-in
    const r = values(now.length, seed * 1009 + k);
    return tf.tensor(
      Float32Array.from(r, (a) => (constant ? now[0] + 0.1 * a : scale * a)),
      w.shape,
    );
  });
  net.setWeights(fixed);
  for (const t of fixed) t.dispose();
  return net;
}

/** The reference: per-example gradients by tf.grad on each example alone, in the trainable weights' order. */
export function explicitGradients(net: Net, loss: TfjsLoss, x: Float64Array, y: Float64Array, rows: number): Float64Array[] {
  const inShape = net.inputs[0].shape.slice(1) as number[];
  const features = inShape.reduce((a, b) => a * b, 1);
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const out: Float64Array[] = [];
  for (let i = 0; i < rows; i++) {
    const xi = tf.tensor(Float32Array.from(x.subarray(i * features, (i + 1) * features)), [1, ...inShape]);
    const { grads, value } = tf.variableGrads(() => {
      const p = tf.reshape(net.apply(xi, { training: false }) as tf.Tensor, [-1]);
      if (loss === 'meanSquaredError') return tf.sum(tf.square(tf.sub(p, y[i]))) as tf.Scalar;
      if (loss === 'binaryCrossentropy') return tf.neg(y[i] === 1 ? tf.sum(tf.log(p)) : tf.sum(tf.log(tf.sub(1, p)))) as tf.Scalar;
      return tf.neg(tf.sum(tf.log(tf.slice(p, [y[i]], [1])))) as tf.Scalar;
    }, vars);
    const flat: number[] = [];
    for (const v of vars) flat.push(...grads[v.name].dataSync());
    out.push(Float64Array.from(flat));
    for (const g of Object.values(grads)) g.dispose();
    value.dispose();
    xi.dispose();
  }
  return out;
}

/**
 * Per-example tolerances for comparing the library's per-example gradients with the reference loop. Both are
 * float32 and run the forward pass in different orders (one batch vs one example), so each prediction p carries a
 * rounding of about |p|·2^-24 per layer; the loss derivative starts from p - t (t: the label, or its one-hot vector),
 * which cancels when p is close to t and so multiplies that rounding by κ = ‖p‖ / ‖p - t‖. The tolerance is 1e-5
 * plus 2^-18·κ (64 ulps of the prediction, relative to the residual): 1e-5 for a typical example; a few times more
 * for one predicted to within a few thousandths of its label, where both computations have lost that many digits.
 */
export function tolerances(net: Net, loss: TfjsLoss, x: Float64Array, y: Float64Array, rows: number): Float64Array {
  const inShape = net.inputs[0].shape.slice(1) as number[];
  const input = tf.tensor(Float32Array.from(x.subarray(0, rows * inShape.reduce((a, b) => a * b, 1))), [rows, ...inShape]);
  const out = net.predict(input) as tf.Tensor;
  const p = out.dataSync();
  input.dispose();
  out.dispose();
  const K = p.length / rows;
  const tol = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let pp = 0;
    let rr = 0;
    for (let k = 0; k < K; k++) {
      const t = loss === 'sparseCategoricalCrossentropy' ? (k === y[i] ? 1 : 0) : y[i];
      pp += p[i * K + k] ** 2;
      rr += (p[i * K + k] - t) ** 2;
    }
    tol[i] = 1e-5 + 2 ** -18 * Math.sqrt(pp / rr);
  }
  return tol;
}

export function norm(v: Float64Array): number {
  let s = 0;
  for (const a of v) s += a * a;
  return Math.sqrt(s);
}

export function relativeError(a: Float64Array, b: Float64Array): number {
  const d = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) d[k] = a[k] - b[k];
  return norm(d) / norm(b);
}

/** Checks the ghost norms and the clipped sum of `fromTfjs` against the explicit loop, including per-layer weights and the materialised per-example gradients. */
export function checkAgainstLoop(net: Net, loss: TfjsLoss, x: Float64Array, y: Float64Array, rows: number, seed = 1): void {
  fixWeights(net, seed);
  const model = fromTfjs(net, { loss });
  try {
    const reference = explicitGradients(net, loss, x, y, rows);
    const norms = reference.map(norm);
    const tol = tolerances(net, loss, x, y, rows);
    const C = [...norms].sort((a, b) => a - b)[Math.floor(rows / 2)]; // about half the examples are clipped
    const expected = new Float64Array(model.parameters.length);
    const factors = new Float64Array(rows);
    reference.forEach((g, i) => {
      factors[i] = norms[i] > C ? C / norms[i] : 1;
      for (let k = 0; k < g.length; k++) expected[k] += factors[i] * g[k];
    });
    model.forwardBackward(x, y, rows);
    const G = model.parameterGroups.length;
    const sq = new Float64Array(rows * G);
    model.perSampleSquaredNorms(sq);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let l = 0; l < G; l++) s += sq[i * G + l];
      expect(Math.abs(Math.sqrt(s) - norms[i]) / norms[i]).toBeLessThan(tol[i]);
    }
    const got = new Float64Array(model.parameters.length);
    model.accumulateGradient(factors, false, got);
    expect(relativeError(got, expected)).toBeLessThan(1e-5);
    // per-layer weights: group l of example i scaled by its own factor
    const perGroup = new Float64Array(rows * G);
    for (let i = 0; i < rows; i++) for (let l = 0; l < G; l++) perGroup[i * G + l] = (i + l) % 3 === 0 ? 0.5 : 1;
    const expectedGroups = new Float64Array(model.parameters.length);
    reference.forEach((g, i) => {
      model.parameterGroups.forEach((grp, l) => {
        for (let k = grp.offset; k < grp.offset + grp.length; k++) expectedGroups[k] += perGroup[i * G + l] * g[k];
      });
    });
    const gotGroups = new Float64Array(model.parameters.length);
    model.accumulateGradient(perGroup, true, gotGroups);
    expect(relativeError(gotGroups, expectedGroups)).toBeLessThan(1e-5);
    // materialised per-example gradients (the path of models without ghost kernels) agree too
    const per = model.perSampleGradients(x, y, rows) as { data: Float32Array; cols: number };
    for (let i = 0; i < rows; i++) {
      expect(relativeError(Float64Array.from(per.data.subarray(i * per.cols, (i + 1) * per.cols)), reference[i])).toBeLessThan(tol[i]);
    }
  } finally {
    model.dispose();
  }
}

export function labels(rows: number, classes: number, seed: number): Float64Array {
  const v = values(rows, seed);
  return Float64Array.from(v, (a) => (classes === 0 ? a : Math.min(classes - 1, Math.floor(((a + 1) / 2) * classes))));
}
