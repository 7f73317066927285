// `@ppml/dp/tfjs` on the wasm backend (its .wasm ships in the npm package and is loaded from there; nothing is
// downloaded): the mixed model's clipped sums against the explicit loop, and a short private training run.
import { seededTestRng } from '@ppml/core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainDpSgd } from '../src/sgd/index.ts';
import { fromTfjs } from '../src/tfjs/index.ts';
import { checkAgainstLoop, explicitGradients, fixWeights, labels, norm, relativeError, tolerances, values } from './support/tfjs.ts';

beforeAll(async () => {
  // No "install tfjs-node" banner from the cpu backend in the test output. (IS_TEST, as in the cpu file, would
  // also turn on tfjs' per-kernel leak check, which the wasm backend's own fusedMatMul fails.)
  tf.env().set('PROD', true);
  expect(await tf.setBackend('wasm')).toBe(true);
});

describe('fromTfjs on the wasm backend', () => {
  it('clipped sums of a model mixing LayerNormalization and Dense on a sequence equal the explicit loop', () => {
    expect(tf.getBackend()).toBe('wasm');
    // (no convolution or embedding here: the reference loop would need tfjs' Conv2DBackpropFilter and
    // UnsortedSegmentSum gradients, which the wasm backend lacks; fromTfjs itself needs neither)
    const inp = tfl.input({ shape: [4, 5] });
    const n = tfl.layers.layerNormalization().apply(inp) as tfl.SymbolicTensor;
    const c = tfl.layers.dense({ units: 3, activation: 'relu' }).apply(n) as tfl.SymbolicTensor;
    const f = tfl.layers.flatten().apply(c) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(f) as tfl.SymbolicTensor;
    const rows = 10;
    const x = values(rows * 20, 21);
    checkAgainstLoop(tfl.model({ inputs: inp, outputs: out }), 'sparseCategoricalCrossentropy', x, labels(rows, 3, 22), rows);
  });

  it('trains Embedding and Conv1D on wasm (which lacks their tfjs gradient kernels): clipped sum equals the loop run on cpu', async () => {
    const inp = tfl.input({ shape: [6] });
    const e = tfl.layers.embedding({ inputDim: 7, outputDim: 4 }).apply(inp) as tfl.SymbolicTensor;
    const c = tfl.layers.conv1d({ filters: 3, kernelSize: 3, activation: 'relu' }).apply(e) as tfl.SymbolicTensor;
    const f = tfl.layers.flatten().apply(c) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 1, activation: 'sigmoid' }).apply(f) as tfl.SymbolicTensor;
    const net = fixWeights(tfl.model({ inputs: inp, outputs: out }), 3);
    const rows = 10;
    const x = Float64Array.from(values(rows * 6, 31), (a) => Math.min(6, Math.floor(((a + 1) / 2) * 7)));
    const y = labels(rows, 2, 32);
    const model = fromTfjs(net, { loss: 'binaryCrossentropy' });
    const factors = Float64Array.from({ length: rows }, (_, i) => 0.25 + (i % 4) / 4);
    model.forwardBackward(x, y, rows);
    const got = new Float64Array(model.parameters.length);
    model.accumulateGradient(factors, false, got);
    const sq = new Float64Array(rows * model.parameterGroups.length);
    model.perSampleSquaredNorms(sq);
    await tf.setBackend('cpu');
    try {
      const reference = explicitGradients(net, 'binaryCrossentropy', x, y, rows);
      const tol = tolerances(net, 'binaryCrossentropy', x, y, rows);
      const expected = new Float64Array(got.length);
      reference.forEach((g, i) => {
        for (let k = 0; k < g.length; k++) expected[k] += factors[i] * g[k];
      });
      expect(relativeError(got, expected)).toBeLessThan(1e-5);
      const G = model.parameterGroups.length;
      reference.forEach((g, i) => {
        let s = 0;
        for (let l = 0; l < G; l++) s += sq[i * G + l];
        expect(Math.abs(Math.sqrt(s) - norm(g)) / norm(g)).toBeLessThan(tol[i]);
      });
    } finally {
      await tf.setBackend('wasm');
      model.dispose();
    }
  });

  it('trains with DP-SGD and predict uses the private weights', () => {
    const net = tfl.sequential({
      layers: [tfl.layers.dense({ units: 8, inputShape: [3], activation: 'relu' }), tfl.layers.dense({ units: 1, activation: 'sigmoid' })],
    });
    const model = fromTfjs(net, { loss: 'binaryCrossentropy' });
    const x = Array.from({ length: 60 }, (_, i) => Array.from(values(3, 300 + i)));
    const y = x.map((r) => (r[0] > 0 ? 1 : 0));
    const r = trainDpSgd({
      model,
      x,
      y,
      epochs: 2,
      sampleRate: 0.2,
      learningRate: 0.5,
      clipNorm: 1,
      noiseMultiplier: 1,
      delta: 1e-5,
      rng: seededTestRng('tfjs-wasm'),
    });
    expect(r.private).toBe(true);
    expect(r.epsilon).toBeGreaterThan(0);
    const p = net.predict(tf.tensor2d(x)) as tf.Tensor;
    const kernel = net.layers[1].getWeights()[0].dataSync();
    const g = model.parameterGroups[1];
    for (let k = 0; k < kernel.length; k++) expect(kernel[k]).toBeCloseTo(model.parameters[g.offset + k], 6);
    expect(p.shape).toEqual([60, 1]);
    p.dispose();
    model.dispose();
  });
});
