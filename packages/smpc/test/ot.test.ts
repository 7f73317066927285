// Oblivious-transfer building blocks of dealer-free additive preprocessing: the bit-matrix transposition, the
// Chou-Orlandi base OT, IKNP extension and the Gilboa/AND products, each against its defining law, and bad
// messages aborting with a ProtocolAbortError that names the peer.
import fc from 'fast-check';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { seededTestRng } from '@ppml/core';
import { ProtocolAbortError } from '../src/errors.ts';
import { baseOts } from '../src/ot/base-ot.ts';
import { andReceive, andSend, gilboaReceive, gilboaSend } from '../src/ot/gilboa.ts';
import { IknpReceiver, IknpSender, KAPPA, transposeColumns } from '../src/ot/iknp.ts';
import { MaterialPool } from '../src/preprocessing.ts';
import { AdditiveProtocol } from '../src/protocols/additive.ts';
import { AdditivePreprocessing } from '../src/protocols/additive-preprocessing.ts';
import { Channel } from '../src/protocols/protocol.ts';
import { MessagePortTransport } from '../src/transport/message-port.ts';

function bit(words: Uint32Array, i: number): number {
  return (words[i >>> 5] >>> (i & 31)) & 1;
}

function randomBytes(rng: ReturnType<typeof seededTestRng>, n: number): Uint8Array {
  const b = new Uint8Array(n);
  rng.fillBytes(b);
  return b;
}

/** Two parties joined by a MessageChannel, each with its own channel (no material pool needed). */
function pair(): { chs: Channel[]; ts: MessagePortTransport[]; close(): void } {
  const c = new MessageChannel();
  const ports: (MessagePort | null)[][] = [
    [null, c.port1],
    [c.port2, null],
  ];
  const ts = ports.map((p, i) => new MessagePortTransport(i, p));
  return {
    chs: ts.map((t) => new Channel(t, new MaterialPool(null))),
    ts,
    close: () => {
      for (const t of ts) t.close();
    },
  };
}

describe('bit-matrix transposition', () => {
  it('row j bit i equals column i bit j (fast-check, 32 to 256 OTs)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer(), (blocks, seed) => {
        const m = 32 * blocks;
        const cols = new Uint32Array((KAPPA * m) / 32);
        seededTestRng(seed).fillBytes(new Uint8Array(cols.buffer));
        const rows = transposeColumns(cols, m);
        for (let i = 0; i < KAPPA; i++) {
          const col = cols.subarray((i * m) / 32, ((i + 1) * m) / 32);
          for (let j = 0; j < m; j++) if (bit(rows.subarray(4 * j, 4 * j + 4), i) !== bit(col, j)) return false;
        }
        return true;
      }),
      { numRuns: 30 },
    );
    expect(() => transposeColumns(new Uint32Array(4 * 33), 33)).toThrow(RangeError);
  });
});

describe('base OT (Chou-Orlandi on ristretto255)', () => {
  it('the receiver gets exactly the key of its choice, in both directions, and never the other key', async () => {
    const p = pair();
    try {
      const rng = seededTestRng('base-ot-choices');
      const choices = [0, 1].map(() => Uint8Array.from(randomBytes(rng, 128), (b) => b & 1));
      const [r0, r1] = await Promise.all([
        baseOts(p.chs[0], 128, [null, choices[0]], seededTestRng('bo0')),
        baseOts(p.chs[1], 128, [choices[1], null], seededTestRng('bo1')),
      ]);
      // Party 0 received from party 1 (party 1 sent), and the other way round.
      for (const [recv, send, c] of [
        [r0.received[1], r1.sent[0], choices[0]],
        [r1.received[0], r0.sent[1], choices[1]],
      ] as const) {
        for (let i = 0; i < 128; i++) {
          const [mine, other] = c[i] === 1 ? [send.k1[i], send.k0[i]] : [send.k0[i], send.k1[i]];
          expect(recv[i]).toEqual(mine);
          expect(recv[i]).not.toEqual(other);
        }
      }
    } finally {
      p.close();
    }
  });

  it('aborts with ProtocolAbortError naming the peer on a point that is not a valid encoding', async () => {
    const p = pair();
    try {
      const send = p.ts[1].send.bind(p.ts[1]);
      p.ts[1].send = (peer, tag, bytes) => send(peer, tag, new Uint8Array(bytes.length).fill(0xff));
      // Party 1 then waits for a message party 0 never sends: only party 0's outcome is awaited.
      baseOts(p.chs[1], 4, [new Uint8Array(4), null]).catch(() => {});
      const e = (await baseOts(p.chs[0], 4, [null, new Uint8Array(4)]).then(
        () => null,
        (err: unknown) => err,
      )) as ProtocolAbortError;
      expect(e).toBeInstanceOf(ProtocolAbortError);
      expect(e.party).toBe(1);
      expect(e.message).toMatch(/from party 1 is not a valid ristretto255 point/);
    } finally {
      p.close();
    }
  });
});

