// Results equal plaintext within the fixed-point error, for random inputs over sizes, signs and magnitudes:
// both protocols, 2 to 5 parties for additive sharing. Sessions are reused within the file.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmpcSession } from '../src/index.ts';

const ULP = 2 ** -16;

const value = (max: number) => fc.double({ min: -max, max, noNaN: true, noDefaultInfinity: true });
const vectors = (max: number) =>
  fc
    .integer({ min: 1, max: 40 })
    .chain((n) => fc.tuple(fc.array(value(max), { minLength: n, maxLength: n }), fc.array(value(max), { minLength: n, maxLength: n })));

// Replicated sharing runs dealer-free by default; the dealer-backed variant stays covered.
const configs = [
  { parties: 3, protocol: 'replicated' as const, full: true },
  { parties: 3, protocol: 'replicated' as const, dealer: 'trusted' as const, full: false },
  { parties: 3, protocol: 'additive' as const, full: true },
  { parties: 2, protocol: 'additive' as const, full: false },
  { parties: 4, protocol: 'additive' as const, full: false },
  { parties: 5, protocol: 'additive' as const, full: false },
];

for (const cfg of configs) {
  const dealer = 'dealer' in cfg ? cfg.dealer : undefined;
  describe(`${cfg.protocol} sharing, ${cfg.parties} parties${dealer === undefined ? '' : `, dealer ${dealer}`}`, () => {
    let s: SmpcSession;
    beforeAll(async () => {
      // maxAbs 20,000: the comparison test draws values up to that (products of two such values still fit).
      s = await SmpcSession.start({ parties: cfg.parties, protocol: cfg.protocol, dealer, timeoutMs: 30_000, maxAbs: 20_000 });
    });
    afterAll(async () => {
      await s.close();
    });

    it('add, sub, mul, square, addPublic, mulPublic, sum match plaintext', async () => {
      await fc.assert(
        fc.asyncProperty(vectors(1000), fc.integer({ min: 0, max: cfg.parties - 1 }), value(30), async ([x, y], owner, k) => {
          const a = await s.share(owner, x);
          const b = await s.share((owner + 1) % cfg.parties, y);
          const outs = [s.add(a, b), s.sub(a, b), s.mul(a, b), s.square(a), s.addPublic(a, k), s.mulPublic(a, k), s.sum(a)];
          const [add, sub, mul, sq, ap, mp, sum] = await Promise.all(outs.map((o) => s.reveal(o)));
          const xr = x.map((v) => Math.round(v / ULP) * ULP);
          const yr = y.map((v) => Math.round(v / ULP) * ULP);
          const kr = Math.round(k / ULP) * ULP;
          for (let i = 0; i < x.length; i++) {
            expect(Math.abs(add[i] - (xr[i] + yr[i]))).toBeLessThanOrEqual(1e-9);
            expect(Math.abs(sub[i] - (xr[i] - yr[i]))).toBeLessThanOrEqual(1e-9);
            expect(Math.abs(mul[i] - xr[i] * yr[i])).toBeLessThanOrEqual(ULP);
            expect(Math.abs(sq[i] - xr[i] * xr[i])).toBeLessThanOrEqual(ULP);
            expect(Math.abs(ap[i] - (xr[i] + kr))).toBeLessThanOrEqual(1e-9);
            expect(Math.abs(mp[i] - xr[i] * kr)).toBeLessThanOrEqual(ULP);
          }
          expect(Math.abs(sum[0] - xr.reduce((p, v) => p + v, 0))).toBeLessThanOrEqual(1e-6);
          s.free(a, b, ...outs);
        }),
        { numRuns: cfg.full ? 6 : 3 },
      );
    });

    it('matmul, transpose and row sums match plaintext', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer(),
          async (m, k, n, seed) => {
            const rnd = (i: number): number => Math.sin(seed + i * 12.9898) * 20;
            const A = Float64Array.from({ length: m * k }, (_, i) => Math.round(rnd(i) * 256) / 256);
            const B = Float64Array.from({ length: k * n }, (_, i) => Math.round(rnd(i + 1000) * 256) / 256);
            // Declared bounds (|A|, |B| <= 20) let the dot products of up to 6 terms pass the range check.
            const a = await s.share(0, A, [m, k], { maxAbs: 20 });
            const b = await s.share(cfg.parties - 1, B, [k, n], { maxAbs: 20 });
            const c = s.matmul(a, b);
            const t = s.transpose(a);
            const rs = s.sum(a, 1);
            const cs = s.sum(a, 0);
            expect([c.rows, c.cols, t.rows, t.cols, rs.rows, cs.cols]).toEqual([m, n, k, m, m, k]);
            const [got, gt, grs, gcs] = await Promise.all([c, t, rs, cs].map((o) => s.reveal(o)));
            for (let i = 0; i < m; i++) {
              for (let j = 0; j < n; j++) {
                let want = 0;
                for (let q = 0; q < k; q++) want += A[i * k + q] * B[q * n + j];
                expect(Math.abs(got[i * n + j] - want)).toBeLessThanOrEqual(ULP);
              }
              let row = 0;
              for (let q = 0; q < k; q++) {
                expect(gt[q * m + i]).toBe(A[i * k + q]);
                row += A[i * k + q];
              }
              expect(grs[i]).toBeCloseTo(row, 9);
            }
            for (let q = 0; q < k; q++)
              expect(gcs[q]).toBeCloseTo(
                A.filter((_, i) => i % k === q).reduce((p, v) => p + v, 0),
                9,
              );
            s.free(a, b, c, t, rs, cs);
          },
        ),
        { numRuns: cfg.full ? 5 : 2 },
      );
    });

    it('lessThan and relu are exact away from ties; max and argmax find the maximum', async () => {
      await fc.assert(
        fc.asyncProperty(vectors(cfg.full ? 20_000 : 100), async ([x, y]) => {
          const a = await s.share(0, x);
          const b = await s.share(1 % cfg.parties, y);
          const lt = s.lessThan(a, b);
          const ltp = s.lessThan(a, 0.25);
          const r = s.relu(a);
          const [glt, gltp, gr] = await Promise.all([lt, ltp, r].map((o) => s.reveal(o)));
          const q = (v: number): number => Math.round(v / ULP) * ULP + 0; // + 0 turns -0 into 0
          for (let i = 0; i < x.length; i++) {
            expect(glt[i]).toBe(q(x[i]) < q(y[i]) ? 1 : 0);
            expect(gltp[i]).toBe(q(x[i]) < 0.25 ? 1 : 0);
            expect(gr[i]).toBe(Math.max(q(x[i]), 0));
          }
          if (cfg.full) {
            const mx = s.max(a);
            const am = s.argmax(a);
            const [gm, gam] = await Promise.all([s.reveal(mx), s.reveal(am)]);
            const xr = x.map(q);
            const best = Math.max(...xr);
            expect(gm[0]).toBe(best + 0);
            expect(gam.reduce((p, v) => p + v, 0)).toBe(1);
            expect(xr[gam.indexOf(1)]).toBe(best + 0);
            s.free(mx, am);
          }
          s.free(a, b, lt, ltp, r);
        }),
        { numRuns: cfg.full ? 5 : 2 },
      );
    });

    if (cfg.full) {
      it('row-wise max and argmax of a matrix', async () => {
        const X = Float64Array.of(1, 5, 3, -2, -7, -1, -3, -9, 4, 4, 0, 2, 8, 1, 1, 1, 2, 2);
        const x = await s.share(2, X, [3, 6]);
        const [m, am] = await Promise.all([s.reveal(s.max(x)), s.reveal(s.argmax(x))]);
        expect([...m]).toEqual([5, 4, 8]);
        expect([...am]).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
      });

      it('revealTo returns the value to one party only, and reveal to all', async () => {
        const x = await s.share(0, Float64Array.of(1, -2.5, 3));
        for (let p = 0; p < cfg.parties; p++) expect([...(await s.revealTo(p, x))]).toEqual([1, -2.5, 3]);
        expect([...(await s.reveal(x))]).toEqual([1, -2.5, 3]);
        s.free(x);
      });

      it('counts rounds and bytes per operation; preprocessing moves dealer work offline', async () => {
        const n = 1000;
        const x = await s.share(0, new Float64Array(n).fill(1.5));
        const y = await s.share(1, new Float64Array(n).fill(-2));
        await s.preprocess({ mul: n, lessThan: n });
        const offline = s.stats().offline;
        if (s.dealer === 'trusted') {
          expect(offline.requests).toBeGreaterThan(0);
          expect(offline.rounds).toBe(0);
        } else {
          // Dealer-free: the parties made the material among themselves, in the offline phase.
          expect(offline.requests).toBe(0);
          expect(offline.rounds).toBeGreaterThan(0);
          for (const b of offline.bytesPerParty) expect(b).toBeGreaterThan(0);
        }
        s.resetStats();
        const z = s.mul(x, y);
        const c = s.lessThan(x, y);
        await s.sync();
        const st = s.stats();
        // All material was already there: the online phase asked the dealer for nothing.
        expect(st.offline.requests).toBe(0);
        const mul = st.operations.mul;
        const lt = st.operations.lessThan;
        expect(mul.count).toBe(1);
        if (cfg.protocol === 'replicated') {
          expect(mul.rounds).toBe(1); // product and truncation share one opening
          for (const b of mul.bytesPerParty) expect(b).toBe(16 * n);
          expect(lt.rounds).toBe(8);
        } else {
          expect(mul.rounds).toBe(2); // Beaver opening, truncation opening
          for (const b of mul.bytesPerParty) expect(b).toBe(24 * n * (cfg.parties - 1));
          expect(lt.rounds).toBe(8);
        }
        expect([...(await s.reveal(z))].every((v) => v === -3)).toBe(true);
        s.free(x, y, z, c);

        // The plan covers composite operations exactly: nothing is ordered from the dealer online.
        const m = await s.share(2, new Float64Array(40 * 5).fill(0.5), [40, 5], { maxAbs: 1 });
        const w = await s.share(0, new Float64Array(5).fill(-1), [5, 1], { maxAbs: 1 });
        await s.preprocess({ sigmoid: 40, relu: 40, matmul: [{ m: 40, k: 5, n: 1 }] });
        s.resetStats();
        const logits = s.matmul(m, w);
        const outs = [logits, s.sigmoid(logits), s.relu(logits)];
        const [lg, sg, rl] = await Promise.all(outs.map((o) => s.reveal(o)));
        expect(s.stats().offline.requests).toBe(0);
        expect(lg.every((v) => v === -2.5)).toBe(true);
        expect(sg.every((v) => Math.abs(v - 1 / (1 + Math.exp(2.5))) < 5e-4)).toBe(true);
        expect(rl.every((v) => v === 0)).toBe(true);
        s.free(m, w, ...outs);
      });
    }
  });
}
