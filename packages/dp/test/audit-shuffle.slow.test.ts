/**
 * Heavier audit of `sampling: 'shuffle'` (excluded from the default run): the whole trainer, 150,000 runs per
 * dataset, on D (4 examples with gradient −C) and D plus one example with gradient +C; the released model is
 * w = −(noisy sum)/4. The privacy loss of {noisy sum > t} is bounded from below with one-sided confidence bounds at
 * z = 4.41717 per proportion; the trainer's ε (both accountants) must not be below it. False failure at most 2e-5.
 * The default run holds the fast audit of the same path (audit-shuffle.test.ts).
 */
import { seededTestRng } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import { trainDpSgd } from '../src/sgd/index.ts';
import { echoModel } from './support/echo-model.ts';
import { Z_1E5 } from '../../../test/support/stats.ts';

const RUNS = 150_000;
const SIGMA = 2;
const DELTA = 1e-5;

function hits(x: number[][], t: number, seed: string): { hits: number; epsilon: number } {
  const rng = seededTestRng(seed);
  const y = x.map(() => 0);
  let h = 0;
  let epsilon = 0;
  for (let r = 0; r < RUNS; r++) {
    const model = echoModel();
    const res = trainDpSgd({
      model,
      x,
      y,
      epochs: 1,
      batchSize: 4,
      sampling: 'shuffle',
      learningRate: 1,
      clipNorm: 1,
      noiseMultiplier: SIGMA,
      delta: DELTA,
      rng,
    });
    epsilon = res.epsilon;
    if (-4 * model.parameters[0] > t) h++;
  }
  return { hits: h, epsilon };
}

describe('audit of the whole trainer with shuffled batches (false failure 2e-5)', () => {
  it('reported epsilon >= the lower confidence bound of the loss on {noisy sum > 2.9} (false failure 2e-5)', () => {
    const t = 2.9;
    const large = hits([[-1], [-1], [-1], [-1], [1]], t, 'slow-large');
    const small = hits([[-1], [-1], [-1], [-1]], t, 'slow-small');
    const p = large.hits / RUNS;
    const q = small.hits / RUNS;
    const pLo = p - Z_1E5 * Math.sqrt((p * (1 - p)) / RUNS);
    const qHi = q + Z_1E5 * Math.sqrt((q * (1 - q)) / RUNS);
    const lb = Math.log(Math.max(pLo - DELTA, 1e-300) / qHi);
    expect(lb).toBeGreaterThan(1.5); // the audit sees a real loss (power)
    expect(large.epsilon).toBeGreaterThanOrEqual(lb);
    expect(small.epsilon).toBeGreaterThanOrEqual(lb);
  }, 600_000);
});
