/**
 * Base oblivious transfer (internal): the "simplest OT" of Chou and Orlandi (LATINCRYPT 2015, Fig. 1) on
 * ristretto255, semi-honest, batched. The sender draws y and sends S = yG; for choice c_i the receiver draws
 * x_i and sends R_i = c_i S + x_i G; the sender's two keys are H(i, S, R_i, y R_i) and H(i, S, R_i, y (R_i - S)),
 * the receiver's key is H(i, S, R_i, x_i S), which equals the key of its choice. The other key stays hidden
 * under computational Diffie-Hellman. ristretto255 (RFC 9496) gives a prime-order group with canonical
 * encodings, so no cofactor clearing is needed.
 *
 * H is SHA-256 over a domain label, the communication tag, the two party indices, over TLS the link's exported
 * keying material, and the transcript, cut to 16 bytes (an AES-128 key for the OT extension's PRG): keys are
 * bound to this run and pair.
 * @module
 */
import { ristretto255 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { cryptoRng, type Rng } from '@ppml/core';
import { ProtocolAbortError } from '../errors.ts';
import type { Channel } from '../protocols/protocol.ts';

const Point = ristretto255.Point;
type RistrettoPoint = InstanceType<typeof Point>;
const POINT_BYTES = 32;
/** Bytes of each transferred key (an AES-128 key). */
export const OT_KEY_BYTES = 16;
const LABEL = new TextEncoder().encode('ppml-smpc base-ot chou-orlandi ristretto255');

/** A uniformly random nonzero scalar: 64 random bytes reduced mod the group order (bias below 2^-250). */
function randomScalar(rng: Rng): bigint {
  const bytes = new Uint8Array(64);
  for (;;) {
    rng.fillBytes(bytes);
    let v = 0n;
    for (const b of bytes) v = (v << 8n) | BigInt(b);
    const s = Point.Fn.create(v);
    if (s !== 0n) return s;
  }
}

function key(context: Uint8Array, index: number, s: Uint8Array, r: Uint8Array, shared: RistrettoPoint): Uint8Array {
  const idx = new Uint8Array(4);
  new DataView(idx.buffer).setUint32(0, index, false);
  const h = sha256.create();
  h.update(LABEL);
  h.update(context);
  h.update(idx);
  h.update(s);
  h.update(r);
  h.update(shared.toBytes());
  return h.digest().subarray(0, OT_KEY_BYTES);
}

function decode(bytes: Uint8Array, peer: number, what: string): RistrettoPoint {
  try {
    const p = Point.fromBytes(bytes);
    if (p.equals(Point.ZERO)) throw new RangeError('identity point');
    return p;
  } catch (e) {
    throw new ProtocolAbortError(`base OT: ${what} from party ${peer} is not a valid ristretto255 point`, { party: peer, cause: e });
  }
}

/**
 * The context that binds a base OT to its run, its sender and its receiver: the tag, the pair and, over TLS, the
 * link's exported keying material (RFC 5705), which is unique to this connection.
 */
function context(ch: Channel, tag: string, sender: number, receiver: number): Uint8Array {
  const peer = sender === ch.party ? receiver : sender;
  const link = ch.transport.channelKey?.(peer, 'base-ot') ?? new Uint8Array(0);
  const head = new TextEncoder().encode(`${tag}|${sender}->${receiver}|`);
  const out = new Uint8Array(head.length + link.length);
  out.set(head);
  out.set(link, head.length);
  return out;
}

/**
 * One party's base OTs with every peer, both ways, in two rounds: towards each peer it is the sender of
 * `count` random key pairs and the receiver of `count` keys chosen by `choices[peer]` (one bit per byte,
 * 0 or 1). Returns, per peer, the pairs it sent (`k0`, `k1`) and the keys it received.
 * @example
 * ```ts
 * const ots = await baseOts(channel, 128, choicesPerPeer);
 * ```
 */
export async function baseOts(
  ch: Channel,
  count: number,
  choices: readonly (Uint8Array | null)[],
  rng: Rng = cryptoRng,
): Promise<{ sent: { k0: Uint8Array[]; k1: Uint8Array[] }[]; received: Uint8Array[][] }> {
  const me = ch.party;
  const parties = ch.transport.parties;
  const peers: number[] = [];
  for (let p = 0; p < parties; p++) if (p !== me) peers.push(p);
  // Round 1: S = yG to every peer (one y per peer: the pairs are independent).
  const tag1 = ch.nextTag();
  const ys = new Map<number, bigint>();
  const ss = new Map<number, Uint8Array>();
  for (const p of peers) {
    const y = randomScalar(rng);
    ys.set(p, y);
    const s = Point.BASE.multiply(y).toBytes();
    ss.set(p, s);
    ch.sendBytes(p, tag1, s.slice());
  }
  // Round 2: as receiver, R_i = c_i S + x_i G to every peer.
  const tag2 = ch.nextTag();
  const received: Uint8Array[][] = [];
  const theirS = await Promise.all(peers.map((p) => ch.receiveBytes(p, tag1, POINT_BYTES)));
  for (let k = 0; k < peers.length; k++) {
    const p = peers[k];
    const c = choices[p] as Uint8Array;
    const sBytes = theirS[k].slice();
    // Window tables for S: its 128 multiplications then run about 30% faster.
    const S = decode(sBytes, p, 'the sender key S').precompute(8);
    const out = new Uint8Array(count * POINT_BYTES);
    const keys: Uint8Array[] = [];
    const ctx = context(ch, tag1, p, me);
    for (let i = 0; i < count; i++) {
      const x = randomScalar(rng);
      const xG = Point.BASE.multiply(x);
      const R = c[i] === 1 ? xG.add(S) : xG;
      const rBytes = R.toBytes();
      out.set(rBytes, i * POINT_BYTES);
      keys.push(key(ctx, i, sBytes, rBytes, S.multiply(x)));
    }
    ch.sendBytes(p, tag2, out);
    received[p] = keys;
  }
  // The sender's two keys per OT.
  const sent: { k0: Uint8Array[]; k1: Uint8Array[] }[] = [];
  const theirR = await Promise.all(peers.map((p) => ch.receiveBytes(p, tag2, count * POINT_BYTES)));
  for (let k = 0; k < peers.length; k++) {
    const p = peers[k];
    const y = ys.get(p) as bigint;
    const sBytes = ss.get(p) as Uint8Array;
    const yS = Point.BASE.multiply(y).multiply(y);
    const ctx = context(ch, tag1, me, p);
    const k0: Uint8Array[] = [];
    const k1: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const rBytes = theirR[k].slice(i * POINT_BYTES, (i + 1) * POINT_BYTES);
      const R = decode(rBytes, p, `the receiver key R_${i}`);
      const yR = R.multiply(y);
      k0.push(key(ctx, i, sBytes, rBytes, yR));
      k1.push(key(ctx, i, sBytes, rBytes, yR.subtract(yS)));
    }
    sent[p] = { k0, k1 };
  }
  return { sent, received };
}
