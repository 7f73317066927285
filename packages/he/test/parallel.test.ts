// Sharding across worker threads (piscina, workers started from src/ through siblingModuleUrl): results equal
// the inline evaluation, client-side encryption can be sharded too, and errors raised inside a worker keep their
// class.
import { seededTestRng, uniformDouble } from '@ppml/core';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeClient, HeFormatError, HeServer, evaluatePlain } from '../src/index.ts';

const rng = seededTestRng(5);
const F = 3;
const N = 4096 * 2 + 17; // three batches
const X = Array.from({ length: N }, () => Float64Array.from({ length: F }, () => 4 * uniformDouble(rng) - 2));
let client: HeClient;
let inline: HeServer;
let pooled: HeServer;
let encX: Uint8Array;

beforeAll(async () => {
  client = await HeClient.create({ depth: 3, inputBound: 2 });
  const keys = client.exportEvaluationKeys();
  inline = await HeServer.create(keys, { threads: 1 });
  pooled = await HeServer.create(keys, { threads: 2 });
  encX = client.encryptRows(X);
});

afterAll(async () => {
  client?.close();
  await inline?.close();
  await pooled?.close();
});

describe('worker-thread sharding', () => {
  it('gives the same scores as inline evaluation, in row order', async () => {
    const spec = { weights: [0.5, -0.25, 0.75], bias: 0.1, sigmoid: 'poly3' as const, featureBounds: 2 };
    const a = client.decryptScores(await inline.logisticRegression(spec).predict(encX));
    const b = client.decryptScores(await pooled.logisticRegression(spec).predict(encX));
    expect(b.length).toBe(N);
    const model = pooled.logisticRegression(spec);
    for (let i = 0; i < N; i += 97) {
      expect(Math.abs(b[i] - a[i])).toBeLessThan(1e-6);
      expect(Math.abs(b[i] - evaluatePlain(model.spec, X[i])[0])).toBeLessThan(1e-4);
    }
  });

  it('gives byte-identical replies across repeated requests (reused task buffers) and to inline evaluation', async () => {
    const spec = { weights: [0.5, -0.25, 0.75], bias: 0.1, sigmoid: 'poly3' as const, featureBounds: 2 };
    const modelP = pooled.logisticRegression(spec);
    // Warming compiles the model in both workers and runs it on throwaway encryptions; results are unaffected.
    await pooled.warmup();
    const first = await modelP.predict(encX);
    // Evaluation is deterministic, whichever worker takes which batch and whichever buffer carries it.
    const same = (b: Uint8Array): boolean => Buffer.from(b.buffer, b.byteOffset, b.length).equals(first);
    expect(same(await modelP.predict(encX))).toBe(true);
    expect(same(await modelP.predict(encX))).toBe(true);
    expect(same(await inline.logisticRegression(spec).predict(encX))).toBe(true);
  });

  it('warms a server without models on a default circuit', async () => {
    const fresh = await HeServer.create(client.exportEvaluationKeys(), { threads: 2 });
    try {
      await expect(fresh.warmup()).resolves.toBeUndefined();
      const p = client.decryptScores(await fresh.linear({ weights: [1, 1, 1], bias: 0 }).predict(encX));
      for (let i = 0; i < N; i += 997) expect(Math.abs(p[i] - (X[i][0] + X[i][1] + X[i][2]))).toBeLessThan(1e-4);
    } finally {
      await fresh.close();
    }
  });

  it('encryptRowsAsync on two worker threads gives rows the server reads like encryptRows output', async () => {
    const c2 = await HeClient.load(client.exportClientKeys(), { threads: 2 });
    try {
      const enc2 = await c2.encryptRowsAsync(X);
      expect(Math.abs(enc2.length - encX.length)).toBeLessThan(64);
      const model = inline.linear({ weights: [0.5, -0.25, 0.75], bias: 0.1 });
      const a = client.decryptScores(await model.predict(encX));
      const b = c2.decryptScores(await model.predict(enc2));
      for (let i = 0; i < N; i += 61) expect(Math.abs(b[i] - a[i])).toBeLessThan(1e-6);
      await expect(
        c2.encryptRowsAsync([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      ).rejects.toThrow(/planned input range/);
    } finally {
      c2.close();
    }
  });

  it('a HeFormatError raised in a worker keeps its class', async () => {
    const model = pooled.linear({ weights: [1, 2, 3], bias: 0 });
    const view = new DataView(encX.buffer, encX.byteOffset);
    let off = 64 + 1 + 16; // first ciphertext: u32 length, u32 CRC, contents
    const count = view.getUint32(off - 4, true);
    for (let i = 0; i < count - 1; i++) off += 8 + view.getUint32(off, true);
    const length = view.getUint32(off, true);
    // (1) A flipped byte in the last ciphertext (third batch): its CRC is checked in the worker.
    const flipped = encX.slice();
    flipped[off + 8 + 1000] ^= 1;
    await expect(model.predict(flipped)).rejects.toMatchObject({ name: 'HeFormatError', reason: 'corrupt' });
    // (2) A bad SEAL header behind a matching CRC: SEAL's loader throws in the worker.
    const bad = encX.slice();
    bad[off + 8 + 2] = 0x7f;
    new DataView(bad.buffer).setUint32(off + 4, crc32(bad.subarray(off + 8, off + 8 + length)) >>> 0, true);
    await expect(model.predict(bad)).rejects.toBeInstanceOf(HeFormatError);
    // (3) Two corrupted batches: the request fails as a whole, and the pool keeps serving afterwards.
    const both = flipped.slice();
    both[64 + 1 + 16 + 8 + 500] ^= 1; // first ciphertext of the first batch
    await expect(model.predict(both)).rejects.toMatchObject({ name: 'HeFormatError', reason: 'corrupt' });
    const ok = client.decryptScores(await model.predict(encX));
    for (let i = 0; i < N; i += 499) expect(Math.abs(ok[i] - (X[i][0] + 2 * X[i][1] + 3 * X[i][2]))).toBeLessThan(1e-4);
  });
});
