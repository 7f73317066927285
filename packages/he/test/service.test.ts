// The HTTP service (`@ppml/he/service`) against the Node client `HeRemote` on loopback: encrypted predictions
// equal plaintext for linear, logistic and MLP models; concurrent clients each get their own results; every kind
// of bad request gets a 4xx with a typed reason while the service keeps serving; key sets survive a restart with
// the directory store; close() finishes the batches in flight. Documented CKKS error (notes, "error vs
// plaintext"): 1e-8 for a linear layer, about 1e-6 after a square; 1e-4 is the tolerance here.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { seededTestRng, uniformDouble } from '@ppml/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HeClient,
  HeRemote,
  HeServiceError,
  applyPost,
  evaluatePlain,
  linearSpec,
  logisticSpec,
  mlpSpec,
  newSigningKey,
} from '../src/index.ts';
import { DirectoryKeyStore, type HeService, createHeService } from '../src/service/index.ts';
import { API_PREFIX, SIGNATURE_HEADERS, signRequest, sha256Async } from '../src/protocol.ts';

const rng = seededTestRng(12);
const rand = (n: number, f: number, b = 1): number[][] =>
  Array.from({ length: n }, () => Array.from({ length: f }, () => b * (2 * uniformDouble(rng) - 1)));

const F = 4;
const linear = { weights: [0.5, -1, 0.25, 2], bias: 0.3 };
const logistic = { weights: [1.5, -0.5, 0.75, -2], bias: -0.2 };
const mlp = {
  layers: [
    { weights: [0.5, -0.3, 0.2, 0.1, -0.4, 0.6, 0.3, -0.2], bias: [0.1, -0.1] },
    { weights: [0.7, -0.5], bias: [0.05] },
  ],
  activation: 'square' as const,
};

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tol);
}

function plain(spec: ReturnType<typeof linearSpec>, rows: number[][]): Float64Array {
  const out: number[] = [];
  for (const r of rows) out.push(...applyPost(spec.post, evaluatePlain(spec, r), spec.layers[spec.layers.length - 1].outputs));
  return Float64Array.from(out);
}

