/**
 * Dealer-free preprocessing for additive sharing among n >= 2 parties (internal): the parties make every kind of
 * material the dealer would deal (`preprocessing.ts`) themselves, from oblivious transfer, semi-honest with a
 * dishonest majority: any n - 1 colluding parties learn nothing about the remaining party's shares, and a party
 * that deviates is not detected. The output has exactly the dealer's fields and sharing, so the online
 * operations (`party.ts`) are unchanged.
 *
 * - Once per run: 128 base OTs per ordered pair (Chou-Orlandi on ristretto255, `ot/base-ot.ts`).
 * - Random OTs by IKNP extension (`ot/iknp.ts`), two rounds per batch of up to 2^14 items, all pairs at once
 *   (four, with the KOS check, for the products over Z_2^128 below).
 * - Triples (the "Semi2k" offline phase of MP-SPDZ; Keller, CCS 2020): party i draws a_i, b_i; every cross
 *   term a_i b_j (i != j) becomes additive shares by a Gilboa product over 64 OTs (`ot/gilboa.ts`), and
 *   c_i = a_i b_i + the shares of party i. AND triples the same over bits (one OT per bit, a 1-bit correction).
 *   Matrix triples: one Gilboa product per term A_i[p][r] B_j[r][q], summed over r.
 * - Cross products over Z_2^128 (`crossProducts128`, for an SPDZ2k offline phase over Z_2^(k+s); Cramer et al.,
 *   CRYPTO 2018, Sec. 5): the same Gilboa products mod 2^128 (`ot/gilboa128.ts`) on IKNP OTs with 128-bit
 *   messages, from the same base OTs and extension streams, with the KOS consistency check (`ot/iknp.ts`; Keller,
 *   Orsini and Scholl, CRYPTO 2015), so a receiver that sends inconsistent extension columns is caught before
 *   it can learn both messages of an OT. Several products sharing the receiver's operand
 *   (`crossProductsShared128`) take one extension and one pad per product per OT (tweaked hashes of its row).
 * - Products with a fixed 64-bit scalar (`macCross`, SPDZ2k's MACs alpha_j v_i): correlated OT with errors
 *   (`ot/cope.ts`; MASCOT, CCS 2016, Sec. 4), 64 base OTs per ordered pair once, then one round per call and
 *   no extension.
 * - Truncation pairs, edaBits and daBits follow the replicated generator (`replicated-preprocessing.ts`) with
 *   n-party circuits on the triples above: a binary adder over n trivial XOR sharings (carry-save layers, then
 *   a Kogge-Stone adder; Escudero et al., CRYPTO 2020, Sec. 3), B2A by masking with the parties' own random
 *   words and opening the difference to party 0, and XOR of bits by u + v - 2uv.
 * @module
 */
import { cryptoRng, type Rng } from '@ppml/core';
import { baseOts } from '../ot/base-ot.ts';
import { COPE_BITS, CopeReceiver, CopeSender, copeMessageBytes, scalarBits } from '../ot/cope.ts';
import { andReceive, andSend, gilboaReceive, gilboaSend } from '../ot/gilboa.ts';
import { gilboa128ReceivePacked, gilboa128Send, packCorrections, packedCorrectionBytes } from '../ot/gilboa128.ts';
import { IknpReceiver, IknpSender, KAPPA, KOS_ANSWER_BYTES, KOS_PADDING, KOS_SEED_BYTES, tweakedPads } from '../ot/iknp.ts';
import type { Material, MaterialRequest } from '../preprocessing.ts';
import { randomRing } from '../prg.ts';
import { add, and, concat, matmul, middleBits, msb, mul, neg, scale, shiftLeft, xor } from '../ring.ts';
import type { Channel, Protocol, Share } from './protocol.ts';

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
/** Largest matrix triple request (terms A[p][r] B[r][q]): its term arrays take 128 MiB each. */
const MAX_MATRIX_TERMS = 2 ** 24;
/** Items per OT-extension batch: 2^20 OTs, 16 MiB of extension columns per pair and direction. */
const OT_BATCH = 2 ** 14;
/** OTs per batch of products over Z_2^128 (2^13 items of 128 OTs, or 2^14 of 64): as many as {@link OT_BATCH}. */
const OT_BATCH_OTS = 64 * OT_BATCH;

