// exp and reciprocal outside their documented domains ([-1024, 6] and [0.01, 500]). Before, both ran on any
// input that `share` accepted and returned silently wrong values there: exp(-3000) was -1.2e10 and exp(-2047)
// 0.36 at 8 fractional bits, exp(8) was -1206 at 20 bits, reciprocal(700) was -7e8 at 16 bits. Now exp
// saturates to 0 below -1024 (one comparison, as sigmoid's saturating variant) and refuses a public range
// that reaches above 6; reciprocal refuses a range outside [0.01, 500]. Both are checked on the public range,
// at the call, before anything is queued.
import { describe, expect, it } from 'vitest';
import { SmpcSession } from '../src/index.ts';

/** Every tensor's range must contain the values it reveals (fixed-point values; range is in ring units). */
function inRange(values: Float64Array, range: { lo: bigint; hi: bigint }, f: number): void {
  for (const v of values) {
    expect(v * 2 ** f).toBeGreaterThanOrEqual(Number(range.lo));
    expect(v * 2 ** f).toBeLessThanOrEqual(Number(range.hi));
  }
}

describe('exp below -1024: exactly 0 (saturating variant)', () => {
  const xs = [-16000, -3000, -2047, -1500, -1025, -1024.01, -1024, -1000, -20, -5, -1, 0, 0.5, 3, 6];
  for (const [protocol, parties, fractionalBits] of [
    ['replicated', 3, 8],
    ['replicated', 3, 16],
    ['replicated', 3, 20],
    ['additive', 2, 16],
  ] as const) {
    it(`${protocol}, f = ${fractionalBits}: -16000..-1025 give 0, [-1024, 6] keeps its documented error`, async () => {
      // The largest bound that holds -16000 at this f (2^(53 - f) at f = 20 is 2^33).
      const s = await SmpcSession.start({ parties, protocol, fractionalBits, maxAbs: 2 ** Math.min(53 - fractionalBits, 14) });
      try {
        const x = await s.share(0, xs, undefined, { max: 6 });
        const e = s.exp(x);
        const got = await s.reveal(e);
        const unit = 2 ** -fractionalBits;
        xs.forEach((v, i) => {
          const want = Math.exp(v);
          // Below -1024 the base is zeroed: the result is 0 up to the final truncation's one unit.
          if (v < -1024) expect(Math.abs(got[i]), `x = ${v}`).toBeLessThanOrEqual(unit);
          // The documented errors (at least 22 internal bits at every f), plus the output's rounding unit.
          else if (v <= 0) expect(Math.abs(got[i] - want), `x = ${v}`).toBeLessThanOrEqual(4e-4 + unit);
          else expect(Math.abs(got[i] - want) / want, `x = ${v}`).toBeLessThanOrEqual((v * v) / 1500 + 1e-3 + unit / want);
        });
        inRange(got, e.range, fractionalBits);
      } finally {
        await s.close();
      }
    });
  }
});

