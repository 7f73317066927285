/** The samplers' buffered word source: unbiased integers and bigints, and its use as an `Rng`. */
import { seededTestRng } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import { WordSource } from '../src/mechanisms/words.ts';
import { chiSquareCritical, chiSquareStatistic } from '../../../test/support/stats.ts';

describe('WordSource', () => {
  it('serves the underlying stream word by word, in order', () => {
    const src = new WordSource(seededTestRng('words-order'));
    const direct = new Uint32Array(3000);
    seededTestRng('words-order').fillBytes(new Uint8Array(direct.buffer));
    for (let i = 0; i < direct.length; i++) expect(src.nextUint32()).toBe(direct[i]);
  });

  it('draws bigints beyond 2^53 in range and uniformly (chi-square on 16 buckets; false failure 1e-6)', () => {
    const src = new WordSource(seededTestRng('words-bigint'));
    const bound = (1n << 64n) + 12_345n;
    const k = 16;
    const n = 48_000;
    const counts = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const x = src.bigInt(bound);
      expect(x >= 0n && x < bound).toBe(true);
      counts[Number((x * BigInt(k)) / bound)]++;
    }
    expect(chiSquareStatistic(counts, new Float64Array(k).fill(n / k))).toBeLessThan(chiSquareCritical(k - 1, 1e-6) * 1.1);
  });

  it('draws integers in [0, bound) for bounds near 2^32 and 2^53', () => {
    const src = new WordSource(seededTestRng('words-int'));
    for (const bound of [1, 3, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1, 2 ** 53]) {
      for (let i = 0; i < 200; i++) {
        const x = src.int(bound);
        expect(Number.isInteger(x) && x >= 0 && x < bound).toBe(true);
      }
    }
  });
});
