/**
 * Dealer-free preprocessing for additive sharing among n >= 2 parties (internal): the parties make every kind of
 * material the dealer would deal (`preprocessing.ts`) themselves, from oblivious transfer, semi-honest with a
 * dishonest majority: any n - 1 colluding parties learn nothing about the remaining party's shares, and a party
 * that deviates is not detected. The output has exactly the dealer's fields and sharing, so the online
 * operations (`party.ts`) are unchanged.
 *
 * - Once per run: 128 base OTs per ordered pair (Chou-Orlandi on ristretto255, `ot/base-ot.ts`).
 * - Random OTs by IKNP extension (`ot/iknp.ts`), two rounds per batch of up to 2^14 items, all pairs at once.
 * - Triples (the "Semi2k" offline phase of MP-SPDZ; Keller, CCS 2020): party i draws a_i, b_i; every cross
 *   term a_i b_j (i != j) becomes additive shares by a Gilboa product over 64 OTs (`ot/gilboa.ts`), and
 *   c_i = a_i b_i + the shares of party i. AND triples the same over bits (one OT per bit, a 1-bit correction).
 *   Matrix triples: one Gilboa product per term A_i[p][r] B_j[r][q], summed over r.
 * - Truncation pairs, edaBits and daBits follow the replicated generator (`replicated-preprocessing.ts`) with
 *   n-party circuits on the triples above: a binary adder over n trivial XOR sharings (carry-save layers, then
 *   a Kogge-Stone adder; Escudero et al., CRYPTO 2020, Sec. 3), B2A by masking with the parties' own random
 *   words and opening the difference to party 0, and XOR of bits by u + v - 2uv.
 * @module
 */
import { cryptoRng, type Rng } from '@ppml/core';
import { baseOts } from '../ot/base-ot.ts';
import { andReceive, andSend, gilboaReceive, gilboaSend } from '../ot/gilboa.ts';
import { IknpReceiver, IknpSender, KAPPA } from '../ot/iknp.ts';
import type { Material, MaterialRequest } from '../preprocessing.ts';
import { randomRing } from '../prg.ts';
import { add, and, concat, matmul, middleBits, msb, mul, neg, scale, shiftLeft, xor } from '../ring.ts';
import type { Channel, Protocol, Share } from './protocol.ts';

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
/** Largest matrix triple request (terms A[p][r] B[r][q]): its term arrays take 128 MiB each. */
const MAX_MATRIX_TERMS = 2 ** 24;
/** Items per OT-extension batch: 2^20 OTs, 16 MiB of extension columns per pair and direction. */
const OT_BATCH = 2 ** 14;

/**
 * One party's dealer-free material generator for additive sharing. Every party calls {@link generate} at the
 * same point of the run with the same request (the material pools consume in the same order everywhere).
 * @example
 * ```ts
 * const pre = new AdditivePreprocessing(channel, protocol);
 * const pool = new MaterialPool(null, (req) => pre.generate(req));
 * ```
 */
export class AdditivePreprocessing {
  readonly #ch: Channel;
  readonly #proto: Protocol;
  readonly #rng: Rng;
  #setup: Promise<void> | null = null;
  readonly #senders: IknpSender[] = [];
  readonly #receivers: IknpReceiver[] = [];

  /** `rng` draws the parties' own random values and base-OT scalars (default the CSPRNG; tests seed it). */
  constructor(channel: Channel, proto: Protocol, rng: Rng = cryptoRng) {
    this.#ch = channel;
    this.#proto = proto;
    this.#rng = rng;
  }

