/**
 * The events added for services (randomized response, the exponential mechanism, pure and (epsilon, delta)
 * events) against independent references (`vectors/accountant-events.json`, computed by
 * `vectors/accountant-events.py` with mpmath from the definitions); the accountant registry; noise calibration
 * for queries; and every mechanism exposing its event.
 */
import { describe, expect, it } from 'vitest';
import {
  epsilonDeltaEvent,
  exponentialMechanismEvent,
  gaussianEvent,
  laplaceEvent,
  poissonSampledEvent,
  pureEpsilonOf,
  randomizedResponseEvent,
  selfComposedEvent,
  validateEvent,
} from '../src/accountant/events.ts';
import { calibrateGaussianNoise, calibrateLaplaceNoise, calibrateNoise } from '../src/accountant/calibrate-query.ts';
import { exponentialMechanismRdpAt, pureDpRdpAt, randomizedResponseRdpAt } from '../src/accountant/pure-dp.ts';
import { PldAccountant } from '../src/accountant/pld-accountant.ts';
import { ACCOUNTANT_KINDS, accountantLabel, checkAccountantKind, createAccountant, eventEpsilon } from '../src/accountant/registry.ts';
import { RdpAccountant } from '../src/accountant/rdp-accountant.ts';
import { analyticGaussianSigma } from '../src/mechanisms/calibration.ts';
import { exponentialMechanism, permuteAndFlip } from '../src/mechanisms/exponential.ts';
import { gaussianMechanism } from '../src/mechanisms/gaussian.ts';
import { laplaceMechanism } from '../src/mechanisms/laplace.ts';
import { randomizedResponse } from '../src/mechanisms/randomized-response.ts';
import vectors from './vectors/accountant-events.json' with { type: 'json' };

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('golden values of the new events (mpmath, from the definitions)', () => {
  it('randomized response RDP', () => {
    for (const v of vectors.randomizedResponseRdp) {
      expect(rel(randomizedResponseRdpAt(v.noiseParameter, v.buckets, v.order), v.rdp)).toBeLessThan(vectors.tolerance.rdp_relative);
      const acc = new RdpAccountant({ orders: [v.order] }).compose(
        randomizedResponseEvent({ noiseParameter: v.noiseParameter, buckets: v.buckets }),
      );
      expect(rel(acc.rdp[0], v.rdp)).toBeLessThan(vectors.tolerance.rdp_relative);
    }
  });

  it('pure epsilon-DP RDP (binary randomized response) for (epsilon, 0) events', () => {
    for (const v of vectors.pureDpRdp) {
      expect(rel(pureDpRdpAt(v.epsilon, v.order), v.rdp)).toBeLessThan(vectors.tolerance.rdp_relative);
      const acc = new RdpAccountant({ orders: [v.order] }).compose(epsilonDeltaEvent(v.epsilon));
      expect(rel(acc.rdp[0], v.rdp)).toBeLessThan(vectors.tolerance.rdp_relative);
    }
  });

  it('exponential mechanism RDP (bounded range): at least the reference supremum, within 1e-6', () => {
    for (const v of vectors.exponentialRdp) {
      const ours = exponentialMechanismRdpAt(v.epsilon, v.order);
      expect(ours).toBeGreaterThanOrEqual(v.rdp * (1 - 1e-12));
      expect(rel(ours, v.rdp)).toBeLessThan(vectors.tolerance.exponential_relative);
      // bounded range is much tighter than pure DP and never above the zCDP bound alpha eps^2 / 8
      expect(ours).toBeLessThanOrEqual(pureDpRdpAt(v.epsilon, v.order));
      expect(ours).toBeLessThanOrEqual((v.order * v.epsilon ** 2) / 8);
    }
    // near alpha = 1 the supremum approaches Cesar & Rogers' closed-form KL
    for (const v of vectors.exponentialKl) expect(rel(exponentialMechanismRdpAt(v.epsilon, 1.0001), v.kl)).toBeLessThan(2e-3);
  });

  it('randomized response PLD: n-fold delta(eps) between the exact value and the exact value one grid step per composition lower', () => {
    for (const v of vectors.randomizedResponsePld) {
      const acc = new PldAccountant({ valueDiscretizationInterval: 1e-4 });
      acc.compose(randomizedResponseEvent({ noiseParameter: v.noiseParameter, buckets: v.buckets }), v.count);
      const d = acc.getDelta(v.epsilon);
      expect(d).toBeGreaterThanOrEqual(v.delta * (1 - 1e-9));
      expect(d).toBeLessThanOrEqual(v.delta_upper * (1 + 1e-9));
    }
  });

  it('(epsilon, delta) PLD: n-fold composition matches the optimal composition theorem (Kairouz, Oh, Viswanath 2015)', () => {
    for (const v of vectors.epsilonDeltaPld) {
      const acc = new PldAccountant({ valueDiscretizationInterval: 1e-4 });
      acc.compose(epsilonDeltaEvent(v.epsilon, v.delta), v.count);
      const d = acc.getDelta(v.at);
      expect(d).toBeGreaterThanOrEqual(v.composedDelta * (1 - 1e-9));
      expect(d).toBeLessThanOrEqual(v.delta_upper * (1 + 1e-9));
    }
  });
});

