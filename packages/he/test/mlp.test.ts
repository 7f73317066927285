// MLPs with approximated activations need more depth: depth 4 fits N = 8192 at scale 2^32 ([41, 32 x 4 | 41]).
// Also imports @ppml/dp-shaped MLP JSON (relu/tanh hidden layers) by approximating the activation on a range.
import { seededTestRng, uniformDouble } from '@ppml/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATIONS, HeClient, HeServer, evaluatePlain, modelDepth } from '../src/index.ts';

const rng = seededTestRng(7);
const F = 8;
const H = 4;
const rand = (n: number, s: number): number[] => Array.from({ length: n }, () => (2 * uniformDouble(rng) - 1) * s);
const X = Array.from({ length: 200 }, () => Float64Array.from(rand(F, 2)));
let client: HeClient;
let server: HeServer;
let encX: Uint8Array;

beforeAll(async () => {
  client = await HeClient.create({ depth: 4, scaleBits: 32, integerBits: 8, inputBound: 2 });
  server = await HeServer.create(client.exportEvaluationKeys(), { threads: 1 });
  encX = client.encryptRows(X);
});

afterAll(async () => {
  client?.close();
  await server?.close();
});

describe('MLPs with polynomial activations', () => {
  it('plans N = 8192 for depth 4 at scale 2^32', () => {
    expect(client.plan.polyModulusDegree).toBe(8192);
    expect(client.plan.coeffModulusBits).toEqual([41, 32, 32, 32, 32, 41]);
  });

  const layers = [
    { weights: rand(H * F, 0.4), bias: rand(H, 0.2) },
    { weights: rand(H, 0.8), bias: [0.05] },
  ];

  it('tanh approximated on [-4, 4] (Chebyshev, degree 3): equals the plaintext polynomial network', async () => {
    const model = server.mlp({ layers, activation: { approximate: 'tanh', degree: 3, range: 4, method: 'chebyshev' } });
    expect(model.layout.depth).toBe(4);
    const y = client.decryptScores(await model.predict(encX));
    for (let i = 0; i < X.length; i++) expect(Math.abs(y[i] - evaluatePlain(model.spec, X[i])[0])).toBeLessThan(1e-3);
    expect(model.describe()).toMatch(/chebyshev degree-3 approximation of tanh on \[-4, 4\]/);
  });

  it('imports @ppml/dp MLP JSON with relu, approximated on the declared activationRange, client-side sigmoid head', async () => {
    const json = { kind: 'mlp', version: 1, features: F, sizes: [F, H, 1], activation: 'relu', output: 'sigmoid', layers };
    expect(() => server.fromJSON(json)).toThrow(/relu' is not a polynomial/);
    const model = server.fromJSON(json, { activationRange: 4, activationDegree: 2 });
    expect(modelDepth(model.spec)).toBe(4);
    const p = client.decryptScores(await model.predict(encX));
    for (let i = 0; i < X.length; i++) {
      expect(Math.abs(p[i] - ACTIVATIONS.sigmoid(evaluatePlain(model.spec, X[i])[0]))).toBeLessThan(1e-3);
    }
  });

  it('degree-5 polynomials use the general product tree (depth 3) and stay exact up to CKKS noise', async () => {
    const model = server.mlp({ layers: [{ weights: rand(F, 0.3), bias: [0.1] }], activation: 'square' });
    expect(model.layout.depth).toBe(1);
    // ‖w‖₁·2 + |b| <= 8 · 0.3 · 2 + 0.1 = 4.9 < 6: every z of the declared inputs is inside the fitted range.
    const deep = server.logisticRegression({ weights: rand(F, 0.3), bias: 0.1, sigmoid: { degree: 5, range: 6 }, featureBounds: 2 });
    expect(deep.layout.depth).toBe(4);
    const p = client.decryptScores(await deep.predict(encX));
    for (let i = 0; i < X.length; i++) expect(Math.abs(p[i] - evaluatePlain(deep.spec, X[i])[0])).toBeLessThan(1e-3);
  });
});
