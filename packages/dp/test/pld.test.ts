/**
 * Tight (PLD) accountant: dp_accounting PLD tests, TF Privacy PLD epsilons and a subset of Opacus's PRV grid
 * (test/vectors/accountant-pld.json; the full grid runs in pld.slow.test.ts), upper-bound properties against
 * RDP and the analytic Gaussian, and the RDP fallback.
 */
import { describe, expect, it } from 'vitest';
import {
  type DpEvent,
  PldAccountant,
  RdpAccountant,
  composedEvent,
  computeEpsilon,
  gaussianEvent,
  laplaceEvent,
  poissonSampledEvent,
  sampledWithoutReplacementEvent,
} from '../src/accountant/index.ts';
import { normalCdf } from '../src/special.ts';
import { expectClose, expectRelClose } from '../../../test/support/stats.ts';
import v from './vectors/accountant-pld.json' with { type: 'json' };

function leaf(kind: string, noise: number, q: number): DpEvent {
  const base = kind === 'gaussian' ? gaussianEvent(noise) : laplaceEvent(noise);
  return q === 1 ? base : poissonSampledEvent(q, base);
}

/** Exact δ(ε) of the Gaussian mechanism with sensitivity/σ = mu (Balle & Wang 2018, Thm 8). */
function gaussianDelta(mu: number, eps: number): number {
  return normalCdf(mu / 2 - eps / mu) - Math.exp(eps) * normalCdf(-mu / 2 - eps / mu);
}

describe('PldAccountant against dp_accounting', () => {
  for (const c of v.dpAccountingEvents.cases) {
    it(c.name, () => {
      const acc = new PldAccountant();
      for (const [kind, noise, q, count] of c.events as Array<[string, number, number, number]>) {
        acc.compose(leaf(kind, noise, q), count);
      }
      expect(acc.method === 'pld' || acc.getEpsilon(0.5) >= 0).toBe(true);
      expectClose(acc.getDelta(c.epsilon), c.delta, c.deltaAbsTolerance, 'delta');
      expectClose(acc.getEpsilon(c.delta), c.epsilon, c.epsilonAbsTolerance, 'epsilon');
      expect(acc.method).toBe('pld');
    });
  }
});

describe('PLD epsilons of TF Privacy and Opacus PRV', () => {
  it('reproduces TF Privacy example-level PLD epsilons within 1% (sigma 0.7 rows; all rows in the slow suite)', () => {
    for (const c of v.tfExamplePrivacyPld.cases.filter((x) => x.noiseMultiplier === 0.7)) {
      const base = gaussianEvent(c.noiseMultiplier);
      const event = c.sampleRate === null ? base : poissonSampledEvent(c.sampleRate, base);
      const eps = new PldAccountant().compose(event, c.count).getEpsilon(1e-5);
      expectRelClose(eps, c.epsilon, v.tfExamplePrivacyPld.relTolerance, c.name);
    }
  });

  it('matches dp_accounting smallest subsampled Gaussian noise (epsilon at that noise within 1%)', () => {
    for (const c of v.dpAccountingSmallestSubsampledGaussianNoise.cases) {
      const eps = computeEpsilon({
        noiseMultiplier: c.std / c.sensitivity,
        sampleRate: c.samplingProb,
        steps: c.numQueries,
        delta: c.delta,
        accountant: 'pld',
      });
      expectRelClose(eps, c.epsilon, v.dpAccountingSmallestSubsampledGaussianNoise.relTolerance, `q=${c.samplingProb}`);
    }
  });

  it('lands in [PRV - 0.01 - 1%, PRV] on a subset of the Opacus PRV grid', () => {
    const { delta, epsError, relTolerance, absSlack, defaultRunSubset, cases } = v.opacusPrvGrid;
    for (const [sigma, q, steps] of defaultRunSubset) {
      const ref = cases.find((c) => c[0] === sigma && c[1] === q && c[2] === steps);
      if (ref === undefined) throw new Error('subset entry missing from the grid');
      const eps = computeEpsilon({ noiseMultiplier: sigma, sampleRate: q, steps, delta, accountant: 'pld' });
      expect(eps, `(${sigma}, ${q}, ${steps})`).toBeLessThanOrEqual(ref[3] * (1 + 1e-6));
      expect(eps, `(${sigma}, ${q}, ${steps})`).toBeGreaterThanOrEqual((ref[3] - epsError) * (1 - relTolerance) - absSlack);
    }
  });
});

