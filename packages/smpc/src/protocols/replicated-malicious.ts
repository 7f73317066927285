/**
 * Replicated 3-party sharing secure against one malicious party, with abort (internal). The semi-honest
 * protocol of `replicated.ts` computes; this subclass makes every message it sends checkable, and checks all of
 * them before any value is revealed (the "compute, then verify" paradigm of Furukawa, Lindell, Nof and
 * Weinstein, Eurocrypt 2017, and Araki, Barak, Furukawa, Lichter, Lindell, Nof, Ohara, Watzman and Weinstein,
 * IEEE S&P 2017):
 *
 * - **Openings are redundant.** Every component is held by two parties. The one a party lacks comes from one
 *   holder, and the other holder vouches for it: it appends the component to a running SHA-256 transcript that
 *   it sends to this party at the next check. A party that opens a wrong value, or sends a wrong seed when it
 *   shares an input, makes the two transcripts differ.
 * - **Products are verified with a verified triple.** z = x y is computed by the one-round replicated product;
 *   then rho = x - a and sigma = y - b are opened for a verified random triple (a, b, c), and
 *   v = z - c - sigma a - rho b - sigma rho must be a sharing of 0 (Furukawa et al. Sec. 3). The error that a
 *   cheating party can add to its share of z is additive and v equals it, so a single wrong product is caught
 *   with certainty. Zero is checked without opening v: party i vouches for v_i + v_{i+1} to party i+1, which
 *   compares with -v_{i+2}. The check needs no random scalar, so it is sound over Z_2^64 and over 64-bit words.
 *   The zero tests go in their own transcript, sent only after the openings are confirmed: v is unmasked, and
 *   computed from a tampered opening it would be a function of the honest party's secrets.
 * - **Triples are verified by cut-and-bucket** (Araki et al. 2017, Sec. 2 and 3; Furukawa et al. Sec. 5):
 *   N B + C random triples (a and b free from the pairwise keys, c by the semi-honest product), a check round
 *   that every party enters only once it holds its c (so nobody sees the coin before the errors in c are
 *   fixed), a random permutation from a coin opened and checked after it, C triples opened and checked, and the
 *   rest in buckets of B where the first triple is checked against the other B - 1 with the same zero test.
 *   C = B and B from {@link bucketSize}: at most 2^-s for the whole run (up to 2^20 batches).
 * - **Checks before and after every reveal**: the value to reveal is opened only once everything before it is
 *   checked (a wrongly computed output would leak to the cheater), and returned only once its own opening is.
 *   A check exchanges transcript digests (openings, then zero tests), then verdicts: a party whose neighbour
 *   aborted never gets the verdict and aborts too. Across machines this is selective abort: an honest party
 *   either aborts or returns the correct value (a cheater can withhold its verdict from one party only).
 *
 * Security: malicious with abort, honest majority (one of three parties corrupted), statistical parameter s
 * (default 40) for the triples, and SHA-256 collision resistance for the transcripts. Every value opened is
 * masked by fresh uniform randomness (rho, sigma, the masked values of truncation and comparison), and nothing
 * derived from an unconfirmed opening is sent unmasked; an honest party never returns a wrong value. Products of public or n-out-of-n additive sharings (`openAdditive`, `mulToAdditive`,
 * `matmulToAdditive`) have no redundancy and are refused: `party.ts` uses the verified forms instead.
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import { cryptoRng, type Rng } from '@ppml/core';
import { ProtocolAbortError } from '../errors.ts';
import { expand } from '../prg.ts';
import { add, and, concat, neg, sub, xor, mul as ringMul } from '../ring.ts';
import type { Channel, Share } from './protocol.ts';
import { ReplicatedProtocol, type PairKeys } from './replicated.ts';

/** Smallest and largest number of verified triples made in one cut-and-bucket batch. */
const MIN_BATCH = 2 ** 14;
const MAX_BATCH = 2 ** 14;
const VERDICT_OK = 0x4f4bn;
/** Element products per block of a checked matrix product (16 MiB per component of its operands). */
const MATMUL_BLOCK = 2 ** 21;

/**
 * Bucket size B (and cut size C = B) for batches of N triples at statistical security s. The adversary's best
 * strategy corrupts B triples with equal errors and needs all of them in one bucket (Furukawa et al. 2017,
 * Sec. 5; Araki et al., IEEE S&P 2017, Sec. 3): per batch it succeeds with probability
 * N B! (NB + C - B)! / (NB + C)! <= B! / (B^B N^(B-1)). B is the smallest with
 * (B - 1) log2 N + log2(B^B / B!) >= s + 20, so a run stays within 2^-s over up to 2^20 batches (a union bound;
 * {@link MAX_BATCHES}).
 * @example
 * ```ts
 * bucketSize(2 ** 14, 40); // 5 (2^-60.7 per batch)
 * bucketSize(2 ** 20, 40); // 4
 * ```
 */
