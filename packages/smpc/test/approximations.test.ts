// Error bounds of the nonlinear approximations, as documented on SmpcSession.sigmoid/exp/reciprocal, checked on
// dense grids against Math.* (one replicated session; the additive protocol runs the same party code).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { SmpcSession } from '../src/index.ts';

const grid = (a: number, b: number, n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

interface Vector {
  readonly x: number;
  readonly sigmoid: number;
  readonly exp: number | null;
  readonly reciprocal: number | null;
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/approximations.json', import.meta.url), 'utf8')) as {
  tolerance: { sigmoidAbs: number; expRel: number; reciprocalRel: number };
  cases: Vector[];
};

describe('nonlinear approximations', () => {
  let s: SmpcSession;
  beforeAll(async () => {
    s = await SmpcSession.start({ parties: 3, protocol: 'replicated' });
  });
  afterAll(async () => {
    await s.close();
  });

  it('sigmoid: absolute error <= 5e-4 on [-60, 60], saturates correctly at |x| = 1000', async () => {
    const x = Float64Array.of(...grid(-60, 60, 1201), -1000, -500, 500, 1000);
    const got = await s.reveal(s.sigmoid(await s.share(0, x)));
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(got[i] - 1 / (1 + Math.exp(-x[i]))), `x = ${x[i]}`).toBeLessThanOrEqual(5e-4);
    }
  });

  // exp and reciprocal check their domains on the declared range: the grids declare it (the session's default
  // bound, |x| <= 1024, reaches outside both domains and is refused; see approximation-domains.test.ts).
  it('exp: relative error <= x^2/1500 + 1e-3 on [-6, 6] and absolute error <= 4e-4 on [-1024, 0]', async () => {
    const x = Float64Array.of(...grid(-6, 6, 601), ...grid(-1024, -6, 200));
    const got = await s.reveal(s.exp(await s.share(1, x, undefined, { min: -1024, max: 6 })));
    for (let i = 0; i < x.length; i++) {
      const want = Math.exp(x[i]);
      const err = Math.abs(got[i] - want);
      if (x[i] <= 0) expect(err, `x = ${x[i]}`).toBeLessThanOrEqual(4e-4);
      if (x[i] >= -6) expect(err / want, `x = ${x[i]}`).toBeLessThanOrEqual((x[i] * x[i]) / 1500 + 1e-3);
    }
  });

  it('reciprocal: absolute error <= 1e-3/x + 3e-5 on [0.01, 500]', async () => {
    const x = Float64Array.of(...grid(0.01, 1, 200), ...grid(1, 500, 400));
    const got = await s.reveal(s.reciprocal(await s.share(2, x, undefined, { min: 0.01, max: 500 })));
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(got[i] - 1 / x[i]), `x = ${x[i]}`).toBeLessThanOrEqual(1e-3 / x[i] + 3e-5);
    }
  });

  it('matches the reference vectors', async () => {
    const xs = Float64Array.from(vectors.cases.map((c) => c.x));
    const a = await s.share(0, xs);
    // The exp cases (|x| <= 4) and the reciprocal cases (x > 0) are shared with their domains declared.
    const withExp = vectors.cases.filter((c) => c.exp !== null);
    const e = await s.share(
      0,
      withExp.map((c) => c.x),
      undefined,
      { maxAbs: 6 },
    );
    const [sig, ex] = await Promise.all([s.reveal(s.sigmoid(a)), s.reveal(s.exp(e))]);
    const pos = vectors.cases.map((c, i) => [c, i] as const).filter(([c]) => c.reciprocal !== null);
    const rec = await s.reveal(
      s.reciprocal(
        await s.share(
          0,
          pos.map(([c]) => c.x),
          undefined,
          { min: 0.01, max: 500 },
        ),
      ),
    );
    vectors.cases.forEach((c, i) => {
      expect(Math.abs(sig[i] - c.sigmoid)).toBeLessThanOrEqual(vectors.tolerance.sigmoidAbs);
    });
    withExp.forEach((c, j) => {
      expect(Math.abs(ex[j] - (c.exp as number)) / (c.exp as number)).toBeLessThanOrEqual(vectors.tolerance.expRel);
    });
    expect(withExp.length).toBeGreaterThan(5);
    pos.forEach(([c], j) => {
      expect(Math.abs(rec[j] - (c.reciprocal as number)) * c.x).toBeLessThanOrEqual(vectors.tolerance.reciprocalRel);
    });
  });
});
