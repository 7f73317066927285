// The generic DP-SGD step (any model): noise statistics, division by the expected batch size, empty batches,
// per-layer noise scale, adaptive clipping, and argument checks.
import { seededTestRng, uniformDouble } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import {
  ParallelNoise,
  adaptiveClipUpdate,
  adaptiveGradientNoiseMultiplier,
  dpSgdStep,
  gradientNoiseStd,
  resolveAdaptiveClipping,
} from '../src/sgd/index.ts';
import { Z_1E5, expectClose, meanVariance } from '../../../test/support/stats.ts';

/** Checks mean 0 and variance s² of `xs` (Gaussian moments), each with false-failure rate 1e-5. */
function expectCentredGaussianMoments(xs: Float64Array, s: number): void {
  const { mean, variance } = meanVariance(xs);
  const n = xs.length;
  expect(Math.abs(mean), `mean ${mean}`).toBeLessThanOrEqual((Z_1E5 * s) / Math.sqrt(n));
  expect(Math.abs(variance - s * s), `variance ${variance} vs ${s * s}`).toBeLessThanOrEqual((Z_1E5 * Math.sqrt(2) * s * s) / Math.sqrt(n));
}

describe('dpSgdStep', () => {
  it('adds N(0, (sigma C)^2) to the sum and divides by the expected batch size', () => {
    // 40,000 coordinates of one step with zero gradients: each is noise / m with std sigma C / m.
    const P = 40_000;
    const sigma = 1.3;
    const C = 0.7;
    const m = 25;
    const zeros = [new Float64Array(P), new Float64Array(P)];
    const { gradient, noiseStd, batchSize } = dpSgdStep({
      perSampleGradients: zeros,
      clipNorm: C,
      noiseMultiplier: sigma,
      expectedBatchSize: m,
      rng: seededTestRng('dp-step-noise'),
    });
    expect(batchSize).toBe(2);
    expect(noiseStd).toBe(gradientNoiseStd(sigma, C, P));
    // sigma (C + g sqrt(P)) with g = 2^ceil(log2(2 sigma C / 2^30)): a relative margin of about 1e-7 here.
    expect(noiseStd).toBeGreaterThan(sigma * C);
    expectClose(noiseStd, sigma * C, 1e-6 * sigma * C);
    expectCentredGaussianMoments(gradient, noiseStd / m);
  });

  it('divides the clipped sum by the expected batch size, not the realised one', () => {
    const grads = [Float64Array.of(3, 4), Float64Array.of(0.3, 0.4), Float64Array.of(0, -0.5)];
    const { gradient, clipped } = dpSgdStep({
      perSampleGradients: grads,
      clipNorm: 1,
      noiseMultiplier: 1e-9,
      expectedBatchSize: 10,
      rng: seededTestRng(1),
    });
    expect(clipped).toBe(1);
    expectClose(gradient[0], (0.6 + 0.3 + 0) / 10, 1e-7);
    expectClose(gradient[1], (0.8 + 0.4 - 0.5) / 10, 1e-7);
  });

  it('gives an empty batch pure noise instead of crashing', () => {
    const P = 20_000;
    const { gradient, batchSize } = dpSgdStep({
      perSampleGradients: [],
      parameterCount: P,
      clipNorm: 2,
      noiseMultiplier: 0.5,
      expectedBatchSize: 4,
      rng: seededTestRng('empty'),
    });
    expect(batchSize).toBe(0);
    expect(gradient.length).toBe(P);
    expectCentredGaussianMoments(gradient, gradientNoiseStd(0.5, 2, P) / 4);
    expect(() => dpSgdStep({ perSampleGradients: [], clipNorm: 1, noiseMultiplier: 1, expectedBatchSize: 1 })).toThrow(
      /parameterCount is required/,
    );
  });

  it('releases an exact multiple of the noise grid (sum rounded before the noise is added)', () => {
    const grads = [Float64Array.of(0.123456789012345, -0.3), Float64Array.of(0.1, 0.2)];
    const std = gradientNoiseStd(1, 1, 2);
    const g = 2 ** Math.ceil(Math.log2(std / 2 ** 30));
    const { gradient } = dpSgdStep({
      perSampleGradients: grads,
      clipNorm: 1,
      noiseMultiplier: 1,
      expectedBatchSize: 1,
      rng: seededTestRng('grid'),
    });
    for (const v of gradient) expect(Number.isInteger(v / g)).toBe(true);
  });

  it('scales per-layer noise by the norm of the per-layer bounds', () => {
    const { noiseStd, gradient } = dpSgdStep({
      perSampleGradients: { data: new Float32Array(2 * 30_000), rows: 2, cols: 30_000 },
      layers: [10_000, 20_000],
      clipNorm: [3, 4],
      noiseMultiplier: 2,
      expectedBatchSize: 1,
      rng: seededTestRng('per-layer'),
    });
    expect(noiseStd).toBe(gradientNoiseStd(2, 5, 30_000)); // sigma * ||(3, 4)|| plus the grid margin
    expectClose(noiseStd, 10, 1e-4);
    expectCentredGaussianMoments(gradient, noiseStd);
  });

  it('rejects bad arguments with messages naming the parameter', () => {
    const g = [Float64Array.of(1)];
    expect(() => dpSgdStep({ perSampleGradients: g, clipNorm: 0, noiseMultiplier: 1, expectedBatchSize: 1 })).toThrow(
      'clipNorm must be a finite number > 0, got 0',
    );
    expect(() => dpSgdStep({ perSampleGradients: g, clipNorm: 1, noiseMultiplier: -1, expectedBatchSize: 1 })).toThrow(/noiseMultiplier/);
    expect(() => dpSgdStep({ perSampleGradients: g, clipNorm: 1, noiseMultiplier: 1, expectedBatchSize: 0 })).toThrow(/expectedBatchSize/);
    expect(() => dpSgdStep({ perSampleGradients: g, parameterCount: 2, clipNorm: 1, noiseMultiplier: 1, expectedBatchSize: 1 })).toThrow(
      'per-sample gradient 0 has length 1, but the model has 2 parameters',
    );
  });
});

