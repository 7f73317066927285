// Products over Z_2^128 from oblivious transfer (for an SPDZ2k offline phase): IKNP with 128-bit messages, the
// Gilboa products mod 2^128 against BigInt arithmetic, the n-party cross products of the dealer-free generator,
// the uniformity of one party's view whatever the other party's input, and bad input and bad messages.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededTestRng } from '@ppml/core';
import { byteUniformityStatistic, chiSquareCritical } from '../../../test/support/stats.ts';
import { ProtocolAbortError } from '../src/errors.ts';
import {
  gilboa128Receive,
  gilboa128ReceivePacked,
  gilboa128Send,
  packCorrections,
  packedCorrectionBytes,
  unpackCorrections,
} from '../src/ot/gilboa128.ts';
import { hashRows, hashRows128, IknpReceiver, IknpSender, KAPPA, KOS_ANSWER_BYTES, KOS_PADDING, KOS_SEED_BYTES } from '../src/ot/iknp.ts';
import { group } from './support/ot-group.ts';

const M128 = 1n << 128n;

function randomWords(rng: ReturnType<typeof seededTestRng>, n: number): BigUint64Array {
  const a = new BigUint64Array(n);
  rng.fillBytes(new Uint8Array(a.buffer));
  return a;
}

function join(lo: BigUint64Array, hi: BigUint64Array, t: number): bigint {
  return lo[t] + (hi[t] << 64n);
}

describe('IKNP with 128-bit messages', () => {
  it('the receiver gets the 128-bit sender message of its choice; the low halves are the 64-bit messages', () => {
    const rng = seededTestRng('iknp-128');
    const k0 = Array.from({ length: KAPPA }, () => new Uint8Array(randomWords(rng, 2).buffer));
    const k1 = Array.from({ length: KAPPA }, () => new Uint8Array(randomWords(rng, 2).buffer));
    const s = Uint8Array.from({ length: KAPPA }, (_, i) => (k0[i][0] ^ k1[i][1]) & 1);
    const sender = new IknpSender(
      s,
      k0.map((k, i) => (s[i] === 1 ? k1[i] : k)),
    );
    const receiver = new IknpReceiver(k0, k1);
    // Two batches, the second with 128-bit messages: the streams advance identically whatever the width.
    for (const width of [64, 128] as const) {
      const m = 256;
      const choices = new Uint8Array(randomWords(rng, m / 64).buffer);
      const { u, h } = receiver.extend(choices, m, width);
      const { h0, h1 } = sender.extend(u, m, 1, width);
      const per = width / 64;
      expect(h.length).toBe(per * m);
      for (let j = 0; j < m; j++) {
        const c = (choices[j >>> 3] >>> (j & 7)) & 1;
        const [mine, other] = c === 1 ? [h1, h0] : [h0, h1];
        for (let w = 0; w < per; w++) expect(h[per * j + w]).toBe(mine[per * j + w]);
        expect(h[per * j + per - 1]).not.toBe(other[per * j + per - 1]);
      }
    }
    const rows = new Uint32Array(randomWords(rng, 2 * 5000).buffer);
    const delta = new Uint32Array(randomWords(rng, 2).buffer);
    for (const d of [null, delta]) {
      const narrow = hashRows(rows, d);
      const wide = hashRows128(rows, d);
      expect(wide.length).toBe(2 * narrow.length);
      for (let j = 0; j < narrow.length; j++) expect(wide[2 * j]).toBe(narrow[j]);
    }
    expect(() => receiver.extend(new Uint8Array(4), 32, 96 as 64)).toThrow(RangeError);
  });
});

