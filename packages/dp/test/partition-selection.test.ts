/**
 * Partition selection and group-by counts over unknown keys: golden keep probabilities (Google's test file) and
 * Laplace thresholds (an independent mpmath summation, script stored next to the vectors), an empirical privacy
 * audit of both rules on neighbouring datasets that differ by one user, and the group-by release. Each audit
 * bound uses z = 4.41717 per binomial proportion (false failure 1e-5 per side).
 */
import { seededTestRng } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import {
  PrivacyBudget,
  dpGroupByCount,
  dpGroupBySum,
  dpSelectPartitions,
  gaussianSelectionDelta,
  gaussianSelectionThreshold,
  laplaceSelectionDelta,
  laplaceSelectionThreshold,
  optimalKeepProbability,
} from '../src/queries/index.ts';
import { Z_1E5 } from '../../../test/support/stats.ts';
import google from './vectors/partition-selection-google.json' with { type: 'json' };
import gaussian from './vectors/partition-selection-gaussian.json' with { type: 'json' };
import laplace from './vectors/partition-selection-laplace.json' with { type: 'json' };

describe('partition selection: golden values', () => {
  for (const c of google.cases) {
    it(`optimal keep probability, ${c.test} (Google partition-selection_test.cc)`, () => {
      const p = optimalKeepProbability(c.users, { epsilon: c.epsilon, delta: c.delta, maxPartitionsPerUser: c.m });
      expect(Math.abs(p - c.keep)).toBeLessThanOrEqual(c.tol);
    });
  }

  for (const c of laplace.cases) {
    it(`Laplace threshold for epsilon ${c.epsilon}, delta ${c.delta}, m = ${c.maxPartitionsPerUser} (mpmath summation)`, () => {
      const epsilon = c.epsilon === 'ln3' ? Math.log(3) : Number(c.epsilon);
      const m = c.maxPartitionsPerUser;
      const t = laplaceSelectionThreshold({ epsilon, delta: c.delta, maxPartitionsPerUser: m });
      expect(t.threshold).toBe(c.threshold);
      expect(t.scale).toBeGreaterThanOrEqual(m / epsilon);
      const exact = laplaceSelectionDelta(c.threshold, m / epsilon, m);
      expect(Math.abs(exact / c.deltaAtThreshold - 1)).toBeLessThan(1e-9);
      expect(Math.abs(laplaceSelectionDelta(c.threshold - 1, m / epsilon, m) / c.deltaBelowThreshold - 1)).toBeLessThan(1e-9);
    });
  }

  for (const c of gaussian.cases) {
    it(`Gaussian sigma and threshold for epsilon ${c.epsilon}, delta ${c.delta}, m = ${c.maxPartitionsPerUser} (mpmath)`, () => {
      const epsilon = c.epsilon === 'ln3' ? Math.log(3) : Number(c.epsilon);
      const m = c.maxPartitionsPerUser;
      const t = gaussianSelectionThreshold({ epsilon, delta: c.delta, maxPartitionsPerUser: m });
      const ratio = t.sigma / (c.sigmaTight * (1 + 2 ** -20));
      expect(ratio).toBeGreaterThanOrEqual(1);
      expect(ratio).toBeLessThan(1 + 1e-8);
      const z = (t.threshold - 1) / t.sigma;
      expect(z).toBeGreaterThanOrEqual(c.z);
      expect(z).toBeLessThan(c.z + 1e-5);
      expect(Number.isInteger(t.threshold / t.granularity)).toBe(true); // on the noise grid
      // delta/2 is met at the threshold and (margin aside) missed one grid step below
      expect(gaussianSelectionDelta(t.threshold, t.sigma, m)).toBeLessThanOrEqual(c.delta / 2);
      expect(gaussianSelectionDelta(t.threshold - 1e-3 * t.sigma, t.sigma, m)).toBeGreaterThan(c.delta / 2);
    });
  }

  it('Gaussian thresholding delta matches mpmath at given thresholds', () => {
    for (const d of gaussian.deltas) {
      const got = gaussianSelectionDelta(d.threshold, d.sigma, d.maxPartitionsPerUser);
      expect(Math.abs(got / d.delta - 1)).toBeLessThan(1e-9);
    }
    expect(() => gaussianSelectionDelta(Number.NaN, 1)).toThrow(/threshold/);
    expect(() => gaussianSelectionDelta(1, 0)).toThrow(/sigma/);
    expect(() => gaussianSelectionThreshold({ epsilon: 1e6, delta: 0.1 })).toThrow(RangeError);
  });

  it('the optimal rule meets both DP constraints with equality in its first phase and never exceeds 1', () => {
    const epsilon = 0.7;
    const delta = 1e-3;
    let prev = 0;
    for (let n = 1; n < 60; n++) {
      const p = optimalKeepProbability(n, { epsilon, delta });
      expect(p).toBeLessThanOrEqual(Math.exp(epsilon) * prev + delta + 1e-15);
      expect(1 - prev).toBeLessThanOrEqual(Math.exp(epsilon) * (1 - p) + delta + 1e-15);
      expect(p).toBeLessThanOrEqual(1);
      expect(p).toBeGreaterThanOrEqual(prev);
      prev = p;
    }
    expect(prev).toBe(1);
  });
});