describe('adaptive clipping (Andrew et al. 2021)', () => {
  it('raises the gradient noise multiplier so the pair of releases costs sigma', () => {
    // 1/sigma^2 = 1/sigma_grad^2 + 1/(2 sigma_b)^2.
    const s = adaptiveGradientNoiseMultiplier(1, 5);
    expectClose(1 / s ** 2 + 1 / 10 ** 2, 1, 1e-14);
    expect(() => adaptiveGradientNoiseMultiplier(3, 1)).toThrow(/noiseMultiplier < 2 \* countNoiseStd/);
    const r = resolveAdaptiveClipping({}, 1, 100);
    expect(r).toMatchObject({ targetQuantile: 0.5, learningRate: 0.2, countNoiseStd: 5 });
  });

  it('moves the clip norm towards the target quantile of the gradient norms', () => {
    // Norms uniform on [0, 2]: the median is 1 and the 0.9-quantile 1.8. With m = 2000 the count noise
    // (sigma_b = 100) moves the fraction by about 0.05, so C settles within a few percent of the quantile.
    const rng = seededTestRng('adaptive');
    const m = 2000;
    for (const [gamma, quantile] of [
      [0.5, 1],
      [0.9, 1.8],
    ]) {
      const settings = resolveAdaptiveClipping({ targetQuantile: gamma }, 1, m);
      let C = 10;
      const tail: number[] = [];
      for (let t = 0; t < 400; t++) {
        let unclipped = 0;
        for (let i = 0; i < m; i++) if (2 * uniformDouble(rng) <= C) unclipped++;
        C = adaptiveClipUpdate({ clipNorm: C, unclipped, batchSize: m, expectedBatchSize: m, settings, rng });
        if (t >= 300) tail.push(C);
      }
      const mean = tail.reduce((a, b) => a + b, 0) / tail.length;
      expect(Math.abs(mean - quantile) / quantile).toBeLessThan(0.1);
    }
  });
});

describe('ParallelNoise (noise drawn on a worker thread)', () => {
  it('delivers fresh N(0, sigma^2) buffers, closes idempotently and refuses use after close', () => {
    // Moments over 8 buffers of 5,000: each check has false-failure rate 1e-5 (the worker uses the CSPRNG, so
    // this test is not seeded; the rate is what bounds flakiness).
    const sigma = 0.75;
    const noise = new ParallelNoise(5000, sigma);
    const all = new Float64Array(8 * 5000);
    const buf = new Float64Array(5000);
    let previous = 0;
    for (let b = 0; b < 8; b++) {
      noise.next(buf);
      expect(buf[0]).not.toBe(previous);
      previous = buf[0];
      all.set(buf, b * 5000);
    }
    expectCentredGaussianMoments(all, sigma);
    noise.close();
    noise.close();
    expect(() => noise.next(buf)).toThrow(/closed/);
    expect(() => new ParallelNoise(0, 1)).toThrow(RangeError);
  });
});
