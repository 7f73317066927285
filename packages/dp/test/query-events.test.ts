/**
 * Every query exposes its privacy event through `describeQuery` (what it releases, its guarantee, its event), the
 * event is the one the query charges to a budget (checked on the ledger of real spends, in memory and in SQLite),
 * describing spends nothing and draws no noise, and the charged events are the tightest the queries support:
 * split pure pairs for mean and variance, the exponential mechanism's event for a quantile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Rng, seededTestRng } from '@ppml/core';
import { afterAll, describe, expect, it } from 'vitest';
import { composedEvent, epsilonDeltaEvent, exponentialMechanismEvent } from '../src/accountant/events.ts';
import { dpCount, dpMean, dpSum, dpVariance } from '../src/queries/aggregates.ts';
import { PrivacyBudget, PrivacyBudgetExceededError } from '../src/queries/budget.ts';
import { describeQuery } from '../src/queries/describe.ts';
import { dpGroupByCount, dpHistogram } from '../src/queries/histogram.ts';
import { dpSelectPartitions } from '../src/queries/partition-selection.ts';
import { dpQuantile } from '../src/queries/quantile.ts';
import { dpUserMean } from '../src/queries/user-level.ts';

const dir = mkdtempSync(join(tmpdir(), 'ppml-query-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A seeded generator that counts the words drawn from it. */
function countingRng(seed: number): Rng & { readonly used: number } {
  const inner = seededTestRng(seed);
  let used = 0;
  return {
    fillBytes(out: Uint8Array): void {
      used += out.length;
      inner.fillBytes(out);
    },
    nextUint32(): number {
      used += 4;
      return inner.nextUint32();
    },
    get used(): number {
      return used;
    },
  };
}

const ages = Float64Array.from({ length: 200 }, (_, i) => (i * 37) % 90);
const pure = (e: number) => epsilonDeltaEvent(e, 0);

