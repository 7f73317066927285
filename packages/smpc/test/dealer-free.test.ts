// Dealer-free replicated 3PC: the parties make truncation pairs, edaBits and daBits themselves (ABY3 Sec. 5;
// Escudero et al. 2020). (1) Every replicated operation equals plaintext within the documented bounds with no
// dealer thread at all; (2) the generated material is correct, and one party's view of its generation is
// uniform whatever the secret it produces, for two choices of the randomness it does not hold.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFixedPoint, seededTestRng } from '@ppml/core';
import { chiSquareCritical, chiSquareStatistic } from '../../../test/support/stats.ts';
import { SmpcSession, logisticRegressionPredict, trainLogisticRegression, type SmpcSessionOptions } from '../src/index.ts';
import type { Material, MaterialRequest } from '../src/preprocessing.ts';
import { MaterialPool } from '../src/preprocessing.ts';
import { Channel } from '../src/protocols/protocol.ts';
import { ReplicatedProtocol } from '../src/protocols/replicated.ts';
import { generateReplicatedMaterial } from '../src/protocols/replicated-preprocessing.ts';
import { MessagePortTransport } from '../src/transport/message-port.ts';

const F = 16;
const SCALE = 2 ** F;

/** floor(a / 2^16) for a BigInt (BigInt division truncates toward zero). */
function floorShift(a: bigint): bigint {
  return a >> BigInt(F);
}

function ring(v: number): bigint {
  return BigInt.asIntN(64, encodeFixedPoint([v], { fractionalBits: F })[0]);
}

/** Revealed value minus floor(exact / 2^f), in units of 2^-f: 0 or 1 for exact-wrap truncation. */
function ulpOffset(revealed: number, exact: bigint): bigint {
  return BigInt(Math.round(revealed * SCALE)) - floorShift(exact);
}

