// The default logistic regression (issue 10, item 5). It used to evaluate the cubic 0.5 + 0.197z − 0.004z³,
// fitted on [−5, 5], on the server: beyond |z| ≈ 7 the cubic turns over and the label flips, and a new user's
// model (30 weights uniform in [−1, 1], features uniform in [−3, 3]) got 24-29% of its labels wrong. The default
// is now the exact sigmoid at the client (depth 1, the smallest ring), and a server-side polynomial is accepted
// only with declared feature bounds that keep z inside its range.
import { seededTestRng, uniformDouble } from '@ppml/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATIONS, HeClient, HeServer } from '../src/index.ts';

const rng = seededTestRng(20_240_510);
const F = 30;
const ROWS = 3000;
const weights = Array.from({ length: F }, () => 2 * uniformDouble(rng) - 1);
const bias = 2 * uniformDouble(rng) - 1;
const X = Array.from({ length: ROWS }, () => Float64Array.from({ length: F }, () => 6 * uniformDouble(rng) - 3));
const l1 = weights.reduce((s, v) => s + Math.abs(v), 0);

let client: HeClient;
let server: HeServer;

beforeAll(async () => {
  // The only declaration: the features lie in [-3, 3].
  client = await HeClient.create({ inputBound: 3 });
  server = await HeServer.create(client.exportEvaluationKeys(), { threads: 1 });
});

afterAll(async () => {
  client?.close();
  await server?.close();
});

describe('default logistic regression', () => {
  it('gives the plaintext labels for every row of the new-user reproduction (seeded)', async () => {
    const model = server.logisticRegression({ weights, bias });
    const p = client.decryptScores(await model.predict(client.encryptRows(X)));
    let worst = 0;
    let disagree = 0;
    let beyondCubic = 0;
    X.forEach((x, i) => {
      const zi = x.reduce((acc, v, j) => acc + v * weights[j], bias);
      if (Math.abs(zi) > 7) beyondCubic++;
      if (p[i] > 0.5 !== zi > 0) disagree++;
      worst = Math.max(worst, Math.abs(p[i] - ACTIVATIONS.sigmoid(zi)));
    });
    // The reproduction does reach the region where the old cubic flipped labels.
    expect(beyondCubic).toBeGreaterThan(ROWS / 10);
    expect(disagree).toBe(0);
    expect(worst).toBeLessThan(1e-4);
    expect(model.spec.post).toBe('sigmoid');
    expect(model.layout.depth).toBe(1);
    model.dispose();
  });

  it('plans depth 1 on the smallest ring that holds it: N = 4096, [39, 30 | 39] = 108 of 109 bits', () => {
    expect(client.plan.depth).toBe(1);
    expect(client.plan.polyModulusDegree).toBe(4096);
    expect(client.plan.coeffModulusBits).toEqual([39, 30, 39]);
    expect(client.plan.totalBits).toBeLessThanOrEqual(client.plan.maxTotalBits);
  });

  it('replies take 32 bytes per sample (level 0: one prime)', async () => {
    const model = server.logisticRegression({ weights, bias });
    const reply = await model.predict(client.encryptRows(X.slice(0, 1)));
    // One ciphertext of 2 polynomials × N words at level 0, for N/2 samples, plus framing.
    expect(reply.length / client.slots).toBeGreaterThanOrEqual(32);
    expect(reply.length / client.slots).toBeLessThan(32.2);
    model.dispose();
  });

  it('a server-side polynomial needs declared feature bounds that keep z inside its fitted range', () => {
    expect(() => server.logisticRegression({ weights, bias, sigmoid: 'poly3' })).toThrow(/declare featureBounds/);
    // ‖w‖₁·3 + |b| is far beyond 5 for this model: refused, with the numbers and the fixes in the message.
    expect(3 * l1 + Math.abs(bias)).toBeGreaterThan(5);
    expect(() => server.logisticRegression({ weights, bias, sigmoid: 'poly3', featureBounds: 3 })).toThrow(
      /fitted on \[-5, 5\].*‖w‖₁·bound \+ \|b\| = .*sigmoid: 'client'/,
    );
    // Bounds tight enough to keep |z| <= 5 pass this check (and then need a depth-3 client).
    const small = (4.9 - Math.abs(bias)) / l1;
    expect(() => server.logisticRegression({ weights, bias, sigmoid: 'poly3', featureBounds: small })).toThrow(/depth 3/);
    expect(() => server.logisticRegression({ weights, bias, sigmoid: 'poly3', featureBounds: [1, 2] })).toThrow(
      /featureBounds must have a length in \[30, 30\]/,
    );
    expect(() => server.logisticRegression({ weights, bias, sigmoid: 'poly3', featureBounds: -1 })).toThrow(RangeError);
  });

  it('declared feature bounds below what the client accepts are refused (values between would go unchecked)', async () => {
    const deepClient = await HeClient.create({ depth: 3, inputBound: 3 });
    const deepServer = await HeServer.create(deepClient.exportEvaluationKeys(), { threads: 1 });
    try {
      const tiny = (4.9 - Math.abs(bias)) / l1; // passes the range check, but the client accepts |x| <= 3
      expect(() => deepServer.logisticRegression({ weights, bias, sigmoid: 'poly3', featureBounds: tiny })).toThrow(
        /featureBounds\[0\] is .*inputBound 3.*unnoticed/,
      );
      // Bounds that match the client's and weights small enough for poly3: accepted, and right.
      const small = weights.map((v) => (v * 4.5) / (3 * l1));
      const model = deepServer.logisticRegression({ weights: small, bias: 0.1, sigmoid: 'poly3', featureBounds: 3 });
      const p = deepClient.decryptScores(await model.predict(deepClient.encryptRows(X.slice(0, 50))));
      X.slice(0, 50).forEach((x, i) => {
        const z = x.reduce((acc, v, j) => acc + v * small[j], 0.1);
        expect(p[i] > 0.5).toBe(z > 0);
      });
    } finally {
      deepClient.close();
      await deepServer.close();
    }
  });

  it('a client that may encrypt larger features makes the model refuse, not wrap around', async () => {
    const wide = await HeClient.create(); // inputBound 64: z may reach ‖w‖₁·64 + |b|, beyond 2^8
    const s = await HeServer.create(wide.exportEvaluationKeys(), { threads: 1 });
    try {
      expect(() => s.logisticRegression({ weights, bias })).toThrow(/may reach .*inputBound 64.*smaller inputBound/);
    } finally {
      wide.close();
      await s.close();
    }
  });
});
