import { describe, expect, it } from 'vitest';
import { dealMaterial, receiveMaterial, type MaterialRequest } from '../src/preprocessing.ts';

const M = (1n << 64n) - 1n;

/** Reconstructs field `name` at index i from every party's view (additive: one component each). */
function open(views: ReturnType<typeof receiveMaterial>[], name: string, i: number, xor: boolean, replicated: boolean): bigint {
  let s = 0n;
  for (let p = 0; p < views.length; p++) {
    const c = (views[p].fields.get(name) as BigUint64Array[])[0][i];
    s = xor ? s ^ c : (s + c) & M;
  }
  if (replicated) {
    // The second component of party p must equal the first component of party p+1.
    for (let p = 0; p < views.length; p++) {
      const comps = views[p].fields.get(name) as BigUint64Array[];
      if (comps.length === 2) expect(comps[1][i]).toBe((views[(p + 1) % views.length].fields.get(name) as BigUint64Array[])[0][i]);
    }
  }
  return s;
}

function deal(req: MaterialRequest, parties: number, replicated: boolean) {
  const msgs = dealMaterial(req, parties, replicated);
  return msgs.map((m, p) => receiveMaterial(m, p, parties, replicated));
}

describe('dealer material', () => {
  for (const [parties, replicated] of [
    [2, false],
    [3, false],
    [5, false],
    [3, true],
  ] as const) {
    const label = `${parties} parties, ${replicated ? 'replicated' : 'additive'}`;
    it(`triples, AND triples, truncation pairs, edaBits, daBits are consistent (${label})`, () => {
      const n = 64;
      const t = deal({ key: 'triple', kind: 'triple', count: n }, parties, replicated);
      const at = deal({ key: 'andTriple', kind: 'andTriple', count: n }, parties, replicated);
      const tr = deal({ key: 'trunc:16', kind: 'trunc', count: n, shift: 16 }, parties, replicated);
      const ed = deal({ key: 'edabit', kind: 'edabit', count: n }, parties, replicated);
      const da = deal({ key: 'dabit', kind: 'dabit', count: n }, parties, replicated);
      for (let i = 0; i < n; i++) {
        const a = open(t, 'a', i, false, replicated);
        const b = open(t, 'b', i, false, replicated);
        expect(open(t, 'c', i, false, replicated)).toBe((a * b) & M);
        expect(open(at, 'c', i, true, replicated)).toBe(open(at, 'a', i, true, replicated) & open(at, 'b', i, true, replicated));
        const r = open(tr, 'r', i, false, false);
        expect(open(tr, 'hi', i, false, replicated)).toBe(r >> 63n);
        expect(open(tr, 'lo', i, false, replicated)).toBe((r & ((1n << 63n) - 1n)) >> 16n);
        expect(open(ed, 's', i, true, replicated)).toBe(-open(ed, 'r', i, false, replicated) & M);
        const bit = open(da, 'a', i, false, replicated);
        expect(bit === 0n || bit === 1n).toBe(true);
        expect(open(da, 'x', i, true, replicated)).toBe(bit);
      }
    });
  }

  it('sends seeds instead of arrays where it can (seed compression)', () => {
    const n = 10_000;
    const msgs = dealMaterial({ key: 'triple', kind: 'triple', count: n }, 3, false);
    // Parties 0 and 1 get three seeds; party 2 gets two seeds and the correction of c.
    expect(msgs[0].byteLength).toBeLessThan(200);
    expect(msgs[1].byteLength).toBeLessThan(200);
    expect(msgs[2].byteLength).toBeGreaterThan(8 * n);
    expect(msgs[2].byteLength).toBeLessThan(8 * n + 200);
  });

  it('matrix triples satisfy C = A B', () => {
    const [m, k, n] = [3, 4, 2];
    const views = deal({ key: 'mm', kind: 'matTriple', count: 2, m, k, n }, 3, false);
    for (let t = 0; t < 2; t++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0n;
          for (let q = 0; q < k; q++) {
            s += open(views, 'a', t * m * k + i * k + q, false, false) * open(views, 'b', t * k * n + q * n + j, false, false);
          }
          expect(open(views, 'c', t * m * n + i * n + j, false, false)).toBe(s & M);
        }
      }
    }
  });

  it('rejects malformed dealer messages', () => {
    const msg = dealMaterial({ key: 'triple', kind: 'triple', count: 4 }, 3, false)[2];
    expect(() => receiveMaterial(msg.slice(0, msg.length - 8), 2, 3, false)).toThrow(RangeError);
    const longer = new Uint8Array(msg.length + 8);
    longer.set(msg);
    expect(() => receiveMaterial(longer, 2, 3, false)).toThrow(RangeError);
  });
});
