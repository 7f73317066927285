// Dealer-free additive sharing: the n parties make triples, AND triples, matrix triples, truncation pairs,
// edaBits and daBits themselves by oblivious transfer (base OT, IKNP, Gilboa). (1) Every operation equals
// plaintext within the documented bounds with 2, 3 and 5 parties and no dealer thread; (2) the generated
// material is correct when opened in-process; (3) one party's view of triple generation is uniform whatever
// the other party's inputs to the products.
import { describe, expect, it } from 'vitest';
import { seededTestRng } from '@ppml/core';
import { byteUniformityStatistic, chiSquareCritical } from '../../../test/support/stats.ts';
import { SmpcSession, logisticRegressionPredict } from '../src/index.ts';
import type { Material, MaterialRequest } from '../src/preprocessing.ts';
import { connectAll, setup } from './support/network.ts';
import { group } from './support/ot-group.ts';
import { F, SCALE, ring, ulpOffset } from './support/fixed-point.ts';

describe('additive sharing with no dealer (worker threads)', () => {
  for (const parties of [2, 3, 5]) {
    it(`${parties} parties: every operation matches plaintext, and no dealer thread exists`, async () => {
      const s = await SmpcSession.start({ parties, protocol: 'additive', dealer: 'none', maxAbs: 1000 });
      try {
        expect(s.dealer).toBe('none');
        expect(s.activeWorkers).toBe(parties);
        // Fewer elements with more parties: the OT work grows with the number of ordered pairs.
        const n = parties === 2 ? 96 : parties === 3 ? 48 : 16;
        const rng = seededTestRng(`dealer-free-additive-${parties}`);
        const raw = new Uint32Array(2 * n);
        rng.fillBytes(new Uint8Array(raw.buffer));
        const xs = Float64Array.from({ length: n }, (_, i) => ((raw[i] / 2 ** 32) * 2 - 1) * 10 ** ((i % 4) - 2) * 3);
        const ys = Float64Array.from({ length: n }, (_, i) => ((raw[n + i] / 2 ** 32) * 2 - 1) * 8);
        const x = await s.share(0, xs);
        const y = await s.share(parties - 1, ys);

        const p = await s.reveal(s.mul(x, y));
        for (let i = 0; i < n; i++) {
          const o = ulpOffset(p[i], ring(xs[i]) * ring(ys[i]));
          expect(o === 0n || o === 1n, `mul ${xs[i]} * ${ys[i]}: offset ${o}`).toBe(true);
        }
        const lt = await s.reveal(s.lessThan(x, y));
        for (let i = 0; i < n; i++) expect(lt[i]).toBe(ring(xs[i]) < ring(ys[i]) ? 1 : 0);
        const rl = await s.reveal(s.relu(y));
        for (let i = 0; i < n; i++) expect(Math.abs(rl[i] - Math.max(ys[i], 0))).toBeLessThanOrEqual(1 / SCALE);
        const sg = await s.reveal(s.sigmoid(y));
        for (let i = 0; i < n; i++) expect(Math.abs(sg[i] - 1 / (1 + Math.exp(-ys[i])))).toBeLessThanOrEqual(5e-4);
        const total = await s.reveal(s.sum(x));
        expect(Math.abs(total[0] - xs.reduce((a, v) => a + v, 0))).toBeLessThanOrEqual(n / SCALE);

        // (6 x 4) times (4 x 3): one truncation per output of the exact ring dot product.
        const A = Float64Array.from({ length: 24 }, (_, i) => ((i * 37) % 23) / 7 - 1.5);
        const B = Float64Array.from({ length: 12 }, (_, i) => ((i * 11) % 13) / 5 - 1.2);
        const P = await s.reveal(s.matmul(await s.share(0, A, [6, 4]), await s.share(1, B, [4, 3])));
        for (let r = 0; r < 6; r++) {
          for (let c = 0; c < 3; c++) {
            let z = 0n;
            for (let t = 0; t < 4; t++) z += ring(A[r * 4 + t]) * ring(B[t * 3 + c]);
            const o = ulpOffset(P[r * 3 + c], z);
            expect(o === 0n || o === 1n, `matmul [${r}, ${c}]: offset ${o}`).toBe(true);
          }
        }

        // Logistic-regression inference: sigmoid(X w + b) for 10 rows of 3 features.
        const X = Float64Array.from({ length: 30 }, (_, i) => ((i * 7) % 11) / 4 - 1.3);
        const w = Float64Array.of(0.8, -1.1, 0.4);
        const probs = await s.reveal(
          logisticRegressionPredict(s, await s.share(0, X, [10, 3]), await s.share(parties - 1, w, [3, 1]), await s.share(1, [0.25])),
        );
        for (let i = 0; i < 10; i++) {
          const z = 0.25 + w.reduce((a, v, j) => a + v * X[i * 3 + j], 0);
          expect(Math.abs(probs[i] - 1 / (1 + Math.exp(-z)))).toBeLessThan(0.002);
        }
        // The dealer-free offline phase sent no request to any dealer.
        expect(s.stats().offline.requests).toBe(0);
      } finally {
        await s.close();
      }
    }, 60_000);
  }

  it("dealer 'trusted' stays the default for additive sharing", async () => {
    const s = await SmpcSession.start({ parties: 2 });
    try {
      expect(s.dealer).toBe('trusted');
      expect(s.activeWorkers).toBe(3);
    } finally {
      await s.close();
    }
  });
});

