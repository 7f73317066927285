/**
 * Special functions, zCDP conversion (OpenDP values), optimal advanced composition (dp_accounting values) and
 * the event constructors.
 */
import { describe, expect, it } from 'vitest';
import {
  advancedComposition,
  advancedCompositionInverse,
  composedEvent,
  effectiveGaussianNoiseMultiplier,
  gaussianEvent,
  gaussianZcdpRho,
  laplaceEvent,
  pureDpToZcdpRho,
  selfComposedEvent,
  zcdpToDelta,
  zcdpToEpsilon,
} from '../src/accountant/index.ts';
import { erfc, logErfc, logNormalCdf, normalCdf, normalSf } from '../src/special.ts';
import { expectClose, expectRelClose } from '../../../test/support/stats.ts';
import v from './vectors/accountant-misc.json' with { type: 'json' };

describe('special functions', () => {
  // Reference values: Python 3 math.erfc (correctly rounded to about 1 ulp), cross-checked with mpmath at 40 digits.
  const table: Array<[number, number]> = [
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [2, 0.004677734981047265],
    [3, 2.2090496998585438e-5],
    [5, 1.5374597944280351e-12],
    [6, 2.1519736712498916e-17],
    [10, 2.088487583762545e-45],
    [20, 5.3958656116079005e-176],
    [26, 5.663192408856143e-296],
  ];
  it('erfc is accurate to 1e-14 relative, including the far tail', () => {
    for (const [x, y] of table) {
      expectRelClose(erfc(x), y, 1e-14, `erfc(${x})`);
      if (x <= 1) expectRelClose(2 - erfc(-x), y, 1e-14, `2 - erfc(-${x})`);
      expectRelClose(logErfc(x), Math.log(y), 1e-14, `logErfc(${x})`);
    }
    expect(erfc(0)).toBe(1);
    expect(erfc(Infinity)).toBe(0);
    expect(erfc(-Infinity)).toBe(2);
    expect(Number.isNaN(erfc(Number.NaN))).toBe(true);
  });

  it('logErfc and logNormalCdf stay finite where erfc underflows', () => {
    // ln erfc(x) = -x² - ln(x√π) + ln(1 - 1/(2x²) + 3/(4x⁴) - ...): at x = 40 the series is exact to 1e-12.
    const x = 40;
    const asym = -x * x - Math.log(x * Math.sqrt(Math.PI)) + Math.log1p(-1 / (2 * x * x) + 3 / (4 * x ** 4) - 15 / (8 * x ** 6));
    expectRelClose(logErfc(x), asym, 1e-14, 'logErfc(40)');
    expectRelClose(logNormalCdf(-x * Math.SQRT2), asym - Math.LN2, 1e-13, 'logNormalCdf');
    expectClose(logErfc(-3), Math.log(2 - 2.2090496998585438e-5), 1e-16, 'logErfc(-3)');
  });

  it('normalCdf and normalSf are symmetric and accurate in both tails', () => {
    for (const z of [0, 0.3, 1, 2.5, 5, 8, 12]) {
      expectRelClose(normalSf(z), normalCdf(-z), 1e-15, `sf(${z})`);
      expectClose(normalCdf(z) + normalSf(z), 1, 2e-16, `cdf+sf at ${z}`);
    }
    expectRelClose(normalCdf(-10), 7.61985302416047e-24, 1e-13, 'Phi(-10)');
  });
});

