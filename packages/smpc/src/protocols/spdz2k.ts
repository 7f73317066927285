/**
 * Additive sharing among n >= 2 parties secure against any number of malicious parties, with abort: SPDZ2k
 * (Cramer, Damgard, Escudero, Scholl, Xing, CRYPTO 2018), with its offline phase made by the parties from
 * oblivious transfer (internal). A value x of Z_2^64 is held as x~ in Z_2^128 with x~ = x mod 2^64; party i
 * holds x~_i and a MAC share m_i, where sum m_i = alpha x~ for the global key alpha = sum alpha_i, alpha_i in
 * Z_2^64 uniform and private to party i. A share is four components: x~_i low and high words, m_i low and high.
 *
 * - **Openings are checked in batches** (SPDZ2k Sec. 3, Pi_MACCheck): every opened value and the sender's MAC
 *   share are kept; a check draws public coefficients chi_j in Z_2^64 from a coin tossed after the values are
 *   fixed, y = sum chi_j v_j, and each party commits to z_i = sum chi_j m_ij - alpha_i y, then opens it; the
 *   check passes when sum z_i = 0. An opened value wrong mod 2^k passes with probability at most
 *   2^(-s + log2(s + 1)). Every party also hashes what it opened and exchanges the digest: a party that sends
 *   different shares to different parties is caught without any probability.
 * - **Parameters**: k = 66 data bits checked (the 64 of the ring and the two that random bits need below), and
 *   the check is made mod 2^127 (the halving in random-bit generation drops one bit), so s = 127 - 66 = 61 and a
 *   run aborts a cheater except with probability 2^-55. `statisticalSecurity` may therefore be at most 55.
 * - **Inputs** (SPDZ2k Sec. 4): the owner holds an authenticated random r that it knows and broadcasts x - r;
 *   the broadcast is in the digest. Private outputs open x + r for the receiver's r.
 * - **Products** by Beaver triples with MACs; **triples** from OT-based Gilboa products over Z_2^128 among all
 *   pairs (`ot/gilboa128.ts`), authenticated by correlated OT with the MAC keys (COPEe, `ot/cope.ts`; MASCOT
 *   Sec. 4), and checked by sacrifice
 *   (SPDZ2k Sec. 5; MASCOT, Keller, Orsini, Scholl, CCS 2016, Sec. 5): with a second triple (a^, b, c^) and a
 *   public coin t in Z_2^128, rho = t a - a^ is opened and t c - c^ - rho b must open to 0. An error e in c
 *   survives only if t e equals the error in c^, probability at most 2^-64 for e != 0 mod 2^64.
 * - **Random bits** (Damgard, Escudero, Frederiksen, Keller, Scholl, Volgushev, IEEE S&P 2019, Sec. 4.1): for
 *   random [u], a = 2u + 1 is odd, a^2 is opened, y = a^-1 root of it, d = y a is +-1 (mod 2^65 whatever the
 *   high bits of the opening), and (d + 1) / 2 is a bit. Every share of d + 1, data and MAC, is even by
 *   construction (y and a are odd, alpha_i (y + 1) is even), so halving the shares is exact mod 2^127.
 * - **Truncation** by f bits masks z with r = sum_j 2^j b_j (64 random bits) plus 2^64 times a random value
 *   (which hides the high words), and takes the exact-wrap formula of `party.ts` on the low 64 bits of the
 *   opened value: error in {0, +1} ulp for |z| < 2^62 like the other modes.
 * - **Comparison** [x < 0] opens c = x + r the same way and computes the borrow of c - r below bit 63 from the
 *   shared bits of r with a tree of (generate, propagate) compositions (6 rounds, 124 products per element; a
 *   linear chain would need 62 products but 62 rounds), then msb = c_63 xor r_63 xor borrow: 8 rounds in all.
 * - **Checks before and after every reveal**, as in the replicated malicious mode: nothing derived from an
 *   unchecked opening is revealed, and every party confirms its verdict.
 *
 * What a cheating party can still do: abort (denial of service); and, as in SPDZ2k's analysis, a party that
 * deviates in the OT messages of the offline phase makes the run abort except with the probability above
 * (selective failure may leak a bit of a random mask at the cost of a 1/2 chance of being caught; MASCOT's
 * combining step, which removes it, is not applied here).
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import { cryptoRng, type Rng } from '@ppml/core';
import { ProtocolAbortError } from '../errors.ts';
import { expand, freshSeed, randomRing, SEED_BYTES } from '../prg.ts';
import { truncPublic } from '../ring.ts';
import {
  add128,
  addShifted128,
  beaver128,
  concat128,
  copy128,
  dot128x64,
  get128,
  half128,
  invSqrt128,
  lift128,
  mul128,
  neg128,
  scale128,
  set128,
  shiftSum128,
  sub128,
  total128,
  type Vec128,
  view128,
  zeros128,
} from '../ring128.ts';
import type { AdditivePreprocessing } from './additive-preprocessing.ts';
import type { Channel, Protocol, Share } from './protocol.ts';

/** Data bits whose errors the MAC check catches (64 ring bits and 2 for random-bit generation). */
export const SPDZ2K_K = 66;
/** MAC-check modulus exponent: shares live in Z_2^128; random-bit halving leaves relations mod 2^127. */
const CHECK_BITS = 127;
const CHECK_MASK = (1n << BigInt(CHECK_BITS)) - 1n;
const BIAS = 1n << 62n;
const VERDICT_OK = 0x4f4bn;
/** Smallest batch of material made at once (a batch costs a few rounds whatever its size). */
const MIN_BATCH = 256;
/** Largest batch of material made at once: bounds the memory and the purely local time of one step. */
const MAKE_BATCH = 2 ** 16;
/**
 * Elements per truncation or comparison step: each element takes 64 random bits, so a step holds at most 2^20
 * authenticated bits (32 MiB) whatever the operation's size.
 */
