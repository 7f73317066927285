/**
 * Noise calibration (Opacus get_noise_multiplier) and computeEpsilon: Opacus reference values, the
 * never-overshoot property over Opacus's hypothesis grid, and the PLD accountant.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NOISE_MULTIPLIER, calibrateNoiseMultiplier, computeEpsilon } from '../src/accountant/index.ts';
import { expectClose } from '../../../test/support/stats.ts';
import v from './vectors/accountant-misc.json' with { type: 'json' };

describe('calibrateNoiseMultiplier', () => {
  it('reproduces Opacus get_noise_multiplier (steps and epochs variants)', () => {
    for (const c of v.calibration.cases) {
      const sigma = calibrateNoiseMultiplier({
        targetEpsilon: c.targetEpsilon,
        delta: c.delta,
        sampleRate: c.sampleRate,
        ...('steps' in c ? { steps: c.steps } : { epochs: c.epochs }),
        accountant: 'rdp',
      });
      expectClose(sigma, c.noiseMultiplier, c.absTolerance, c.test);
    }
  });

  it('never overshoots the target over the Opacus hypothesis grid (property)', () => {
    const g = v.calibration.overshootGrid;
    fc.assert(
      fc.property(
        fc.double({ min: g.epsilon[0], max: g.epsilon[1], noNaN: true }),
        fc.integer({ min: g.epochs[0], max: g.epochs[1] }),
        fc.constantFrom(...g.sampleRate),
        fc.constantFrom(...g.delta),
        (targetEpsilon, epochs, sampleRate, delta) => {
          const sigma = calibrateNoiseMultiplier({ targetEpsilon, delta, sampleRate, epochs, accountant: 'rdp' });
          const steps = Math.trunc(epochs / sampleRate);
          const eps = computeEpsilon({ noiseMultiplier: sigma, sampleRate, steps, delta, accountant: 'rdp' });
          expect(eps).toBeLessThanOrEqual(targetEpsilon);
          expect(targetEpsilon - eps).toBeLessThanOrEqual(0.01);
        },
      ),
      { numRuns: 12, seed: 2024 },
    );
  });

  it('returns a dyadic fraction of 20 and respects epsilonTolerance', () => {
    const sigma = calibrateNoiseMultiplier({
      targetEpsilon: 2,
      delta: 1e-5,
      sampleRate: 0.01,
      steps: 1000,
      accountant: 'rdp',
      epsilonTolerance: 0.001,
    });
    const scaled = (sigma / 20) * 2 ** 30;
    expect(Number.isInteger(scaled)).toBe(true);
    const eps = computeEpsilon({ noiseMultiplier: sigma, sampleRate: 0.01, steps: 1000, delta: 1e-5, accountant: 'rdp' });
    expect(eps).toBeLessThanOrEqual(2);
    expect(2 - eps).toBeLessThanOrEqual(0.001);
  });

  it('throws a RangeError when the target is unreachable below the largest noise multiplier', () => {
    expect(MAX_NOISE_MULTIPLIER).toBe(1e6);
    expect(() =>
      calibrateNoiseMultiplier({ targetEpsilon: 1e-9, delta: 1e-10, sampleRate: 1, steps: 1_000_000, accountant: 'rdp' }),
    ).toThrow(/targetEpsilon/);
  });
});

describe('computeEpsilon', () => {
  it('decreases with the noise multiplier and increases with steps and sampling rate', () => {
    const base = { noiseMultiplier: 1, sampleRate: 0.01, steps: 1000, delta: 1e-5, accountant: 'rdp' } as const;
    const e = computeEpsilon(base);
    expect(computeEpsilon({ ...base, noiseMultiplier: 1.2 })).toBeLessThan(e);
    expect(computeEpsilon({ ...base, steps: 2000 })).toBeGreaterThan(e);
    expect(computeEpsilon({ ...base, sampleRate: 0.02 })).toBeGreaterThan(e);
    expect(computeEpsilon({ ...base, conversion: 'mironov2017' })).toBeGreaterThan(e);
    expect(computeEpsilon({ ...base, noiseMultiplier: 0 })).toBe(Infinity);
  });

  it('warns when the optimal RDP order is at the end of the order list', () => {
    const warnings: string[] = [];
    computeEpsilon({
      noiseMultiplier: 50,
      sampleRate: 0.01,
      steps: 1000,
      delta: 1e-6,
      accountant: 'rdp',
      onWarning: (m) => warnings.push(m),
    });
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/order 63 is the largest one tried.*pass `orders` that extend beyond 63/);
    const quiet: string[] = [];
    computeEpsilon({ noiseMultiplier: 1, sampleRate: 0.01, steps: 1000, delta: 1e-5, accountant: 'rdp', onWarning: (m) => quiet.push(m) });
    expect(quiet).toEqual([]);
  });

  it('custom orders change the answer only through the orders', () => {
    const base = { noiseMultiplier: 1, sampleRate: 0.01, steps: 1000, delta: 1e-5, accountant: 'rdp' } as const;
    const coarse = computeEpsilon({ ...base, orders: [2, 4, 8, 16, 32] });
    expect(coarse).toBeGreaterThanOrEqual(computeEpsilon(base) - 1e-12);
  });
});
