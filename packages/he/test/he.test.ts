// End-to-end tests of the client/server split at N = 8192, depth 3 (one context shared by the whole file).
// Encrypted results are compared with the plaintext evaluation of the same model (models.ts evaluatePlain).
import { seededTestRng, uniformDouble } from '@ppml/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACTIVATIONS,
  HeClient,
  HeFormatError,
  type HeModel,
  HeServer,
  SEAL,
  SIGMOID_POLY3,
  WireKind,
  evaluatePlain,
  readHeader,
} from '../src/index.ts';

const rng = seededTestRng(20240601);
const F = 30;
const ROWS = 600;
let client: HeClient;
let server: HeServer;
let X: Float64Array[];
let encX: Uint8Array;

function randomRows(n: number, f: number, bound: number): Float64Array[] {
  return Array.from({ length: n }, () => Float64Array.from({ length: f }, () => (2 * uniformDouble(rng) - 1) * bound));
}

function randomWeights(f: number, scale: number): number[] {
  return Array.from({ length: f }, () => (2 * uniformDouble(rng) - 1) * scale);
}

/** Scales `w` down (if needed) so that ‖w‖₁·bound + |b| <= limit: every z stays inside a polynomial's range. */
function within(w: number[], bound: number, b: number, limit: number): number[] {
  const l1 = w.reduce((s, v) => s + Math.abs(v), 0);
  const k = Math.min(1, (limit - Math.abs(b)) / (l1 * bound));
  return w.map((v) => v * k);
}

function maxErr(model: HeModel, scores: Float64Array, rows: readonly Float64Array[], post?: (z: number) => number): number {
  let worst = 0;
  rows.forEach((row, i) => {
    const plain = evaluatePlain(model.spec, row);
    for (let k = 0; k < plain.length; k++) {
      const want = post ? post(plain[k]) : plain[k];
      worst = Math.max(worst, Math.abs(scores[i * plain.length + k] - want));
    }
  });
  return worst;
}

beforeAll(async () => {
  client = await HeClient.create({ polyModulusDegree: 8192, depth: 3, inputBound: 10 });
  server = await HeServer.create(client.exportEvaluationKeys(), { threads: 1 });
  X = randomRows(ROWS, F, 10);
  encX = client.encryptRows(X);
});

afterAll(async () => {
  client?.close();
  await server?.close();
});