  #peers(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.#proto.parties; p++) if (p !== this.#proto.party) out.push(p);
    return out;
  }

  /** Base OTs with every peer, once per run (on the first request). */
  #ready(): Promise<void> {
    if (this.#setup === null) {
      this.#setup = (async () => {
        const choices: (Uint8Array | null)[] = [];
        const peers = this.#peers();
        for (const p of peers) {
          const s = new Uint8Array(KAPPA);
          this.#rng.fillBytes(s);
          for (let i = 0; i < KAPPA; i++) s[i] &= 1;
          choices[p] = s;
        }
        const { sent, received } = await baseOts(this.#ch, KAPPA, choices, this.#rng);
        for (const p of peers) {
          this.#senders[p] = new IknpSender(choices[p] as Uint8Array, received[p]);
          this.#receivers[p] = new IknpReceiver(sent[p].k0, sent[p].k1);
        }
      })();
    }
    return this.#setup;
  }

  /**
   * This party's additive (or, with `binary`, XOR) share of sum over ordered pairs i != j of x_i * y_j (or
   * x_i & y_j), where x_i, y_i are the arrays each party passes: Gilboa products by IKNP OTs with every peer.
   * Two rounds per batch of {@link OT_BATCH} items.
   * @example
   * ```ts
   * const cross = await pre.crossProducts(a, b, false); // + a * b locally gives a triple's c
   * ```
   */
  async crossProducts(x: BigUint64Array, y: BigUint64Array, binary: boolean): Promise<BigUint64Array> {
    if (x.length !== y.length) throw new RangeError(`x and y must have the same length, got ${x.length} and ${y.length}`);
    await this.#ready();
    const ch = this.#ch;
    const peers = this.#peers();
    const total = new BigUint64Array(x.length);
    for (let off = 0; off < x.length; off += OT_BATCH) {
      const len = Math.min(OT_BATCH, x.length - off);
      const m = 64 * len;
      const xs = x.slice(off, off + len);
      const ys = y.slice(off, off + len);
      const acc = total.subarray(off, off + len);
      const tagU = ch.nextTag();
      // As receiver towards every peer: my y's bits are the choice bits.
      const mine = new Map<number, BigUint64Array>();
      for (const p of peers) {
        const { u, h } = this.#receivers[p].extend(new Uint8Array(ys.buffer), m);
        mine.set(p, h);
        ch.sendBytes(p, tagU, u);
      }
      const tagD = ch.nextTag();
      const dBytes = binary ? 8 * len : 8 * m;
      // As sender towards every peer: corrections for my x.
      await Promise.all(
        peers.map(async (p) => {
          const u = await ch.receiveBytes(p, tagU, (KAPPA * m) >>> 3);
          const { h0, h1 } = this.#senders[p].extend(u, m, p);
          const { d, share } = binary ? andSend(xs, h0, h1) : gilboaSend(xs, h0, h1);
          ch.sendBytes(p, tagD, new Uint8Array(d.buffer));
          if (binary) xor(acc, share, acc);
          else add(acc, share, acc);
        }),
      );
      await Promise.all(
        peers.map(async (p) => {
          const b = await ch.receiveBytes(p, tagD, dBytes);
          const d = new BigUint64Array(b.buffer, b.byteOffset, dBytes >>> 3);
          const h = mine.get(p) as BigUint64Array;
          if (binary) xor(acc, andReceive(ys, h, d), acc);
          else add(acc, gilboaReceive(ys, h, d), acc);
        }),
      );
    }
    return total;
  }

  /** The trivial sharing, on this party, of a value known to party `owner`. */
  #trivial(owner: number, value: BigUint64Array, n: number): Share {
    return [owner === this.#proto.party ? value : new BigUint64Array(n)];
  }

  /**
   * Binary sum of XOR sharings of 64-bit words mod 2^64: carry-save layers (one AND round each) down to two
   * summands, then a Kogge-Stone adder (7 AND rounds). Reserves its AND triples first, in one batch.
   */
  async #addBinary(inputs: Share[]): Promise<Share> {
    const proto = this.#proto;
    const n = inputs[0][0].length;
    await this.#ch.pool.produce({ key: 'andTriple', kind: 'andTriple', count: (inputs.length - 2 + 12) * n });
    let list = inputs.map((s) => s[0]);
    while (list.length > 2) {
      const [a, b, c] = list;
      // Full adder: sum = a ^ b ^ c, carry = maj(a, b, c) = ((a ^ c) & (b ^ c)) ^ c.
      const [mj] = await proto.and([xor(a, c)], [xor(b, c)]);
      const carry = shiftLeft(xor(mj, c, mj), 1, mj);
      list = [xor(xor(a, b), c), carry, ...list.slice(3)];
    }
    const [x, y] = list;
    let G = (await proto.and([x], [y]))[0];
    const p0 = xor(x, y);
    let P = p0;
    const gs = new BigUint64Array(n);
    const ps = new BigUint64Array(n);
    for (const sh of [1, 2, 4, 8, 16]) {
      shiftLeft(G, sh, gs);
      shiftLeft(P, sh, ps);
      const [t] = await proto.and2([P], [gs], [ps]);
      G = xor(G, t.subarray(0, n), G);
      P = t.subarray(n);
    }
    shiftLeft(G, 32, gs);
    const [last] = await proto.and([P], [gs]);
    // G holds the carry out of every bit; sum bit k = p_k ^ carry_(k-1).
    return [xor(p0, shiftLeft(xor(G, last, G), 1, gs))];
  }

  /** XOR-shared words to an additive sharing: party j > 0 masks with its own y_j, party 0 learns x - sum y_j. */
  async #b2a(x: Share): Promise<Share> {
    const me = this.#proto.party;
    const n = x[0].length;
    const inputs: Share[] = [x];
    const y = randomRing(n, this.#rng);
    for (let j = 1; j < this.#proto.parties; j++) inputs.push(this.#trivial(j, neg(y), n));
    const masked = await this.#addBinary(inputs);
    const x0 = await this.#proto.openTo(masked, true, 0);
    return [me === 0 ? (x0 as BigUint64Array) : y];
  }

  /** XOR-shared bits (words 0 or 1) to an additive sharing: u ^ v = u + v - 2uv, pairwise in a tree. */
  async #bitsToArithmetic(bits: BigUint64Array): Promise<BigUint64Array> {
    const n = bits.length;
    const parties = this.#proto.parties;
    await this.#ch.pool.produce({ key: 'triple', kind: 'triple', count: (parties - 1) * n });
    let level: BigUint64Array[] = [];
    for (let j = 0; j < parties; j++) level.push(this.#trivial(j, bits, n)[0]);
    const minus2 = BigInt.asUintN(64, -2n);
    while (level.length > 1) {
      const pairs = Math.floor(level.length / 2);
      const us = concat(level.slice(0, 2 * pairs).filter((_, i) => i % 2 === 0));
      const vs = concat(level.slice(0, 2 * pairs).filter((_, i) => i % 2 === 1));
      const [uv] = await this.#proto.mul([us], [vs]);
      const next: BigUint64Array[] = [];
      const sum = add(add(us, vs), scale(uv, minus2));
      for (let k = 0; k < pairs; k++) next.push(sum.subarray(k * n, (k + 1) * n));
      if (level.length % 2 === 1) next.push(level[level.length - 1]);
      level = next;
    }
    return level[0].slice();
  }

  /**
   * Generates `req.count` items of material on this party, with the dealer's fields and sharing.
   * @example
   * ```ts
   * const material = await pre.generate({ key: 'triple', kind: 'triple', count: 1024 });
   * ```
   */
  async generate(req: MaterialRequest): Promise<Material> {
    const count = req.count;
    const rng = this.#rng;
    const fields = new Map<string, BigUint64Array[]>();
    switch (req.kind) {
      case 'triple':
      case 'andTriple': {
        // c = a_i b_i (a_i & b_i) locally plus this party's share of every cross term.
        const binary = req.kind === 'andTriple';
        const a = randomRing(count, rng);
        const b = randomRing(count, rng);
        const c = await this.crossProducts(a, b, binary);
        if (binary) xor(c, and(a, b), c);
        else add(c, mul(a, b), c);
        fields.set('a', [a]).set('b', [b]).set('c', [c]);
        break;
      }
      case 'matTriple': {
        const { m = 0, k = 0, n = 0 } = req;
        const a = randomRing(count * m * k, rng);
        const b = randomRing(count * k * n, rng);
        // One Gilboa product per term A[p][r] B[r][q]: index ((t m + p) k + r) n + q.
        const terms = count * m * k * n;
        if (terms > MAX_MATRIX_TERMS) {
          throw new RangeError(
            `dealer-free matrix triples make one OT product per term: count * m * k * n must be at most ${MAX_MATRIX_TERMS}, got ${terms} (use dealer: 'trusted' for this size)`,
          );
        }
        const xs = new BigUint64Array(terms);
        const ys = new BigUint64Array(terms);
        for (let t = 0, i = 0; t < count; t++) {
          for (let p = 0; p < m; p++) {
            for (let r = 0; r < k; r++) {
              const av = a[(t * m + p) * k + r];
              for (let q = 0; q < n; q++, i++) {
                xs[i] = av;
                ys[i] = b[(t * k + r) * n + q];
              }
            }
          }
        }
        const cross = await this.crossProducts(xs, ys, false);
        const c = new BigUint64Array(count * m * n);
        for (let t = 0; t < count; t++) {
          const ct = matmul(a.subarray(t * m * k, (t + 1) * m * k), b.subarray(t * k * n, (t + 1) * k * n), m, k, n);
          for (let p = 0; p < m; p++) {
            for (let q = 0; q < n; q++) {
              let s = ct[p * n + q];
              for (let r = 0; r < k; r++) s = BigInt.asUintN(64, s + cross[((t * m + p) * k + r) * n + q]);
              c[(t * m + p) * n + q] = s;
            }
          }
        }
        fields.set('a', [a]).set('b', [b]).set('c', [c]);
        break;
      }
      case 'edabit': {
        // r = sum of the parties' own r_i; the XOR sharing of -r is the binary sum of the trivial sharings of -r_i.
        const r = randomRing(count, rng);
        const mine = neg(r);
        const inputs: Share[] = [];
        for (let j = 0; j < this.#proto.parties; j++) inputs.push(this.#trivial(j, mine, count));
        fields.set('r', [r]).set('s', await this.#addBinary(inputs));
        break;
      }
      case 'dabit': {
        const bits = randomRing(count, rng);
        for (let i = 0; i < count; i++) bits[i] = bits[i] & 1n;
        fields.set('a', [await this.#bitsToArithmetic(bits)]).set('x', [bits]);
        break;
      }
      case 'trunc': {
        const sh = req.shift ?? 0;
        if (!Number.isInteger(sh) || sh < 1 || sh > 31) throw new RangeError(`shift must be an integer in [1, 31], got ${sh}`);
        if (!LITTLE_ENDIAN) throw new RangeError('truncation material needs a little-endian platform');
        // r = XOR of the parties' own words; its middle bits and top bit are XOR-linear, so their binary sharings
        // are local. One B2A circuit converts r and the middle bits together, n - 1 exact products the top bit.
        const r = randomRing(count, rng);
        const [both] = await this.#b2a([concat([r, middleBits(r, sh)])]);
        const hi = await this.#bitsToArithmetic(msb(r));
        fields
          .set('r', [both.slice(0, count)])
          .set('hi', [hi])
          .set('lo', [both.slice(count)]);
        break;
      }
    }
    return { request: req, fields };
  }
}