describe('additive sharing with no dealer across processes (SmpcSession.connect over TLS)', () => {
  it('two parties and no dealer host: the handshake agrees on dealer-free preprocessing; mul and lessThan are right', async () => {
    const s = await setup(2, 'additive', false);
    expect(s.dealer).toBeNull();
    const settled = await connectAll(s, 'additive', (_, o) => o, 20_000);
    const sessions = settled.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    try {
      const xs = Float64Array.of(1.5, -2.25, 3, 0.125);
      const ys = Float64Array.of(4, 0.5, -1, -0.125);
      const out = await Promise.all(
        sessions.map(async (ss, me) => {
          expect(ss.dealer).toBe('none');
          const x = await ss.share(0, me === 0 ? xs : { rows: 4, cols: 1 });
          const y = await ss.share(1, me === 1 ? ys : { rows: 4, cols: 1 });
          return [await ss.reveal(ss.mul(x, y)), await ss.reveal(ss.lessThan(x, y))];
        }),
      );
      for (const [prod, lt] of out) {
        expect([...prod]).toEqual([6, -1.125, -3, -0.015625]);
        expect([...lt]).toEqual([1, 1, 0, 0]);
      }
    } finally {
      await Promise.all(sessions.map((ss) => ss.close()));
    }
  }, 30_000);
});

// ---- the generated material, n parties in this thread ----

function open(ms: Material[], name: string, isXor: boolean): BigUint64Array {
  const parts = ms.map((m) => (m.fields.get(name) as BigUint64Array[])[0]);
  const out = new BigUint64Array(parts[0].length);
  for (const p of parts) for (let i = 0; i < out.length; i++) out[i] = isXor ? out[i] ^ p[i] : out[i] + p[i];
  return out;
}

