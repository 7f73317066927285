// Malicious security with abort for replicated 3PC (`protocols/replicated-malicious.ts`): (1) every operation
// equals plaintext within the same bounds as the semi-honest protocol; (2) a fault-injection sweep: for each
// operation a party adds an error to one message it sends, flips a bit of it, or opens a wrong share, and every
// run aborts with ProtocolAbortError before any value is revealed; (3) the same tampering in semi-honest mode
// changes the result without a word, as the README says; (4) malicious parties across processes over TLS.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededTestRng } from '@ppml/core';
import {
  ProtocolAbortError,
  SmpcSession,
  logisticRegressionPredict,
  trainLogisticRegression,
  type FaultInjection,
  type SecretTensor,
} from '../src/index.ts';
import { MaterialPool } from '../src/preprocessing.ts';
import { Channel } from '../src/protocols/protocol.ts';
import { bucketSize, MaliciousReplicatedProtocol } from '../src/protocols/replicated-malicious.ts';
import { MessagePortTransport } from '../src/transport/message-port.ts';
import { connectAll, setup } from './support/network.ts';
import { SCALE, ring } from './support/fixed-point.ts';
import { expectExactOrOneUlpProducts, expectMaliciousWithoutDealer } from './support/products.ts';
import { sweepCases, sweepFailures, type SweepOp } from './support/sweep.ts';

describe('bucket sizes of the triple verification', () => {
  it('keep the best attack (B bad triples in one bucket) below 2^-(s + 20) per batch', () => {
    // Smallest B with (B - 1) log2 N + log2(B^B / B!) >= s + 20 (2^-s over 2^20 batches).
    expect(bucketSize(2 ** 20, 40)).toBe(4);
    expect(bucketSize(2 ** 14, 40)).toBe(5);
    expect(bucketSize(2 ** 10, 40)).toBe(7);
    expect(bucketSize(2 ** 20, 64)).toBe(5);
    expect(() => bucketSize(1, 40)).toThrow(RangeError);
    expect(() => bucketSize(1024, 0)).toThrow(/statisticalSecurity must be an integer in \[1, 128\]/);
  });
});

