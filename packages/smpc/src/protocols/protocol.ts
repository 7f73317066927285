/**
 * What a sharing protocol provides to the party's operations: opening, products (arithmetic, binary, matrix),
 * input sharing, and a view of a share as an n-out-of-n additive sharing. Shares are the components a party
 * holds: one array under additive sharing, two under replicated 3-party sharing. Linear operations act on
 * every component; a public constant is added to one component only ({@link Protocol.publicSlot}).
 *
 * The {@link Channel} numbers communication steps (one tag and one round per step), checks message sizes,
 * and counts bytes, so every operation reports its rounds and bytes per party.
 * @module
 */
import { ProtocolAbortError } from '../errors.ts';
import type { MaterialPool } from '../preprocessing.ts';
import type { Transport } from '../transport/transport.ts';

/** The components of a share held by one party (1 for additive, 2 for replicated sharing). */
export type Share = BigUint64Array[];

/**
 * Per-party communication state: tags, rounds, and the message checks.
 * @example
 * ```ts
 * const tag = channel.nextTag();
 * channel.send(peer, tag, share);
 * const theirs = await channel.receive(peer, tag, share.length);
 * ```
 */
export class Channel {
  readonly transport: Transport;
  readonly pool: MaterialPool;
  /** Current operation number (part of every tag). */
  op = 0;
  step = 0;
  rounds = 0;
  /** Called at every communication round (the worker turns it into throttled progress reports). */
  onRound: () => void = () => {};
  /** Test-only active cheating (`faultInjection`): alter the message after `skip` more sends. */
  tamper: { kind: 'addError' | 'flipBit'; skip: number } | null = null;

  constructor(transport: Transport, pool: MaterialPool) {
    this.transport = transport;
    this.pool = pool;
  }

  get party(): number {
    return this.transport.party;
  }

  /** Starts a new communication round and returns its tag. */
  nextTag(): string {
    this.rounds++;
    this.onRound();
    return `${this.op}.${this.step++}`;
  }

