// Slow suite (excluded from the default run): DP-SGD accuracy on Breast Cancer Wisconsin over many seeds and for
// the MLP, and repeated worker start/stop with parallelNoise without growing memory.
// Run with `pnpm run test:slow` (the default run excludes `*.slow.test.ts`).
import { seededTestRng } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import { logisticRegression, mlp, trainDpSgd } from '../src/sgd/index.ts';
import { testAccuracy, xTrain, yTrain } from './support/breast-cancer.ts';

describe('DP-SGD on Breast Cancer Wisconsin, many seeds', () => {
  it('logistic regression at epsilon = 1 reaches >= 0.90 for 20 of 20 noise seeds', () => {
    const accs: number[] = [];
    for (let s = 0; s < 20; s++) {
      const r = trainDpSgd({
        model: logisticRegression({ features: 30 }),
        x: xTrain,
        y: yTrain,
        epochs: 10,
        sampleRate: 0.1,
        learningRate: 0.5,
        clipNorm: 1,
        targetEpsilon: 1,
        delta: 1e-5,
        rng: seededTestRng(`seed-${s}`),
      });
      expect(r.epsilon).toBeLessThanOrEqual(1);
      accs.push(testAccuracy(r.model));
    }
    expect(Math.min(...accs)).toBeGreaterThanOrEqual(0.9);
  });

  it('a 30-16-1 tanh MLP at epsilon = 3 reaches >= 0.90', () => {
    const r = trainDpSgd({
      model: mlp({ sizes: [30, 16, 1], activation: 'tanh', rng: seededTestRng('mlp-init') }),
      x: xTrain,
      y: yTrain,
      epochs: 15,
      sampleRate: 0.1,
      learningRate: 0.3,
      clipNorm: 1,
      targetEpsilon: 3,
      delta: 1e-5,
      rng: seededTestRng('mlp-noise'),
    });
    expect(r.epsilon).toBeLessThanOrEqual(3);
    expect(testAccuracy(r.model)).toBeGreaterThanOrEqual(0.9);
  });
});

describe('parallelNoise resources', () => {
  it('starting and stopping the noise worker 15 times does not grow memory', async () => {
    const run = (): void => {
      trainDpSgd({
        model: logisticRegression({ features: 30 }),
        x: xTrain.slice(0, 100),
        y: yTrain.slice(0, 100),
        epochs: 1,
        sampleRate: 0.1,
        learningRate: 0.5,
        clipNorm: 1,
        noiseMultiplier: 1,
        delta: 1e-5,
        parallelNoise: true,
      });
    };
    run();
    await new Promise((r) => setTimeout(r, 500));
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 15; i++) {
      run();
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const grown = (process.memoryUsage().rss - before) / 2 ** 20;
    // A leaked worker costs roughly 10 MB of RSS; 15 leaks would be far above this bound.
    expect(grown).toBeLessThan(60);
  });
});