interface Audit {
  estimate: number;
  lowerBound: number;
  se: number;
}

/** Lower confidence bound on ln((P[S | more] - delta) / P[S | fewer]). */
function audit(hitsMore: number, hitsFewer: number, n: number, delta: number): Audit {
  const p = hitsMore / n;
  const q = hitsFewer / n;
  const pLo = p - Z_1E5 * Math.sqrt((p * (1 - p)) / n);
  const qHi = q + Z_1E5 * Math.sqrt((q * (1 - q)) / n);
  const se = Math.sqrt(p / (n * (p - delta) ** 2) + (1 - q) / (n * q));
  return { estimate: Math.log((p - delta) / q), lowerBound: Math.log(Math.max(pLo - delta, 1e-300) / qHi), se };
}

/** Dataset: key 'k' held by `users` users (one row each), plus a key held by many users. */
function dataset(users: number): { keys: string[]; ids: number[] } {
  const keys: string[] = [];
  const ids: number[] = [];
  for (let u = 0; u < users; u++) {
    keys.push('k');
    ids.push(u);
  }
  for (let u = 0; u < 30; u++) {
    keys.push('big');
    ids.push(1000 + u);
  }
  return { keys, ids };
}

function keepRate(
  users: number,
  method: 'optimal' | 'laplace' | 'gaussian',
  epsilon: number,
  delta: number,
  n: number,
  seed: string,
): number {
  const { keys, ids } = dataset(users);
  const rng = seededTestRng(seed);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const r = dpSelectPartitions(keys, { userIds: ids, epsilon, delta, method, rng });
    if (r.partitions.includes('k')) hits++;
  }
  return hits;
}

describe('partition selection: empirical audit on datasets that differ by one user', () => {
  const N = 40_000;
  for (const method of ['optimal', 'laplace', 'gaussian'] as const) {
    it(`${method}: a key held by one user is released with probability <= delta; 2 vs 1 user costs <= epsilon`, () => {
      const epsilon = 1;
      const delta = 0.05;
      const none = keepRate(0, method, epsilon, delta, 2000, `ps-${method}-0`);
      const one = keepRate(1, method, epsilon, delta, N, `ps-${method}-1`);
      const two = keepRate(2, method, epsilon, delta, N, `ps-${method}-2`);
      expect(none).toBe(0); // a key absent from the data is never released
      // P[release | 1 user] vs P[release | 0 users] = 0: the whole probability is delta
      expect(one / N - Z_1E5 * Math.sqrt(((one / N) * (1 - one / N)) / N)).toBeLessThanOrEqual(delta);
      const a = audit(two, one, N, delta);
      expect(a.lowerBound).toBeLessThanOrEqual(epsilon);
      if (method === 'optimal') {
        // the optimal rule is tight: P(2) = e^eps P(1) + delta, so the estimate is close to epsilon (power)
        expect(Math.abs(a.estimate - epsilon)).toBeLessThan(Z_1E5 * a.se);
        expect(Math.abs(one / N - delta)).toBeLessThan(Z_1E5 * Math.sqrt((delta * (1 - delta)) / N));
      }
      if (method === 'gaussian') {
        // the threshold spends delta/2 on a key held by one user (the other half covers the noise): power check
        const p = gaussianSelectionDelta(
          gaussianSelectionThreshold({ epsilon, delta }).threshold,
          gaussianSelectionThreshold({ epsilon, delta }).sigma,
        );
        expect(p).toBeLessThanOrEqual(delta / 2);
        expect(p).toBeGreaterThan(0.999 * (delta / 2));
        expect(Math.abs(one / N - p)).toBeLessThan(Z_1E5 * Math.sqrt((p * (1 - p)) / N));
      }
    });
  }
});

