// Data preparation (split, standardiser, take) and a multi-class end-to-end run on synthetic blobs.
import { seededTestRng, uniformDouble } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import { fitStandardizer, mlp, softmaxRegression, take, trainDpSgd, trainTestSplit } from '../src/sgd/index.ts';
import { expectClose } from '../../../test/support/stats.ts';

describe('trainTestSplit', () => {
  it('is a reproducible partition with the requested test size', () => {
    const a = trainTestSplit(100, 0.25, seededTestRng('split'));
    const b = trainTestSplit(100, 0.25, seededTestRng('split'));
    expect(Array.from(a.test)).toEqual(Array.from(b.test));
    expect(a.test.length).toBe(25);
    expect(a.train.length).toBe(75);
    const all = new Set([...a.train, ...a.test]);
    expect(all.size).toBe(100);
    expect(() => trainTestSplit(10, 1)).toThrow(/testFraction/);
  });
});

describe('fitStandardizer', () => {
  it('maps the fitted rows to mean 0 and standard deviation 1, constant columns to 0', () => {
    const rows = [
      [1, 10, 5],
      [2, 20, 5],
      [3, 60, 5],
    ];
    const s = fitStandardizer(rows);
    const z = s.transform(rows);
    for (let j = 0; j < 2; j++) {
      const col = z.map((r) => r[j]);
      const mean = col.reduce((a, b) => a + b, 0) / 3;
      const sd = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / 3);
      expectClose(mean, 0, 1e-15, `mean ${j}`);
      expectClose(sd, 1, 1e-15, `sd ${j}`);
    }
    expect(z.map((r) => r[2])).toEqual([0, 0, 0]);
    expect(() => s.transform([[1, 2]])).toThrow(/3 columns/);
    expect(() => fitStandardizer([[1, Number.NaN]])).toThrow(/finite/);
  });

  it('take picks by index and rejects out-of-range indices', () => {
    expect(take(['a', 'b', 'c'], [2, 0])).toEqual(['c', 'a']);
    expect(() => take([1, 2], [2])).toThrow(/indices\[0\] must be an integer in \[0, 2\), got 2/);
  });
});

describe('multi-class DP-SGD', () => {
  function blobs(n: number, seed: string): { x: Float64Array[]; y: number[] } {
    const rng = seededTestRng(seed);
    const centres = [
      [2, 0],
      [-1, 1.7],
      [-1, -1.7],
    ];
    const x: Float64Array[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const k = i % 3;
      x.push(Float64Array.of(centres[k][0] + uniformDouble(rng) - 0.5, centres[k][1] + uniformDouble(rng) - 0.5));
      y.push(k);
    }
    return { x, y };
  }

  it('softmax regression and a softmax MLP learn three separable classes', () => {
    const train = blobs(600, 'blobs-train');
    const test = blobs(150, 'blobs-test');
    for (const model of [
      softmaxRegression({ features: 2, classes: 3 }),
      mlp({ sizes: [2, 8, 3], activation: 'tanh', rng: seededTestRng(5) }),
    ]) {
      const r = trainDpSgd({
        model,
        ...train,
        epochs: 5,
        sampleRate: 0.1,
        learningRate: 0.5,
        clipNorm: 1,
        noiseMultiplier: 1,
        delta: 1e-5,
        rng: seededTestRng('blobs-dp'),
      });
      const pred = r.model.predict(test.x);
      const acc = Array.from(pred).filter((p, i) => p === test.y[i]).length / test.y.length;
      expect(acc).toBeGreaterThanOrEqual(0.9);
      expect(r.history[4].accuracy).toBeGreaterThan(0.8);
    }
  });
});