describe('zCDP conversion (Canonne, Kamath, Steinke 2020)', () => {
  it('reproduces OpenDP cdp_delta and cdp_epsilon values', () => {
    for (const c of v.zcdp.delta) {
      const rtol = 'relTolerance' in c ? (c.relTolerance as number) : v.zcdp.relTolerance;
      const d = zcdpToDelta({ rho: c.rho, epsilon: c.epsilon });
      expectRelClose(d, c.delta, rtol, `${c.test}`);
      expect(d).toBeGreaterThanOrEqual(c.delta * (1 - 1e-15));
    }
    for (const c of v.zcdp.epsilon) {
      const e = zcdpToEpsilon({ rho: c.rho, delta: c.delta });
      expectRelClose(e, c.epsilon, v.zcdp.relTolerance, c.test);
      expect(e).toBeGreaterThanOrEqual(c.epsilon * (1 - 1e-15));
    }
  });

  it('edge cases and the privacy maps', () => {
    expect(zcdpToDelta({ rho: 0, epsilon: 0 })).toBe(0);
    expect(zcdpToDelta({ rho: 0.1, epsilon: Infinity })).toBe(0);
    expect(zcdpToEpsilon({ rho: 0, delta: 1e-5 })).toBe(0);
    expect(gaussianZcdpRho(4)).toBe(0.03125);
    expect(pureDpToZcdpRho(1)).toBe(0.5);
    // Tighter than the Bun–Steinke bound ρ + 2√(ρ ln(1/δ)).
    const rho = 0.5;
    expect(zcdpToEpsilon({ rho, delta: 1e-6 })).toBeLessThan(rho + 2 * Math.sqrt(rho * Math.log(1e6)));
    // Inverse of each other.
    const e = zcdpToEpsilon({ rho: 0.2, delta: 1e-7 });
    expectRelClose(zcdpToDelta({ rho: 0.2, epsilon: e }), 1e-7, 1e-9, 'round trip');
  });
});

describe('optimal advanced composition (Kairouz, Oh, Viswanath 2015)', () => {
  it('reproduces dp_accounting advanced_composition', () => {
    for (const c of v.advancedComposition.cases) {
      const r = advancedComposition({ epsilon: c.epsilon, delta: c.delta, count: c.count, totalDelta: c.totalDelta });
      if (c.totalEpsilon === null) expect(r).toBeNull();
      else expectClose(r as number, c.totalEpsilon, 5e-8, JSON.stringify(c));
    }
  });

  it('reproduces dp_accounting get_smallest_epsilon_from_advanced_composition', () => {
    for (const c of v.advancedCompositionInverse.cases) {
      // Only the inputs (the vector's expected `epsilon` is not an option; unknown keys are rejected).
      const r = advancedCompositionInverse({ totalEpsilon: c.totalEpsilon, totalDelta: c.totalDelta, delta: c.delta, count: c.count });
      if (c.epsilon === null) expect(r).toBeNull();
      else {
        expectClose(r as number, c.epsilon, 5e-7, JSON.stringify(c));
        const total = advancedComposition({ epsilon: r as number, delta: c.delta, count: c.count, totalDelta: c.totalDelta });
        expect(total).not.toBeNull();
        expect(total as number).toBeLessThanOrEqual(c.totalEpsilon);
      }
    }
  });

  it('is never worse than basic composition', () => {
    for (const k of [1, 5, 50]) {
      const r = advancedComposition({ epsilon: 0.3, delta: 1e-6, count: k, totalDelta: 1e-3 });
      expect(r).not.toBeNull();
      expect(r as number).toBeLessThanOrEqual(0.3 * k + 1e-12);
    }
  });
});

describe('events', () => {
  it('effective Gaussian noise multiplier of a composition (dp_accounting test)', () => {
    const s = [0.3, 0.7, 0.2, 0.9];
    const e = composedEvent([
      gaussianEvent(s[0]),
      selfComposedEvent(gaussianEvent(s[1]), 3),
      composedEvent([gaussianEvent(s[2]), gaussianEvent(s[3])]),
    ]);
    const expected = [...s, s[1], s[1]].reduce((acc, x) => acc + x ** -2, 0) ** -0.5;
    expectRelClose(effectiveGaussianNoiseMultiplier(e) as number, expected, 1e-14);
    expect(effectiveGaussianNoiseMultiplier(composedEvent([laplaceEvent(1)]))).toBeUndefined();
    expect(Object.isFrozen(gaussianEvent(1))).toBe(true);
  });
});