describe('events', () => {
  it('checks fields and computes pure epsilons', () => {
    expect(pureEpsilonOf(randomizedResponseEvent({ noiseParameter: 0.5, buckets: 2 }))).toBeCloseTo(Math.log(3), 14);
    expect(pureEpsilonOf(exponentialMechanismEvent(0.3))).toBe(0.3);
    expect(pureEpsilonOf(epsilonDeltaEvent(0.3, 1e-9))).toBeUndefined();
    expect(pureEpsilonOf(laplaceEvent(4))).toBe(0.25);
    expect(() => epsilonDeltaEvent(-1)).toThrow(RangeError);
    expect(() => epsilonDeltaEvent(1, 1)).toThrow(/delta/);
    expect(() => randomizedResponseEvent({ noiseParameter: 1.5, buckets: 2 })).toThrow(/noiseParameter/);
    expect(() => randomizedResponseEvent({ noiseParameter: 0.5, buckets: 1 })).toThrow(/buckets/);
    expect(() => exponentialMechanismEvent(Number.NaN)).toThrow(RangeError);
    expect(() => validateEvent({ kind: 'exponential', epsilon: 1, extra: 2 })).toThrow(/extra/);
    expect(() => validateEvent({ kind: 'epsilonDelta', epsilon: 1 })).toThrow(/delta/);
    validateEvent(JSON.parse(JSON.stringify(randomizedResponseEvent({ noiseParameter: 0.2, buckets: 5 }))));
  });

  it('every mechanism exposes the event of one call, consistent with its guarantee', () => {
    const g = gaussianMechanism({ epsilon: 0.5, delta: 1e-6, sensitivity: 2 });
    expect(g.event).toEqual({ kind: 'gaussian', noiseMultiplier: g.sigma / 2 });
    // The event alone is (epsilon, delta)-DP under the tight accountant.
    expect(eventEpsilon(g.event, { accountant: 'pld', delta: 1e-6 })).toBeLessThanOrEqual(0.5 * 1.001);
    expect(laplaceMechanism({ epsilon: 0.5, sensitivity: 1 }).event).toEqual({ kind: 'epsilonDelta', epsilon: 0.5, delta: 0 });
    expect(exponentialMechanism({ epsilon: 0.7, sensitivity: 1 }).event).toEqual({ kind: 'exponential', epsilon: 0.7 });
    expect(permuteAndFlip({ epsilon: 0.7, sensitivity: 1 }).event).toEqual({ kind: 'epsilonDelta', epsilon: 0.7, delta: 0 });
    const rr = randomizedResponse({ epsilon: 1, categories: 4 });
    const e = rr.event;
    expect(e.buckets).toBe(4);
    // 1 - p + p/k is the truth probability; the event's epsilon is at least the mechanism's
    expect(1 - e.noiseParameter + e.noiseParameter / 4).toBeCloseTo(rr.truthProbability, 12);
    expect(pureEpsilonOf(e)).toBeGreaterThanOrEqual(1);
    expect(pureEpsilonOf(e)).toBeLessThan(1 + 1e-12);
  });
});

