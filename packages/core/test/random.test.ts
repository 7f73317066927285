import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bernoulli,
  bernoulliRational,
  CryptoRng,
  cryptoRng,
  randomBytes,
  seededTestRng,
  uniformBigInt,
  uniformDouble,
  uniformInt,
} from '../src/index.ts';
import { chiSquareCritical, chiSquareStatistic, expectMeanWithin } from '../../../test/support/stats.ts';

describe('seeded generator', () => {
  it('is deterministic for any seed and differs across seeds', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.string(), fc.bigInt()), (seed) => {
        const a = seededTestRng(seed);
        const b = seededTestRng(seed);
        const xa = Array.from({ length: 40 }, () => a.nextUint32());
        const xb = Array.from({ length: 40 }, () => b.nextUint32());
        expect(xa).toEqual(xb);
        const c = seededTestRng(`${String(seed)}!`);
        expect(Array.from({ length: 40 }, () => c.nextUint32())).not.toEqual(xa);
      }),
      { numRuns: 50 },
    );
  });

  it('matches the RFC 8439 ChaCha20 keystream layout (bytes and words agree)', () => {
    const a = seededTestRng(7);
    const b = seededTestRng(7);
    const bytes = new Uint8Array(16);
    a.fillBytes(bytes);
    const words = Uint32Array.from({ length: 4 }, () => b.nextUint32());
    expect(Array.from(new Uint8Array(words.buffer))).toEqual(Array.from(bytes));
  });

  it('streams the same bytes however the requests are split, across the 64 KiB pool boundary', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 3, maxLength: 5 }), (sizes) => {
        const total = sizes.reduce((s, x) => s + x, 0);
        const whole = new Uint8Array(total);
        seededTestRng('split').fillBytes(whole);
        const rng = seededTestRng('split');
        const parts = new Uint8Array(total);
        let off = 0;
        for (const n of sizes) {
          // only word-aligned requests are guaranteed to continue the stream exactly
          const m = n - (n % 4);
          rng.fillBytes(parts.subarray(off, off + m));
          off += m;
        }
        const fresh = seededTestRng('split');
        const expected = new Uint8Array(off);
        fresh.fillBytes(expected);
        expect(Buffer.compare(parts.subarray(0, off), expected)).toBe(0);
      }),
      { numRuns: 12 },
    );
  });

  it('rejects seeds that are not integers, strings or bytes', () => {
    expect(() => seededTestRng(1.5)).toThrow(RangeError);
    expect(() => seededTestRng(Number.NaN)).toThrow(/seed/);
    expect(() => seededTestRng({} as unknown as number)).toThrow(TypeError);
  });
});

describe('CSPRNG pool', () => {
  it('serves more than the 65,536-byte getRandomValues limit in one call', () => {
    const big = randomBytes(200_003);
    expect(big.length).toBe(200_003);
    // 200 kB of CSPRNG output is not all zero in its last block (probability 2^-8000)
    expect(big.subarray(199_000).some((b) => b !== 0)).toBe(true);
  });

  it('draws words and bytes without repeating the pool', () => {
    const rng = new CryptoRng();
    const seen = new Set<number>();
    for (let i = 0; i < 40_000; i++) seen.add(rng.nextUint32());
    // 40k draws from 2^32: expected collisions about 0.19; more than 5 has probability < 1e-6
    expect(40_000 - seen.size).toBeLessThanOrEqual(5);
  });

  it('rejects bad byte counts', () => {
    expect(() => randomBytes(-1)).toThrow(/n must be an integer in \[0, 2\^30\]/);
    // 2^32 once hung the process filling 4 GiB; it is refused at the call.
    expect(() => randomBytes(2 ** 32)).toThrow(RangeError);
    expect(() => randomBytes(4, 42 as never)).toThrow(/rng must be an Rng/);
    expect(() => randomBytes(Number.NaN)).toThrow(RangeError);
  });
});

