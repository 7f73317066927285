/**
 * PrivacyBudget composing with an accountant: 100 Gaussian queries of (0.1, 1e-8) fit a (3, 1e-6) budget under
 * PLD (and RDP) where basic composition fits 30; a composing budget never accepts a sequence whose composition
 * exceeds the cap; every spend is recorded before any noise is drawn.
 */
import { type Rng, seededTestRng } from '@ppml/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DpEvent,
  epsilonDeltaEvent,
  gaussianEvent,
  laplaceEvent,
  randomizedResponseEvent,
  sampledWithoutReplacementEvent,
} from '../src/accountant/events.ts';
import { createAccountant } from '../src/accountant/registry.ts';
import { gaussianMechanism } from '../src/mechanisms/gaussian.ts';
import { dpCount, dpSum } from '../src/queries/aggregates.ts';
import { PrivacyBudget, PrivacyBudgetExceededError } from '../src/queries/budget.ts';

describe('PrivacyBudget with an accountant', () => {
  it('100 Gaussian queries of (0.1, 1e-8) fit a (3, 1e-6) budget under PLD and RDP; basic composition fits 30', () => {
    const g = gaussianMechanism({ epsilon: 0.1, delta: 1e-8, sensitivity: 1 });
    const cost = { epsilon: 0.1, delta: 1e-8, event: g.event };
    for (const accountant of ['pld', 'rdp'] as const) {
      const b = new PrivacyBudget({ epsilon: 3, delta: 1e-6, accountant });
      for (let i = 0; i < 100; i++) b.spend(cost, `gaussian ${i}`);
      expect(b.ledger).toHaveLength(100);
      expect(b.spent.epsilon).toBeLessThan(1.1);
      expect(b.spent.delta).toBe(1e-6);
      expect(b.remaining.epsilon).toBeCloseTo(3 - b.spent.epsilon, 12);
    }
    expect(new PrivacyBudget({ epsilon: 3, delta: 1e-6 }).accountant).toBe('pld');
    const basic = new PrivacyBudget({ epsilon: 3, delta: 1e-6, accountant: 'basic' });
    let fitted = 0;
    for (let i = 0; i < 100; i++) {
      try {
        basic.spend(cost);
        fitted++;
      } catch (e) {
        if (!(e instanceof PrivacyBudgetExceededError)) throw e;
      }
    }
    expect(fitted).toBe(30);
    expect(basic.spent).toEqual({ epsilon: 3, delta: 3e-7, rho: 0 });
  });

  it('refuses a spend whose composition crosses the cap, saying so, and records nothing', () => {
    const b = new PrivacyBudget({ epsilon: 1, delta: 1e-6 });
    // Gaussians compose roughly like an L2 norm of their epsilons: two of 0.9 give about 1.3.
    const big = gaussianMechanism({ epsilon: 0.9, delta: 1e-7, sensitivity: 1 });
    b.spend({ epsilon: 0.9, delta: 1e-7, event: big.event }, 'first');
    expect(() => b.spend({ epsilon: 0.9, delta: 1e-7, event: big.event }, 'second')).toThrow(
      /privacy budget exceeded by "second".*composing it with the 1 earlier spend\(s\) gives epsilon = [0-9.]+ at delta = 0.000001 under PLD accounting, above the cap 1/,
    );
    expect(b.ledger).toHaveLength(1);
    // An event either accountant refuses (sampling without replacement under add-or-remove-one) is a RangeError.
    expect(() => b.spend({ event: sampledWithoutReplacementEvent({ datasetSize: 10, sampleSize: 2 }, gaussianEvent(5)) })).toThrow(
      RangeError,
    );
    expect(() => b.spend({ epsilon: 0.1, event: { kind: 'gaussian' } as never })).toThrow(/cost.event.noiseMultiplier/);
    expect(() => b.spend({ epsilon: 0.1, bogus: 1 } as never)).toThrow(/bogus/);
    expect(b.ledger).toHaveLength(1);
    // An event alone is charged at its own epsilon (pure) or its epsilon at the delta cap.
    const e = b.spend({ event: laplaceEvent(100) }, 'laplace');
    expect(e.epsilon).toBeGreaterThanOrEqual(0.01);
    expect(e.epsilon).toBeLessThan(0.0101);
    // A basic budget needs amounts for a Gaussian event; rho or pure budgets cannot take a composing accountant.
    expect(() => new PrivacyBudget({ epsilon: 1, delta: 1e-6, accountant: 'basic' }).spend({ event: gaussianEvent(5) })).toThrow(
      /cost.epsilon \(and delta\) is required/,
    );
    expect(() => new PrivacyBudget({ epsilon: 1, accountant: 'pld' })).toThrow(/delta cap in \(0, 1\)/);
    expect(() => new PrivacyBudget({ epsilon: 1, delta: 1e-6, rho: 1, accountant: 'rdp' })).toThrow(/no rho cap/);
    expect(() => new PrivacyBudget({ epsilon: 1, delta: 1e-6, accountant: 'prv' as never })).toThrow(/accountant must be one of/);
    expect(new PrivacyBudget({ epsilon: 1, delta: 1e-6, rho: 1 }).accountant).toBe('basic');
    expect(new PrivacyBudget({ epsilon: 1 }).accountant).toBe('basic');
  });

  it('property: a composing budget never accepts a sequence whose composed epsilon exceeds the cap', () => {
    const spend = fc.oneof(
      fc
        .double({ min: 5, max: 80, noNaN: true })
        .map((s) => ({ event: gaussianEvent(s) }) as { epsilon?: number; delta?: number; event?: DpEvent }),
      fc.double({ min: 0.01, max: 0.4, noNaN: true }).map((e) => ({ epsilon: e })),
      fc
        .tuple(fc.double({ min: 0.01, max: 0.3, noNaN: true }), fc.double({ min: 1e-9, max: 1e-7, noNaN: true }))
        .map(([e, d]) => ({ epsilon: e, delta: d })),
      fc.double({ min: 0.05, max: 0.9, noNaN: true }).map((p) => ({ event: randomizedResponseEvent({ noiseParameter: p, buckets: 3 }) })),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('pld' as const, 'rdp' as const),
        fc.array(spend, { minLength: 1, maxLength: 12 }),
        (accountant, spends) => {
          const cap = { epsilon: 1.5, delta: 1e-6 };
          const b = new PrivacyBudget({ ...cap, accountant });
          for (const s of spends) {
            try {
              b.spend(s);
            } catch (e) {
              if (!(e instanceof PrivacyBudgetExceededError)) throw e;
            }
          }
          // Recompose the accepted events from scratch (a fresh accountant, all at once); the budget may also accept
          // on the basic sums, both being valid bounds. 1e-9 covers float differences of the composition order.
          const fresh = createAccountant(accountant, { onWarning: () => {} });
          let eps = 0;
          let delta = 0;
          for (const e of b.ledger) {
            fresh.compose(e.event);
            eps += e.epsilon;
            delta += e.delta;
          }
          const composed = b.ledger.length === 0 ? 0 : fresh.getEpsilon(cap.delta);
          const basicFits = eps <= cap.epsilon * (1 + 1e-12) && delta <= cap.delta * (1 + 1e-12);
          return composed <= cap.epsilon * (1 + 1e-9) || basicFits;
        },
      ),
      { numRuns: 25, seed: 13 },
    );
  });

  it('property: spends are recorded before any noise is drawn, and a refused query draws none', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.05, max: 0.6, noNaN: true }), { minLength: 1, maxLength: 10 }), (epsilons) => {
        const b = new PrivacyBudget({ epsilon: 1.5, delta: 1e-6 });
        const base = seededTestRng(7);
        let expected = 0;
        let drawsBeforeRecord = 0;
        let draws = 0;
        // An Rng that checks, at every draw, that the current query's spend is already in the ledger.
        const rng: Rng = {
          fillBytes(out) {
            draws++;
            if (b.ledger.length !== expected) drawsBeforeRecord++;
            base.fillBytes(out);
          },
          nextUint32() {
            draws++;
            if (b.ledger.length !== expected) drawsBeforeRecord++;
            return base.nextUint32();
          },
        };
        for (const epsilon of epsilons) {
          const before = draws;
          const can = b.canSpend({ epsilon });
          expected = b.ledger.length + 1;
          try {
            if (epsilon > 0.3) dpSum([1, 2, 3], { epsilon, lower: 0, upper: 5, budget: b, rng });
            else dpCount([1, 2, 3], { epsilon, budget: b, rng });
            if (!can) return false;
          } catch (e) {
            if (!(e instanceof PrivacyBudgetExceededError) || can) throw e;
            if (draws !== before) return false; // refused: no noise
          }
        }
        return drawsBeforeRecord === 0 && draws > 0;
      }),
      { numRuns: 30, seed: 5 },
    );
  });

  it('spends with a caller-supplied event go through the queries charge path', () => {
    const b = new PrivacyBudget({ epsilon: 1, delta: 1e-6 });
    dpCount([1, 2, 3], { epsilon: 0.25, budget: b, label: 'count' });
    expect(b.ledger[0].event).toEqual(epsilonDeltaEvent(0.25, 0));
    expect(b.ledger[0].label).toBe('count');
    expect(b.ledger[0].at).toBeGreaterThan(0);
  });
});
