/**
 * The versioned binary wire format of `@ppml/he`. Every message is a 64-byte header followed by a payload:
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 4 | magic `PPHE` |
 * | 4 | 2 | format version (little endian), currently 1 |
 * | 6 | 1 | kind: 1 evaluation keys, 2 encrypted rows, 3 encrypted scores, 4 client keys (secret), 5 vector |
 * | 7 | 1 | reserved, 0 |
 * | 8 | 32 | parameter hash (SHA-256 of the plan and the primes, see `HeContext.parameterHash`) |
 * | 40 | 16 | key id: random, chosen when the client generates its secret key |
 * | 56 | 4 | payload length |
 * | 60 | 4 | CRC-32 of the payload's fields (everything but the contents of byte strings) |
 *
 * The key id lets a server reject rows encrypted under another client's key (same parameters, different keys),
 * which would otherwise evaluate to garbage without any error. The payload is a sequence of little-endian
 * `u8`/`u32`/`f64` fields and byte strings (SEAL's own serialisation of keys and ciphertexts, whose headers SEAL
 * checks again); a byte string is written as its length, the CRC-32 of its contents, then the contents. The
 * header's CRC covers every field and every length and CRC, and is checked when the whole payload has been read;
 * the contents of a byte string are checked before use, so the ciphertexts of a large request are verified by
 * the worker that evaluates them rather than serially on the receiving thread. Lengths are checked before every
 * read and CRCs before any byte reaches SEAL, so truncated or corrupted input gives {@link HeFormatError} rather
 * than a WebAssembly abort. The CRCs detect accidents only: SEAL ciphertexts are not authenticated (SEAL
 * `SECURITY.md`), so use an authenticated channel against an active attacker.
 * @module
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { platform } from '#platform';
import { describeValue } from '@ppml/core';
import { HeFormatError } from './errors.ts';

/** Magic bytes `PPHE`. */
const MAGIC = 0x45485050;
/**
 * Current format version.
 * @example
 * ```ts
 * readHeader(bytes).version === WIRE_VERSION; // true for bytes written by this library
 * ```
 */
export const WIRE_VERSION = 1;
/**
 * Header size in bytes.
 * @example
 * ```ts
 * const payloadBytes = bytes.length - HEADER_BYTES;
 * ```
 */
export const HEADER_BYTES = 64;
/**
 * Key id size in bytes.
 * @example
 * ```ts
 * readHeader(bytes).keyId.length === KEY_ID_BYTES; // true
 * ```
 */
export const KEY_ID_BYTES = 16;

/**
 * Message kinds.
 * @example
 * ```ts
 * readHeader(bytes).kind === WireKind.encryptedRows;
 * ```
 */
export const WireKind = {
  evaluationKeys: 1,
  encryptedRows: 2,
  encryptedScores: 3,
  clientKeys: 4,
  encryptedVector: 5,
} as const;
/** One of {@link WireKind}'s values. */
export type WireKindValue = (typeof WireKind)[keyof typeof WireKind];

const KIND_NAMES: Record<number, string> = {
  1: 'evaluation keys',
  2: 'encrypted rows',
  3: 'encrypted scores',
  4: 'client keys',
  5: 'an encrypted vector',
};

/**
 * Name of a kind for messages.
 * @example
 * ```ts
 * kindName(WireKind.evaluationKeys); // 'evaluation keys'
 * ```
 */
export function kindName(kind: number): string {
  return KIND_NAMES[kind] ?? `unknown kind ${kind}`;
}

/**
 * Builds a payload from fields and byte strings without copying the byte strings twice.
 * @example
 * ```ts
 * const bytes = new WireWriter().u32(7).bytes(payload).finish(WireKind.encryptedRows, hash, keyId);
 * ```
 */
export class WireWriter {
  readonly #chunks: Uint8Array[] = [];
  /** Whether chunk i is the contents of a byte string (left out of the header CRC). */
  readonly #content: boolean[] = [];
  #length = 0;
  #scratch = new DataView(new ArrayBuffer(8));