describe('IKNP extension', () => {
  it('H(t_j) equals the sender message of choice r_j and differs from the other one (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.integer(), (blocks, seed) => {
        const rng = seededTestRng(seed);
        const k0 = Array.from({ length: KAPPA }, () => randomBytes(rng, 16));
        const k1 = Array.from({ length: KAPPA }, () => randomBytes(rng, 16));
        const s = Uint8Array.from(randomBytes(rng, KAPPA), (b) => b & 1);
        const sender = new IknpSender(
          s,
          k0.map((k, i) => (s[i] === 1 ? k1[i] : k)),
        );
        const receiver = new IknpReceiver(k0, k1);
        const m = 32 * blocks;
        // Two batches: the stream index advances identically on both sides.
        for (let batch = 0; batch < 2; batch++) {
          const choices = randomBytes(rng, m / 8);
          const cw = new Uint32Array(choices.buffer);
          const { u, h } = receiver.extend(choices, m);
          const { h0, h1 } = sender.extend(u, m, 1);
          for (let j = 0; j < m; j++) {
            const [mine, other] = bit(cw, j) === 1 ? [h1[j], h0[j]] : [h0[j], h1[j]];
            if (h[j] !== mine || h[j] === other) return false;
          }
        }
        return true;
      }),
      { numRuns: 25 },
    );
  });

  it('a short extension message aborts with ProtocolAbortError naming the peer', () => {
    const keys = Array.from({ length: KAPPA }, () => new Uint8Array(16));
    const sender = new IknpSender(new Uint8Array(KAPPA), keys);
    let error: unknown = null;
    try {
      sender.extend(new Uint8Array(100), 64, 3);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProtocolAbortError);
    expect((error as ProtocolAbortError).party).toBe(3);
  });
});

describe('Gilboa and AND products from random OTs', () => {
  // Random OTs as the law defines them: sender messages h0, h1, receiver message h_(choice).
  function ots(y: BigUint64Array, seed: number): { h0: BigUint64Array; h1: BigUint64Array; h: BigUint64Array } {
    const rng = seededTestRng(seed);
    const m = 64 * y.length;
    const h0 = new BigUint64Array(m);
    const h1 = new BigUint64Array(m);
    rng.fillBytes(new Uint8Array(h0.buffer));
    rng.fillBytes(new Uint8Array(h1.buffer));
    const yw = new Uint32Array(y.buffer);
    const h = h0.map((v, j) => (bit(yw, j) === 1 ? h1[j] : v));
    return { h0, h1, h };
  }
  const words = fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: 1, maxLength: 12 });

  it('sender share + receiver share = x * y mod 2^64 (fast-check)', () => {
    fc.assert(
      fc.property(words, words, fc.integer(), (xa, ya, seed) => {
        const n = Math.min(xa.length, ya.length);
        const x = BigUint64Array.from(xa.slice(0, n));
        const y = BigUint64Array.from(ya.slice(0, n));
        const { h0, h1, h } = ots(y, seed);
        const { d, share } = gilboaSend(x, h0, h1);
        const other = gilboaReceive(y, h, d);
        for (let t = 0; t < n; t++) if (BigInt.asUintN(64, share[t] + other[t]) !== BigInt.asUintN(64, x[t] * y[t])) return false;
        return true;
      }),
    );
  });

  it('sender share ^ receiver share = x & y (fast-check)', () => {
    fc.assert(
      fc.property(words, words, fc.integer(), (xa, ya, seed) => {
        const n = Math.min(xa.length, ya.length);
        const x = BigUint64Array.from(xa.slice(0, n));
        const y = BigUint64Array.from(ya.slice(0, n));
        const { h0, h1, h } = ots(y, seed);
        const { d, share } = andSend(x, h0, h1);
        const other = andReceive(y, h, d);
        for (let t = 0; t < n; t++) if ((share[t] ^ other[t]) !== (x[t] & y[t])) return false;
        return true;
      }),
    );
  });
});

describe('bad OT messages during triple generation', () => {
  for (const [what, change] of [
    ['a short message', (b: Uint8Array) => b.slice(0, b.length - 8)],
    ['a corrupted base-OT point', (b: Uint8Array) => new Uint8Array(b.length).fill(0xff)],
  ] as const) {
    it(`${what} from party 1 aborts party 0 with ProtocolAbortError naming party 1`, async () => {
      const p = pair();
      try {
        const pres = p.chs.map((ch) => new AdditivePreprocessing(ch, new AdditiveProtocol(ch)));
        const send = p.ts[1].send.bind(p.ts[1]);
        // The short message hits the first OT-extension message; the corrupted one the first base-OT message.
        let sent = 0;
        const target = what === 'a short message' ? 2 : 0;
        p.ts[1].send = (peer, tag, bytes) => send(peer, tag, sent++ === target ? change(bytes) : bytes);
        const req = { key: 'triple', kind: 'triple', count: 8 } as const;
        // Party 1 then waits for messages party 0 never sends: only party 0's outcome is awaited.
        pres[1].generate(req).catch(() => {});
        const e = (await pres[0].generate(req).then(
          () => null,
          (err: unknown) => err,
        )) as ProtocolAbortError;
        expect(e).toBeInstanceOf(ProtocolAbortError);
        expect(e.party).toBe(1);
        expect(e.message).toMatch(/party 1/);
      } finally {
        p.close();
      }
    });
  }
});
