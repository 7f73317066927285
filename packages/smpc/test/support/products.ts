// What both malicious modes' tests check: the session's mode (no dealer), and on products, fixed-point mul and matmul against the exact ring product
// of the encoded inputs (exact-wrap truncation: the revealed value is floor(z / 2^f) or one ulp above).
import { expect } from 'vitest';
import { seededTestRng } from '@ppml/core';
import type { SmpcSession } from '../../src/index.ts';
import { ring, ulpOffset } from './fixed-point.ts';

/** A malicious session at the default statistical security, with no dealer thread at all. */
export async function expectMaliciousWithoutDealer(s: SmpcSession): Promise<void> {
  expect(s.security).toBe('malicious');
  expect(s.statisticalSecurity).toBe(40);
  expect(s.dealer).toBe('none');
  expect((await s.memoryUsage()).dealer).toBeNull();
}

/** n seeded products over six orders of magnitude, then a 6 x 4 by 4 x 3 matrix product, on a 3-party session. */
export async function expectExactOrOneUlpProducts(s: SmpcSession, seed: string, n: number): Promise<void> {
  const rng = seededTestRng(seed);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const words = new Uint32Array(2 * n);
  rng.fillBytes(new Uint8Array(words.buffer));
  for (let i = 0; i < n; i++) {
    xs[i] = ((words[2 * i] / 2 ** 32) * 2 - 1) * 10 ** ((i % 6) - 3);
    ys[i] = ((words[2 * i + 1] / 2 ** 32) * 2 - 1) * (i % 2 === 0 ? 40 : 0.7);
  }
  const x = await s.share(0, xs);
  const y = await s.share(1, ys);
  const p = await s.reveal(s.mul(x, y));
  for (let i = 0; i < n; i++) {
    const o = ulpOffset(p[i], ring(xs[i]) * ring(ys[i]));
    if (o !== 0n && o !== 1n) expect.fail(`element ${i}: offset ${o}`);
  }
  const m = 6;
  const k = 4;
  const c = 3;
  const A = Float64Array.from({ length: m * k }, (_, i) => ((i * 37) % 23) / 7 - 1.5);
  const B = Float64Array.from({ length: k * c }, (_, i) => ((i * 11) % 13) / 5 - 1.2);
  const P = await s.reveal(s.matmul(await s.share(2, A, [m, k]), await s.share(0, B, [k, c])));
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < c; j++) {
      let z = 0n;
      for (let t = 0; t < k; t++) z += ring(A[r * k + t]) * ring(B[t * c + j]);
      expect(ulpOffset(P[r * c + j], z)).toBeGreaterThanOrEqual(0n);
      expect(ulpOffset(P[r * c + j], z)).toBeLessThanOrEqual(1n);
    }
  }
  s.free(x, y);
}
