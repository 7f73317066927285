/**
 * User-level queries and contribution bounding. The sensitivity law is checked by property tests: for random
 * datasets and a random extra user, the bounded (noise-free) aggregates of D and D + user never differ by more
 * than the stated sensitivity. The row choices are made by a chooser seeded per user (and partition), which is
 * the coupling under which the sensitivity argument holds (other users' choices do not depend on the added user).
 * Statistical checks use 4.41717 standard errors (false failure 1e-5 per check).
 */
import { seededTestRng } from '@ppml/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WordSource } from '../src/mechanisms/words.ts';
import { boundContributions, type Chooser, type Key, sourceChooser } from '../src/queries/contribution-bounds.ts';
import { PrivacyBudget, dpUserCount, dpUserMean, dpUserSum } from '../src/queries/index.ts';
import { boundedValues } from '../src/queries/user-level.ts';
import { meanVariance, Z_1E5 } from '../../../test/support/stats.ts';

/** A chooser whose choices for a user (and partition) depend only on that user's id and partition. */
const perUserChooser: Chooser = (user, partition, available, keep, out) => {
  sourceChooser(new WordSource(seededTestRng(`${String(user)}/${String(partition)}`)))(user, partition, available, keep, out);
};

interface Row {
  user: number;
  key: number;
  value: number;
}

const rowArb = fc.record({
  user: fc.integer({ min: 0, max: 7 }),
  key: fc.integer({ min: 0, max: 5 }),
  value: fc.double({ min: -50, max: 50, noNaN: true }),
});
const extraArb = fc.array(fc.record({ key: fc.integer({ min: 0, max: 8 }), value: fc.double({ min: -50, max: 50, noNaN: true }) }), {
  minLength: 1,
  maxLength: 12,
});

function clampSum(xs: ArrayLike<number>, lo: number, hi: number): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.min(hi, Math.max(lo, xs[i]));
  return s;
}

