/**
 * Replicated secret sharing for 3 parties over Z_2^64 and over 64-bit words with XOR (Araki, Furukawa,
 * Lindell, Nof, Ohara, CCS 2016; ABY3, Mohassel and Rindal, CCS 2018, Sec. 2). A value x = x_0 + x_1 + x_2;
 * party i holds (x_i, x_{i+1}). A product needs no triples: party i computes z_i = x_i y_i + x_i y_{i+1} +
 * x_{i+1} y_i plus a share of zero and sends it to party i-1 (one round, one element per party).
 *
 * Shares of zero come from pairwise PRG keys agreed once per run: party i derives alpha_i = F(k_{i,i+1}, t) -
 * F(k_{i-1,i}, t) with AES-128-CTR, t a counter that every party advances identically, so the alphas sum to 0.
 * On worker threads the keys come from X25519 between each pair and HKDF-SHA256; across machines from the TLS
 * keying-material exporter of each authenticated link (`agreeKeys` in `runtime/party-runtime.ts`). Shares of zero
 * can be expanded ahead of time ({@link ReplicatedProtocol.prepareZeros}, the offline phase); every party then
 * consumes them in the same order, so they stay consistent.
 * @module
 */
import { cryptoRng, type Rng } from '@ppml/core';
import { freshSeed, expand, SEED_BYTES } from '../prg.ts';
import { add, add3, matmul, replicatedAnd, replicatedAnd2, replicatedProduct, sub, xor, xor3 } from '../ring.ts';
import type { Channel, Protocol, Share } from './protocol.ts';

/** Pairwise PRG keys of party i: `next` is shared with party i+1, `prev` with party i-1. */
export interface PairKeys {
  readonly next: Uint8Array;
  readonly prev: Uint8Array;
}

/**
 * The replicated 3-party protocol for one party.
 * @example
 * ```ts
 * const protocol = new ReplicatedProtocol(channel, keys);
 * const z = await protocol.mul(x, y);
 * ```
 */
export class ReplicatedProtocol implements Protocol {
  readonly kind = 'replicated' as const;
  readonly party: number;
  readonly parties = 3;
  readonly width = 2;
  readonly publicSlot: number;
  readonly #ch: Channel;
  readonly #rng: Rng;
  readonly #keys: PairKeys;
  #stream = 0n;
  readonly #xorZeros = new WordQueue();
  readonly #arithZeros = new WordQueue();

  /** `rng` draws the input-sharing seeds (default the CSPRNG; tests pass a seeded one). */
  constructor(channel: Channel, keys: PairKeys, rng: Rng = cryptoRng) {
    this.#ch = channel;
    this.#rng = rng;
    this.#keys = keys;
    this.party = channel.party;
    // Component 0 is held by party 0 (first slot) and party 2 (second slot).
    this.publicSlot = this.party === 0 ? 0 : this.party === 2 ? 1 : -1;
  }

