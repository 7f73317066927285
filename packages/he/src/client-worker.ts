/**
 * Worker-thread entry of the client's encryption pool ({@link HeClient.encryptRowsAsync}). Each worker restores
 * the client from its exported keys once (its own WebAssembly instance and context) and encrypts the rows it is
 * given, returning the serialised ciphertexts packed into one buffer together with their CRC-32s (computed here,
 * in parallel, rather than on the calling thread); the buffers are transferred back, not cloned.
 * @module
 */
import { workerData } from 'node:worker_threads';
import { platform } from '#platform';
import { type SerializedError, serializeError } from '@ppml/core';
import { HeClient } from './client.ts';
import { moving, pack } from './worker.ts';

/** Rows to encrypt: `rows` × `cols` values, row-major, already checked by the calling client. */
export interface EncryptTask {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** Serialised ciphertexts (`offsets[i]..offsets[i+1]`, CRC-32 `crcs[i]`), or an error. */
export type EncryptReply =
  | { readonly packed: Uint8Array; readonly offsets: Uint32Array; readonly crcs: Uint32Array }
  | { readonly error: SerializedError };

let client: Promise<HeClient> | undefined;

/**
 * Encrypts one task (piscina calls the default export).
 * @example
 * ```ts
 * const reply = await pool.run({ data, rows: 8192, cols: 30 });
 * ```
 */
export default async function encrypt(task: EncryptTask): Promise<EncryptReply> {
  try {
    client ??= HeClient.load((workerData as { clientKeys: Uint8Array }).clientKeys);
    const c = await client;
    const cts = c.encryptMatrix(task.data, task.rows, task.cols);
    const crcs = Uint32Array.from(cts, (ct) => platform.crc32(ct));
    const { packed, offsets } = pack(cts);
    const buffers = [packed.buffer as ArrayBuffer, offsets.buffer as ArrayBuffer, crcs.buffer as ArrayBuffer];
    return moving({ packed, offsets, crcs }, buffers);
  } catch (e) {
    return { error: serializeError(e) };
  }
}
