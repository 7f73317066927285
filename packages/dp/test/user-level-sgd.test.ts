/**
 * User-level DP-SGD (DP-FedAvg style): Poisson sampling over users, each user's mean gradient clipped as a whole,
 * the accountant told the user sampling rate; the run's DpEvent; and an empirical privacy audit on neighbouring
 * datasets that differ by one whole user (several rows). The audit's bounds use z = 4.41717 per binomial
 * proportion (false failure 1e-5 per side).
 */
import { seededTestRng } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import { createAccountant, dpSgdEvent, gaussianEvent, poissonSampledEvent, selfComposedEvent } from '../src/accountant/index.ts';
import { logisticRegression, trainDpSgd } from '../src/sgd/index.ts';
import { normalSf } from '../src/special.ts';
import { Z_1E5 } from '../../../test/support/stats.ts';

/** 60 users with 2..5 rows each; the label is the sign of the first feature. */
function usersData(): { x: number[][]; y: number[]; ids: string[] } {
  const rng = seededTestRng('user-sgd-data');
  const x: number[][] = [];
  const y: number[] = [];
  const ids: string[] = [];
  for (let u = 0; u < 60; u++) {
    const rows = 2 + (u % 4);
    for (let r = 0; r < rows; r++) {
      const a = (rng.nextUint32() / 2 ** 32) * 4 - 2;
      const b = (rng.nextUint32() / 2 ** 32) * 4 - 2;
      x.push([a, b]);
      y.push(a > 0 ? 1 : 0);
      ids.push(`u${u}`);
    }
  }
  return { x, y, ids };
}

