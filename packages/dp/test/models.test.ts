// Built-in models: per-example gradients from the batch kernels against central finite differences and against a
// loop over single examples; ghost norms against materialised gradients; the reweighted sum; JSON round trips.
import { seededTestRng, uniformDouble } from '@ppml/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DenseModel,
  type PerSampleGradients,
  gradientRows,
  logisticRegression,
  mlp,
  modelFromJSON,
  softmaxRegression,
} from '../src/sgd/index.ts';
import { expectClose } from '../../../test/support/stats.ts';

function randomBatch(rows: number, features: number, classes: number, seed: string): { x: Float64Array; y: Float64Array } {
  const rng = seededTestRng(seed);
  const x = new Float64Array(rows * features);
  for (let k = 0; k < x.length; k++) x[k] = 4 * uniformDouble(rng) - 2;
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) y[i] = Math.floor(uniformDouble(rng) * classes);
  return { x, y };
}

function randomise(model: DenseModel, seed: string, scale = 0.7): DenseModel {
  const rng = seededTestRng(seed);
  for (let k = 0; k < model.parameters.length; k++) model.parameters[k] = scale * (2 * uniformDouble(rng) - 1);
  return model;
}

function rowsOf(g: PerSampleGradients): Float64Array[] {
  return gradientRows(g).map((r) => Float64Array.from(r));
}

function exampleLoss(model: DenseModel, x: Float64Array, y: Float64Array, i: number): number {
  const d = model.features;
  return model.evaluate(x.subarray(i * d, (i + 1) * d), y.subarray(i, i + 1), 1).lossSum;
}

const cases: { name: string; make: () => DenseModel; classes: number }[] = [
  { name: 'logistic regression', make: () => randomise(logisticRegression({ features: 5 }), 'lr'), classes: 2 },
  { name: 'softmax regression', make: () => randomise(softmaxRegression({ features: 4, classes: 3 }), 'sm'), classes: 3 },
  {
    name: 'MLP tanh, binary head',
    make: () => mlp({ sizes: [4, 6, 5, 1], activation: 'tanh', rng: seededTestRng('mlp-tanh'), precision: 'float64' }),
    classes: 2,
  },
  {
    name: 'MLP relu, softmax head',
    make: () => randomise(mlp({ sizes: [3, 7, 4], activation: 'relu', precision: 'float64' }), 'mlp-relu'),
    classes: 4,
  },
];