  #push(bytes: Uint8Array, content = false): void {
    this.#chunks.push(bytes);
    this.#content.push(content);
    this.#length += bytes.length;
  }

  u8(v: number): this {
    this.#push(Uint8Array.of(v));
    return this;
  }

  u32(v: number): this {
    this.#scratch.setUint32(0, v, true);
    this.#push(new Uint8Array(this.#scratch.buffer.slice(0, 4)));
    return this;
  }

  f64(v: number): this {
    this.#scratch.setFloat64(0, v, true);
    this.#push(new Uint8Array(this.#scratch.buffer.slice(0, 8)));
    return this;
  }

  /** A u32 length, the u32 CRC-32 of the bytes (computed unless given), then the bytes. */
  bytes(b: Uint8Array, crc: number = platform.crc32(b)): this {
    this.u32(b.length);
    this.u32(crc);
    this.#push(b, true);
    return this;
  }

  /** UTF-8 JSON as a byte string. */
  json(value: unknown): this {
    return this.bytes(new TextEncoder().encode(JSON.stringify(value)));
  }

  /** The framed message: header then payload. */
  finish(kind: WireKindValue, parameterHash: Uint8Array, keyId: Uint8Array): Uint8Array {
    const out = new Uint8Array(HEADER_BYTES + this.#length);
    let off = HEADER_BYTES;
    let crc = 0;
    this.#chunks.forEach((c, i) => {
      out.set(c, off);
      off += c.length;
      if (!this.#content[i]) crc = platform.crc32(c, crc);
    });
    const view = new DataView(out.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint16(4, WIRE_VERSION, true);
    out[6] = kind;
    out[7] = 0;
    out.set(parameterHash.subarray(0, 32), 8);
    out.set(keyId.subarray(0, KEY_ID_BYTES), 40);
    view.setUint32(56, this.#length, true);
    view.setUint32(60, crc >>> 0, true);
    return out;
  }
}

/** The parsed header of a message. */
export interface WireHeader {
  readonly version: number;
  readonly kind: number;
  readonly parameterHash: Uint8Array;
  readonly keyId: Uint8Array;
  readonly payloadLength: number;
  /** CRC-32 of the payload's fields, checked by {@link WireReader.end}. */
  readonly crc: number;
}

function hex(b: Uint8Array): string {
  return bytesToHex(b).slice(0, 16);
}

/**
 * Checks framing (magic, version, length) and returns the header; throws {@link HeFormatError}. The CRCs are
 * checked while the payload is read ({@link WireReader}).
 * @example
 * ```ts
 * const h = readHeader(bytes); h.kind; // 2 for encrypted rows
 * ```
 */
export function readHeader(bytes: unknown, what = 'bytes'): WireHeader {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array, got ${describeValue(bytes)}`);
  if (bytes.length < HEADER_BYTES) {
    throw new HeFormatError(`${what} are truncated: ${bytes.length} bytes, a message has at least ${HEADER_BYTES}`, {
      reason: 'truncated',
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new HeFormatError(`${what} are not a @ppml/he message (bad magic)`);
  const version = view.getUint16(4, true);
  if (version !== WIRE_VERSION) {
    throw new HeFormatError(`${what} use wire format version ${version}; this library reads version ${WIRE_VERSION}`, {
      reason: 'version',
    });
  }
  if (bytes[7] !== 0)
    throw new HeFormatError(`${what} set reserved header byte 7 (${bytes[7]}); this library reads version ${WIRE_VERSION}`);
  const payloadLength = view.getUint32(56, true);
  if (bytes.length < HEADER_BYTES + payloadLength) {
    throw new HeFormatError(
      `${what} are truncated: the header announces ${payloadLength} payload bytes, ${bytes.length - HEADER_BYTES} arrived`,
      { reason: 'truncated' },
    );
  }
  if (bytes.length > HEADER_BYTES + payloadLength) {
    throw new HeFormatError(`${what} have ${bytes.length - HEADER_BYTES - payloadLength} bytes after the message`);
  }
  const crc = view.getUint32(60, true);
  return { version, kind: bytes[6], parameterHash: bytes.subarray(8, 40), keyId: bytes.subarray(40, 56), payloadLength, crc };
}

/** A byte string read without checking its contents yet: call {@link verifyContent} before use. */
export interface UncheckedBytes {
  readonly bytes: Uint8Array;
  readonly crc: number;
}

/**
 * Checks the CRC-32 of a byte string's contents and returns them; throws {@link HeFormatError}.
 * @example
 * ```ts
 * const ct = verifyContent(reader.uncheckedBytes(), 'encRows');
 * ```
 */
export function verifyContent(b: UncheckedBytes, what: string): Uint8Array {
  if (platform.crc32(b.bytes) !== b.crc) throw new HeFormatError(`${what} are corrupted (CRC-32 mismatch in a byte string)`);
  return b.bytes;
}

/**
 * Sequential reader over a payload; every read is bounds-checked, and the fields feed a running CRC that
 * {@link WireReader.end} compares with the header's.
 * @example
 * ```ts
 * const { reader } = openMessage(bytes, WireKind.encryptedRows, hash, keyId, 'encRows'); reader.u32();
 * ```
 */
export class WireReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  readonly #expectedCrc: number;
  #crc = 0;
  #off: number;

  constructor(bytes: Uint8Array, what: string, expectedCrc: number, offset: number = HEADER_BYTES) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
    this.#expectedCrc = expectedCrc;
    this.#off = offset;
  }

  #need(n: number): void {
    if (this.#off + n > this.#bytes.length) {
      throw new HeFormatError(`${this.#what} end early: ${n} more bytes expected at offset ${this.#off}`, {
        reason: 'truncated',
      });
    }
  }

  #field(n: number): number {
    this.#need(n);
    const at = this.#off;
    this.#crc = platform.crc32(this.#bytes.subarray(at, at + n), this.#crc);
    this.#off += n;
    return at;
  }

  u8(): number {
    return this.#bytes[this.#field(1)];
  }

  u32(): number {
    return this.#view.getUint32(this.#field(4), true);
  }

  f64(): number {
    return this.#view.getFloat64(this.#field(8), true);
  }

  /** A byte string whose contents are checked later with {@link verifyContent} (a view, not a copy). */
  uncheckedBytes(): UncheckedBytes {
    const n = this.u32();
    const crc = this.u32();
    this.#need(n);
    const bytes = this.#bytes.subarray(this.#off, this.#off + n);
    this.#off += n;
    return { bytes, crc };
  }

  /** A byte string, checked now (a view, not a copy). */
  bytes(): Uint8Array {
    return verifyContent(this.uncheckedBytes(), this.#what);
  }

  json(): unknown {
    const b = this.bytes();
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b));
    } catch (e) {
      throw new HeFormatError(`${this.#what} hold malformed JSON`, { cause: e });
    }
  }

  /** Requires that every payload byte was read and that the fields match the header's CRC. */
  end(): void {
    if (this.#off !== this.#bytes.length) {
      throw new HeFormatError(`${this.#what} have ${this.#bytes.length - this.#off} unread payload bytes`);
    }
    if (this.#crc >>> 0 !== this.#expectedCrc) throw new HeFormatError(`${this.#what} are corrupted (CRC-32 mismatch)`);
  }
}

