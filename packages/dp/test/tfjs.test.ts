// `@ppml/dp/tfjs` on the cpu backend: per-example clipped sums against an explicit loop over examples (tf.grad on
// each example through the tfjs model's own layers, clipped, summed), clipping bounds, accounting, refusals and
// tensor lifetime.
import { seededTestRng } from '@ppml/core';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { logisticRegression, trainDpSgd, trainSgd } from '../src/sgd/index.ts';
import { type TfjsLoss, type TfjsTrainableModel, fromTfjs } from '../src/tfjs/index.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Net = tfl.LayersModel;

/** Deterministic pseudo-random values in [-1, 1) (test data only). */
function values(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** The reference: per-example gradients by tf.grad on each example alone, in the trainable weights' order. */
function explicitGradients(net: Net, loss: TfjsLoss, x: Float64Array, y: Float64Array, rows: number): Float64Array[] {
  const inShape = net.inputs[0].shape.slice(1) as number[];
  const features = inShape.reduce((a, b) => a * b, 1);
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const out: Float64Array[] = [];
  for (let i = 0; i < rows; i++) {
    const xi = tf.tensor(Float32Array.from(x.subarray(i * features, (i + 1) * features)), [1, ...inShape]);
    const { grads, value } = tf.variableGrads(() => {
      const p = tf.reshape(net.apply(xi, { training: false }) as tf.Tensor, [-1]);
      if (loss === 'meanSquaredError') return tf.sum(tf.square(tf.sub(p, y[i])));
      if (loss === 'binaryCrossentropy') return tf.neg(y[i] === 1 ? tf.sum(tf.log(p)) : tf.sum(tf.log(tf.sub(1, p))));
      return tf.neg(tf.sum(tf.log(tf.slice(p, [y[i]], [1]))));
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

function norm(v: Float64Array): number {
  let s = 0;
  for (const a of v) s += a * a;
  return Math.sqrt(s);
}

function relativeError(a: Float64Array, b: Float64Array): number {
  const d = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) d[k] = a[k] - b[k];
  return norm(d) / norm(b);
}

/** Checks the ghost norms and the clipped sum of `fromTfjs` against the explicit loop; returns the model. */
function checkAgainstLoop(net: Net, loss: TfjsLoss, x: Float64Array, y: Float64Array, rows: number): void {
  const model = fromTfjs(net, { loss });
  try {
    const reference = explicitGradients(net, loss, x, y, rows);
    const norms = reference.map(norm);
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
      expect(Math.abs(Math.sqrt(s) - norms[i]) / norms[i]).toBeLessThan(1e-5);
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
      expect(relativeError(Float64Array.from(per.data.subarray(i * per.cols, (i + 1) * per.cols)), reference[i])).toBeLessThan(1e-5);
    }
  } finally {
    model.dispose();
  }
}

function labels(rows: number, classes: number, seed: number): Float64Array {
  const v = values(rows, seed);
  return Float64Array.from(v, (a) => (classes === 0 ? a : Math.min(classes - 1, Math.floor(((a + 1) / 2) * classes))));
}

describe('fromTfjs: per-example clipped sums equal an explicit per-example loop', () => {
  const rows = 12;

  it('Dense with activations, Flatten and Dropout (binary cross-entropy)', () => {
    const net = tfl.sequential({
      layers: [
        tfl.layers.flatten({ inputShape: [2, 3] }),
        tfl.layers.dense({ units: 8, activation: 'tanh' }),
        tfl.layers.dropout({ rate: 0.5 }),
        tfl.layers.dense({ units: 5 }),
        tfl.layers.activation({ activation: 'relu' }),
        tfl.layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    checkAgainstLoop(net, 'binaryCrossentropy', values(rows * 6, 1), labels(rows, 2, 2), rows);
  });

  it('Conv2D and pooling (sparse categorical cross-entropy)', () => {
    const net = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.conv2d({ filters: 4, kernelSize: 2, strides: 1, padding: 'valid' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    checkAgainstLoop(net, 'sparseCategoricalCrossentropy', values(rows * 72, 3), labels(rows, 3, 4), rows);
  });

  it('Conv1D with strides and global pooling (mean squared error)', () => {
    const net = tfl.sequential({
      layers: [
        tfl.layers.conv1d({ inputShape: [8, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'elu' }),
        tfl.layers.conv1d({ filters: 2, kernelSize: 2, strides: 2, padding: 'same', useBias: false }),
        tfl.layers.globalAveragePooling1d(),
        tfl.layers.dense({ units: 1 }),
      ],
    });
    checkAgainstLoop(net, 'meanSquaredError', values(rows * 24, 5), labels(rows, 0, 6), rows);
  });

  it('Embedding, LayerNormalization and Dense on a sequence (Gram form)', () => {
    const net = tfl.sequential({
      layers: [
        tfl.layers.embedding({ inputDim: 5, outputDim: 8, inputLength: 3 }),
        tfl.layers.layerNormalization(),
        tfl.layers.dense({ units: 8, activation: 'relu' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    const x = Float64Array.from(values(rows * 3, 7), (a) => Math.min(4, Math.floor(((a + 1) / 2) * 5)));
    x[0] = x[1] = x[2] = 3; // repeated indices within one example
    checkAgainstLoop(net, 'sparseCategoricalCrossentropy', x, labels(rows, 2, 8), rows);
  });

  it('a functional model mixing them, with Add and Concatenate', () => {
    const inp = tfl.input({ shape: [6, 2] });
    const c1 = tfl.layers.conv1d({ filters: 4, kernelSize: 2, padding: 'same' }).apply(inp) as tfl.SymbolicTensor;
    const n1 = tfl.layers.layerNormalization({ center: false }).apply(c1) as tfl.SymbolicTensor;
    const d1 = tfl.layers.dense({ units: 4, activation: 'sigmoid' }).apply(n1) as tfl.SymbolicTensor;
    const c2 = tfl.layers.conv1d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(inp) as tfl.SymbolicTensor;
    const sum = tfl.layers.add().apply([d1, c2]) as tfl.SymbolicTensor;
    const both = tfl.layers.concatenate().apply([sum, c1]) as tfl.SymbolicTensor;
    const flat = tfl.layers.flatten().apply(both) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 1, activation: 'sigmoid' }).apply(flat) as tfl.SymbolicTensor;
    checkAgainstLoop(tfl.model({ inputs: inp, outputs: out }), 'binaryCrossentropy', values(rows * 12, 9), labels(rows, 2, 10), rows);
  });
});

function smallNet(): Net {
  return tfl.sequential({
    layers: [tfl.layers.dense({ units: 6, inputShape: [4], activation: 'relu' }), tfl.layers.dense({ units: 1, activation: 'sigmoid' })],
  });
}

const N = 40;
const X = Array.from({ length: N }, (_, i) => Array.from(values(4, 100 + i)));
const Y = Array.from({ length: N }, (_, i) => (X[i][0] + X[i][1] > 0 ? 1 : 0));

describe('fromTfjs with the trainers', () => {
  it('with (almost) no noise and a tiny clip norm one step moves the weights by at most lr·C', () => {
    const net = smallNet();
    const model = fromTfjs(net, { loss: 'binaryCrossentropy' });
    const before = Float64Array.from(model.parameters);
    const lr = 0.5;
    const C = 1e-3;
    trainDpSgd({ model, x: X, y: Y, epochs: 1, sampleRate: 1, learningRate: lr, clipNorm: C, noiseMultiplier: 1e-6, delta: 1e-5, rng: seededTestRng('tfjs-clip') });
    const moved = new Float64Array(before.length);
    for (let k = 0; k < before.length; k++) moved[k] = model.parameters[k] - before[k];
    expect(norm(moved)).toBeGreaterThan(0);
    expect(norm(moved)).toBeLessThanOrEqual(lr * C * (1 + 1e-6) + 1e-9);
    // the tfjs model holds the trained weights
    const w = net.trainableWeights.flatMap((v) => Array.from(v.read().dataSync()));
    for (let k = 0; k < w.length; k++) expect(w[k]).toBeCloseTo(model.parameters[k], 6);
    model.dispose();
  });

  it('tells the accountant the same q, steps and sigma as for a built-in model (same statement)', () => {
    const options = { x: X, y: Y, epochs: 3, sampleRate: 0.25, learningRate: 0.3, clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5 };
    const model = fromTfjs(smallNet(), { loss: 'binaryCrossentropy' });
    const a = trainDpSgd({ ...options, model, rng: seededTestRng('tfjs-acc') });
    const b = trainDpSgd({ ...options, model: logisticRegression({ features: 4 }), rng: seededTestRng('tfjs-acc') });
    expect(a.steps).toBe(b.steps);
    expect(a.sampleRate).toBe(b.sampleRate);
    expect(a.noiseMultiplier).toBe(b.noiseMultiplier);
    expect(a.epsilon).toBe(b.epsilon);
    expect(a.statement).toBe(b.statement);
    expect(a.history.every((h) => Number.isFinite(h.loss ?? 0))).toBe(true);
    model.dispose();
  });

  it('plain SGD learns a separable problem and predict/save see the trained weights', async () => {
    const net = smallNet();
    const model = fromTfjs(net, { loss: 'binaryCrossentropy' });
    const r = trainSgd({ model, x: X, y: Y, epochs: 30, sampleRate: 0.25, learningRate: 1, rng: seededTestRng('tfjs-sgd') });
    expect(r.history[r.history.length - 1].accuracy).toBeGreaterThan(0.85);
    const p = net.predict(tf.tensor2d(X)) as tf.Tensor;
    const probs = p.dataSync();
    let correct = 0;
    for (let i = 0; i < N; i++) if ((probs[i] > 0.5 ? 1 : 0) === Y[i]) correct++;
    expect(correct / N).toBeGreaterThan(0.85);
    p.dispose();
    let saved: tf.io.ModelArtifacts | null = null;
    await net.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const data = new Float32Array((saved as unknown as tf.io.ModelArtifacts).weightData as ArrayBuffer);
    expect(data.length).toBe(model.parameters.length);
    for (let k = 0; k < data.length; k++) expect(data[k]).toBeCloseTo(model.parameters[k], 6);
    model.dispose();
  });

  it('does not leak tensors over steps', () => {
    const model = fromTfjs(smallNet(), { loss: 'binaryCrossentropy' });
    const x = values(16 * 4, 11);
    const y = labels(16, 2, 12);
    const grad = new Float64Array(model.parameters.length);
    const sq = new Float64Array(16 * 2);
    const step = (): void => {
      model.forwardBackward(x, y, 16);
      model.perSampleSquaredNorms(sq);
      model.accumulateGradient(null, false, grad);
      model.evaluate(x, y, 16);
    };
    step();
    const count = tf.memory().numTensors;
    for (let s = 0; s < 5; s++) step();
    expect(tf.memory().numTensors).toBe(count);
    model.dispose();
    model.dispose(); // idempotent
    expect(() => model.forwardBackward(x, y, 16)).toThrow(TypeError);
  });
});

describe('fromTfjs refuses what it cannot train', () => {
  it('names an unsupported layer (GRU, BatchNormalization)', () => {
    const gru = tfl.sequential({ layers: [tfl.layers.gru({ units: 3, inputShape: [4, 2], recurrentInitializer: 'glorotNormal' }), tfl.layers.dense({ units: 1 })] });
    expect(() => fromTfjs(gru, { loss: 'meanSquaredError' })).toThrow(TypeError);
    expect(() => fromTfjs(gru, { loss: 'meanSquaredError' })).toThrow(/GRU/);
    const bn = tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [4] }), tfl.layers.batchNormalization(), tfl.layers.dense({ units: 1 })] });
    expect(() => fromTfjs(bn, { loss: 'meanSquaredError' })).toThrow(/BatchNormalization/);
  });

  it('checks its options and the model', () => {
    const net = smallNet();
    expect(() => fromTfjs(net, { loss: 'hinge' as never })).toThrow(RangeError);
    expect(() => fromTfjs(net, { loss: 'binaryCrossentropy', extra: 1 } as never)).toThrow(TypeError);
    expect(() => fromTfjs({} as never, { loss: 'binaryCrossentropy' })).toThrow(TypeError);
    expect(() => fromTfjs(net, { loss: 'sparseCategoricalCrossentropy' })).toThrow(RangeError);
    const emb = tfl.sequential({ layers: [tfl.layers.embedding({ inputDim: 3, outputDim: 2, inputLength: 2 }), tfl.layers.flatten(), tfl.layers.dense({ units: 1 })] });
    const m = fromTfjs(emb, { loss: 'meanSquaredError' });
    expect(() => m.forwardBackward(Float64Array.of(0, 3), Float64Array.of(1), 1)).toThrow(RangeError);
    m.dispose();
  });
});
