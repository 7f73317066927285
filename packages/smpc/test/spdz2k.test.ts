// Malicious security with abort for additive sharing among n parties (SPDZ2k, `protocols/spdz2k.ts`): (1) the
// authenticated material itself: triples, random bits, and a tampered triple caught by the sacrifice; (2) every
// operation equals plaintext for 2 to 5 parties; (3) a fault-injection sweep: for each operation a party adds an
// error to one message it sends, flips a bit of it, or opens a wrong share, and every run aborts with
// ProtocolAbortError before any value is revealed; (4) parties across processes over TLS; (5) options.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededTestRng } from '@ppml/core';
import { ProtocolAbortError, SmpcSession, type FaultInjection, type SecretTensor } from '../src/index.ts';
import { MaterialPool } from '../src/preprocessing.ts';
import { AdditiveProtocol } from '../src/protocols/additive.ts';
import { AdditivePreprocessing } from '../src/protocols/additive-preprocessing.ts';
import { Channel } from '../src/protocols/protocol.ts';
import { Spdz2kProtocol } from '../src/protocols/spdz2k.ts';
import { MessagePortTransport } from '../src/transport/message-port.ts';
import { connectAll, setup } from './support/network.ts';
import { SCALE, ring, ulpOffset } from './support/fixed-point.ts';
import { expectExactOrOneUlpProducts, expectMaliciousWithoutDealer } from './support/products.ts';
import { sweepCases, sweepFailures, type SweepOp } from './support/sweep.ts';

/** n SPDZ2k parties in this thread (MessageChannels), every random choice from seeded generators. */
function inThread(n: number, seed: string): { transports: MessagePortTransport[]; channels: Channel[]; protos: Spdz2kProtocol[] } {
  const ports: (MessagePort | null)[][] = Array.from({ length: n }, () => Array<MessagePort | null>(n).fill(null));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const ch = new MessageChannel();
      ports[i][j] = ch.port1;
      ports[j][i] = ch.port2;
    }
  }
  const transports = ports.map((p, i) => new MessagePortTransport(i, p));
  const channels = transports.map((t) => new Channel(t, new MaterialPool(null)));
  const protos = channels.map((ch, i) => {
    const pre = new AdditivePreprocessing(ch, new AdditiveProtocol(ch), seededTestRng(`${seed}-ot-${i}`));
    return new Spdz2kProtocol(ch, pre, seededTestRng(`${seed}-${i}`));
  });
  return { transports, channels, protos };
}

/** Runs f on every party; on the first failure closes the links so that no party waits forever. */
async function all<T>(g: { transports: MessagePortTransport[] }, f: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(
    g.transports.map((_, i) =>
      f(i).catch((e: unknown) => {
        for (const t of g.transports) t.fail(e instanceof Error ? e : new Error(String(e)));
        throw e;
      }),
    ),
  );
}

function values<T>(r: PromiseSettledResult<T>[]): T[] {
  return r.map((x) => {
    if (x.status === 'rejected') throw x.reason;
    return x.value;
  });
}