  get #next(): number {
    return (this.party + 1) % 3;
  }

  get #prev(): number {
    return (this.party + 2) % 3;
  }

  /** A fresh arithmetic (or XOR) sharing of zero, one element per position. */
  zeroShare(count: number, isXor: boolean): BigUint64Array {
    const pool = isXor ? this.#xorZeros : this.#arithZeros;
    if (pool.available >= count) return pool.take(count);
    return this.#freshZeros(count, isXor);
  }

  /**
   * Offline phase: expands `xor` binary and `arith` arithmetic shares of zero ahead of use.
   * @example
   * ```ts
   * protocol.prepareZeros(11 * n, 0); // enough for n comparisons
   * ```
   */
  prepareZeros(xor: number, arith: number): void {
    if (xor > 0) this.#xorZeros.add(this.#freshZeros(xor, true));
    if (arith > 0) this.#arithZeros.add(this.#freshZeros(arith, false));
  }

  /**
   * Components (x_i, x_{i+1}) of a fresh pseudorandom replicated sharing: component j comes from the key that
   * parties j-1 and j share (ABY3, Mohassel and Rindal 2018, Sec. 2.2), so each component is known to exactly
   * the two parties that hold it and the value is uniform to any single party. Every party advances the same
   * stream counter as for shares of zero, so all three must call it at the same point of the run.
   * @example
   * ```ts
   * const [r0, r1] = protocol.pairRandom(1024); // a random sharing (arithmetic, or XOR: the same words)
   * ```
   */
  pairRandom(count: number): [BigUint64Array, BigUint64Array] {
    const s = this.#stream++;
    return [expand(this.#keys.prev, count, s), expand(this.#keys.next, count, s)];
  }

  #freshZeros(count: number, isXor: boolean): BigUint64Array {
    const s = this.#stream++;
    const a = expand(this.#keys.next, count, s);
    const b = expand(this.#keys.prev, count, s);
    return isXor ? xor(a, b, a) : sub(a, b, a);
  }

  async open(x: Share, isXor: boolean): Promise<BigUint64Array> {
    const tag = this.#ch.nextTag();
    // Party i lacks x_{i+2}; party i+1 holds it as its second component.
    this.#ch.send(this.#prev, tag, x[1]);
    const missing = await this.#ch.receive(this.#next, tag, x[0].length);
    return isXor ? xor3(x[0], x[1], missing, missing) : add3(x[0], x[1], missing, missing);
  }

  async openTo(x: Share, isXor: boolean, to: number): Promise<BigUint64Array | null> {
    const tag = this.#ch.nextTag();
    if (this.party === (to + 1) % 3) this.#ch.send(to, tag, x[1]);
    if (this.party !== to) return null;
    const missing = await this.#ch.receive(this.#next, tag, x[0].length);
    return isXor ? xor3(x[0], x[1], missing, missing) : add3(x[0], x[1], missing, missing);
  }

  async openAdditive(z: BigUint64Array): Promise<BigUint64Array> {
    const tag = this.#ch.nextTag();
    this.#ch.send(this.#next, tag, z);
    this.#ch.send(this.#prev, tag, z);
    const [a, b] = await Promise.all([this.#ch.receive(this.#next, tag, z.length), this.#ch.receive(this.#prev, tag, z.length)]);
    return add3(z, a, b, a);
  }

  /**
   * Opens an XOR sharing to parties 0 and 2 only (the holders of component 0), in one round: party 1 sends
   * each of them the component it lacks. Party 1 gets `null`. Used by the dealer-free B2A conversion.
   * @example
   * ```ts
   * const x0 = await protocol.openToHoldersOfZero(y); // null on party 1
   * ```
   */
  async openToHoldersOfZero(y: Share): Promise<BigUint64Array | null> {
    const tag = this.#ch.nextTag();
    if (this.party === 1) {
      this.#ch.send(0, tag, y[1]);
      this.#ch.send(2, tag, y[0]);
      return null;
    }
    const missing = await this.#ch.receive(1, tag, y[0].length);
    return xor3(y[0], y[1], missing, missing);
  }

  async mulToAdditive(x: Share, y: Share): Promise<BigUint64Array> {
    return replicatedProduct(x[0], x[1], y[0], y[1], null);
  }

  async #reshare(z: BigUint64Array): Promise<Share> {
    const tag = this.#ch.nextTag();
    this.#ch.send(this.#prev, tag, z);
    const other = await this.#ch.receive(this.#next, tag, z.length);
    return [z, other];
  }

  async mul(x: Share, y: Share): Promise<Share> {
    const n = x[0].length;
    return this.#reshare(replicatedProduct(x[0], x[1], y[0], y[1], this.zeroShare(n, false)));
  }

  async and(x: Share, y: Share): Promise<Share> {
    const n = x[0].length;
    return this.#reshare(replicatedAnd(x[0], x[1], y[0], y[1], this.zeroShare(n, true)));
  }

  async and2(x: Share, y: Share, w: Share): Promise<Share> {
    const n = x[0].length;
    return this.#reshare(replicatedAnd2(x[0], x[1], y[0], y[1], w[0], w[1], this.zeroShare(2 * n, true)));
  }

  async matmulToAdditive(x: Share, y: Share, m: number, k: number, n: number): Promise<BigUint64Array> {
    const z = matmul(x[0], add(y[0], y[1]), m, k, n);
    return add(z, matmul(x[1], y[0], m, k, n), z);
  }

  async input(owner: number, values: BigUint64Array | null, count: number): Promise<Share> {
    const tag = this.#ch.nextTag();
    const me = this.party;
    if (me === owner) {
      // Components x_{o+1}, x_{o+2} from seeds; x_o = v - x_{o+1} - x_{o+2}.
      const s1 = freshSeed(this.#rng);
      const s2 = freshSeed(this.#rng);
      const x1 = expand(s1, count);
      const x2 = expand(s2, count);
      const x0 = sub(sub(values as BigUint64Array, x1), x2);
      this.#ch.sendBytes(this.#next, tag, concatBytes([s1, s2]));
      const msg = new Uint8Array(SEED_BYTES + 8 * count);
      msg.set(s2, 0);
      msg.set(new Uint8Array(x0.buffer), SEED_BYTES);
      this.#ch.sendBytes(this.#prev, tag, msg);
      return [x0, x1];
    }
    if (me === (owner + 1) % 3) {
      const b = await this.#ch.receiveBytes(owner, tag, 2 * SEED_BYTES);
      return [expand(b.slice(0, SEED_BYTES), count), expand(b.slice(SEED_BYTES), count)];
    }
    const b = await this.#ch.receiveBytes(owner, tag, SEED_BYTES + 8 * count);
    return [expand(b.slice(0, SEED_BYTES), count), new BigUint64Array(b.buffer, b.byteOffset + SEED_BYTES, count)];
  }

  additivePart(x: Share): BigUint64Array {
    return x[0];
  }
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A FIFO of pre-expanded words. */
class WordQueue {
  readonly #chunks: BigUint64Array[] = [];
  available = 0;

  add(words: BigUint64Array): void {
    this.#chunks.push(words);
    this.available += words.length;
  }

  take(count: number): BigUint64Array {
    const head = this.#chunks[0];
    if (head.length >= count) {
      const out = head.subarray(0, count);
      if (head.length === count) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(count);
      this.available -= count;
      return out;
    }
    const out = new BigUint64Array(count);
    let off = 0;
    while (off < count) {
      const h = this.#chunks[0];
      const k = Math.min(h.length, count - off);
      out.set(h.subarray(0, k), off);
      off += k;
      if (k === h.length) this.#chunks.shift();
      else this.#chunks[0] = h.subarray(k);
    }
    this.available -= count;
    return out;
  }
}