describe('dpSelectPartitions and dpGroupByCount', () => {
  it('release frequent keys, bound users to maxPartitionsPerUser, state user-level (epsilon, delta) and spend it', () => {
    const keys: string[] = [];
    const ids: string[] = [];
    // 200 patients, each with 5 visits over codes A..E (every code common), plus one patient with a rare code
    for (let p = 0; p < 200; p++) {
      for (let v = 0; v < 5; v++) {
        keys.push('ABCDE'[(p + v) % 5]);
        ids.push(`p${p}`);
      }
    }
    keys.push('RARE');
    ids.push('p0');
    const budget = new PrivacyBudget({ epsilon: 10, delta: 1e-3 });
    const r = dpGroupByCount(keys, {
      userIds: ids,
      maxPartitionsPerUser: 2,
      maxRowsPerUser: 1,
      epsilon: 2,
      delta: 1e-6,
      budget,
      rng: seededTestRng('group-by'),
    });
    expect([...r.counts.keys()].sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
    // each patient keeps 2 of their 5 codes: 400 kept rows over 5 codes, about 80 each
    let total = 0;
    for (const c of r.counts.values()) total += c;
    expect(Math.abs(total - 400)).toBeLessThan(60);
    expect(r.statement).toMatch(/user with all of their rows/);
    expect(r.statement).toMatch(/at most 2 key\(s\) and 1 row\(s\) per key/);
    expect(r.statement).toMatch(/delta = 1e-6/);
    expect(budget.ledger.length).toBe(1);
    expect(budget.ledger[0].epsilon).toBe(2);
    expect(budget.ledger[0].delta).toBe(1e-6);
    expect(budget.ledger[0].label).toBe('group-by count');
    const sel = dpSelectPartitions(keys, { userIds: ids, epsilon: 1, delta: 1e-6, method: 'laplace', rng: seededTestRng('sel') });
    expect(sel.partitions).not.toContain('RARE');
    expect(sel.event).toEqual({ kind: 'epsilonDelta', epsilon: 1, delta: 1e-6 });
    // Gaussian thresholding: common codes kept, the rare one not, the statement names the rule and its delta split
    const gauss = dpGroupByCount(keys, {
      userIds: ids,
      maxPartitionsPerUser: 5,
      epsilon: 2,
      delta: 1e-6,
      method: 'gaussian',
      rng: seededTestRng('g'),
    });
    expect([...gauss.counts.keys()].sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(gauss.statement).toMatch(/Gaussian thresholding/);
    expect(gauss.event).toEqual({ kind: 'epsilonDelta', epsilon: 2, delta: 1e-6 });
  });

  it('dpGroupBySum: per-key sums of clamped values with the bounded-contribution noise', () => {
    const keys: string[] = [];
    const ids: number[] = [];
    const amounts: number[] = [];
    for (let u = 0; u < 300; u++) {
      keys.push(u % 2 === 0 ? 'food' : 'travel', 'food');
      ids.push(u, u);
      amounts.push(50, 1000); // the second row of each user is clamped to 100 and sampled away (1 row per key)
    }
    const r = dpGroupBySum(keys, amounts, {
      userIds: ids,
      maxPartitionsPerUser: 2,
      maxRowsPerUser: 1,
      lower: 0,
      upper: 100,
      epsilon: 4,
      delta: 1e-6,
      rng: seededTestRng('group-sum'),
    });
    expect([...r.sums.keys()].sort()).toEqual(['food', 'travel']);
    // food: 150 users with (50 or the clamped 1000 = 100, one of the two sampled) + 150 users with 100; travel: 150 x 50
    const food = r.sums.get('food') as number;
    expect(food).toBeGreaterThan(150 * 50 + 150 * 100 - 600);
    expect(food).toBeLessThan(150 * 100 + 150 * 100 + 600);
    expect(Math.abs((r.sums.get('travel') as number) - 150 * 50)).toBeLessThan(600); // noise scale 2 x 100 / 2
    expect(r.statement).toMatch(/values clamped to \[0, 100\] in every key/);
    expect(r.statement).toMatch(/L1 sensitivity 200/);
    const budget = new PrivacyBudget({ epsilon: 1, delta: 1e-3 });
    expect(() => dpGroupBySum(['a', 'b'], [1], { epsilon: 1, delta: 1e-6, lower: 0, upper: 1, budget })).toThrow(/values/);
    expect(() => dpGroupBySum(['a'], [1], { epsilon: 1, delta: 1e-6, lower: 1, upper: 0, budget })).toThrow(/lower/);
    expect(budget.ledger.length).toBe(0);
  });

  it('rejects bad input with typed errors before spending', () => {
    const budget = new PrivacyBudget({ epsilon: 1, delta: 1e-3 });
    expect(() => dpSelectPartitions(['a'], { epsilon: 1, delta: 0 })).toThrow(RangeError);
    expect(() => dpSelectPartitions(['a'], { epsilon: 1, delta: 1e-6, maxPartitionsPerUser: 0 })).toThrow(/maxPartitionsPerUser/);
    expect(() => dpSelectPartitions(['a'], { epsilon: 1, delta: 1e-6, userIds: [] })).toThrow(/userIds/);
    expect(() => dpSelectPartitions([{}] as unknown as string[], { epsilon: 1, delta: 1e-6 })).toThrow(TypeError);
    expect(() => dpSelectPartitions(['a'], { epsilon: 1, delta: 1e-6, method: 'magic' as 'optimal' })).toThrow(/method/);
    expect(() => dpGroupByCount(['a'], { epsilon: 1, delta: 1e-6, maxRowsPerUser: 1.5, budget })).toThrow(/maxRowsPerUser/);
    expect(() => dpGroupByCount(['a'], { epsilon: 1, delta: 1e-6, colour: 1 } as never)).toThrow(TypeError);
    // a Gaussian rule that cannot be built is refused before the spend
    expect(() => dpSelectPartitions(['a'], { epsilon: 1e6, delta: 0.1, method: 'gaussian', budget })).toThrow(RangeError);
    expect(() => dpGroupByCount(['a'], { epsilon: 1e7, delta: 0.1, method: 'gaussian', budget })).toThrow(RangeError);
    expect(budget.ledger.length).toBe(0);
  });
});