describe('SPDZ2k material (parties in this thread)', () => {
  it('random bits are 0 or 1 and balanced (chi-square, seeded; false-failure rate 1e-6)', async () => {
    const g = inThread(3, 'spdz2k-bits');
    try {
      const n = 2048;
      await all(g, (i) => g.protos[i].prepareTriples(n, 0));
      // The bits are consumed in order by a comparison's masked opening; take them through a product with a
      // public 1 instead: open (bit) directly via the protocol's reveal path.
      const opened = values(
        await all(g, async (i) => {
          const p = g.protos[i];
          const v = await p.open(await p.randomBits(n), false);
          await p.verify();
          return v;
        }),
      );
      for (const v of opened) expect(v).toEqual(opened[0]);
      let ones = 0;
      for (const b of opened[0]) {
        expect(b === 0n || b === 1n).toBe(true);
        if (b === 1n) ones++;
      }
      // Chi-square with 1 degree of freedom: 23.9 is its 1 - 1e-6 quantile.
      const chi = (ones - n / 2) ** 2 / (n / 2) + (n - ones - n / 2) ** 2 / (n / 2);
      expect(chi).toBeLessThan(23.9);
    } finally {
      for (const t of g.transports) t.close();
    }
  }, 60_000);

  it('triples open to c = a b mod 2^128; altered extension columns are caught by the KOS check, an altered Gilboa correction by the sacrifice', async () => {
    const g = inThread(3, 'spdz2k-triples');
    try {
      const n = 300;
      const xs = Array.from({ length: n }, (_, i) => BigInt.asUintN(64, BigInt(i * 7919 - 1000) << 16n));
      const ys = Array.from({ length: n }, (_, i) => BigInt.asUintN(64, BigInt(3 - (i % 7)) << 16n));
      const got = values(
        await all(g, async (i) => {
          const p = g.protos[i];
          const x = await p.input(0, i === 0 ? BigUint64Array.from(xs) : null, n);
          const y = await p.input(1, i === 1 ? BigUint64Array.from(ys) : null, n);
          const z = await p.mul(x, y);
          await p.verify();
          const v = await p.open(z, false);
          await p.verify();
          return v;
        }),
      );
      for (const v of got) for (let i = 0; i < n; i++) expect(v[i]).toBe(BigInt.asUintN(64, xs[i] * ys[i]));
    } finally {
      for (const t of g.transports) t.close();
    }
    // With two parties, party 1 alters one of its messages of the triples' offline phase: the extension columns
    // u (its first send, caught by the KOS check) or the Gilboa corrections (its fourth, after u, the KOS seed
    // and answer: caught by the sacrifice or a MAC check, unless the receiver's choice bit leaves the altered
    // correction unused: then nothing changes). Several seeds, so that both cases occur.
    const outcomes: string[] = [];
    const runs: [number, number][] = [0, 1, 2, 3, 4, 5].map((k) => [0, k]);
    for (const k of [0, 1, 2, 3]) runs.push([3, k]);
    for (const [skip, seed] of runs) {
      const h = inThread(2, `spdz2k-bad-triple-${skip}-${seed}`);
      try {
        await all(h, (i) => h.protos[i].prepareTriples(0, 4));
        h.channels[1].tamper = { kind: 'addError', skip };
        const r = await all(h, async (i) => {
          await h.protos[i].prepareTriples(0, 1024);
          await h.protos[i].verify();
        });
        const reasons = r.filter((x) => x.status === 'rejected').map((x) => (x as PromiseRejectedResult).reason as Error);
        const first = reasons.find((e) => e instanceof ProtocolAbortError && /check failed/.test(e.message));
        outcomes.push(reasons.length === 0 ? 'none' : first ? first.message.replace(/^.*?check failed: /, '') : String(reasons[0]));
      } finally {
        for (const t of h.transports) t.close();
      }
    }
    const us = outcomes.slice(0, 6);
    for (const o of us) expect(o).toMatch(/^(none|party 1 sent inconsistent extension columns.*)$/);
    expect(us.some((o) => o !== 'none')).toBe(true);
    const ds = outcomes.slice(6);
    for (const o of ds) expect(o).toMatch(/^(none|a triple failed its sacrifice check|a MAC check.*)$/);
    expect(ds.some((o) => o === 'a triple failed its sacrifice check')).toBe(true);
  }, 60_000);
});