describe('uniformInt', () => {
  it('stays in [0, bound) for any bound, including bounds near 2^32 and 2^53', () => {
    const rng = seededTestRng('uniformInt-range');
    const bounds = fc.oneof(
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 2 ** 32 - 5, max: 2 ** 32 + 5 }),
      fc.integer({ min: 2 ** 53 - 1000, max: 2 ** 53 }),
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    );
    fc.assert(
      fc.property(bounds, (bound) => {
        for (let i = 0; i < 20; i++) {
          const x = uniformInt(bound, rng);
          expect(Number.isInteger(x) && x >= 0 && x < bound).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is uniform: chi-square on 97 buckets (seeded; false failure 1e-6)', () => {
    const rng = seededTestRng('uniformInt-chi2');
    const k = 97;
    const n = 200_000;
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) counts[uniformInt(k, rng)]++;
    const expected = new Float64Array(k).fill(n / k);
    expect(chiSquareStatistic(counts, expected)).toBeLessThan(chiSquareCritical(k - 1, 1e-6));
  });

  it('has no modulo bias for a bound of 3 * 2^30 (where x mod bound would favour the low third)', () => {
    const rng = seededTestRng('uniformInt-bias');
    const bound = 3 * 2 ** 30;
    const n = 120_000;
    const counts = new Float64Array(3);
    for (let i = 0; i < n; i++) counts[Math.floor(uniformInt(bound, rng) / 2 ** 30)]++;
    // modulo reduction of 32 bits would give the first third probability 1/2: chi-square would be ~n/4
    expect(chiSquareStatistic(counts, new Float64Array(3).fill(n / 3))).toBeLessThan(chiSquareCritical(2, 1e-6) * 1.5);
  });

  it('rejects bounds outside [1, 2^53] with the parameter name', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constant(0),
          fc.constant(-1),
          fc.constant(0.5),
          fc.constant(Number.NaN),
          fc.constant(Infinity),
          fc.constant(2 ** 53 + 2),
        ),
        (b) => {
          expect(() => uniformInt(b)).toThrow(/bound must be an integer in \[1, 2\^53\]/);
        },
      ),
    );
  });
});

describe('uniformBigInt', () => {
  it('stays in [0, bound) for any bigint bound, up to 2^256', () => {
    const rng = seededTestRng('bigint-range');
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1n << 256n }), (bound) => {
        for (let i = 0; i < 5; i++) {
          const x = uniformBigInt(bound, rng);
          expect(x >= 0n && x < bound).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is uniform on a bound just above 2^64 (chi-square on the top bits; false failure 1e-6)', () => {
    const rng = seededTestRng('bigint-chi2');
    const bound = (1n << 64n) + 12345n;
    const k = 16;
    const n = 64_000;
    const counts = new Float64Array(k + 1);
    for (let i = 0; i < n; i++) counts[Number((uniformBigInt(bound, rng) * BigInt(k)) / bound)]++;
    expect(counts[k]).toBe(0);
    expect(chiSquareStatistic(counts.subarray(0, k), new Float64Array(k).fill(n / k))).toBeLessThan(chiSquareCritical(k - 1, 1e-6) * 1.1);
  });

  it('rejects non-bigint and non-positive bounds', () => {
    expect(() => uniformBigInt(5 as unknown as bigint)).toThrow(TypeError);
    expect(() => uniformBigInt(0n)).toThrow(/bound must be a bigint >= 1/);
  });
});

describe('uniformDouble and bernoulli', () => {
  it('uniform doubles lie in [0, 1) on the 2^-53 grid with mean 1/2 (false failure 1e-5)', () => {
    const rng = seededTestRng('double');
    const xs = new Float64Array(125_000);
    for (let i = 0; i < xs.length; i++) {
      const u = uniformDouble(rng);
      expect(u >= 0 && u < 1 && Number.isInteger(u * 2 ** 53)).toBe(true);
      xs[i] = u;
    }
    expectMeanWithin(xs, 0.5, 1 / 12);
  });

  it('uses all 53 bits: the lowest mantissa bit is set about half the time', () => {
    const rng = seededTestRng('double-low-bit');
    let odd = 0;
    const n = 40_000;
    for (let i = 0; i < n; i++) odd += (uniformDouble(rng) * 2 ** 53) % 2;
    // binomial(n, 1/2): 6 standard deviations, false failure < 2e-9
    expect(Math.abs(odd - n / 2)).toBeLessThan(6 * Math.sqrt(n / 4));
  });

  it('Bernoulli(p) has mean p for several p, including tiny and non-dyadic ones (false failure 1e-5 each)', () => {
    const rng = seededTestRng('bernoulli');
    for (const p of [0.5, 0.1, 1 / 3, 0.999, 1e-3]) {
      const n = 125_000;
      const xs = new Float64Array(n);
      for (let i = 0; i < n; i++) xs[i] = bernoulli(p, rng) ? 1 : 0;
      expectMeanWithin(xs, p, p * (1 - p));
    }
    expect(bernoulli(0, rng)).toBe(false);
    expect(bernoulli(1, rng)).toBe(true);
  });

  it('rational Bernoulli has mean num/den (false failure 1e-5)', () => {
    const rng = seededTestRng('bernoulli-rational');
    const n = 125_000;
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = bernoulliRational(2n, 7n, rng) ? 1 : 0;
    expectMeanWithin(xs, 2 / 7, (2 / 7) * (5 / 7));
  });

  it('rejects probabilities outside [0, 1] and NaN', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: 1.0000001, max: 1e9 }), fc.double({ max: -1e-300 }), fc.constant(Number.NaN)), (p) => {
        expect(() => bernoulli(p, cryptoRng)).toThrow(/p must be a number in \[0, 1\]/);
      }),
    );
    expect(() => bernoulliRational(3n, 2n)).toThrow(/numerator/);
    expect(() => bernoulliRational(1n, 0n)).toThrow(/denominator/);
  });
});
