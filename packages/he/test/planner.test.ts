// Parameter planner: security budget (SEAL hestdparms.h, 128-bit), modulus-chain shape, helpful rejections.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from './vectors/planner.json' with { type: 'json' };
import { MAX_COEFF_BITS_128, describePlan, planParameters } from '../src/index.ts';

describe('planParameters', () => {
  it('matches the 128-bit budget table of SEAL hestdparms.h', () => {
    for (const [n, bits] of Object.entries(vectors.maxBits128)) expect(MAX_COEFF_BITS_128[Number(n)]).toBe(bits);
  });

  it('reproduces the reference parameter sets', () => {
    for (const v of vectors.plans) {
      const plan = planParameters(v.options as Parameters<typeof planParameters>[0]);
      expect(plan.polyModulusDegree).toBe(v.polyModulusDegree);
      expect(plan.coeffModulusBits).toEqual(v.coeffModulusBits);
    }
  });

  it('always: within budget, special prime >= every data prime, first prime = scale + integer bits + 1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 20, max: 50 }),
        fc.integer({ min: 1, max: 9 }),
        (depth, scaleBits, integerBits) => {
          let plan: ReturnType<typeof planParameters>;
          try {
            plan = planParameters({ depth, scaleBits, integerBits });
          } catch (e) {
            expect(e).toBeInstanceOf(RangeError);
            return;
          }
          const bits = plan.coeffModulusBits;
          expect(bits.length).toBe(depth + 2);
          expect(plan.totalBits).toBeLessThanOrEqual(MAX_COEFF_BITS_128[plan.polyModulusDegree]);
          expect(bits[bits.length - 1]).toBeGreaterThanOrEqual(Math.max(...bits.slice(0, -1)));
          expect(bits[0]).toBe(scaleBits + integerBits + 1);
          // The smallest N that fits was chosen.
          const smaller = plan.polyModulusDegree / 2;
          if (smaller >= 4096) expect(plan.totalBits).toBeGreaterThan(MAX_COEFF_BITS_128[smaller]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('without a scale or N: the smallest ring that holds the chain at a scale in [30, 40] bits, largest such scale', () => {
    expect(planParameters()).toMatchObject({ depth: 1, polyModulusDegree: 4096, scaleBits: 30, coeffModulusBits: [39, 30, 39] });
    expect(planParameters({ depth: 1, integerBits: 12 })).toMatchObject({ polyModulusDegree: 8192, scaleBits: 40 });
    expect(planParameters({ depth: 1, polyModulusDegree: 8192 }).scaleBits).toBe(40);
    expect(planParameters({ depth: 1, precisionBits: 26 }).polyModulusDegree).toBe(8192);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 20 }), (depth, integerBits) => {
        let plan: ReturnType<typeof planParameters>;
        try {
          plan = planParameters({ depth, integerBits });
        } catch (e) {
          expect(e).toBeInstanceOf(RangeError);
          return;
        }
        expect(plan.totalBits).toBeLessThanOrEqual(MAX_COEFF_BITS_128[plan.polyModulusDegree]);
        expect(plan.scaleBits).toBeLessThanOrEqual(40);
        const smaller = plan.polyModulusDegree / 2;
        if (smaller >= 4096) {
          // No smaller ring holds the chain at any scale the planner may choose by itself.
          expect(() => planParameters({ depth, integerBits, scaleBits: 30, polyModulusDegree: smaller as never })).toThrow(RangeError);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('rejects plans above the budget with the degree that would fit', () => {
    expect(() => planParameters({ depth: 4, polyModulusDegree: 8192 })).toThrow(
      /258 coefficient-modulus bits.*use polyModulusDegree 16384/,
    );
    expect(() => planParameters({ depth: 30 })).toThrow(/reduce the depth/);
    expect(() => planParameters({ depth: 0 })).toThrow(RangeError);
    expect(() => planParameters({ scaleBits: 61 })).toThrow(/scaleBits/);
    expect(() => planParameters({ polyModulusDegree: 1000 as never })).toThrow(/polyModulusDegree must be one of/);
    expect(() => planParameters({ inputBound: Number.NaN })).toThrow(/inputBound/);
    expect(() => planParameters(null as never)).toThrow(TypeError);
  });

  it('precisionBits sets the scale, and the description names everything', () => {
    const plan = planParameters({ depth: 2, precisionBits: 20, rotations: [4, 1, 2, 1] });
    expect(plan.scaleBits).toBe(34);
    expect(plan.rotations).toEqual([1, 2, 4]);
    expect(describePlan(plan)).toMatch(/N=8192.*scale 2\^34.*depth 2.*rotations \[1, 2, 4\].*128-bit/);
  });
});
