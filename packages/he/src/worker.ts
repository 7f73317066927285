/**
 * Worker-thread entry of the server's piscina pool. Each worker is its own WebAssembly instance: it builds the
 * context and loads the evaluation keys once (from `workerData`), compiles each model once (keeping a few, least
 * recently used first out), and evaluates the batches it is given. Large buffers are never cloned: a task's
 * ciphertexts arrive in a `SharedArrayBuffer` that the server reuses once the reply is in (see
 * `HeServer.runParallel`), and the packed outputs are transferred back. Errors go back as `SerializedError` so
 * that `HeFormatError` keeps its class across the thread boundary.
 * @module
 */
import { workerData } from 'node:worker_threads';
import { platform } from '#platform';
import { type SerializedError, serializeError } from '@ppml/core';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { CompiledModel, type LoadedKeys, loadEvaluationKeys } from './engine.ts';
import { type ModelSpec, linearSpec, logisticSpec } from './models.ts';
import { DEFAULT_HEAP_LIMIT_BYTES, assertHeapBelow, sealCall, wasmHeapBytes } from './seal.ts';
import type { UncheckedBytes } from './wire.ts';

/**
 * A task: batches packed into one buffer, `offsets[i]..offsets[i+1]` is ciphertext i with CRC-32 `crcs[i]`
 * (checked in the worker); `perBatch` ciphertexts per batch. `packed` may be a view of the front of a larger,
 * shared buffer that the worker only reads until it replies.
 */
export interface WorkerTask {
  readonly modelId: string;
  readonly spec: ModelSpec;
  readonly packed: Uint8Array;
  readonly offsets: Uint32Array;
  readonly crcs: Uint32Array;
  readonly perBatch: number;
  /**
   * When present, ciphertext i is `packed[offsets[i] .. offsets[i] + lengths[i]]` (views into a request body held
   * in shared memory, with the wire format's length/CRC fields between them) rather than back to back.
   */
  readonly lengths?: Uint32Array;
  /** The key set to evaluate under, when the pool serves several (the service); else the pool's own keys. */
  readonly keySet?: KeySetRef;
}

/**
 * A key set named by a task: its id and its evaluation-keys message (a view of shared memory, so sending it
 * with every task copies nothing; a worker loads it only when it does not hold that id already).
 */
export interface KeySetRef {
  readonly id: string;
  readonly evalKeys: Uint8Array;
}

/**
 * A warm-up request: compile these models (or a small default circuit when there are none) and evaluate them
 * for about `workMs` milliseconds on throwaway encryptions, so that the WebAssembly code is tiered up and the
 * model constants are encoded before the first real request.
 */
export interface WarmupTask {
  readonly warmup: readonly { readonly modelId: string; readonly spec: ModelSpec }[];
  readonly workMs: number;
  /** Warm up under this key set instead of the pool's own keys. */
  readonly keySet?: KeySetRef;
}

/** A reply: output ciphertexts packed the same way (transferred, not cloned), or an error. */
export type WorkerReply =
  | { readonly packed: Uint8Array; readonly offsets: Uint32Array; readonly heapBytes: number }
  | { readonly error: SerializedError };

const MAX_MODELS = 8;
let keys: Promise<LoadedKeys> | undefined;
const models = new Map<string, CompiledModel>();
/** Key sets named by tasks, least recently used first. */
const keySets = new Map<string, Promise<LoadedKeys>>();

/** The keys of a task: the pool's own, or the task's key set (loaded once, kept while recently used). */
async function keysFor(task: WorkerTask | WarmupTask, data: WorkerData): Promise<{ k: LoadedKeys; prefix: string }> {
  const ref = 'keySet' in task ? task.keySet : undefined;
  if (ref === undefined) {
    if (data.evalKeys === undefined) throw new Error('this pool has no keys of its own: tasks must name a key set');
    keys ??= loadEvaluationKeys(data.evalKeys);
    return { k: await keys, prefix: '' };
  }
  let p = keySets.get(ref.id);
  if (p === undefined) {
    p = loadEvaluationKeys(ref.evalKeys);
    keySets.set(ref.id, p);
    p.catch(() => keySets.delete(ref.id));
    const limit = Math.max(1, data.keySetsPerWorker ?? 4);
    while (keySets.size > limit) {
      const [oldId, old] = keySets.entries().next().value as [string, Promise<LoadedKeys>];
      keySets.delete(oldId);
      // Models compiled under the evicted keys go first: they hold its relinearisation keys.
      for (const [id, m] of models) {
        if (id.startsWith(`${oldId}/`)) {
          models.delete(id);
          m.dispose();
        }
      }
      old.then(
        (k) => k.dispose(),
        () => undefined,
      );
    }
  } else {
    keySets.delete(ref.id);
    keySets.set(ref.id, p);
  }
  return { k: await p, prefix: `${ref.id}/` };
}

interface WorkerData {
  evalKeys?: Uint8Array;
  heapLimitBytes?: number;
  keySetsPerWorker?: number;
}

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
export function pack(parts: readonly Uint8Array[], into?: ArrayBufferLike): { packed: Uint8Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i] + parts[i].length;
  const total = offsets[parts.length];
  if (into !== undefined && into.byteLength < total) {
    throw new RangeError(`pack needs a buffer of at least ${total} bytes, got ${into.byteLength}`);
  }
  const packed = into === undefined ? new Uint8Array(total) : new Uint8Array(into, 0, total);
  for (let i = 0; i < parts.length; i++) packed.set(parts[i], offsets[i]);
  return { packed, offsets };
}

