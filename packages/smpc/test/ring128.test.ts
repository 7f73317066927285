// Z_2^128 kernels of SPDZ2k (`ring128.ts`) against BigInt arithmetic, with fast-check.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  add128,
  addShifted128,
  beaver128,
  dot128x64,
  get128,
  half128,
  invSqrt128,
  mul128,
  neg128,
  scale128,
  set128,
  shiftSum128,
  storeNegated,
  sub128,
  total128,
  type Vec128,
  zeros128,
} from '../src/ring128.ts';

const M = 1n << 128n;
const u128 = fc.bigInt({ min: 0n, max: M - 1n });
// Edge values mixed in: carries across every 32-bit limb and the top bit.
const element = fc.oneof(u128, fc.constantFrom(0n, 1n, M - 1n, (1n << 64n) - 1n, 1n << 64n, (1n << 127n) + 1n, 0xffff_ffffn));

function vec(values: readonly bigint[]): Vec128 {
  const v = zeros128(values.length);
  for (let i = 0; i < values.length; i++) set128(v, i, values[i]);
  return v;
}

function list(v: Vec128): bigint[] {
  return Array.from({ length: v.lo.length }, (_, i) => get128(v, i));
}

describe('Z_2^128 vector kernels', () => {
  it('add, sub, neg, mul, scale and total agree with BigInt mod 2^128', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(element, element), { minLength: 1, maxLength: 20 }), element, (pairs, k) => {
        const a = vec(pairs.map((p) => p[0]));
        const b = vec(pairs.map((p) => p[1]));
        expect(list(add128(a, b))).toEqual(pairs.map(([x, y]) => (x + y) % M));
        expect(list(sub128(a, b))).toEqual(pairs.map(([x, y]) => (((x - y) % M) + M) % M));
        expect(list(neg128(a))).toEqual(pairs.map(([x]) => (M - x) % M));
        expect(list(mul128(a, b))).toEqual(pairs.map(([x, y]) => (x * y) % M));
        expect(list(scale128(a, k))).toEqual(pairs.map(([x]) => (x * k) % M));
        expect(total128(a)).toBe(pairs.reduce((s, [x]) => s + x, 0n) % M);
        // Beaver's share part c + d b + e a with (d, e, c) = (b, a, a b) reused as operands.
        const ab = mul128(a, b);
        expect(list(beaver128(a, b, ab, b, a))).toEqual(pairs.map(([x, y]) => (x * y + y * y + x * x) % M));
      }),
    );
  });

  it('dot128x64 is the sum of products with 64-bit coefficients mod 2^128, at every length', () => {
    const u64 = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(0n, 1n, (1n << 64n) - 1n, 0xffffn));
    fc.assert(
      fc.property(fc.array(fc.tuple(element, u64), { minLength: 0, maxLength: 40 }), (pairs) => {
        const a = vec(pairs.map((p) => p[0]));
        const chi = BigUint64Array.from(pairs.map((p) => p[1]));
        expect(dot128x64(a, chi)).toBe(pairs.reduce((s, [x, c]) => s + x * c, 0n) % M);
      }),
    );
    // The largest column sums: every element and coefficient at its maximum, over many chunks of eight.
    const n = 1001;
    const a = vec(Array.from({ length: n }, () => M - 1n));
    const chi = new BigUint64Array(n).fill((1n << 64n) - 1n);
    expect(dot128x64(a, chi)).toBe((BigInt(n) * (M - 1n) * ((1n << 64n) - 1n)) % M);
    expect(() => dot128x64(a, chi.subarray(0, 3))).toThrow(RangeError);
  });

  it('storeNegated writes minus the 128-bit value of four 32-bit limbs', () => {
    fc.assert(
      fc.property(element, (v) => {
        const out = zeros128(2);
        const limb = (k: bigint): number => Number((v >> (32n * k)) & 0xffff_ffffn);
        storeNegated(new Uint32Array(out.lo.buffer), new Uint32Array(out.hi.buffer), 1, limb(0n), limb(1n), limb(2n), limb(3n));
        expect(get128(out, 1)).toBe((M - v) % M);
        expect(get128(out, 0)).toBe(0n);
      }),
    );
  });

  it('addShifted adds x 2^j for every shift, and half halves even values', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(element, element), { minLength: 1, maxLength: 10 }), fc.integer({ min: 0, max: 127 }), (pairs, j) => {
        const acc = vec(pairs.map((p) => p[0]));
        addShifted128(acc, vec(pairs.map((p) => p[1])), j);
        expect(list(acc)).toEqual(pairs.map(([x, y]) => (x + (y << BigInt(j))) % M));
        const even = vec(pairs.map(([x]) => (x << 1n) % M));
        expect(list(half128(even))).toEqual(pairs.map(([x]) => x % (M >> 1n)));
      }),
    );
  });

  it('shiftSum adds the weighted sum of bit positions stored one after another', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(element, { minLength: 64 * 4, maxLength: 64 * 4 }),
        fc.array(element, { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 63 }),
        fc.integer({ min: 0, max: 63 }),
        (n, flat, start, a, b) => {
          const from = Math.min(a, b);
          const to = Math.max(a, b) + 1;
          const offset = Math.max(0, to - 128) + Math.min(from, 16);
          const src = vec(flat.slice(0, 64 * n));
          const acc = vec(start.slice(0, n));
          shiftSum128(src, n, from, to, offset, acc);
          for (let i = 0; i < n; i++) {
            let want = start[i];
            for (let j = from; j < to; j++) want += flat[j * n + i] << BigInt(j - offset);
            expect(get128(acc, i)).toBe(want % M);
          }
        },
      ),
    );
  });

  it('invSqrt gives y with y^2 A = 1 for odd squares and flags anything else', () => {
    fc.assert(
      fc.property(fc.array(element, { minLength: 1, maxLength: 10 }), (xs) => {
        const sq = vec(xs.map((x) => ((x | 1n) * (x | 1n)) % M));
        const { y, bad } = invSqrt128(sq);
        expect(bad).toBe(-1);
        for (const [i, yi] of list(y).entries()) expect((yi * yi * get128(sq, i)) % M).toBe(1n);
      }),
    );
    expect(invSqrt128(vec([1n, 3n])).bad).toBe(1); // 3 is not 1 mod 8
    expect(invSqrt128(vec([2n])).bad).toBe(0);
  });
});