describe('encrypted results equal plaintext results', () => {
  it('linear regression: within 1e-4 for inputs in [-10, 10]', async () => {
    const model = server.linear({ weights: randomWeights(F, 1), bias: 0.75 });
    const scores = client.decryptScores(await model.predict(encX));
    expect(scores.length).toBe(ROWS);
    expect(maxErr(model, scores, X)).toBeLessThan(1e-4);
    model.dispose();
  });

  it('replies: 32 bytes per sample at level 0, 64 bytes at level 1 (a linear model whose outputs may exceed 2^(integerBits - 1))', async () => {
    // N = 8192: a reply ciphertext is 2 polynomials × 8,192 words × (level + 1) primes, for 4,096 samples.
    const perSample = async (m: { predict(b: Uint8Array): Promise<Uint8Array> }): Promise<number> =>
      (await m.predict(encX)).length / client.slots;
    const linear = server.linear({ weights: randomWeights(F, 1), bias: 0.75 });
    expect(linear.layout.outputBound).toBeGreaterThan(128); // |w·x + b| may exceed 2^8 / 2 for |x| <= 10
    expect(linear.layout.replyLevel).toBe(1);
    const lin = await perSample(linear);
    expect(lin).toBeGreaterThanOrEqual(64);
    expect(lin).toBeLessThan(64.1);
    const small = server.linear({ weights: randomWeights(F, 0.01), bias: 0 });
    expect(small.layout.replyLevel).toBe(0);
    const s = await perSample(small);
    expect(s).toBeGreaterThanOrEqual(32);
    expect(s).toBeLessThan(32.1);
    linear.dispose();
    small.dispose();
  });

  it('logistic regression with the poly3 sigmoid: equals the polynomial, and the sigmoid within its documented error', async () => {
    // A server-side polynomial needs declared feature bounds that keep z inside its range ([-5, 5] for poly3).
    const weights = within(randomWeights(F, 0.05), 10, 0.1, 5);
    const model = server.logisticRegression({ weights, bias: 0.1, sigmoid: 'poly3', featureBounds: 10 });
    expect(model.layout.depth).toBe(3);
    expect(model.layout.replyLevel).toBe(0);
    const scores = client.decryptScores(await model.predict(encX));
    expect(maxErr(model, scores, X)).toBeLessThan(1e-4);
    let inRange = 0;
    X.forEach((row, i) => {
      const z = evaluatePlain({ ...model.spec, output: undefined }, row)[0];
      if (Math.abs(z) > 5) return;
      inRange++;
      expect(Math.abs(scores[i] - ACTIVATIONS.sigmoid(z))).toBeLessThanOrEqual(SIGMOID_POLY3.maxError + 1e-4);
    });
    expect(inRange).toBeGreaterThan(ROWS / 2);
  });

  it('logistic regression with a least-squares sigmoid on a declared range, and with the client-side sigmoid', async () => {
    const weights = within(randomWeights(F, 0.1), 10, -0.2, 12);
    const poly = server.logisticRegression({ weights, bias: -0.2, sigmoid: { degree: 3, range: 12 }, featureBounds: 10 });
    const exact = server.logisticRegression({ weights, bias: -0.2, sigmoid: 'client' });
    const ps = client.decryptScores(await poly.predict(encX));
    const es = client.decryptScores(await exact.predict(encX));
    expect(maxErr(poly, ps, X)).toBeLessThan(1e-4);
    expect(maxErr(exact, es, X, ACTIVATIONS.sigmoid)).toBeLessThan(1e-6);
    const tol = (poly.spec.output?.maxError ?? 0) + 1e-4;
    X.forEach((row, i) => {
      const z = evaluatePlain(exact.spec, row)[0];
      if (Math.abs(z) <= 12) expect(Math.abs(ps[i] - ACTIVATIONS.sigmoid(z))).toBeLessThanOrEqual(tol);
    });
    poly.dispose();
    exact.dispose();
  });

  it('MLP 30→4→2 with the square activation (depth 3)', async () => {
    const layers = [
      { weights: randomWeights(4 * F, 0.05), bias: randomWeights(4, 0.5) },
      { weights: randomWeights(2 * 4, 0.1), bias: [0.1, -0.1] },
    ];
    const model = server.mlp({ layers, activation: 'square' });
    // The worst case over |x| <= 10 must fit the 8 integer bits of the plan; larger weights are rejected.
    expect(() => server.mlp({ layers: [layers[0], { weights: new Array(8).fill(2), bias: [0, 0] }], activation: 'square' })).toThrow(
      /may reach .* beyond what level 0 can hold/,
    );
    expect(model.layout.depth).toBe(3);
    const scores = client.decryptScores(await model.predict(encX));
    expect(scores.length).toBe(2 * ROWS);
    expect(maxErr(model, scores, X)).toBeLessThan(1e-4);
  });

  it('softmax regression from @ppml/dp-shaped JSON: the client applies the softmax', async () => {
    const K = 3;
    const json = {
      kind: 'softmax-regression',
      version: 1,
      features: F,
      classes: K,
      output: 'softmax',
      weights: randomWeights(K * F, 0.2),
      bias: [0, 0.5, -0.5],
    };
    const model = server.fromJSON(json);
    const probs = client.decryptScores(await model.predict(encX));
    X.forEach((row, i) => {
      const z = evaluatePlain(model.spec, row);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      for (let k = 0; k < K; k++) expect(Math.abs(probs[i * K + k] - e[k] / s)).toBeLessThan(1e-6);
    });
  });

  it('skips zero weights (no transparent ciphertext) and handles a single row', async () => {
    const w = randomWeights(F, 1);
    for (let j = 0; j < F; j += 2) w[j] = 0;
    const model = server.logisticRegression({ weights: w, bias: 0, sigmoid: 'client' });
    const one = client.encryptRows([X[0]]);
    const s = client.decryptScores(await model.predict(one));
    expect(s.length).toBe(1);
    expect(Math.abs(s[0] - ACTIVATIONS.sigmoid(evaluatePlain(model.spec, X[0])[0]))).toBeLessThan(1e-6);
  });
});

