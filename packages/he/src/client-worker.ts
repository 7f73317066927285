/**
 * Worker-thread entry of the client's encryption pool ({@link HeClient.encryptRowsAsync}). Each worker restores
 * the client from its exported keys once (its own WebAssembly instance and context) and encrypts the rows it is
 * given, returning the serialised ciphertexts packed into one transferable buffer.
 * @module
 */
import { workerData } from 'node:worker_threads';
import { type SerializedError, serializeError } from '@ppml/core';
import { HeClient } from './client.ts';
import { pack } from './worker.ts';

/** Rows to encrypt: `rows` × `cols` values, row-major, already checked by the calling client. */
export interface EncryptTask {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** Serialised ciphertexts (`offsets[i]..offsets[i+1]`), or an error. */
export type EncryptReply = { readonly packed: Uint8Array; readonly offsets: Uint32Array } | { readonly error: SerializedError };

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
    return pack(c.encryptMatrix(task.data, task.rows, task.cols));
  } catch (e) {
    return { error: serializeError(e) };
  }
}