describe('PLD bounds', () => {
  it('is an upper bound of the exact Gaussian curve and close to it', () => {
    for (const [sigma, k] of [
      [1, 1],
      [2, 10],
      [0.8, 3],
    ]) {
      const acc = new PldAccountant().compose(gaussianEvent(sigma), k);
      const mu = Math.sqrt(k) / sigma;
      for (const eps of [0, 0.5, 1, 2, 4]) {
        const exact = gaussianDelta(mu, eps);
        const d = acc.getDelta(eps);
        expect(d).toBeGreaterThanOrEqual(exact - 1e-12);
        expect(d - exact).toBeLessThanOrEqual(1e-3 * exact + 1e-12);
      }
    }
  });

  it('one Poisson-sampled Gaussian step: an upper bound of the exact delta(epsilon), within 1e-6 relative', () => {
    // Exact hockey-stick divergence of the remove direction (which dominates here): with
    // x* = σ² ln((e^ε − 1 + q)/q) + 1/2, δ(ε) = (1−q)Φ̄(x*/σ) + qΦ̄((x*−1)/σ) − e^ε Φ̄(x*/σ).
    const q = 0.2;
    const sigma = 0.5;
    const acc = new PldAccountant().compose(poissonSampledEvent(q, gaussianEvent(sigma)));
    const sf = (z: number): number => normalCdf(-z);
    for (const eps of [0.3, 0.5, 1, 2, 3]) {
      const x = sigma * sigma * Math.log((Math.expm1(eps) + q) / q) + 0.5;
      const exact = (1 - q) * sf(x / sigma) + q * sf((x - 1) / sigma) - Math.exp(eps) * sf(x / sigma);
      const d = acc.getDelta(eps);
      expect(d).toBeGreaterThanOrEqual(exact * (1 - 1e-12));
      expect(d / exact - 1).toBeLessThan(1e-6);
    }
  });

  it('is never looser than RDP for DP-SGD and within 30% of it', () => {
    for (const [sigma, q, steps] of [
      [1.1, 0.01, 1000],
      [0.9, 0.004, 3000],
    ]) {
      const event = poissonSampledEvent(q, gaussianEvent(sigma));
      const pld = new PldAccountant().compose(event, steps).getEpsilon(1e-5);
      const rdp = new RdpAccountant().compose(event, steps).getEpsilon(1e-5);
      expect(pld).toBeLessThan(rdp);
      expect(pld).toBeGreaterThan(0.7 * rdp);
    }
  });

  it('composing step by step equals composing with a count (lazy history merge)', () => {
    const event = poissonSampledEvent(0.02, gaussianEvent(1.2));
    const a = new PldAccountant({ valueDiscretizationInterval: 1e-3 });
    for (let i = 0; i < 200; i++) a.compose(event);
    const b = new PldAccountant({ valueDiscretizationInterval: 1e-3 }).compose(event, 200);
    expect(a.getEpsilon(1e-6)).toBe(b.getEpsilon(1e-6));
  });

  it('composes different events (Poisson-sampled Gaussian then Laplace) monotonically', () => {
    const acc = new PldAccountant({ valueDiscretizationInterval: 1e-3 });
    acc.compose(poissonSampledEvent(0.1, gaussianEvent(1)), 10);
    const e1 = acc.getEpsilon(1e-6);
    acc.compose(laplaceEvent(10));
    const e2 = acc.getEpsilon(1e-6);
    expect(e2).toBeGreaterThan(e1);
    expect(e2).toBeLessThan(e1 + 0.1 + 1e-3);
    expect(acc.discretizationInterval).toBe(1e-3);
  });

  it('zero noise gives delta 1 / epsilon infinity; zero sampling gives 0', () => {
    const a = new PldAccountant().compose(gaussianEvent(0));
    expect(a.getDelta(1)).toBe(1);
    expect(a.getEpsilon(0.01)).toBe(Infinity);
    const b = new PldAccountant().compose(poissonSampledEvent(0, gaussianEvent(1)));
    expect(b.getDelta(0)).toBe(0);
    expect(b.getEpsilon(1e-9)).toBe(0);
  });
});

describe('fallback to RDP', () => {
  it('answers sampling without replacement with RDP and warns once', () => {
    const warnings: string[] = [];
    const acc = new PldAccountant({ neighboringRelation: 'replace-one', onWarning: (m) => warnings.push(m) });
    const swor = sampledWithoutReplacementEvent({ datasetSize: 1000, sampleSize: 10 }, gaussianEvent(1));
    acc.compose(swor, 100);
    acc.compose(gaussianEvent(5));
    const rdp = new RdpAccountant({ neighboringRelation: 'replace-one' }).compose(swor, 100).compose(gaussianEvent(5));
    expect(acc.getEpsilon(1e-5)).toBe(rdp.getEpsilon(1e-5));
    expect(acc.method).toBe('rdp');
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/falls back to RDP/);
  });

  it('falls back when the grid would be too large instead of throwing', () => {
    const warnings: string[] = [];
    const acc = new PldAccountant({ valueDiscretizationInterval: 1e-7, onWarning: (m) => warnings.push(m) });
    // (Unsampled Gaussians alone need no grid: their composition is one Gaussian with an exact epsilon. A sampled
    // step makes the grid necessary.)
    const event = composedEvent([gaussianEvent(0.05), poissonSampledEvent(0.5, gaussianEvent(0.05))]);
    acc.compose(event, 3);
    const rdp = new RdpAccountant().compose(event, 3).getEpsilon(1e-5);
    expect(acc.getEpsilon(1e-5)).toBe(rdp);
    expect(acc.method).toBe('rdp');
    expect(acc.fallbackReason).toMatch(/grid points|FFT/);
    expect(warnings.length).toBe(1);
  });

  it('throws only where RDP throws too (Poisson sampling under replace-one)', () => {
    const acc = new PldAccountant({ neighboringRelation: 'replace-one', onWarning: () => {} });
    expect(() => acc.compose(poissonSampledEvent(0.1, gaussianEvent(1)))).toThrow(RangeError);
  });
});