describe('serialisation', () => {
  it('every message has the right kind, and evaluation keys, client keys, rows and scores round-trip', async () => {
    const evalKeys = client.exportEvaluationKeys();
    const clientKeys = client.exportClientKeys();
    expect(readHeader(evalKeys).kind).toBe(WireKind.evaluationKeys);
    expect(readHeader(clientKeys).kind).toBe(WireKind.clientKeys);
    expect(readHeader(encX).kind).toBe(WireKind.encryptedRows);
    // Seeded relinearisation keys only: about 1.3 MB.
    expect(evalKeys.length).toBeLessThan(1.5e6);
    const server2 = await HeServer.create(evalKeys, { threads: 1 });
    const model = server2.linear({ weights: randomWeights(F, 1), bias: 1 });
    const encScores = await model.predict(encX);
    expect(readHeader(encScores).kind).toBe(WireKind.encryptedScores);
    const restored = await HeClient.load(clientKeys);
    const a = client.decryptScores(encScores);
    const b = restored.decryptScores(encScores);
    expect(Array.from(b)).toEqual(Array.from(a));
    // The restored client encrypts rows the first server accepts.
    const m1 = server.linear({ weights: model.spec.layers[0].weights, bias: 1 });
    const c = restored.decryptScores(await m1.predict(restored.encryptRows(X.slice(0, 3))));
    for (let i = 0; i < 3; i++) expect(Math.abs(c[i] - a[i])).toBeLessThan(1e-4);
    restored.close();
    await server2.close();
  });

  it('full (unseeded) and zstd-compressed uploads round-trip too', async () => {
    const full = await HeClient.create({ polyModulusDegree: 8192, depth: 3, inputBound: 10, upload: 'full', compression: 'zstd' });
    const srv = await HeServer.create(full.exportEvaluationKeys(), { threads: 1 });
    const model = srv.linear({ weights: randomWeights(F, 1), bias: 0.5 });
    const rows = X.slice(0, 5);
    const enc = full.encryptRows(rows);
    const seeded = client.encryptRows(rows);
    // Full ciphertexts carry both polynomials: about twice the seeded size even after zstd.
    expect(enc.length).toBeGreaterThan(1.5 * seeded.length);
    const s = full.decryptScores(await model.predict(enc));
    expect(maxErr(model, s, rows)).toBeLessThan(1e-4);
    const again = await HeClient.load(full.exportClientKeys());
    expect(again.upload).toBe('full');
    expect(again.compression).toBe('zstd');
    again.close();
    full.close();
    await srv.close();
  });

  it('re-exports node-seal for CommonJS callers', async () => {
    expect(SEAL).toBe((await import('node-seal')).default);
  });

  it('the evaluation-key bundle contains no secret key', () => {
    // A message is a 64-byte header then byte strings (u32 length, u32 CRC-32, contents) and fields.
    const byteStrings = (msg: Buffer): Buffer[] => {
      const out: Buffer[] = [];
      for (let off = 64; off < msg.length; ) {
        const n = msg.readUInt32LE(off);
        out.push(msg.subarray(off + 8, off + 8 + n));
        off += 8 + n;
      }
      return out;
    };
    const evalKeys = Buffer.from(client.exportEvaluationKeys());
    const clientKeys = Buffer.from(client.exportClientKeys());
    // The client-keys message is: plan JSON, secret key (SEAL serialisation, uncompressed).
    const [, sk] = byteStrings(clientKeys);
    // 8192 coefficients x 5 primes (the key level includes the special prime) x 8 bytes, plus SEAL's header.
    expect(sk.length).toBeGreaterThan(8192 * 5 * 8);
    // No 256-byte window of the secret key's polynomial appears anywhere in the evaluation keys.
    for (let off = 1024; off + 256 < sk.length; off += 8192) {
      expect(evalKeys.indexOf(sk.subarray(off, off + 256))).toBe(-1);
    }
    // The bundle is exactly: plan JSON, relinearisation keys, (empty) Galois keys.
    const sections = byteStrings(evalKeys);
    expect(sections.length).toBe(3);
    expect(sections[2].length).toBe(0);
    const meta = JSON.parse(sections[0].toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(meta).sort()).toEqual(['features', 'layout', 'plan']);
    // Seeded relinearisation keys: one key-switching key of 4 components at N = 8192, half of it seeds.
    expect(sections[1].length).toBeGreaterThan(700_000);
    expect(sections[1].length).toBeLessThan(1_400_000);
  });

  it('bytes from another context or key set, corrupted or truncated bytes give HeFormatError', async () => {
    const other = await HeClient.create({ depth: 2 });
    const otherRows = other.encryptRows([X[0]]);
    const model = server.linear({ weights: randomWeights(F, 1), bias: 0 });
    await expect(model.predict(otherRows)).rejects.toMatchObject({ name: 'HeFormatError', reason: 'parameters' });
    await expect(HeServer.create(other.exportEvaluationKeys().subarray(0, 1000))).rejects.toBeInstanceOf(HeFormatError);
    other.close();

    const sameParams = await HeClient.create({ polyModulusDegree: 8192, depth: 3, inputBound: 10 });
    await expect(model.predict(sameParams.encryptRows([X[0]]))).rejects.toMatchObject({ reason: 'keys' });
    const scores = await model.predict(client.encryptRows([X[0]]));
    expect(() => sameParams.decryptScores(scores)).toThrow(HeFormatError);
    sameParams.close();

    const small = client.encryptRows([X[0]]);
    const flipped = small.slice();
    flipped[flipped.length >> 1] ^= 0x10;
    await expect(model.predict(flipped)).rejects.toMatchObject({ name: 'HeFormatError', reason: 'corrupt' });
    await expect(model.predict(small.subarray(0, small.length - 1))).rejects.toMatchObject({ reason: 'truncated' });
    await expect(model.predict(small.subarray(0, 10))).rejects.toMatchObject({ reason: 'truncated' });
    await expect(model.predict(new Uint8Array(small.length))).rejects.toBeInstanceOf(HeFormatError);
    expect(() => client.decryptScores(small)).toThrow(expect.objectContaining({ reason: 'kind' }) as Error);
    const versioned = small.slice();
    versioned[4] = 9;
    await expect(model.predict(versioned)).rejects.toMatchObject({ reason: 'version' });
    await expect(HeClient.load(small)).rejects.toMatchObject({ reason: 'kind' });
  });

  it('a corrupted SEAL payload behind a valid CRC is a HeFormatError, not a WebAssembly abort', async () => {
    const { crc32 } = await import('node:zlib');
    const model = server.linear({ weights: randomWeights(F, 1), bias: 0 });
    const small = client.encryptRows([X[0]]).slice();
    // Header (64) + layout, rows, features, per-ciphertext, count (17) + length and CRC of the first ciphertext
    // (8): the SEAL header (magic 0xA15E) of the first ciphertext.
    const sealStart = 64 + 1 + 4 * 4 + 8;
    expect(small[sealStart] | (small[sealStart + 1] << 8)).toBe(0xa15e);
    for (const patch of [
      (b: Uint8Array) => {
        b[sealStart + 2] = 0x7f;
      }, // SEAL version
      (b: Uint8Array) => {
        b[sealStart + 8] ^= 0xff;
      }, // SEAL declared size
      (b: Uint8Array) => {
        for (let i = 0; i < 64; i++) b[sealStart + 16 + i] = 0xff;
      }, // parms id
    ]) {
      const bad = small.slice();
      patch(bad);
      // Recompute the ciphertext's own CRC so the bytes reach SEAL's loader.
      const view = new DataView(bad.buffer);
      const length = view.getUint32(sealStart - 8, true);
      view.setUint32(sealStart - 4, crc32(bad.subarray(sealStart, sealStart + length)) >>> 0, true);
      await expect(model.predict(bad)).rejects.toBeInstanceOf(HeFormatError);
    }
  });
});