const ELEMENT_CHUNK = 2 ** 14;
/** Element products per block of a matrix product. */
const MATMUL_BLOCK = 2 ** 18;
/** Opened values kept for one MAC check before a check runs on its own (bounds the memory). */
const MAX_PENDING = 2 ** 20;

/** An authenticated sharing on one party: its data share and MAC share, both in Z_2^128. */
export interface Auth {
  readonly v: Vec128;
  readonly m: Vec128;
}

/**
 * The share components of an authenticated sharing: data low and high words, MAC low and high words.
 * @example
 * ```ts
 * const share = toShare({ v, m });
 * ```
 */
export function toShare(a: Auth): Share {
  return [a.v.lo, a.v.hi, a.m.lo, a.m.hi];
}

/**
 * The authenticated sharing of share components (the inverse of {@link toShare}).
 * @example
 * ```ts
 * const { v, m } = toAuth(share);
 * ```
 */
export function toAuth(s: Share): Auth {
  if (s.length !== 4) throw new RangeError(`an SPDZ2k share has 4 components, got ${s.length}`);
  return { v: { lo: s[0], hi: s[1] }, m: { lo: s[2], hi: s[3] } };
}

function authView(a: Auth, from: number, to: number): Auth {
  return { v: view128(a.v, from, to), m: view128(a.m, from, to) };
}

function authConcat(list: readonly Auth[]): Auth {
  return { v: concat128(list.map((a) => a.v)), m: concat128(list.map((a) => a.m)) };
}

/** A queue of authenticated tuples (every field the same length), consumed in order. */
class Store {
  readonly #fields: number;
  #items: Auth[][] = [];
  #offset = 0;
  size = 0;

  constructor(fields: number) {
    this.#fields = fields;
  }

  push(tuple: Auth[]): void {
    this.#items.push(tuple);
    this.size += tuple[0].v.lo.length;
  }

