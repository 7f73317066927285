/**
 * Dealer-free preprocessing for replicated 3-party sharing (internal): the three parties make the truncation
 * pairs, comparison masks (edaBits) and daBits that the trusted dealer would otherwise deal, from their
 * pairwise PRG keys, local computation and binary circuits among themselves (ABY3, Mohassel and Rindal, CCS
 * 2018, Sec. 5.3 and 5.4; edaBits, Escudero, Ghosh, Keller, Rachuri and Scholl, CRYPTO 2020, Sec. 3). The
 * output has exactly the fields and sharing the dealer's material has (`preprocessing.ts`), so the online
 * operations in `party.ts` are unchanged, and truncation stays exact-wrap (error in {0, +1} ulp).
 *
 * Building blocks:
 * - A random sharing is free: component j is the PRG stream of the key that its two holders share
 *   ({@link ReplicatedProtocol.pairRandom}). The same words serve as an arithmetic or an XOR sharing.
 * - A value known to the two holders of component j has a trivial sharing: the value in component j, 0 in
 *   the others. Local, no communication.
 * - A2B (edaBits): -r = (-r_0) + (-r_1) + (-r_2) summed by a binary circuit on trivial XOR sharings: one
 *   full-adder layer (carry-save, 1 AND round) and a Kogge-Stone adder over 64-bit words (7 AND rounds).
 * - B2A (ABY3 Sec. 5.3): for an XOR-shared x, parties 0-1 draw x_1 and parties 1-2 draw x_2 from their keys;
 *   the adder computes x_0 = x - x_1 - x_2 in binary, which is opened to parties 0 and 2 only (the holders
 *   of component 0). x_0 is uniform to party 0 (it lacks x_2) and to party 2 (it lacks x_1); party 1 sees
 *   nothing of it.
 * - A single bit b = b_0 ^ b_1 ^ b_2 converts with two products: u = b_0 + b_1 - 2 b_0 b_1, then
 *   b = u + b_2 - 2 u b_2 (replicated products are exact in the ring).
 *
 * Costs per element and party (measured by the session counters): an edaBit 8 rounds and 104 bytes; a daBit
 * 2 rounds and 16 bytes; a truncation pair (B2A of r and of its middle bits in one 2n-word circuit, then the top
 * bit) 11 rounds and 224 bytes (256 for party 1, which also sends the opening). A batch costs the same rounds
 * whatever its size. Security: semi-honest with an honest majority (any one party's view is independent of the
 * masks: `test/dealer-free.test.ts` checks it statistically); a party that deviates is not detected.
 * @module
 */
import type { Material, MaterialRequest } from '../preprocessing.ts';
import { add, concat, middleBits, msb, neg, scale, shiftLeft, xor } from '../ring.ts';
import type { Share } from './protocol.ts';
import type { ReplicatedProtocol } from './replicated.ts';

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The trivial sharing, on this party, of `value` known to the holders of component `j`: party i holds
 * components (i, i+1).
 */
function trivial(party: number, j: number, value: BigUint64Array | null, n: number): Share {
  if (value === null) return [new BigUint64Array(n), new BigUint64Array(n)];
  if (j === party) return [value, new BigUint64Array(n)];
  if (j === (party + 1) % 3) return [new BigUint64Array(n), value];
  return [new BigUint64Array(n), new BigUint64Array(n)];
}

/** Per-slot map of a two-component share. */
function each(x: Share, fn: (c: BigUint64Array, slot: number) => BigUint64Array): Share {
  return [fn(x[0], 0), fn(x[1], 1)];
}

/**
 * Binary sum a + b + c mod 2^64 of three XOR sharings of 64-bit words: a carry-save layer (one AND round),
 * then a Kogge-Stone prefix adder (the same 6 levels as the comparison in `party.ts`, 7 AND rounds).
 */
async function addBinary3(proto: ReplicatedProtocol, a: Share, b: Share, c: Share): Promise<Share> {
  const n = a[0].length;
  // Full adder: sum = a ^ b ^ c, carry = maj(a, b, c) = ((a ^ c) & (b ^ c)) ^ c.
  const m = await proto.and(
    each(a, (ac, i) => xor(ac, c[i])),
    each(b, (bc, i) => xor(bc, c[i])),
  );
  const x = each(a, (ac, i) => xor(xor(ac, b[i]), c[i]));
  const y = each(m, (mc, i) => shiftLeft(xor(mc, c[i], mc), 1, mc));
  let G = await proto.and(x, y);
  const p0 = each(x, (xc, i) => xor(xc, y[i]));
  let P: Share = p0;
  const gs: Share = [new BigUint64Array(n), new BigUint64Array(n)];
  const ps: Share = [new BigUint64Array(n), new BigUint64Array(n)];
  for (const sh of [1, 2, 4, 8, 16]) {
    for (let i = 0; i < 2; i++) {
      shiftLeft(G[i], sh, gs[i]);
      shiftLeft(P[i], sh, ps[i]);
    }
    const t = await proto.and2(P, gs, ps);
    G = each(G, (gc, i) => xor(gc, t[i].subarray(0, n), gc));
    P = each(t, (tc) => tc.subarray(n));
  }
  for (let i = 0; i < 2; i++) shiftLeft(G[i], 32, gs[i]);
  const last = await proto.and(P, gs);
  // G now holds the carry out of every bit; sum bit k = p_k ^ carry_(k-1).
  return each(G, (gc, i) => xor(p0[i], shiftLeft(xor(gc, last[i], gc), 1, gs[i])));
}