/**
 * Marks `value` so that piscina transfers `buffers` (moves them, leaving them detached here) instead of cloning
 * them when the value crosses the thread boundary, in either direction.
 * @example
 * ```ts
 * return moving({ packed, offsets }, [packed.buffer, offsets.buffer]);
 * ```
 */
export function moving<T extends object>(value: T, buffers: readonly ArrayBuffer[]): T {
  // piscina concatenates the transferable list into postMessage's transfer list and posts the value itself.
  return move({ [transferableSymbol]: [...new Set(buffers)], [valueSymbol]: value }) as unknown as T;
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
 * Evaluates the models of a {@link WarmupTask} on inputs encrypted under a throwaway secret key made here (the
 * outputs are meaningless and dropped: only the code paths, the tiered-up WebAssembly and the encoded constants
 * matter). Every SEAL object is freed before returning.
 */
function warm(k: LoadedKeys, task: WarmupTask, prefix: string): void {
  const ctx = k.ctx;
  const seal = ctx.seal;
  const features = k.features ?? 4;
  // ‖w‖₁·inputBound = 4: inside poly3's range for every input the keys accept.
  const weights = new Array<number>(features).fill(4 / (features * k.plan.inputBound));
  const targets = task.warmup.map((m) => model(k, prefix + m.modelId, m.spec));
  const defaultSpec = (): ModelSpec =>
    k.plan.depth >= 3
      ? logisticSpec({ weights, bias: 0, sigmoid: 'poly3', featureBounds: k.plan.inputBound })
      : linearSpec({ weights, bias: 0 });
  const fallback = targets.length === 0 ? new CompiledModel(k, defaultSpec()) : undefined;
  const runs = fallback === undefined ? targets : [fallback];
  const width = (m: CompiledModel): number => (m.dataLayout === 'column' ? m.spec.layers[0].inputs : 1);
  const made: { delete(): void }[] = [];
  try {
    const keygen = new seal.KeyGenerator(ctx.context);
    made.push(keygen);
    const sk = keygen.secretKey();
    made.push(sk);
    const pk = keygen.createPublicKey();
    made.push(pk);
    const encryptor = new seal.Encryptor(ctx.context, pk, sk);
    made.push(encryptor);
    const pt = new seal.Plaintext();
    made.push(pt);
    const values = new Float64Array(ctx.slots);
    // Distinct encryptions (fresh randomness each), so no weighted sum of them can cancel to a transparent zero.
    const inputs: UncheckedBytes[] = [];
    for (let j = 0; j < Math.max(...runs.map(width)); j++) {
      for (let i = 0; i < values.length; i++) values[i] = 0.5 * Math.cos(0.001 * i * (j + 1) + j);
      sealCall('encoding warm-up values', () => ctx.encoder.encode(values, ctx.scale, pt));
      const s = sealCall('encrypting warm-up values', () => encryptor.encryptSymmetricSerializable(pt));
      made.push(s);
      const bytes = s.saveToArray(seal.ComprModeType.none) as Uint8Array;
      inputs.push({ bytes, crc: platform.crc32(bytes) });
    }
    const until = performance.now() + task.workMs;
    do {
      for (const m of runs) m.evaluateBatch(inputs.slice(0, width(m)));
    } while (performance.now() < until);
  } finally {
    for (const o of made.reverse()) o.delete();
    fallback?.dispose();
  }
}

/**
 * Runs one task (piscina calls the default export); the reply's buffers are transferred, not cloned.
 * @example
 * ```ts
 * const reply = await pool.run(task, { transferList: [task.offsets.buffer, task.crcs.buffer] });
 * ```
 */
export default async function run(task: WorkerTask | WarmupTask): Promise<WorkerReply> {
  try {
    const data = workerData as WorkerData;
    assertHeapBelow(data.heapLimitBytes ?? DEFAULT_HEAP_LIMIT_BYTES);
    const { k, prefix } = await keysFor(task, data);
    if ('warmup' in task) {
      warm(k, task, prefix);
      return { packed: new Uint8Array(0), offsets: new Uint32Array(1), heapBytes: wasmHeapBytes() };
    }
    const m = model(k, prefix + task.modelId, task.spec);
    const lengths = task.lengths;
    const parts =
      lengths === undefined
        ? unpack(task.packed, task.offsets)
        : Array.from(lengths, (n, i) => task.packed.subarray(task.offsets[i], task.offsets[i] + n));
    const inputs = parts.map((bytes, i) => ({ bytes, crc: task.crcs[i] }));
    const outs: Uint8Array[] = [];
    for (let i = 0; i < inputs.length; i += task.perBatch) outs.push(...m.evaluateBatch(inputs.slice(i, i + task.perBatch)));
    const { packed, offsets } = pack(outs);
    const reply = { packed, offsets, heapBytes: wasmHeapBytes() };
    return moving(reply, [packed.buffer as ArrayBuffer, offsets.buffer as ArrayBuffer]);
  } catch (e) {
    return { error: serializeError(e) };
  }
}
