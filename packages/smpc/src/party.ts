/**
 * One party's operations on fixed-point shared values, written once over the {@link Protocol} interface so
 * that additive and replicated sharing run the same code. It implements:
 *
 * - Exact-wrap truncation (bounded error): to divide a product z by 2^f, the parties open c = z + 2^62 + r for a
 *   dealer mask r uniform in Z_2^64 that comes with shares of its top bit and of (r mod 2^63) >> f. Since
 *   0 <= z + 2^62 < 2^63 whenever -2^62 <= z < 2^62 (the session checks this from public ranges before an
 *   operation is queued, `bounds.ts`), the carry into bit 63 is c_63 XOR r_63, a linear function of the
 *   shared bit, so the result is floor(z / 2^f) or that plus one: never the 2^(64-f) failures of the
 *   probabilistic local truncation (SecureML; CrypTen issue 402). The wrap-bit correction follows the Z_2^k
 *   truncation of Escudero, Ghosh, Keller, Rachuri and Scholl (CRYPTO 2020), with the mask's top bit supplied
 *   by the dealer.
 * - Less-than-zero via A2B (ABY3, Mohassel and Rindal 2018; CrypTen's `_ltz`): open c = x + r, add the dealer's binary
 *   sharing of -r with a bit-sliced Kogge-Stone prefix adder (6 levels, 11 ANDs per element), take bit 63, and
 *   convert it back with a daBit. 8 rounds.
 * - ReLU, max/argmax (tournament), exp ((1 + x/2^10)^(2^10) at extra precision, 0 below -1024), reciprocal (Newton-Raphson
 *   from the start value in CrypTen's documentation), sigmoid (CrypTen's 'reciprocal' method: the sign by
 *   less-than-zero, exp of -|x|, a reciprocal on [1, 2] from a minimax line).
 * @module
 */
import { encodeFixedPoint, decodeFixedPoint } from '@ppml/core';
import { ProtocolAbortError } from './errors.ts';
import type { Operation } from './messages.ts';
import { EXP_SATURATION, SIGMOID_SATURATION } from './bounds.ts';
import { materialFor } from './plan.ts';
import type { Channel, LinearOps, Protocol, Share } from './protocols/protocol.ts';
import {
  add,
  addConst,
  b2aCombine,
  and,
  concat,
  msb,
  neg,
  scale,
  shiftLeft,
  sub,
  transpose,
  truncCombine,
  truncPublic,
  xor,
  mul as ringMul,
} from './ring.ts';

const BIAS = 1n << 62n;

interface Stored {
  share: Share;
}

/**
 * A party's state and operations.
 * @example
 * ```ts
 * const party = new Party(protocol, channel, 16);
 * await party.run(1, { op: 'mul', out: 3, a: 1, b: 2 });
 * ```
 */
export class Party {
  readonly proto: Protocol;
  readonly ch: Channel;
  readonly f: number;
  readonly #values = new Map<number, Stored>();
  /** Local operations: the protocol's own (SPDZ2k), or the 64-bit ones on every component. */
  readonly #lin: LinearOps;

  /** Whether a reveal to everyone returns the values on every party (each network process), not only party 0. */
  readonly #revealEverywhere: boolean;

  constructor(proto: Protocol, ch: Channel, fractionalBits: number, revealEverywhere = false) {
    this.proto = proto;
    this.ch = ch;
    this.f = fractionalBits;
    this.#revealEverywhere = revealEverywhere;
    this.#lin = proto.linear ?? componentwise(proto);
  }

