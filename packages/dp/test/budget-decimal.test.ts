/**
 * Privacy amounts are the decimals people write: ten spends of 0.1 fit a budget of 1, and no mechanism or query
 * incurs a larger loss than the decimal the budget records (each calibrates from a value at most that decimal).
 * The oracle of the property tests is exact BigInt arithmetic on decimals scaled by 10^12, independent of the
 * budget's own rational arithmetic.
 */
import { seededTestRng } from '@ppml/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rationalFromDouble } from '../src/mechanisms/exact-exp.ts';
import {
  decimalCeil,
  decimalFloor,
  exponentialMechanism,
  gaussianDelta,
  gaussianMechanism,
  laplaceMechanism,
  permuteAndFlip,
  randomizedResponse,
} from '../src/mechanisms/index.ts';
import { checkOptions, QUERY_KEYS } from '../src/queries/common.ts';
import { dpCount, dpMean, PrivacyBudget, PrivacyBudgetExceededError } from '../src/queries/index.ts';

const SCALE = 10n ** 12n;

/** A decimal k / 10^j (j <= 12) as the double a user would type, and its exact value in units of 10^-12. */
function decimal(k: number, j: number): { readonly x: number; readonly units: bigint } {
  return { x: Number(`${k}e-${j}`), units: BigInt(k) * 10n ** BigInt(12 - j) };
}

/** Exact value of a double in units of 10^-12 when it is a multiple of that unit as a decimal (its shortest form). */
function unitsOf(x: number): bigint {
  const [m, e = '0'] = String(x).split('e');
  const dot = m.indexOf('.');
  const digits = dot < 0 ? m : m.replace('.', '');
  const exp = Number(e) - (dot < 0 ? 0 : m.length - dot - 1) + 12;
  if (exp < 0) throw new Error(`not a multiple of 1e-12: ${x}`);
  return BigInt(digits) * 10n ** BigInt(exp);
}

/** Is the exact value of the double y at most the decimal p / q? */
function atMost(y: number, p: bigint, q: bigint): boolean {
  const r = rationalFromDouble(y);
  return r.num * q <= p * r.den;
}

/** The decimal value of a short decimal literal as p / q. */
function fractionOf(x: number): [bigint, bigint] {
  return [unitsOf(x), SCALE];
}

describe('decimal privacy amounts (issue: ten spends of 0.1 must fit a budget of 1)', () => {
  it('ten spends of epsilon 0.1 fit a budget of 1; the eleventh is refused saying what was asked, what remains and why', () => {
    const budget = new PrivacyBudget({ epsilon: 1 });
    for (let i = 0; i < 10; i++) budget.spend({ epsilon: 0.1 }, `q${i}`);
    expect(budget.spent.epsilon).toBe(1);
    expect(budget.remaining.epsilon).toBe(0);
    let error: unknown;
    try {
      budget.spend({ epsilon: 0.1 }, 'eleventh');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PrivacyBudgetExceededError);
    const message = (error as Error).message;
    expect(message).toContain('requested epsilon=0.1');
    expect(message).toContain('remaining epsilon=0');
    expect(message).toContain('spent 1 + requested 0.1 > cap 1');
    expect(message).toContain('nothing was recorded');
    expect(budget.ledger).toHaveLength(10);
  });

  it('queries at epsilon 0.1 also fit ten times, through the same budget', () => {
    const budget = new PrivacyBudget({ epsilon: 1 });
    const rng = seededTestRng('ten-tenths');
    for (let i = 0; i < 5; i++) dpCount([1, 2, 3], { epsilon: 0.1, budget, rng });
    for (let i = 0; i < 5; i++) dpMean([1, 2, 3], { epsilon: 0.1, lower: 0, upper: 4, budget, rng });
    expect(budget.ledger).toHaveLength(10);
    expect(() => dpCount([1], { epsilon: 0.1, budget, rng })).toThrow(PrivacyBudgetExceededError);
  });

  it('property: decimal spends are accepted exactly while their sum fits, refused otherwise, never under-recorded', () => {
    const amount = fc.record({ k: fc.integer({ min: 1, max: 999_999 }), j: fc.integer({ min: 1, max: 12 }) });
    fc.assert(
      fc.property(amount, fc.array(amount, { maxLength: 30 }), fc.boolean(), (cap, spends, withRho) => {
        const c = decimal(cap.k, cap.j);
        const budget = new PrivacyBudget(withRho ? { epsilon: c.x, rho: 1e12 } : { epsilon: c.x });
        let total = 0n;
        let count = 0;
        for (const s of spends) {
          const d = decimal(s.k, s.j);
          const fits = total + d.units <= c.units;
          const before = budget.spent;
          try {
            budget.spend({ epsilon: d.x });
            if (!fits) return false; // accepted although the exact decimal sum exceeds the cap
            total += d.units;
            count++;
          } catch (e) {
            if (!(e instanceof PrivacyBudgetExceededError)) throw e;
            if (fits) return false; // refused although it fits exactly
            expect(budget.spent).toEqual(before); // a refused spend changes nothing
          }
          // the reported total never under-states the exact sum, the reported remainder never over-states it,
          // and both are exact whenever the decimal has at most 15 significant digits
          const [sp, sq] = exactDecimal(budget.spent.epsilon);
          const [rp, rq] = exactDecimal(budget.remaining.epsilon);
          if (sp * SCALE < total * sq || rp * SCALE > (c.units - total) * rq) return false;
          if (total < 10n ** 15n && sp * SCALE !== total * sq) return false;
          if (c.units - total < 10n ** 15n && rp * SCALE !== (c.units - total) * rq) return false;
          if (!budget.canSpend({ epsilon: budget.remaining.epsilon })) return false;
        }
        return budget.ledger.length === count;
      }),
      { numRuns: 300 },
    );
  });

  it('decimalFloor / decimalCeil bracket the decimal value of a double', () => {
    expect(decimalFloor(0.1)).toBe(0.09999999999999999);
    expect(decimalFloor(0.3)).toBe(0.3);
    expect(decimalCeil(0.3)).toBe(0.30000000000000004);
    expect(decimalCeil(0.1)).toBe(0.1);
    fc.assert(
      fc.property(fc.double({ min: 1e-300, max: 1e300, noNaN: true }), (x) => {
        const [p, q] = exactDecimal(x);
        const lo = rationalFromDouble(decimalFloor(x));
        const hi = rationalFromDouble(decimalCeil(x));
        return lo.num * q <= p * lo.den && hi.num * q >= p * hi.den;
      }),
      { numRuns: 300 },
    );
  });
});