describe('replicated sharing with no dealer (worker threads)', () => {
  let s: SmpcSession;
  const fromDealer: unknown[] = [];
  beforeAll(async () => {
    s = await SmpcSession.start({
      parties: 3,
      protocol: 'replicated',
      maxAbs: 1000,
      onWorkerMessage: (from, m) => {
        if (from === 'dealer') fromDealer.push(m);
      },
    });
  });
  afterAll(async () => {
    await s.close();
  });

  it('is the default for replicated sharing and starts no dealer thread', async () => {
    expect(s.dealer).toBe('none');
    expect(s.activeWorkers).toBe(3);
    expect((await s.memoryUsage()).dealer).toBeNull();
  });

  it('mul with truncation, matmul: exact-or-one-ulp against the ring product of the encoded inputs', async () => {
    const rng = seededTestRng('dealer-free-mul');
    const n = 20_000;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // Both signs, magnitudes up to 1e-3, 1e-2, ..., 1e2 (by i mod 6), deterministic from the seed.
      const a = new Uint32Array(2);
      rng.fillBytes(new Uint8Array(a.buffer));
      xs[i] = ((a[0] / 2 ** 32) * 2 - 1) * 10 ** ((i % 6) - 3);
      ys[i] = ((a[1] / 2 ** 32) * 2 - 1) * (i % 2 === 0 ? 40 : 0.7);
    }
    const x = await s.share(0, xs);
    const y = await s.share(1, ys);
    const p = await s.reveal(s.mul(x, y));
    const offsets = new Set<bigint>();
    for (let i = 0; i < n; i++) offsets.add(ulpOffset(p[i], ring(xs[i]) * ring(ys[i])));
    expect(
      [...offsets].every((o) => o === 0n || o === 1n),
      [...offsets].join(','),
    ).toBe(true);

    // (8 x 5) times (5 x 3): one truncation per output of the exact ring dot product.
    const m = 8;
    const k = 5;
    const c = 3;
    const A = Float64Array.from({ length: m * k }, (_, i) => ((i * 37) % 23) / 7 - 1.5);
    const B = Float64Array.from({ length: k * c }, (_, i) => ((i * 11) % 13) / 5 - 1.2);
    const P = await s.reveal(s.matmul(await s.share(2, A, [m, k]), await s.share(0, B, [k, c])));
    for (let r = 0; r < m; r++) {
      for (let j = 0; j < c; j++) {
        let z = 0n;
        for (let t = 0; t < k; t++) z += ring(A[r * k + t]) * ring(B[t * c + j]);
        expect(ulpOffset(P[r * c + j], z)).toBeGreaterThanOrEqual(0n);
        expect(ulpOffset(P[r * c + j], z)).toBeLessThanOrEqual(1n);
      }
    }
    s.free(x, y);
  });

  it('lessThan is exact and sigmoid within its documented error', async () => {
    const n = 3000;
    const xs = Float64Array.from({ length: n }, (_, i) => (i - n / 2) / 97 + (i % 3 === 0 ? 1 / SCALE : 0));
    const ys = Float64Array.from({ length: n }, (_, i) => ((i * 7919) % 2000) / 50 - 20);
    const x = await s.share(0, xs);
    const y = await s.share(2, ys);
    s.resetStats();
    const lt = await s.reveal(s.lessThan(x, y));
    for (let i = 0; i < n; i++) expect(lt[i], `x=${xs[i]} y=${ys[i]}`).toBe(ring(xs[i]) < ring(ys[i]) ? 1 : 0);
    const sg = await s.reveal(s.sigmoid(x));
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(sg[i] - 1 / (1 + Math.exp(-xs[i]))));
    // The bound the session tests use for sigmoid on this range (approximations.test.ts).
    expect(worst).toBeLessThan(5e-4);
    // Without preprocess an operation makes its material first, one batch per kind: lessThan 8 online rounds
    // plus an edaBit (8) and a daBit (2) batch; sigmoid 35 online plus at most three truncation-pair batches
    // (11 each) and one edaBit + daBit batch (10), not one batch per truncation.
    const ops = s.stats().operations;
    expect(ops.lessThan.rounds).toBe(18);
    expect(ops.sigmoid.rounds).toBeLessThanOrEqual(35 + 3 * 11 + 10);
    s.free(x, y);
    expect(fromDealer).toEqual([]);
  });

  it('logistic regression training and inference match plaintext gradient descent', async () => {
    const d = 4;
    const rows = 90;
    const rng = seededTestRng('dealer-free-lr');
    const bytes = new Uint8Array(rows * d);
    rng.fillBytes(bytes);
    const x = Float64Array.from(bytes, (b) => b / 64 - 2);
    const trueW = [1.5, -2, 0.5, 1];
    const y = Float64Array.from({ length: rows }, (_, i) => (trueW.reduce((a, w, j) => a + w * x[i * d + j], 0) > 0.2 ? 1 : 0));
    const parts = [0, 1, 2].map((p) => ({
      party: p,
      features: x.subarray(p * 30 * d, (p + 1) * 30 * d),
      labels: y.subarray(p * 30, (p + 1) * 30),
    }));
    const epochs = 3;
    const lr = 1;
    const model = await trainLogisticRegression(s, parts, { features: d, epochs, learningRate: lr });
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
      for (let j = 0; j < d; j++) pw[j] -= (lr / rows) * g[j];
      pb -= (lr / rows) * gb;
    }
    // The tolerance applications.test.ts documents for training (sigmoid and truncation errors over epochs).
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
    expect(fromDealer).toEqual([]);
    expect(s.activeWorkers).toBe(3);
  });

  it('preprocess makes the material among the parties, offline; the online phase then matches the dealer-backed costs', async () => {
    const n = 500;
    const x = await s.share(0, new Float64Array(n).fill(1.5));
    const y = await s.share(1, new Float64Array(n).fill(-2));
    s.resetStats();
    await s.preprocess({ mul: n, lessThan: n });
    const offline = s.stats().offline;
    expect(offline.requests).toBe(0);
    expect(offline.rounds).toBeGreaterThan(0);
    s.resetStats();
    const z = s.mul(x, y);
    s.lessThan(x, y);
    await s.sync();
    const st = s.stats();
    expect(st.operations.mul.rounds).toBe(1);
    for (const b of st.operations.mul.bytesPerParty) expect(b).toBe(16 * n);
    expect(st.operations.lessThan.rounds).toBe(8);
    expect([...(await s.reveal(z))].every((v) => v === -3)).toBe(true);
  });
});