describe('describeQuery', () => {
  it('gives what each query releases, its guarantee and its tightest event', () => {
    const count = describeQuery(dpCount, ages, { epsilon: 0.5 });
    expect(count.event).toEqual(pure(0.5));
    expect(count.guarantee).toEqual({ epsilon: 0.5, delta: 0, neighbouring: 'add or remove one row' });
    expect(count.releases).toMatch(/discrete Laplace/);
    expect(count.label).toBe('count');
    expect(describeQuery(dpSum, ages, { epsilon: 0.5, lower: 0, upper: 100 }).event).toEqual(pure(0.5));
    expect(describeQuery(dpHistogram, ages, { epsilon: 0.5, lower: 0, upper: 90, bins: 9 }).event).toEqual(pure(0.5));
    expect(describeQuery(dpMean, ages, { epsilon: 1, lower: 0, upper: 100, label: 'mean age' })).toMatchObject({
      event: composedEvent([pure(0.5), pure(0.5)]),
      cost: { epsilon: 1 },
      label: 'mean age',
    });
    const v = describeQuery(dpVariance, ages, { epsilon: 0.3, lower: 0, upper: 100 }).event;
    expect(v.kind === 'composed' && v.events.length).toBe(3);
    // each third is at most 0.1 and the parts never add up to more than 0.3
    const thirds = v.kind === 'composed' ? v.events.map((e) => (e.kind === 'epsilonDelta' ? e.epsilon : NaN)) : [];
    expect(thirds.every((t) => t <= 0.1 && t > 0.1 * (1 - 1e-15))).toBe(true);
    expect(describeQuery(dpQuantile, ages, { q: 0.5, lower: 0, upper: 100, epsilon: 0.25 }).event).toEqual(exponentialMechanismEvent(0.25));
    const user = describeQuery(dpUserMean, ages, {
      userIds: Array.from(ages, (_, i) => i % 50),
      maxRowsPerUser: 4,
      lower: 0,
      upper: 100,
      epsilon: 1,
    });
    expect(user.guarantee.neighbouring).toBe('add or remove one user');
    expect(user.event).toEqual(composedEvent([pure(0.5), pure(0.5)]));
    const codes = Array.from(ages, (a) => `c${a % 7}`);
    const group = describeQuery(dpGroupByCount, codes, { epsilon: 1, delta: 1e-6 });
    expect(group.event).toEqual(epsilonDeltaEvent(1, 1e-6));
    expect(group.guarantee).toEqual({ epsilon: 1, delta: 1e-6, neighbouring: 'add or remove one row' });
    expect(describeQuery(dpSelectPartitions, codes, { epsilon: 1, delta: 1e-6, userIds: codes }).guarantee.neighbouring).toBe(
      'add or remove one user',
    );
  });

  it('spends nothing, draws no noise, and throws what the query would throw', () => {
    const budget = new PrivacyBudget({ epsilon: 1, delta: 1e-6, accountant: 'basic' });
    const rng = countingRng(7);
    describeQuery(dpCount, ages, { epsilon: 0.5, budget, rng });
    describeQuery(dpQuantile, ages, { q: 0.9, lower: 0, upper: 100, epsilon: 0.5, budget, rng });
    expect(budget.ledger).toHaveLength(0);
    expect(rng.used).toBe(0);
    // the same call after describing gives what it gives alone (nothing was drawn from the generator)
    const a = dpCount(ages, { epsilon: 0.5, rng: seededTestRng(3) });
    describeQuery(dpCount, ages, { epsilon: 0.5, rng: seededTestRng(3) });
    expect(dpCount(ages, { epsilon: 0.5, rng: seededTestRng(3) })).toBe(a);
    expect(() => describeQuery(dpCount, ages, { epsilon: -1 })).toThrow(RangeError);
    expect(() => describeQuery(dpSum, [1, Number.NaN], { epsilon: 1, lower: 0, upper: 1 })).toThrow(/values\[1\]/);
    expect(() => describeQuery(dpCount, ages, { epsilon: 1, bogus: 1 } as never)).toThrow(/bogus/);
    expect(() => describeQuery(((x: number[]) => x.length) as never, ages)).toThrow(/must be one of the @ppml\/dp queries/);
    expect(() => describeQuery(42 as never)).toThrow(TypeError);
  });

  it('is what the queries charge, in memory and in a SQLite ledger', async () => {
    const calls: [string, () => unknown, () => unknown][] = [];
    const add = <A extends unknown[]>(name: string, q: (...a: A) => unknown, ...args: A): void => {
      calls.push([name, () => describeQuery(q, ...args).event, () => q(...args)]);
    };
    const sqlite = await PrivacyBudget.open({ path: join(dir, 'events.db'), name: 'q', epsilon: 20, delta: 1e-6 });
    for (const budget of [new PrivacyBudget({ epsilon: 20, delta: 1e-6, accountant: 'rdp' }), sqlite]) {
      calls.length = 0;
      add('count', dpCount, ages, { epsilon: 0.5, budget });
      add('variance', dpVariance, ages, { epsilon: 0.3, lower: 0, upper: 100, budget });
      add('quantile', dpQuantile, ages, { q: 0.5, lower: 0, upper: 100, epsilon: 0.25, budget });
      add(
        'group-by',
        dpGroupByCount,
        ages.map((a) => a % 5),
        { epsilon: 1, delta: 1e-7, budget },
      );
      for (const [name, describe, run] of calls) {
        const expected = describe();
        run();
        expect(budget.ledger.at(-1)?.event, name).toEqual(expected);
      }
    }
    sqlite.close();
    const reopened = await PrivacyBudget.open({ path: join(dir, 'events.db'), name: 'q', epsilon: 20, delta: 1e-6 });
    expect(reopened.ledger.map((e) => e.event.kind)).toEqual(['epsilonDelta', 'composed', 'exponential', 'epsilonDelta']);
    reopened.close();
  });

  it('the tighter events let a composing budget answer more than basic composition', () => {
    const fits = (accountant: 'basic' | 'pld' | 'rdp', run: (b: PrivacyBudget) => void): number => {
      const b = new PrivacyBudget({ epsilon: 1, delta: 1e-6, accountant });
      for (let i = 0; i < 200; i++) {
        try {
          run(b);
        } catch (err) {
          if (err instanceof PrivacyBudgetExceededError) return i;
          throw err;
        }
      }
      return 200;
    };
    const mean = (budget: PrivacyBudget) => dpMean(ages, { epsilon: 0.1, lower: 0, upper: 100, budget, rng: seededTestRng(1) });
    const quantile = (budget: PrivacyBudget) =>
      dpQuantile(ages, { q: 0.5, lower: 0, upper: 100, candidates: 11, epsilon: 0.1, budget, rng: seededTestRng(1) });
    expect(fits('basic', mean)).toBe(10);
    expect(fits('pld', mean)).toBeGreaterThan(fits('pld', (b) => b.spend({ epsilon: 0.1 })));
    expect(fits('rdp', quantile)).toBeGreaterThan(fits('rdp', (b) => b.spend({ epsilon: 0.1 })));
  });
});
