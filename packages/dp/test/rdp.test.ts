/**
 * RDP accountant: sampled-Gaussian RDP against Opacus, TF Privacy, dp_accounting and an independent mpmath
 * evaluation (test/vectors/accountant-rdp.json), conversions, Laplace and sampling without replacement.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RDP_ORDERS,
  DP_ACCOUNTING_RDP_ORDERS,
  RdpAccountant,
  TF_PRIVACY_RDP_ORDERS,
  composedEvent,
  gaussianEvent,
  gaussianRdp,
  laplaceEvent,
  laplaceRdp,
  poissonSampledEvent,
  rdpToDelta,
  rdpToEpsilon,
  sampledGaussianRdp,
  sampledWithoutReplacementEvent,
  sampledWithoutReplacementGaussianRdp,
  selfComposedEvent,
} from '../src/accountant/index.ts';
import { expectClose, expectRelClose } from '../../../test/support/stats.ts';
import v from './vectors/accountant-rdp.json' with { type: 'json' };

describe('order lists', () => {
  it('DEFAULT_RDP_ORDERS is Opacus DEFAULT_ALPHAS: 1.1..10.9 by 0.1, then 12..63', () => {
    expect(DEFAULT_RDP_ORDERS.length).toBe(151);
    expect(DEFAULT_RDP_ORDERS[0]).toBe(1.1);
    expect(DEFAULT_RDP_ORDERS[98]).toBe(10.9);
    expect(DEFAULT_RDP_ORDERS[99]).toBe(12);
    expect(DEFAULT_RDP_ORDERS[150]).toBe(63);
    expect(Object.isFrozen(DEFAULT_RDP_ORDERS)).toBe(true);
    expect(DP_ACCOUNTING_RDP_ORDERS.length).toBe(156);
    expect(TF_PRIVACY_RDP_ORDERS.length).toBe(72);
  });
});

describe('sampled Gaussian RDP', () => {
  it('reproduces Opacus test_rdp_accountant (epsilon 7.32911117143)', () => {
    const c = v.opacusRdpAccountant;
    const acc = new RdpAccountant().compose(poissonSampledEvent(c.sampleRate, gaussianEvent(c.noiseMultiplier)), c.steps);
    const r = acc.getEpsilonAndOrder(c.delta);
    expectClose(r.epsilon, c.epsilon, c.absTolerance, 'epsilon');
    expect(r.orderAtBoundary).toBe(false);
  });

  it('reproduces TF Privacy compute_dp_sgd_privacy (epsilon and optimal order)', () => {
    for (const c of v.tfComputeDpSgdPrivacy.cases) {
      const q = c.batchSize / c.n;
      const steps = Math.ceil((c.epochs * c.n) / c.batchSize);
      const rdp = sampledGaussianRdp({ sampleRate: q, noiseMultiplier: c.noiseMultiplier, orders: TF_PRIVACY_RDP_ORDERS });
      const r = rdpToEpsilon({ orders: TF_PRIVACY_RDP_ORDERS, rdp: rdp.map((x) => x * steps), delta: c.delta });
      expectRelClose(r.epsilon, c.epsilon, v.tfComputeDpSgdPrivacy.relTolerance, c.name);
      expect(r.order).toBe(c.order);
    }
  });

  it('reproduces TF Privacy example-level RDP epsilons (dp_accounting orders)', () => {
    for (const c of v.tfExamplePrivacyRdp.cases) {
      const base = gaussianEvent(c.noiseMultiplier);
      const event = c.sampleRate === null ? base : poissonSampledEvent(c.sampleRate, base);
      const acc = new RdpAccountant({ orders: DP_ACCOUNTING_RDP_ORDERS }).compose(event, c.count);
      const r = acc.getEpsilonAndOrder(1e-5);
      if (c.sampleRate === null || Number.isInteger(r.order)) {
        expectClose(r.epsilon, c.epsilon, v.tfExamplePrivacyRdp.absTolerance, c.name);
      } else {
        // Optimal order fractional: dp_accounting's unsigned series is an upper bound of the exact signed one.
        expect(r.epsilon).toBeLessThanOrEqual(c.epsilon);
        expectRelClose(r.epsilon, c.epsilon, 5e-3, c.name);
      }
    }
  });

  it('matches dp_accounting at integer orders and stays below its unsigned series at fractional ones', () => {
    const c = v.dpAccountingPoissonSampledGaussian;
    const rdp = sampledGaussianRdp({ sampleRate: c.sampleRate, noiseMultiplier: c.noiseMultiplier, orders: c.orders });
    c.orders.forEach((alpha, i) => {
      const ours = rdp[i] * c.count;
      if (Number.isInteger(alpha)) expectRelClose(ours, c.rdp[i], c.relTolerance, `order ${alpha}`);
      else expect(ours).toBeLessThanOrEqual(c.rdp[i] * (1 + c.relTolerance));
    });
    // The note in the vector file: about 3% apart at order 1.5.
    const gap = c.rdp[0] / (rdp[0] * c.count) - 1;
    expect(gap).toBeGreaterThan(0.025);
    expect(gap).toBeLessThan(0.04);
  });

  it('equals an independent mpmath integration to 1e-9 relative (integer and fractional orders)', () => {
    const { relTolerance, absTolerance, cases } = v.mpmathSampledGaussian;
    for (const c of cases) {
      const r = sampledGaussianRdp({ sampleRate: c.sampleRate, noiseMultiplier: c.noiseMultiplier, orders: [c.order] })[0];
      const err = Math.abs(r - c.rdp);
      expect(err, `q=${c.sampleRate} sigma=${c.noiseMultiplier} order=${c.order}: ${r} vs ${c.rdp}`).toBeLessThanOrEqual(
        relTolerance * c.rdp + absTolerance,
      );
    }
  });

  it('has the closed forms at q = 1, the Gaussian RDP and special cases', () => {
    const g = v.dpAccountingGaussianRdp;
    expectRelClose(
      gaussianRdp({ noiseMultiplier: g.noiseMultiplier, orders: [g.order] })[0],
      g.order / (2 * g.noiseMultiplier ** 2),
      1e-15,
    );
    const orders = [1.5, 2, 7.3, 32];
    const full = sampledGaussianRdp({ sampleRate: 1, noiseMultiplier: 2, orders });
    orders.forEach((a, i) => {
      expectRelClose(full[i], a / 8, 1e-15);
    });
    expect([...sampledGaussianRdp({ sampleRate: 0.1, noiseMultiplier: 0, orders: [2, 2.5] })]).toEqual([Infinity, Infinity]);
    // Order ∞ is refused (it only ever proves ε = ∞ for the Gaussian); it used to be accepted silently.
    expect(() => sampledGaussianRdp({ sampleRate: 0.1, noiseMultiplier: 1, orders: [Infinity] })).toThrow(RangeError);
  });

  it('is nondecreasing in the order and in q, nonincreasing in sigma (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-4, max: 0.5, noNaN: true }), fc.double({ min: 0.5, max: 8, noNaN: true }), (q, sigma) => {
        const orders = [1.25, 1.5, 2, 2.5, 3, 4, 6.5, 8, 16];
        const r = sampledGaussianRdp({ sampleRate: q, noiseMultiplier: sigma, orders });
        for (let i = 1; i < r.length; i++) expect(r[i]).toBeGreaterThanOrEqual(r[i - 1] * (1 - 1e-9) - 1e-15);
        const r2 = sampledGaussianRdp({ sampleRate: Math.min(1, q * 1.5), noiseMultiplier: sigma, orders });
        const r3 = sampledGaussianRdp({ sampleRate: q, noiseMultiplier: sigma * 1.5, orders });
        for (let i = 0; i < r.length; i++) {
          expect(r2[i]).toBeGreaterThanOrEqual(r[i] * (1 - 1e-9));
          expect(r3[i]).toBeLessThanOrEqual(r[i] * (1 + 1e-9) + 1e-15);
          expect(r[i]).toBeLessThanOrEqual(orders[i] / (2 * sigma * sigma) + 1e-12);
        }
      }),
      { numRuns: 25, seed: 7 },
    );
  });
});

describe('conversion to (epsilon, delta)', () => {
  it('reproduces dp_accounting pure-DP conversion and its inverse', () => {
    const c = v.dpAccountingPureDp;
    const orders = Array.from({ length: 31 }, (_, i) => i + 2);
    const rdp = orders.map(() => c.rdpPerOrder);
    const e = rdpToEpsilon({ orders, rdp, delta: c.delta });
    expectClose(e.epsilon, c.epsilon, c.absTolerance, 'epsilon');
    expect(e.order).toBe(c.order);
    expect(e.orderAtBoundary).toBe(true);
    const d = rdpToDelta({ orders, rdp, epsilon: c.epsilon });
    expectRelClose(d.delta, c.delta, 1e-6, 'delta');
  });

  it('reproduces dp_accounting: sigma 4.530877117 gives (1, 1e-6)-DP', () => {
    const c = v.dpAccountingGaussianExact;
    const orders = Array.from({ length: 98999 }, (_, i) => 0.001 * (i + 1001));
    const rdp = gaussianRdp({ noiseMultiplier: c.noiseMultiplier, orders });
    expectClose(rdpToEpsilon({ orders, rdp, delta: c.delta }).epsilon, c.epsilon, c.absTolerance, 'epsilon');
    expectRelClose(rdpToDelta({ orders, rdp, epsilon: c.epsilon }).delta, c.delta, 1e-5, 'delta');
  });

  it('the old conversion (Mironov 2017) is never smaller than the optimal one', () => {
    const rdp = sampledGaussianRdp({ sampleRate: 0.01, noiseMultiplier: 1.1 }).map((x) => x * 5000);
    const a = rdpToEpsilon({ orders: DEFAULT_RDP_ORDERS, rdp, delta: 1e-5 });
    const b = rdpToEpsilon({ orders: DEFAULT_RDP_ORDERS, rdp, delta: 1e-5, conversion: 'mironov2017' });
    expect(b.conversion).toBe('mironov2017');
    expect(b.epsilon).toBeGreaterThan(a.epsilon);
  });

  it('epsilon and delta conversions are consistent (dp_accounting test_epsilon_delta_consistency)', () => {
    const orders = Array.from({ length: 48 }, (_, i) => i + 2);
    for (const q of [0.01, 0.1, 0.8, 1]) {
      for (const sigma of [0.1, 1, 10, 100]) {
        const acc = new RdpAccountant({ orders }).compose(poissonSampledEvent(q, gaussianEvent(sigma)));
        for (const delta of [0.99, 0.9, 0.1, 0.01, 1e-3, 1e-5, 1e-9, 1e-12]) {
          const eps = acc.getEpsilon(delta);
          const d2 = acc.getDelta(eps);
          if (eps === Infinity) expect(d2).toBe(1);
          else if (eps === 0) expect(d2).toBeLessThanOrEqual(delta * (1 + 1e-9));
          else expectRelClose(d2, delta, 1e-6, `q=${q} sigma=${sigma} delta=${delta}`);
        }
      }
    }
  });
});

describe('RdpAccountant events', () => {
  it('composes counts, self-composition and lists additively (dp_accounting test_rdp_composition)', () => {
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: the reference test's own arbitrary value, not pi or e
    const orders = [2.71828];
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: the reference test's own arbitrary value, not pi or e
    const base = gaussianEvent(3.14159);
    const one = new RdpAccountant({ orders }).compose(base).rdp[0];
    const six = one * 6;
    expectRelClose(new RdpAccountant({ orders }).compose(base, 6).rdp[0], six, 1e-14);
    expectRelClose(new RdpAccountant({ orders }).compose(selfComposedEvent(base, 2), 3).rdp[0], six, 1e-14);
    expectRelClose(new RdpAccountant({ orders }).compose(composedEvent([base, base, base, base, base, base])).rdp[0], six, 1e-14);
    const two = gaussianEvent(1.61803);
    const het = new RdpAccountant({ orders }).compose(composedEvent([base, two])).rdp[0];
    expectRelClose(het, one + new RdpAccountant({ orders }).compose(two).rdp[0], 1e-14);
  });

  it('Poisson sampling of composed Gaussians equals one Gaussian with the effective multiplier', () => {
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: the reference test's own arbitrary value, not pi or e
    const orders = [3.14159];
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: the reference test's own arbitrary value, not pi or e
    const s1 = 2.71828;
    const s2 = 6.28319;
    const acc = new RdpAccountant({ orders }).compose(poissonSampledEvent(1, composedEvent([gaussianEvent(s1), gaussianEvent(s2)])));
    expectRelClose(acc.rdp[0], orders[0] / (2 * s1 ** 2) + orders[0] / (2 * s2 ** 2), 1e-12);
  });

  it('zero sampling rate gives epsilon 0 and delta 0; zero noise gives infinity', () => {
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: the reference test's own arbitrary value, not pi or e
    const acc = new RdpAccountant({ orders: [3.14159] }).compose(poissonSampledEvent(0, gaussianEvent(1)));
    expect(acc.getEpsilon(1e-10)).toBe(0);
    expect(acc.getDelta(1e-10)).toBe(0);
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: the reference test's own arbitrary value, not pi or e
    expect(new RdpAccountant({ orders: [3.14159] }).compose(gaussianEvent(0)).getEpsilon(0.1)).toBe(Infinity);
  });

  it('Laplace RDP reproduces dp_accounting test_laplace', () => {
    const orders = [1 + 1e-6, 1.1 - 1e-6, 1.1 + 1e-6, 1e10];
    for (const [eps, count] of v.dpAccountingLaplace.cases) {
      const acc = new RdpAccountant({ orders }).compose(laplaceEvent(1 / eps), count);
      expectClose(acc.getEpsilon(1e-10), eps * count, 5e-7 * Math.max(1, eps * count), `eps=${eps}`);
      const r = acc.rdp;
      expect(r[0]).toBeLessThanOrEqual(Math.min(eps, (eps * eps) / 2) * count * (1 + 1e-9));
      expectClose(r[1], r[2], 5e-4 * Math.max(1, r[1]), 'orders 1.1 +- 1e-6');
    }
    expectRelClose(laplaceRdp({ noiseMultiplier: 1, orders: [1e12] })[0], 1, 1e-9);
  });

  it('Poisson sampling needs add-or-remove-one, sampling without replacement needs replace-one', () => {
    const swor = sampledWithoutReplacementEvent({ datasetSize: 1000, sampleSize: 10 }, gaussianEvent(1));
    const poisson = poissonSampledEvent(0.1, gaussianEvent(1));
    const aor = new RdpAccountant();
    const ro = new RdpAccountant({ neighboringRelation: 'replace-one' });
    expect(aor.supports(poisson)).toBe(true);
    expect(aor.supports(swor)).toBe(false);
    expect(ro.supports(swor)).toBe(true);
    expect(ro.supports(poisson)).toBe(false);
    expect(() => aor.compose(swor)).toThrow(RangeError);
    // Sampled pure-DP events are accounted by their amplified ε (Balle, Barthe, Gaboardi 2018) and the tight RDP of
    // pure DP; under replace-one the Poisson relation is still refused.
    expect(aor.supports(poissonSampledEvent(0.1, laplaceEvent(1)))).toBe(true);
    expect(ro.supports(poissonSampledEvent(0.1, laplaceEvent(1)))).toBe(false);
  });

  it('sampling without replacement: q = 1 is the Gaussian, small q is far below it, and it bounds Poisson loosely', () => {
    const orders = [2, 3, 4.5, 8, 32];
    const full = sampledWithoutReplacementGaussianRdp({ datasetSize: 10, sampleSize: 10, noiseMultiplier: 2, orders });
    orders.forEach((a, i) => {
      expectRelClose(full[i], a / 8, 1e-15);
    });
    const w = sampledWithoutReplacementGaussianRdp({ datasetSize: 1000, sampleSize: 10, noiseMultiplier: 1, orders });
    const p = sampledGaussianRdp({ sampleRate: 0.01, noiseMultiplier: 1, orders });
    for (let i = 0; i < orders.length; i++) {
      expect(w[i]).toBeGreaterThan(0);
      expect(w[i]).toBeLessThan(orders[i] / 2);
      // Replace-one is at least as strong as add-or-remove (two swaps): the bound exceeds the Poisson RDP.
      expect(w[i]).toBeGreaterThanOrEqual(p[i]);
    }
    expect(sampledWithoutReplacementGaussianRdp({ datasetSize: 1000, sampleSize: 0, noiseMultiplier: 1, orders })[0]).toBe(0);
  });
});