describe('dealer-free additive material (parties in this thread)', () => {
  for (const parties of [2, 3]) {
    it(`${parties} parties: every kind, opened, has the dealer's semantics`, async () => {
      const g = group(parties, `material-${parties}`);
      try {
        const gen = (req: MaterialRequest): Promise<Material[]> => Promise.all(g.pres.map((p) => p.generate(req)));
        const n = 1024;
        let ms = await gen({ key: 'triple', kind: 'triple', count: n });
        let a = open(ms, 'a', false);
        let b = open(ms, 'b', false);
        let c = open(ms, 'c', false);
        for (let i = 0; i < n; i++) expect(c[i]).toBe(BigInt.asUintN(64, a[i] * b[i]));

        ms = await gen({ key: 'andTriple', kind: 'andTriple', count: n });
        a = open(ms, 'a', true);
        b = open(ms, 'b', true);
        c = open(ms, 'c', true);
        for (let i = 0; i < n; i++) expect(c[i]).toBe(a[i] & b[i]);

        ms = await gen({ key: 'mm:3x4x2', kind: 'matTriple', count: 3, m: 3, k: 4, n: 2 });
        a = open(ms, 'a', false);
        b = open(ms, 'b', false);
        c = open(ms, 'c', false);
        for (let t = 0; t < 3; t++) {
          for (let p = 0; p < 3; p++) {
            for (let q = 0; q < 2; q++) {
              let z = 0n;
              for (let r = 0; r < 4; r++) z += a[t * 12 + p * 4 + r] * b[t * 8 + r * 2 + q];
              expect(c[t * 6 + p * 2 + q]).toBe(BigInt.asUintN(64, z));
            }
          }
        }

        const m = 300;
        ms = await gen({ key: 'edabit', kind: 'edabit', count: m });
        const r = open(ms, 'r', false);
        const sv = open(ms, 's', true);
        for (let i = 0; i < m; i++) expect(sv[i]).toBe(BigInt.asUintN(64, -r[i]));

        ms = await gen({ key: 'dabit', kind: 'dabit', count: m });
        const da = open(ms, 'a', false);
        expect(da).toEqual(open(ms, 'x', true));
        expect(da.every((v) => v === 0n || v === 1n)).toBe(true);

        ms = await gen({ key: `trunc:${F}`, kind: 'trunc', count: m, shift: F });
        const rr = open(ms, 'r', false);
        const hi = open(ms, 'hi', false);
        const lo = open(ms, 'lo', false);
        for (let i = 0; i < m; i++) {
          expect(hi[i]).toBe(rr[i] >> 63n);
          expect(lo[i]).toBe((rr[i] & ((1n << 63n) - 1n)) >> BigInt(F));
        }
      } finally {
        g.close();
      }
    }, 30_000);
  }

  // Party 0's view of the products x_1 * y_1 with party 1 (the IKNP columns u, which carry party 1's choice bits
  // y_1, and the Gilboa corrections d, which carry x_1) for two very different secrets of party 1: all zeros and
  // all ones. Under uniformity each byte is uniform on 256 values (chi-square, 255 degrees of freedom);
  // alpha = 1e-6 per check, 4 checks: false-failure rate below 4e-6, and the run is seeded (reproducible).
  it("one party's view of triple generation is uniform whatever the other party's inputs", async () => {
    const critical = chiSquareCritical(255, 1e-6);
    for (const secret of [0n, 2n ** 64n - 1n]) {
      const g = group(2, 'view');
      try {
        // Base OTs first (their points are not uniform bytes), then the products under test.
        await Promise.all(g.pres.map((p) => p.generate({ key: 'triple', kind: 'triple', count: 1 })));
        g.received.length = 0;
        const n = 512;
        const mine = new BigUint64Array(n);
        seededTestRng('view-party-0').fillBytes(new Uint8Array(mine.buffer));
        const theirs = new BigUint64Array(n).fill(secret);
        const [s0, s1] = await Promise.all([g.pres[0].crossProducts(mine, mine, false), g.pres[1].crossProducts(theirs, theirs, false)]);
        // The products are right: s0 + s1 = x_0 y_1 + x_1 y_0.
        for (let i = 0; i < n; i++) expect(BigInt.asUintN(64, s0[i] + s1[i])).toBe(BigInt.asUintN(64, 2n * mine[i] * secret));
        expect(g.received.length).toBe(2);
        for (const { bytes } of g.received) {
          expect(byteUniformityStatistic(bytes)).toBeLessThan(critical);
        }
      } finally {
        g.close();
      }
    }
  });
});