describe('user-level sensitivity (property: adding or removing one whole user)', () => {
  it('count and clamped sum move by at most k and k max(|lower|, |upper|)', () => {
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 40 }), extraArb, fc.integer({ min: 1, max: 4 }), (rows: Row[], extra, k) => {
        const lower = -10;
        const upper = 20;
        const d = { ids: rows.map((r) => r.user), values: rows.map((r) => r.value) };
        const withUser = {
          ids: [...d.ids, ...extra.map(() => 99)],
          values: [...d.values, ...extra.map((e) => e.value)],
        };
        const a = boundedValues(d.values, d.ids, k, perUserChooser);
        const b = boundedValues(withUser.values, withUser.ids, k, perUserChooser);
        expect(Math.abs(b.length - a.length)).toBeLessThanOrEqual(k);
        const diff = Math.abs(clampSum(b, lower, upper) - clampSum(a, lower, upper));
        expect(diff).toBeLessThanOrEqual(k * Math.max(Math.abs(lower), Math.abs(upper)) * (1 + 1e-12));
        // no user is dropped: every user keeps min(k, their rows) rows
        const kept = new Map<number, number>();
        for (const i of boundContributions(d.ids, null, k, 1, perUserChooser)) kept.set(d.ids[i], (kept.get(d.ids[i]) ?? 0) + 1);
        for (const u of new Set(d.ids)) expect(kept.get(u)).toBe(Math.min(k, d.ids.filter((x) => x === u).length));
      }),
      { numRuns: 200 },
    );
  });

  it('grouped: per-key counts move in at most m keys, by at most k each (L0 <= m, Linf <= k, L1 <= m k)', () => {
    fc.assert(
      fc.property(
        fc.array(rowArb, { maxLength: 40 }),
        extraArb,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        (rows: Row[], extra, k, m) => {
          const ids: Key[] = rows.map((r) => r.user);
          const keys: Key[] = rows.map((r) => r.key);
          const idsB = [...ids, ...extra.map(() => 99)];
          const keysB = [...keys, ...extra.map((e) => e.key)];
          const count = (rs: Uint32Array, ks: Key[]): Map<Key, number> => {
            const c = new Map<Key, number>();
            for (const r of rs) c.set(ks[r], (c.get(ks[r]) ?? 0) + 1);
            return c;
          };
          const ca = count(boundContributions(ids, keys, k, m, perUserChooser), keys);
          const cb = count(boundContributions(idsB, keysB, k, m, perUserChooser), keysB);
          let l0 = 0;
          let l1 = 0;
          for (const key of new Set([...ca.keys(), ...cb.keys()])) {
            const diff = Math.abs((cb.get(key) ?? 0) - (ca.get(key) ?? 0));
            expect(diff).toBeLessThanOrEqual(k);
            if (diff > 0) l0++;
            l1 += diff;
          }
          expect(l0).toBeLessThanOrEqual(m);
          expect(l1).toBeLessThanOrEqual(m * k);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('user-level queries', () => {
  // 100 users with 1..6 rows each (value 10 + user mod 7)
  const ids: number[] = [];
  const values: number[] = [];
  for (let u = 0; u < 100; u++) {
    for (let r = 0; r <= u % 6; r++) {
      ids.push(u);
      values.push(10 + (u % 7));
    }
  }

  it('dpUserCount: centred on the bounded count with the noise of sensitivity k (4,000 draws)', () => {
    const k = 3;
    let bounded = 0;
    for (let u = 0; u < 100; u++) bounded += Math.min(k, (u % 6) + 1);
    const rng = seededTestRng('user-count');
    const n = 4000;
    const xs = new Float64Array(n);
    let statement = '';
    for (let i = 0; i < n; i++) {
      const r = dpUserCount(ids, { epsilon: 1, maxRowsPerUser: k, rng });
      xs[i] = r.value;
      statement = r.statement;
      expect(r.sensitivity).toBe(k);
    }
    const mv = meanVariance(xs);
    const q = Math.exp(-1 / 3); // discrete Laplace of scale k/epsilon = 3
    const variance = (2 * q) / (1 - q) ** 2;
    expect(Math.abs(mv.mean - bounded)).toBeLessThanOrEqual(Z_1E5 * Math.sqrt(variance / n));
    expect(Math.abs(mv.variance - variance)).toBeLessThanOrEqual((Z_1E5 * Math.sqrt(5) * variance) / Math.sqrt(n));
    expect(statement).toMatch(/user-level DP/);
    expect(statement).toMatch(/at most 3 row\(s\) per user/);
    expect(statement).toMatch(/no user is dropped/);
  });

  it('dpUserSum and dpUserMean: near the bounded values, statements name the bounds, the budget is charged first', () => {
    const budget = new PrivacyBudget({ epsilon: 5 });
    const sum = dpUserSum(values, { userIds: ids, maxRowsPerUser: 2, lower: 0, upper: 20, epsilon: 2, budget, rng: seededTestRng('us') });
    let bounded = 0;
    for (let u = 0; u < 100; u++) bounded += Math.min(2, (u % 6) + 1) * (10 + (u % 7));
    expect(sum.sensitivity).toBe(40);
    expect(Math.abs(sum.value - bounded)).toBeLessThan(40 * 15); // 15 noise scales of 20
    expect(sum.statement).toMatch(/values clamped to \[0, 20\]/);
    const mean = dpUserMean(values, { userIds: ids, maxRowsPerUser: 2, lower: 0, upper: 20, epsilon: 2, budget, rng: seededTestRng('um') });
    expect(Math.abs(mean.value - 13)).toBeLessThan(2);
    expect(budget.ledger.map((e) => e.label)).toEqual(['user-level sum', 'user-level mean']);
  });

  it('rejects bad input with typed errors and spends nothing', () => {
    const budget = new PrivacyBudget({ epsilon: 5 });
    expect(() => dpUserCount(ids, { epsilon: 1, maxRowsPerUser: 0, budget })).toThrow(/maxRowsPerUser/);
    expect(() => dpUserCount([], { epsilon: 1, maxRowsPerUser: 1, budget })).toThrow(RangeError);
    expect(() => dpUserCount([1.5], { epsilon: 1, maxRowsPerUser: 1, budget })).toThrow(TypeError);
    expect(() => dpUserSum([1, 2], { userIds: [1], maxRowsPerUser: 1, lower: 0, upper: 1, epsilon: 1, budget })).toThrow(/userIds/);
    expect(() => dpUserSum([1], { maxRowsPerUser: 1, lower: 0, upper: 1, epsilon: 1, budget } as never)).toThrow(TypeError);
    expect(() => dpUserMean([1], { userIds: [1], maxRowsPerUser: 1, lower: 2, upper: 1, epsilon: 1, budget })).toThrow(/lower/);
    expect(() => dpUserCount(ids, { epsilon: 1, maxRowsPerUser: 1, maxPartitionsPerUser: 2 } as never)).toThrow(TypeError);
    expect(budget.ledger.length).toBe(0);
  });
});
