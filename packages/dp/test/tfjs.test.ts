// `@ppml/dp/tfjs` on the cpu backend: per-example clipped sums against an explicit loop over examples (tf.grad on
// each example through the tfjs model's own layers, clipped, summed), clipping bounds, accounting, refusals and
// tensor lifetime.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededTestRng } from '@ppml/core';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasGhostClipping, logisticRegression, mlp, trainDpSgd, trainSgd } from '../src/sgd/index.ts';
import { fromTfjs } from '../src/tfjs/index.ts';
import { type Net, checkAgainstLoop, fixWeights, labels, norm, values } from './support/tfjs.ts';

beforeAll(async () => {
  tf.env().set('IS_TEST', true); // no "install tfjs-node" banner from the cpu backend in the test output
  await tf.setBackend('cpu');
});

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

  it('a frozen layer (trainable = false) between trained ones', () => {
    const frozen = tfl.layers.dense({ units: 6, activation: 'tanh' });
    const net = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [5], units: 6 }),
        tfl.layers.layerNormalization(),
        frozen,
        tfl.layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    frozen.trainable = false;
    checkAgainstLoop(net, 'binaryCrossentropy', values(rows * 5, 9), labels(rows, 2, 10), rows);
  });

  it('a functional model mixing them, with Add and Concatenate', () => {
    const inp = tfl.input({ shape: [6, 2] });
    const c1 = tfl.layers.conv1d({ filters: 4, kernelSize: 2, padding: 'same' }).apply(inp) as tfl.SymbolicTensor;
    const n1 = tfl.layers.layerNormalization({ epsilon: 1e-4 }).apply(c1) as tfl.SymbolicTensor;
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
  const net = tfl.sequential({
    layers: [tfl.layers.dense({ units: 6, inputShape: [4], activation: 'relu' }), tfl.layers.dense({ units: 1, activation: 'sigmoid' })],
  });
  return fixWeights(net, 2);
}

/** The built-in twin of smallNet (two layers, so per-layer clipping splits C over the same number of groups). */
function mlpLike(): ReturnType<typeof mlp> {
  return mlp({ sizes: [4, 6, 1], activation: 'relu', rng: seededTestRng('mlp-like') });
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
    trainDpSgd({
      model,
      x: X,
      y: Y,
      epochs: 1,
      sampleRate: 1,
      learningRate: lr,
      clipNorm: C,
      noiseMultiplier: 1e-6,
      delta: 1e-5,
      rng: seededTestRng('tfjs-clip'),
    });
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

  it('per-layer clipping and user-level training take the same paths as for built-in models', () => {
    const common = { x: X, y: Y, epochs: 2, sampleRate: 0.25, learningRate: 0.3, clipNorm: 1, noiseMultiplier: 1.1, delta: 1e-5 };
    const layered = fromTfjs(smallNet(), { loss: 'binaryCrossentropy' });
    const a = trainDpSgd({ ...common, model: layered, clipping: 'per-layer', rng: seededTestRng('tfjs-layer') });
    const b = trainDpSgd({ ...common, model: mlpLike(), clipping: 'per-layer', rng: seededTestRng('tfjs-layer') });
    expect(a.epsilon).toBe(b.epsilon);
    expect(a.statement).toBe(b.statement);
    const users = Array.from({ length: N }, (_, i) => `u${i % 10}`);
    const perUser = fromTfjs(smallNet(), { loss: 'binaryCrossentropy' });
    const before = Float64Array.from(perUser.parameters);
    const u = trainDpSgd({ ...common, model: perUser, userIds: users, rng: seededTestRng('tfjs-user') });
    expect(u.privacyUnit).toBe('user');
    expect(perUser.parameters.some((v, k) => v !== before[k])).toBe(true);
    layered.dispose();
    perUser.dispose();
  });

  it("clippedSum 'float64' clips and sums per-example gradients in float64 and otherwise trains the same", () => {
    const options = { x: X, y: Y, epochs: 2, sampleRate: 0.25, learningRate: 0.3, clipNorm: 0.5, noiseMultiplier: 1.1, delta: 1e-5 };
    const ghost = fromTfjs(smallNet(), { loss: 'binaryCrossentropy' });
    const exact = fromTfjs(smallNet(), { loss: 'binaryCrossentropy', clippedSum: 'float64' });
    expect(hasGhostClipping(ghost)).toBe(true);
    expect(hasGhostClipping(exact)).toBe(false);
    expect(Array.from(exact.parameters)).toEqual(Array.from(ghost.parameters));
    const a = trainDpSgd({ ...options, model: ghost, rng: seededTestRng('tfjs-f64') });
    const b = trainDpSgd({ ...options, model: exact, rng: seededTestRng('tfjs-f64') });
    expect(b.epsilon).toBe(a.epsilon);
    expect(b.statement).toBe(a.statement);
    // same batches and noise; the sums differ by float32 rounding only
    const d = Float64Array.from(exact.parameters, (v, k) => v - ghost.parameters[k]);
    expect(norm(d)).toBeGreaterThan(0);
    expect(norm(d) / norm(ghost.parameters)).toBeLessThan(1e-5);
    // plain SGD still takes the batched path
    const s = trainSgd({ model: exact, x: X, y: Y, epochs: 1, sampleRate: 0.5, learningRate: 0.1, rng: seededTestRng('tfjs-f64-sgd') });
    expect(s.private).toBe(false);
    ghost.dispose();
    exact.dispose();
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
    await net.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
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

  it('releases its tensors when a call is refused for bad labels', () => {
    const model = fromTfjs(smallNet(), { loss: 'binaryCrossentropy' });
    const x = values(16 * 4, 13);
    const short = new Float64Array(3);
    const before = tf.memory().numTensors;
    expect(() => model.forwardBackward(x, short, 16)).toThrow(RangeError);
    expect(() => model.perSampleGradients(x, short, 16)).toThrow(RangeError);
    expect(() => model.evaluate(x, short, 16)).toThrow(RangeError);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('@ppml/dp/tfjs packaging', () => {
  it('is a subpath with the source condition, and nothing outside it imports TensorFlow.js', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };
    expect(pkg.exports['./tfjs']).toEqual({
      '@ppml/source': './src/tfjs/index.ts',
      types: './dist/tfjs/index.d.ts',
      default: './dist/tfjs/index.js',
    });
    const sub = await import('@ppml/dp/tfjs');
    expect(sub.fromTfjs).toBe(fromTfjs);
    const src = fileURLToPath(new URL('../src/', import.meta.url));
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith('tfjs'));
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) expect(readFileSync(join(src, f), 'utf8'), f).not.toMatch(/@tensorflow\/|\.\/tfjs\//);
  });
});

describe('fromTfjs refuses what it cannot train', () => {
  it('names an unsupported layer (GRU, BatchNormalization)', () => {
    const gru = tfl.sequential({
      layers: [tfl.layers.gru({ units: 3, inputShape: [4, 2], recurrentInitializer: 'glorotNormal' }), tfl.layers.dense({ units: 1 })],
    });
    expect(() => fromTfjs(gru, { loss: 'meanSquaredError' })).toThrow(TypeError);
    expect(() => fromTfjs(gru, { loss: 'meanSquaredError' })).toThrow(/GRU/);
    const bn = tfl.sequential({
      layers: [tfl.layers.dense({ units: 3, inputShape: [4] }), tfl.layers.batchNormalization(), tfl.layers.dense({ units: 1 })],
    });
    expect(() => fromTfjs(bn, { loss: 'meanSquaredError' })).toThrow(/BatchNormalization/);
  });

  it('checks its options and the model', () => {
    const net = smallNet();
    expect(() => fromTfjs(net, { loss: 'hinge' as never })).toThrow(RangeError);
    expect(() => fromTfjs(net, { loss: 'binaryCrossentropy', clippedSum: 'float16' as never })).toThrow(
      /options\.clippedSum must be 'float32' or 'float64'/,
    );
    expect(() => fromTfjs(net, { loss: 'binaryCrossentropy', extra: 1 } as never)).toThrow(TypeError);
    expect(() => fromTfjs({} as never, { loss: 'binaryCrossentropy' })).toThrow(TypeError);
    expect(() => fromTfjs(net, { loss: 'sparseCategoricalCrossentropy' })).toThrow(RangeError);
    const emb = tfl.sequential({
      layers: [tfl.layers.embedding({ inputDim: 3, outputDim: 2, inputLength: 2 }), tfl.layers.flatten(), tfl.layers.dense({ units: 1 })],
    });
    const m = fromTfjs(emb, { loss: 'meanSquaredError' });
    expect(() => m.forwardBackward(Float64Array.of(0, 3), Float64Array.of(1), 1)).toThrow(RangeError);
    m.dispose();
  });
});
