// The KOS consistency check of IKNP extension (Keller, Orsini and Scholl, CRYPTO 2015, Fig. 7): the GF(2^128)
// arithmetic it runs on, against the field laws and GCM's GHASH, the check at the level of one sender and
// receiver (an inconsistent column is caught exactly when the sender's base-OT choice bit for it is 1, the
// bound KOS proves: a cheating receiver learns one bit of s at the risk 1/2 of being caught), and the checked
// cross products over Z_2^128 between parties in this thread.
import fc from 'fast-check';
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seededTestRng } from '@ppml/core';
import { ProtocolAbortError } from '../src/errors.ts';
import { fromGcmBlock, gcmMul, gfMul, gfMulX, ghashSum, toGcmBlock } from '../src/ot/gf128.ts';
import { IknpReceiver, IknpSender, KAPPA, KOS_ANSWER_BYTES, KOS_PADDING, KOS_SEED_BYTES } from '../src/ot/iknp.ts';
import { group } from './support/ot-group.ts';

const M128 = 1n << 128n;
const element = fc.uint32Array({ minLength: 4, maxLength: 4 });
const xor = (a: Uint32Array, b: Uint32Array): Uint32Array => a.map((v, i) => v ^ b[i]);
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

describe('GF(2^128) on 32-bit words', () => {
  it('is a commutative ring with 1, x * a is gfMulX, and the GCM block conversion is a bijection', () => {
    const one = Uint32Array.of(1, 0, 0, 0);
    fc.assert(
      fc.property(element, element, element, (a, b, c) => {
        expect(gfMul(a, b)).toEqual(gfMul(b, a));
        expect(gfMul(gfMul(a, b), c)).toEqual(gfMul(a, gfMul(b, c)));
        expect(gfMul(a, xor(b, c))).toEqual(xor(gfMul(a, b), gfMul(a, c)));
        expect(gfMul(a, one)).toEqual(a);
        const ax = a.slice();
        gfMulX(ax);
        expect(gfMul(a, Uint32Array.of(2, 0, 0, 0))).toEqual(ax);
        expect(fromGcmBlock(toGcmBlock(a))).toEqual(a);
      }),
      { seed: 11, numRuns: 200 },
    );
  });

  it('every nonzero element has an inverse: a^(2^128 - 2) (Fermat), so a * that is 1', () => {
    fc.assert(
      fc.property(element, (a) => {
        fc.pre(a.some((v) => v !== 0));
        // a^(2^128 - 2) = prod over k = 1..127 of a^(2^k): square and multiply.
        let sq: Uint32Array = a.slice();
        let inv: Uint32Array = Uint32Array.of(1, 0, 0, 0);
        for (let k = 1; k < 128; k++) {
          sq = gfMul(sq, sq);
          inv = gfMul(inv, sq);
        }
        expect(gfMul(a, inv)).toEqual(Uint32Array.of(1, 0, 0, 0));
      }),
      { seed: 12, numRuns: 5 },
    );
  });

  // GCM Test Case 2 (McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)", 2005, Appendix B, also in
  // NIST's GCM test vectors): K = 0^128, IV = 0^96, P = 0^128, H = 66e94bd4..., C = 0388dace..., and
  // GHASH(H, {}, C) = f38cbb1a... = ((C H) + L) H with the length block L = 0^64 || [128]_64.
  it('reproduces GHASH of GCM Test Case 2', () => {
    const h = hex('66e94bd4ef8a2c3b884cfa59ca342b2e');
    const c = hex('0388dace60b6a392f328c2b971b2fe78');
    const len = hex('00000000000000000000000000000080');
    const x1 = gcmMul(c, h);
    const x2 = gcmMul(
      x1.map((v, i) => v ^ len[i]),
      h,
    );
    expect(Buffer.from(x2).toString('hex')).toBe('f38cbb1ad69223dcc3457ae5b6b0f885');
  });

  it('ghashSum(key, A) = sum_j A_j H^(n + 2 - j) with H = AES_key(0), by Horner in gcmMul', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 6 }), fc.integer(), (key, n, salt) => {
        const data = new Uint8Array(16 * n);
        seededTestRng(`ghash-${salt}`).fillBytes(data);
        const h = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(new Uint8Array(16));
        // Horner: ((A_1 H + A_2) H + ... + A_n) H^2.
        let acc: Uint8Array = new Uint8Array(16);
        for (let j = 0; j < n; j++) acc = gcmMul(acc, h).map((v, i) => v ^ data[16 * j + i]);
        acc = gcmMul(gcmMul(acc, h), h);
        expect(ghashSum(key, data)).toEqual(acc);
      }),
      { seed: 13, numRuns: 40 },
    );
  });

  it('rejects elements of the wrong size and data that is not whole blocks', () => {
    expect(() => gfMul(new Uint32Array(3), new Uint32Array(4))).toThrow(RangeError);
    expect(() => fromGcmBlock(new Uint8Array(15))).toThrow(/16 bytes, got 15/);
    expect(() => ghashSum(new Uint8Array(16), new Uint8Array(17))).toThrow(/whole 16-byte blocks/);
    expect(() => ghashSum(new Uint8Array(8), new Uint8Array(16))).toThrow(/key must be 16 bytes/);
  });
});