  take(n: number): Auth[] {
    const parts: Auth[][] = [];
    let need = n;
    while (need > 0) {
      const head = this.#items[0];
      const len = head[0].v.lo.length - this.#offset;
      const k = Math.min(len, need);
      parts.push(head.map((a) => authView(a, this.#offset, this.#offset + k)));
      need -= k;
      this.#offset += k;
      if (this.#offset === head[0].v.lo.length) {
        this.#items.shift();
        this.#offset = 0;
      }
    }
    this.size -= n;
    const out: Auth[] = [];
    for (let f = 0; f < this.#fields; f++) out.push(parts.length === 1 ? parts[0][f] : authConcat(parts.map((p) => p[f])));
    return out;
  }
}

const LENGTH = new BigUint64Array(1);

function framed(hash: Hash, v: Vec128): void {
  LENGTH[0] = BigInt(v.lo.length);
  hash.update(new Uint8Array(LENGTH.buffer));
  hash.update(new Uint8Array(v.lo.buffer, v.lo.byteOffset, v.lo.byteLength));
  hash.update(new Uint8Array(v.hi.buffer, v.hi.byteOffset, v.hi.byteLength));
}

function packed(v: Vec128): BigUint64Array {
  const out = new BigUint64Array(2 * v.lo.length);
  out.set(v.lo, 0);
  out.set(v.hi, v.lo.length);
  return out;
}

function unpacked(w: BigUint64Array): Vec128 {
  const n = w.length >>> 1;
  return { lo: w.subarray(0, n), hi: w.subarray(n) };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let d = 0;
  for (let i = 0; i < a.byteLength; i++) d |= a[i] ^ b[i];
  return d === 0;
}

function checkFailed(what: string): ProtocolAbortError {
  return new ProtocolAbortError(`malicious-security check failed: ${what}`, { party: -1, cause: new Error(`check failed: ${what}`) });
}

/**
 * The SPDZ2k protocol for one party (`protocol: 'additive'`, `dealer: 'none'`, `security: 'malicious'`).
 * @example
 * ```ts
 * const proto = new Spdz2kProtocol(channel, preprocessing);
 * const z = await proto.mul(x, y);
 * await proto.verify();
 * ```
 */
export class Spdz2kProtocol implements Protocol {
  readonly kind = 'additive' as const;
  readonly party: number;
  readonly parties: number;
  readonly width = 4;
  /** Public constants change every party's MAC share: `party.ts` goes through {@link Spdz2kProtocol.linear}. */
  readonly publicSlot: number;
  readonly malicious = true;
  /** The protocol makes its own material (`party.ts` orders none from the pool). */
  readonly selfProvisioned = true;
  /** Test-only active cheating (`faultInjection` kind 'wrongOpen'): the next opened share is off by 2^32. */
  tamperOpen = false;
  readonly #ch: Channel;
  readonly #pre: AdditivePreprocessing;
  readonly #rng: Rng;
  /** alpha_i, this party's MAC key share. */
  readonly #alpha: bigint;
  readonly #triples = new Store(3);
  readonly #randoms = new Store(1);
  readonly #bits = new Store(1);
  readonly #masks: Store[] = [];
  #pendingValues: Vec128[] = [];
  #pendingMacs: Vec128[] = [];
  #pendingCount = 0;
  #digest: Hash = createHash('sha256');
  /** Opened values and broadcasts since the last digest exchange. */
  #broadcasts = 0;

  /** `rng` draws this party's key share and random values (default the CSPRNG; tests seed it). */
  constructor(channel: Channel, pre: AdditivePreprocessing, rng: Rng = cryptoRng) {
    this.#ch = channel;
    this.#pre = pre;
    this.#rng = rng;
    this.party = channel.party;
    this.parties = channel.transport.parties;
    this.publicSlot = this.party === 0 ? 0 : -1;
    this.#alpha = randomRing(1, rng)[0];
    for (let p = 0; p < this.parties; p++) this.#masks.push(new Store(1));
  }

  #peers(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.parties; p++) if (p !== this.party) out.push(p);
    return out;
  }

  // ---- local operations on authenticated sharings ----

  /** [x] + c for a public c in Z_2^128: party 0 adds c to its data share, every party alpha_i c to its MAC. */
  #addPublic(x: Auth, c: Vec128): Auth {
    const v = this.party === 0 ? add128(x.v, c) : copy128(x.v);
    return { v, m: add128(x.m, scale128(c, this.#alpha)) };
  }

  #add(x: Auth, y: Auth): Auth {
    return { v: add128(x.v, y.v), m: add128(x.m, y.m) };
  }

  #sub(x: Auth, y: Auth): Auth {
    return { v: sub128(x.v, y.v), m: sub128(x.m, y.m) };
  }

  #scale(x: Auth, k: bigint): Auth {
    return { v: scale128(x.v, k), m: scale128(x.m, k) };
  }

  /** acc += 2^j [x], in place (acc is a fresh temporary). */
  #addShifted(acc: Auth, x: Auth, j: number): void {
    addShifted128(acc.v, x.v, j);
    addShifted128(acc.m, x.m, j);
  }

  /** 2^j [x]. */
  #shifted(x: Auth, j: number): Auth {
    const out: Auth = { v: zeros128(x.v.lo.length), m: zeros128(x.v.lo.length) };
    this.#addShifted(out, x, j);
    return out;
  }

