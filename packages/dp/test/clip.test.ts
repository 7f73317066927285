// Per-example clipping: property tests (clipped norms <= C, gradients under C untouched, sums consistent), flat and
// per layer, for Float64Array and Float32Array rows and for the matrix form.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clipAndSum, clipFactor, clipPerSampleGradients, perLayerClipNorms, totalClipNorm } from '../src/sgd/index.ts';
import { expectClose } from '../../../test/support/stats.ts';

const SLACK = 1e-12; // relative float slack on the clipped norm

function norm(v: ArrayLike<number>, from = 0, to = v.length): number {
  let s = 0;
  for (let k = from; k < to; k++) s += v[k] * v[k];
  return Math.sqrt(s);
}

const coord = fc.double({ min: -1e3, max: 1e3, noNaN: true });
const batchArb = fc
  .integer({ min: 1, max: 12 })
  .chain((width) =>
    fc.tuple(fc.constant(width), fc.array(fc.array(coord, { minLength: width, maxLength: width }), { minLength: 0, maxLength: 8 })),
  );
const clipArb = fc.double({ min: 1e-3, max: 100, noNaN: true });

describe('flat clipping', () => {
  it('property: every clipped gradient has norm <= C and gradients within C are unchanged', () => {
    fc.assert(
      fc.property(batchArb, clipArb, ([, rows], C) => {
        const grads = rows.map((r) => Float64Array.from(r));
        const clipped = clipPerSampleGradients(grads, { clipNorm: C });
        grads.forEach((g, i) => {
          const n = norm(g);
          expect(norm(clipped[i])).toBeLessThanOrEqual(C * (1 + SLACK));
          if (n <= C) expect(Array.from(clipped[i])).toEqual(Array.from(g));
          else expectClose(norm(clipped[i]), C, C * 1e-12, 'clipped norm');
        });
      }),
      { numRuns: 200, seed: 1 },
    );
  });

  it('property: clipAndSum equals the sum of clipped copies and counts clipped examples', () => {
    fc.assert(
      fc.property(batchArb, clipArb, ([width, rows], C) => {
        const grads = rows.map((r) => Float32Array.from(r));
        const clipped = clipPerSampleGradients(grads, { clipNorm: C, parameterCount: width });
        const { sum, clipped: count, rows: n } = clipAndSum(grads, { clipNorm: C, parameterCount: width });
        expect(n).toBe(rows.length);
        expect(sum.length).toBe(width);
        expect(count).toBe(grads.filter((g) => norm(g) > C).length);
        for (let k = 0; k < width; k++) {
          const expected = clipped.reduce((s, g) => s + g[k], 0);
          expectClose(sum[k], expected, 1e-9 * Math.max(1, Math.abs(expected)), `sum[${k}]`);
        }
        // The sum of n clipped gradients has norm <= n C (triangle inequality).
        expect(norm(sum)).toBeLessThanOrEqual(rows.length * C * (1 + SLACK) + 1e-300);
      }),
      { numRuns: 150, seed: 2 },
    );
  });

  it('accepts the matrix form and gives the same result as separate rows', () => {
    const data = Float64Array.of(3, 4, 0.3, 0.4, -6, 8);
    const fromMatrix = clipPerSampleGradients({ data, rows: 3, cols: 2 }, { clipNorm: 1 });
    const expected = [
      [0.6, 0.8],
      [0.3, 0.4],
      [-0.6, 0.8],
    ];
    fromMatrix.forEach((g, i) => {
      g.forEach((v, k) => {
        expectClose(v, expected[i][k], 1e-15, `row ${i} [${k}]`);
      });
    });
    expect(fromMatrix[1][0]).toBe(0.3); // under the bound: bit-for-bit unchanged
  });

  it('clipFactor is exactly 1 at and under the bound', () => {
    expect(clipFactor(1, 1)).toBe(1);
    expect(clipFactor(0, 1)).toBe(1);
    expect(clipFactor(4, 2)).toBe(0.5);
  });
});

describe('per-layer clipping', () => {
  it('property: each layer slice has norm <= C_l, slices within C_l are unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 1000 }),
        clipArb,
        (layers, n, seed, C) => {
          const width = layers.reduce((a, b) => a + b, 0);
          let s = seed;
          const next = (): number => {
            s = (s * 1103515245 + 12345) % 2147483648;
            return (s / 2147483648) * 20 - 10;
          };
          const grads = Array.from({ length: n }, () => Float64Array.from({ length: width }, next));
          const Cs = perLayerClipNorms(C, layers.length);
          expectClose(totalClipNorm(Cs), C, 1e-12 * C, 'total clip norm');
          const clipped = clipPerSampleGradients(grads, { clipNorm: C, layers });
          grads.forEach((g, i) => {
            let off = 0;
            layers.forEach((len, l) => {
              const before = norm(g, off, off + len);
              const after = norm(clipped[i], off, off + len);
              expect(after).toBeLessThanOrEqual(Cs[l] * (1 + SLACK));
              if (before <= Cs[l]) expect(Array.from(clipped[i].subarray(off, off + len))).toEqual(Array.from(g.subarray(off, off + len)));
              off += len;
            });
            expect(norm(clipped[i])).toBeLessThanOrEqual(C * (1 + SLACK));
          });
        },
      ),
      { numRuns: 150, seed: 3 },
    );
  });

  it('uses explicit per-layer bounds and reports their total', () => {
    const g = [Float64Array.of(3, 4, 10)];
    const [c] = clipPerSampleGradients(g, { clipNorm: [1, 2], layers: [2, 1] });
    [0.6, 0.8, 2].forEach((v, k) => {
      expectClose(c[k], v, 1e-15, `c[${k}]`);
    });
    expect(totalClipNorm([3, 4])).toBe(5);
  });
});

describe('bad input', () => {
  it('rejects clipNorm <= 0, NaN and non-numbers', () => {
    const g = [Float64Array.of(1, 2)];
    expect(() => clipAndSum(g, { clipNorm: 0 })).toThrow('clipNorm must be a finite number > 0, got 0');
    expect(() => clipAndSum(g, { clipNorm: -1 })).toThrow(RangeError);
    expect(() => clipAndSum(g, { clipNorm: Number.NaN })).toThrow(/got NaN/);
    expect(() => clipAndSum(g, { clipNorm: '1' as unknown as number })).toThrow(TypeError);
  });

  it('rejects gradients whose size does not match the parameters or each other', () => {
    expect(() => clipAndSum([Float64Array.of(1, 2)], { clipNorm: 1, parameterCount: 3 })).toThrow(
      'per-sample gradient 0 has length 2, but the model has 3 parameters',
    );
    expect(() => clipAndSum([Float64Array.of(1, 2), Float64Array.of(1)], { clipNorm: 1 })).toThrow(/same length/);
    expect(() => clipAndSum({ data: new Float64Array(5), rows: 2, cols: 2 }, { clipNorm: 1 })).toThrow(/rows x cols/);
    expect(() => clipAndSum([Float64Array.of(1, 2)], { clipNorm: 1, layers: [1, 2] })).toThrow(/add up to the gradient length 2/);
    expect(() => clipAndSum([Float64Array.of(1, 2)], { clipNorm: [1, 2, 3], layers: [1, 1] })).toThrow(/one bound per layer/);
  });
});
