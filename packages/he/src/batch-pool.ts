/**
 * The worker pool that evaluates batches of encrypted rows, shared by {@link HeServer} (one key set, loaded by
 * every worker from `workerData`) and the HTTP service (many key sets: each task names its key set and carries
 * its evaluation keys in shared memory, and every worker keeps the few it used last). SEAL is single-threaded;
 * its maintainers advise application-level threads (SEAL issue 245), and each worker is its own WebAssembly
 * instance with its own heap.
 * @module
 */
import { deserializeError, siblingModuleUrl, workerExecArgv } from '@ppml/core';
import { type TaskPool, platform } from '#platform';
import { HeFormatError } from './errors.ts';
import type { ModelSpec } from './models.ts';
import type { UncheckedBytes } from './wire.ts';
import { type KeySetRef, type WarmupTask, type WorkerReply, type WorkerTask, pack, unpack } from './worker.ts';

/** Target number of ciphertexts per pool task (fewer, larger tasks for the row layout's one-ciphertext batches). */
const TASK_CIPHERTEXTS = 8;

/**
 * Batches per pool task: whole batches of about {@link TASK_CIPHERTEXTS} ciphertexts (one batch in the column
 * layout), but at most a quarter of each thread's share so that the work still spreads out evenly.
 */
function taskSize(batches: number, perBatch: number, threads: number): number {
  const byWork = Math.max(1, Math.ceil(TASK_CIPHERTEXTS / perBatch));
  const bySpread = Math.max(1, Math.floor(batches / (4 * threads)));
  return Math.min(byWork, bySpread);
}

/**
 * When every byte string of `group` is a view of one `SharedArrayBuffer`, the smallest region holding them all
 * and each one's offset and length within it; else undefined.
 */
function sharedRegion(group: readonly UncheckedBytes[]): { packed: Uint8Array; offsets: Uint32Array; lengths: Uint32Array } | undefined {
  const buffer = group[0].bytes.buffer;
  if (typeof SharedArrayBuffer === 'undefined' || !(buffer instanceof SharedArrayBuffer)) return undefined;
  let start = Infinity;
  let end = 0;
  for (const g of group) {
    if (g.bytes.buffer !== buffer) return undefined;
    start = Math.min(start, g.bytes.byteOffset);
    end = Math.max(end, g.bytes.byteOffset + g.bytes.length);
  }
  const offsets = Uint32Array.from(group, (g) => g.bytes.byteOffset - start);
  const lengths = Uint32Array.from(group, (g) => g.bytes.length);
  return { packed: new Uint8Array(buffer, start, end - start), offsets, lengths };
}

/** Options of {@link BatchPool}. */
export interface BatchPoolOptions {
  readonly threads: number;
  readonly heapLimitBytes: number;
  /** Evaluation keys every worker loads at start (a single-key-set server); omit when tasks carry their keys. */
  readonly evalKeys?: Uint8Array;
  /** Key sets each worker keeps loaded when tasks carry their keys (least recently used first out). */
  readonly keySetsPerWorker?: number;
}

/**
 * A piscina pool of `worker.ts` threads with reusable staging buffers.
 * @example
 * ```ts
 * const pool = new BatchPool({ threads: 2, heapLimitBytes: DEFAULT_HEAP_LIMIT_BYTES, evalKeys });
 * const outs = await pool.run(model.id, model.spec, batches);
 * await pool.close();
 * ```
 */
export class BatchPool {
  readonly threads: number;
  readonly #options: BatchPoolOptions;
  #pool: TaskPool | undefined;
  /** Reusable task buffers shared with the workers (each in use by at most one task). */
  #staging: SharedArrayBuffer[] = [];
  #closed = false;

  constructor(options: BatchPoolOptions) {
    this.threads = options.threads;
    this.#options = options;
  }

  #poolFor(): TaskPool {
    if (this.#closed) throw new Error('this worker pool is closed');
    if (this.#pool === undefined) {
      const url = siblingModuleUrl(import.meta.url, './worker');
      const pool = platform.startPool({
        filename: url.href,
        threads: this.threads,
        workerData: {
          evalKeys: this.#options.evalKeys,
          heapLimitBytes: this.#options.heapLimitBytes,
          keySetsPerWorker: this.#options.keySetsPerWorker ?? 4,
        },
        // Only the flags a worker needs: the parent's own flags (e.g. --expose-gc) are refused in workers.
        execArgv: workerExecArgv(url),
      });
      if (pool === undefined) throw new Error(`worker pools need Node's worker_threads (${platform.runtime()})`);
      this.#pool = pool;
    }
    return this.#pool;
  }