describe('additive sharing with malicious security (SPDZ2k, worker threads)', () => {
  let s: SmpcSession;
  beforeAll(async () => {
    s = await SmpcSession.start({ parties: 3, protocol: 'additive', security: 'malicious', maxAbs: 1000 });
  });
  afterAll(async () => {
    await s.close();
  });

  it('reports its mode and needs no dealer', async () => {
    await expectMaliciousWithoutDealer(s);
  });

  it('mul and matmul: exact-or-one-ulp against the ring product of the encoded inputs', async () => {
    await expectExactOrOneUlpProducts(s, 'spdz2k-mul', 200);
  }, 120_000);

  it('linear operations, lessThan, relu and max are exact; sigmoid, exp and reciprocal within their documented errors', async () => {
    const n = 24;
    const xs = Float64Array.from({ length: n }, (_, i) => (i - n / 2) / 3 + (i % 3 === 0 ? 1 / SCALE : 0));
    const ys = Float64Array.from({ length: n }, (_, i) => ((i * 7919) % 200) / 10 - 10);
    const x = await s.share(0, xs);
    const y = await s.share(2, ys);
    const lin = await s.reveal(s.sub(s.add(s.neg(x), y), s.addPublic(x, 1.5)));
    for (let i = 0; i < n; i++) expect(lin[i]).toBeCloseTo(-xs[i] + ys[i] - (xs[i] + 1.5), 4);
    const total = await s.reveal(s.sum(x));
    expect(total[0]).toBeCloseTo(
      xs.reduce((a, b) => a + b, 0),
      3,
    );
    const lt = await s.reveal(s.lessThan(x, y));
    for (let i = 0; i < n; i++) expect(lt[i]).toBe(ring(xs[i]) < ring(ys[i]) ? 1 : 0);
    const relu = await s.reveal(s.relu(x));
    for (let i = 0; i < n; i++) expect(relu[i]).toBe(Math.max(0, Number(ring(xs[i])) / SCALE));
    const sg = await s.reveal(s.sigmoid(x));
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(sg[i] - 1 / (1 + Math.exp(-xs[i]))));
    expect(worst).toBeLessThan(5e-4);
    const small = Float64Array.from({ length: 7 }, (_, i) => -3 + i);
    const e = await s.reveal(s.exp(await s.share(1, small, [small.length, 1], { maxAbs: 3 })));
    for (let i = 0; i < small.length; i++) expect(Math.abs(e[i] - Math.exp(small[i])) / Math.exp(small[i])).toBeLessThan(5e-3);
    const pos = Float64Array.from({ length: 6 }, (_, i) => 0.5 + i / 2);
    const rec = await s.reveal(s.reciprocal(await s.share(1, pos, [pos.length, 1], { min: 0.5, max: 3 })));
    for (let i = 0; i < pos.length; i++) expect(Math.abs(rec[i] * pos[i] - 1)).toBeLessThan(5e-3);
    const grid = Float64Array.from({ length: 12 }, (_, i) => ((i * 5) % 12) - 6.5);
    const gm = await s.share(0, grid, [3, 4]);
    expect(Array.from(await s.reveal(s.max(gm)))).toEqual([3.5, 4.5, 2.5]);
    const mine = await s.revealTo(2, s.mulPublic(x, 2));
    for (let i = 0; i < n; i++) expect(mine[i]).toBeCloseTo(2 * xs[i], 4);
    s.free(x, y, gm);
  }, 240_000);

  it('preprocess makes the material offline; online a product costs its Beaver opening and one masked opening', async () => {
    const n = 100;
    const x = await s.share(0, new Float64Array(n).fill(1.5));
    const y = await s.share(1, new Float64Array(n).fill(-2));
    await s.preprocess({ mul: n });
    s.resetStats();
    const z = s.mul(x, y);
    await s.sync();
    const mul = s.stats().operations.mul;
    // Round 1: (x - a, y - b), 2 elements of 16 bytes to each of 2 peers; round 2: the truncation's masked
    // opening, 1 element. 96 bytes per element per peer pair against 16 for semi-honest additive sharing.
    expect(mul.rounds).toBe(2);
    for (const bytes of mul.bytesPerParty) expect(bytes).toBe(3 * 16 * 2 * n);
    expect([...(await s.reveal(z))].every((v) => v === -3)).toBe(true);
    // A comparison: the masked opening, 6 rounds of (generate, propagate) compositions (124 products, 248
    // opened elements) and the final product: 8 rounds, 251 elements of 16 bytes to each of 2 peers.
    const m = 20;
    const xs = await s.share(
      0,
      Float64Array.from({ length: m }, (_, i) => i - 10),
    );
    await s.preprocess({ lessThan: m });
    s.resetStats();
    const lt = s.lessThan(xs, 0.5);
    await s.sync();
    const cmp = s.stats().operations.lessThanPublic;
    expect(cmp.rounds).toBe(8);
    for (const bytes of cmp.bytesPerParty) expect(bytes).toBe(251 * 16 * 2 * m);
    expect(Array.from(await s.reveal(lt))).toEqual(Array.from({ length: m }, (_, i) => (i - 10 < 0.5 ? 1 : 0)));
    s.free(x, y, z, xs, lt);
  }, 120_000);
});

describe('SPDZ2k with 2, 4 and 5 parties', () => {
  for (const parties of [2, 4, 5]) {
    it(`${parties} parties: products and comparisons equal plaintext`, async () => {
      const s = await SmpcSession.start({ parties, protocol: 'additive', security: 'malicious', maxAbs: 100 });
      try {
        const xs = Float64Array.of(1.5, -2.25, 3, -11.39, 0.5);
        const ys = Float64Array.of(2, 4, -0.5, 1, 0.5);
        const x = await s.share(0, xs);
        const y = await s.share(parties - 1, ys);
        const p = await s.reveal(s.mul(x, y));
        for (let i = 0; i < xs.length; i++) {
          const o = ulpOffset(p[i], ring(xs[i]) * ring(ys[i]));
          expect(o === 0n || o === 1n).toBe(true);
        }
        expect(Array.from(await s.reveal(s.lessThan(x, y)))).toEqual([1, 1, 0, 1, 0]);
      } finally {
        await s.close();
      }
    }, 120_000);
  }
});

/**
 * One run of the sweep, with the material made first (so that the altered message is one of the operation's
 * shares or openings): the reveal must reject with ProtocolAbortError on the coordinating thread.
 */