/** The 32-bit limbs of 64-bit words (least significant first on a little-endian platform). */
function limbs32(a: BigUint64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, 2 * a.length);
}

/** acc += v mod 2^128 in place, values as low and high 64-bit words, on 32-bit limbs (no BigInt per item). */
function add128(accLo: BigUint64Array, accHi: BigUint64Array, lo: BigUint64Array, hi: BigUint64Array): void {
  const al = limbs32(accLo);
  const ah = limbs32(accHi);
  const bl = limbs32(lo);
  const bh = limbs32(hi);
  for (let i = 0; i < al.length; i += 2) {
    let s = al[i] + bl[i];
    al[i] = s >>> 0;
    s = al[i + 1] + bl[i + 1] + (s > 0xffff_ffff ? 1 : 0);
    al[i + 1] = s >>> 0;
    s = ah[i] + bh[i] + (s > 0xffff_ffff ? 1 : 0);
    ah[i] = s >>> 0;
    ah[i + 1] = (ah[i + 1] + bh[i + 1] + (s > 0xffff_ffff ? 1 : 0)) >>> 0;
  }
}

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
  /** The fixed scalar of {@link macCross}, set by its first call. */
  #alpha: bigint | null = null;
  #macSetup: Promise<void> | null = null;
  readonly #copeSenders: CopeSender[] = [];
  readonly #copeReceivers: CopeReceiver[] = [];

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

  /**
   * This party's additive share over Z_2^128 of sum over ordered pairs i != j of x_i * y_j, where each party
   * passes its x_i = xLo + 2^64 xHi and y_i = yLo + 2^64 yHi: Gilboa products mod 2^128 (`ot/gilboa128.ts`) by
   * IKNP OTs with 128-bit messages, with every peer at once, from the base OTs and extension streams that
   * {@link crossProducts} uses. y's low `yBits` bits are this party's choice bits as OT receiver: with `yBits`
   * 64 (y below 2^64, as SPDZ2k's MAC key shares) an item takes 64 OTs per ordered pair, with 128 it takes
   * 128. The corrections are sent cut to the bits the receiver uses (`packCorrections` in `ot/gilboa128.ts`):
   * 10 bytes per OT on average with `yBits` 128, 14 with 64. Four rounds per batch of 2^20 OTs (the extension
   * columns for 2^20 + 192 OTs, the KOS check's seed and answer, the corrections; a failed check aborts with a
   * ProtocolAbortError naming the peer before any correction is sent); every message's
   * size is checked, so a wrong length aborts with a ProtocolAbortError naming the peer. The result is
   * `lo + 2^64 hi` per item. For MACs under a fixed key, {@link macCross} is cheaper (no extension at all).
   * Implemented as {@link crossProductsShared128} with one product.
   * @example
   * ```ts
   * // Every party: its alpha_i (below 2^64) against every other party's b_j in Z_2^128.
   * const { lo, hi } = await pre.crossProducts128(bLo, bHi, alpha, new BigUint64Array(alpha.length), 64);
   * ```
   */
  async crossProducts128(
    xLo: BigUint64Array,
    xHi: BigUint64Array,
    yLo: BigUint64Array,
    yHi: BigUint64Array,
    yBits: 64 | 128,
  ): Promise<{ lo: BigUint64Array; hi: BigUint64Array }> {
    for (const [name, a] of [
      ['xLo', xLo],
      ['xHi', xHi],
      ['yLo', yLo],
      ['yHi', yHi],
    ] as const) {
      if (!(a instanceof BigUint64Array)) throw new TypeError(`${name} must be a BigUint64Array`);
    }
    const n = xLo.length;
    if (xHi.length !== n || yLo.length !== n || yHi.length !== n) {
      throw new RangeError(
        `xLo, xHi, yLo and yHi must have the same length, got ${xLo.length}, ${xHi.length}, ${yLo.length} and ${yHi.length}`,
      );
    }
    const [out] = await this.crossProductsShared128([{ lo: xLo, hi: xHi }], yLo, yHi, yBits);
    return out;
  }

  /**
   * {@link crossProducts128} for several x against one y: for each `xs[k]` this party's additive share over
   * Z_2^128 of sum over ordered pairs i != j of xs[k]_i * y_j, from ONE IKNP extension (`yBits` OTs per item
   * and ordered pair) whatever the number of products: product k's Gilboa corrections use the OTs' pad number k
   * (`tweakedPads` in `ot/iknp.ts`: the correlation-robust hash of each row at a distinct offset, so the pads are
   * independent; an OT with vector messages as in MASCOT, Keller, Orsini and Scholl, CCS 2016, Sec. 5). Every
   * party passes the same number of products and the same length. Four rounds per batch of 2^20 OTs, checked
   * as in {@link crossProducts128}; the
   * corrections of all products go in one message per peer, size-checked (a wrong length aborts with a
   * ProtocolAbortError naming the peer). `xs.length` 1 is {@link crossProducts128}, message for message.
   * @example
   * ```ts
   * // Two triples' products a * b and a2 * b with one extension: b's bits are the choice bits of both.
   * const [ab, a2b] = await pre.crossProductsShared128([{ lo: aLo, hi: aHi }, { lo: a2Lo, hi: a2Hi }], bLo, bHi, 128);
   * ```
   */
  async crossProductsShared128(
    xs: readonly { lo: BigUint64Array; hi: BigUint64Array }[],
    yLo: BigUint64Array,
    yHi: BigUint64Array,
    yBits: 64 | 128,
  ): Promise<{ lo: BigUint64Array; hi: BigUint64Array }[]> {
    if (!Array.isArray(xs) || xs.length === 0) throw new RangeError('xs must be a non-empty array of { lo, hi }');
    for (const [name, a] of [
      ['yLo', yLo],
      ['yHi', yHi],
    ] as const) {
      if (!(a instanceof BigUint64Array)) throw new TypeError(`${name} must be a BigUint64Array`);
    }
    const n = yLo.length;
    for (let k = 0; k < xs.length; k++) {
      const x = xs[k] as { lo?: unknown; hi?: unknown } | null;
      if (!(x?.lo instanceof BigUint64Array) || !(x.hi instanceof BigUint64Array)) {
        throw new TypeError(`xs[${k}] must be { lo, hi } of BigUint64Arrays`);
      }
      if (x.lo.length !== n || x.hi.length !== n) {
        throw new RangeError(
          `xs[${k}].lo, xs[${k}].hi, yLo and yHi must have the same length, got ${x.lo.length}, ${x.hi.length}, ${n} and ${yHi.length}`,
        );
      }
    }
    if (yHi.length !== n) throw new RangeError(`yLo and yHi must have the same length, got ${n} and ${yHi.length}`);
    if (yBits !== 64 && yBits !== 128) throw new RangeError(`yBits must be 64 or 128, got ${String(yBits)}`);
    if (yBits === 64) {
      const i = yHi.findIndex((v) => v !== 0n);
      if (i >= 0) throw new RangeError(`with yBits 64, y must be below 2^64: yHi[${i}] must be 0`);
    }
    await this.#ready();
    const ch = this.#ch;
    const peers = this.#peers();
    const K = xs.length;
    const out = xs.map(() => ({ lo: new BigUint64Array(n), hi: new BigUint64Array(n) }));
    const batch = OT_BATCH_OTS / yBits;
    for (let off = 0; off < n; off += batch) {
      const len = Math.min(batch, n - off);
      const m = yBits * len;
      const xsLo = xs.map((x) => x.lo.slice(off, off + len));
      const xsHi = xs.map((x) => x.hi.slice(off, off + len));
      const ysLo = yLo.slice(off, off + len);
      const ysHi = yHi.slice(off, off + len);
      const accLo = out.map((o) => o.lo.subarray(off, off + len));
      const accHi = out.map((o) => o.hi.subarray(off, off + len));
      // Choice bits of item t: bits yBits t .. yBits t + yBits - 1, the low yBits bits of y[t].
      let choices = ysLo;
      if (yBits === 128) {
        choices = new BigUint64Array(2 * len);
        for (let t = 0; t < len; t++) {
          choices[2 * t] = ysLo[t];
          choices[2 * t + 1] = ysHi[t];
        }
      }
      const tagU = ch.nextTag();
      // Checked extension (KOS, `ot/iknp.ts`): u for m + KOS_PADDING OTs, the sender's seed, the receiver's
      // answer, verified before any correction (a function of the pads) leaves the sender.
      const check = { checked: true, rng: this.#rng } as const;
      const mine = new Map<number, { rows: Uint32Array; answer(seed: Uint8Array): Uint8Array }>();
      for (const p of peers) {
        const ext = this.#receivers[p].extendRows(new Uint8Array(choices.buffer), m, check);
        mine.set(p, ext);
        ch.sendBytes(p, tagU, ext.u);
      }
      const tagS = ch.nextTag();
      const theirs = new Map<number, { rows: Uint32Array; verify(answer: Uint8Array): void }>();
      await Promise.all(
        peers.map(async (p) => {
          const u = await ch.receiveBytes(p, tagU, (KAPPA * (m + KOS_PADDING)) >>> 3);
          const ext = this.#senders[p].extendRows(u, m, p, check);
          theirs.set(p, ext);
          ch.sendBytes(p, tagS, ext.seed);
        }),
      );
      const tagA = ch.nextTag();
      await Promise.all(
        peers.map(async (p) => {
          const seed = await ch.receiveBytes(p, tagS, KOS_SEED_BYTES);
          ch.sendBytes(p, tagA, (mine.get(p) as { answer(seed: Uint8Array): Uint8Array }).answer(seed));
        }),
      );
      const tagD = ch.nextTag();
      // Corrections truncated to the bits the receiver uses (`packCorrections`), all products in one message.
      const dBytes = packedCorrectionBytes(yBits, len);
      await Promise.all(
        peers.map(async (p) => {
          const ext = theirs.get(p) as { rows: Uint32Array; verify(answer: Uint8Array): void };
          ext.verify(await ch.receiveBytes(p, tagA, KOS_ANSWER_BYTES));
          const rows = ext.rows;
          const msg = new Uint8Array(K * dBytes);
          for (let k = 0; k < K; k++) {
            const { h0, h1 } = this.#senders[p].pads128(rows, k);
            const { d, lo: sLo, hi: sHi } = gilboa128Send(xsLo[k], xsHi[k], h0, h1, yBits);
            packCorrections(d, yBits, msg, k * dBytes);
            add128(accLo[k], accHi[k], sLo, sHi);
          }
          ch.sendBytes(p, tagD, msg);
        }),
      );
      await Promise.all(
        peers.map(async (p) => {
          const b = await ch.receiveBytes(p, tagD, K * dBytes);
          const { rows } = mine.get(p) as { rows: Uint32Array };
          for (let k = 0; k < K; k++) {
            const d = b.subarray(k * dBytes, (k + 1) * dBytes);
            const r = gilboa128ReceivePacked(ysLo, ysHi, tweakedPads(rows, k), d, yBits);
            add128(accLo[k], accHi[k], r.lo, r.hi);
          }
        }),
      );
    }
    return out;
  }

  /**
   * This party's additive share over Z_2^128 of sum over ordered pairs i != j of alpha_j * v_i, where each party
   * passes its values v_i = vLo + 2^64 vHi and its fixed scalar alpha_i < 2^64 (SPDZ2k's MAC key share): vector
   * OLE by correlated OT with errors (`ot/cope.ts`; MASCOT, CCS 2016, Sec. 4; SPDZ2k, CRYPTO 2018, Sec. 5). The
   * first call runs 64 base OTs per ordered pair, both directions in one batch, whose choice bits are alpha's
   * bits; every call after that is one round with every peer at once and no OT extension (a message of 896 bytes
   * per item and peer: 64 corrections of 128 bits, those of alpha's high 32 bits cut to 96; batched by {@link OT_BATCH} items, all batches sent before any is awaited). alpha is fixed for
   * the run: a later call with another alpha throws a RangeError. Every message's size is checked, so a wrong
   * length aborts with a ProtocolAbortError naming the peer. The result is `lo + 2^64 hi` per item.
   * @example
   * ```ts
   * // The MAC shares of v: alpha_i v_i locally plus this party's share of every alpha_j v_i, i != j.
   * const { lo, hi } = await pre.macCross(vLo, vHi, alpha);
   * ```
   */
  async macCross(vLo: BigUint64Array, vHi: BigUint64Array, alpha: bigint): Promise<{ lo: BigUint64Array; hi: BigUint64Array }> {
    if (!(vLo instanceof BigUint64Array)) throw new TypeError('vLo must be a BigUint64Array');
    if (!(vHi instanceof BigUint64Array)) throw new TypeError('vHi must be a BigUint64Array');
    if (vHi.length !== vLo.length) throw new RangeError(`vLo and vHi must have the same length, got ${vLo.length} and ${vHi.length}`);
    if (typeof alpha !== 'bigint' || alpha < 0n || alpha >= 1n << BigInt(COPE_BITS)) {
      throw new RangeError(`alpha must be a bigint in [0, 2^${COPE_BITS}), got ${String(alpha)}`);
    }
    if (this.#alpha === null) this.#alpha = alpha;
    else if (alpha !== this.#alpha) throw new RangeError('alpha must be the same on every call of a run (the base OTs fix it)');
    if (this.#macSetup === null) {
      this.#macSetup = (async () => {
        const peers = this.#peers();
        const choices: (Uint8Array | null)[] = [];
        for (const p of peers) choices[p] = scalarBits(alpha);
        const { sent, received } = await baseOts(this.#ch, COPE_BITS, choices, this.#rng);
        for (const p of peers) {
          this.#copeSenders[p] = new CopeSender(sent[p].k0, sent[p].k1);
          this.#copeReceivers[p] = new CopeReceiver(alpha, received[p]);
        }
      })();
    }
    await this.#macSetup;
    const ch = this.#ch;
    const peers = this.#peers();
    const n = vLo.length;
    const lo = new BigUint64Array(n);
    const hi = new BigUint64Array(n);
    const tags: string[] = [];
    for (let off = 0; off < n; off += OT_BATCH) {
      const len = Math.min(OT_BATCH, n - off);
      const tag = ch.nextTag();
      tags.push(tag);
      const bLo = vLo.slice(off, off + len);
      const bHi = vHi.slice(off, off + len);
      for (const p of peers) {
        const s = this.#copeSenders[p].send(bLo, bHi);
        ch.sendBytes(p, tag, s.u);
        add128(lo.subarray(off, off + len), hi.subarray(off, off + len), s.lo, s.hi);
      }
    }
    for (let b = 0, off = 0; off < n; b++, off += OT_BATCH) {
      const len = Math.min(OT_BATCH, n - off);
      await Promise.all(
        peers.map(async (p) => {
          const u = await ch.receiveBytes(p, tags[b], copeMessageBytes(len));
          const r = (this.#copeReceivers[p] as CopeReceiver).receive(u, len, p);
          add128(lo.subarray(off, off + len), hi.subarray(off, off + len), r.lo, r.hi);
        }),
      );
    }
    return { lo, hi };
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
