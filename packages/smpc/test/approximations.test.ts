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

  it('exp: relative error <= x^2/1500 + 1e-3 on [-6, 6] and absolute error <= 4e-4 on [-1024, 0]', async () => {
    const x = Float64Array.of(...grid(-6, 6, 601), ...grid(-1024, -6, 200));
    const got = await s.reveal(s.exp(await s.share(1, x)));
    for (let i = 0; i < x.length; i++) {
      const want = Math.exp(x[i]);
      const err = Math.abs(got[i] - want);
      if (x[i] <= 0) expect(err, `x = ${x[i]}`).toBeLessThanOrEqual(4e-4);
      if (x[i] >= -6) expect(err / want, `x = ${x[i]}`).toBeLessThanOrEqual((x[i] * x[i]) / 1500 + 1e-3);
    }
  });

  it('reciprocal: absolute error <= 1e-3/x + 3e-5 on [0.01, 500]', async () => {
    const x = Float64Array.of(...grid(0.01, 1, 200), ...grid(1, 500, 400));
    const got = await s.reveal(s.reciprocal(await s.share(2, x)));
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(got[i] - 1 / x[i]), `x = ${x[i]}`).toBeLessThanOrEqual(1e-3 / x[i] + 3e-5);
    }
  });

  it('matches the reference vectors', async () => {
    const xs = Float64Array.from(vectors.cases.map((c) => c.x));
    const a = await s.share(0, xs);
    const [sig, ex] = await Promise.all([s.reveal(s.sigmoid(a)), s.reveal(s.exp(a))]);
    const pos = vectors.cases.map((c, i) => [c, i] as const).filter(([c]) => c.reciprocal !== null);
    const rec = await s.reveal(s.reciprocal(await s.share(0, pos.map(([c]) => c.x))));
    vectors.cases.forEach((c, i) => {
      expect(Math.abs(sig[i] - c.sigmoid)).toBeLessThanOrEqual(vectors.tolerance.sigmoidAbs);
      if (c.exp !== null) expect(Math.abs(ex[i] - c.exp) / c.exp).toBeLessThanOrEqual(vectors.tolerance.expRel);
    });
    pos.forEach(([c], j) => expect(Math.abs(rec[j] - (c.reciprocal as number)) * c.x).toBeLessThanOrEqual(vectors.tolerance.reciprocalRel));
  });
});