describe('the dealer option of SmpcSession.start', () => {
  it("refuses bad values with a named TypeError/RangeError; 'trusted' starts a dealer thread for replicated sharing", async () => {
    const bad: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
      [{ protocol: 'replicated', dealer: 5 }, TypeError, /dealer must be 'trusted' or 'none', got 5/],
      [{ protocol: 'replicated', dealer: 'nobody' }, RangeError, /dealer must be 'trusted' or 'none'/],
    ];
    for (const [o, type, message] of bad) {
      const e = await SmpcSession.start({ parties: 3, ...o } as SmpcSessionOptions).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(type);
      expect((e as Error).message).toMatch(message);
    }
    const t = await SmpcSession.start({ parties: 3, protocol: 'replicated', dealer: 'trusted' });
    try {
      expect(t.dealer).toBe('trusted');
      expect(t.activeWorkers).toBe(4);
      const a = await t.share(0, Float64Array.of(1.5, -2));
      expect([...(await t.reveal(t.mul(a, a)))]).toEqual([2.25, 4]);
    } finally {
      await t.close();
    }
  });
});

// ---- the generated material, three parties in this thread ----

interface Trio {
  readonly protos: ReplicatedProtocol[];
  /** Every message party 0 received, in order. */
  readonly received: BigUint64Array[];
  close(): void;
}

/** Three parties joined by MessageChannels; party 0's keys are fixed, the key of parties 1 and 2 is `k12`. */
function trio(k12: Uint8Array): Trio {
  const k01 = new Uint8Array(16).fill(0x01);
  const k20 = new Uint8Array(16).fill(0x20);
  const pair = [k01, k12, k20]; // pair[i] is shared by parties i and i+1
  const ports: (MessagePort | null)[][] = [0, 1, 2].map(() => [null, null, null]);
  for (let i = 0; i < 3; i++) {
    for (let j = i + 1; j < 3; j++) {
      const ch = new MessageChannel();
      ports[i][j] = ch.port1;
      ports[j][i] = ch.port2;
    }
  }
  const transports = ports.map((p, i) => new MessagePortTransport(i, p));
  const received: BigUint64Array[] = [];
  const t0 = transports[0];
  const original = t0.receive.bind(t0);
  t0.receive = async (peer, tag) => {
    const b = await original(peer, tag);
    received.push(new BigUint64Array(b.slice().buffer));
    return b;
  };
  const protos = transports.map(
    (t, i) => new ReplicatedProtocol(new Channel(t, new MaterialPool(null)), { next: pair[i], prev: pair[(i + 2) % 3] }),
  );
  return {
    protos,
    received,
    close: () => {
      for (const t of transports) t.close();
    },
  };
}

async function generate(t: Trio, req: MaterialRequest): Promise<Material[]> {
  return Promise.all(t.protos.map((p) => generateReplicatedMaterial(p, req)));
}

/** The value of a native (replicated) field: component i is the first slot of party i. */
function open(ms: Material[], name: string, isXor: boolean): BigUint64Array {
  const parts = ms.map((m) => (m.fields.get(name) as BigUint64Array[])[0]);
  const out = new BigUint64Array(parts[0].length);
  for (let i = 0; i < out.length; i++) out[i] = isXor ? parts[0][i] ^ parts[1][i] ^ parts[2][i] : parts[0][i] + parts[1][i] + parts[2][i];
  return out;
}

/** The second slot of party i must be the first slot of party i+1 (replicated consistency). */
function expectConsistent(ms: Material[], name: string): void {
  for (let i = 0; i < 3; i++) {
    expect((ms[i].fields.get(name) as BigUint64Array[])[1]).toEqual((ms[(i + 1) % 3].fields.get(name) as BigUint64Array[])[0]);
  }
}

// Party 0's received words, split by a secret bit of the item they belong to: every message carries a
// multiple of n words, word w of a message belongs to item w mod n. Under uniformity each byte is uniform on
// 256 values in both groups (chi-square, 255 degrees of freedom). alpha = 1e-6 per check; 12 checks, so the
// false-failure rate is below 1.2e-5 (and everything is seeded: a run is reproducible).
const CRITICAL = chiSquareCritical(255, 1e-6);

