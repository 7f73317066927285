// Helpers of the worker-pool path: packing ciphertexts into a reusable (shared) buffer, marking replies so that
// piscina transfers their buffers instead of cloning them, and framing rows with CRC-32s computed elsewhere (by
// the encryption workers) without weakening the checks.
import { crc32 } from 'node:zlib';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import fc from 'fast-check';
import { transferableSymbol, valueSymbol } from 'piscina';
import { describe, expect, it } from 'vitest';
import { HeFormatError } from '../src/index.ts';
import { readRows, writeRows } from '../src/layout.ts';
import { WireKind, openMessage, verifyContent } from '../src/wire.ts';
import { moving, pack, unpack } from '../src/worker.ts';

const hash = new Uint8Array(32).fill(1);
const keyId = new Uint8Array(16).fill(2);

describe('pack / unpack', () => {
  it('round-trips any list of byte strings, into a fresh buffer or the front of a larger (or shared) one', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }), fc.nat({ max: 100 }), (parts, spare) => {
        const fresh = pack(parts);
        expect(unpack(fresh.packed, fresh.offsets).map((p) => Array.from(p))).toEqual(parts.map((p) => Array.from(p)));
        const total = parts.reduce((n, p) => n + p.length, 0);
        const into = new ArrayBuffer(total + spare);
        const reused = pack(parts, into);
        expect(reused.packed.buffer).toBe(into);
        expect(reused.packed.byteOffset).toBe(0);
        expect(reused.packed.length).toBe(total);
        expect(unpack(reused.packed, reused.offsets).map((p) => Array.from(p))).toEqual(parts.map((p) => Array.from(p)));
        const shared = new SharedArrayBuffer(total + spare);
        const viaShared = pack(parts, shared);
        expect(viaShared.packed.buffer).toBe(shared);
        expect(unpack(viaShared.packed, viaShared.offsets).map((p) => Array.from(p))).toEqual(parts.map((p) => Array.from(p)));
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a buffer that is too small', () => {
    expect(() => pack([new Uint8Array(10)], new ArrayBuffer(9))).toThrow(RangeError);
  });
});

describe('moving', () => {
  it('lists every buffer once for the transfer list and keeps the value', () => {
    const a = new Uint8Array(8);
    const b = new Uint32Array(2);
    const value = { a, b };
    const moved = moving(value, [a.buffer, b.buffer, a.buffer]) as unknown as Record<symbol, unknown>;
    expect(moved[valueSymbol]).toBe(value);
    expect(moved[transferableSymbol]).toEqual([a.buffer, b.buffer]);
  });

  it('its transfer list moves the buffers (detached on the sending side, no copy)', () => {
    const a = new Uint8Array(1 << 20).fill(5);
    const moved = moving({ a }, [a.buffer]) as unknown as Record<symbol, unknown>;
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(moved[valueSymbol], moved[transferableSymbol] as ArrayBuffer[]);
    const got = receiveMessageOnPort(port2)?.message as { a: Uint8Array };
    expect(a.byteLength).toBe(0);
    expect(got.a.length).toBe(1 << 20);
    expect(got.a[12345]).toBe(5);
    port1.close();
    port2.close();
  });
});

describe('writeRows with precomputed CRC-32s', () => {
  const cts = [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5), Uint8Array.of(6)];
  const content = { layout: 'column' as const, rows: 1, features: 3, perCiphertext: 4096, ciphertexts: cts };

  it('gives the same bytes as computing them in place', () => {
    const crcs = Uint32Array.from(cts, (c) => crc32(c) >>> 0);
    expect(writeRows(hash, keyId, { ...content, crcs })).toEqual(writeRows(hash, keyId, content));
  });

  it('a wrong CRC is still caught when the ciphertext is checked', () => {
    const crcs = Uint32Array.from(cts, (c) => crc32(c) >>> 0);
    crcs[1] ^= 1;
    const bytes = writeRows(hash, keyId, { ...content, crcs });
    const { reader } = openMessage(bytes, WireKind.encryptedRows, hash, keyId, 'encRows');
    const h = readRows(reader, 4096, 'encRows');
    expect(verifyContent(h.ciphertexts[0], 'encRows')).toEqual(cts[0]);
    expect(() => verifyContent(h.ciphertexts[1], 'encRows')).toThrow(HeFormatError);
  });

  it('needs one CRC per ciphertext', () => {
    expect(() => writeRows(hash, keyId, { ...content, crcs: new Uint32Array(2) })).toThrow(RangeError);
  });
});