/** A receiver and a sender joined by the base-OT keys of a seeded run (the base OTs themselves are elsewhere). */
function pairOfEnds(seed: string): { receiver: IknpReceiver; sender: IknpSender; s: Uint8Array } {
  const rng = seededTestRng(seed);
  const key = (): Uint8Array => {
    const k = new Uint8Array(16);
    rng.fillBytes(k);
    return k;
  };
  const k0 = Array.from({ length: KAPPA }, key);
  const k1 = Array.from({ length: KAPPA }, key);
  const s = new Uint8Array(KAPPA);
  rng.fillBytes(s);
  for (let i = 0; i < KAPPA; i++) s[i] &= 1;
  return {
    receiver: new IknpReceiver(k0, k1),
    sender: new IknpSender(
      s,
      k0.map((k, i) => (s[i] === 1 ? k1[i] : k)),
    ),
    s,
  };
}

describe('checked IKNP extension, one sender and one receiver', () => {
  const m = 1024;
  const choicesOf = (seed: string): Uint8Array => {
    const c = new Uint8Array(m / 8);
    seededTestRng(seed).fillBytes(c);
    return c;
  };

  it('an honest batch passes, its rows are the m real OTs (q_j = t_j + r_j s), and unchecked batches interleave', () => {
    const { receiver, sender, s } = pairOfEnds('kos-honest');
    for (const checked of [true, false, true]) {
      const choices = choicesOf(`kos-honest-${checked}`);
      let tRows: Uint32Array;
      let qRows: Uint32Array;
      if (checked) {
        const r = receiver.extendRows(choices, m, { checked: true });
        expect(r.u.byteLength).toBe((KAPPA * (m + KOS_PADDING)) / 8);
        const q = sender.extendRows(r.u, m, 1, { checked: true });
        expect(q.seed.byteLength).toBe(KOS_SEED_BYTES);
        const answer = r.answer(q.seed);
        expect(answer.byteLength).toBe(KOS_ANSWER_BYTES);
        q.verify(answer);
        [tRows, qRows] = [r.rows, q.rows];
      } else {
        const r = receiver.extendRows(choices, m);
        [tRows, qRows] = [r.rows, sender.extendRows(r.u, m, 1)];
      }
      expect(tRows.length).toBe(4 * m);
      expect(qRows.length).toBe(4 * m);
      for (let j = 0; j < m; j++) {
        const rj = (choices[j >>> 3] >>> (j & 7)) & 1;
        for (let i = 0; i < KAPPA; i++) {
          const q = (qRows[4 * j + (i >>> 5)] >>> (i & 31)) & 1;
          const t = (tRows[4 * j + (i >>> 5)] >>> (i & 31)) & 1;
          if (q !== (t ^ (rj & s[i]))) expect.fail(`row ${j}, bit ${i}: q ${q}, t ${t}, r ${rj}, s ${s[i]}`);
        }
      }
    }
  });

  // A receiver that flips bit j of column i of u uses choice bit r_j + 1 in column i only: q_j changes by s_i in
  // bit i, which the check sees unless s_i = 0 (then nothing changed on the sender's side and the pads are the
  // honest ones). Both cases, on one column each.
  it('one flipped bit of one column of u aborts naming the peer when the sender holds s_i = 1, and changes nothing when s_i = 0', () => {
    const { receiver, sender, s } = pairOfEnds('kos-flip');
    const bytesPerColumn = (m + KOS_PADDING) / 8;
    for (const si of [1, 0]) {
      const column = s.indexOf(si);
      const r = receiver.extendRows(choicesOf(`kos-flip-${si}`), m, { checked: true });
      r.u[column * bytesPerColumn + 37] ^= 0x10;
      const q = sender.extendRows(r.u, m, 3, { checked: true });
      const answer = r.answer(q.seed);
      if (si === 0) {
        q.verify(answer);
        continue;
      }
      const e = (() => {
        try {
          q.verify(answer);
          return null;
        } catch (err) {
          return err;
        }
      })() as ProtocolAbortError;
      expect(e).toBeInstanceOf(ProtocolAbortError);
      expect(e.party).toBe(3);
      expect(e.message).toMatch(/consistency check failed: party 3 sent inconsistent/);
      expect(e.cause).toBeInstanceOf(Error);
    }
  });

  it('a wrong answer or one for another seed aborts; bad options and a short seed are refused', () => {
    const { receiver, sender } = pairOfEnds('kos-answer');
    const r = receiver.extendRows(choicesOf('kos-answer'), m, { checked: true });
    const q = sender.extendRows(r.u, m, 2, { checked: true });
    const other = q.seed.map((v) => v ^ 1);
    expect(() => q.verify(r.answer(other))).toThrow(ProtocolAbortError);
    expect(() => q.verify(new Uint8Array(KOS_ANSWER_BYTES - 1))).toThrow(/answer from party 2 has a wrong size/);
    expect(() => r.answer(new Uint8Array(8))).toThrow(/seed must be 16 bytes/);
    // An unchecked u (m OTs) where a checked one is expected is a wrong size.
    expect(() => sender.extendRows(new Uint8Array((KAPPA * m) / 8), m, 2, { checked: true })).toThrow(ProtocolAbortError);
    expect(() => receiver.extendRows(choicesOf('x'), m, { checked: false } as unknown as { checked: true })).toThrow(TypeError);
    expect(() => receiver.extendRows(choicesOf('x'), m, { checked: true, extra: 1 } as unknown as { checked: true })).toThrow(TypeError);
  });
});

