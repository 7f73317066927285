/**
 * The frame format of the network transport (internal). Every frame, inside a TLS 1.3 stream, is
 *
 * ```
 * u32 length of what follows | u8 kind | u8 tag length | 16 B session digest | u64 frame number |
 * u32 message length | u32 offset of this chunk | tag (ASCII) | payload
 * ```
 *
 * (big-endian). Frame numbers count up from 0 in each direction: a duplicated, dropped or reordered frame breaks
 * the sequence and aborts the run, as does a frame of another session (the digest is SHA-256 of the session id).
 * TLS already rejects anything a network attacker changes; these checks catch a peer that misbehaves inside its
 * own authenticated stream. A message longer than {@link CHUNK} bytes is sent as consecutive chunks of one tag,
 * so a 10^7-element tensor (80 MB) streams without one 80 MB frame.
 * @module
 */
import { createHash } from 'node:crypto';

/** Frame kinds. */
export const HELLO = 1;
export const DATA = 2;
export const ABORT = 3;
export const BYE = 4;
/** A keepalive: a live peer sends one every `timeoutMs / 4`, so silence means a stopped process, not a busy protocol. */
export const PING = 5;

/** Bytes of the fixed header after the length field. */
export const HEADER = 34;
/** Largest payload of one frame: 1 MiB. */
export const CHUNK: number = 1 << 20;
/** Largest frame (after the length field): header, a 255-byte tag, one chunk. */
export const MAX_FRAME: number = HEADER + 255 + CHUNK;
/** Largest message: 2^28 bytes (3.3 x 10^7 ring elements); a longer announced length is garbage. */
export const MAX_MESSAGE: number = 2 ** 28;

/** A parsed frame. */
export interface Frame {
  readonly kind: number;
  readonly digest: Uint8Array;
  readonly seq: number;
  readonly total: number;
  readonly offset: number;
  readonly tag: string;
  readonly payload: Uint8Array;
}

/**
 * The 16-byte digest of a session id carried by every frame.
 * @example
 * ```ts
 * sessionDigest('study-2026-12').length; // 16
 * ```
 */
export function sessionDigest(sessionId: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`ppml-smpc session ${sessionId}`).digest().subarray(0, 16));
}

/**
 * The header of one frame (length field included); the payload follows it on the wire.
 * @example
 * ```ts
 * socket.write(frameHeader(DATA, digest, 0, '0.0', 8, 0, 8));
 * ```
 */
export function frameHeader(
  kind: number,
  digest: Uint8Array,
  seq: number,
  tag: string,
  total: number,
  offset: number,
  payloadLength: number,
): Buffer {
  const tagBytes = Buffer.from(tag, 'latin1');
  const h = Buffer.allocUnsafe(4 + HEADER + tagBytes.length);
  h.writeUInt32BE(HEADER + tagBytes.length + payloadLength, 0);
  h[4] = kind;
  h[5] = tagBytes.length;
  h.set(digest, 6);
  h.writeUInt32BE(Math.floor(seq / 2 ** 32), 22);
  h.writeUInt32BE(seq >>> 0, 26);
  h.writeUInt32BE(total, 30);
  h.writeUInt32BE(offset, 34);
  h.set(tagBytes, 38);
  return h;
}

/**
 * Splits a byte stream into frames. `push` returns the frames completed by a chunk; it throws a `RangeError`
 * on a length field outside [HEADER, MAX_FRAME] (garbage, or a peer speaking another protocol).
 * @example
 * ```ts
 * const reader = new FrameReader();
 * socket.on('data', (d) => { for (const f of reader.push(d)) handle(f); });
 * ```
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #length = 0;
  #need = -1;

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.#length;
  }

  /** Takes the bytes not yet parsed (to hand a stream over to another reader). */
  drain(): Buffer {
    const b = Buffer.concat(this.#chunks, this.#length);
    this.#chunks = [];
    this.#length = 0;
    this.#need = -1;
    return b;
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0] as Buffer;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const c = this.#chunks[0] as Buffer;
        const k = Math.min(c.length, n - at);
        c.copy(out, at, 0, k);
        at += k;
        if (k === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(k);
      }
    }
    this.#length -= n;
    return out;
  }

  push(data: Buffer): Frame[] {
    if (data.length > 0) {
      this.#chunks.push(data);
      this.#length += data.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.#need < 0) {
        if (this.#length < 4) break;
        const n = this.#take(4).readUInt32BE(0);
        if (n < HEADER || n > MAX_FRAME) throw new RangeError(`frame length ${n} is outside [${HEADER}, ${MAX_FRAME}]`);
        this.#need = n;
      }
      if (this.#length < this.#need) break;
      const f = this.#take(this.#need);
      this.#need = -1;
      const tagLength = f[1] as number;
      if (HEADER + tagLength > f.length) throw new RangeError(`frame tag length ${tagLength} exceeds the frame`);
      frames.push({
        kind: f[0] as number,
        digest: f.subarray(2, 18),
        seq: f.readUInt32BE(18) * 2 ** 32 + f.readUInt32BE(22),
        total: f.readUInt32BE(26),
        offset: f.readUInt32BE(30),
        tag: f.toString('latin1', HEADER, HEADER + tagLength),
        payload: f.subarray(HEADER + tagLength),
      });
    }
    return frames;
  }
}
