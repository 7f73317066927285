// Polynomial approximations of activations: reference errors, exactness on polynomials, depth accounting.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from './vectors/poly.json' with { type: 'json' };
import { ACTIVATIONS, SIGMOID_POLY3, approximate, approximateActivation, maxAbsError, polyval, polynomialDepth } from '../src/index.ts';

describe('polynomial approximations', () => {
  it('the TenSEAL degree-3 sigmoid has max error 0.051 on [-5, 5]', () => {
    expect(Math.abs(SIGMOID_POLY3.maxError - vectors.sigmoidPoly3MaxError)).toBeLessThan(vectors.tolerance);
    expect(polyval(SIGMOID_POLY3.coefficients, 0)).toBe(0.5);
  });

  it('least squares and Chebyshev fits match NumPy', () => {
    for (const v of vectors.fits) {
      const p = approximateActivation(
        v.f as 'sigmoid' | 'tanh' | 'relu',
        v.degree,
        v.range as [number, number],
        v.method as 'chebyshev' | 'least-squares',
      );
      expect(Math.abs(p.maxError - v.maxError), `${v.f} ${v.degree} ${v.method}`).toBeLessThan(vectors.tolerance);
      expect(maxAbsError(p.coefficients, ACTIVATIONS[v.f as 'tanh'], p.range)).toBeCloseTo(p.maxError, 12);
    }
  });

  it('error decreases with the degree', () => {
    const e = [1, 3, 5, 7].map((deg) => approximateActivation('tanh', deg, [-3, 3], 'chebyshev').maxError);
    for (let i = 1; i < e.length; i++) expect(e[i]).toBeLessThan(e[i - 1]);
  });

  it('reproduces any polynomial of at most the fitted degree (both methods)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 2, maxLength: 6 }),
        fc.constantFrom('chebyshev', 'least-squares'),
        (c, method) => {
          const f = (x: number): number => polyval(c, x);
          const p = approximate(f, c.length - 1, [-1.5, 2], method as 'chebyshev');
          expect(p.maxError).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('depth accounting: square 1, cubic 2, degree 4-7 3, identity 0', () => {
    expect(polynomialDepth([0, 0, 1])).toBe(1);
    expect(polynomialDepth([0, 0, 0, 0, 1])).toBe(2);
    expect(polynomialDepth([1, 1])).toBe(0);
    expect(polynomialDepth([1, 2])).toBe(1);
    expect(polynomialDepth(SIGMOID_POLY3.coefficients)).toBe(2);
    expect(polynomialDepth([0, 1, 0, 0, 0, 1])).toBe(3);
    expect(polynomialDepth([0, 1, 0, 0, 0, 0, 0, 1])).toBe(3);
  });

  it('rejects bad ranges, degrees and names', () => {
    expect(() => approximateActivation('sigmoid', 0, [-1, 1])).toThrow(/degree/);
    expect(() => approximateActivation('sigmoid', 3, [1, -1])).toThrow(/min < max/);
    expect(() => approximateActivation('gelu' as never, 3, [-1, 1])).toThrow(/activation must be/);
    expect(() => approximate(Math.sin, 3, [-1, 1], 'remez' as never)).toThrow(/method/);
  });
});
