// Applications end to end on worker parties: secure aggregation, joint statistics, logistic regression
// inference with secret weights, and training on rows split across three parties (breast cancer data).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { numericColumn, readCsv, seededTestRng, uniformDouble } from '@ppml/core';
import { SmpcSession, jointStatistics, logisticRegressionPredict, secureAggregation, trainLogisticRegression } from '../src/index.ts';

for (const protocol of ['replicated', 'additive'] as const) {
  describe(`applications (${protocol}, 3 parties)`, () => {
    let s: SmpcSession;
    beforeAll(async () => {
      s = await SmpcSession.start({ parties: 3, protocol });
    });
    afterAll(async () => {
      await s.close();
    });

    it('secure aggregation reveals only the sum of the three vectors', async () => {
      const rng = seededTestRng(`agg-${protocol}`);
      const v = [0, 1, 2].map(() => Float64Array.from({ length: 100 }, () => (uniformDouble(rng) - 0.5) * 200));
      const got = await secureAggregation(
        s,
        v.map((values, party) => ({ party, values })),
      );
      for (let i = 0; i < 100; i++) expect(Math.abs(got[i] - (v[0][i] + v[1][i] + v[2][i]))).toBeLessThanOrEqual(3 * 2 ** -16);
      await expect(
        secureAggregation(s, [
          { party: 0, values: [1] },
          { party: 1, values: [1, 2] },
        ]),
      ).rejects.toThrow(RangeError);
    });

    it('joint statistics: mean, variance and histogram of values held by different parties', async () => {
      const rng = seededTestRng(`stats-${protocol}`);
      const parts = [300, 200, 100].map((n) => Float64Array.from({ length: n }, () => uniformDouble(rng) * 100));
      const all = parts.flatMap((p) => [...p]);
      const edges = [0, 25, 50, 75, 100];
      const st = await jointStatistics(
        s,
        parts.map((values, party) => ({ party, values })),
        { edges },
      );
      const mean = all.reduce((a, b) => a + b, 0) / all.length;
      const variance = all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length;
      expect(st.count).toBe(600);
      expect(Math.abs(st.mean - mean)).toBeLessThan(1e-4);
      expect(Math.abs(st.variance - variance)).toBeLessThan(1e-2);
      const counts = edges.slice(0, -1).map((e, k) => all.filter((x) => x >= e && x < edges[k + 1]).length);
      expect(st.histogram?.counts).toEqual(counts);
      expect(st.revealed).toMatch(/sum of squares/);
    });

    // Training and inference run on one protocol to keep the default test run short (both share the party code).
    if (protocol === 'replicated')
      it('logistic regression: training on rows split across parties matches plaintext gradient descent', async () => {
        const table = readCsv(new URL('../../../examples/data/breast_cancer.csv', import.meta.url));
        const names = table.header.filter((h) => h !== 'target');
        const d = names.length;
        const cols = names.map((n) => numericColumn(table, n));
        const y = numericColumn(table, 'target');
        const n = y.length;
        // Standardized features (public scaling for the test; jointStatistics can compute it under sharing).
        const x = new Float64Array(n * d);
        cols.forEach((c, j) => {
          const m = c.reduce((a, b) => a + b, 0) / n;
          const sd = Math.sqrt(c.reduce((a, b) => a + (b - m) ** 2, 0) / n);
          for (let i = 0; i < n; i++) x[i * d + j] = (c[i] - m) / sd;
        });
        const cut = [0, 190, 380, n];
        const parts = [0, 1, 2].map((p) => ({
          party: p,
          features: x.subarray(cut[p] * d, cut[p + 1] * d),
          labels: y.subarray(cut[p], cut[p + 1]),
        }));
        const epochs = 8;
        const lr = 1;
        const model = await trainLogisticRegression(s, parts, { features: d, epochs, learningRate: lr });
        const [w, b] = await Promise.all([s.reveal(model.weights), s.reveal(model.bias)]);
        // Plaintext full-batch gradient descent with the same steps.
        const pw = new Float64Array(d);
        let pb = 0;
        for (let e = 0; e < epochs; e++) {
          const g = new Float64Array(d);
          let gb = 0;
          for (let i = 0; i < n; i++) {
            let z = pb;
            for (let j = 0; j < d; j++) z += x[i * d + j] * pw[j];
            const err = 1 / (1 + Math.exp(-z)) - y[i];
            for (let j = 0; j < d; j++) g[j] += err * x[i * d + j];
            gb += err;
          }
          for (let j = 0; j < d; j++) pw[j] -= (lr / n) * g[j];
          pb -= (lr / n) * gb;
        }
        for (let j = 0; j < d; j++) expect(Math.abs(w[j] - pw[j]), `w[${j}]`).toBeLessThan(0.02);
        expect(Math.abs(b[0] - pb)).toBeLessThan(0.02);

        // Inference with the secret weights on secret rows (held by party 2): same predictions as plaintext.
        const rows = await s.share(2, x, [n, d]);
        const probs = await s.reveal(logisticRegressionPredict(s, rows, model.weights, model.bias));
        let agree = 0;
        let correct = 0;
        for (let i = 0; i < n; i++) {
          let z = pb;
          for (let j = 0; j < d; j++) z += x[i * d + j] * pw[j];
          const p = 1 / (1 + Math.exp(-z));
          expect(Math.abs(probs[i] - p)).toBeLessThan(0.02);
          if (probs[i] > 0.5 === p > 0.5) agree++;
          if ((probs[i] > 0.5 ? 1 : 0) === y[i]) correct++;
        }
        expect(agree).toBeGreaterThanOrEqual(n - 3);
        expect(correct / n).toBeGreaterThan(0.93);
        s.free(rows, model.weights, model.bias);
      });
  });
}
