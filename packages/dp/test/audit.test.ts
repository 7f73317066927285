/**
 * Empirical privacy audit: each mechanism runs many times on two neighbouring inputs, the probability of an
 * output event S is estimated under both, and the privacy loss ln(P[M(x) in S] - delta) - ln P[M(x') in S]
 * is bounded from below with a confidence interval (normal approximation to each binomial proportion at
 * z = 4.41717, i.e. two-sided 1e-5 per proportion). The lower confidence bound must not exceed epsilon: a
 * mechanism that really satisfied its claim fails this check with probability at most 2e-5 per event. Each
 * event is chosen where the loss is largest, and the point estimate must come close to the theoretical loss,
 * which shows the audit has the power to catch a mechanism whose noise is too small.
 */
import { seededTestRng } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import { exponentialMechanism, gaussianMechanism, laplaceMechanism, randomizedResponse } from '../src/mechanisms/index.ts';
import { dpCount } from '../src/queries/index.ts';
import { Z_1E5 } from '../../../test/support/stats.ts';
import { normalCdf } from '../src/special.ts';

const N = 125_000;

interface Audit {
  /** Point estimate of the privacy loss on the event. */
  readonly estimate: number;
  /** Lower confidence bound on the privacy loss (probability 1e-5 per side of being wrong). */
  readonly lowerBound: number;
  /** Standard error of the estimate (delta method). */
  readonly se: number;
}

function audit(hitsX: number, hitsY: number, n: number, delta = 0): Audit {
  const p = hitsX / n;
  const q = hitsY / n;
  const pLo = p - Z_1E5 * Math.sqrt((p * (1 - p)) / n);
  const qHi = q + Z_1E5 * Math.sqrt((q * (1 - q)) / n);
  const se = Math.sqrt((1 - p) / (n * p) + (1 - q) / (n * q));
  return { estimate: Math.log((p - delta) / q), lowerBound: Math.log(Math.max(pLo - delta, 1e-300) / qHi), se };
}

function countHits(n: number, draw: () => boolean): number {
  let h = 0;
  for (let i = 0; i < n; i++) if (draw()) h++;
  return h;
}

describe('empirical privacy audit on neighbouring inputs', () => {
  it('Laplace mechanism, eps = 1, D = 1: loss on {y <= 0} for x = 0 vs x = 1', () => {
    const lap = laplaceMechanism({ epsilon: 1, sensitivity: 1, rng: seededTestRng('audit-lap') });
    const a = audit(
      countHits(N, () => lap.addNoise(0) <= 0),
      countHits(N, () => lap.addNoise(1) <= 0),
      N,
    );
    expect(a.lowerBound).toBeLessThanOrEqual(1);
    expect(a.estimate).toBeGreaterThan(1 - Z_1E5 * a.se); // theoretical loss on this event: 1 (less 2^-39)
  });

  it('Gaussian mechanism, eps = 1, delta = 1e-5: loss on {y <= -2 sigma}', () => {
    const g = gaussianMechanism({ epsilon: 1, delta: 1e-5, sensitivity: 1, rng: seededTestRng('audit-gauss') });
    const t = -2 * g.sigma;
    const a = audit(
      countHits(N, () => g.addNoise(0) <= t),
      countHits(N, () => g.addNoise(1) <= t),
      N,
      1e-5,
    );
    const theory = Math.log(normalCdf(-2) / normalCdf(-2 - 1 / g.sigma));
    expect(a.lowerBound).toBeLessThanOrEqual(1);
    expect(Math.abs(a.estimate - theory)).toBeLessThan(Z_1E5 * a.se);
  });

  it('exponential mechanism, eps = 2: scores [0, 0] vs [1, 0]', () => {
    const em = exponentialMechanism({ epsilon: 2, sensitivity: 1, rng: seededTestRng('audit-em') });
    const a = audit(
      countHits(N, () => em.select([0, 0]) === 1),
      countHits(N, () => em.select([1, 0]) === 1),
      N,
    );
    expect(a.lowerBound).toBeLessThanOrEqual(2);
    expect(Math.abs(a.estimate - Math.log((1 + Math.E) / 2))).toBeLessThan(Z_1E5 * a.se);
  });

  it('randomized response, eps = ln 3: the loss reaches epsilon and never exceeds it', () => {
    const rr = randomizedResponse({ epsilon: Math.log(3), rng: seededTestRng('audit-rr') });
    const a = audit(
      countHits(N, () => rr.respond(1) === 1),
      countHits(N, () => rr.respond(0) === 1),
      N,
    );
    expect(a.lowerBound).toBeLessThanOrEqual(Math.log(3));
    expect(Math.abs(a.estimate - Math.log(3))).toBeLessThan(Z_1E5 * a.se);
  });

  it('noisy count, eps = 0.7: datasets of 100 and 101 records', () => {
    const rng = seededTestRng('audit-count');
    const small = new Array(100).fill(0);
    const large = new Array(101).fill(0);
    const a = audit(
      countHits(N, () => dpCount(small, { epsilon: 0.7, rng }) <= 100),
      countHits(N, () => dpCount(large, { epsilon: 0.7, rng }) <= 100),
      N,
    );
    expect(a.lowerBound).toBeLessThanOrEqual(0.7);
    expect(a.estimate).toBeGreaterThan(0.7 - Z_1E5 * a.se);
  });
});
