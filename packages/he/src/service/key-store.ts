/**
 * Where the service keeps registered key sets: the evaluation keys (public: no secret key is ever uploaded), the
 * Ed25519 public key that must sign every request for the set, and the parameter hash. {@link MemoryKeyStore}
 * (the default) is a least-recently-used map bounded by a number of sets and of bytes; {@link DirectoryKeyStore}
 * writes one file per set (atomically: write, then rename, POSIX `rename(2)`), so key sets survive a restart and
 * several replicas behind a load balancer can share one directory (e.g. on a network file system).
 * @module
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertInteger, assertOptions, describeValue, randomBytes } from '@ppml/core';
import { bytesToHex } from '@noble/hashes/utils.js';

/** One registered key set. */
export interface KeySetRecord {
  /** 32 hex digits (see `keySetIdOf`). */
  readonly id: string;
  /** Ed25519 public key (32 bytes) that signs the set's requests. */
  readonly publicKey: Uint8Array;
  /** The evaluation-keys wire message as uploaded. */
  readonly evalKeys: Uint8Array;
  /** Registration time, milliseconds since the epoch. */
  readonly createdAt: number;
}

/**
 * A key-set store. Implementations must be safe to call concurrently; `get` of an unknown id resolves to
 * undefined, and `put` of a record that does not fit throws a `RangeError`.
 */
export interface KeyStore {
  get(id: string): Promise<KeySetRecord | undefined>;
  put(record: KeySetRecord): Promise<void>;
  delete(id: string): Promise<boolean>;
  close(): Promise<void>;
}

const ID = /^[0-9a-f]{32}$/;

/**
 * Whether `id` has the form of a key-set id (32 lower-case hex digits): anything else never reaches a store, so a
 * path such as `../x` can never name a file.
 * @example
 * ```ts
 * isKeySetId('0123456789abcdef0123456789abcdef'); // true
 * ```
 */
export function isKeySetId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id);
}

function checkRecord(record: KeySetRecord): void {
  if (record === null || typeof record !== 'object') throw new TypeError(`record must be a KeySetRecord, got ${describeValue(record)}`);
  if (!isKeySetId(record.id)) throw new RangeError(`record.id must be 32 lower-case hex digits, got ${describeValue(record.id)}`);
  if (!(record.publicKey instanceof Uint8Array) || record.publicKey.length !== 32)
    throw new TypeError('record.publicKey must be a Uint8Array of 32 bytes');
  if (!(record.evalKeys instanceof Uint8Array)) throw new TypeError('record.evalKeys must be a Uint8Array');
  if (typeof record.createdAt !== 'number' || !Number.isFinite(record.createdAt))
    throw new TypeError('record.createdAt must be a finite number');
}

/** Options of {@link MemoryKeyStore}. */
export interface MemoryKeyStoreOptions {
  /** Most key sets held (default 1,000). */
  maxKeySets?: number;
  /** Most bytes of evaluation keys held (default 2 GiB). */
  maxBytes?: number;
}

/**
 * The default store: an LRU map in this process, bounded by `maxKeySets` and `maxBytes` (the least recently used
 * sets are dropped; their clients register again). Lost on restart.
 * @example
 * ```ts
 * const service = await createHeService({ models, keyStore: new MemoryKeyStore({ maxKeySets: 100 }) });
 * ```
 */
export class MemoryKeyStore implements KeyStore {
  readonly maxKeySets: number;
  readonly maxBytes: number;
  readonly #sets = new Map<string, KeySetRecord>();
  #bytes = 0;

  constructor(options: MemoryKeyStoreOptions = {}) {
    assertOptions('options', options as unknown, ['maxKeySets', 'maxBytes']);
    this.maxKeySets = options.maxKeySets ?? 1000;
    this.maxBytes = options.maxBytes ?? 2 ** 31;
    assertInteger('maxKeySets', this.maxKeySets, 1, 2 ** 24);
    assertInteger('maxBytes', this.maxBytes, 1, Number.MAX_SAFE_INTEGER);
  }

  /** Key sets held. */
  get size(): number {
    return this.#sets.size;
  }

  /** Bytes of evaluation keys held. */
  get bytes(): number {
    return this.#bytes;
  }