function byteChiSquare(words: BigUint64Array[]): number {
  const counts = new Float64Array(256);
  let total = 0;
  for (const w of words) {
    const bytes = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
    for (const b of bytes) counts[b]++;
    total += bytes.length;
  }
  return chiSquareStatistic(counts, new Float64Array(256).fill(total / 256));
}

function viewBySecretBit(received: BigUint64Array[], n: number, bit: BigUint64Array): [BigUint64Array[], BigUint64Array[]] {
  const groups: [bigint[], bigint[]] = [[], []];
  for (const msg of received) {
    expect(msg.length % n).toBe(0);
    for (let w = 0; w < msg.length; w++) groups[Number(bit[w % n])].push(msg[w]);
  }
  return [BigUint64Array.from(groups[0]), BigUint64Array.from(groups[1])].map((g) => [g]) as [BigUint64Array[], BigUint64Array[]];
}

/**
 * Generates `req` on three fresh parties, runs `check` on the material (it returns a secret bit per element),
 * and checks that party 0's view is uniform whichever value that bit takes.
 */
async function checkMaterial(k12: Uint8Array, req: MaterialRequest, check: (ms: Material[]) => BigUint64Array): Promise<void> {
  const t = trio(k12);
  try {
    const secretBit = check(await generate(t, req));
    const [zero, one] = viewBySecretBit(t.received, req.count, secretBit);
    expect(byteChiSquare(zero)).toBeLessThan(CRITICAL);
    expect(byteChiSquare(one)).toBeLessThan(CRITICAL);
  } finally {
    t.close();
  }
}

describe('dealer-free material (three parties in this thread)', () => {
  const n = 4096;
  for (const seed of ['k12-a', 'k12-b']) {
    it(`is correct, and party 0's view is uniform whatever the secret (parties 1-2 key from seed ${seed})`, async () => {
      const k12 = new Uint8Array(16);
      seededTestRng(seed).fillBytes(k12);

      // edaBits: arithmetic r and the XOR sharing of -r.
      await checkMaterial(k12, { key: 'edabit', kind: 'edabit', count: n }, (ms) => {
        expectConsistent(ms, 'r');
        expectConsistent(ms, 's');
        const r = open(ms, 'r', false);
        const sv = open(ms, 's', true);
        for (let i = 0; i < n; i++) expect(sv[i]).toBe(BigInt.asUintN(64, -r[i]));
        return r.map((v) => v >> 63n);
      });

      // daBits: one random bit shared arithmetically and by XOR.
      await checkMaterial(k12, { key: 'dabit', kind: 'dabit', count: n }, (ms) => {
        expectConsistent(ms, 'a');
        expectConsistent(ms, 'x');
        const a = open(ms, 'a', false);
        const x = open(ms, 'x', true);
        expect(a).toEqual(x);
        const ones = x.reduce((c, v) => c + Number(v), 0);
        expect(x.every((v) => v === 0n || v === 1n)).toBe(true);
        // Binomial(4096, 1/2): 6 standard deviations (false failure about 2e-9).
        expect(Math.abs(ones - n / 2)).toBeLessThan(6 * Math.sqrt(n / 4));
        return x;
      });

      // Truncation pairs: r n-out-of-n, its top bit and (r mod 2^63) >> f as replicated sharings.
      await checkMaterial(k12, { key: `trunc:${F}`, kind: 'trunc', count: n, shift: F }, (ms) => {
        expectConsistent(ms, 'hi');
        expectConsistent(ms, 'lo');
        const r = open(ms, 'r', false);
        const hi = open(ms, 'hi', false);
        const lo = open(ms, 'lo', false);
        for (let i = 0; i < n; i++) {
          expect(hi[i]).toBe(r[i] >> 63n);
          expect(lo[i]).toBe((r[i] & ((1n << 63n) - 1n)) >> BigInt(F));
        }
        return hi;
      });
    });
  }

  it('refuses kinds that replicated sharing does not use', async () => {
    const t = trio(new Uint8Array(16).fill(7));
    try {
      await expect(generateReplicatedMaterial(t.protos[0], { key: 'triple', kind: 'triple', count: 4 })).rejects.toThrow(RangeError);
    } finally {
      t.close();
    }
  });
});