describe('accountant registry', () => {
  it('one kind type, one map; every accountant composes, clones and describes itself', () => {
    expect(ACCOUNTANT_KINDS).toEqual(['pld', 'rdp', 'basic']);
    expect(() => checkAccountantKind('prv')).toThrow(/accountant must be one of 'pld', 'rdp', 'basic', got .*prv/);
    expect(() => createAccountant('gdp' as never)).toThrow(RangeError);
    expect(() => createAccountant('rdp', { bogus: 1 } as never)).toThrow(/bogus/);
    for (const kind of ACCOUNTANT_KINDS) {
      const acc = createAccountant(kind);
      expect(acc.kind).toBe(kind);
      expect(accountantLabel(kind).length).toBeGreaterThan(2);
      expect(acc.describe().length).toBeGreaterThan(20);
      acc.compose(epsilonDeltaEvent(0.1, 1e-8), 30);
      const copy = acc.clone().compose(gaussianEvent(10));
      // the copy is independent: the original's epsilon does not move
      expect(acc.getEpsilon(1e-6)).toBeLessThan(copy.getEpsilon(1e-6));
      expect(acc.getEpsilon(1e-6)).toBeLessThanOrEqual(3 + 1e-12);
      expect(acc.getDelta(acc.getEpsilon(1e-6))).toBeLessThanOrEqual(1e-6 * (1 + 1e-6));
    }
  });

  it('tight accountants beat basic composition for many Gaussians; basic composition adds (epsilon, delta)', () => {
    const sigma = analyticGaussianSigma({ epsilon: 0.1, delta: 1e-8, sensitivity: 1 });
    const pld = eventEpsilon(gaussianEvent(sigma), { accountant: 'pld', delta: 1e-6, count: 100 });
    const rdp = eventEpsilon(gaussianEvent(sigma), { accountant: 'rdp', delta: 1e-6, count: 100 });
    const basic = eventEpsilon(epsilonDeltaEvent(0.1, 1e-8), { accountant: 'basic', delta: 1e-6, count: 30 });
    expect(pld).toBeLessThan(1);
    expect(rdp).toBeLessThan(1.1);
    expect(pld).toBeLessThan(rdp);
    expect(basic).toBeCloseTo(3, 12);
    expect(eventEpsilon(epsilonDeltaEvent(0.1, 1e-8), { accountant: 'basic', delta: 1e-6, count: 101 })).toBe(Infinity);
  });

  it('RDP composes approximate-DP events basically; sampled pure events by amplification', () => {
    const acc = new RdpAccountant().compose(gaussianEvent(10), 5).compose(epsilonDeltaEvent(0.2, 1e-7));
    const alone = new RdpAccountant().compose(gaussianEvent(10), 5);
    expect(acc.getEpsilon(1e-6)).toBeCloseTo(alone.getEpsilon(1e-6 - 1e-7) + 0.2, 12);
    expect(acc.getEpsilon(1e-7)).toBe(Infinity);
    const sampled = new RdpAccountant().compose(poissonSampledEvent(0.01, laplaceEvent(1)), 100);
    const pure = 100 * Math.log1p(0.01 * Math.expm1(1));
    expect(sampled.getEpsilon(1e-6)).toBeLessThan(pure);
    expect(
      createAccountant('pld')
        .compose(poissonSampledEvent(0.01, exponentialMechanismEvent(1)), 100)
        .getEpsilon(1e-6),
    ).toBeLessThan(pure);
  });
});

