// The service's key stores and replay guard, without HTTP: the in-memory store's LRU bounds (count and bytes),
// the directory store's round trip, atomic files and refusal of ids that are not key-set ids, and the replay
// guard's window (fresh, replayed, stale, and the floor that rises when old nonces are dropped).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectoryKeyStore, type KeySetRecord, MemoryKeyStore, ReplayGuard, isKeySetId } from '../src/service/index.ts';

const id = (i: number): string => i.toString(16).padStart(32, '0');
const record = (i: number, bytes = 100): KeySetRecord => ({
  id: id(i),
  publicKey: new Uint8Array(32).fill(i),
  evalKeys: new Uint8Array(bytes).fill(i),
  createdAt: 1000 + i,
});

describe('MemoryKeyStore', () => {
  it('drops the least recently used sets past maxKeySets and maxBytes', async () => {
    const s = new MemoryKeyStore({ maxKeySets: 3, maxBytes: 1000 });
    for (let i = 1; i <= 3; i++) await s.put(record(i));
    await s.get(id(1)); // 1 is now the most recently used
    await s.put(record(4));
    expect(await s.get(id(2))).toBeUndefined();
    expect((await s.get(id(1)))?.createdAt).toBe(1001);
    await s.put(record(5, 900)); // bytes: only 5 fits with at most 100 more
    expect(s.bytes).toBeLessThanOrEqual(1000);
    expect(await s.get(id(5))).toBeDefined();
    expect(s.size).toBeLessThanOrEqual(2);
    await expect(s.put(record(6, 2000))).rejects.toThrow(RangeError);
    expect(() => new MemoryKeyStore({ maxKeySets: 0 })).toThrow(RangeError);
    expect(() => new MemoryKeyStore({ nope: 1 } as never)).toThrow(TypeError);
  });
});

describe('DirectoryKeyStore', () => {
  it('round-trips records through files, survives a new instance, and refuses ids that are not key-set ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ppml-store-'));
    try {
      const a = new DirectoryKeyStore({ directory: join(dir, 'keys') });
      await a.put(record(7, 5000));
      const b = new DirectoryKeyStore({ directory: join(dir, 'keys') });
      const r = await b.get(id(7));
      expect(r?.createdAt).toBe(1007);
      expect(r?.publicKey).toEqual(new Uint8Array(32).fill(7));
      expect(r?.evalKeys).toEqual(new Uint8Array(5000).fill(7));
      expect(readdirSync(join(dir, 'keys'))).toEqual([`${id(7)}.keyset`]); // no temporary files left
      expect(await b.get('../../etc/passwd')).toBeUndefined();
      expect(isKeySetId('../x')).toBe(false);
      await expect(b.put({ ...record(1), id: '../x' })).rejects.toThrow(RangeError);
      expect(await b.delete(id(7))).toBe(true);
      expect(await b.get(id(7))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ReplayGuard', () => {
  it('accepts a nonce once, refuses stale timestamps, and never reopens dropped nonces', () => {
    const g = new ReplayGuard({ maxSkewMs: 1000, perKeySet: 2, maxKeySets: 1 });
    const now = 10_000;
    expect(g.check('a', now, 'n1', now)).toBeUndefined();
    expect(g.check('a', now, 'n1', now)).toBe('replay');
    expect(g.check('a', now - 5000, 'n2', now)).toBe('stale');
    expect(g.check('a', now + 1, 'n2', now)).toBeUndefined();
    expect(g.check('a', now + 2, 'n3', now)).toBeUndefined(); // drops n1: the floor rises to its timestamp
    expect(g.check('a', now, 'n1', now)).toBe('stale');
    expect(g.check('b', now + 3, 'm1', now)).toBeUndefined(); // drops key set a's window
    expect(g.check('a', now + 2, 'n3', now)).toBe('stale'); // its nonces stay refused
  });
});