  /** Sends a copy of `data` to `peer`. */
  send(peer: number, tag: string, data: BigUint64Array): void {
    const copy = data.slice();
    this.transport.send(peer, tag, this.#tampered(new Uint8Array(copy.buffer)));
  }

  /** Sends raw bytes to `peer` (ownership moves). */
  sendBytes(peer: number, tag: string, bytes: Uint8Array): void {
    this.transport.send(peer, tag, this.#tampered(bytes));
  }

  #tampered(bytes: Uint8Array): Uint8Array {
    const t = this.tamper;
    if (t === null || bytes.byteLength === 0) return bytes;
    if (t.skip > 0) {
      t.skip--;
      return bytes;
    }
    this.tamper = null;
    const out = bytes.slice();
    // The middle ring element: + 2^32 (1.0 in a product before truncation at 16 fractional bits), or bit 40
    // flipped. Short messages (digests) get the same change in their middle byte.
    const at = bytes.byteLength >= 8 ? Math.floor(bytes.byteLength / 16) * 8 : Math.floor(bytes.byteLength / 2);
    if (bytes.byteLength < 8) out[at] ^= t.kind === 'flipBit' ? 0x01 : 0x80;
    else if (t.kind === 'flipBit') out[at + 5] ^= 0x01;
    else {
      const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
      v.setBigUint64(at, BigInt.asUintN(64, v.getBigUint64(at, true) + (1n << 32n)), true);
    }
    return out;
  }

  /** Receives exactly `count` ring elements from `peer`. */
  async receive(peer: number, tag: string, count: number): Promise<BigUint64Array> {
    const b = await this.receiveBytes(peer, tag, count * 8);
    return new BigUint64Array(b.buffer, b.byteOffset, count);
  }

  /** Receives exactly `length` bytes from `peer` (8-byte aligned). */
  async receiveBytes(peer: number, tag: string, length: number): Promise<Uint8Array> {
    const b = await this.transport.receive(peer, tag);
    if (b.byteLength !== length || b.byteOffset % 8 !== 0) {
      throw new ProtocolAbortError(`message ${tag} from party ${peer} has ${b.byteLength} bytes, expected ${length}`, { party: peer });
    }
    return b;
  }
}

/** The sharing-specific part of the protocol suite. */
export interface Protocol {
  readonly kind: 'additive' | 'replicated';
  readonly party: number;
  readonly parties: number;
  /** Components per share. */
  readonly width: number;
  /** Index of the component that carries public constants on this party, or -1. */
  readonly publicSlot: number;
  /** Opens a sharing to every party (XOR sharing when `xor`). */
  open(x: Share, xor: boolean): Promise<BigUint64Array>;
  /** Opens a sharing to party `to` only; other parties get `null`. */
  openTo(x: Share, xor: boolean, to: number): Promise<BigUint64Array | null>;
  /** Opens an n-out-of-n additive sharing (one array per party) to every party. */
  openAdditive(z: BigUint64Array): Promise<BigUint64Array>;
  /** An n-out-of-n additive sharing of the element-wise product (no re-sharing). */
  mulToAdditive(x: Share, y: Share): Promise<BigUint64Array>;
  /** Element-wise product, in the protocol's own sharing. */
  mul(x: Share, y: Share): Promise<Share>;
  /** Element-wise AND of XOR sharings. */
  and(x: Share, y: Share): Promise<Share>;
  /** [x & y, x & w] as one sharing of length 2n, in one round (a Kogge-Stone level). */
  and2(x: Share, y: Share, w: Share): Promise<Share>;
  /** An n-out-of-n additive sharing of the matrix product X (m x k) Y (k x n). */
  matmulToAdditive(x: Share, y: Share, m: number, k: number, n: number): Promise<BigUint64Array>;
  /** Party `owner` shares `values` (given on the owner only); `count` elements. */
  input(owner: number, values: BigUint64Array | null, count: number): Promise<Share>;
  /** Offline phase: expands shares of zero ahead of use (replicated sharing only). */
  prepareZeros?(xor: number, arith: number): void;
  /** The n-out-of-n additive component of a share (its sum over parties is the value). */
  additivePart(x: Share): BigUint64Array;
  /**
   * True when every opening and product is checked (malicious security, `replicated-malicious.ts`): the
   * operations then use only checkable steps (no n-out-of-n additive openings).
   */
  readonly malicious?: boolean;
  /** Checks every opening and product since the last check (malicious security); throws `ProtocolAbortError`. */
  verify?(): Promise<void>;
  /** Offline phase: verified triples for `xor` binary and `arith` arithmetic products (malicious security). */
  prepareTriples?(xor: number, arith: number): Promise<void>;
  /** Matrix product X (m x k) Y (k x n) in the protocol's own sharing, every product checked (malicious security). */
  matmul?(x: Share, y: Share, m: number, k: number, n: number): Promise<Share>;
  /**
   * Local operations when a share's components are not independent Z_2^64 vectors (SPDZ2k: Z_2^128 words and
   * MACs); absent, `party.ts` applies the 64-bit operation to every component.
   */
  readonly linear?: LinearOps;
  /** Truncation of a sharing in the protocol's own form, when the protocol makes its own masks (SPDZ2k). */
  truncate?(z: Share, shift: number): Promise<Share>;
  /** [x < 0] as 0/1 in the protocol's own form, when the protocol compares by its own means (SPDZ2k). */
  ltz?(x: Share): Promise<Share>;
  /** True when the protocol makes all its material itself (no dealer or pool requests). */
  readonly selfProvisioned?: boolean;
}

/**
 * Local (communication-free) operations on shares. Public vectors are Z_2^64 ring elements.
 * @example
 * ```ts
 * const z = linear.add(x, linear.scale(y, 3n));
 * ```
 */
export interface LinearOps {
  add(x: Share, y: Share): Share;
  sub(x: Share, y: Share): Share;
  neg(x: Share): Share;
  scale(x: Share, k: bigint): Share;
  mulPublic(x: Share, pub: BigUint64Array): Share;
  addPublic(x: Share, pub: BigUint64Array): Share;
  constant(pub: BigUint64Array): Share;
  sum(x: Share, rows: number, cols: number, axis: -1 | 0 | 1): Share;
}
