// The CKKS evaluation layer on its own: polynomials of every degree up to 7 (bare powers, the degree-2 and
// degree-3 forms, the general product tree) agree with plaintext evaluation, land on the requested scale
// exactly, and use the documented depth; sums across levels align without setScale drift.
import fc from 'fast-check';
import type { Ciphertext } from 'node-seal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksOps, type HeContext, acquireContext, planParameters, polynomialDepth, polyval } from '../src/index.ts';
import { isBarePower } from '../src/poly.ts';

let ctx: HeContext;
let ops: CkksOps;
let x: Ciphertext;
const owned: { delete(): void }[] = [];
const values = Float64Array.from({ length: 4096 }, (_, i) => Math.sin(i * 0.37)); // in [-1, 1]
let decrypt: (ct: Ciphertext) => Float64Array;

beforeAll(async () => {
  ctx = await acquireContext(planParameters({ depth: 3, inputBound: 1 }));
  const seal = ctx.seal;
  const keygen = new seal.KeyGenerator(ctx.context);
  const sk = keygen.secretKey();
  const pk = keygen.createPublicKey();
  const rk = keygen.createRelinKeys();
  const enc = new seal.Encryptor(ctx.context, pk, sk);
  const dec = new seal.Decryptor(ctx.context, sk);
  const pt = new seal.Plaintext();
  owned.push(keygen, sk, pk, rk, enc, dec, pt);
  ctx.encoder.encode(values, ctx.scale, pt);
  x = new seal.Ciphertext();
  owned.push(x);
  enc.encrypt(pt, x);
  ops = new CkksOps(ctx, rk);
  decrypt = (ct) => {
    dec.decrypt(ct, pt);
    return ctx.encoder.decodeFloat64(pt) as Float64Array;
  };
});

afterAll(() => {
  ops?.dispose();
  for (const o of owned.reverse()) o.delete();
  ctx?.release();
});

function check(coefficients: Float64Array, tol: number): void {
  const y = ops.polynomial(x, coefficients, ctx.scale);
  try {
    expect(ops.level(y)).toBe(ctx.topLevel - polynomialDepth(coefficients));
    const got = decrypt(y);
    for (let i = 0; i < values.length; i += 7) expect(Math.abs(got[i] - polyval(coefficients, values[i]))).toBeLessThan(tol);
  } finally {
    y.delete();
  }
}

describe('CkksOps.polynomial', () => {
  it('random polynomials of degree 1..7 match plaintext evaluation at the documented depth and exact scale', () => {
    fc.assert(
      fc.property(
        // Lower coefficients may be tiny (they must then count as zero); the leading one is not.
        fc
          .array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2, maxLength: 8 })
          .filter((c) => Math.abs(c[c.length - 1]) > 1e-3),
        (c) => {
          const coefficients = Float64Array.from(c);
          const y = ops.polynomial(x, coefficients, ctx.scale);
          try {
            // A bare power x^(2^j) (plus a constant) is squared directly to save depth, so its scale is whatever
            // squaring gives (documented on CkksOps.polynomial); every other form lands exactly on the target.
            const zeroed = coefficients.map((v) => (Math.abs(v) * ctx.scale < 1 ? 0 : v));
            if (isBarePower(zeroed)) expect(Math.abs(y.scale() / ctx.scale - 1)).toBeLessThan(1e-5);
            else expect(y.scale()).toBe(ctx.scale);
          } finally {
            y.delete();
          }
          check(coefficients, 1e-5);
        },
      ),
      // The bare square shrunk from an earlier run, always tried first.
      { numRuns: 8, examples: [[[0, 0, 1]], [[0.5, 0, 0, 0, 1]]] },
    );
  });

  it('handles sparse and special forms: x^2, x^4 + 1, 3x, odd cubics, x^6 with one other term, tiny c3', () => {
    // x + 0.25 (identity plus a constant, depth 0) must not modify x: the later checks reuse it.
    check(Float64Array.of(0.25, 1), 1e-6);
    check(Float64Array.of(0, 0, 1), 1e-6);
    check(Float64Array.of(1, 0, 0, 0, 1), 1e-6);
    check(Float64Array.of(0, 3), 1e-6);
    check(Float64Array.of(0.5, 0.197, 0, -0.004), 1e-6);
    check(Float64Array.of(0, 0, 0, 0, 0, 0, 2, 0.25), 1e-5);
    // c1/c3 = 1e7 would overflow x^2 + c1/c3: the general tree is used instead, at the same depth.
    check(Float64Array.of(0, 1, 0, 1e-7), 1e-6);
  });

  it('adds ciphertexts from different levels without scale drift', () => {
    const a = ops.mulConst(x, 2, ctx.scale) as Ciphertext; // level 2
    const sq = ops.polynomial(x, Float64Array.of(0, 0.5, 0.25), ctx.scale); // level 1, scale exactly 2^40
    try {
      ops.addInto(sq, a);
      expect(ops.level(sq)).toBe(1);
      const got = decrypt(sq);
      for (let i = 0; i < values.length; i += 11) {
        const v = values[i];
        expect(Math.abs(got[i] - (0.5 * v + 0.25 * v * v + 2 * v))).toBeLessThan(1e-6);
      }
    } finally {
      a.delete();
      sq.delete();
    }
    expect(ops.mulConst(x, 0, ctx.scale)).toBeUndefined();
    expect(() => ops.polynomial(x, Float64Array.of(1), ctx.scale)).toThrow(/degree >= 1/);
  });
});
