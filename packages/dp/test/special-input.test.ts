import { describe, expect, it } from 'vitest';
import { erfc, logErfc, logNormalCdf, normalCdf, normalSf } from '../src/index.ts';

describe('special functions at the public boundary', () => {
  it('refuse values that are not numbers (a BigInt used to reach the engine: "Cannot mix BigInt")', () => {
    for (const f of [erfc, logErfc, normalCdf, logNormalCdf, normalSf]) {
      expect(() => f(1n as never), f.name).toThrow(/x must be a number, got 1n/);
      expect(() => f('1' as never), f.name).toThrow(TypeError);
    }
  });
  it('keep the IEEE convention for NaN and the exact limits at the infinities', () => {
    expect(Number.isNaN(normalCdf(Number.NaN))).toBe(true);
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalSf(-Infinity)).toBe(1);
  });
});
