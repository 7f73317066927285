// Row layout (latency path): one sample per block of W = 32 slots, rotate-and-add with Galois keys for steps
// 1, 2, 4, 8, 16 only.
import { seededTestRng, uniformDouble } from '@ppml/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeClient, HeServer, evaluatePlain, readHeader } from '../src/index.ts';

const rng = seededTestRng(99);
const F = 30;
const rand = (n: number, s: number): number[] => Array.from({ length: n }, () => (2 * uniformDouble(rng) - 1) * s);
let client: HeClient;
let server: HeServer;

beforeAll(async () => {
  client = await HeClient.create({ layout: 'row', features: F, depth: 3, inputBound: 10 });
  server = await HeServer.create(client.exportEvaluationKeys(), { threads: 1 });
});

afterAll(async () => {
  client?.close();
  await server?.close();
});

describe('row layout', () => {
  it('generates Galois keys for the needed steps only', () => {
    expect(client.plan.rotations).toEqual([1, 2, 4, 8, 16]);
    const keys = client.exportEvaluationKeys();
    expect(readHeader(keys).kind).toBe(1);
    // Seeded relinearisation keys plus five seeded Galois keys: about 6 x 1.3 MB, far below all-step keys (38 MB).
    expect(keys.length).toBeLessThan(9e6);
  });

  it('logistic regression on a single sample and on 200 samples equals the plaintext model', async () => {
    // Weights small enough that ‖w‖₁·10 + |b| <= 5: z stays inside poly3's range for every declared input.
    const w = rand(F, 0.08);
    const l1 = w.reduce((s, v) => s + Math.abs(v), 0);
    const weights = w.map((v) => (v * 4.8) / (10 * l1));
    const model = server.logisticRegression({ weights, bias: 0.2, sigmoid: 'poly3', featureBounds: 10 });
    for (const n of [1, 200]) {
      const X = Array.from({ length: n }, () => Float64Array.from(rand(F, 10)));
      const enc = client.encryptRows(X);
      // One ciphertext holds 4096 / 32 = 128 samples.
      expect(enc.length).toBeLessThan(Math.ceil(n / 128) * 270_000);
      const p = client.decryptScores(await model.predict(enc));
      expect(p.length).toBe(n);
      for (let i = 0; i < n; i++) expect(Math.abs(p[i] - evaluatePlain(model.spec, X[i])[0])).toBeLessThan(1e-4);
    }
  });

  it('linear models with several outputs; MLPs are refused with a reason', async () => {
    const json = { kind: 'softmax-regression', features: F, classes: 2, weights: rand(2 * F, 0.3), bias: [0, 1] };
    const model = server.fromJSON(json);
    const X = [Float64Array.from(rand(F, 10)), Float64Array.from(rand(F, 10))];
    const p = client.decryptScores(await model.predict(client.encryptRows(X)));
    X.forEach((x, i) => {
      const z = evaluatePlain(model.spec, x);
      const p1 = 1 / (1 + Math.exp(z[0] - z[1]));
      expect(Math.abs(p[2 * i + 1] - p1)).toBeLessThan(1e-6);
    });
    expect(() =>
      server.mlp({
        layers: [
          { weights: rand(2 * F, 1), bias: [0, 0] },
          { weights: [1, 1], bias: [0] },
        ],
        activation: 'square',
      }),
    ).toThrow(/column' layout/);
    expect(() => client.encryptRows([new Float64Array(F - 1)])).toThrow(/must have 30 columns/);
  });
});