describe.each(cases)('$name', ({ make, classes }) => {
  const rows = 6;

  it('per-example gradients equal central finite differences of the per-example loss (1e-8)', () => {
    const model = make();
    const { x, y } = randomBatch(rows, model.features, classes, 'fd');
    const grads = rowsOf(model.perSampleGradients(x, y, rows));
    const h = 1e-5;
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < model.parameters.length; k++) {
        const old = model.parameters[k];
        model.parameters[k] = old + h;
        const up = exampleLoss(model, x, y, i);
        model.parameters[k] = old - h;
        const down = exampleLoss(model, x, y, i);
        model.parameters[k] = old;
        expectClose(grads[i][k], (up - down) / (2 * h), 1e-8, `example ${i} parameter ${k}`);
      }
    }
  });

  it('batch kernels equal a loop over single examples', () => {
    const model = make();
    const { x, y } = randomBatch(rows, model.features, classes, 'loop');
    const batch = rowsOf(model.perSampleGradients(x, y, rows));
    const d = model.features;
    for (let i = 0; i < rows; i++) {
      const single = rowsOf(model.perSampleGradients(x.slice(i * d, (i + 1) * d), y.slice(i, i + 1), 1))[0];
      for (let k = 0; k < single.length; k++) expectClose(batch[i][k], single[k], 1e-12, `example ${i} parameter ${k}`);
    }
  });

  it('ghost norms per layer equal the norms of materialised per-example gradients', () => {
    const model = make();
    const { x, y } = randomBatch(rows, model.features, classes, 'ghost');
    const grads = rowsOf(model.perSampleGradients(x, y, rows));
    model.forwardBackward(x, y, rows);
    const G = model.parameterGroups.length;
    const sq = new Float64Array(rows * G);
    model.perSampleSquaredNorms(sq);
    for (let i = 0; i < rows; i++) {
      model.parameterGroups.forEach((g, l) => {
        let s = 0;
        for (let k = g.offset; k < g.offset + g.length; k++) s += grads[i][k] ** 2;
        expectClose(sq[i * G + l], s, 1e-12 * Math.max(1, s), `example ${i} layer ${l}`);
      });
    }
  });

  it('uses supplied input norms for the first layer and gets the same ghost norms', () => {
    const model = make();
    const { x, y } = randomBatch(rows, model.features, classes, 'xsq');
    const G = model.parameterGroups.length;
    model.forwardBackward(x, y, rows);
    const plain = new Float64Array(rows * G);
    model.perSampleSquaredNorms(plain);
    const d = model.features;
    const xSq = Float64Array.from({ length: rows }, (_, i) => x.subarray(i * d, (i + 1) * d).reduce((s, v) => s + v * v, 0));
    model.forwardBackward(x, y, rows, xSq);
    const cached = new Float64Array(rows * G);
    model.perSampleSquaredNorms(cached);
    cached.forEach((v, k) => {
      expectClose(v, plain[k], 1e-12 * Math.max(1, plain[k]), `norm ${k}`);
    });
    expect(() => model.forwardBackward(x, y, rows, new Float64Array(rows - 1))).toThrow(/inputSquaredNorms/);
  });

  it('accumulateGradient(weights) equals the weighted sum of per-example gradients, flat and per layer', () => {
    const model = make();
    const { x, y } = randomBatch(rows, model.features, classes, 'acc');
    const grads = rowsOf(model.perSampleGradients(x, y, rows));
    const G = model.parameterGroups.length;
    const P = model.parameters.length;
    const rng = seededTestRng('weights');
    const w = Float64Array.from({ length: rows }, () => uniformDouble(rng));
    const wg = Float64Array.from({ length: rows * G }, () => uniformDouble(rng));
    model.forwardBackward(x, y, rows);
    const flat = new Float64Array(P);
    model.accumulateGradient(w, false, flat);
    const perLayer = new Float64Array(P);
    model.accumulateGradient(wg, true, perLayer);
    const plain = new Float64Array(P);
    model.accumulateGradient(null, false, plain);
    model.parameterGroups.forEach((g, l) => {
      for (let k = g.offset; k < g.offset + g.length; k++) {
        let a = 0;
        let b = 0;
        let c = 0;
        for (let i = 0; i < rows; i++) {
          a += w[i] * grads[i][k];
          b += wg[i * G + l] * grads[i][k];
          c += grads[i][k];
        }
        expectClose(flat[k], a, 1e-12, `flat ${k}`);
        expectClose(perLayer[k], b, 1e-12, `per-layer ${k}`);
        expectClose(plain[k], c, 1e-12, `unweighted ${k}`);
      }
    });
  });

  it('survives a JSON round trip with identical predictions', () => {
    const model = make();
    const { x } = randomBatch(5, model.features, classes, 'json');
    const copy = modelFromJSON(JSON.stringify(model));
    expect(copy.kind).toBe(model.kind);
    expect(Array.from(copy.parameters)).toEqual(Array.from(model.parameters));
    expect(Array.from(copy.predict(x))).toEqual(Array.from(model.predict(x)));
  });
});

