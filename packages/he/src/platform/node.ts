/**
 * The Node implementation of {@link Platform} (selected by `#platform` outside browsers): zlib's native
 * CRC-32, node-seal's `.wasm` read from the installed package, piscina pools of worker threads.
 * @module
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { availableParallelism } from 'node:os';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { Piscina } from 'piscina';
import type { HttpReply, Platform, PoolOptions, TaskPool } from './types.ts';

/**
 * node:http rather than fetch: for the multi-megabyte bodies of encrypted batches, undici's fetch cost about 55 ms
 * of CPU per 7.9 MB round trip against 21 ms for node:http (measured on loopback), and that CPU is taken from
 * the cores that evaluate. The global agents keep connections alive (Node >= 19).
 */
function http(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Uint8Array | undefined,
  timeoutMs: number,
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const h: Record<string, string | number> = { ...headers };
    if (body !== undefined) h['content-length'] = body.length;
    const req = send(u, { method, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: new Uint8Array(all.buffer, all.byteOffset, all.byteLength),
        });
      });
    });
    req.on('error', reject);
    // An idle socket (a service that stalls) ends the request instead of leaving the caller waiting forever.
    req.setTimeout(timeoutMs, () => {
      const e = new Error(`no reply from ${u.origin} within ${timeoutMs} ms`);
      e.name = 'TimeoutError';
      req.destroy(e);
    });
    req.end(body);
  });
}

/**
 * Node's platform functions.
 * @example
 * ```ts
 * platform.crc32(new Uint8Array([1, 2, 3]));
 * ```
 */
export const platform: Platform = {
  name: 'node',
  crc32: (bytes: Uint8Array, seed = 0): number => zlibCrc32(bytes, seed) >>> 0,
  sealWasm: async (url?: string | URL): Promise<Uint8Array> => {
    const at = url === undefined ? new URL('seal_throws.wasm', import.meta.resolve('node-seal')) : new URL(url);
    if (at.protocol === 'file:') return readFileSync(at);
    const r = await fetch(at);
    if (!r.ok) throw new Error(`fetching ${at.href} failed with HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  },
  runtime: (): string => `Node ${process.version}`,
  cores: (): number => availableParallelism(),
  sha256: async (bytes: Uint8Array): Promise<Uint8Array> => new Uint8Array(createHash('sha256').update(bytes).digest()),
  http,
  startPool: (o: PoolOptions): TaskPool =>
    new Piscina({
      filename: o.filename,
      minThreads: o.threads,
      maxThreads: o.threads,
      idleTimeout: 60_000,
      workerData: o.workerData,
      execArgv: o.execArgv,
    }),
};

export type { HttpReply, Platform, PoolOptions, TaskPool } from './types.ts';