describe('replicated sharing with malicious security (worker threads)', () => {
  let s: SmpcSession;
  beforeAll(async () => {
    s = await SmpcSession.start({ parties: 3, protocol: 'replicated', security: 'malicious', maxAbs: 1000 });
  });
  afterAll(async () => {
    await s.close();
  });

  it('reports its mode and needs no dealer', async () => {
    await expectMaliciousWithoutDealer(s);
  });

  it('mul and matmul: exact-or-one-ulp against the ring product of the encoded inputs', async () => {
    await expectExactOrOneUlpProducts(s, 'malicious-mul', 5000);
  });

  it('lessThan, relu and max are exact; sigmoid, exp and reciprocal within their documented errors', async () => {
    const n = 600;
    const xs = Float64Array.from({ length: n }, (_, i) => (i - n / 2) / 97 + (i % 3 === 0 ? 1 / SCALE : 0));
    const ys = Float64Array.from({ length: n }, (_, i) => ((i * 7919) % 2000) / 50 - 20);
    const x = await s.share(0, xs);
    const y = await s.share(2, ys);
    const lt = await s.reveal(s.lessThan(x, y));
    for (let i = 0; i < n; i++) expect(lt[i]).toBe(ring(xs[i]) < ring(ys[i]) ? 1 : 0);
    const relu = await s.reveal(s.relu(x));
    for (let i = 0; i < n; i++) expect(relu[i]).toBe(Math.max(0, Number(ring(xs[i])) / SCALE));
    const sg = await s.reveal(s.sigmoid(x));
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(sg[i] - 1 / (1 + Math.exp(-xs[i]))));
    expect(worst).toBeLessThan(5e-4);
    // exp on [-3, 3] and 1/x on [0.5, 3]: the relative errors approximations.test.ts documents.
    const small = Float64Array.from({ length: 60 }, (_, i) => -3 + i / 10);
    const e = await s.reveal(s.exp(await s.share(1, small, [small.length, 1], { maxAbs: 3 })));
    for (let i = 0; i < small.length; i++) expect(Math.abs(e[i] - Math.exp(small[i])) / Math.exp(small[i])).toBeLessThan(5e-3);
    const pos = Float64Array.from({ length: 26 }, (_, i) => 0.5 + i / 10);
    const rec = await s.reveal(s.reciprocal(await s.share(1, pos, [pos.length, 1], { min: 0.5, max: 3 })));
    for (let i = 0; i < pos.length; i++) expect(Math.abs(rec[i] * pos[i] - 1)).toBeLessThan(5e-3);
    const grid = Float64Array.from({ length: 12 }, (_, i) => ((i * 5) % 12) - 6.5);
    const g = await s.share(0, grid, [3, 4]);
    expect(Array.from(await s.reveal(s.max(g)))).toEqual([3.5, 4.5, 2.5]);
    expect(Array.from(await s.reveal(s.sum(g)))).toEqual([grid.reduce((a, b) => a + b, 0)]);
    s.free(x, y, g);
  });

  it('logistic regression training and inference match plaintext gradient descent', async () => {
    const d = 3;
    const rows = 45;
    const rng = seededTestRng('malicious-lr');
    const bytes = new Uint8Array(rows * d);
    rng.fillBytes(bytes);
    const x = Float64Array.from(bytes, (b) => b / 64 - 2);
    const y = Float64Array.from({ length: rows }, (_, i) => (1.5 * x[i * d] - 2 * x[i * d + 1] + 0.5 * x[i * d + 2] > 0.2 ? 1 : 0));
    const parts = [0, 1, 2].map((p) => ({
      party: p,
      features: x.subarray(p * 15 * d, (p + 1) * 15 * d),
      labels: y.subarray(p * 15, (p + 1) * 15),
    }));
    const epochs = 2;
    const model = await trainLogisticRegression(s, parts, { features: d, epochs, learningRate: 1 });
    const [w, b] = await Promise.all([s.reveal(model.weights), s.reveal(model.bias)]);
    const pw = new Float64Array(d);
    let pb = 0;
    for (let e = 0; e < epochs; e++) {
      const g = new Float64Array(d);
      let gb = 0;
      for (let i = 0; i < rows; i++) {
        let z = pb;
        for (let j = 0; j < d; j++) z += x[i * d + j] * pw[j];
        const err = 1 / (1 + Math.exp(-z)) - y[i];
        for (let j = 0; j < d; j++) g[j] += err * x[i * d + j];
        gb += err;
      }
      for (let j = 0; j < d; j++) pw[j] -= g[j] / rows;
      pb -= gb / rows;
    }
    for (let j = 0; j < d; j++) expect(Math.abs(w[j] - pw[j]), `w[${j}]`).toBeLessThan(0.02);
    expect(Math.abs(b[0] - pb)).toBeLessThan(0.02);
    const shared = await s.share(1, x, [rows, d]);
    const probs = await s.reveal(logisticRegressionPredict(s, shared, model.weights, model.bias));
    for (let i = 0; i < rows; i++) {
      let z = pb;
      for (let j = 0; j < d; j++) z += x[i * d + j] * pw[j];
      expect(Math.abs(probs[i] - 1 / (1 + Math.exp(-z)))).toBeLessThan(0.02);
    }
    s.free(shared, model.weights, model.bias);
  });

  it('preprocess makes and verifies the triples offline; online a product costs its re-sharing and one checked opening', async () => {
    const n = 500;
    const x = await s.share(0, new Float64Array(n).fill(1.5));
    const y = await s.share(1, new Float64Array(n).fill(-2));
    await s.preprocess({ mul: n, lessThan: n });
    s.resetStats();
    const z = s.mul(x, y);
    await s.sync();
    const mul = s.stats().operations.mul;
    // Re-sharing (1 element), the opening of (rho, sigma) in the same round (2 elements), the truncation's
    // checked opening (1 element): 4 elements per product against 2 for semi-honest replicated sharing.
    expect(mul.rounds).toBe(3);
    for (const bytes of mul.bytesPerParty) expect(bytes).toBe(32 * n);
    expect([...(await s.reveal(z))].every((v) => v === -3)).toBe(true);
    s.free(x, y, z);
  });
});

/** One run of the sweep: the reveal must reject with ProtocolAbortError on the coordinating thread. */
async function tampered(fault: FaultInjection, op: (s: SmpcSession, x: SecretTensor, y: SecretTensor) => SecretTensor): Promise<unknown> {
  const s = await SmpcSession.start({ parties: 3, protocol: 'replicated', security: 'malicious', maxAbs: 100, faultInjection: fault });
  try {
    const x = await s.share(0, Float64Array.from([1.5, -2, 3.25, 0.75]), [2, 2]);
    const y = await s.share(1, Float64Array.from([2, 0.5, -1, 3]), [2, 2]);
    const values = await s.reveal(op(s, x, y));
    return values;
  } catch (e) {
    return e;
  } finally {
    await s.close();
  }
}