  async get(id: string): Promise<KeySetRecord | undefined> {
    const r = this.#sets.get(id);
    if (r !== undefined) {
      this.#sets.delete(id);
      this.#sets.set(id, r);
    }
    return r;
  }

  async put(record: KeySetRecord): Promise<void> {
    checkRecord(record);
    if (record.evalKeys.length > this.maxBytes) {
      throw new RangeError(`evaluation keys of ${record.evalKeys.length} bytes exceed the store's maxBytes ${this.maxBytes}`);
    }
    await this.delete(record.id);
    this.#sets.set(record.id, record);
    this.#bytes += record.evalKeys.length;
    while (this.#sets.size > this.maxKeySets || this.#bytes > this.maxBytes) {
      const [id] = this.#sets.keys();
      await this.delete(id);
    }
  }

  async delete(id: string): Promise<boolean> {
    const r = this.#sets.get(id);
    if (r === undefined) return false;
    this.#sets.delete(id);
    this.#bytes -= r.evalKeys.length;
    return true;
  }

  async close(): Promise<void> {
    this.#sets.clear();
    this.#bytes = 0;
  }
}

/** Options of {@link DirectoryKeyStore}. */
export interface DirectoryKeyStoreOptions {
  /** The directory (created if missing). */
  directory: string;
}

/** File layout: magic `PPKS`, u32 version 1, f64 createdAt, 32-byte public key, then the evaluation keys. */
const FILE_MAGIC = 0x534b5050;
const FILE_HEADER = 4 + 4 + 8 + 32;

/**
 * Key sets as files `<id>.keyset` in a directory: they survive a restart, and replicas can share the directory.
 * Not bounded by count: prune old files with the operator's usual tools.
 * @example
 * ```ts
 * const service = await createHeService({ models, keyStore: new DirectoryKeyStore({ directory: '/var/lib/ppml/keys' }) });
 * ```
 */
export class DirectoryKeyStore implements KeyStore {
  readonly directory: string;
  #ready: Promise<unknown> | undefined;

  constructor(options: DirectoryKeyStoreOptions) {
    assertOptions('options', options as unknown, ['directory']);
    if (typeof options.directory !== 'string' || options.directory === '') {
      throw new TypeError(`options.directory must be a non-empty path string, got ${describeValue(options.directory)}`);
    }
    this.directory = options.directory;
  }

  #file(id: string): string {
    if (!isKeySetId(id)) throw new RangeError(`id must be 32 lower-case hex digits, got ${describeValue(id)}`);
    return join(this.directory, `${id}.keyset`);
  }

  async get(id: string): Promise<KeySetRecord | undefined> {
    if (!isKeySetId(id)) return undefined;
    let bytes: Uint8Array;
    try {
      const buf = await readFile(this.#file(id));
      // A plain Uint8Array view (not the Buffer subclass): SEAL's bindings accept only Uint8Array itself.
      bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ENOENT') return undefined;
      throw e;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < FILE_HEADER || view.getUint32(0, true) !== FILE_MAGIC || view.getUint32(4, true) !== 1) {
      throw new Error(`${this.#file(id)} is not a ppml key-set file (version 1)`);
    }
    return {
      id,
      createdAt: view.getFloat64(8, true),
      publicKey: bytes.slice(16, 48),
      evalKeys: bytes.subarray(FILE_HEADER),
    };
  }

  async put(record: KeySetRecord): Promise<void> {
    checkRecord(record);
    this.#ready ??= mkdir(this.directory, { recursive: true });
    await this.#ready;
    const out = new Uint8Array(FILE_HEADER + record.evalKeys.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, FILE_MAGIC, true);
    view.setUint32(4, 1, true);
    view.setFloat64(8, record.createdAt, true);
    out.set(record.publicKey, 16);
    out.set(record.evalKeys, FILE_HEADER);
    const file = this.#file(record.id);
    const tmp = `${file}.${bytesToHex(randomBytes(8))}.tmp`;
    try {
      await writeFile(tmp, out, { mode: 0o600 });
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async delete(id: string): Promise<boolean> {
    if (!isKeySetId(id)) return false;
    try {
      await rm(this.#file(id));
      return true;
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ENOENT') return false;
      throw e;
    }
  }

  async close(): Promise<void> {}
}