/**
 * Opens a message of the expected kind; `parameterHash` and `keyId`, when given, must match. Returns the header
 * and a reader at the start of the payload.
 * @example
 * ```ts
 * const { reader } = openMessage(bytes, WireKind.encryptedRows, ctx.parameterHash, keyId, 'encRows');
 * ```
 */
export function openMessage(
  bytes: unknown,
  kind: WireKindValue,
  parameterHash: Uint8Array | undefined,
  keyId: Uint8Array | undefined,
  what: string,
): { header: WireHeader; reader: WireReader } {
  const header = readHeader(bytes, what);
  if (header.kind !== kind) {
    throw new HeFormatError(`${what} hold ${kindName(header.kind)}, expected ${kindName(kind)}`, { reason: 'kind' });
  }
  if (parameterHash !== undefined && !equalBytes(header.parameterHash, parameterHash)) {
    throw new HeFormatError(
      `${what} were made under other encryption parameters (hash ${hex(header.parameterHash)}…, expected ${hex(parameterHash)}…)`,
      { reason: 'parameters' },
    );
  }
  if (keyId !== undefined && !equalBytes(header.keyId, keyId)) {
    throw new HeFormatError(`${what} belong to another key set (key id ${hex(header.keyId)}…, expected ${hex(keyId)}…)`, {
      reason: 'keys',
    });
  }
  return { header, reader: new WireReader(bytes as Uint8Array, what, header.crc) };
}

/**
 * Constant-shape byte comparison.
 * @example
 * ```ts
 * equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2)); // true
 * ```
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