describe('fault-injection sweep under malicious security', () => {
  const ops: SweepOp[] = [
    ['input', (_s, x) => x],
    ['mul', (s, x, y) => s.mul(x, y)],
    ['matmul', (s, x, y) => s.matmul(x, y)],
    ['lessThan', (s, x, y) => s.lessThan(x, y)],
    ['sigmoid', (s, x) => s.sigmoid(x)],
    ['reveal', (s, x, y) => s.add(x, y)],
  ];
  const cases = sweepCases(ops, 'malicious-sweep', 3);

  it(`aborts all ${cases.length} tampered runs with ProtocolAbortError and reveals nothing`, async () => {
    expect(await sweepFailures(cases, ops, tampered)).toEqual([]);
  }, 240_000);
});

/** Three checked replicated parties in this thread (MessageChannels, pairwise keys from a seeded generator). */
function inProcessTrio(seed: string): { transports: MessagePortTransport[]; channels: Channel[]; protos: MaliciousReplicatedProtocol[] } {
  const ports: (MessagePort | null)[][] = Array.from({ length: 3 }, () => [null, null, null]);
  for (let i = 0; i < 3; i++)
    for (let j = i + 1; j < 3; j++) {
      const ch = new MessageChannel();
      ports[i][j] = ch.port1;
      ports[j][i] = ch.port2;
    }
  const transports = ports.map((p, i) => new MessagePortTransport(i, p));
  const rng = seededTestRng(seed);
  const keys = [0, 1, 2].map(() => {
    const k = new Uint8Array(16);
    rng.fillBytes(k);
    return k;
  });
  const channels = transports.map((t) => new Channel(t, new MaterialPool(null)));
  const protos = channels.map(
    (c, i) => new MaliciousReplicatedProtocol(c, { next: keys[i], prev: keys[(i + 2) % 3] }, { statisticalSecurity: 40 }),
  );
  return { transports, channels, protos };
}

describe('a rushing party cannot see the coin before its share of c is fixed', () => {
  it('the coin is not opened while a party withholds its product message of the triple batch', async () => {
    const { transports, channels, protos } = inProcessTrio('malicious-rushing');
    // Party 1 holds back everything it would send party 0 from the batch's product message on, and watches for
    // the coin (a 4-word opening) arriving from party 2.
    const adversary = channels[1];
    const send = adversary.send.bind(adversary);
    let holding = false;
    adversary.send = (peer, tag, data) => {
      if (peer === 0 && data.length > 4 * 2 ** 14) holding = true;
      if (holding && peer === 0) return;
      send(peer, tag, data);
    };
    let coinSeen = false;
    const receive = adversary.receive.bind(adversary);
    adversary.receive = async (peer, tag, count) => {
      const got = await receive(peer, tag, count);
      if (holding && count === 4) coinSeen = true;
      return got;
    };
    const runs = protos.map((p) => p.prepareTriples(0, 10));
    for (const r of runs) r.catch(() => {});
    await new Promise((r) => setTimeout(r, 1500));
    expect(holding).toBe(true);
    expect(coinSeen).toBe(false);
    for (const t of transports) t.fail(new ProtocolAbortError('test over'));
    await Promise.allSettled(runs);
    for (const t of transports) t.close();
  });
});

describe('nothing computed from a tampered opening leaves an honest party', () => {
  it('a shifted (rho, sigma) opening makes the victim abort after the openings digest, before it sends its zero tests', async () => {
    const { transports, channels, protos } = inProcessTrio('malicious-digest-leak');
    const n = 4;
    const xs = await Promise.all(protos.map((p) => p.input(2, p.party === 2 ? BigUint64Array.of(3n, 5n, 7n, 11n) : null, n)));
    const ys = await Promise.all(protos.map((p) => p.input(2, p.party === 2 ? BigUint64Array.of(2n, 4n, 6n, 8n) : null, n)));
    await Promise.all(protos.map((p) => p.prepareTriples(0, n)));
    await Promise.all(protos.map((p) => p.verify()));
    // Party 1's second message of the product is its (rho, sigma) component for party 0 (the first is the
    // re-sharing); it is shifted. Party 1 then counts the digests party 0 sends it.
    channels[1].tamper = { kind: 'addError', skip: 1 };
    let digestsFromVictim = 0;
    const receiveBytes = channels[1].receiveBytes.bind(channels[1]);
    channels[1].receiveBytes = async (peer, tag, length) => {
      const b = await receiveBytes(peer, tag, length);
      if (peer === 0 && length === 32) digestsFromVictim++;
      return b;
    };
    await Promise.all(protos.map((p) => p.mul(xs[p.party], ys[p.party])));
    const checks = protos.map((p) => p.verify());
    const victim = await Promise.allSettled([checks[0]]);
    expect(victim[0].status).toBe('rejected');
    expect(((victim[0] as PromiseRejectedResult).reason as Error).message).toMatch(/an opening or an input share was tampered with/);
    await new Promise((r) => setTimeout(r, 200));
    expect(digestsFromVictim).toBe(1);
    for (const t of transports) t.fail(new ProtocolAbortError('test over'));
    await Promise.allSettled(checks);
    for (const t of transports) t.close();
  });
});

