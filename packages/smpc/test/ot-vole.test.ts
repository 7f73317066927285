// Vector OLE with a fixed scalar (COPEe, for SPDZ2k's MACs) and several products sharing one choice operand, over
// Z_2^128, between parties in this thread: the sums against BigInt arithmetic, the fixed scalar, the uniformity
// of one party's view whatever the other party's values, and bad input and bad messages.
import { describe, expect, it } from 'vitest';
import { seededTestRng } from '@ppml/core';
import { byteUniformityStatistic, chiSquareCritical } from '../../../test/support/stats.ts';
import { ProtocolAbortError } from '../src/errors.ts';
import { copeMessageBytes } from '../src/ot/cope.ts';
import { packCorrections, packedCorrectionBytes, unpackCorrections } from '../src/ot/gilboa128.ts';
import { KOS_ANSWER_BYTES, KOS_PADDING, KOS_SEED_BYTES } from '../src/ot/iknp.ts';
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

function randomAlpha(rng: ReturnType<typeof seededTestRng>): bigint {
  return randomWords(rng, 1)[0];
}

describe('macCross: vector OLE with a fixed scalar (COPEe)', () => {
  async function check(parties: number, lengths: readonly number[], seed: string): Promise<void> {
    const g = group(parties, seed);
    const rng = seededTestRng(`${seed}-inputs`);
    // Edge scalars: 0 and 2^64 - 1 on the first two parties.
    const alphas = Array.from({ length: parties }, (_, i) => (i === 0 ? 2n ** 64n - 1n : i === 1 ? 0n : randomAlpha(rng)));
    try {
      for (const n of lengths) {
        const vs = Array.from({ length: parties }, () => [randomWords(rng, n), randomWords(rng, n)] as const);
        vs[0][0][0] = 2n ** 64n - 1n;
        vs[0][1][0] = 2n ** 64n - 1n;
        const out = await Promise.all(g.pres.map((p, i) => p.macCross(vs[i][0], vs[i][1], alphas[i])));
        for (let t = 0; t < n; t++) {
          let want = 0n;
          for (let i = 0; i < parties; i++) {
            for (let j = 0; j < parties; j++) if (i !== j) want += alphas[j] * join(vs[i][0], vs[i][1], t);
          }
          let got = 0n;
          for (const o of out) got += join(o.lo, o.hi, t);
          if (got % M128 !== want % M128) expect.fail(`n ${n}, item ${t}: shares sum to ${got % M128}, expected ${want % M128}`);
        }
      }
    } finally {
      g.close();
    }
  }

  it('2 parties, two calls with the same alpha: the shares sum to sum over i != j of alpha_j v_i mod 2^128', async () => {
    await check(2, [300, 77], 'cope-2');
  });

  it('3 parties, two calls, the second of two batches (16,385 items)', async () => {
    await check(3, [100, 2 ** 14 + 1], 'cope-3');
  }, 20_000);

  it('refuses another alpha after the first call, an alpha outside [0, 2^64) and mismatched lengths', async () => {
    const g = group(2, 'cope-alpha');
    try {
      const v = new BigUint64Array(4);
      await Promise.all(g.pres.map((p, i) => p.macCross(v, v, BigInt(i + 5))));
      const before = g.received.length;
      await expect(g.pres[0].macCross(v, v, 6n)).rejects.toThrow(/alpha must be the same on every call/);
      await expect(g.pres[0].macCross(v, v, 2n ** 64n)).rejects.toThrow(RangeError);
      await expect(g.pres[0].macCross(v, v, -1n)).rejects.toThrow(RangeError);
      await expect(g.pres[0].macCross(v, new BigUint64Array(3), 5n)).rejects.toThrow(/vLo and vHi must have the same length, got 4 and 3/);
      await expect(g.pres[0].macCross([0n] as unknown as BigUint64Array, v, 5n)).rejects.toThrow(TypeError);
      expect(g.received.length).toBe(before);
    } finally {
      g.close();
    }
  });

  // Party 0's view of party 1's values: the words of the messages u that party 1 sends (u_l = t0_l - t1_l + v_1)
  // for two very different secrets of party 1, every v_1 = 0 and every v_1 = 2^128 - 1, while party 0's alpha has
  // both 0 and 1 bits. Under uniformity each byte is uniform on 256 values (chi-square, 255 degrees of freedom),
  // checked over the whole message and over the most significant limb sent of every u_l alone. alpha = 1e-6 per check, 4
  // checks: false-failure rate below 4e-6, and the run is seeded (reproducible).
  it("party 0's received u's are uniform whatever party 1's v", async () => {
    const critical = chiSquareCritical(255, 1e-6);
    const g = group(2, 'cope-view');
    try {
      const alphas = [0x0123_4567_89ab_cdefn, 0xfedc_ba98_7654_3210n];
      const one = new BigUint64Array(1);
      await Promise.all(g.pres.map((p, i) => p.macCross(one, one, alphas[i])));
      for (const secret of [0n, 2n ** 64n - 1n]) {
        g.received.length = 0;
        const n = 256;
        const mine = randomWords(seededTestRng('cope-view-party-0'), 2 * n);
        const theirs = new BigUint64Array(n).fill(secret);
        const [s0, s1] = await Promise.all([
          g.pres[0].macCross(mine.subarray(0, n), mine.subarray(n), alphas[0]),
          g.pres[1].macCross(theirs, theirs, alphas[1]),
        ]);
        const s = join(theirs, theirs, 0);
        for (let t = 0; t < n; t++) {
          const want = (alphas[1] * join(mine.subarray(0, n), mine.subarray(n), t) + alphas[0] * s) % M128;
          expect((join(s0.lo, s0.hi, t) + join(s1.lo, s1.hi, t)) % M128).toBe(want);
        }
        // 64 corrections per item: 16 bytes for alpha's low 32 bits, 12 (the low 96 bits) for its high 32.
        expect(copeMessageBytes(n)).toBe(896 * n);
        expect(g.received.map((r) => r.bytes.length)).toEqual([896 * n]);
        const u = g.received[0].bytes;
        expect(byteUniformityStatistic(u)).toBeLessThan(critical);
        // The most significant limb sent of every u_l (where v's high word shows if the mask were short).
        const top = new Uint8Array(4 * 64 * n);
        for (let l = 0, k = 0; l < 64; l++) {
          for (let t = 0; t < n; t++, k += 4) {
            const at = l < 32 ? 16 * (n * l + t) + 12 : 512 * n + 12 * (n * (l - 32) + t) + 8;
            top.set(u.subarray(at, at + 4), k);
          }
        }
        expect(byteUniformityStatistic(top)).toBeLessThan(critical);
      }
    } finally {
      g.close();
    }
  });

  it('a short message from party 1 aborts party 0 with ProtocolAbortError naming party 1', async () => {
    const g = group(2, 'cope-short');
    try {
      const v = new BigUint64Array(4);
      await Promise.all(g.pres.map((p, i) => p.macCross(v, v, BigInt(i + 1))));
      const t1 = g.transports[1];
      const send = t1.send.bind(t1);
      t1.send = (peer, tag, bytes) => send(peer, tag, bytes.slice(0, bytes.length - 16));
      g.pres[1].macCross(v, v, 2n).catch(() => {});
      const e = (await g.pres[0].macCross(v, v, 1n).then(
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
});

describe('crossProductsShared128: several products sharing one choice operand, one OT extension', () => {
  function operands(rng: ReturnType<typeof seededTestRng>, n: number, K: number, yBits: 64 | 128) {
    const xs = Array.from({ length: K }, () => ({ lo: randomWords(rng, n), hi: randomWords(rng, n) }));
    const yLo = randomWords(rng, n);
    const yHi = yBits === 64 ? new BigUint64Array(n) : randomWords(rng, n);
    // Edge values: 2^128 - 1 for every x and the largest y of the width.
    for (const x of xs) {
      x.lo[0] = 2n ** 64n - 1n;
      x.hi[0] = 2n ** 64n - 1n;
    }
    yLo[0] = 2n ** 64n - 1n;
    if (yBits === 128) yHi[0] = 2n ** 64n - 1n;
    return { xs, yLo, yHi };
  }

  async function check(parties: number, n: number, K: number, widths: readonly (64 | 128)[], seed: string): Promise<void> {
    const g = group(parties, seed);
    const rng = seededTestRng(`${seed}-inputs`);
    try {
      for (const yBits of widths) {
        const inp = Array.from({ length: parties }, () => operands(rng, n, K, yBits));
        const out = await Promise.all(g.pres.map((p, i) => p.crossProductsShared128(inp[i].xs, inp[i].yLo, inp[i].yHi, yBits)));
        for (let k = 0; k < K; k++) {
          for (let t = 0; t < n; t++) {
            let want = 0n;
            for (let i = 0; i < parties; i++) {
              for (let j = 0; j < parties; j++) {
                if (i !== j) want += join(inp[i].xs[k].lo, inp[i].xs[k].hi, t) * join(inp[j].yLo, inp[j].yHi, t);
              }
            }
            let got = 0n;
            for (const o of out) got += join(o[k].lo, o[k].hi, t);
            if (got % M128 !== want % M128)
              expect.fail(`yBits ${yBits}, product ${k}, item ${t}: shares sum to ${got % M128}, expected ${want % M128}`);
          }
        }
      }
    } finally {
      g.close();
    }
  }

  it('2 parties, two products, yBits 64 then 128: each product sums to sum over i != j of x_i y_j mod 2^128', async () => {
    await check(2, 500, 2, [64, 128], 'shared-2');
  });

  it('3 parties, three products, yBits 128', async () => {
    await check(3, 300, 3, [128], 'shared-3');
  });

  it('2 parties, two products, yBits 128, 8,193 items: two OT batches give the same law', async () => {
    await check(2, 8193, 2, [128], 'shared-batches');
  }, 20_000);

  // The pads of the two products are independent: party 1 uses the same secret x for both, so with a shared pad
  // the two corrections d_0 = h1 - h0 - x and d_1 would be equal. Party 0 sees the extension columns, then both
  // corrections in one message; the words of d_0 - d_1 mod 2^128 must be uniform bytes (chi-square, 255 degrees
  // of freedom, alpha = 1e-6 per check, 2 checks: false-failure rate below 2e-6; seeded).
  it("party 0's view: one extension for both products, and their corrections are independent", async () => {
    const critical = chiSquareCritical(255, 1e-6);
    const g = group(2, 'shared-view');
    try {
      const one = new BigUint64Array(1);
      await Promise.all(g.pres.map((p) => p.crossProductsShared128([{ lo: one, hi: one }], one, one, 128)));
      const n = 128;
      const rng = seededTestRng('shared-view-inputs');
      const mine = operands(rng, n, 2, 128);
      for (const secret of [0n, 2n ** 64n - 1n]) {
        g.received.length = 0;
        const x = new BigUint64Array(n).fill(secret);
        const theirs = {
          xs: [
            { lo: x, hi: x },
            { lo: x, hi: x },
          ],
          y: randomWords(rng, n),
        };
        await Promise.all([
          g.pres[0].crossProductsShared128(mine.xs, mine.yLo, mine.yHi, 128),
          g.pres[1].crossProductsShared128(theirs.xs, theirs.y, theirs.y, 128),
        ]);
        const m = 128 * n;
        const dBytes = packedCorrectionBytes(128, n);
        // The extension columns (KOS_PADDING more OTs), the KOS check's seed and answer, then both corrections.
        expect(g.received.map((r) => r.bytes.length)).toEqual([
          (128 * (m + KOS_PADDING)) / 8,
          KOS_SEED_BYTES,
          KOS_ANSWER_BYTES,
          2 * dBytes,
        ]);
        const d = g.received[3].bytes;
        const d0 = unpackCorrections(d.subarray(0, dBytes), 128, n);
        const d1 = unpackCorrections(d.subarray(dBytes), 128, n);
        const diff = new BigUint64Array(2 * m);
        for (let j = 0; j < m; j++) {
          const v = (d0[2 * j] + (d0[2 * j + 1] << 64n) - (d1[2 * j] + (d1[2 * j + 1] << 64n)) + M128) % M128;
          diff[2 * j] = BigInt.asUintN(64, v);
          diff[2 * j + 1] = v >> 64n;
        }
        // Only the limbs sent: the dropped ones are 0 in both, and their difference is a borrow.
        expect(byteUniformityStatistic(packCorrections(diff, 128))).toBeLessThan(critical);
      }
    } finally {
      g.close();
    }
  });

  it('a short correction message from party 1 aborts party 0 with ProtocolAbortError naming party 1', async () => {
    const g = group(2, 'shared-short');
    try {
      const v = new BigUint64Array(4);
      const xs = [
        { lo: v, hi: v },
        { lo: v, hi: v },
      ];
      await Promise.all(g.pres.map((p) => p.crossProductsShared128(xs, v, v, 64)));
      const t1 = g.transports[1];
      const send = t1.send.bind(t1);
      let sent = 0;
      t1.send = (peer, tag, bytes) => send(peer, tag, sent++ === 3 ? bytes.slice(0, bytes.length - 16) : bytes);
      g.pres[1].crossProductsShared128(xs, v, v, 64).catch(() => {});
      const e = (await g.pres[0].crossProductsShared128(xs, v, v, 64).then(
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

  it('rejects no products, mismatched lengths, a bad product and yBits other than 64 or 128, before any message', async () => {
    const g = group(2, 'shared-bad');
    try {
      const pre = g.pres[0];
      const a = new BigUint64Array(3);
      await expect(pre.crossProductsShared128([], a, a, 64)).rejects.toThrow(/xs must be a non-empty array/);
      await expect(pre.crossProductsShared128([{ lo: a, hi: new BigUint64Array(2) }], a, a, 64)).rejects.toThrow(
        /xs\[0\]\.lo, xs\[0\]\.hi, yLo and yHi/,
      );
      await expect(pre.crossProductsShared128([{ lo: a, hi: a }], a, new BigUint64Array(2), 64)).rejects.toThrow(
        /yLo and yHi must have the same length/,
      );
      await expect(
        pre.crossProductsShared128([{ lo: a, hi: a }, null as unknown as { lo: BigUint64Array; hi: BigUint64Array }], a, a, 64),
      ).rejects.toThrow(TypeError);
      await expect(pre.crossProductsShared128([{ lo: a, hi: a }], a, a, 96 as 64)).rejects.toThrow(/yBits must be 64 or 128, got 96/);
      await expect(pre.crossProductsShared128([{ lo: a, hi: a }], a, BigUint64Array.of(0n, 1n, 0n), 64)).rejects.toThrow(
        /yHi\[1\] must be 0/,
      );
      expect(g.received.length).toBe(0);
    } finally {
      g.close();
    }
  });
});