async function tampered(fault: FaultInjection, op: (s: SmpcSession, x: SecretTensor, y: SecretTensor) => SecretTensor): Promise<unknown> {
  const s = await SmpcSession.start({ parties: 2, protocol: 'additive', security: 'malicious', maxAbs: 100, faultInjection: fault });
  try {
    await s.preprocess({ mul: 4, lessThan: 4, matmul: [{ m: 2, k: 2, n: 2 }] });
    const x = await s.share(0, Float64Array.from([1.5, -2, 3.25, 0.75]), [2, 2]);
    const y = await s.share(1, Float64Array.from([2, 0.5, -1, 3]), [2, 2]);
    return await s.reveal(op(s, x, y));
  } catch (e) {
    return e;
  } finally {
    await s.close();
  }
}

describe('fault-injection sweep under SPDZ2k', () => {
  const ops: SweepOp[] = [
    ['input', (_s, x) => x],
    ['mul', (s, x, y) => s.mul(x, y)],
    ['matmul', (s, x, y) => s.matmul(x, y)],
    ['lessThan', (s, x, y) => s.lessThan(x, y)],
    ['reveal', (s, x, y) => s.add(x, y)],
  ];
  const cases = sweepCases(ops, 'spdz2k-sweep', 2);

  it(`aborts all ${cases.length} tampered runs with ProtocolAbortError and reveals nothing`, async () => {
    expect(await sweepFailures(cases, ops, tampered)).toEqual([]);
  }, 300_000);
});

describe('tampering with the offline phase under SPDZ2k', () => {
  // An altered OT message (base OT, extension matrix, Gilboa correction) either aborts the run or has no effect
  // at all: IKNP ignores the columns of a sender's zero choice bits, and a Gilboa correction is unused when the
  // receiver's choice bit is 0. Never a wrong value. The expected product is the plaintext one (exact here).
  const cases = [0, 1, 2, 3, 5, 8, 13, 21].map((message, i) => ({
    party: i % 2,
    kind: i % 3 === 0 ? ('flipBit' as const) : ('addError' as const),
    message,
  }));
  it(`${cases.length} runs with an altered offline message abort or return the exact product`, async () => {
    const outcomes: string[] = [];
    let aborted = 0;
    for (const c of cases) {
      const r = await tampered({ party: c.party, operation: 'preprocess', kind: c.kind, message: c.message }, (s, x, y) => s.mul(x, y));
      const label = `preprocess party ${c.party} ${c.kind} message ${c.message}`;
      if (r instanceof ProtocolAbortError) aborted++;
      else if (!(r instanceof Float64Array) || Array.from(r).join() !== '3,-1,-3.25,2.25') outcomes.push(`${label}: ${String(r)}`);
    }
    expect(outcomes).toEqual([]);
    expect(aborted).toBeGreaterThan(0);
  }, 300_000);
});

describe('SPDZ2k: options and parties across processes', () => {
  it('refuses what it does not cover, naming the option', async () => {
    await expect(SmpcSession.start({ parties: 3, protocol: 'additive', dealer: 'trusted', security: 'malicious' })).rejects.toThrow(
      /needs dealer-free preprocessing/,
    );
    await expect(SmpcSession.start({ parties: 3, protocol: 'additive', security: 'malicious', statisticalSecurity: 56 })).rejects.toThrow(
      /statisticalSecurity must be an integer in \[40, 55\] for the additive protocol/,
    );
    // A plan whose authenticated material would not fit a party's memory is refused at the call.
    const s = await SmpcSession.start({ parties: 2, protocol: 'additive', security: 'malicious' });
    try {
      await expect(s.preprocess({ mul: 40_000 })).rejects.toThrow(
        /plan needs 2560000 random bits or triples in total, more than the 2097152/,
      );
      expect(Array.from(await s.reveal(await s.share(0, [1.5])))).toEqual([1.5]);
    } finally {
      await s.close();
    }
  });

  it('three TLS parties compute with MAC checks', async () => {
    const st = await setup(3, 'additive', false);
    const results = await connectAll(st, 'additive', (_, o) => ({ ...o, security: 'malicious' }));
    const sessions = results.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    try {
      const got = await Promise.all(
        sessions.map(async (ss, p) => {
          const x = await ss.share(0, p === 0 ? Float64Array.of(1.5, -2, 4) : { rows: 3, cols: 1 });
          const y = await ss.share(1, p === 1 ? Float64Array.of(2, 2, -0.5) : { rows: 3, cols: 1 });
          return [Array.from(await ss.reveal(ss.mul(x, y))), Array.from(await ss.reveal(ss.lessThan(x, y)))];
        }),
      );
      for (const [prod, less] of got) {
        expect(prod).toEqual([3, -4, -2]);
        expect(less).toEqual([1, 1, 0]);
      }
    } finally {
      await Promise.all(sessions.map((ss) => ss.close()));
    }
  }, 120_000);
});