/** The decimal value of any double (String(x)) as p / q. */
function exactDecimal(x: number): [bigint, bigint] {
  const [m, e = '0'] = String(x).split('e');
  const dot = m.indexOf('.');
  const digits = BigInt(dot < 0 ? m : m.replace('.', ''));
  const exp = Number(e) - (dot < 0 ? 0 : m.length - dot - 1);
  return exp >= 0 ? [digits * 10n ** BigInt(exp), 1n] : [digits, 10n ** BigInt(-exp)];
}

describe('every mechanism calibrates to at most the decimal the budget charges', () => {
  const decimals = [0.1, 0.2, 0.3, 0.7, 1.1, 0.001, 0.123456789, 2.3, 9.9];

  it('exponential mechanism, permute-and-flip and randomized response use an epsilon <= the decimal (0.1 is above 1/10)', () => {
    for (const eps of decimals) {
      const [p, q] = exactDecimal(eps);
      for (const m of [exponentialMechanism({ epsilon: eps, sensitivity: 0.3 }), permuteAndFlip({ epsilon: eps, sensitivity: 0.3 })]) {
        expect(atMost(m.calibration.epsilon, p, q)).toBe(true);
        // the sensitivity is never below the decimal written (the double 0.3 is below 3/10)
        const s = rationalFromDouble(m.calibration.sensitivity);
        expect(s.num * 10n >= 3n * s.den).toBe(true);
      }
      expect(atMost(randomizedResponse({ epsilon: eps }).calibration.epsilon, p, q)).toBe(true);
    }
    // the case of the issue: the double 0.1 itself is above 1/10, so calibrating from it would under-charge
    expect(atMost(0.1, 1n, 10n)).toBe(false);
    expect(exponentialMechanism({ epsilon: 0.1, sensitivity: 1 }).calibration.epsilon).toBeLessThan(0.1);
  });

  it('queries calibrate from an epsilon <= the decimal', () => {
    for (const eps of decimals) {
      const [p, q] = exactDecimal(eps);
      expect(atMost(checkOptions({ epsilon: eps }, QUERY_KEYS, 'q').epsilon, p, q)).toBe(true);
    }
  });

  it('Laplace: the true epsilon of the grid noise, steps / t, is at most the decimal epsilon', () => {
    for (const eps of decimals) {
      const [p, q] = exactDecimal(eps);
      for (const sensitivity of [1, 0.3, 7.7, 1e-3]) {
        const lap = laplaceMechanism({ epsilon: eps, sensitivity });
        const g = lap.granularity;
        const t = BigInt(lap.noiseScale(1) / g);
        // L1 distance in grid steps after rounding: floor(D/g) + 1 with D >= the decimal sensitivity
        const sg = rationalFromDouble(lap.calibration.sensitivity / g);
        const steps = sg.num / sg.den + 1n;
        expect(steps * q <= p * t).toBe(true);
        const [sp, sq] = exactDecimal(sensitivity);
        const cs = rationalFromDouble(lap.calibration.sensitivity);
        expect(cs.num * sq >= sp * cs.den).toBe(true);
      }
    }
  });

  it('Gaussian: the noise used meets (decimal epsilon, decimal delta) and the reported rho is never below the true rho', () => {
    for (const eps of decimals) {
      for (const delta of [1e-5, 1e-7, 0.3e-5]) {
        const m = gaussianMechanism({ epsilon: eps, delta, sensitivity: 0.3 });
        expect(atMost(m.calibration.epsilon, ...exactDecimal(eps))).toBe(true);
        expect(atMost(m.calibration.delta, ...exactDecimal(delta))).toBe(true);
        const d = gaussianDelta({
          sigma: m.noiseSigma(1),
          epsilon: m.calibration.epsilon,
          sensitivity: m.calibration.sensitivity + m.granularity,
        });
        expect(d).toBeLessThanOrEqual(m.calibration.delta);
        // rho >= D^2 / (2 sigma^2) exactly, D the calibrated sensitivity (at least the decimal 0.3)
        const [rp, rq] = exactDecimal(m.guarantee.rho);
        const s = rationalFromDouble(m.sigma);
        const dd = rationalFromDouble(m.calibration.sensitivity);
        expect(rp * 2n * s.num * s.num * dd.den * dd.den >= rq * dd.num * dd.num * s.den * s.den).toBe(true);
      }
    }
  });
});

describe('fractionOf helper', () => {
  it('reads short decimals exactly', () => {
    expect(fractionOf(0.1)).toEqual([100_000_000_000n, SCALE]);
  });
});
