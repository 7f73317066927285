/**
 * Every public accountant entry point rejects bad input with a TypeError (wrong type) or RangeError (wrong
 * value) whose message names the parameter: NaN, ±Infinity, epsilon <= 0, delta outside (0, 1), sampleRate
 * outside (0, 1], steps not a positive integer, bad orders.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PldAccountant,
  RdpAccountant,
  advancedComposition,
  calibrateNoiseMultiplier,
  composedEvent,
  computeEpsilon,
  dpSgdEvent,
  gaussianEvent,
  poissonSampledEvent,
  privacyStatement,
  rdpToEpsilon,
  sampledGaussianRdp,
  selfComposedEvent,
  validateEvent,
  zcdpToDelta,
  zcdpToEpsilon,
} from '../src/accountant/index.ts';

const good = { noiseMultiplier: 1, sampleRate: 0.01, steps: 100, delta: 1e-5, accountant: 'rdp' } as const;
const goodCal = { targetEpsilon: 2, delta: 1e-5, sampleRate: 0.01, steps: 100, accountant: 'rdp' } as const;

function expectNamed(fn: () => unknown, name: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected an error naming ${name}`).toBeInstanceOf(Error);
  expect(err instanceof TypeError || err instanceof RangeError).toBe(true);
  expect((err as Error).message).toContain(name);
}

const nonFinite = fc.constantFrom(Number.NaN, Infinity, -Infinity);
const notANumber = fc.constantFrom<unknown>('1', null, undefined, {}, [], 1n, true);
const badDelta = fc.oneof(nonFinite, fc.double({ max: 0, noNaN: true }), fc.double({ min: 1, noNaN: true }), notANumber);
const badRate = fc.oneof(
  nonFinite,
  fc.double({ max: 0, noNaN: true }),
  fc.double({ min: 1, noNaN: true }).filter((x) => x > 1),
  notANumber,
);
const badSteps = fc.oneof(
  nonFinite,
  fc.integer({ max: 0 }),
  fc.double({ min: 0.01, max: 1e6, noNaN: true }).filter((x) => !Number.isInteger(x)),
  notANumber,
);
const badEps = fc.oneof(nonFinite, fc.double({ max: 0, noNaN: true }), notANumber);
const badSigma = fc.oneof(nonFinite, fc.double({ max: -Number.MIN_VALUE, noNaN: true }), notANumber);

describe('bad inputs are rejected with a named TypeError/RangeError', () => {
  const opts = { numRuns: 30, seed: 11 };

  it('computeEpsilon', () => {
    fc.assert(
      fc.property(badDelta, (d) => expectNamed(() => computeEpsilon({ ...good, delta: d as number }), 'delta')),
      opts,
    );
    fc.assert(
      fc.property(badRate, (q) => expectNamed(() => computeEpsilon({ ...good, sampleRate: q as number }), 'sampleRate')),
      opts,
    );
    fc.assert(
      fc.property(badSteps, (t) => expectNamed(() => computeEpsilon({ ...good, steps: t as number }), 'steps')),
      opts,
    );
    fc.assert(
      fc.property(badSigma, (s) => expectNamed(() => computeEpsilon({ ...good, noiseMultiplier: s as number }), 'noiseMultiplier')),
      opts,
    );
    expectNamed(() => computeEpsilon({ ...good, accountant: 'prv' as 'rdp' }), 'accountant');
    expectNamed(() => computeEpsilon({ ...good, orders: [2, 0.5] }), 'orders[1]');
    expectNamed(() => computeEpsilon({ ...good, orders: [] }), 'orders');
    expectNamed(() => computeEpsilon({ ...good, orders: [Number.NaN] }), 'orders[0]');
    expectNamed(() => computeEpsilon({ ...good, conversion: 'x' as 'balle2020' }), 'conversion');
  });

  it('calibrateNoiseMultiplier', () => {
    fc.assert(
      fc.property(badEps, (e) => expectNamed(() => calibrateNoiseMultiplier({ ...goodCal, targetEpsilon: e as number }), 'targetEpsilon')),
      opts,
    );
    fc.assert(
      fc.property(badDelta, (d) => expectNamed(() => calibrateNoiseMultiplier({ ...goodCal, delta: d as number }), 'delta')),
      opts,
    );
    fc.assert(
      fc.property(badRate, (q) => expectNamed(() => calibrateNoiseMultiplier({ ...goodCal, sampleRate: q as number }), 'sampleRate')),
      opts,
    );
    fc.assert(
      fc.property(badSteps, (t) => expectNamed(() => calibrateNoiseMultiplier({ ...goodCal, steps: t as number }), 'steps')),
      opts,
    );
    fc.assert(
      fc.property(
        badEps.filter((t) => t !== undefined),
        (t) => expectNamed(() => calibrateNoiseMultiplier({ ...goodCal, epsilonTolerance: t as number }), 'epsilonTolerance'),
      ),
      opts,
    );
    expectNamed(() => calibrateNoiseMultiplier({ ...goodCal, steps: undefined }), 'steps');
    expectNamed(() => calibrateNoiseMultiplier({ ...goodCal, steps: undefined, epochs: -1 }), 'epochs');
  });

  it('sampledGaussianRdp and rdpToEpsilon', () => {
    fc.assert(
      fc.property(badRate, (q) => expectNamed(() => sampledGaussianRdp({ sampleRate: q as number, noiseMultiplier: 1 }), 'sampleRate')),
      opts,
    );
    fc.assert(
      fc.property(badSigma, (s) =>
        expectNamed(() => sampledGaussianRdp({ sampleRate: 0.1, noiseMultiplier: s as number }), 'noiseMultiplier'),
      ),
      opts,
    );
    expectNamed(() => sampledGaussianRdp({ sampleRate: 0.1, noiseMultiplier: 1, orders: [1] }), 'orders[0]');
    expectNamed(() => sampledGaussianRdp({ sampleRate: 0.1, noiseMultiplier: 1, orders: 'x' as unknown as number[] }), 'orders');
    fc.assert(
      fc.property(badDelta, (d) => expectNamed(() => rdpToEpsilon({ orders: [2], rdp: [1], delta: d as number }), 'delta')),
      opts,
    );
    expectNamed(() => rdpToEpsilon({ orders: [2, 3], rdp: [1], delta: 1e-5 }), 'rdp');
    expectNamed(() => rdpToEpsilon({ orders: [2], rdp: [-1], delta: 1e-5 }), 'rdp[0]');
    expectNamed(() => rdpToEpsilon({ orders: [2], rdp: [Number.NaN], delta: 1e-5 }), 'rdp[0]');
  });

  it('accountants and events', () => {
    for (const Acc of [RdpAccountant, PldAccountant]) {
      // RdpAccountant has no onWarning option (unknown keys are now rejected); PldAccountant does.
      const acc = Acc === RdpAccountant ? new RdpAccountant() : new PldAccountant({ onWarning: () => {} });
      fc.assert(
        fc.property(badDelta, (d) => expectNamed(() => acc.getEpsilon(d as number), 'delta')),
        opts,
      );
      fc.assert(
        fc.property(
          badEps.filter((e) => e !== 0),
          (e) => expectNamed(() => acc.getDelta(e as number), 'epsilon'),
        ),
        opts,
      );
      fc.assert(
        fc.property(badSteps, (c) => expectNamed(() => acc.compose(gaussianEvent(1), c as number), 'count')),
        opts,
      );
      expectNamed(() => acc.compose({ kind: 'gaussian', noiseMultiplier: Number.NaN } as never), 'event.noiseMultiplier');
      expectNamed(() => acc.compose({ kind: 'poissonSampled', sampleRate: 2, event: gaussianEvent(1) } as never), 'event.sampleRate');
      expectNamed(() => acc.compose({ kind: 'nope' } as never), 'event.kind');
      expectNamed(() => acc.compose(null as never), 'event');
    }
    expectNamed(() => new RdpAccountant({ neighboringRelation: 'x' as 'replace-one' }), 'neighboringRelation');
    expectNamed(() => new PldAccountant({ valueDiscretizationInterval: 0 }), 'valueDiscretizationInterval');
    expectNamed(() => gaussianEvent(Number.NaN), 'noiseMultiplier');
    expectNamed(() => poissonSampledEvent(1.5, gaussianEvent(1)), 'sampleRate');
    expectNamed(() => selfComposedEvent(gaussianEvent(1), 0), 'count');
    expectNamed(() => composedEvent('x' as never), 'events');
    expectNamed(() => dpSgdEvent({ noiseMultiplier: 1, sampleRate: 0.1, steps: 1.5 }), 'steps');
    expectNamed(
      () => validateEvent({ kind: 'composed', events: [gaussianEvent(1), { kind: 'laplace' }] }),
      'event.events[1].noiseMultiplier',
    );
  });

  it('zCDP, advanced composition and the statement', () => {
    fc.assert(
      fc.property(badSigma, (r) => expectNamed(() => zcdpToDelta({ rho: r as number, epsilon: 1 }), 'rho')),
      { numRuns: 20, seed: 3 },
    );
    fc.assert(
      fc.property(badDelta, (d) => expectNamed(() => zcdpToEpsilon({ rho: 1, delta: d as number }), 'delta')),
      { numRuns: 20, seed: 3 },
    );
    expectNamed(() => zcdpToDelta({ rho: 1, epsilon: -1 }), 'epsilon');
    expectNamed(() => advancedComposition({ epsilon: 1, delta: 2, count: 3, totalDelta: 0.1 }), 'delta');
    expectNamed(() => advancedComposition({ epsilon: 1, delta: 0, count: 0, totalDelta: 0.1 }), 'count');
    expectNamed(() => privacyStatement({ noiseMultiplier: 1, delta: 1e-5, accountant: 'rdp', steps: 10 }), 'sampleRate');
    expectNamed(() => privacyStatement({ noiseMultiplier: 1, delta: 0, accountant: 'rdp', sampleRate: 0.1, steps: 10 }), 'delta');
    expectNamed(() => privacyStatement({ noiseMultiplier: 1, delta: 1e-5, accountant: 'rdp', sampleRate: 0.1 }), 'steps');
    expectNamed(
      () => privacyStatement({ noiseMultiplier: 1, delta: 1e-5, accountant: 'rdp', sampleRate: 0.1, steps: 10, maxExamplesPerUser: 0 }),
      'maxExamplesPerUser',
    );
  });
});