  /**
   * Runs `count` copies of a warm-up task at once (one per worker) and throws the first error.
   * @example
   * ```ts
   * await pool.warmup({ warmup: [], workMs: 500 });
   * ```
   */
  async warmup(task: WarmupTask): Promise<void> {
    const pool = this.#poolFor();
    // One task per worker: each keeps its worker busy for workMs, so piscina hands the next to an idle one.
    const replies = await Promise.all(Array.from({ length: this.threads }, () => pool.run(task) as Promise<WorkerReply>));
    for (const r of replies) if ('error' in r) throw deserializeError(r.error, { HeFormatError });
  }

  /**
   * Runs batches on the pool and returns their outputs in order. Each task is a few batches (one batch of 30
   * ciphertexts for the column layout) copied into a staging buffer shared with the workers; at most two tasks
   * per thread are in flight per call, so copying the next task overlaps the evaluation of the current ones,
   * both workers start within milliseconds, and the batches are shared out as workers free up (no fixed split).
   * Staging buffers are `SharedArrayBuffer`s reused across tasks and requests: a fresh buffer costs page faults on
   * every byte, and a buffer transferred back and forth makes each thread account it as new external memory,
   * which triggers extra garbage collections (measured: 60-110 ms of GC-thread CPU per 8-batch request, 5-20 ms
   * with shared buffers). A buffer is handed to one task at a time and taken back only after its reply.
   * @example
   * ```ts
   * const outs = await pool.run('m0', spec, batches, { id: 'k1', evalKeys });
   * ```
   */
  async run(modelId: string, spec: ModelSpec, batches: UncheckedBytes[][], keySet?: KeySetRef): Promise<Uint8Array[]> {
    const pool = this.#poolFor();
    const perBatch = batches[0].length;
    const size = taskSize(batches.length, perBatch, this.threads);
    const tasks: UncheckedBytes[][] = [];
    for (let b = 0; b < batches.length; b += size) tasks.push(batches.slice(b, b + size).flat());
    const results: Uint8Array[][] = new Array<Uint8Array[]>(tasks.length);
    let next = 0;
    let failedAt = tasks.length;
    let failure: unknown;
    const fail = (index: number, e: unknown): void => {
      if (index < failedAt) {
        failedAt = index;
        failure = e;
      }
    };
    const lane = async (): Promise<void> => {
      while (next < failedAt && next < tasks.length) {
        const index = next++;
        const group = tasks[index];
        const crcs = Uint32Array.from(group, (g) => g.crc);
        const inPlace = sharedRegion(group);
        let staging: SharedArrayBuffer | undefined;
        let task: WorkerTask;
        let transferList: ArrayBuffer[];
        if (inPlace !== undefined) {
          // The ciphertexts already sit in shared memory (a request body the caller keeps until this resolves):
          // the worker reads them where they are, no copy.
          task = { modelId, spec, packed: inPlace.packed, offsets: inPlace.offsets, lengths: inPlace.lengths, crcs, perBatch, keySet };
          transferList = [inPlace.offsets.buffer as ArrayBuffer, inPlace.lengths.buffer as ArrayBuffer, crcs.buffer as ArrayBuffer];
        } else {
          staging = this.#takeStaging(group.reduce((n, g) => n + g.bytes.length, 0));
          const { packed, offsets } = pack(
            group.map((g) => g.bytes),
            staging,
          );
          task = { modelId, spec, packed, offsets, crcs, perBatch, keySet };
          transferList = [offsets.buffer as ArrayBuffer, crcs.buffer as ArrayBuffer];
        }
        try {
          const r = (await pool.run(task, { transferList })) as WorkerReply;
          // The worker has replied, so it no longer reads the buffer (if the run rejects, the buffer is dropped).
          if (staging !== undefined) this.#giveStaging(staging);
          if ('error' in r) fail(index, deserializeError(r.error, { HeFormatError }));
          else results[index] = unpack(r.packed, r.offsets);
        } catch (e) {
          fail(index, e);
        }
      }
    };
    const lanes = Math.min(tasks.length, 2 * this.threads);
    await Promise.all(Array.from({ length: lanes }, lane));
    if (failedAt < tasks.length) throw failure;
    return results.flat();
  }

  #takeStaging(bytes: number): SharedArrayBuffer {
    const free = this.#staging;
    for (let i = free.length - 1; i >= 0; i--) {
      if (free[i].byteLength >= bytes) return free.splice(i, 1)[0];
    }
    return new SharedArrayBuffer(bytes);
  }

  #giveStaging(buffer: SharedArrayBuffer): void {
    if (this.#closed || buffer.byteLength === 0) return;
    const free = this.#staging;
    free.push(buffer);
    // Keep the largest few: two per thread covers every task in flight.
    if (free.length > 2 * this.threads) {
      free.sort((a, b) => b.byteLength - a.byteLength);
      free.length = 2 * this.threads;
    }
  }

  /**
   * Stops the workers (after the tasks they are running); idempotent.
   * @example
   * ```ts
   * await pool.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#staging = [];
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) await pool.destroy();
  }
}
