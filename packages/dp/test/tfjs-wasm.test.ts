// `@ppml/dp/tfjs` on the wasm backend (its .wasm ships in the npm package and is loaded from there; nothing is
// downloaded): the mixed model's clipped sums against the explicit loop, and a short private training run.
import { seededTestRng } from '@ppml/core';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainDpSgd } from '../src/sgd/index.ts';
import { fromTfjs } from '../src/tfjs/index.ts';
import { checkAgainstLoop, labels, values } from './support/tfjs.ts';

beforeAll(async () => {
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

  it('trains with DP-SGD and predict uses the private weights', () => {
    const net = tfl.sequential({
      layers: [tfl.layers.dense({ units: 8, inputShape: [3], activation: 'relu' }), tfl.layers.dense({ units: 1, activation: 'sigmoid' })],
    });
    const model = fromTfjs(net, { loss: 'binaryCrossentropy' });
    const x = Array.from({ length: 60 }, (_, i) => Array.from(values(3, 300 + i)));
    const y = x.map((r) => (r[0] > 0 ? 1 : 0));
    const r = trainDpSgd({ model, x, y, epochs: 2, sampleRate: 0.2, learningRate: 0.5, clipNorm: 1, noiseMultiplier: 1, delta: 1e-5, rng: seededTestRng('tfjs-wasm') });
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