describe('Gilboa products over Z_2^128 from random OTs', () => {
  /** Random 128-bit OTs as the law defines them: sender messages h0, h1, receiver message h_(choice). */
  function ots(y: bigint[], bits: number, seed: number): { h0: BigUint64Array; h1: BigUint64Array; h: BigUint64Array } {
    const rng = seededTestRng(seed);
    const m = bits * y.length;
    const h0 = randomWords(rng, 2 * m);
    const h1 = randomWords(rng, 2 * m);
    const h = h0.slice();
    for (let t = 0; t < y.length; t++) {
      for (let l = 0; l < bits; l++) {
        if (((y[t] >> BigInt(l)) & 1n) === 1n) {
          const j = bits * t + l;
          h[2 * j] = h1[2 * j];
          h[2 * j + 1] = h1[2 * j + 1];
        }
      }
    }
    return { h0, h1, h };
  }
  const split = (v: bigint[]): [BigUint64Array, BigUint64Array] => [
    BigUint64Array.from(v, (a) => BigInt.asUintN(64, a)),
    BigUint64Array.from(v, (a) => a >> 64n),
  ];

  for (const bits of [64, 128] as const) {
    it(`bits ${bits}: sender share + receiver share = x * y mod 2^128 (fast-check)`, () => {
      const x128 = fc.bigInt({ min: 0n, max: M128 - 1n });
      const y = bits === 64 ? fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) : x128;
      fc.assert(
        fc.property(fc.array(fc.tuple(x128, y), { minLength: 1, maxLength: 8 }), fc.integer(), (pairs, seed) => {
          const xs = pairs.map((p) => p[0]);
          const ys = pairs.map((p) => p[1]);
          const [xLo, xHi] = split(xs);
          const [yLo, yHi] = split(ys);
          const { h0, h1, h } = ots(ys, bits, seed);
          const { d, lo, hi } = gilboa128Send(xLo, xHi, h0, h1, bits);
          expect(d.length).toBe(2 * bits * xs.length);
          const r = gilboa128Receive(yLo, yHi, h, d, bits);
          // The corrections cut to the bits the receiver uses (as sent) give the same share.
          const packed = packCorrections(d, bits);
          expect(packed.length).toBe(packedCorrectionBytes(bits, xs.length));
          const cut = gilboa128Receive(yLo, yHi, h, unpackCorrections(packed, bits, xs.length), bits);
          const inPlace = gilboa128ReceivePacked(yLo, yHi, h, packed, bits);
          for (let t = 0; t < xs.length; t++) {
            if ((join(lo, hi, t) + join(r.lo, r.hi, t)) % M128 !== (xs[t] * ys[t]) % M128) return false;
            if (join(cut.lo, cut.hi, t) !== join(r.lo, r.hi, t)) return false;
            if (join(inPlace.lo, inPlace.hi, t) !== join(r.lo, r.hi, t)) return false;
          }
          return true;
        }),
        { numRuns: 60 },
      );
    });
  }

  it('rejects a bits value other than 64 or 128, mismatched lengths and, with bits 64, y >= 2^64', () => {
    const one = new BigUint64Array(1);
    const h = new BigUint64Array(128);
    expect(() => gilboa128Send(one, one, h, h.slice(), 32 as 64)).toThrow(/bits must be 64 or 128, got 32/);
    expect(() => gilboa128Send(one, new BigUint64Array(2), h, h.slice(), 64)).toThrow(/xLo and xHi/);
    expect(() => gilboa128Send(one, one, h, h.slice(), 128)).toThrow(/h0 and h1 must hold 256 words/);
    expect(() => gilboa128Receive(one, BigUint64Array.of(1n), h, h, 64)).toThrow(/yHi\[0\] must be 0/);
    expect(() => gilboa128Receive(one, one, h, new BigUint64Array(2), 64)).toThrow(RangeError);
    expect(() => gilboa128ReceivePacked(one, one, h, new Uint8Array(packedCorrectionBytes(64, 1) - 4), 64)).toThrow(
      /must have 896 bytes, got 892/,
    );
    expect(() => gilboa128ReceivePacked(one, BigUint64Array.of(1n), h, new Uint8Array(896), 64)).toThrow(/yHi\[0\] must be 0/);
    expect(() => packCorrections(new BigUint64Array(100), 64)).toThrow(/128 words per item/);
    expect(() => unpackCorrections(new Uint8Array(8), 128, 1)).toThrow(/must have 1280 bytes, got 8/);
  });
});

