/**
 * What `@ppml/he` needs from its host, implemented once for Node (`node.ts`: zlib's CRC-32, the `.wasm` read
 * from disk, piscina worker pools) and once for browsers (`browser.ts`: a pure-JS CRC-32, the `.wasm` fetched
 * from a URL, no worker pools). The package's `imports` field maps `#platform` to one or the other by the
 * `browser` condition (Node.js packages docs, "Subpath imports"), so no `node:` module is on a browser path.
 * @module
 */

/** A pool of worker threads running one module's default export (the subset of piscina used here). */
export interface TaskPool {
  run(task: unknown, options?: { transferList?: ArrayBuffer[] }): Promise<unknown>;
  destroy(): Promise<void>;
}

/** Options of {@link Platform.startPool}. */
export interface PoolOptions {
  readonly filename: string;
  readonly threads: number;
  readonly workerData: unknown;
  readonly execArgv: string[];
}

/** An HTTP reply as {@link Platform.http} returns it. */
export interface HttpReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Uint8Array;
}

/** The host functions `@ppml/he` uses. */
export interface Platform {
  /** `'node'` or `'browser'`. */
  readonly name: 'node' | 'browser';
  /** CRC-32 (IEEE 802.3) of `bytes`, continuing from `seed`, as an unsigned 32-bit integer. */
  crc32(bytes: Uint8Array, seed?: number): number;
  /** The bytes of node-seal's `seal_throws.wasm`, from `url` when given (see `setSealWasmUrl`). */
  sealWasm(url?: string | URL): Promise<Uint8Array>;
  /** A line naming the runtime and its version, for error messages. */
  runtime(): string;
  /** Cores available to this process (1 where unknown). */
  cores(): number;
  /** A worker pool, or undefined where worker threads are not available (callers then work in-thread). */
  startPool(options: PoolOptions): TaskPool | undefined;
  /** SHA-256 of `bytes`. */
  sha256(bytes: Uint8Array): Promise<Uint8Array>;
  /**
   * One HTTP request (keep-alive where the host pools connections); rejects only for transport failures, and
   * with an error named `'TimeoutError'` when the exchange stalls for `timeoutMs`.
   */
  http(url: string, method: string, headers: Record<string, string>, body: Uint8Array | undefined, timeoutMs: number): Promise<HttpReply>;
}