/** Arithmetic sharing of -r (per component) summed in binary: an XOR sharing of -r (edaBit, Escudero et al.). */
async function binaryOfNegated(proto: ReplicatedProtocol, r: Share): Promise<Share> {
  const me = proto.party;
  const mine = neg(r[0]);
  const nextOne = neg(r[1]);
  const parts = [0, 1, 2].map((j) => trivial(me, j, j === me ? mine : j === (me + 1) % 3 ? nextOne : null, mine.length));
  return addBinary3(proto, parts[0], parts[1], parts[2]);
}

/** XOR-shared words to an arithmetic sharing of the same 64-bit values (ABY3 Sec. 5.3, see module doc). */
async function b2a(proto: ReplicatedProtocol, x: Share): Promise<Share> {
  const me = proto.party;
  const n = x[0].length;
  // Components 1 and 2 of a random sharing: x_1 known to parties 0 and 1, x_2 to parties 1 and 2.
  const [c0, c1] = proto.pairRandom(n);
  const x1 = me === 0 ? c1 : me === 1 ? c0 : null;
  const x2 = me === 1 ? c1 : me === 2 ? c0 : null;
  const n1 = trivial(me, 1, x1 === null ? null : neg(x1), n);
  const n2 = trivial(me, 2, x2 === null ? null : neg(x2), n);
  const y = await addBinary3(proto, x, n1, n2);
  const x0 = await proto.openToHoldersOfZero(y);
  if (me === 0) return [x0 as BigUint64Array, x1 as BigUint64Array];
  if (me === 1) return [x1 as BigUint64Array, x2 as BigUint64Array];
  return [x2 as BigUint64Array, x0 as BigUint64Array];
}

/** XOR-shared bits (words that are 0 or 1) to an arithmetic sharing, with two exact products. */
async function bitsToArithmetic(proto: ReplicatedProtocol, bits: Share): Promise<Share> {
  const me = proto.party;
  const t = [0, 1, 2].map((j) => trivial(me, j, j === me ? bits[0] : j === (me + 1) % 3 ? bits[1] : null, bits[0].length));
  const minus2 = BigInt.asUintN(64, -2n);
  const p = await proto.mul(t[0], t[1]);
  const u = each(t[0], (c, i) => add(add(c, t[1][i]), scale(p[i], minus2)));
  const q = await proto.mul(u, t[2]);
  return each(u, (c, i) => add(add(c, t[2][i]), scale(q[i], minus2)));
}

/**
 * Generates `req.count` items of dealer-free material on this party (all three parties call it at the same
 * point of the run, with the same request). Kinds: 'trunc', 'edabit' and 'dabit' (the only ones replicated
 * sharing consumes; products need no triples).
 * @example
 * ```ts
 * const material = await generateReplicatedMaterial(protocol, { key: 'edabit', kind: 'edabit', count: 1024 });
 * pool.add(material);
 * ```
 */
export async function generateReplicatedMaterial(proto: ReplicatedProtocol, req: MaterialRequest): Promise<Material> {
  const n = req.count;
  const fields = new Map<string, BigUint64Array[]>();
  switch (req.kind) {
    case 'edabit': {
      // A random r (free), and the XOR sharing of -r that the comparison adds to the opened x + r.
      const r = proto.pairRandom(n);
      fields.set('r', r);
      fields.set('s', await binaryOfNegated(proto, r));
      break;
    }
    case 'dabit': {
      const words = proto.pairRandom(n);
      const bits: Share = each(words, (c) => {
        for (let i = 0; i < c.length; i++) c[i] = c[i] & 1n;
        return c;
      });
      fields.set('a', await bitsToArithmetic(proto, bits));
      fields.set('x', bits);
      break;
    }
    case 'trunc': {
      const sh = req.shift ?? 0;
      if (!Number.isInteger(sh) || sh < 1 || sh > 31) throw new RangeError(`shift must be an integer in [1, 31], got ${sh}`);
      if (!LITTLE_ENDIAN) throw new RangeError('truncation material needs a little-endian platform');
      // A uniformly random r as an XOR sharing; its middle bits (r mod 2^63) >> shift and its top bit are
      // XOR-linear, so their binary sharings are local. One B2A circuit converts r and the middle bits together.
      const r = proto.pairRandom(n);
      const mid = each(r, (c) => middleBits(c, sh));
      const both = await b2a(
        proto,
        each(r, (c, i) => concat([c, mid[i]])),
      );
      const hi = await bitsToArithmetic(
        proto,
        each(r, (c) => msb(c)),
      );
      // 'hi' and 'lo' are native replicated sharings; so is 'r', whose first component is the n-out-of-n part that
      // semi-honest truncation adds (the second serves the checked opening under malicious security).
      fields.set('r', [both[0].slice(0, n), both[1].slice(0, n)]);
      fields.set('hi', hi);
      fields.set('lo', [both[0].slice(n), both[1].slice(n)]);
      break;
    }
    default:
      throw new RangeError(`dealer-free replicated preprocessing makes 'trunc', 'edabit' and 'dabit' material, not '${req.kind}'`);
  }
  return { request: req, fields };
}