describe('user-level DP-SGD', () => {
  it('trains, accounts with the user sampling rate and says user-level', () => {
    const { x, y, ids } = usersData();
    const r = trainDpSgd({
      model: logisticRegression({ features: 2 }),
      x,
      y,
      userIds: ids,
      epochs: 20,
      batchSize: 15, // expected users per batch: q = 15/60
      learningRate: 1,
      clipNorm: 1,
      noiseMultiplier: 1,
      delta: 1e-5,
      rng: seededTestRng('user-sgd'),
    });
    expect(r.privacyUnit).toBe('user');
    expect(r.sampleRate).toBe(0.25);
    expect(r.steps).toBe(80);
    const expected = createAccountant('rdp')
      .compose(poissonSampledEvent(0.25, gaussianEvent(1)), 80)
      .getEpsilon(1e-5);
    expect(r.epsilon).toBeCloseTo(expected, 12);
    expect(r.event).toEqual(selfComposedEvent(poissonSampledEvent(0.25, gaussianEvent(1)), 80));
    expect(r.statement).toMatch(/at the user level/);
    expect(r.statement).toMatch(/add or remove one user with all of their examples/);
    expect(r.statement).toMatch(/60 users \(at most 5 examples each\)/);
    const preds = r.model.predict(x);
    let correct = 0;
    preds.forEach((p, i) => {
      if ((p > 0.5 ? 1 : 0) === y[i]) correct++;
    });
    expect(correct / x.length).toBeGreaterThan(0.8);
  });

  it('example-level runs expose their DpEvent too', () => {
    const { x, y } = usersData();
    const r = trainDpSgd({
      model: logisticRegression({ features: 2 }),
      x,
      y,
      steps: 7,
      sampleRate: 0.1,
      learningRate: 0.5,
      clipNorm: 1,
      noiseMultiplier: 1.3,
      delta: 1e-5,
      rng: seededTestRng('event'),
    });
    expect(r.privacyUnit).toBe('example');
    expect(r.event).toEqual(dpSgdEvent({ noiseMultiplier: 1.3, sampleRate: 0.1, steps: 7 }));
  });

  it('rejects user ids that do not fit the run', () => {
    const { x, y, ids } = usersData();
    const base = {
      model: logisticRegression({ features: 2 }),
      x,
      y,
      steps: 1,
      learningRate: 1,
      clipNorm: 1,
      noiseMultiplier: 1,
      delta: 1e-5,
    };
    expect(() => trainDpSgd({ ...base, sampleRate: 0.1, userIds: ids.slice(1) })).toThrow(/userIds must have one id per row/);
    expect(() => trainDpSgd({ ...base, sampleRate: 0.1, userIds: ids.map(() => null) as never })).toThrow(TypeError);
    expect(() => trainDpSgd({ ...base, batchSize: 4, sampling: 'shuffle', userIds: ids })).toThrow(/poisson/);
    expect(() => trainDpSgd({ ...base, sampleRate: 0.1, userIds: ids, clipping: 'per-layer' })).toThrow(/flat/);
    expect(() => trainDpSgd({ ...base, sampleRate: 0.1, userIds: ids, maxExamplesPerUser: 3 })).toThrow(TypeError);
    expect(() => trainDpSgd({ ...base, sampleRate: 0.1, userIds: ids, adaptiveClipping: true })).toThrow(RangeError);
  });

  it('audit: one whole user (3 rows) added to 20 users, q = 0.5, sigma = 1, one step', () => {
    // Users with x = 0 move only the bias; the added user's rows (x = 50, y = 0) push the weight by a clipped
    // C = 1 (times 0.9998: its bias share). The noisy weight sum s = -w E / lr (E = q U, public for each dataset)
    // is then the sampled Gaussian mechanism: s ~ N(0, 1) on D, and 0.5 N(c, 1) + 0.5 N(0, 1) on D'.
    const base = { x: [] as number[][], y: [] as number[], ids: [] as string[] };
    for (let u = 0; u < 20; u++) {
      for (let r = 0; r < 3; r++) {
        base.x.push([0]);
        base.y.push(r % 2);
        base.ids.push(`u${u}`);
      }
    }
    const plus = { x: [...base.x, [50], [50], [50]], y: [...base.y, 0, 0, 0], ids: [...base.ids, 'target', 'target', 'target'] };
    const run = (d: typeof base, rng: ReturnType<typeof seededTestRng>): { s: number; epsilon: number } => {
      const users = new Set(d.ids).size;
      const r = trainDpSgd({
        model: logisticRegression({ features: 1 }),
        x: d.x,
        y: d.y,
        userIds: d.ids,
        steps: 1,
        sampleRate: 0.5,
        learningRate: 1,
        clipNorm: 1,
        noiseMultiplier: 1,
        delta: 1e-5,
        accountant: 'basic',
        rng,
      });
      return { s: -r.model.parameters[0] * 0.5 * users, epsilon: r.epsilon };
    };
    const n = 3000;
    const t = 2;
    let hitsD = 0;
    let hitsPlus = 0;
    const rngD = seededTestRng('audit-user-d');
    const rngP = seededTestRng('audit-user-plus');
    for (let i = 0; i < n; i++) if (run(base, rngD).s >= t) hitsD++;
    for (let i = 0; i < n; i++) if (run(plus, rngP).s >= t) hitsPlus++;
    const epsilon = createAccountant('rdp')
      .compose(poissonSampledEvent(0.5, gaussianEvent(1)), 1)
      .getEpsilon(1e-5);
    const p = hitsPlus / n;
    const q = hitsD / n;
    const pLo = p - Z_1E5 * Math.sqrt((p * (1 - p)) / n);
    const qHi = q + Z_1E5 * Math.sqrt((q * (1 - q)) / n);
    const lowerBound = Math.log((pLo - 1e-5) / qHi);
    expect(lowerBound).toBeLessThanOrEqual(epsilon);
    // power: the estimate matches the loss of the mixture on this event
    const c = 25 / Math.sqrt(25 * 25 + 0.5 * 0.5);
    const theory = Math.log((0.5 * normalSf(t - c) + 0.5 * normalSf(t)) / normalSf(t));
    const se = Math.sqrt((1 - p) / (n * p) + (1 - q) / (n * q));
    expect(Math.abs(Math.log(p / q) - theory)).toBeLessThan(Z_1E5 * se);
  });
});
