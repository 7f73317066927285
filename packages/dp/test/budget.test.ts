/**
 * PrivacyBudget: the filter refuses every overspend (also under concurrent async use), records spends before
 * answers are computed, adds exactly (no float rounding), and handles zCDP caps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fraction } from 'mathjs';
import { decimalOf } from '../src/mechanisms/decimal.ts';
import { dpCount, dpSum, PrivacyBudget, PrivacyBudgetExceededError } from '../src/queries/index.ts';

describe('PrivacyBudget', () => {
  it('spends, records a ledger, and refuses an overspend without recording it', () => {
    // Basic composition: amounts add up as the decimals written (the default for pure budgets; asked for here).
    const b = new PrivacyBudget({ epsilon: 1, delta: 1e-6, accountant: 'basic' });
    const e1 = b.spend({ epsilon: 0.5 }, 'first');
    expect(e1).toMatchObject({ index: 1, label: 'first', epsilon: 0.5, delta: 0 });
    b.spend({ epsilon: 0.25, delta: 5e-7 }, 'second');
    expect(b.spent).toEqual({ epsilon: 0.75, delta: 5e-7, rho: expect.any(Number) });
    expect(b.remaining.epsilon).toBe(0.25);
    expect(() => b.spend({ epsilon: 0.5 }, 'too much')).toThrow(PrivacyBudgetExceededError);
    expect(() => b.spend({ epsilon: 0.1, delta: 6e-7 }, 'delta')).toThrow(/privacy budget exceeded by "delta"/);
    expect(b.ledger).toHaveLength(2);
    expect(b.spent.epsilon).toBe(0.75);
    b.spend({ epsilon: 0.25 });
    expect(b.remaining.epsilon).toBe(0);
    expect(b.canSpend({ epsilon: Number.MIN_VALUE })).toBe(false);
  });

  it('the error carries the request, the remainder and the label', () => {
    const b = new PrivacyBudget({ epsilon: 0.5 });
    try {
      b.spend({ epsilon: 1 }, 'big query');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PrivacyBudgetExceededError);
      const err = e as PrivacyBudgetExceededError;
      expect(err.name).toBe('PrivacyBudgetExceededError');
      expect(err.label).toBe('big query');
      expect(err.requested.epsilon).toBe(1);
      expect(err.remaining.epsilon).toBe(0.5);
    }
  });

  it('adds exactly: dyadic spends fill the cap, and so do decimal ones (amounts are the decimals written)', () => {
    const b = new PrivacyBudget({ epsilon: 1 });
    for (let i = 0; i < 8; i++) b.spend({ epsilon: 0.125 });
    expect(b.remaining.epsilon).toBe(0);
    // Ten spends of 0.1 are exactly 1 in decimals (the double 0.1 is above 1/10, but every mechanism calibrates
    // its noise from a value at most 1/10, see budget-decimal.test.ts), so they fit; anything more is refused.
    const d = new PrivacyBudget({ epsilon: 1 });
    for (let i = 0; i < 10; i++) d.spend({ epsilon: 0.1 });
    expect(d.spent.epsilon).toBe(1);
    expect(d.remaining.epsilon).toBe(0);
    expect(() => d.spend({ epsilon: Number.MIN_VALUE })).toThrow(PrivacyBudgetExceededError);
    const e = new PrivacyBudget({ epsilon: 1 });
    for (let i = 0; i < 7; i++) e.spend({ epsilon: 0.1 });
    expect(e.remaining.epsilon).toBe(0.3);
    expect(e.canSpend({ epsilon: e.remaining.epsilon })).toBe(true);
  });

  it('property: the recorded total never exceeds the cap, whatever the sequence (amounts read as their decimals)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1e-6, max: 0.6, noNaN: true }), { maxLength: 40 }), (spends) => {
        const b = new PrivacyBudget({ epsilon: 1 });
        let accepted = new Fraction(0);
        for (const s of spends) {
          try {
            b.spend({ epsilon: s });
            accepted = accepted.add(decimalOf(s)); // the decimal value of the double, exactly
          } catch (err) {
            if (!(err instanceof PrivacyBudgetExceededError)) throw err;
          }
        }
        return accepted.compare(1) <= 0;
      }),
      { numRuns: 100 },
    );
  });

  it('concurrent async queries cannot overspend: the spend is recorded before the answer is computed', async () => {
    const b = new PrivacyBudget({ epsilon: 1 });
    const order: string[] = [];
    const tasks = Array.from({ length: 20 }, (_, i) =>
      b.run({ epsilon: 0.125 }, `q${i}`, async () => {
        order.push(`compute q${i} with ${b.ledger.length} spends recorded`);
        await new Promise((r) => setTimeout(r, 5));
        return i;
      }),
    );
    const results = await Promise.allSettled(tasks);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(ok).toHaveLength(8);
    expect(refused).toHaveLength(12);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(PrivacyBudgetExceededError);
    expect(b.spent.epsilon).toBe(1);
    // every computation started after its own spend was in the ledger
    order.forEach((line, i) => {
      expect(line).toBe(`compute q${i} with ${i + 1} spends recorded`);
    });
  });

  it('queries spend before answering and refuse once the budget is gone', async () => {
    const b = new PrivacyBudget({ epsilon: 1 });
    const data = [1, 2, 3, 4];
    const answers = await Promise.allSettled(
      Array.from({ length: 5 }, async () => dpSum(data, { lower: 0, upper: 5, epsilon: 0.25, budget: b })),
    );
    expect(answers.filter((a) => a.status === 'fulfilled')).toHaveLength(4);
    expect(() => dpCount(data, { epsilon: 0.25, budget: b })).toThrow(PrivacyBudgetExceededError);
    expect(b.ledger.map((e) => e.label)).toEqual(['sum', 'sum', 'sum', 'sum']);
  });

  it('zCDP caps: rho charges, pure-DP spends count as eps^2/2, approximate-DP spends need rho', () => {
    const b = new PrivacyBudget({ rho: 0.5 });
    b.spend({ rho: 0.25 }, 'gaussian');
    b.spend({ epsilon: 0.5 }, 'laplace'); // 0.125
    expect(b.spent.rho).toBeCloseTo(0.375, 15);
    expect(() => b.spend({ epsilon: 0.1, delta: 1e-6 })).toThrow(/cost.rho is required/);
    expect(() => b.spend({ rho: 0.2 })).toThrow(PrivacyBudgetExceededError);
    const both = new PrivacyBudget({ epsilon: 2, delta: 1e-5, rho: 0.1 });
    expect(() => both.spend({ rho: 0.01 })).toThrow(/cost.epsilon is required/);
    both.spend({ epsilon: 1, delta: 1e-6, rho: 0.05 });
    expect(() => both.spend({ epsilon: 0.1, delta: 0, rho: 0.06 })).toThrow(PrivacyBudgetExceededError);
  });

  it('odometer: records without refusing', () => {
    const m = PrivacyBudget.odometer();
    for (let i = 0; i < 100; i++) m.spend({ epsilon: 1, delta: 1e-3, rho: 0.5 });
    expect(m.spent.epsilon).toBe(100);
    expect(m.remaining.epsilon).toBe(Number.POSITIVE_INFINITY);
  });

  it('rejects bad caps and costs with errors naming the parameter', () => {
    expect(() => new PrivacyBudget({})).toThrow(/epsilon.*rho/);
    expect(() => new PrivacyBudget({ epsilon: Number.NaN })).toThrow(/epsilon must be a number >= 0, got NaN/);
    expect(() => new PrivacyBudget({ epsilon: 0 })).toThrow(/epsilon must be a number > 0/);
    expect(() => new PrivacyBudget({ epsilon: -1 })).toThrow(RangeError);
    expect(() => new PrivacyBudget({ epsilon: 1, delta: 1 })).toThrow(/delta must be a number in \[0, 1\)/);
    expect(() => new PrivacyBudget({ epsilon: 1, delta: Number.NaN })).toThrow(/delta/);
    expect(() => new PrivacyBudget({ delta: 1e-5 } as never)).toThrow(RangeError);
    expect(() => new PrivacyBudget(null as never)).toThrow(TypeError);
    expect(() => new PrivacyBudget({ epsilon: '1' } as never)).toThrow(TypeError);
    const b = new PrivacyBudget({ epsilon: 1 });
    expect(() => b.spend({ epsilon: Number.NaN })).toThrow(/cost.epsilon must be a finite number >= 0, got NaN/);
    expect(() => b.spend({ epsilon: Number.POSITIVE_INFINITY })).toThrow(/cost.epsilon/);
    expect(() => b.spend({ epsilon: -0.1 })).toThrow(RangeError);
    expect(() => b.spend({ epsilon: 0.1, delta: 1 })).toThrow(/cost.delta/);
    expect(() => b.spend({})).toThrow(/cost must give epsilon/);
    expect(() => b.spend({ epsilon: 0.1 }, 3 as never)).toThrow(TypeError);
    expect(b.ledger).toHaveLength(0);
  });
});

describe('PrivacyBudgetExceededError message', () => {
  it('names only the capped quantities of an epsilon-only budget', () => {
    const budget = new PrivacyBudget({ epsilon: 1 });
    budget.spend({ epsilon: 0.75 }, 'first');
    expect(() => budget.spend({ epsilon: 0.5 }, 'second')).toThrow(
      'privacy budget exceeded by "second": requested epsilon=0.5, delta=0; remaining epsilon=0.25, delta=0; ' +
        'refused because it would exceed the cap (epsilon: spent 0.75 + requested 0.5 > cap 1); nothing was recorded',
    );
  });
});