describe('semi-honest replicated sharing does not detect a deviating party', () => {
  it('an error added to the share a party opens changes the revealed product without any error', async () => {
    const s = await SmpcSession.start({
      parties: 3,
      protocol: 'replicated',
      maxAbs: 100,
      faultInjection: { party: 1, operation: 'reveal', kind: 'addError', message: 0 },
    });
    try {
      const x = await s.share(0, Float64Array.from([1.5, -2, 3.25, 0.75]));
      const y = await s.share(1, Float64Array.from([2, 0.5, -1, 3]));
      const p = await s.reveal(s.mul(x, y));
      // Party 1 sends party 0 the component it lacks, with 2^32 ring units (65536 at 16 fractional bits) added
      // to the middle element.
      expect(Array.from(p)).toEqual([3, -1, -3.25 + 65536, 2.25]);
    } finally {
      await s.close();
    }
  });
});

describe('malicious security: options and parties across processes', () => {
  it('refuses the combinations it does not cover, naming the option', async () => {
    await expect(SmpcSession.start({ parties: 3, protocol: 'additive', dealer: 'trusted', security: 'malicious' })).rejects.toThrow(
      /needs dealer-free preprocessing/,
    );
    await expect(SmpcSession.start({ parties: 3, protocol: 'replicated', dealer: 'trusted', security: 'malicious' })).rejects.toThrow(
      /needs dealer-free preprocessing/,
    );
    await expect(SmpcSession.start({ parties: 3, protocol: 'replicated', security: 'paranoid' as never })).rejects.toThrow(RangeError);
    await expect(SmpcSession.start({ parties: 3, protocol: 'replicated', security: 'malicious', statisticalSecurity: 20 })).rejects.toThrow(
      /statisticalSecurity must be an integer in \[40, 128\]/,
    );
    await expect(
      SmpcSession.start({ parties: 3, protocol: 'replicated', faultInjection: { party: 0, operation: 'mul', kind: 'wrongOpen' } }),
    ).rejects.toThrow(/'wrongOpen' needs security: 'malicious'/);
    await expect(
      SmpcSession.start({ parties: 3, protocol: 'replicated', faultInjection: { party: 0, operation: 'mul', kind: 'hang', message: 2 } }),
    ).rejects.toThrow(/faultInjection.message applies to the kinds 'addError' and 'flipBit'/);
    await expect(SmpcSession.start({ parties: 3, protocol: 'replicated', statisticalSecurity: 40 })).rejects.toThrow(
      /statisticalSecurity applies to security: 'malicious' only/,
    );
  });

  it('three TLS parties compute with checks; a party with another security setting is refused at connect', async () => {
    const st = await setup(3, 'replicated', false);
    const results = await connectAll(st, 'replicated', (_, o) => ({ ...o, security: 'malicious' }));
    const sessions = results.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    try {
      const values = Float64Array.of(1.5, -2, 4);
      const got = await Promise.all(
        sessions.map(async (ss, p) => {
          const x = await ss.share(0, p === 0 ? values : { rows: 3, cols: 1 });
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
    const st2 = await setup(3, 'replicated', false);
    const mixed = await connectAll(st2, 'replicated', (party, o) => (party === 2 ? { ...o, security: 'malicious' } : o));
    for (const r of mixed) expect(r.status).toBe('rejected');
    const e = (mixed[0] as PromiseRejectedResult).reason as ProtocolAbortError;
    expect(e).toBeInstanceOf(ProtocolAbortError);
    expect(e.message).toMatch(/party 2 disagrees on security/);
  }, 60_000);
});