describe('bad input', () => {
  it('rejects ragged rows, NaN, values outside the planned range and empty input', () => {
    expect(() => client.encryptRows([[1, 2], [1]])).toThrow(RangeError);
    expect(() => client.encryptRows([[1, Number.NaN]])).toThrow(/rows\[0\]\[1\] must be a finite number/);
    expect(() => client.encryptRows([[1, 10.5]])).toThrow(/planned input range \[-10, 10\]/);
    expect(() => client.encryptRows([])).toThrow(RangeError);
    expect(() => client.encryptRows('x' as unknown as number[][])).toThrow(TypeError);
  });

  it('rejects rows of the wrong width for the model', async () => {
    const model = server.linear({ weights: randomWeights(F, 1), bias: 0 });
    const narrow = client.encryptRows([X[0].subarray(0, F - 1)]);
    await expect(model.predict(narrow)).rejects.toThrow(/29 features per row, but the model takes 30/);
  });

  it('rejects a model deeper than the plan, non-polynomial activations without a range, and constant outputs', () => {
    const layers = [
      { weights: randomWeights(2 * F, 0.1), bias: [0, 0] },
      { weights: [1, 1], bias: [0] },
    ];
    expect(() => server.mlp({ layers, activation: { approximate: 'tanh', degree: 3, range: 4 } })).toThrow(
      /needs multiplicative depth 4 but the keys were planned for depth 3/,
    );
    expect(() => server.fromJSON({ kind: 'mlp', features: F, activation: 'relu', layers })).toThrow(/activationRange/);
    expect(() => server.logisticRegression({ weights: randomWeights(F, 1), sigmoid: { degree: 5, range: 8 }, featureBounds: 0.1 })).toThrow(
      /depth 4/,
    );
    expect(() => server.linear({ weights: new Array(F).fill(0) })).toThrow(/only zero weights/);
    expect(() => server.linear({ weights: [1, Number.NaN] })).toThrow(RangeError);
    expect(() => server.logisticRegression({ weights: [1], sigmoid: 'cubic' as never })).toThrow(RangeError);
  });

  it('rejects parameters above the 128-bit security budget', async () => {
    await expect(HeClient.create({ polyModulusDegree: 8192, depth: 5 })).rejects.toThrow(/use polyModulusDegree 16384/);
  });

  it('refuses use after close', async () => {
    const c = await HeClient.create({ polyModulusDegree: 8192, depth: 3, inputBound: 10 });
    c.close();
    c.close();
    expect(() => c.encryptRows([[1]])).toThrow(/closed/);
  });
});
