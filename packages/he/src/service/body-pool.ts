/**
 * Request bodies received straight into reused `SharedArrayBuffer`s. An encrypted batch is megabytes; buffering it
 * the usual way (chunks, then one concatenation into fresh memory) and then copying it into a worker's staging
 * buffer cost about 40 ms of main-thread time per 7.9 MB batch in page faults, copies and garbage collection
 * (measured with a CPU profile of the service). Here each chunk is copied once, into memory the worker threads
 * read in place, and the memory is reused by later requests. A body is held by a lease: the request holds it
 * until its reply is sent, the workers until they are done with its ciphertexts.
 * @module
 */

const MiB = 2 ** 20;

/** A body in shared memory and its reference count. */
export interface BodyLease {
  readonly bytes: Uint8Array;
  retain(): void;
  release(): void;
}

/**
 * Reusable shared buffers for request bodies.
 * @example
 * ```ts
 * const pool = new BodyPool(8);
 * const lease = pool.lease(contentLength);
 * ```
 */
export class BodyPool {
  readonly keep: number;
  #free: SharedArrayBuffer[] = [];

  constructor(keep: number) {
    this.keep = keep;
  }

  /** A lease on `length` bytes (reference count 1). */
  lease(length: number): BodyLease {
    let buffer: SharedArrayBuffer | undefined;
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const b = this.#free[i];
      if (b.byteLength >= length && (best < 0 || b.byteLength < this.#free[best].byteLength)) best = i;
    }
    if (best >= 0) buffer = this.#free.splice(best, 1)[0];
    // Small bodies (errors, registrations of small keys) get their own memory; large ones round up to a MiB so
    // that batches of similar size share buffers.
    buffer ??= new SharedArrayBuffer(length < MiB ? Math.max(length, 1) : Math.ceil(length / MiB) * MiB);
    const shared = buffer;
    let refs = 1;
    return {
      bytes: new Uint8Array(shared, 0, length),
      retain: () => {
        refs++;
      },
      release: () => {
        if (--refs === 0) this.#give(shared);
      },
    };
  }

  #give(b: SharedArrayBuffer): void {
    if (b.byteLength < MiB) return;
    this.#free.push(b);
    if (this.#free.length > this.keep) {
      this.#free.sort((x, y) => y.byteLength - x.byteLength);
      this.#free.length = this.keep;
    }
  }

  /** Drops the free buffers. */
  clear(): void {
    this.#free = [];
  }
}
