/**
 * Heavier privacy audit (excluded from the default run): 2,000,000 draws per input for the Laplace and
 * Gaussian mechanisms at several thresholds, checked with one-sided lower confidence bounds at z = 4.41717
 * per proportion (false failure at most 2e-5 per event, 2e-4 for the file). Run it with `pnpm run test:slow`
 * (the default run excludes slow suites).
 */
import { seededTestRng } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import { gaussianMechanism, laplaceMechanism } from '../src/mechanisms/index.ts';
import { Z_1E5 } from '../../../test/support/stats.ts';

const N = 2_000_000;

function lowerBoundLoss(a: Float64Array, b: Float64Array, t: number, delta: number): number {
  let ha = 0;
  let hb = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] <= t) ha++;
    if (b[i] <= t) hb++;
  }
  const p = ha / a.length;
  const q = hb / b.length;
  const pLo = p - Z_1E5 * Math.sqrt((p * (1 - p)) / a.length);
  const qHi = q + Z_1E5 * Math.sqrt((q * (1 - q)) / b.length);
  return Math.log(Math.max(pLo - delta, 1e-300) / qHi);
}

describe('privacy audit, 2e6 draws per neighbour', () => {
  it('Laplace eps = 0.5: no threshold shows a loss above epsilon', () => {
    const lap = laplaceMechanism({ epsilon: 0.5, sensitivity: 1, rng: seededTestRng('slow-lap') });
    const a = lap.addNoiseTo(new Float64Array(N));
    const b = lap.addNoiseTo(new Float64Array(N).fill(1));
    for (const t of [-6, -3, -1, 0, 0.5]) expect(lowerBoundLoss(a, b, t, 0)).toBeLessThanOrEqual(0.5);
  });

  it('Gaussian eps = 1, delta = 1e-5: no threshold shows a loss above epsilon', () => {
    const g = gaussianMechanism({ epsilon: 1, delta: 1e-5, sensitivity: 1, rng: seededTestRng('slow-gauss') });
    const a = g.addNoiseTo(new Float64Array(N));
    const b = g.addNoiseTo(new Float64Array(N).fill(1));
    for (const k of [-3, -2.5, -2, -1, 0]) expect(lowerBoundLoss(a, b, k * g.sigma, 1e-5)).toBeLessThanOrEqual(1);
  });
});