describe('noise calibration for queries (as dp_accounting calibrate_dp_mechanism)', () => {
  it('finds the smallest noise meeting the target under each accountant, never above the target', () => {
    for (const accountant of ['pld', 'rdp', 'basic'] as const) {
      const sigma = calibrateGaussianNoise({ targetEpsilon: 1, targetDelta: 1e-6, count: 50, accountant });
      const eps = (s: number): number => eventEpsilon(gaussianEvent(s), { accountant, delta: 1e-6, count: 50 });
      expect(eps(sigma)).toBeLessThanOrEqual(1);
      expect(eps(sigma / 1.002)).toBeGreaterThan(1);
      const b = calibrateLaplaceNoise({ targetEpsilon: 1, targetDelta: 1e-6, count: 20, accountant, tolerance: 1e-4 });
      const epsL = (x: number): number => eventEpsilon(laplaceEvent(x), { accountant, delta: 1e-6, count: 20 });
      expect(epsL(b)).toBeLessThanOrEqual(1);
      expect(epsL(b / 1.0002)).toBeGreaterThan(1);
    }
    // basic composition of Laplace is pure: scale = count / epsilon
    expect(calibrateLaplaceNoise({ targetEpsilon: 1, targetDelta: 1e-6, count: 20, accountant: 'basic', tolerance: 1e-9 })).toBeCloseTo(
      20,
      6,
    );
    // a single Gaussian under PLD is the analytic Gaussian (Balle & Wang 2018)
    const one = calibrateGaussianNoise({ targetEpsilon: 1, targetDelta: 1e-5, tolerance: 1e-4 });
    expect(rel(one, analyticGaussianSigma({ epsilon: 1, delta: 1e-5, sensitivity: 1 }))).toBeLessThan(2e-3);
  });

  it('subsampled Gaussian composed k times, and a custom event', () => {
    const sigma = calibrateGaussianNoise({ targetEpsilon: 2, targetDelta: 1e-5, count: 500, sampleRate: 0.02, accountant: 'rdp' });
    const eps = (s: number): number => new RdpAccountant().compose(poissonSampledEvent(0.02, gaussianEvent(s)), 500).getEpsilon(1e-5);
    expect(eps(sigma)).toBeLessThanOrEqual(2);
    expect(eps(sigma / 1.002)).toBeGreaterThan(2);
    const p = calibrateNoise({
      targetEpsilon: 1,
      targetDelta: 1e-6,
      accountant: 'rdp',
      event: (x) => selfComposedEvent(gaussianEvent(x), 4),
    });
    expect(rel(p, 2 * calibrateGaussianNoise({ targetEpsilon: 1, targetDelta: 1e-6, accountant: 'rdp' }))).toBeLessThan(3e-3);
  });

  it('refuses bad targets naming the parameter', () => {
    expect(() => calibrateGaussianNoise({ targetEpsilon: 0, targetDelta: 1e-6 })).toThrow(/targetEpsilon/);
    expect(() => calibrateGaussianNoise({ targetEpsilon: 1, targetDelta: 0 })).toThrow(/targetDelta/);
    expect(() => calibrateGaussianNoise({ targetEpsilon: 1, targetDelta: 1e-6, count: 0.5 })).toThrow(/count/);
    expect(() => calibrateGaussianNoise({ targetEpsilon: 1, targetDelta: 1e-6, sampleRate: 2 })).toThrow(/sampleRate/);
    expect(() => calibrateLaplaceNoise({ targetEpsilon: 1, targetDelta: 1e-6, accountant: 'x' as never })).toThrow(/accountant/);
    expect(() => calibrateNoise({ targetEpsilon: 1, targetDelta: 1e-6, event: 3 as never })).toThrow(TypeError);
    expect(() => calibrateGaussianNoise({ targetEpsilon: 1, targetDelta: 1e-6, extra: 1 } as never)).toThrow(/extra/);
  });
});

describe('PLD of the Laplace mechanism at grid-aligned losses', () => {
  it('keeps the mass on the flat top of the loss finite (1/b = 0.25 is 2500 grid steps of 1e-4)', () => {
    const warnings: string[] = [];
    const acc = new PldAccountant({ valueDiscretizationInterval: 1e-4, onWarning: (m) => warnings.push(m) });
    acc.compose(laplaceEvent(4), 100);
    const eps = acc.getEpsilon(1e-6);
    expect(warnings).toEqual([]);
    expect(acc.method).toBe('pld');
    // tighter than RDP; beyond the pure sum 25 only the pessimistic tail allowance (1e-15 per side and
    // composition step) remains
    expect(eps).toBeLessThan(new RdpAccountant().compose(laplaceEvent(4), 100).getEpsilon(1e-6));
    expect(acc.getDelta(25.0001)).toBeLessThan(1e-14);
  });
});