describe('exp above 6 and reciprocal outside [0.01, 500]: RangeError at the call', () => {
  it('exp refuses a range that reaches above 6 (exp(8) returned -1206 at f = 20), nothing is queued', async () => {
    const s = await SmpcSession.start({ parties: 3, protocol: 'replicated', fractionalBits: 20 });
    try {
      const x = await s.share(0, [8, 1]); // the default bound at f = 20: |x| <= 64
      await s.sync();
      s.resetStats();
      let err: unknown = null;
      try {
        s.exp(x);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RangeError);
      expect((err as Error).message).toMatch(/^exp: x must be <= 6 .*x's public range is \[-64, 64\]/);
      expect((err as Error).message).toMatch(/share\(owner, values, shape, \{ max: 6 \}\)/);
      expect((err as Error).message).toMatch(/exp\(sub\(x, max\(x\)\)\)/);
      expect(s.stats().operations.exp).toBeUndefined();
      expect(() => s.exp(s.addPublic(x, 0))).toThrow(RangeError);
      await expect(s.share(0, [8], undefined, { max: 6 })).rejects.toThrow(/values\[0\] must be in \[-64, 6\]/);
      const ok = await s.share(0, [6, 1], undefined, { maxAbs: 6 });
      const got = await s.reveal(s.exp(ok));
      expect(Math.abs(got[0] - Math.exp(6)) / Math.exp(6)).toBeLessThanOrEqual(36 / 1500 + 1e-3);
      // A range just above 6 (after an addition) is refused too.
      expect(() => s.exp(s.addPublic(ok, 0.001))).toThrow(/^exp: x must be <= 6/);
    } finally {
      await s.close();
    }
  });

  it('exp(sub(x, max(x))) is accepted at the default bound: the range of x - max(x) is <= 0', async () => {
    const s = await SmpcSession.start({ parties: 3, protocol: 'replicated' });
    try {
      // x - max(x) = -2047 for the last element: there the old code returned (1 - 2047/1024)^1024 = 0.37.
      const xs = [-3, 0, 2.5, 1023, 999.5, -1024];
      for (const [x, shape] of [
        [await s.share(1, xs), 'n x 1'],
        [await s.share(1, xs, [1, xs.length]), '1 x n'],
      ] as const) {
        const d = s.sub(x, s.max(x));
        const e = s.exp(d); // reaches below -1024 too: the saturating variant
        const got = await s.reveal(e);
        xs.forEach((v, i) => {
          expect(Math.abs(got[i] - Math.exp(v - 1023)), `${shape}, x = ${v}`).toBeLessThanOrEqual(4e-4);
        });
        expect(d.range.hi, shape).toBe(0n);
        expect(d.maxAbs, shape).toBe(2048);
        inRange(got, e.range, 16);
      }
      // The maximum of another tensor says nothing about x: refused.
      const x = await s.share(0, xs);
      const y = await s.share(0, xs);
      expect(() => s.exp(s.sub(x, s.max(y)))).toThrow(/^exp: x must be <= 6/);
      expect(() => s.exp(s.sub(s.max(x), x))).toThrow(/^exp: x must be <= 6/);
    } finally {
      await s.close();
    }
  });

  it('reciprocal refuses a range outside [0.01, 500] (reciprocal(700) returned -7e8), accepts a declared one', async () => {
    const s = await SmpcSession.start({ parties: 2, protocol: 'additive' });
    try {
      const wide = await s.share(0, [700, 0.5, -1]);
      expect(() => s.reciprocal(wide)).toThrow(RangeError);
      expect(() => s.reciprocal(wide)).toThrow(
        /^reciprocal: x must be in \[0\.01, 500\] .*x's public range is \[-1024, 1024\]\. Declare the interval: share\(owner, values, shape, \{ min: 0\.01, max: 500 \}\)/,
      );
      const zeroToOne = await s.share(0, [0.5, 1], undefined, { min: 0, max: 1 });
      expect(() => s.reciprocal(zeroToOne)).toThrow(/x's public range is \[0, 1\]/);
      const tooHigh = await s.share(0, [0.5, 600], undefined, { min: 0.01, max: 700 });
      expect(() => s.reciprocal(tooHigh)).toThrow(RangeError);
      await s.sync();
      expect(s.stats().operations.reciprocal).toBeUndefined();

      const xs = [0.01, 0.02, 0.5, 1, 3, 499, 500];
      const x = await s.share(0, xs, undefined, { min: 0.01, max: 500 });
      expect(x.range.lo).toBe(655n); // round(0.01 * 2^16)
      expect(x.maxAbs).toBe(500);
      const r = s.reciprocal(x);
      const got = await s.reveal(r);
      xs.forEach((v, i) => {
        expect(Math.abs(got[i] - 1 / v), `x = ${v}`).toBeLessThanOrEqual(1e-3 / v + 3e-5);
      });
      inRange(got, r.range, 16);
      // Shifting into the domain with a public operand works too: x in [-1, 1] plus 2 is in [1, 3].
      const u = await s.share(1, [-1, 0, 1], undefined, { maxAbs: 1 });
      const inv = await s.reveal(s.reciprocal(s.addPublic(u, 2)));
      [1, 1 / 2, 1 / 3].forEach((want, i) => {
        expect(Math.abs(inv[i] - want)).toBeLessThanOrEqual(1e-3);
      });
    } finally {
      await s.close();
    }
  });

  it('reciprocal at 8 and 20 fractional bits: the result stays in its public range', async () => {
    for (const fractionalBits of [8, 20]) {
      const s = await SmpcSession.start({ parties: 3, protocol: 'replicated', fractionalBits });
      try {
        const xs = [0.01, 0.05, 1, 64];
        const r = s.reciprocal(await s.share(2, xs, undefined, { min: 0.01, max: 64 }));
        const got = await s.reveal(r);
        inRange(got, r.range, fractionalBits);
        // At 8 bits 0.01 is encoded as 3/256: the reciprocal of the encoded value.
        xs.forEach((v, i) => {
          const enc = Math.round(v * 2 ** fractionalBits) / 2 ** fractionalBits;
          expect(Math.abs(got[i] - 1 / enc) * enc, `f = ${fractionalBits}, x = ${v}`).toBeLessThanOrEqual(
            fractionalBits === 8 ? 0.05 : 2e-3,
          );
        });
      } finally {
        await s.close();
      }
    }
  });
});

describe('share({ min, max }): a declared interval', () => {
  it('checks the options and the values against them', async () => {
    const s = await SmpcSession.start({ parties: 2, protocol: 'additive' });
    try {
      await expect(s.share(0, [1], undefined, { min: '0' as unknown as number })).rejects.toThrow(TypeError);
      await expect(s.share(0, [1], undefined, { min: '0' as unknown as number })).rejects.toThrow(/^options\.min must be a number, got/);
      await expect(s.share(0, [1], undefined, { max: Number.NaN })).rejects.toThrow(/^options\.max must be a number in \[-1024, 1024\]/);
      await expect(s.share(0, [1], undefined, { min: -2000 })).rejects.toThrow(RangeError);
      await expect(s.share(0, [1], undefined, { maxAbs: 4, max: 5 })).rejects.toThrow(/^options\.max must be a number in \[-4, 4\]/);
      await expect(s.share(0, [1], undefined, { min: 2, max: 1 })).rejects.toThrow(
        /^options\.min must be <= options\.max, got min = 2 and max = 1/,
      );
      await expect(s.share(0, [0.5, 0.001], undefined, { min: 0.01 })).rejects.toThrow(/^values\[1\] must be in \[0\.01, 1024\]/);
      await expect(s.share(0, [1], undefined, { mn: 0 } as unknown as { min: number })).rejects.toThrow(/allowed keys: maxAbs, min, max/);
      const x = await s.share(0, [-3, 2], undefined, { min: -4, max: 2 });
      expect(x.range).toEqual({ lo: -4n * 65536n, hi: 2n * 65536n });
      expect(x.maxAbs).toBe(4);
      expect(Array.from(await s.reveal(x))).toEqual([-3, 2]);
    } finally {
      await s.close();
    }
  });
});