describe('checked cross products over Z_2^128 (parties in this thread)', () => {
  const join = (lo: BigUint64Array, hi: BigUint64Array, t: number): bigint => lo[t] + (hi[t] << 64n);
  const words = (rng: ReturnType<typeof seededTestRng>, n: number): BigUint64Array => {
    const a = new BigUint64Array(n);
    rng.fillBytes(new Uint8Array(a.buffer));
    return a;
  };

  for (const parties of [2, 3]) {
    it(`${parties} parties: honest runs pass the check and the shares sum to sum over i != j of x_i y_j`, async () => {
      const g = group(parties, `kos-cross-${parties}`);
      try {
        const rng = seededTestRng(`kos-cross-inputs-${parties}`);
        const n = 100;
        for (const yBits of [64, 128] as const) {
          const inp = Array.from({ length: parties }, () => [
            words(rng, n),
            words(rng, n),
            words(rng, n),
            yBits === 64 ? new BigUint64Array(n) : words(rng, n),
          ]);
          const out = await Promise.all(g.pres.map((p, i) => p.crossProducts128(inp[i][0], inp[i][1], inp[i][2], inp[i][3], yBits)));
          for (let t = 0; t < n; t++) {
            let want = 0n;
            for (let i = 0; i < parties; i++) {
              for (let j = 0; j < parties; j++) if (i !== j) want += join(inp[i][0], inp[i][1], t) * join(inp[j][2], inp[j][3], t);
            }
            let got = 0n;
            for (const o of out) got += join(o.lo, o.hi, t);
            if (got % M128 !== want % M128) expect.fail(`yBits ${yBits}, item ${t}`);
          }
        }
      } finally {
        g.close();
      }
    }, 10_000);
  }

  // Party 1, as receiver towards party 0, flips bit 0 (OT 0) of every column of its u: caught unless party 0's s
  // is all zeros (probability 2^-128); one flipped column alone is caught with probability 1/2 over s (tested
  // above on a known s). Or it alters its answer to party 0's check. Party 0 sends party 1 its own u, its seed
  // and its answer, and no correction: the check comes before them.
  for (const [what, target, flip] of [
    [
      'one bit in every column of u',
      0,
      (u: Uint8Array): void => {
        const per = u.byteLength / KAPPA;
        for (let i = 0; i < KAPPA; i++) u[i * per] ^= 0x01;
      },
    ],
    [
      'its answer to the check',
      2,
      (a: Uint8Array): void => {
        a[20] ^= 0x80;
      },
    ],
  ] as const) {
    it(`3 parties: party 1 altering ${what} aborts party 0 with ProtocolAbortError naming party 1, before any correction`, async () => {
      const g = group(3, `kos-tamper-${target}`);
      try {
        const v = new BigUint64Array(64).fill(7n);
        await Promise.all(g.pres.map((p) => p.crossProducts128(v, v, v, v, 128)));
        const [t0, t1] = g.transports;
        const send1 = t1.send.bind(t1);
        let toZero = 0;
        t1.send = (peer, tag, bytes) => {
          // Party 1's messages to party 0 per batch: u (as receiver), seed (as sender), answer (as receiver), d.
          if (peer === 0 && toZero++ === target) flip(bytes);
          send1(peer, tag, bytes);
        };
        const send0 = t0.send.bind(t0);
        const toOne: number[] = [];
        t0.send = (peer, tag, bytes) => {
          if (peer === 1) toOne.push(bytes.byteLength);
          send0(peer, tag, bytes);
        };
        for (const p of [g.pres[1], g.pres[2]]) p.crossProducts128(v, v, v, v, 128).catch(() => {});
        const e = (await g.pres[0].crossProducts128(v, v, v, v, 128).then(
          () => null,
          (err: unknown) => err,
        )) as ProtocolAbortError;
        expect(e).toBeInstanceOf(ProtocolAbortError);
        expect(e.party).toBe(1);
        expect(e.message).toMatch(/consistency check failed: party 1 sent inconsistent/);
        expect(toOne).toEqual([(KAPPA * (128 * 64 + KOS_PADDING)) / 8, KOS_SEED_BYTES, KOS_ANSWER_BYTES]);
      } finally {
        g.close();
      }
    }, 10_000);
  }
});
