// Wire framing: any mutation or truncation of a message is a HeFormatError (never another error or a crash).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeFormatError, WIRE_VERSION, readHeader } from '../src/index.ts';
import { WireKind, WireWriter, openMessage } from '../src/wire.ts';

const hash = new Uint8Array(32).fill(7);
const keyId = new Uint8Array(16).fill(3);
const message = new WireWriter()
  .u8(1)
  .u32(123456)
  .f64(-1.5)
  .json({ a: [1, 2] })
  .bytes(new Uint8Array(300).fill(9))
  .finish(WireKind.encryptedRows, hash, keyId);

function readAll(bytes: Uint8Array): void {
  const { reader } = openMessage(bytes, WireKind.encryptedRows, hash, keyId, 'msg');
  reader.u8();
  reader.u32();
  reader.f64();
  reader.json();
  reader.bytes();
  reader.end();
}

describe('wire format', () => {
  it('round-trips fields and byte strings', () => {
    const h = readHeader(message);
    expect(h.version).toBe(WIRE_VERSION);
    expect(h.kind).toBe(WireKind.encryptedRows);
    const { reader } = openMessage(message, WireKind.encryptedRows, hash, keyId, 'msg');
    expect(reader.u8()).toBe(1);
    expect(reader.u32()).toBe(123456);
    expect(reader.f64()).toBe(-1.5);
    expect(reader.json()).toEqual({ a: [1, 2] });
    expect(Array.from(reader.bytes())).toEqual(new Array(300).fill(9));
    expect(() => reader.end()).not.toThrow();
  });

  it('any single-byte change is detected', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: message.length - 1 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const bad = message.slice();
        bad[i] ^= x;
        // Bytes 8..55 (hash, key id) are checked against the expected values, the payload by its CRC-32.
        expect(() => readAll(bad)).toThrow(HeFormatError);
      }),
      { numRuns: 300 },
    );
  });

  it('any truncation or extension is detected', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: message.length + 10 }), (n) => {
        if (n === message.length) return;
        const bytes = n < message.length ? message.subarray(0, n) : Uint8Array.from([...message, ...new Uint8Array(n - message.length)]);
        expect(() => readAll(bytes)).toThrow(HeFormatError);
      }),
      { numRuns: 200 },
    );
  });

  it('random bytes are rejected with HeFormatError, non-bytes with TypeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (b) => {
        expect(() => readAll(b)).toThrow(HeFormatError);
      }),
      { numRuns: 200 },
    );
    expect(() => readHeader('abc')).toThrow(TypeError);
  });

  it('names the reason', () => {
    expect(() => openMessage(message, WireKind.encryptedScores, hash, keyId, 'm')).toThrow(
      expect.objectContaining({ reason: 'kind' }) as Error,
    );
    expect(() => openMessage(message, WireKind.encryptedRows, new Uint8Array(32), keyId, 'm')).toThrow(
      expect.objectContaining({ reason: 'parameters' }) as Error,
    );
    expect(() => openMessage(message, WireKind.encryptedRows, hash, new Uint8Array(16), 'm')).toThrow(
      expect.objectContaining({ reason: 'keys' }) as Error,
    );
    expect(() => readHeader(message.subarray(0, 20))).toThrow(expect.objectContaining({ reason: 'truncated' }) as Error);
  });
});
