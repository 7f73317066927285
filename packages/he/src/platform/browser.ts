/**
 * The browser implementation of {@link Platform} (selected by `#platform` under the `browser` condition):
 * CRC-32 from the `crc-32` package (SheetJS), node-seal's `.wasm` fetched from a URL, no worker pools (the
 * client encrypts on the calling thread; the server side of `@ppml/he` is Node only).
 *
 * The `.wasm` is looked up next to the bundle (`new URL('seal_throws.wasm', import.meta.url)`, the same place
 * node-seal's own browser build looks), so a build step copies `node-seal/dist/seal_throws.wasm` beside the
 * bundle; `setSealWasmUrl` (in `seal.ts`) points elsewhere (a CDN, a hashed asset name).
 * @module
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import CRC32 from 'crc-32';
import type { HttpReply, Platform, PoolOptions, TaskPool } from './types.ts';

interface SubtleLike {
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
}

interface Navigatorish {
  readonly userAgent?: string;
  readonly hardwareConcurrency?: number;
}
const nav = (globalThis as { navigator?: Navigatorish }).navigator;

/**
 * The browser's platform functions.
 * @example
 * ```ts
 * platform.crc32(new Uint8Array([1, 2, 3]));
 * ```
 */
export const platform: Platform = {
  name: 'browser',
  crc32: (bytes: Uint8Array, seed = 0): number => CRC32.buf(bytes, seed) >>> 0,
  sealWasm: async (wasmUrl?: string | URL): Promise<Uint8Array> => {
    const url = wasmUrl ?? new URL('seal_throws.wasm', import.meta.url);
    const r = await fetch(url);
    if (!r.ok)
      throw new Error(
        `fetching ${String(url)} failed with HTTP ${r.status}: copy node-seal/dist/seal_throws.wasm next to the bundle or call setSealWasmUrl`,
      );
    return new Uint8Array(await r.arrayBuffer());
  },
  runtime: (): string => nav?.userAgent ?? 'this browser',
  cores: (): number => nav?.hardwareConcurrency ?? 1,
  startPool: (_o: PoolOptions): TaskPool | undefined => undefined,
  // WebCrypto where present (secure contexts: https, localhost, 127.0.0.1), noble-hashes otherwise.
  sha256: async (bytes: Uint8Array): Promise<Uint8Array> => {
    const subtle = (globalThis as { crypto?: { subtle?: SubtleLike } }).crypto?.subtle;
    return subtle === undefined ? nobleSha256(bytes) : new Uint8Array(await subtle.digest('SHA-256', bytes));
  },
  http: async (
    url: string,
    method: string,
    headers: Record<string, string>,
    body: Uint8Array | undefined,
    timeoutMs: number,
  ): Promise<HttpReply> => {
    const signal = AbortSignal.timeout(timeoutMs);
    const r = await fetch(url, { method, headers, signal, ...(body === undefined ? {} : { body: body as Uint8Array<ArrayBuffer> }) });
    return { status: r.status, contentType: r.headers.get('content-type') ?? '', body: new Uint8Array(await r.arrayBuffer()) };
  },
};

export type { HttpReply, Platform, PoolOptions, TaskPool } from './types.ts';