export function bucketSize(triples: number, statisticalSecurity: number): number {
  if (!Number.isInteger(triples) || triples < 2) throw new RangeError(`triples must be an integer >= 2, got ${triples}`);
  if (!Number.isInteger(statisticalSecurity) || statisticalSecurity < 1 || statisticalSecurity > 128) {
    throw new RangeError(`statisticalSecurity must be an integer in [1, 128], got ${statisticalSecurity}`);
  }
  const log = Math.log2(triples);
  let b = 2;
  // log2(B^B / B!) = B log2 B - log2 B!
  const slack = (k: number): number => {
    let f = 0;
    for (let i = 2; i <= k; i++) f += Math.log2(i);
    return k * Math.log2(k) - f;
  };
  while ((b - 1) * log + slack(b) < statisticalSecurity + BATCH_LOG2) b++;
  return b;
}

/** Batches per run covered by {@link bucketSize}'s union bound (2^20); a run that needs more aborts. */
export const MAX_BATCHES: number = 2 ** 20;
const BATCH_LOG2 = 20;

/** Verified triples of one kind (arithmetic or XOR), as a FIFO of chunks. */
class TripleStore {
  readonly #chunks: { t: Share[]; offset: number; count: number }[] = [];
  available = 0;

  add(a: Share, b: Share, c: Share): void {
    this.#chunks.push({ t: [a, b, c], offset: 0, count: a[0].length });
    this.available += a[0].length;
  }

  /** Takes `n` triples: [a, b, c], each a two-component share. */
  take(n: number): [Share, Share, Share] {
    const parts: [Share, Share, Share][] = [];
    let need = n;
    while (need > 0) {
      const head = this.#chunks[0];
      const k = Math.min(need, head.count - head.offset);
      const cut = (s: Share): Share => [s[0].subarray(head.offset, head.offset + k), s[1].subarray(head.offset, head.offset + k)];
      parts.push([cut(head.t[0]), cut(head.t[1]), cut(head.t[2])]);
      head.offset += k;
      need -= k;
      if (head.offset === head.count) this.#chunks.shift();
    }
    this.available -= n;
    if (parts.length === 1) return parts[0];
    const join = (i: 0 | 1 | 2): Share => [concat(parts.map((p) => p[i][0])), concat(parts.map((p) => p[i][1]))];
    return [join(0), join(1), join(2)];
  }
}

/** Options of {@link MaliciousReplicatedProtocol}. */
export interface MaliciousOptions {
  /** Statistical security parameter s of the triple verification, an integer in [40, 128]. */
  readonly statisticalSecurity: number;
}

/**
 * The replicated 3-party protocol with malicious security with abort, for one party.
 * @example
 * ```ts
 * const protocol = new MaliciousReplicatedProtocol(channel, keys, { statisticalSecurity: 40 });
 * const z = await protocol.mul(x, y); // verified before the next reveal
 * await protocol.verify(); // throws ProtocolAbortError if any message was tampered with
 * ```
 */
export class MaliciousReplicatedProtocol extends ReplicatedProtocol {
  readonly malicious = true;
  readonly #ch: Channel;
  readonly #s: number;
  /** What this party vouches for to party i+1, and what it expects party i-1 to vouch for. */
  #vouch: Hash = createHash('sha256');
  #expect: Hash = createHash('sha256');
  /**
   * The zero tests of products, kept apart: their values are sent (as digests) only after the openings they
   * depend on are checked, so a tampered opening cannot make an honest party send a function of its secrets.
   */
  #zeroVouch: Hash = createHash('sha256');
  #zeroExpect: Hash = createHash('sha256');
  #zeroTests = 0;
  #batches = 0;
  readonly #arith = new TripleStore();
  readonly #bin = new TripleStore();
  /** Test-only: the next opening sends a wrong component (`faultInjection` kind 'wrongOpen'). */
  tamperOpen = false;

  constructor(channel: Channel, keys: PairKeys, options: MaliciousOptions, rng: Rng = cryptoRng) {
    super(channel, keys, rng);
    this.#ch = channel;
    this.#s = options.statisticalSecurity;
  }