describe('createHeService with HeRemote on loopback', () => {
  let service: HeService;
  let remote: HeRemote;

  beforeAll(async () => {
    service = await createHeService({
      models: { lin: { kind: 'linear', ...linear }, risk: { kind: 'logistic', ...logistic }, net: { kind: 'mlp', ...mlp } },
      plan: { inputBound: 2 },
      limits: { maxBodyBytes: 8 * 2 ** 20, maxConcurrentBatches: 4 },
    });
    remote = await HeRemote.connect(service.url);
  });
  afterAll(async () => {
    remote?.close();
    await service?.close();
  });

  it('lists the models with what a client needs', async () => {
    const info = (await (await fetch(`${service.url}${API_PREFIX}/models`)).json()) as HeRemote['info'];
    expect(info.parameterHash).toMatch(/^[0-9a-f]{64}$/);
    expect(info.plan.depth).toBe(3);
    expect(info.inputBound).toBe(2);
    expect(info.models.map((m) => [m.name, m.features, m.outputs, m.post])).toEqual([
      ['lin', 4, 1, 'none'],
      ['risk', 4, 1, 'sigmoid'],
      ['net', 4, 1, 'none'],
    ]);
    expect(remote.keySetId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('linear, logistic and MLP predictions equal plaintext', async () => {
    const rows = rand(40, F, 2);
    expectClose(await remote.predict('lin', rows), plain(linearSpec(linear), rows), 1e-4);
    expectClose(await remote.predict('risk', rows), plain(logisticSpec(logistic), rows), 1e-4);
    expectClose(await remote.predict('net', rows), plain(mlpSpec(mlp), rows), 1e-4);
  });

  it('refuses a request with more batches than the service queues (429, typed)', async () => {
    const c = remote.client;
    const big = c.encryptRows(rand(c.slots * 5 + 1, F)); // 6 batches > maxConcurrentBatches 4
    const e = await remote.predictEncrypted('lin', big).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HeServiceError);
    expect([(e as HeServiceError).status, (e as HeServiceError).reason]).toEqual([429, 'busy']);
  });
});

describe('many clients', () => {
  it('50 concurrent clients with their own key sets each get their own results', async () => {
    const service = await createHeService({ models: { lin: { kind: 'linear', ...linear } }, plan: { inputBound: 2 } });
    try {
      const info = (await (await fetch(`${service.url}${API_PREFIX}/models`)).json()) as HeRemote['info'];
      const clients = await Promise.all(
        Array.from({ length: 50 }, () =>
          HeClient.create({
            depth: info.plan.depth,
            polyModulusDegree: info.plan.polyModulusDegree,
            scaleBits: info.plan.scaleBits,
            integerBits: info.plan.integerBits,
            inputBound: 2,
          }),
        ),
      );
      try {
        const rows = clients.map(() => rand(3, F, 2));
        const results = await Promise.all(
          clients.map(async (client, i) => {
            const remote = await HeRemote.connect(service.url, { client });
            const p = await remote.predict('lin', rows[i]);
            remote.close();
            return { id: remote.keySetId, p };
          }),
        );
        expect(new Set(results.map((r) => r.id)).size).toBe(50);
        results.forEach((r, i) => {
          expectClose(r.p, plain(linearSpec(linear), rows[i]), 1e-4);
        });
        expect(service.stats.registrations).toBe(50);
      } finally {
        for (const c of clients) c.close();
      }
    } finally {
      await service.close();
    }
  });
});

describe('bad requests', () => {
  let service: HeService;
  let remote: HeRemote;
  let other: HeRemote;
  let rows: number[][];
  let good: Uint8Array;
  const signingKey = newSigningKey();

  beforeAll(async () => {
    service = await createHeService({
      models: { lin: { kind: 'linear', ...linear } },
      plan: { inputBound: 2 },
      threads: 1,
      limits: { maxBodyBytes: 2 ** 20 },
    });
    remote = await HeRemote.connect(service.url, { signingKey });
    other = await HeRemote.connect(service.url);
    rows = rand(5, F, 2);
    good = remote.client.encryptRows(rows);
  });
  afterAll(async () => {
    remote?.close();
    other?.close();
    await service?.close();
  });

  const predictPath = `${API_PREFIX}/models/lin/predict`;

  async function post(body: Uint8Array, headers: Record<string, string>, path = predictPath): Promise<{ status: number; reason: string }> {
    const r = await fetch(`${service.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...headers },
      body: body as Uint8Array<ArrayBuffer>,
    });
    const text = await r.text();
    if (!(r.headers.get('content-type') ?? '').includes('json')) return { status: r.status, reason: 'none' };
    return { status: r.status, reason: (JSON.parse(text) as { error: { reason: string } }).error.reason };
  }
  async function signed(
    body: Uint8Array,
    keySetId = remote.keySetId,
    key = signingKey,
    path = predictPath,
  ): Promise<Record<string, string>> {
    return signRequest(key, { method: 'POST', path, keySetId, bodyDigest: await sha256Async(body) });
  }
  it('each kind of bad request gets a 4xx with a typed reason, and the service keeps serving', async () => {
    const cases: [string, () => Promise<{ status: number; reason: string }>, number, string][] = [
      [
        'truncated',
        async () => {
          const b = good.subarray(0, 100);
          return post(b, await signed(b));
        },
        400,
        'truncated',
      ],
      [
        'header bit flipped',
        async () => {
          const b = good.slice();
          b[70] ^= 1;
          return post(b, await signed(b));
        },
        400,
        'corrupt',
      ],
      [
        'ciphertext bit flipped',
        async () => {
          const b = good.slice();
          b[b.length - 5] ^= 4;
          return post(b, await signed(b));
        },
        400,
        'corrupt',
      ],
      [
        'ciphertext bit flipped, its CRC repaired',
        async () => {
          const b = flipWithRepairedCrc(good);
          return post(b, await signed(b));
        },
        400,
        'corrupt',
      ],
      [
        'wrong parameter hash',
        async () => {
          const b = good.slice();
          b[8] ^= 0xff;
          return post(b, await signed(b));
        },
        400,
        'parameters',
      ],
      [
        'rows under another key',
        async () => {
          const b = other.client.encryptRows(rows);
          return post(b, await signed(b));
        },
        400,
        'keys',
      ],
      ["another client's key set", async () => post(good, await signed(good, other.keySetId)), 403, 'signature'],
      ['unsigned', async () => post(good, { [SIGNATURE_HEADERS.keySet]: remote.keySetId }), 401, 'signature'],
      [
        'replayed',
        async () => {
          const h = await signed(good);
          await post(good, h);
          return post(good, h);
        },
        401,
        'replay',
      ],
      [
        'stale',
        async () =>
          post(
            good,
            signRequest(signingKey, {
              method: 'POST',
              path: predictPath,
              keySetId: remote.keySetId,
              bodyDigest: await sha256Async(good),
              timestamp: Date.now() - 3_600_000,
            }),
          ),
        401,
        'stale',
      ],
      ['unknown key set', async () => post(good, await signed(good, '0'.repeat(32))), 404, 'unknown-key-set'],
      [
        'unknown model',
        async () =>
          post(
            good,
            await signed(good, remote.keySetId, signingKey, `${API_PREFIX}/models/nope/predict`),
            `${API_PREFIX}/models/nope/predict`,
          ),
        404,
        'unknown-model',
      ],
      [
        'oversized',
        async () => {
          const b = new Uint8Array(2 ** 20 + 1);
          return post(b, await signed(b));
        },
        413,
        'too-large',
      ],
      [
        'registration of garbage',
        async () => {
          const b = new Uint8Array(300).fill(7);
          return post(
            b,
            { ...(await signed(b, '', signingKey, `${API_PREFIX}/key-sets`)), [SIGNATURE_HEADERS.publicKey]: '00'.repeat(32) },
            `${API_PREFIX}/key-sets`,
          );
        },
        403,
        'signature',
      ],
    ];
    for (const [name, run, status, reason] of cases) {
      expect({ name, ...(await run()) }).toEqual({ name, status, reason });
    }
    const r = await fetch(`${service.url}${predictPath}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    expect(r.status).toBe(415);
    expectClose(await remote.predict('lin', rows), plain(linearSpec(linear), rows), 1e-4);
  });

  it('10,000 malformed requests: all 4xx, memory does not grow, the service keeps serving', async () => {
    const bodies = [good.subarray(0, 64), good.subarray(0, 10), new Uint8Array(0)];
    const kinds: Record<string, string>[] = [
      {}, // unsigned
      { [SIGNATURE_HEADERS.keySet]: remote.keySetId }, // no signature
      {
        [SIGNATURE_HEADERS.keySet]: 'f'.repeat(32),
        [SIGNATURE_HEADERS.timestamp]: '1',
        [SIGNATURE_HEADERS.nonce]: '0'.repeat(32),
        [SIGNATURE_HEADERS.signature]: '0'.repeat(128),
      },
      {
        [SIGNATURE_HEADERS.keySet]: remote.keySetId,
        [SIGNATURE_HEADERS.timestamp]: '1',
        [SIGNATURE_HEADERS.nonce]: '0'.repeat(32),
        [SIGNATURE_HEADERS.signature]: '0'.repeat(128),
      },
    ];
    // node:http with keep-alive: the cheapest client, so that the 10,000 requests take a few seconds.
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const one = (i: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const body = bodies[i % bodies.length];
        const req = request(
          `${service.url}${predictPath}`,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/octet-stream', 'content-length': body.length, ...kinds[i % kinds.length] },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const run = async (n: number): Promise<void> => {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < n) {
          const i = next++;
          const status = await one(i);
          if (status < 400 || status >= 500) throw new Error(`request ${i} got ${status}`);
        }
      };
      await Promise.all(Array.from({ length: 8 }, lane));
    };
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await run(1000);
    gc();
    const before = process.memoryUsage();
    await run(9000);
    gc();
    const after = process.memoryUsage();
    // 9,000 retained requests (bodies, headers, nonces) would cost well over 8 MiB of heap.
    agent.destroy();
    // Resident memory is left out: V8 and malloc keep freed pages, so RSS moves without any object being kept.
    expect(after.heapUsed - before.heapUsed).toBeLessThan(8 * 2 ** 20);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(8 * 2 ** 20);
    expectClose(await remote.predict('lin', rows), plain(linearSpec(linear), rows), 1e-4);
  });
});

/**
 * A copy of rows message `m` with one bit of its last ciphertext flipped and that byte string's CRC-32 rewritten
 * to match, so the wire CRCs pass and SEAL's own checks must refuse it. The last byte string of a rows message
 * is laid out as u32 length, u32 CRC, contents, ending at the end of the message.
 */
function flipWithRepairedCrc(m: Uint8Array): Uint8Array {
  const b = m.slice();
  const view = new DataView(b.buffer);
  // Find the last byte string: scan back from the end for a length that reaches exactly the end.
  for (let at = b.length - 9; at >= 64; at--) {
    const len = view.getUint32(at, true);
    if (at + 8 + len === b.length && len > 100) {
      const start = at + 8;
      b[start + 20] ^= 0x10; // inside SEAL's header: a corrupted field SEAL must refuse
      view.setUint32(at + 4, crc32(b.subarray(start)), true);
      return b;
    }
  }
  throw new Error('no byte string found');
}

function crc32(b: Uint8Array): number {
  return zlibCrc32(b) >>> 0;
}

describe('restart with the directory key store', () => {
  it('a registered client predicts again without re-uploading its keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ppml-keys-'));
    const models = { lin: { kind: 'linear' as const, ...linear } };
    const signingKey = newSigningKey();
    let service = await createHeService({
      models,
      plan: { inputBound: 2 },
      threads: 1,
      keyStore: new DirectoryKeyStore({ directory: dir }),
    });
    const remote = await HeRemote.connect(service.url, { signingKey });
    const clientKeys = remote.client.exportClientKeys();
    const rows = rand(3, F, 2);
    try {
      expectClose(await remote.predict('lin', rows), plain(linearSpec(linear), rows), 1e-4);
      expect(service.stats.registrations).toBe(1);
      // What the service stored holds no secret key: no 256-byte window of the client's secret key (the last
      // byte string of its client-keys message) appears in the key-set file.
      const stored = Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
      const keys = Buffer.from(clientKeys);
      const lastString = (msg: Buffer): Buffer => {
        let last = msg.subarray(0, 0);
        for (let off = 64; off < msg.length; ) {
          const n = msg.readUInt32LE(off);
          last = msg.subarray(off + 8, off + 8 + n);
          off += 8 + n;
        }
        return last;
      };
      const sk = lastString(keys);
      expect(sk.length).toBeGreaterThan(4096 * 2 * 8);
      for (let off = 1024; off + 256 < sk.length; off += 4096) expect(stored.indexOf(sk.subarray(off, off + 256))).toBe(-1);
      await service.close();
      service = await createHeService({
        models,
        plan: { inputBound: 2 },
        threads: 1,
        port: service.port,
        keyStore: new DirectoryKeyStore({ directory: dir }),
      });
      const client = await HeClient.load(clientKeys);
      const again = await HeRemote.connect(service.url, { client, signingKey });
      expect(again.keySetId).toBe(remote.keySetId);
      expectClose(await again.predict('lin', rows), plain(linearSpec(linear), rows), 1e-4);
      expect(service.stats.registrations).toBe(0);
      again.close();
      client.close();
    } finally {
      remote.close();
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('batches of a timed-out request count as in flight until the workers finish them', async () => {
    // 50 ms is far shorter than a cold worker's start (WebAssembly, keys, model), so the request times out while
    // its batches still occupy the pool; they must keep counting against maxConcurrentBatches until done.
    const service = await createHeService({
      models: { lin: { kind: 'linear', ...linear } },
      plan: { inputBound: 2 },
      threads: 1,
      limits: { requestTimeoutMs: 50 },
    });
    const remote = await HeRemote.connect(service.url);
    try {
      const enc = remote.client.encryptRows(rand(remote.client.slots * 2, F, 2));
      const e = await remote.predictEncrypted('lin', enc).catch((x: unknown) => x);
      expect([(e as HeServiceError).status, (e as HeServiceError).reason]).toEqual([503, 'timeout']);
      expect(service.stats.inFlightBatches).toBe(2);
      while (service.stats.inFlightBatches > 0) await new Promise((r) => setTimeout(r, 5));
      expect(service.stats.inFlightBatches).toBe(0);
    } finally {
      remote.close();
      await service.close();
    }
  });

  it('close() finishes the batches in flight, then refuses connections', async () => {
    const service = await createHeService({ models: { lin: { kind: 'linear', ...linear } }, plan: { inputBound: 2 }, threads: 2 });
    const remote = await HeRemote.connect(service.url);
    try {
      const rows = rand(remote.client.slots * 2, F, 2);
      const enc = remote.client.encryptRows(rows);
      let settled = false;
      const pending = remote.predictEncrypted('lin', enc).finally(() => (settled = true));
      while (service.stats.inFlightBatches === 0 && !settled) await new Promise((r) => setTimeout(r, 2));
      expect(service.stats.inFlightBatches).toBe(2);
      const closing = service.close();
      const p = remote.client.decryptScores(await pending);
      await closing;
      const want = plain(linearSpec(linear), rows);
      for (let i = 0; i < rows.length; i += 257) expect(Math.abs(p[i] - want[i])).toBeLessThan(1e-4);
      await expect(remote.predict('lin', rows.slice(0, 2))).rejects.toThrow();
    } finally {
      remote.close();
      await service.close();
    }
  });
});
