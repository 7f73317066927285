import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFixedPoint, encodeFixedPoint, fixedPointBound } from '../src/index.ts';

describe('fixed-point encoding', () => {
  it('round-trips within 2^-(f+1) for any f and any value in range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 50 }),
        (f, raw) => {
          const bound = fixedPointBound(f);
          const xs = Float64Array.from(raw, (x) => Math.max(-bound, Math.min(bound, x)));
          const back = decodeFixedPoint(encodeFixedPoint(xs, { fractionalBits: f }), { fractionalBits: f });
          for (let i = 0; i < xs.length; i++) expect(Math.abs(back[i] - xs[i])).toBeLessThanOrEqual(2 ** -(f + 1));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("agrees with a BigInt reference encoding (two's complement mod 2^64)", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { maxLength: 40 }), (raw) => {
        const ring = encodeFixedPoint(raw, { fractionalBits: 16 });
        raw.forEach((x, i) => {
          expect(ring[i]).toBe(BigInt.asUintN(64, BigInt(Math.round(x * 65536))));
        });
      }),
    );
  });

  it('is additive: decode(enc(a) + enc(b)) = a + b within 2^-f (ring addition is exact)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), (a, b) => {
        const ea = encodeFixedPoint([a]);
        const eb = encodeFixedPoint([b]);
        const sum = BigUint64Array.of(BigInt.asUintN(64, ea[0] + eb[0]));
        expect(Math.abs(decodeFixedPoint(sum)[0] - (a + b))).toBeLessThanOrEqual(2 ** -16);
      }),
    );
  });

  it('encodes known values exactly', () => {
    const ring = encodeFixedPoint(Float64Array.of(1.5, -2, 0, -0, 2 ** -17));
    expect(Array.from(ring)).toEqual([98304n, 2n ** 64n - 131072n, 0n, 0n, 1n]);
    expect(Array.from(decodeFixedPoint(BigUint64Array.of(2n ** 63n)))).toEqual([-(2 ** 47)]);
  });

  it('throws instead of wrapping for NaN, infinities and out-of-range values', () => {
    expect(() => encodeFixedPoint([Number.NaN])).toThrow(/values\[0\] must be a finite number/);
    expect(() => encodeFixedPoint([1, Infinity])).toThrow(/values\[1\]/);
    expect(() => encodeFixedPoint([2 ** 38])).toThrow(RangeError);
    expect(() => encodeFixedPoint([5], { maxAbs: 4 })).toThrow(/\|x\| <= 4/);
    expect(() => encodeFixedPoint([1], { fractionalBits: 53 })).toThrow(/fractionalBits must be an integer in \[0, 52\]/);
    expect(() => encodeFixedPoint([1], { fractionalBits: 1.5 })).toThrow(/fractionalBits/);
    expect(() => encodeFixedPoint([1, 2], { out: new BigUint64Array(1) })).toThrow(/out must have length 2/);
    expect(() => decodeFixedPoint([1n] as unknown as BigUint64Array)).toThrow(TypeError);
  });
});