describe('cross products over Z_2^128 (parties in this thread)', () => {
  function inputs(parties: number, n: number, yBits: 64 | 128, seed: string): BigUint64Array[][] {
    const rng = seededTestRng(seed);
    return Array.from({ length: parties }, () => {
      const v = [randomWords(rng, n), randomWords(rng, n), randomWords(rng, n), randomWords(rng, n)];
      if (yBits === 64) v[3].fill(0n);
      // Edge values: 0, 2^128 - 1 and 2^64 - 1 (the largest y with yBits 64).
      v[0][0] = 0n;
      v[1][0] = 0n;
      v[0][1] = 2n ** 64n - 1n;
      v[1][1] = 2n ** 64n - 1n;
      v[2][1] = 2n ** 64n - 1n;
      return v;
    });
  }

  /** Runs the widths in turn on one group: the base OTs and extension streams serve every width. */
  async function check(parties: number, n: number, widths: readonly (64 | 128)[]): Promise<void> {
    const g = group(parties, `cross128-${parties}-${n}`);
    try {
      for (const yBits of widths) {
        const inp = inputs(parties, n, yBits, `cross128-inputs-${parties}-${n}-${yBits}`);
        const out = await Promise.all(g.pres.map((p, i) => p.crossProducts128(inp[i][0], inp[i][1], inp[i][2], inp[i][3], yBits)));
        for (let t = 0; t < n; t++) {
          let want = 0n;
          for (let i = 0; i < parties; i++) {
            for (let j = 0; j < parties; j++) if (i !== j) want += join(inp[i][0], inp[i][1], t) * join(inp[j][2], inp[j][3], t);
          }
          let got = 0n;
          for (const o of out) got += join(o.lo, o.hi, t);
          if (got % M128 !== want % M128) expect.fail(`yBits ${yBits}, item ${t}: shares sum to ${got % M128}, expected ${want % M128}`);
        }
      }
    } finally {
      g.close();
    }
  }

  for (const parties of [2, 3]) {
    it(`${parties} parties, yBits 64 then 128: the shares sum to sum over i != j of x_i y_j mod 2^128 (1,000 items)`, async () => {
      await check(parties, 1000, [64, 128]);
    }, 20_000);
  }

  it('2 parties, yBits 128, 8,193 items: two OT batches (2^13 items each) give the same law', async () => {
    await check(2, 8193, [128]);
  }, 30_000);

  // Party 0's view of the products x_1 * y_1 with party 1 (the IKNP columns u, which carry party 1's choice bits
  // y_1, and the corrections d, which carry x_1) for two very different secrets of party 1: every word 0 and every
  // word 2^64 - 1 (x_1 = 2^128 - 1). Under uniformity each byte is uniform on 256 values (chi-square, 255 degrees
  // of freedom); d is checked as a whole and in the high words of its 128-bit corrections alone (which a 64-bit pad
  // would leave equal to -x_1's high word plus a borrow). alpha = 1e-6 per check, 6 checks: false-failure rate
  // below 6e-6, and the run is seeded (reproducible).
  it("one party's view of the products is uniform whatever the other party's x and y", async () => {
    const critical = chiSquareCritical(255, 1e-6);
    const g = group(2, 'view128');
    try {
      // Base OTs first (their points are not uniform bytes), then the products under test.
      const one = new BigUint64Array(1);
      await Promise.all(g.pres.map((p) => p.crossProducts128(one, one, one, one, 128)));
      for (const secret of [0n, 2n ** 64n - 1n]) {
        g.received.length = 0;
        const n = 256;
        const mine = randomWords(seededTestRng('view128-party-0'), 4 * n);
        const [a, b, c, d] = [0, 1, 2, 3].map((k) => mine.subarray(k * n, (k + 1) * n));
        const theirs = new BigUint64Array(n).fill(secret);
        const [s0, s1] = await Promise.all([
          g.pres[0].crossProducts128(a, b, c, d, 128),
          g.pres[1].crossProducts128(theirs, theirs, theirs, theirs, 128),
        ]);
        // The products are right: s0 + s1 = x_0 y_1 + x_1 y_0.
        const s = join(theirs, theirs, 0);
        for (let t = 0; t < n; t++) {
          expect((join(s0.lo, s0.hi, t) + join(s1.lo, s1.hi, t)) % M128).toBe((join(a, b, t) * s + s * join(c, d, t)) % M128);
        }
        // The extension columns (for KOS_PADDING more OTs), the KOS check's seed and answer, then the corrections,
        // cut to the bits the receiver uses: 10 bytes per OT on average (packCorrections).
        expect(g.received.map((r) => r.bytes.length)).toEqual([
          (KAPPA * (128 * n + KOS_PADDING)) / 8,
          KOS_SEED_BYTES,
          KOS_ANSWER_BYTES,
          packedCorrectionBytes(128, n),
        ]);
        expect(packedCorrectionBytes(128, n)).toBe(10 * 128 * n);
        // The columns and the corrections (the 16- and 32-byte check messages are too short for a chi-square test).
        for (const k of [0, 3]) expect(byteUniformityStatistic(g.received[k].bytes)).toBeLessThan(critical);
        // The high limbs sent (limbs 2 and 3 of corrections 0..31, limb 2 of corrections 32..63).
        const dv = unpackCorrections(g.received[3].bytes, 128, n);
        const dw = new Uint32Array(dv.buffer);
        const highs = new Uint32Array(3 * 32 * n);
        for (let t = 0, k = 0; t < n; t++) {
          for (let l = 0; l < 64; l++) {
            const o = 4 * (128 * t + l);
            highs[k++] = dw[o + 2];
            if (l < 32) highs[k++] = dw[o + 3];
          }
        }
        expect(byteUniformityStatistic(new Uint8Array(highs.buffer))).toBeLessThan(critical);
      }
    } finally {
      g.close();
    }
  });

  for (const [what, target] of [
    ['OT-extension message', 0],
    ['correction message', 3],
  ] as const) {
    it(`a short ${what} from party 1 aborts party 0 with ProtocolAbortError naming party 1`, async () => {
      const g = group(2, `short128-${target}`);
      try {
        const one = new BigUint64Array(4);
        await Promise.all(g.pres.map((p) => p.crossProducts128(one, one, one, one, 64)));
        const t1 = g.transports[1];
        const send = t1.send.bind(t1);
        let sent = 0;
        t1.send = (peer, tag, bytes) => send(peer, tag, sent++ === target ? bytes.slice(0, bytes.length - 16) : bytes);
        // Party 1 may then wait for a message party 0 never sends: only party 0's outcome is awaited.
        g.pres[1].crossProducts128(one, one, one, one, 64).catch(() => {});
        const e = (await g.pres[0].crossProducts128(one, one, one, one, 64).then(
          () => null,
          (err: unknown) => err,
        )) as ProtocolAbortError;
        expect(e).toBeInstanceOf(ProtocolAbortError);
        expect(e.party).toBe(1);
        expect(e.message).toMatch(/party 1/);
      } finally {
        g.close();
      }
    });
  }

  it('rejects mismatched lengths, yBits other than 64 or 128, and y >= 2^64 with yBits 64, before any message', async () => {
    const g = group(2, 'bad128');
    try {
      const pre = g.pres[0];
      const a = new BigUint64Array(3);
      await expect(pre.crossProducts128(a, a, a, new BigUint64Array(2), 64)).rejects.toThrow(
        /xLo, xHi, yLo and yHi must have the same length, got 3, 3, 3 and 2/,
      );
      await expect(pre.crossProducts128(a, a, a, a, 32 as 64)).rejects.toThrow(/yBits must be 64 or 128, got 32/);
      await expect(pre.crossProducts128(a, a, a, BigUint64Array.of(0n, 0n, 1n), 64)).rejects.toThrow(/yHi\[2\] must be 0/);
      await expect(pre.crossProducts128(a, a, [0n] as unknown as BigUint64Array, a, 64)).rejects.toThrow(TypeError);
      expect(g.received.length).toBe(0);
    } finally {
      g.close();
    }
  });
});