describe('model outputs and JSON format', () => {
  it('binary models predict P(y = 1); multi-class models predict class indices', () => {
    const lr = logisticRegression({ features: 2 });
    lr.parameters.set([1, -1, 0.5]);
    const p = lr.predict([
      [1, 0],
      [0, 3],
    ]);
    expectClose(p[0], 1 / (1 + Math.exp(-1.5)), 1e-15);
    expectClose(p[1], 1 / (1 + Math.exp(2.5)), 1e-15);
    const sm = softmaxRegression({ features: 2, classes: 3 });
    sm.parameters.set([1, 0, 0, 1, -1, -1, 0, 0, 0]);
    expect(
      Array.from(
        sm.predict([
          [5, 0],
          [0, 5],
          [-5, -5],
        ]),
      ),
    ).toEqual([0, 1, 2]);
    const probs = sm.predictProbabilities([[5, 0]]);
    expectClose(probs[0] + probs[1] + probs[2], 1, 1e-15);
  });

  it('writes the documented JSON layout (row-major out x in weights)', () => {
    const lr = logisticRegression({ features: 2 });
    lr.parameters.set([0.5, -2, 0.25]);
    expect(lr.toJSON()).toEqual({
      kind: 'logistic-regression',
      version: 1,
      features: 2,
      output: 'sigmoid',
      weights: [0.5, -2],
      bias: 0.25,
    });
    const sm = softmaxRegression({ features: 2, classes: 3 });
    sm.parameters.set([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sm.toJSON()).toMatchObject({ kind: 'softmax-regression', classes: 3, weights: [1, 2, 3, 4, 5, 6], bias: [7, 8, 9] });
    const net = mlp({ sizes: [2, 3, 1], activation: 'relu', rng: seededTestRng(1) });
    const j = net.toJSON();
    expect(j).toMatchObject({ kind: 'mlp', features: 2, sizes: [2, 3, 1], activation: 'relu', output: 'sigmoid' });
    if (j.kind !== 'mlp') throw new Error('expected an MLP');
    expect(j.layers.map((l) => [l.weights.length, l.bias.length])).toEqual([
      [6, 3],
      [3, 1],
    ]);
    // Layer 0, unit 1, input 0 is weights[1 * 2 + 0]: check against a hand-computed forward pass.
    const x = [0.3, -0.7];
    const h = [0, 1, 2].map((o) =>
      Math.max(0, j.layers[0].bias[o] + j.layers[0].weights[o * 2] * x[0] + j.layers[0].weights[o * 2 + 1] * x[1]),
    );
    const z = j.layers[1].bias[0] + h.reduce((s, v, o) => s + v * j.layers[1].weights[o], 0);
    expectClose(net.predict([x])[0], 1 / (1 + Math.exp(-z)), 1e-14);
  });

  it('rejects malformed JSON with messages naming the field', () => {
    expect(() => modelFromJSON({ kind: 'logistic-regression', version: 1, features: 2, output: 'sigmoid', weights: [1], bias: 0 })).toThrow(
      /json.weights must have length 2/,
    );
    expect(() => modelFromJSON('{"kind":"tree","features":2}')).toThrow(/json.kind/);
    expect(() => modelFromJSON('{"kind":"mlp","features":2,"sizes":[2,1],"activation":"gelu","layers":[]}')).toThrow(/json.activation/);
    expect(() =>
      modelFromJSON({
        kind: 'softmax-regression',
        version: 1,
        features: 1,
        classes: 2,
        output: 'softmax',
        weights: [1, Number.NaN],
        bias: [0, 0],
      }),
    ).toThrow(/json.weights\[1\] must be a finite number/);
  });

  it('rejects bad architectures', () => {
    expect(() => logisticRegression({ features: 0 })).toThrow(RangeError);
    expect(() => softmaxRegression({ features: 3, classes: 1 })).toThrow(/classes must be an integer >= 2/);
    expect(() => mlp({ sizes: [3], activation: 'relu' })).toThrow(/at least/);
    expect(() => mlp({ sizes: [3, 2], activation: 'sigmoid' as 'relu' })).toThrow(/activation/);
  });

  it('property: ghost norms match materialised norms for random MLP shapes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom<'relu' | 'tanh'>('relu', 'tanh'),
        fc.integer({ min: 0, max: 1_000_000 }),
        (sizes, rows, activation, seed) => {
          const model = mlp({ sizes, activation, rng: seededTestRng(seed) });
          const { x, y } = randomBatch(rows, sizes[0], model.classes, `p${seed}`);
          const grads = rowsOf(model.perSampleGradients(x, y, rows));
          const G = model.parameterGroups.length;
          const sq = new Float64Array(rows * G);
          model.perSampleSquaredNorms(sq);
          for (let i = 0; i < rows; i++) {
            for (let l = 0; l < G; l++) {
              const g = model.parameterGroups[l];
              let s = 0;
              for (let k = g.offset; k < g.offset + g.length; k++) s += grads[i][k] ** 2;
              if (Math.abs(sq[i * G + l] - s) > 1e-12 * Math.max(1, s)) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });
});