  /** c * [x] element-wise for a public vector c. */
  #mulPublic(x: Auth, c: Vec128): Auth {
    return { v: mul128(x.v, c), m: mul128(x.m, c) };
  }

  /** Linear operations on share components for `party.ts` (public vectors are Z_2^64, lifted). */
  readonly linear = {
    add: (x: Share, y: Share): Share => toShare(this.#add(toAuth(x), toAuth(y))),
    sub: (x: Share, y: Share): Share => toShare(this.#sub(toAuth(x), toAuth(y))),
    neg: (x: Share): Share => {
      const a = toAuth(x);
      return toShare({ v: neg128(a.v), m: neg128(a.m) });
    },
    scale: (x: Share, k: bigint): Share => toShare(this.#scale(toAuth(x), BigInt.asUintN(64, k))),
    mulPublic: (x: Share, pub: BigUint64Array): Share => toShare(this.#mulPublic(toAuth(x), lift128(pub))),
    addPublic: (x: Share, pub: BigUint64Array): Share => toShare(this.#addPublic(toAuth(x), lift128(pub))),
    constant: (pub: BigUint64Array): Share => {
      const n = pub.length;
      const zero: Auth = { v: zeros128(n), m: zeros128(n) };
      return toShare(this.#addPublic(zero, lift128(pub.slice())));
    },
    sum: (x: Share, rows: number, cols: number, axis: -1 | 0 | 1): Share => {
      const a = toAuth(x);
      return toShare({ v: sumAxis128(a.v, rows, cols, axis), m: sumAxis128(a.m, rows, cols, axis) });
    },
  };

  // ---- openings and checks ----

  /** Opens [x] to every party (one round); the value and this party's MAC share wait for the next check. */
  async #open(x: Auth): Promise<Vec128> {
    const tag = this.#ch.nextTag();
    let mine = packed(x.v);
    if (this.tamperOpen && mine.length > 0) {
      this.tamperOpen = false;
      mine = mine.slice();
      mine[0] = BigInt.asUintN(64, mine[0] + (1n << 32n));
    }
    const peers = this.#peers();
    for (const p of peers) this.#ch.send(p, tag, mine);
    const got = await Promise.all(peers.map((p) => this.#ch.receive(p, tag, mine.length)));
    let sum = x.v;
    for (const g of got) sum = add128(sum, unpacked(g));
    if (sum === x.v) sum = copy128(sum);
    this.#record(sum, x.m);
    return sum;
  }

  #record(value: Vec128, mac: Vec128): void {
    framed(this.#digest, value);
    this.#broadcasts++;
    this.#pendingValues.push(value);
    this.#pendingMacs.push(copy128(mac));
    this.#pendingCount += value.lo.length;
  }

  /** One round in which every party sends `bytes` to every other; returns what each peer sent (by party). */
  async #exchange(bytes: Uint8Array): Promise<Uint8Array[]> {
    const tag = this.#ch.nextTag();
    const peers = this.#peers();
    // A copy per peer (sending transfers the buffer); `new Uint8Array` copies even a Node Buffer, whose slice would not.
    for (const p of peers) this.#ch.sendBytes(p, tag, new Uint8Array(bytes));
    const got = await Promise.all(peers.map((p) => this.#ch.receiveBytes(p, tag, bytes.byteLength)));
    const out: Uint8Array[] = [];
    peers.forEach((p, i) => {
      out[p] = got[i];
    });
    out[this.party] = bytes;
    return out;
  }

  /**
   * A public coin of 16 bytes by commit-then-open (two rounds): nobody can pick its part after seeing another's.
   * `extra` bytes ride along with the commitments (the digest of openings) and come back by party.
   */
  async #coin(extra: Uint8Array = new Uint8Array(0)): Promise<{ seed: Uint8Array; extras: Uint8Array[] }> {
    const seed = freshSeed(this.#rng);
    const commit = createHash('sha256').update('ppml-spdz2k-coin').update(seed).digest();
    const first = new Uint8Array(32 + extra.byteLength);
    first.set(commit, 0);
    first.set(extra, 32);
    const commits = await this.#exchange(first);
    const seeds = await this.#exchange(seed);
    const out = new Uint8Array(SEED_BYTES);
    for (let p = 0; p < this.parties; p++) {
      const c = createHash('sha256').update('ppml-spdz2k-coin').update(seeds[p]).digest();
      if (!bytesEqual(c, commits[p].subarray(0, 32))) throw checkFailed(`party ${p} opened a coin that differs from its commitment`);
      for (let i = 0; i < SEED_BYTES; i++) out[i] ^= seeds[p][i];
    }
    return { seed: out, extras: commits.map((c) => c.subarray(32)) };
  }

  /**
   * Checks every opening since the last check: the digests of what each party opened agree, and the batched MAC
   * check passes; then every party confirms. Throws `ProtocolAbortError` (cause: a check failed) otherwise.
   * @example
   * ```ts
   * await protocol.verify();
   * ```
   */
  async verify(): Promise<void> {
    if (this.#broadcasts === 0) return;
    const digest = this.#digest.digest();
    this.#digest = createHash('sha256');
    this.#broadcasts = 0;
    const values = concat128(this.#pendingValues);
    const macs = concat128(this.#pendingMacs);
    this.#pendingValues = [];
    this.#pendingMacs = [];
    this.#pendingCount = 0;
    const { seed, extras } = await this.#coin(digest);
    for (let p = 0; p < this.parties; p++) {
      if (!bytesEqual(extras[p], digest)) throw checkFailed(`party ${p} saw different opened values`);
    }
    const n = values.lo.length;
    const chi = expand(seed, n); // chi_j in Z_2^64 (SPDZ2k's Pi_MACCheck takes them in Z_2^s, s <= 64 here)
    const y = dot128x64(values, chi);
    const m = dot128x64(macs, chi);
    const z = BigInt.asUintN(128, m - this.#alpha * y);
    const zv = zeros128(1);
    set128(zv, 0, z);
    const nonce = freshSeed(this.#rng);
    const zBytes = new Uint8Array(32);
    zBytes.set(new Uint8Array(packed(zv).buffer), 0);
    zBytes.set(nonce, 16);
    const commit = createHash('sha256').update('ppml-spdz2k-mac').update(zBytes).digest();
    const commits = await this.#exchange(commit);
    const opened = await this.#exchange(zBytes);
    let sum = 0n;
    for (let p = 0; p < this.parties; p++) {
      const c = createHash('sha256').update('ppml-spdz2k-mac').update(opened[p]).digest();
      if (!bytesEqual(c, commits[p])) throw checkFailed(`party ${p} opened a MAC-check value that differs from its commitment`);
      const w = new BigUint64Array(opened[p].buffer.slice(opened[p].byteOffset, opened[p].byteOffset + 16));
      sum += (w[1] << 64n) | w[0];
    }
    if ((sum & CHECK_MASK) !== 0n) throw checkFailed('a MAC check: an opened value or a share was altered');
    const verdict = await this.#exchange(new Uint8Array(BigUint64Array.of(VERDICT_OK).buffer));
    for (let p = 0; p < this.parties; p++) {
      if (new BigUint64Array(verdict[p].buffer.slice(verdict[p].byteOffset, verdict[p].byteOffset + 8))[0] !== VERDICT_OK) {
        throw checkFailed(`party ${p} did not confirm the check`);
      }
    }
  }

  async #checkIfLarge(): Promise<void> {
    if (this.#pendingCount >= MAX_PENDING) await this.verify();
  }

  // ---- offline phase ----

  /**
   * MAC shares for the data shares v of a batch: alpha_i v_i plus this party's share of the cross terms alpha_j v_i
   * (i != j), by correlated OT with alpha_j's bits as the fixed choice bits (COPEe; `ot/cope.ts`).
   */
  async #authenticate(v: Vec128): Promise<Vec128> {
    const cross = await this.#pre.macCross(v.lo, v.hi, this.#alpha);
    return add128(scale128(v, this.#alpha), cross);
  }

  #random128(n: number): Vec128 {
    return { lo: randomRing(n, this.#rng), hi: randomRing(n, this.#rng) };
  }

  /** Authenticated uniformly random values (every party contributes a uniform share). */
  async #makeRandoms(n: number): Promise<void> {
    const v = this.#random128(n);
    this.#randoms.push([{ v, m: await this.#authenticate(v) }]);
  }

  /** Authenticated random values known to `owner` (its share is the value; the others hold 0). */
  async #makeMasks(owner: number, n: number): Promise<void> {
    const v = owner === this.party ? this.#random128(n) : zeros128(n);
    this.#masks[owner].push([{ v, m: await this.#authenticate(v) }]);
  }

  /** n masks for every party, authenticated in one batch. */
  async #makeAllMasks(n: number): Promise<void> {
    const v = concat128(Array.from({ length: this.parties }, (_, p) => (p === this.party ? this.#random128(n) : zeros128(n))));
    const m = await this.#authenticate(v);
    for (let p = 0; p < this.parties; p++) this.#masks[p].push([{ v: view128(v, p * n, (p + 1) * n), m: view128(m, p * n, (p + 1) * n) }]);
  }

  /** n authenticated triples, checked by sacrifice against n more (see the module doc). */
  async #makeTriples(n: number): Promise<void> {
    const a = this.#random128(n);
    const b = this.#random128(n);
    const a2 = this.#random128(n);
    // Both products share the choice operand b: one OT extension with two pads per OT (MASCOT Sec. 5).
    const [cross, cross2] = await this.#pre.crossProductsShared128([a, a2], b.lo, b.hi, 128);
    const c = add128(mul128(a, b), cross);
    const c2 = add128(mul128(a2, b), cross2);
    const all = concat128([a, b, c, a2, c2]);
    const macs = await this.#authenticate(all);
    const [A, B, C, A2, C2] = [0, 1, 2, 3, 4].map(
      (k): Auth => ({ v: view128(all, k * n, (k + 1) * n), m: view128(macs, k * n, (k + 1) * n) }),
    );
    const { seed } = await this.#coin();
    const tw = expand(seed, 2);
    const t = (tw[1] << 64n) | tw[0];
    const rho = await this.#open(this.#sub(this.#scale(A, t), A2));
    const sigma = await this.#open(this.#sub(this.#sub(this.#scale(C, t), C2), this.#mulPublic(B, rho)));
    for (let i = 0; i < n; i++) {
      if ((get128(sigma, i) & CHECK_MASK) !== 0n) throw checkFailed('a triple failed its sacrifice check');
    }
    this.#triples.push([A, B, C].map((x) => ({ v: copy128(x.v), m: copy128(x.m) })));
  }

  /** n authenticated random bits (see the module doc), one triple and one opening each. */
  async #makeBits(n: number): Promise<void> {
    await this.#ensure(this.#randoms, n, (k) => this.#makeRandoms(k));
    const [u] = this.#randoms.take(n);
    const one = lift128(new BigUint64Array(n).fill(1n));
    const a = this.#addPublic(this.#scale(u, 2n), one);
    const sq = await this.#open(await this.#mulAuth(a, a));
    const { y, bad } = invSqrt128(sq);
    if (bad >= 0) throw checkFailed('an opened square in random-bit generation is not an odd square');
    const d1 = this.#addPublic(this.#mulPublic(a, y), one);
    this.#bits.push([{ v: half128(d1.v), m: half128(d1.m) }]);
  }

  /**
   * n authenticated random bits (0 or 1 in the low 64 bits), from the offline store.
   * @example
   * ```ts
   * const bits = await protocol.randomBits(64);
   * ```
   */
  async randomBits(n: number): Promise<Share> {
    await this.#ensure(this.#bits, n, (k) => this.#makeBits(k));
    return toShare(this.#bits.take(n)[0]);
  }

  async #ensure(store: Store, n: number, make: (k: number) => Promise<void>): Promise<void> {
    while (store.size < n) await make(Math.min(MAKE_BATCH, Math.max(MIN_BATCH, n - store.size)));
  }

  /**
   * Offline phase: `bits` random bits and `triples` triples made now (the bits' own triples included), the
   * random values that masked openings use, and a batch of input masks for every party.
   * @example
   * ```ts
   * await protocol.prepareTriples(64 * 1000, 1000);
   * ```
   */
  async prepareTriples(bits: number, triples: number): Promise<void> {
    const newBits = Math.max(0, bits - this.#bits.size);
    await this.#ensure(this.#triples, triples + newBits, (k) => this.#makeTriples(k));
    // Random values: one per new bit (its u), and one per 64 bits for the masked opening that uses them.
    await this.#ensure(this.#randoms, newBits + Math.ceil(bits / 64), (k) => this.#makeRandoms(k));
    await this.#ensure(this.#bits, bits, (k) => this.#makeBits(k));
    // Input and private-output masks for every party, so that the online phase of inputs needs no OT either.
    if (this.#masks.some((m) => m.size < MIN_BATCH)) await this.#makeAllMasks(MIN_BATCH);
  }

  // ---- online operations ----

  async #mulAuth(x: Auth, y: Auth): Promise<Auth> {
    const n = x.v.lo.length;
    await this.#ensure(this.#triples, n, (k) => this.#makeTriples(k));
    const [a, b, c] = this.#triples.take(n);
    const de = await this.#open(authConcat([this.#sub(x, a), this.#sub(y, b)]));
    const d = view128(de, 0, n);
    const e = view128(de, n, 2 * n);
    // xy = c + d b + e a + d e.
    const z = this.#addPublic({ v: beaver128(a.v, b.v, c.v, d, e), m: beaver128(a.m, b.m, c.m, d, e) }, mul128(d, e));
    await this.#checkIfLarge();
    return z;
  }

  async mul(x: Share, y: Share): Promise<Share> {
    return toShare(await this.#mulAuth(toAuth(x), toAuth(y)));
  }

  async matmul(x: Share, y: Share, m: number, k: number, n: number): Promise<Share> {
    const X = toAuth(x);
    const Y = toAuth(y);
    const out: Auth = { v: zeros128(m * n), m: zeros128(m * n) };
    const rowsPerBlock = Math.max(1, Math.floor(MATMUL_BLOCK / Math.max(1, k * n)));
    for (let r0 = 0; r0 < m; r0 += rowsPerBlock) {
      const r1 = Math.min(m, r0 + rowsPerBlock);
      const count = (r1 - r0) * k * n;
      const xs = gatherAuth(X, count, (t) => {
        const p = r0 + Math.floor(t / (k * n));
        const r = Math.floor(t / n) % k;
        return p * k + r;
      });
      const ys = gatherAuth(Y, count, (t) => (Math.floor(t / n) % k) * n + (t % n));
      const prod = await this.#mulAuth(xs, ys);
      // Sum over r: product t = ((p - r0) k + r) n + q goes to output p n + q.
      for (const [src, dst] of [
        [prod.v, out.v],
        [prod.m, out.m],
      ] as const) {
        for (let p = r0; p < r1; p++) {
          for (let r = 0; r < k; r++) {
            const from = ((p - r0) * k + r) * n;
            add128(view128(dst, p * n, (p + 1) * n), view128(src, from, from + n), view128(dst, p * n, (p + 1) * n));
          }
        }
      }
    }
    return toShare(out);
  }

  async input(owner: number, values: BigUint64Array | null, count: number): Promise<Share> {
    await this.#ensure(this.#masks[owner], count, (k) => this.#makeMasks(owner, k));
    const [r] = this.#masks[owner].take(count);
    const tag = this.#ch.nextTag();
    let e: Vec128;
    if (owner === this.party) {
      e = sub128(lift128((values as BigUint64Array).slice()), r.v);
      const bytes = packed(e);
      for (const p of this.#peers()) this.#ch.send(p, tag, bytes);
    } else {
      e = unpacked(await this.#ch.receive(owner, tag, 2 * count));
    }
    // The broadcast goes into the digest: a party that sent different values to different parties is caught.
    framed(this.#digest, e);
    this.#broadcasts++;
    return toShare(this.#addPublic(r, e));
  }

  /** Opens x + 2^64 rho (rho random): the high words of x~ are not revealed; returns the low 64 bits. */
  async open(x: Share, xor: boolean): Promise<BigUint64Array> {
    if (xor) throw new RangeError('SPDZ2k sharing has no XOR sharings to open');
    const n = x[0].length;
    await this.#ensure(this.#randoms, n, (k) => this.#makeRandoms(k));
    const [rho] = this.#randoms.take(n);
    const v = await this.#open(this.#add(toAuth(x), this.#shifted(rho, 64)));
    return v.lo.slice();
  }

  /** Opens x + r for a random r known to `to` only: everybody checks the opening, only `to` learns x. */
  async openTo(x: Share, xor: boolean, to: number): Promise<BigUint64Array | null> {
    if (xor) throw new RangeError('SPDZ2k sharing has no XOR sharings to open');
    const n = x[0].length;
    await this.#ensure(this.#masks[to], n, (k) => this.#makeMasks(to, k));
    const [r] = this.#masks[to].take(n);
    const v = await this.#open(this.#add(toAuth(x), r));
    return to === this.party ? sub128(v, r.v).lo.slice() : null;
  }

  /** x + sum_j 2^j b_j + 2^64 rho opened, with the 64 bits b_j (each an authenticated sharing of n elements). */
  async #maskedOpen(x: Auth, shift: bigint): Promise<{ c: BigUint64Array; all: Auth; bits: Auth[] }> {
    const n = x.v.lo.length;
    await this.#ensure(this.#bits, 64 * n, (k) => this.#makeBits(k));
    await this.#ensure(this.#randoms, n, (k) => this.#makeRandoms(k));
    const [all] = this.#bits.take(64 * n);
    const [rho] = this.#randoms.take(n);
    const bits: Auth[] = [];
    for (let j = 0; j < 64; j++) bits.push(authView(all, j * n, (j + 1) * n));
    let masked = this.#add(x, this.#shifted(rho, 64));
    if (shift !== 0n) masked = this.#addPublic(masked, lift128(new BigUint64Array(n).fill(shift)));
    shiftSum128(all.v, n, 0, 64, 0, masked.v);
    shiftSum128(all.m, n, 0, 64, 0, masked.m);
    const c = await this.#open(masked);
    return { c: c.lo.slice(), all, bits };
  }

  /**
   * [z / 2^shift] with error in {0, +1} ulp for |z| < 2^62 (the exact-wrap truncation of `party.ts` on the low
   * 64 bits of an opening masked by random bits).
   * @example
   * ```ts
   * const t = await protocol.truncate(z, 16);
   * ```
   */
  truncate(z: Share, shift: number): Promise<Share> {
    return chunked(z, (part) => this.#truncate(part, shift));
  }

  async #truncate(z: Share, shift: number): Promise<Share> {
    const n = z[0].length;
    const { c, all, bits } = await this.#maskedOpen(toAuth(z), BIAS);
    const sk = new BigUint64Array(n);
    const pub = truncPublic(c, shift, sk);
    // lo = (r mod 2^63) >> shift from bits shift..62; hi = bit 63.
    const lo: Auth = { v: zeros128(n), m: zeros128(n) };
    shiftSum128(all.v, n, shift, 63, shift, lo.v);
    shiftSum128(all.m, n, shift, 63, shift, lo.m);
    return toShare(this.#addPublic(this.#sub(this.#mulPublic(bits[63], lift128(sk)), lo), lift128(pub)));
  }

  /**
   * [x < 0] as 0/1: open c = x + r (r from 64 random bits); the borrow of c - r into bit 63 by a tree of
   * (generate, propagate) compositions (6 rounds, 2 products each; a prefix circuit whose last output only is
   * needed), then msb(x) = c_63 xor r_63 xor borrow.
   * @example
   * ```ts
   * const negative = await protocol.ltz(x);
   * ```
   */
  ltz(x: Share): Promise<Share> {
    return chunked(x, (part) => this.#ltz(part));
  }

  async #ltz(x: Share): Promise<Share> {
    const n = x[0].length;
    const { c, bits } = await this.#maskedOpen(toAuth(x), 0n);
    const cw = new Uint32Array(c.buffer, c.byteOffset, 2 * n);
    const zero: Auth = { v: zeros128(n), m: zeros128(n) };
    const ones = lift128(new BigUint64Array(n).fill(1n));
    const notBit = (b: Auth): Auth => this.#addPublic({ v: neg128(b.v), m: neg128(b.m) }, ones);
    // Bit j of c - r borrows out when c_j = 0 and (r_j or a borrow comes in), or c_j = 1 and r_j and a borrow
    // comes in: borrow_(j+1) = g_j + p_j borrow_j with (g, p) = (r_j, 1 - r_j) or (0, r_j), linear in r_j.
    let gs: Auth[] = [];
    let ps: Auth[] = [];
    for (let j = 0; j < 63; j++) {
      const sel = new Uint8Array(n);
      for (let i = 0; i < n; i++) sel[i] = (cw[2 * i + (j >>> 5)] >>> (j & 31)) & 1;
      gs.push(selectAuth(sel, zero, bits[j]));
      ps.push(selectAuth(sel, bits[j], notBit(bits[j])));
    }
    // (g, p) of bits [lo, hi] composed: (g_hi + p_hi g_lo, p_hi p_lo); all compositions of a level in one product.
    while (gs.length > 1) {
      const pairs = gs.length >>> 1;
      const left: Auth[] = [];
      const right: Auth[] = [];
      for (let k = 0; k < pairs; k++) {
        left.push(ps[2 * k + 1], ps[2 * k + 1]);
        right.push(gs[2 * k], ps[2 * k]);
      }
      const prod = await this.#mulAuth(authConcat(left), authConcat(right));
      const ng: Auth[] = [];
      const np: Auth[] = [];
      for (let k = 0; k < pairs; k++) {
        ng.push(this.#add(gs[2 * k + 1], authView(prod, 2 * k * n, (2 * k + 1) * n)));
        np.push(authView(prod, (2 * k + 1) * n, (2 * k + 2) * n));
      }
      if (gs.length % 2 === 1) {
        ng.push(gs[gs.length - 1]);
        np.push(ps[ps.length - 1]);
      }
      gs = ng;
      ps = np;
    }
    const borrow = gs[0];
    // u = c_63 xor r_63 (linear), then u xor borrow = u + borrow - 2 u borrow.
    const sel63 = new Uint8Array(n);
    for (let i = 0; i < n; i++) sel63[i] = cw[2 * i + 1] >>> 31;
    const u = selectAuth(sel63, notBit(bits[63]), bits[63]);
    const ub = await this.#mulAuth(u, borrow);
    return toShare(this.#sub(this.#add(u, borrow), this.#shifted(ub, 1)));
  }

  // ---- forms the malicious party code does not use ----

  openAdditive(): Promise<BigUint64Array> {
    throw new RangeError('SPDZ2k sharing opens only authenticated sharings');
  }

  mulToAdditive(): Promise<BigUint64Array> {
    throw new RangeError('SPDZ2k sharing multiplies only into authenticated sharings');
  }

  matmulToAdditive(): Promise<BigUint64Array> {
    throw new RangeError('SPDZ2k sharing multiplies only into authenticated sharings');
  }

  and(): Promise<Share> {
    throw new RangeError('SPDZ2k sharing has no XOR sharings (comparisons use arithmetic bits)');
  }

  and2(): Promise<Share> {
    throw new RangeError('SPDZ2k sharing has no XOR sharings (comparisons use arithmetic bits)');
  }

  additivePart(): BigUint64Array {
    throw new RangeError('SPDZ2k sharing has no unauthenticated additive part');
  }
}

/** f on every ELEMENT_CHUNK elements of x in turn, the results joined (one call when x is that small). */
async function chunked(x: Share, f: (part: Share) => Promise<Share>): Promise<Share> {
  const n = x[0].length;
  if (n <= ELEMENT_CHUNK) return f(x);
  const parts: Share[] = [];
  for (let from = 0; from < n; from += ELEMENT_CHUNK)
    parts.push(await f(x.map((c) => c.subarray(from, Math.min(n, from + ELEMENT_CHUNK)))));
  return x.map((_, k) => {
    const out = new BigUint64Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(p[k], at);
      at += p[k].length;
    }
    return out;
  });
}

/** out[i] = sel[i] ? a[i] : b[i] for authenticated sharings (a public selector). */
function selectAuth(sel: Uint8Array, a: Auth, b: Auth): Auth {
  const out: Auth = { v: copy128(b.v), m: copy128(b.m) };
  for (let i = 0; i < sel.length; i++) {
    if (sel[i] === 1) {
      out.v.lo[i] = a.v.lo[i];
      out.v.hi[i] = a.v.hi[i];
      out.m.lo[i] = a.m.lo[i];
      out.m.hi[i] = a.m.hi[i];
    }
  }
  return out;
}

/** Elements idx(t), t < count, of an authenticated sharing. */
function gatherAuth(x: Auth, count: number, idx: (t: number) => number): Auth {
  const out: Auth = { v: zeros128(count), m: zeros128(count) };
  for (let t = 0; t < count; t++) {
    const j = idx(t);
    out.v.lo[t] = x.v.lo[j];
    out.v.hi[t] = x.v.hi[j];
    out.m.lo[t] = x.m.lo[j];
    out.m.hi[t] = x.m.hi[j];
  }
  return out;
}

/** Sums over all elements (axis -1), over rows (0) or over columns (1) of a rows x cols matrix, mod 2^128. */
function sumAxis128(c: Vec128, rows: number, cols: number, axis: -1 | 0 | 1): Vec128 {
  if (axis === -1) {
    const out = zeros128(1);
    set128(out, 0, total128(c));
    return out;
  }
  if (axis === 0) {
    const out = zeros128(cols);
    for (let i = 0; i < rows; i++) add128(out, view128(c, i * cols, (i + 1) * cols), out);
    return out;
  }
  const out = zeros128(rows);
  for (let i = 0; i < rows; i++) set128(out, i, total128(view128(c, i * cols, (i + 1) * cols)));
  return out;
}
