/**
 * Worker-thread entry of the server's piscina pool. Each worker is its own WebAssembly instance: it builds the
 * context and loads the evaluation keys once (from `workerData`), compiles each model once (keeping a few, least
 * recently used first out), and evaluates the batches it is given. Errors go back as `SerializedError` so that
 * `HeFormatError` keeps its class across the thread boundary.
 * @module
 */
import { workerData } from 'node:worker_threads';
import { type SerializedError, serializeError } from '@ppml/core';
import { CompiledModel, type LoadedKeys, loadEvaluationKeys } from './engine.ts';
import type { ModelSpec } from './models.ts';
import { DEFAULT_HEAP_LIMIT_BYTES, assertHeapBelow, wasmHeapBytes } from './seal.ts';

/**
 * A task: batches packed into one buffer, `offsets[i]..offsets[i+1]` is ciphertext i with CRC-32 `crcs[i]`
 * (checked in the worker); `perBatch` ciphertexts per batch.
 */
export interface WorkerTask {
  readonly modelId: string;
  readonly spec: ModelSpec;
  readonly packed: Uint8Array;
  readonly offsets: Uint32Array;
  readonly crcs: Uint32Array;
  readonly perBatch: number;
}

/** A reply: output ciphertexts packed the same way, or an error. */
export type WorkerReply =
  | { readonly packed: Uint8Array; readonly offsets: Uint32Array; readonly heapBytes: number }
  | { readonly error: SerializedError };

const MAX_MODELS = 8;
let keys: Promise<LoadedKeys> | undefined;
const models = new Map<string, CompiledModel>();

function model(k: LoadedKeys, id: string, spec: ModelSpec): CompiledModel {
  let m = models.get(id);
  if (m !== undefined) {
    models.delete(id);
    models.set(id, m);
    return m;
  }
  m = new CompiledModel(k, spec);
  models.set(id, m);
  if (models.size > MAX_MODELS) {
    const [oldId, old] = models.entries().next().value as [string, CompiledModel];
    models.delete(oldId);
    old.dispose();
  }
  return m;
}

/**
 * Packs byte strings into one buffer with offsets.
 * @example
 * ```ts
 * const { packed, offsets } = pack([a, b]);
 * ```
 */
export function pack(parts: readonly Uint8Array[]): { packed: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i] + parts[i].length;
  const packed = new Uint8Array(offsets[parts.length]);
  parts.forEach((p, i) => packed.set(p, offsets[i]));
  return { packed, offsets };
}

/**
 * Views of the parts of a packed buffer.
 * @example
 * ```ts
 * const parts = unpack(packed, offsets);
 * ```
 */
export function unpack(packed: Uint8Array, offsets: Uint32Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < offsets.length; i++) out.push(packed.subarray(offsets[i], offsets[i + 1]));
  return out;
}

/**
 * Runs one task (piscina calls the default export).
 * @example
 * ```ts
 * const reply = await pool.run({ modelId, spec, packed, offsets, perBatch: 30 });
 * ```
 */
export default async function run(task: WorkerTask): Promise<WorkerReply> {
  try {
    const data = workerData as { evalKeys: Uint8Array; heapLimitBytes?: number };
    assertHeapBelow(data.heapLimitBytes ?? DEFAULT_HEAP_LIMIT_BYTES);
    keys ??= loadEvaluationKeys(data.evalKeys);
    const k = await keys;
    const m = model(k, task.modelId, task.spec);
    const inputs = unpack(task.packed, task.offsets).map((bytes, i) => ({ bytes, crc: task.crcs[i] }));
    const outs: Uint8Array[] = [];
    for (let i = 0; i < inputs.length; i += task.perBatch) outs.push(...m.evaluateBatch(inputs.slice(i, i + task.perBatch)));
    const { packed, offsets } = pack(outs);
    return { packed, offsets, heapBytes: wasmHeapBytes() };
  } catch (e) {
    return { error: serializeError(e) };
  }
}
