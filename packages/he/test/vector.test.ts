// Encrypted vectors for custom computations: element-wise arithmetic with automatic relinearisation,
// rescaling, level and scale alignment, compared with the same arithmetic on plaintext.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeClient, HeFormatError, HeServer, polyval } from '../src/index.ts';

const n = 1000;
const a = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 2);
const b = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.3));
let client: HeClient;
let server: HeServer;

beforeAll(async () => {
  client = await HeClient.create({ depth: 3, inputBound: 4 });
  server = await HeServer.create(client.exportEvaluationKeys(), { threads: 1 });
});

afterAll(async () => {
  client?.close();
  await server?.close();
});

function expectVector(bytes: Uint8Array, f: (i: number) => number, tol = 1e-6): void {
  const got = client.decryptVector(bytes);
  expect(got.length).toBe(n);
  for (let i = 0; i < n; i++) expect(Math.abs(got[i] - f(i))).toBeLessThan(tol);
}

describe('EncryptedVector', () => {
  it('a·b + a − 1, a·[plain] + 0.5, and polynomials', () => {
    using va = server.vector(client.encryptVector(a));
    using vb = server.vector(client.encryptVector(b));
    using prod = va.mul(vb);
    using r1 = prod.add(va);
    using r = r1.sub(1);
    expectVector(r.toBytes(), (i) => a[i] * b[i] + a[i] - 1);
    using p1 = va.mul(b);
    using p = p1.add(0.5);
    expect(p.scale).toBe(2 ** 40);
    expectVector(p.toBytes(), (i) => a[i] * b[i] + 0.5);
    using s = va.polyval([0.5, 0.197, 0, -0.004]);
    expectVector(s.toBytes(), (i) => polyval([0.5, 0.197, 0, -0.004], a[i]));
    using d = va.sub(b);
    expectVector(d.toBytes(), (i) => a[i] - b[i]);
  });

  it('aligns operands at different levels and scales without overwriting scales', () => {
    using va = server.vector(client.encryptVector(a));
    using sq = va.square(); // level 2, scale 2^80 / q3
    expect(sq.level).toBe(2);
    using mixed = sq.add(va); // va is re-targeted onto sq's scale with one level
    expect(mixed.level).toBe(2);
    expectVector(mixed.toBytes(), (i) => a[i] * a[i] + a[i]);
    using twice = va.mul(2); // level 2, scale 2^40: same level as sq, different scale
    using both = sq.add(twice); // both re-targeted: level 1
    expect(both.level).toBe(1);
    expectVector(both.toBytes(), (i) => a[i] * a[i] + 2 * a[i]);
    using cube = sq.mul(va);
    expect(cube.level).toBe(1);
    expectVector(cube.toBytes(), (i) => a[i] ** 3, 1e-5);
  });

  it('rejects bad operands, exhausted depth, foreign keys and use after dispose', async () => {
    const v = server.vector(client.encryptVector(a));
    expect(() => v.add([1, 2])).toThrow(/must have 1000 values/);
    expect(() => v.mul(Number.NaN)).toThrow(RangeError);
    expect(() => v.mul(0)).toThrow(/constant/);
    expect(() => client.encryptVector([5])).toThrow(/planned input range/);
    expect(() => client.encryptVector([])).toThrow(RangeError);
    using v2 = v.square();
    using v4 = v2.square();
    using v8 = v4.square();
    expect(v8.level).toBe(0);
    expect(() => v8.square()).toThrow(/deeper than the plan/);
    const other = await HeClient.create({ depth: 3, inputBound: 4 });
    expect(() => server.vector(other.encryptVector(a))).toThrow(HeFormatError);
    expect(() => other.decryptVector(v.toBytes())).toThrow(expect.objectContaining({ reason: 'keys' }) as Error);
    other.close();
    v.dispose();
    v.dispose();
    expect(() => v.square()).toThrow(/disposed/);
  });
});