  #get(id: number): Share {
    const v = this.#values.get(id);
    if (!v) throw new ProtocolAbortError(`party ${this.proto.party} has no value with id ${id}`, { party: this.proto.party });
    return v.share;
  }

  #set(id: number, share: Share): void {
    this.#values.set(id, { share });
  }

  /** This party's share of value `id` (its own view; used by in-process tests of the view's distribution). */
  shareOf(id: number): Share {
    return this.#get(id);
  }

  /** Number of stored values (for leak checks). */
  get stored(): number {
    return this.#values.size;
  }

  // ---- local (linear) operations ----

  #map(x: Share, fn: (c: BigUint64Array, slot: number) => BigUint64Array): Share {
    return x.map(fn);
  }

  addS(x: Share, y: Share): Share {
    return this.#lin.add(x, y);
  }

  subS(x: Share, y: Share): Share {
    return this.#lin.sub(x, y);
  }

  scaleS(x: Share, k: bigint): Share {
    return this.#lin.scale(x, k);
  }

  /**
   * Adds a public ring vector. Components without the constant are shared with x, not copied: shares are never
   * modified in place (only dealer material and fresh temporaries are).
   */
  addPub(x: Share, pub: BigUint64Array): Share {
    return this.#lin.addPublic(x, pub);
  }

  /** A sharing of a public vector. */
  constant(pub: BigUint64Array): Share {
    return this.#lin.constant(pub);
  }

  #fill(n: number, v: bigint): BigUint64Array {
    return new BigUint64Array(n).fill(BigInt.asUintN(64, v));
  }

  #encode(values: Float64Array): BigUint64Array {
    return encodeFixedPoint(values, { fractionalBits: this.f });
  }

  /** Repeats a length-1 share to length n (broadcast of a scalar). */
  #broadcast(x: Share, n: number): Share {
    if (x[0].length === n) return x;
    return this.#map(x, (c) => new BigUint64Array(n).fill(c[0]));
  }

  // ---- protocols ----

  /**
   * Divides an n-out-of-n additive sharing (or, under malicious security, a sharing in the protocol's own form,
   * opened with redundancy) by 2^shift with error in {0, +1} ulp (see module doc). With `owned`, z is a temporary
   * the caller gives up and is overwritten.
   */
  async trunc(z: BigUint64Array | Share, shift: number, owned = false): Promise<Share> {
    const shared = !(z instanceof BigUint64Array);
    if (shared && this.proto.truncate) return this.proto.truncate(z, shift);
    const n = shared ? z[0].length : z.length;
    const t = await this.ch.pool.take({ key: `trunc:${shift}`, kind: 'trunc', count: n, shift });
    const r = t.get('r') as Share;
    const hi = t.get('hi') as Share;
    const lo = t.get('lo') as Share;
    let c: BigUint64Array;
    let sk: BigUint64Array;
    if (shared) {
      // Malicious security: z is a (checked) replicated sharing and the mask is opened with redundancy, so a
      // party cannot shift the opened value. The dealer-free generator keeps both components of r for this.
      const masked = z.map((zc, i) => {
        const into = owned ? zc : new BigUint64Array(n);
        return i === this.proto.publicSlot ? addConst(zc, r[i], BIAS, into) : add(zc, r[i], into);
      });
      c = await this.proto.open(masked, false);
      sk = masked[0];
    } else {
      const into = owned ? z : new BigUint64Array(n);
      const masked = this.proto.party === 0 ? addConst(z, r[0], BIAS, into) : add(z, r[0], into);
      c = await this.proto.openAdditive(masked);
      // The masked value is no longer needed once opened: it becomes the weight array; c becomes the public part.
      sk = masked;
    }
    const pub = truncPublic(c, shift, sk, c);
    return hi.map((hiC, slot) => truncCombine(slot === this.proto.publicSlot ? pub : null, lo[slot], hiC, sk));
  }

  /**
   * A product ready for truncation: an n-out-of-n additive sharing (semi-honest, no re-sharing), or under
   * malicious security the checked product in the protocol's own sharing.
   */
  async #product(x: Share, y: Share): Promise<BigUint64Array | Share> {
    return this.proto.malicious === true ? this.proto.mul(x, y) : this.proto.mulToAdditive(x, y);
  }

  /**
   * A local result ready for truncation: `fn` (default: none) on the additive part, or on every component under
   * malicious security (truncation then opens with redundancy).
   */
  #localMap(x: Share, op: { k: bigint } | { pub: BigUint64Array } | null = null): BigUint64Array | Share {
    if (this.proto.malicious === true) {
      if (op === null) return x;
      return 'k' in op ? this.#lin.scale(x, op.k) : this.#lin.mulPublic(x, op.pub);
    }
    const c = this.proto.additivePart(x);
    if (op === null) return c;
    return 'k' in op ? scale(c, op.k) : ringMul(c, op.pub);
  }

  /** Fixed-point product. */
  async mulFixed(x: Share, y: Share): Promise<Share> {
    return this.trunc(await this.#product(x, y), this.f, true);
  }

  /** Integer bits [x < 0] (as 0/1 ring elements). */
  async ltz(x: Share): Promise<Share> {
    if (this.proto.ltz) return this.proto.ltz(x);
    const n = x[0].length;
    const slot = this.proto.publicSlot;
    const e = await this.ch.pool.take({ key: 'edabit', kind: 'edabit', count: n });
    const r = e.get('r') as Share;
    const s = e.get('s') as Share;
    // r and s are dealer material used once: intermediate results overwrite them.
    const c = await this.proto.open(
      x.map((xc, i) => add(xc, r[i], r[i])),
      false,
    );
    const p0: Share = s.map((sc, i) => (i === slot ? xor(sc, c) : sc));
    const G: Share = s.map((sc) => and(sc, c));
    let P: Share = p0;
    const gs: Share = G.map(() => new BigUint64Array(n));
    const ps: Share = G.map(() => new BigUint64Array(n));
    for (const sh of [1, 2, 4, 8, 16]) {
      for (let i = 0; i < G.length; i++) {
        shiftLeft(G[i], sh, gs[i]);
        shiftLeft(P[i], sh, ps[i]);
      }
      const t = await this.proto.and2(P, gs, ps);
      for (let i = 0; i < G.length; i++) xor(G[i], t[i].subarray(0, n), G[i]);
      P = t.map((ti) => ti.subarray(n));
    }
    for (let i = 0; i < G.length; i++) shiftLeft(G[i], 32, gs[i]);
    const last = await this.proto.and(P, gs);
    for (let i = 0; i < G.length; i++) {
      xor(G[i], last[i], G[i]);
      shiftLeft(G[i], 1, gs[i]);
      xor(p0[i], gs[i], gs[i]);
      msb(gs[i], gs[i]);
    }
    const bits = gs;
    return this.b2a(bits);
  }

  /** Converts XOR-shared bits to arithmetic sharing with a daBit. */
  async b2a(bits: Share): Promise<Share> {
    const n = bits[0].length;
    const d = await this.ch.pool.take({ key: 'dabit', kind: 'dabit', count: n });
    const ba = d.get('a') as Share;
    const bx = d.get('x') as Share;
    const e = await this.proto.open(
      bits.map((b, i) => xor(b, bx[i], bx[i])),
      true,
    );
    const slot = this.proto.publicSlot;
    return ba.map((bc, i) => b2aCombine(bc, e, i === slot ? 1n : 0n, bc));
  }

  /** ReLU: x - x * [x < 0]. */
  async relu(x: Share): Promise<Share> {
    const b = await this.ltz(x);
    return this.subS(x, await this.proto.mul(x, b));
  }

  /** Tournament over the columns of a rows x cols matrix: the row maxima and (optionally) one-hot winners. */
  async tournament(x: Share, rows: number, cols: number, wantIndex: boolean): Promise<{ max: Share; onehot: Share | null }> {
    const colMajor = x.map((c) => transpose(c, rows, cols));
    let cand: Share[] = [];
    for (let j = 0; j < cols; j++) cand.push(colMajor.map((c) => c.subarray(j * rows, (j + 1) * rows)));
    let groups: number[][] = cand.map((_, j) => [j]);
    let w: Share | null = wantIndex ? this.constant(this.#fill(rows * cols, 1n)) : null;
    while (cand.length > 1) {
      const pairs = Math.floor(cand.length / 2);
      const L = this.#catShares(cand.filter((_, i) => i % 2 === 0).slice(0, pairs));
      const R = this.#catShares(cand.filter((_, i) => i % 2 === 1));
      const bit = await this.ltz(this.subS(L, R)); // 1 where the right one is larger
      const diff = this.subS(R, L);
      let lhs = bit;
      let rhs = diff;
      if (w) {
        // Multiplier per original column: (1 - bit) on the left group, bit on the right, 1 if unpaired.
        const m: Share = this.constant(this.#fill(rows * cols, 1n));
        const one = this.#fill(rows, 1n);
        for (let p = 0; p < pairs; p++) {
          const bp = bit.map((c) => c.subarray(p * rows, (p + 1) * rows));
          const notB = this.addPub(this.#lin.neg(bp), one);
          for (const j of groups[2 * p]) for (let s = 0; s < m.length; s++) m[s].set(notB[s], j * rows);
          for (const j of groups[2 * p + 1]) for (let s = 0; s < m.length; s++) m[s].set(bp[s], j * rows);
        }
        lhs = this.#catShares([bit, m]);
        rhs = this.#catShares([diff, w]);
      }
      const prod = await this.proto.mul(lhs, rhs);
      const nb = pairs * rows;
      const winners = this.addS(
        L,
        prod.map((c) => c.subarray(0, nb)),
      );
      if (w) w = prod.map((c) => c.slice(nb));
      const next: Share[] = [];
      const nextGroups: number[][] = [];
      for (let p = 0; p < pairs; p++) {
        next.push(winners.map((c) => c.subarray(p * rows, (p + 1) * rows)));
        nextGroups.push([...groups[2 * p], ...groups[2 * p + 1]]);
      }
      if (cand.length % 2 === 1) {
        next.push(cand[cand.length - 1]);
        nextGroups.push(groups[groups.length - 1]);
      }
      cand = next;
      groups = nextGroups;
    }
    const max = cand[0].map((c) => c.slice());
    const onehot = w ? w.map((c) => transpose(c, cols, rows)) : null;
    return { max, onehot };
  }

  #catShares(list: Share[]): Share {
    const out: Share = [];
    for (let s = 0; s < this.proto.width; s++) out.push(concat(list.map((x) => x[s])));
    return out;
  }

  /**
   * (1 + x / 2^iters)^(2^iters) computed at `bits` fractional bits internally; returns f fractional bits.
   * Requires |intermediate| < 2^(31 - bits) and x >= -2^iters.
   */
  async expScaled(x: Share, bits: number, iters: number, gate: Share | null = null): Promise<Share> {
    const d = bits - this.f - iters;
    let base: Share = d >= 0 ? this.scaleS(x, 1n << BigInt(d)) : await this.trunc(this.#localMap(x), -d);
    base = this.addPub(base, this.#fill(x[0].length, 1n << BigInt(bits)));
    // A 0/1 gate zeroes the base where it is 0: a product with integer bits is exact, whatever the base holds.
    if (gate !== null) base = await this.proto.mul(base, gate);
    for (let k = 0; k < iters; k++) base = await this.trunc(await this.#product(base, base), bits, true);
    return bits > this.f ? this.trunc(this.#localMap(base), bits - this.f) : base;
  }

  /**
   * exp(x), documented for x in [-1024, 6] at 16 fractional bits (the session refuses ranges above 6). Below
   * -1024 the base 1 + x/1024 is negative and its powers grow (x = -3000 gave -1.2e10 at f = 8). With `clamp`
   * (the session sets it when x's public range reaches below -1024) one comparison gives s = [x < -1024] and
   * the base is multiplied by 1 - s: the result is then exactly 0 there, where e^x < e^-1024 is below one unit
   * at every supported f. The gate also covers elements whose base left the truncation's range: truncation
   * and products act element by element, and a product with an integer 0 is exact.
   */
  async exp(x: Share, clamp = false): Promise<Share> {
    let gate: Share | null = null;
    if (clamp) {
      // [x + 1024 < 0] is [x < -1024]; the gate is its complement.
      const s = await this.ltz(this.addPub(x, this.#fill(x[0].length, BigInt(EXP_SATURATION) << BigInt(this.f))));
      gate = this.addPub(this.#lin.neg(s), this.#fill(x[0].length, 1n));
    }
    // At least 22 internal bits (f + 6 at the default f = 16), so that the documented error holds at every f:
    // with f + 6 = 14 bits at f = 8, the 10 squarings amplified rounding to 3.9% at x = 6. The squares stay in
    // the truncation's range while e^x < 2^(62 - 2 bits) = 2^18 at 22 bits (and 2^10 > e^6 at 26 bits, f = 20).
    return this.expScaled(x, Math.min(Math.max(this.f + 6, 22), 30), 10, gate);
  }

  /** 1/x for x > 0: Newton-Raphson from y0 = 3 exp(0.5 - x) + 0.003 (CrypTen's documented start), `iters` steps. */
  async reciprocal(x: Share, iters = 12): Promise<Share> {
    const n = x[0].length;
    const half = this.#fill(n, 1n << BigInt(this.f - 1));
    const e = await this.exp(this.addPub(this.#lin.neg(x), half));
    let y = this.addPub(this.scaleS(e, 3n), this.#encode(new Float64Array(n).fill(0.003)));
    const two = this.#fill(n, 2n << BigInt(this.f));
    for (let k = 0; k < iters; k++) {
      const t = await this.mulFixed(x, y);
      y = await this.mulFixed(y, this.addPub(this.#lin.neg(t), two));
    }
    return y;
  }

  /**
   * sigmoid(x) = 1 / (1 + exp(-|x|)) for x >= 0, mirrored for x < 0. exp(-|x|) as (1 - |x|/1024)^1024 is
   * valid for |x| <= 1024 only (beyond, the base is negative and its powers leave the truncation's range). With
   * `clamp` (the session sets it when the input's public range exceeds +-1024) one more comparison gives
   * s = [|x| > 1024] and the base is multiplied by 1 - s: exp(-|x|) is then 0 there, below its documented
   * error (e^-1024), and the result is exactly 0 or 1. Costs 9 more rounds and one comparison per element.
   */
  async sigmoid(x: Share, clamp = false): Promise<Share> {
    const n = x[0].length;
    const b = await this.ltz(x);
    const xb = await this.proto.mul(x, b);
    const negAbs = this.subS(this.scaleS(xb, 2n), x); // -|x| = 2 b x - x
    let gate: Share | null = null;
    if (clamp) {
      // [1024 - |x| < 0] is [|x| > 1024]; the gate is its complement.
      const s = await this.ltz(this.addPub(negAbs, this.#fill(n, BigInt(SIGMOID_SATURATION) << BigInt(this.f))));
      gate = this.addPub(this.#lin.neg(s), this.#fill(n, 1n));
    }
    const e = await this.expScaled(negAbs, Math.min(this.f + 10, 30), 10, gate);
    const one = this.#fill(n, 1n << BigInt(this.f));
    const d = this.addPub(e, one); // in (1, 2]
    // Newton on [1, 2] from the minimax line y0 = 24/17 - 8/17 d: |1 - d y0| <= 1/17, squared by each step, so
    // two steps leave a relative error of (1/17)^4 = 1.2e-5, below the exp approximation's.
    let y = this.addPub(await this.#mulPublicScalar(d, -8 / 17), this.#encode(new Float64Array(n).fill(24 / 17)));
    const two = this.#fill(n, 2n << BigInt(this.f));
    for (let k = 0; k < 2; k++) {
      const t = await this.mulFixed(d, y);
      y = await this.mulFixed(y, this.addPub(this.#lin.neg(t), two));
    }
    // sigmoid(x) = y + b (1 - 2y)
    const oneMinus2y = this.addPub(this.scaleS(y, BigInt.asUintN(64, -2n)), one);
    return this.addS(y, await this.proto.mul(b, oneMinus2y));
  }

  async #mulPublicScalar(x: Share, c: number): Promise<Share> {
    const k = encodeFixedPoint([c], { fractionalBits: this.f })[0];
    return this.trunc(this.#localMap(x, { k }), this.f, true);
  }

  async #mulPublic(x: Share, values: Float64Array): Promise<Share> {
    const n = x[0].length;
    const pub = this.#encode(values.length === n ? values : new Float64Array(n).fill(values[0]));
    return this.trunc(this.#localMap(x, { pub }), this.f, true);
  }

  // ---- operation dispatcher ----

  /**
   * Party 0 orders the whole operation's dealer material in one batch (others have no requester: no-op).
   * Dealer-free, every party makes it now, one batch per kind, so that an operation such as sigmoid costs a
   * few generation circuits instead of one per truncation.
   */
  async #prefetch(o: Operation): Promise<void> {
    const dealerFree = this.ch.pool.dealerFree;
    if (this.proto.selfProvisioned === true) return;
    if (this.proto.party !== 0 && !dealerFree) return;
    let reqs: ReturnType<typeof materialFor> = [];
    const additive = this.proto.kind === 'additive';
    if (o.op === 'matmul') reqs = materialFor('matmul', o.m * o.n, additive, this.f, { m: o.m, k: o.k, n: o.n });
    else if (o.op === 'sigmoid' && o.clamp === true)
      reqs = materialFor('sigmoidClamped', this.#values.get(o.a)?.share[0].length ?? 0, additive, this.f);
    else if ('a' in o && o.op !== 'reveal') {
      const a = this.#values.get(o.a);
      let n = a ? a.share[0].length : 0;
      if ('b' in o) n = Math.max(n, this.#values.get(o.b)?.share[0].length ?? 0);
      reqs = materialFor(o.op, n, additive, this.f);
    }
    if (!dealerFree) for (const r of reqs) this.ch.pool.reserve(r);
    else for (const r of reqs) await this.ch.pool.reserveMade(r);
  }

  /** Runs one operation; returns revealed values when this party receives a reveal. */
  async run(seq: number, o: Operation): Promise<Float64Array | null> {
    this.ch.op = seq;
    this.ch.step = 0;
    await this.#prefetch(o);
    switch (o.op) {
      case 'input': {
        const values = o.values ? this.#encode(o.values) : null;
        this.#set(o.out, await this.proto.input(o.owner, values, o.count));
        return null;
      }
      case 'free':
        for (const id of o.ids) this.#values.delete(id);
        return null;
      case 'add':
      case 'sub':
      case 'mul':
      case 'lessThan': {
        let a = this.#get(o.a);
        let b = this.#get(o.b);
        const n = Math.max(a[0].length, b[0].length);
        a = this.#broadcast(a, n);
        b = this.#broadcast(b, n);
        if (o.op === 'add') this.#set(o.out, this.addS(a, b));
        else if (o.op === 'sub') this.#set(o.out, this.subS(a, b));
        else if (o.op === 'mul') this.#set(o.out, await this.mulFixed(a, b));
        else this.#set(o.out, this.scaleS(await this.ltz(this.subS(a, b)), 1n << BigInt(this.f)));
        return null;
      }
      case 'addPublic': {
        const a = this.#get(o.a);
        const n = a[0].length;
        this.#set(o.out, this.addPub(a, this.#encode(o.values.length === n ? o.values : new Float64Array(n).fill(o.values[0]))));
        return null;
      }
      case 'mulPublic':
        this.#set(o.out, await this.#mulPublic(this.#get(o.a), o.values));
        return null;
      case 'lessThanPublic': {
        const a = this.#get(o.a);
        const n = a[0].length;
        const pub = this.#encode(o.values.length === n ? o.values : new Float64Array(n).fill(o.values[0]));
        this.#set(o.out, this.scaleS(await this.ltz(this.addPub(a, neg(pub))), 1n << BigInt(this.f)));
        return null;
      }
      case 'neg':
        this.#set(o.out, this.#lin.neg(this.#get(o.a)));
        return null;
      case 'square': {
        const a = this.#get(o.a);
        this.#set(o.out, await this.mulFixed(a, a));
        return null;
      }
      case 'relu':
        this.#set(o.out, await this.relu(this.#get(o.a)));
        return null;
      case 'sigmoid':
        this.#set(o.out, await this.sigmoid(this.#get(o.a), o.clamp === true));
        return null;
      case 'exp':
        this.#set(o.out, await this.exp(this.#get(o.a), o.clamp === true));
        return null;
      case 'reciprocal':
        this.#set(o.out, await this.reciprocal(this.#get(o.a)));
        return null;
      case 'matmul': {
        const a = this.#get(o.a);
        const b = this.#get(o.b);
        const z = this.proto.matmul ? await this.proto.matmul(a, b, o.m, o.k, o.n) : await this.proto.matmulToAdditive(a, b, o.m, o.k, o.n);
        this.#set(o.out, await this.trunc(z, this.f, true));
        return null;
      }
      case 'transpose':
        this.#set(
          o.out,
          this.#map(this.#get(o.a), (c) => transpose(c, o.rows, o.cols)),
        );
        return null;
      case 'sum': {
        const a = this.#get(o.a);
        this.#set(o.out, this.#lin.sum(a, o.rows, o.cols, o.axis));
        return null;
      }
      case 'concat':
        this.#set(o.out, this.#catShares(o.ids.map((id) => this.#get(id))));
        return null;
      case 'slice':
        this.#set(
          o.out,
          this.#map(this.#get(o.a), (c) => c.slice(o.start, o.end)),
        );
        return null;
      case 'max':
      case 'argmax': {
        const r = await this.tournament(this.#get(o.a), o.rows, o.cols, o.op === 'argmax');
        this.#set(o.out, o.op === 'max' ? r.max : this.scaleS(r.onehot as Share, 1n << BigInt(this.f)));
        return null;
      }
      case 'reveal': {
        const a = this.#get(o.a);
        // Malicious security: everything before is checked before the value is opened (a wrongly computed output
        // would leak to the cheater), and the opening itself before any party returns it.
        if (this.proto.verify) await this.proto.verify();
        const v = o.to < 0 ? await this.proto.open(a, false) : await this.proto.openTo(a, false, o.to);
        if (this.proto.verify) await this.proto.verify();
        if (v === null || (o.to < 0 && this.proto.party !== 0 && !this.#revealEverywhere)) return null;
        return decodeFixedPoint(v, { fractionalBits: this.f });
      }
      case 'preprocess':
        // Dealer: party 0 orders everything at once. Dealer-free: every party makes it now, in this order.
        for (const r of o.requests) await this.ch.pool.produce(r);
        // Verified triples first: their generation consumes shares of zero of its own.
        if (this.proto.prepareTriples) await this.proto.prepareTriples(o.zeros.xor, o.zeros.arith);
        if (this.proto.prepareZeros) this.proto.prepareZeros(o.zeros.xor, o.zeros.arith);
        for (const r of o.requests) await this.ch.pool.waitFor(r.key, r.count);
        return null;
    }
  }
}

/** The 64-bit local operations on every component (additive and replicated sharing). */
function componentwise(proto: Protocol): LinearOps {
  const slot = proto.publicSlot;
  return {
    add: (x, y) => x.map((c, i) => add(c, y[i])),
    sub: (x, y) => x.map((c, i) => sub(c, y[i])),
    neg: (x) => x.map((c) => neg(c)),
    scale: (x, k) => x.map((c) => scale(c, k)),
    mulPublic: (x, pub) => x.map((c) => ringMul(c, pub)),
    // Components without the constant are shared with x, not copied: shares are never modified in place.
    addPublic: (x, pub) => x.map((c, i) => (i === slot ? add(c, pub) : c)),
    constant: (pub) => {
      const out: Share = [];
      for (let i = 0; i < proto.width; i++) out.push(i === slot ? pub.slice() : new BigUint64Array(pub.length));
      return out;
    },
    sum: (x, rows, cols, axis) => x.map((c) => sumAxis(c, rows, cols, axis)),
  };
}

function sumAxis(c: BigUint64Array, rows: number, cols: number, axis: -1 | 0 | 1): BigUint64Array {
  if (axis === -1) {
    let s = 0n;
    for (let i = 0; i < c.length; i++) s = BigInt.asUintN(64, s + c[i]);
    return BigUint64Array.of(s);
  }
  if (axis === 0) {
    const out = new BigUint64Array(cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j] = out[j] + c[i * cols + j];
    return out;
  }
  const out = new BigUint64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0n;
    for (let j = 0; j < cols; j++) s = BigInt.asUintN(64, s + c[i * cols + j]);
    out[i] = s;
  }
  return out;
}
