/**
 * Additive secret sharing among n >= 2 parties over Z_2^64 (and XOR sharing over 64-bit words), semi-honest,
 * with Beaver triples from a dealer (Beaver 1991; the "Semi2k"/dealer setting of MP-SPDZ and SPU, CrypTen's
 * TTP mode). A value x is x_0 + ... + x_{n-1}, party i holding x_i. Opening costs one round in which every
 * party sends its share to every other; a product costs one opening of (x - a, y - b).
 * @module
 */
import { cryptoRng, type Rng } from '@ppml/core';
import { freshSeed, expand, SEED_BYTES } from '../prg.ts';
import { add, beaverCombine, beaverCombineXor, concat, matmul, sub, xor } from '../ring.ts';
import type { Channel, Protocol, Share } from './protocol.ts';

/**
 * The additive protocol for one party.
 * @example
 * ```ts
 * const protocol = new AdditiveProtocol(channel);
 * const z = await protocol.mul(x, y);
 * ```
 */
export class AdditiveProtocol implements Protocol {
  readonly kind = 'additive' as const;
  readonly party: number;
  readonly parties: number;
  readonly width = 1;
  readonly publicSlot: number;
  readonly #ch: Channel;
  readonly #rng: Rng;

  /** `rng` draws the input-sharing seeds (default the CSPRNG; tests pass a seeded one). */
  constructor(channel: Channel, rng: Rng = cryptoRng) {
    this.#ch = channel;
    this.#rng = rng;
    this.party = channel.party;
    this.parties = channel.transport.parties;
    this.publicSlot = this.party === 0 ? 0 : -1;
  }

  async #openArray(v: BigUint64Array, isXor: boolean): Promise<BigUint64Array> {
    const tag = this.#ch.nextTag();
    const peers: number[] = [];
    for (let p = 0; p < this.parties; p++) if (p !== this.party) peers.push(p);
    for (const p of peers) this.#ch.send(p, tag, v);
    const got = await Promise.all(peers.map((p) => this.#ch.receive(p, tag, v.length)));
    // Sum into the first received buffer (ours, transferred): no new allocation.
    const out = got[0];
    if (isXor) xor(out, v, out);
    else add(out, v, out);
    for (let k = 1; k < got.length; k++) {
      if (isXor) xor(out, got[k], out);
      else add(out, got[k], out);
    }
    return out;
  }

  open(x: Share, isXor: boolean): Promise<BigUint64Array> {
    return this.#openArray(x[0], isXor);
  }

  async openTo(x: Share, isXor: boolean, to: number): Promise<BigUint64Array | null> {
    const tag = this.#ch.nextTag();
    const v = x[0];
    if (this.party !== to) {
      this.#ch.send(to, tag, v);
      return null;
    }
    const out = v.slice();
    for (let p = 0; p < this.parties; p++) {
      if (p === to) continue;
      const g = await this.#ch.receive(p, tag, v.length);
      if (isXor) xor(out, g, out);
      else add(out, g, out);
    }
    return out;
  }

  openAdditive(z: BigUint64Array): Promise<BigUint64Array> {
    return this.#openArray(z, false);
  }

  async mulToAdditive(x: Share, y: Share): Promise<BigUint64Array> {
    const n = x[0].length;
    const t = await this.#ch.pool.take({ key: 'triple', kind: 'triple', count: n });
    const a = (t.get('a') as Share)[0];
    const b = (t.get('b') as Share)[0];
    const c = (t.get('c') as Share)[0];
    const de = new BigUint64Array(2 * n);
    sub(x[0], a, de.subarray(0, n));
    sub(y[0], b, de.subarray(n));
    const open = await this.#openArray(de, false);
    return beaverCombine(a, b, c, open.subarray(0, n), open.subarray(n), this.party === 0, c);
  }

  async mul(x: Share, y: Share): Promise<Share> {
    return [await this.mulToAdditive(x, y)];
  }

  async and(x: Share, y: Share): Promise<Share> {
    const n = x[0].length;
    const t = await this.#ch.pool.take({ key: 'andTriple', kind: 'andTriple', count: n });
    const a = (t.get('a') as Share)[0];
    const b = (t.get('b') as Share)[0];
    const c = (t.get('c') as Share)[0];
    const de = new BigUint64Array(2 * n);
    xor(x[0], a, de.subarray(0, n));
    xor(y[0], b, de.subarray(n));
    const open = await this.#openArray(de, true);
    return [beaverCombineXor(a, b, c, open.subarray(0, n), open.subarray(n), this.party === 0, c)];
  }

  async and2(x: Share, y: Share, w: Share): Promise<Share> {
    const n = x[0].length;
    const t = await this.#ch.pool.take({ key: 'andTriple', kind: 'andTriple', count: 2 * n });
    const a = (t.get('a') as Share)[0];
    const b = (t.get('b') as Share)[0];
    const c = (t.get('c') as Share)[0];
    const de = new BigUint64Array(4 * n);
    xor(x[0], a.subarray(0, n), de.subarray(0, n));
    xor(x[0], a.subarray(n), de.subarray(n, 2 * n));
    xor(y[0], b.subarray(0, n), de.subarray(2 * n, 3 * n));
    xor(w[0], b.subarray(n), de.subarray(3 * n));
    const open = await this.#openArray(de, true);
    return [beaverCombineXor(a, b, c, open.subarray(0, 2 * n), open.subarray(2 * n), this.party === 0, c)];
  }

  async matmulToAdditive(x: Share, y: Share, m: number, k: number, n: number): Promise<BigUint64Array> {
    const t = await this.#ch.pool.take({ key: `mm:${m}x${k}x${n}`, kind: 'matTriple', count: 1, m, k, n });
    const a = (t.get('a') as Share)[0];
    const b = (t.get('b') as Share)[0];
    const c = (t.get('c') as Share)[0];
    const open = await this.#openArray(concat([sub(x[0], a), sub(y[0], b)]), false);
    const d = open.subarray(0, m * k);
    const e = open.subarray(m * k);
    // XY = (D + A)(E + B) = AB + DB + AE + DE, with DE added by party 0 only.
    const z = c.slice();
    add(z, matmul(d, b, m, k, n), z);
    add(z, matmul(a, e, m, k, n), z);
    if (this.party === 0) add(z, matmul(d, e, m, k, n), z);
    return z;
  }

  async input(owner: number, values: BigUint64Array | null, count: number): Promise<Share> {
    const tag = this.#ch.nextTag();
    if (this.party === owner) {
      const mine = (values as BigUint64Array).slice();
      for (let p = 0; p < this.parties; p++) {
        if (p === owner) continue;
        const seed = freshSeed(this.#rng);
        sub(mine, expand(seed, count), mine);
        this.#ch.sendBytes(p, tag, seed);
      }
      return [mine];
    }
    const seed = await this.#ch.receiveBytes(owner, tag, SEED_BYTES);
    return [expand(seed, count)];
  }

  additivePart(x: Share): BigUint64Array {
    return x[0];
  }
}