  get #next(): number {
    return (this.party + 1) % 3;
  }

  get #prev(): number {
    return (this.party + 2) % 3;
  }

  #vouchFor(words: BigUint64Array): void {
    framed(this.#vouch, words);
  }

  #expectFromPrev(words: BigUint64Array): void {
    framed(this.#expect, words);
  }

  #sent(words: BigUint64Array): BigUint64Array {
    if (!this.tamperOpen) return words;
    this.tamperOpen = false;
    const out = words.slice();
    if (out.length > 0) out[0] = BigInt.asUintN(64, out[0] + 1n);
    return out;
  }

  /** Records that the sharing v (components of this party) must be a sharing of zero (checked at verify). */
  #checkZero(v: Share, isXor: boolean): void {
    framed(this.#zeroVouch, isXor ? xor(v[0], v[1]) : add(v[0], v[1]));
    framed(this.#zeroExpect, isXor ? v[1] : neg(v[1]));
    this.#zeroTests++;
  }

  override async open(x: Share, isXor: boolean): Promise<BigUint64Array> {
    const tag = this.#ch.nextTag();
    // Party i lacks x_{i+2}: party i+1 sends it, party i+2 (which holds it as x[0]) vouches for it.
    this.#ch.send(this.#prev, tag, this.#sent(x[1]));
    this.#vouchFor(x[0]);
    const missing = await this.#ch.receive(this.#next, tag, x[0].length);
    this.#expectFromPrev(missing);
    return isXor ? xor(xor(x[0], x[1]), missing) : add(add(x[0], x[1]), missing);
  }

  override async openTo(x: Share, isXor: boolean, to: number): Promise<BigUint64Array | null> {
    const tag = this.#ch.nextTag();
    if (this.party === (to + 1) % 3) this.#ch.send(to, tag, this.#sent(x[1]));
    if (this.party === (to + 2) % 3) this.#vouchFor(x[0]);
    if (this.party !== to) return null;
    const missing = await this.#ch.receive(this.#next, tag, x[0].length);
    this.#expectFromPrev(missing);
    return isXor ? xor(xor(x[0], x[1]), missing) : add(add(x[0], x[1]), missing);
  }

  /**
   * Opens an XOR sharing to parties 0 and 2: party 0 gets x_2 from party 1 (party 2 vouches), party 2 gets x_1
   * from party 0 (party 1 vouches). One round, as in the semi-honest protocol.
   */
  override async openToHoldersOfZero(y: Share): Promise<BigUint64Array | null> {
    const tag = this.#ch.nextTag();
    const me = this.party;
    if (me === 1) {
      this.#ch.send(0, tag, this.#sent(y[1]));
      this.#vouchFor(y[0]);
      return null;
    }
    if (me === 0) this.#ch.send(2, tag, this.#sent(y[1]));
    else this.#vouchFor(y[0]);
    const missing = await this.#ch.receive(me === 0 ? 1 : 0, tag, y[0].length);
    this.#expectFromPrev(missing);
    return xor(xor(y[0], y[1]), missing);
  }

  override async openAdditive(): Promise<BigUint64Array> {
    throw new ProtocolAbortError('an n-out-of-n additive opening has no redundancy and is refused under malicious security', {
      party: this.party,
    });
  }

  override async mulToAdditive(): Promise<BigUint64Array> {
    throw new ProtocolAbortError('products to additive sharings are refused under malicious security (use mul)', { party: this.party });
  }

  override async matmulToAdditive(): Promise<BigUint64Array> {
    throw new ProtocolAbortError('matrix products to additive sharings are refused under malicious security (use matmul)', {
      party: this.party,
    });
  }

  override async input(owner: number, values: BigUint64Array | null, count: number): Promise<Share> {
    const x = await super.input(owner, values, count);
    // Component x_{o+2} is held by parties o+1 (second slot) and o+2 (first slot), both from the owner's seed:
    // party o+1 vouches for it to party o+2, so an owner that sends them different seeds is caught.
    if (this.party === (owner + 1) % 3) this.#vouchFor(x[1]);
    if (this.party === (owner + 2) % 3) this.#expectFromPrev(x[0]);
    return x;
  }

  override async mul(x: Share, y: Share): Promise<Share> {
    return this.#verifiedProduct(x, y, false);
  }

  override async and(x: Share, y: Share): Promise<Share> {
    return this.#verifiedProduct(x, y, true);
  }

  override async and2(x: Share, y: Share, w: Share): Promise<Share> {
    const xx: Share = [concat([x[0], x[0]]), concat([x[1], x[1]])];
    return this.#verifiedProduct(xx, [concat([y[0], w[0]]), concat([y[1], w[1]])], true);
  }

  /**
   * Matrix product X (m x k) Y (k x n) as verified element products summed locally (each of the m k n products is
   * checked with its own triple), in blocks of rows of at most {@link MATMUL_BLOCK} products so that memory stays
   * bounded whatever the shape.
   * @example
   * ```ts
   * const z = await protocol.matmul(x, y, 4, 3, 2);
   * ```
   */
  async matmul(x: Share, y: Share, m: number, k: number, n: number): Promise<Share> {
    const out: Share = [new BigUint64Array(m * n), new BigUint64Array(m * n)];
    const rowsPerBlock = Math.max(1, Math.floor(MATMUL_BLOCK / (k * n)));
    for (let i0 = 0; i0 < m; i0 += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, m - i0);
      const cells = rows * n;
      // Term t of output cell c sits at t * cells + c, so that the sum over t adds whole subarrays.
      const xs: Share = [new BigUint64Array(k * cells), new BigUint64Array(k * cells)];
      const ys: Share = [new BigUint64Array(k * cells), new BigUint64Array(k * cells)];
      for (let s = 0; s < 2; s++) {
        const xw = words32(x[s]);
        const yw = words32(y[s]);
        const xo = words32(xs[s]);
        const yo = words32(ys[s]);
        for (let t = 0; t < k; t++)
          for (let i = 0; i < rows; i++)
            for (let j = 0; j < n; j++) {
              const o = 2 * (t * cells + i * n + j);
              const a = 2 * ((i0 + i) * k + t);
              const b = 2 * (t * n + j);
              xo[o] = xw[a];
              xo[o + 1] = xw[a + 1];
              yo[o] = yw[b];
              yo[o + 1] = yw[b + 1];
            }
      }
      const p = await this.#verifiedProduct(xs, ys, false);
      for (let s = 0; s < 2; s++) {
        const acc = out[s].subarray(i0 * n, i0 * n + cells);
        for (let t = 0; t < k; t++) add(acc, p[s].subarray(t * cells, (t + 1) * cells), acc);
      }
    }
    return out;
  }

  /** Offline phase: verified triples for `xor` binary and `arith` arithmetic products ahead of use. */
  async prepareTriples(xorCount: number, arithCount: number): Promise<void> {
    if (xorCount > this.#bin.available) await this.#makeTriples(xorCount - this.#bin.available, true);
    if (arithCount > this.#arith.available) await this.#makeTriples(arithCount - this.#arith.available, false);
  }

  async #take(n: number, isXor: boolean): Promise<[Share, Share, Share]> {
    const store = isXor ? this.#bin : this.#arith;
    if (store.available < n) await this.#makeTriples(n - store.available, isXor);
    return store.take(n);
  }

  async #verifiedProduct(x: Share, y: Share, isXor: boolean): Promise<Share> {
    const n = x[0].length;
    const [a, b, c] = await this.#take(n, isXor);
    return this.#productCheckedWith(x, y, a, b, c, isXor);
  }

  /** z = x y by the semi-honest product, plus the zero test of z against the triple (a, b, c). */
  async #productCheckedWith(x: Share, y: Share, a: Share, b: Share, c: Share, isXor: boolean): Promise<Share> {
    const n = x[0].length;
    const d = isXor ? xor : sub;
    const rs: Share = [concat([d(x[0], a[0]), d(y[0], b[0])]), concat([d(x[1], a[1]), d(y[1], b[1])])];
    // The product and the opening of (rho, sigma) are independent: one round for both.
    const [z, opened] = await Promise.all([isXor ? super.and(x, y) : super.mul(x, y), this.open(rs, isXor)]);
    this.#checkZero(this.#residue(z, a, b, c, opened.subarray(0, n), opened.subarray(n), isXor), isXor);
    return z;
  }

  /** v = z - c - sigma a - rho b - sigma rho (XOR: z ^ c ^ sigma&a ^ rho&b ^ sigma&rho), a sharing of 0 iff z = x y. */
  #residue(z: Share, a: Share, b: Share, c: Share, rho: BigUint64Array, sigma: BigUint64Array, isXor: boolean): Share {
    const out: Share = [new BigUint64Array(rho.length), new BigUint64Array(rho.length)];
    const pub = isXor ? and(sigma, rho) : ringMul(sigma, rho);
    for (let s = 0; s < 2; s++) {
      if (isXor) {
        xor(z[s], c[s], out[s]);
        xor(out[s], and(sigma, a[s]), out[s]);
        xor(out[s], and(rho, b[s]), out[s]);
        if (s === this.publicSlot) xor(out[s], pub, out[s]);
      } else {
        sub(z[s], c[s], out[s]);
        sub(out[s], ringMul(sigma, a[s]), out[s]);
        sub(out[s], ringMul(rho, b[s]), out[s]);
        if (s === this.publicSlot) sub(out[s], pub, out[s]);
      }
    }
    return out;
  }

  /** Cut-and-bucket (module doc): appends `count` verified triples to the store, in batches. */
  async #makeTriples(count: number, isXor: boolean): Promise<void> {
    for (let done = 0; done < count; ) {
      const n = Math.min(MAX_BATCH, Math.max(MIN_BATCH, count - done));
      await this.#bucketBatch(n, isXor);
      done += n;
    }
  }

  async #bucketBatch(n: number, isXor: boolean): Promise<void> {
    const B = bucketSize(n, this.#s);
    const C = B;
    const total = n * B + C;
    const a = this.pairRandom(total);
    const b = this.pairRandom(total);
    if (++this.#batches > MAX_BATCHES) {
      throw new ProtocolAbortError(`a run may verify at most ${MAX_BATCHES} batches of triples (the statistical bound covers no more)`);
    }
    const c = isXor ? await super.and(a, b) : await super.mul(a, b);
    // Every party must hold its share of c before anyone opens the coin: otherwise a party that learns the coin
    // first could still choose its errors in c to match whole buckets (a rushing adversary). The check's verdict
    // round is that barrier: a party confirms only after its product round has completed. The coin is checked
    // again before it is used: a party that opened a wrong coin share to one honest party would steer its buckets.
    await this.verify();
    const coin = await this.open(this.pairRandom(4), false);
    await this.verify();
    const perm = permutation(total, coin);
    const pick = (s: Share, from: number, to: number, stride: number, start: number): Share =>
      s.map((comp) => gather(comp, perm, from + start, to, stride));
    // Cut: open the first C triples of the permutation and check c = a b.
    const [ca, cb, cc] = [pick(a, 0, C, 1, 0), pick(b, 0, C, 1, 0), pick(c, 0, C, 1, 0)];
    const cut = await this.open([concat([ca[0], cb[0], cc[0]]), concat([ca[1], cb[1], cc[1]])], isXor);
    for (let i = 0; i < C; i++) {
      const ok = isXor ? (cut[i] & cut[C + i]) === cut[2 * C + i] : BigInt.asUintN(64, cut[i] * cut[C + i]) === cut[2 * C + i];
      if (!ok) throw new ProtocolAbortError('malicious-security check failed: an opened triple of the cut is not a product', { party: -1 });
    }
    // Buckets: positions C + k B + j; the triple at j = 0 is kept, checked against each of j = 1 .. B - 1.
    const first = (s: Share): Share => pick(s, C, total, B, 0);
    const keepA = first(a);
    const keepB = first(b);
    const keepC = first(c);
    for (let j = 1; j < B; j++) {
      const other = (s: Share): Share => pick(s, C, total, B, j);
      const oa = other(a);
      const ob = other(b);
      const oc = other(c);
      const d = isXor ? xor : sub;
      const rs: Share = [concat([d(keepA[0], oa[0]), d(keepB[0], ob[0])]), concat([d(keepA[1], oa[1]), d(keepB[1], ob[1])])];
      const opened = await this.open(rs, isXor);
      this.#checkZero(this.#residue(keepC, oa, ob, oc, opened.subarray(0, n), opened.subarray(n), isXor), isXor);
    }
    (isXor ? this.#bin : this.#arith).add(keepA, keepB, keepC);
  }

  /** Sends this party's digest to party i+1 and returns party i-1's (one round). */
  async #exchange(mine: Uint8Array): Promise<Uint8Array> {
    const tag = this.#ch.nextTag();
    this.#ch.sendBytes(this.#next, tag, new Uint8Array(mine));
    return this.#ch.receiveBytes(this.#prev, tag, 32);
  }

  #compare(expected: Uint8Array, theirs: Uint8Array, what: string): void {
    let diff = 0;
    for (let i = 0; i < 32; i++) diff |= theirs[i] ^ expected[i];
    if (diff !== 0) {
      throw new ProtocolAbortError(
        `malicious-security check failed between parties ${this.#prev} and ${this.party}: ${what} was tampered with`,
        { party: -1, cause: new Error('check failed: the transcripts of the two holders of a component differ') },
      );
    }
  }

  /**
   * Checks everything since the last check: exchanges transcript digests with the neighbours (party i sends
   * what it vouched for to party i+1), openings first and zero tests second, then verdicts with both other
   * parties (2 or 3 rounds). Throws `ProtocolAbortError` on a
   * mismatch; a party whose neighbour aborted never gets its verdict and aborts on the timeout or the closed link.
   * @example
   * ```ts
   * const v = await protocol.open(x, false);
   * await protocol.verify(); // only now may v be returned
   * ```
   */
  async verify(): Promise<void> {
    // Openings (and input components) first: only a party whose received values are confirmed goes on to send
    // anything computed from them.
    const vouched = this.#vouch.digest();
    const expectedOpenings = this.#expect.digest();
    this.#vouch = createHash('sha256');
    this.#expect = createHash('sha256');
    this.#compare(expectedOpenings, await this.#exchange(vouched), 'an opening or an input share');
    // Zero tests only when there are some: every party records them at the same points, so all agree on the skip.
    if (this.#zeroTests > 0) {
      const mine = this.#zeroVouch.digest();
      const expected = this.#zeroExpect.digest();
      this.#zeroVouch = createHash('sha256');
      this.#zeroExpect = createHash('sha256');
      this.#zeroTests = 0;
      this.#compare(expected, await this.#exchange(mine), 'a product');
    }
    // Verdicts: a party whose neighbour aborted never gets this one and aborts too (on the closed link or the
    // timeout), so no honest party returns after the other found a fault in its own view.
    const verdictTag = this.#ch.nextTag();
    const ok = BigUint64Array.of(VERDICT_OK);
    this.#ch.send(this.#next, verdictTag, ok);
    this.#ch.send(this.#prev, verdictTag, ok);
    const [u, w] = await Promise.all([this.#ch.receive(this.#next, verdictTag, 1), this.#ch.receive(this.#prev, verdictTag, 1)]);
    if (u[0] !== VERDICT_OK || w[0] !== VERDICT_OK) {
      throw new ProtocolAbortError('malicious-security check failed: a party did not confirm the check', {
        party: -1,
        cause: new Error('check failed: a wrong verdict'),
      });
    }
  }
}

/** A uniform permutation of [0, n) (Fisher-Yates) from a public 256-bit coin, expanded by AES-128-CTR. */
function permutation(n: number, coin: BigUint64Array): Uint32Array {
  const seed = new Uint8Array(coin.buffer, coin.byteOffset, 16).slice();
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  let words: Uint32Array = new Uint32Array(0);
  let pos = 0;
  let stream = 0n;
  const draw = (): number => {
    if (pos === words.length) {
      const w = expand(seed, 4096, stream++);
      words = new Uint32Array(w.buffer);
      pos = 0;
    }
    return words[pos++];
  };
  for (let i = n - 1; i > 0; i--) {
    // Rejection sampling: an exact uniform index in [0, i].
    const bound = i + 1;
    const limit = 2 ** 32 - (2 ** 32 % bound);
    let r = draw();
    while (r >= limit) r = draw();
    const j = r % bound;
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

/**
 * comp[perm[i]] for i = from, from + stride, ... < to, copied as two 32-bit words per element (reading a
 * BigUint64Array element allocates a BigInt; the words do not).
 */
function gather(comp: BigUint64Array, perm: Uint32Array, from: number, to: number, stride: number): BigUint64Array {
  const out = new BigUint64Array(Math.max(0, Math.ceil((to - from) / stride)));
  const src = new Uint32Array(comp.buffer, comp.byteOffset, 2 * comp.length);
  const dst = new Uint32Array(out.buffer);
  for (let i = from, o = 0; i < to; i += stride, o += 2) {
    const j = 2 * perm[i];
    dst[o] = src[j];
    dst[o + 1] = src[j + 1];
  }
  return out;
}

const LENGTH = new BigUint64Array(1);

/** Hashes a vector with its length in front, so that items cannot be re-cut across boundaries. */
function framed(hash: Hash, words: BigUint64Array): void {
  LENGTH[0] = BigInt(words.length);
  hash.update(new Uint8Array(LENGTH.buffer));
  hash.update(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
}

/** The 32-bit words of a ring vector (copying two words moves an element without allocating a BigInt). */
function words32(a: BigUint64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, 2 * a.length);
}
