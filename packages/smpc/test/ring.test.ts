import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ring from '../src/ring.ts';

const M = (1n << 64n) - 1n;
const u64 = fc.bigInt({ min: 0n, max: M });
const vec = (n: number) => fc.array(u64, { minLength: n, maxLength: n });
const B = (xs: bigint[]) => BigUint64Array.from(xs);

describe('ring kernels match BigInt arithmetic mod 2^64', () => {
  it('add, sub, mul, scale, xor, and, neg', () => {
    fc.assert(
      fc.property(vec(7), vec(7), u64, (a, b, k) => {
        const A = B(a);
        const Bb = B(b);
        for (let i = 0; i < 7; i++) {
          expect(ring.add(A, Bb)[i]).toBe((a[i] + b[i]) & M);
          expect(ring.sub(A, Bb)[i]).toBe((a[i] - b[i]) & M);
          expect(ring.mul(A, Bb)[i]).toBe((a[i] * b[i]) & M);
          expect(ring.scale(A, k)[i]).toBe((a[i] * k) & M);
          expect(ring.xor(A, Bb)[i]).toBe(a[i] ^ b[i]);
          expect(ring.and(A, Bb)[i]).toBe(a[i] & b[i]);
          expect(ring.neg(A)[i]).toBe(-a[i] & M);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('shiftLeft and msb', () => {
    fc.assert(
      fc.property(vec(5), (a) => {
        const A = B(a);
        for (const s of [1, 2, 4, 8, 16, 32]) {
          const r = ring.shiftLeft(A, s);
          for (let i = 0; i < 5; i++) expect(r[i]).toBe((a[i] << BigInt(s)) & M);
        }
        const m = ring.msb(A);
        for (let i = 0; i < 5; i++) expect(m[i]).toBe(a[i] >> 63n);
      }),
      { numRuns: 30 },
    );
    expect(() => ring.shiftLeft(new BigUint64Array(1), 3)).toThrow(RangeError);
  });

  it('matmul and transpose against a naive product', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer(),
        (m, k, n, seed) => {
          const a = Array.from({ length: m * k }, (_, i) => BigInt.asUintN(64, BigInt(seed) * 7919n + BigInt(i) * 0x9e3779b97f4a7c15n));
          const b = Array.from({ length: k * n }, (_, i) => BigInt.asUintN(64, BigInt(seed) * 104729n + BigInt(i) * 0xbf58476d1ce4e5b9n));
          const c = ring.matmul(B(a), B(b), m, k, n);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let s = 0n;
              for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * n + j];
              expect(c[i * n + j]).toBe(s & M);
            }
          }
          const t = ring.transpose(B(a), m, k);
          for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) expect(t[j * m + i]).toBe(a[i * k + j]);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('truncPublic computes (c >> f) - 2^(62-f) and the signed weight of the top bit', () => {
    fc.assert(
      fc.property(vec(6), fc.integer({ min: 1, max: 30 }), (c, f) => {
        const sk = new BigUint64Array(6);
        const out = ring.truncPublic(B(c), f, sk);
        const inPlace = B(c);
        ring.truncPublic(inPlace, f, new BigUint64Array(6), inPlace);
        expect([...inPlace]).toEqual([...out]);
        const K = 1n << BigInt(63 - f);
        for (let i = 0; i < 6; i++) {
          expect(out[i]).toBe(((c[i] >> BigInt(f)) - (1n << BigInt(62 - f))) & M);
          expect(sk[i]).toBe(c[i] >> 63n === 0n ? K : -K & M);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('replicatedProduct sums to the product over three parties', () => {
    fc.assert(
      fc.property(vec(3), vec(3), (xs, ys) => {
        const x = xs.map((v) => BigUint64Array.of(v));
        const y = ys.map((v) => BigUint64Array.of(v));
        let s = 0n;
        for (let i = 0; i < 3; i++) s += ring.replicatedProduct(x[i], x[(i + 1) % 3], y[i], y[(i + 1) % 3], null)[0];
        expect(s & M).toBe(((xs[0] + xs[1] + xs[2]) * (ys[0] + ys[1] + ys[2])) & M);
      }),
      { numRuns: 50 },
    );
  });
});
