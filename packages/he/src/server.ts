/**
 * The server side of encrypted inference. It loads the client's public evaluation keys (it never holds a secret
 * key), builds models from plain weights or JSON, and evaluates encrypted rows into encrypted scores. Large
 * requests are sharded by batch across a piscina pool of worker threads, each of which builds the context and
 * loads the keys once (SEAL is single-threaded; its maintainers advise application-level threads, SEAL issue 245).
 * Replies are switched down to the lowest level that can hold the outputs (level 0 for probabilities), which
 * makes them small (16 bytes per sample and remaining prime: 32 bytes at level 0, 64 at level 1, whatever N) and
 * removes the unused part of the modulus, as SEAL's security notes recommend. Every key and ciphertext from a
 * peer is checked before use (`seal-object.ts`). There is no circuit privacy: the reply's noise may reveal something about the
 * weights (SEAL `SECURITY.md`).
 * @module
 */
import { assertInteger, assertOptions } from '@ppml/core';
import { platform } from '#platform';
import { BatchPool } from './batch-pool.ts';
import { CompiledModel, type LoadedKeys, loadEvaluationKeys } from './engine.ts';
import { HeContext } from './context.ts';
import { HeFormatError } from './errors.ts';
import { type Layout, readRows, rowBlockWidth, writeScores } from './layout.ts';
import {
  type ImportOptions,
  type LinearWeights,
  type LogisticOptions,
  type MlpOptions,
  type ModelLayout,
  type ModelSpec,
  linearSpec,
  logisticSpec,
  mlpSpec,
  specFromJSON,
} from './models.ts';
import { type CkksPlan, describePlan } from './planner.ts';
import { CkksOps } from './evaluate.ts';
import { assertHeapBelow, checkHeapLimit, sealCall } from './seal.ts';
import { checkCiphertext, checkSealHeader } from './seal-object.ts';
import { EncryptedVector, readVector } from './vector.ts';
import { type UncheckedBytes, WireKind, openMessage } from './wire.ts';

/** Options of {@link HeServer.create}. */
export interface HeServerOptions {
  /** Worker threads for requests of two or more batches; default: available cores. 1 = evaluate inline only. */
  threads?: number;
  /** Soft cap on the SEAL heap of the main thread and of each worker, in bytes (default 3 GiB). */
  heapLimitBytes?: number;
}

let nextModelId = 0;

/** Milliseconds of throwaway evaluation per worker in {@link HeServer.warmup}. */
const WARMUP_MS = 500;

/**
 * Evaluates models on encrypted rows with the client's evaluation keys.
 * @example
 * ```ts
 * const server = await HeServer.create(evalKeys);
 * const model = server.logisticRegression({ weights, bias });
 * const encScores = await model.predict(encRows);
 * await server.close();
 * ```
 */
export class HeServer implements AsyncDisposable, Disposable {
  readonly plan: CkksPlan;
  readonly layout: Layout;
  readonly threads: number;
  readonly heapLimitBytes: number;
  readonly #keys: LoadedKeys;
  readonly #models = new Set<HeModel>();
  readonly #pool: BatchPool;
  #vectorOps: CkksOps | undefined;
  #closed = false;

  private constructor(keys: LoadedKeys, evalKeys: Uint8Array, threads: number, heapLimitBytes: number) {
    if (keys === null || typeof keys !== 'object' || !(keys.ctx instanceof HeContext)) {
      throw new TypeError('HeServer has no public constructor: use HeServer.create(evalKeys, options)');
    }
    this.#keys = keys;
    this.plan = keys.plan;
    this.layout = keys.layout;
    this.threads = threads;
    this.heapLimitBytes = heapLimitBytes;
    this.#pool = new BatchPool({ threads, heapLimitBytes, evalKeys });
  }

  /**
   * Loads evaluation keys from {@link HeClient.exportEvaluationKeys}; throws {@link HeFormatError} for bad bytes.
   * @example
   * ```ts
   * const server = await HeServer.create(evalKeys, { threads: 2 });
   * ```
   */
  static async create(evalKeys: Uint8Array, options: HeServerOptions = {}): Promise<HeServer> {
    assertOptions('options', options as unknown, ['threads', 'heapLimitBytes']);
    const threads = options.threads ?? Math.min(platform.cores(), 8);
    assertInteger('threads', threads, 1, 64);
    const heap = checkHeapLimit(options.heapLimitBytes);
    const keys = await loadEvaluationKeys(evalKeys);
    return new HeServer(keys, evalKeys.slice(), threads, heap);
  }

  /** One line describing the parameters of the loaded keys. */
  describe(): string {
    return `${describePlan(this.plan)}, ${this.layout} layout`;
  }

  #open(): LoadedKeys {
    if (this.#closed) throw new Error('this HeServer is closed');
    return this.#keys;
  }

  #add(spec: ModelSpec): HeModel {
    const m = new HeModel(this, this.#open(), spec, (x) => this.#models.delete(x));
    this.#models.add(m);
    return m;
  }

  /**
   * A linear regression w·x + b (scores returned as they are).
   * @example
   * ```ts
   * const model = server.linear({ weights: [0.5, -1, 2], bias: 0.25 });
   * ```
   */
  linear(weights: LinearWeights): HeModel {
    return this.#add(linearSpec(weights));
  }

  /**
   * A logistic regression. By default (`sigmoid: 'client'`) the server computes z = w·x + b and the client applies
   * the exact sigmoid after decryption (depth 1). A server-side polynomial (`'poly3'`: 0.5 + 0.197z − 0.004z³ on
   * [−5, 5]; `{ degree, range }`: fitted on a range you declare) needs `featureBounds`, and the model is refused
   * unless every z those bounds allow lies in the polynomial's range (beyond it the label can flip).
   * @example
   * ```ts
   * const model = server.logisticRegression({ weights, bias });
   * const poly = server.logisticRegression({ weights, bias, sigmoid: { degree: 3, range: 8 }, featureBounds: 2 });
   * ```
   */
  logisticRegression(options: LogisticOptions): HeModel {
    return this.#add(logisticSpec(options));
  }

  /**
   * An MLP with polynomial hidden activations (`'square'`, or a named function approximated on a declared range).
   * @example
   * ```ts
   * const model = server.mlp({ layers, activation: { approximate: 'tanh', degree: 3, range: 3 } });
   * ```
   */
  mlp(options: MlpOptions): HeModel {
    return this.#add(mlpSpec(options));
  }

  /**
   * A model from plain JSON, including `@ppml/dp`'s `model.toJSON()` output (relu/tanh MLPs need
   * `activationRange`; logistic regression defaults to `sigmoid: 'client'`).
   * @example
   * ```ts
   * const model = server.fromJSON(dpModel.toJSON(), { activationRange: 4 });
   * ```
   */
  fromJSON(json: unknown, options?: ImportOptions): HeModel {
    return this.#add(specFromJSON(json, options));
  }

  /**
   * Loads an encrypted vector (from `client.encryptVector` or `EncryptedVector.toBytes`) for custom
   * computations; dispose it when done.
   * @example
   * ```ts
   * using v = server.vector(encVector);
   * using y = v.square();
   * const reply = y.toBytes();
   * ```
   */
  vector(encVector: Uint8Array): EncryptedVector {
    const keys = this.#open();
    const ctx = keys.ctx;
    const { length, ciphertext } = readVector(encVector, ctx.parameterHash, keys.keyId, ctx.slots);
    this.#vectorOps ??= new CkksOps(ctx, keys.relinKeys, keys.galoisKeys);
    const ct = new ctx.seal.Ciphertext();
    try {
      checkSealHeader(ciphertext, 'encVector');
      sealCall('loading a vector ciphertext', () => ct.loadFromArray(ctx.context, ciphertext), true);
      checkCiphertext(ct, ctx, 'encVector');
    } catch (e) {
      ct.delete();
      throw e;
    }
    return new EncryptedVector({ ops: this.#vectorOps, keyId: keys.keyId }, ct, length);
  }

  /**
   * Starts the worker pool, loads the keys in every worker (about 0.5 s each, in parallel), encodes the constants
   * of this server's current models there and evaluates them for about half a second on throwaway encryptions
   * (under a key made for the purpose; nothing is kept), so that the first real request runs on tiered-up
   * WebAssembly instead of paying 30-50% more. Create the models first to have them warmed too.
   * @example
   * ```ts
   * const model = server.logisticRegression({ weights, bias });
   * await server.warmup();
   * ```
   */
  async warmup(): Promise<void> {
    if (this.threads < 2) return;
    this.#open();
    await this.#pool.warmup({
      warmup: [...this.#models].map((m) => ({ modelId: m.id, spec: m.spec })),
      workMs: WARMUP_MS,
    });
  }

  /** @internal Runs batches on the worker pool (see `BatchPool.run`) and returns their outputs in order. */
  async runParallel(modelId: string, spec: ModelSpec, batches: UncheckedBytes[][]): Promise<Uint8Array[]> {
    this.#open();
    return this.#pool.run(modelId, spec, batches);
  }

  /**
   * Frees the keys and all models and stops the workers; idempotent.
   * @example
   * ```ts
   * await server.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const m of [...this.#models]) m.dispose();
    this.#vectorOps?.dispose();
    this.#keys.dispose();
    await this.#pool.close();
  }

  /** Synchronous close (the worker pool is stopped in the background). */
  dispose(): void {
    void this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * A model held by a {@link HeServer}: encrypted rows in, encrypted scores out.
 * @example
 * ```ts
 * const encScores = await model.predict(encRows);
 * model.dispose();
 * ```
 */
export class HeModel implements Disposable {
  readonly spec: ModelSpec;
  /** Depth used, output level, reply level and the worst-case output bound. */
  readonly layout: ModelLayout;
  readonly #server: HeServer;
  readonly #keys: LoadedKeys;
  readonly #compiled: CompiledModel;
  readonly #id: string;
  readonly #onDispose: (m: HeModel) => void;
  #disposed = false;

  /** @internal Use the factory methods of {@link HeServer}. */
  constructor(server: HeServer, keys: LoadedKeys, spec: ModelSpec, onDispose: (m: HeModel) => void) {
    if (!(server instanceof HeServer)) {
      throw new TypeError('HeModel has no public constructor: use server.linear, server.logisticRegression, server.mlp or server.fromJSON');
    }
    this.#server = server;
    this.#keys = keys;
    this.spec = spec;
    this.#compiled = new CompiledModel(keys, spec);
    this.layout = this.#compiled.layout;
    this.#id = `m${nextModelId++}`;
    this.#onDispose = onDispose;
  }

  /** @internal Key of this model's compiled copy in the worker threads. */
  get id(): string {
    return this.#id;
  }

  /** Number of input features. */
  get features(): number {
    return this.spec.layers[0].inputs;
  }

  /** Number of outputs per row. */
  get outputs(): number {
    return this.spec.layers[this.spec.layers.length - 1].outputs;
  }

  /** A one-line description: layers, polynomials and their ranges, depth. */
  describe(): string {
    const sizes = [this.spec.layers[0].inputs, ...this.spec.layers.map((l) => l.outputs)].join('→');
    const parts = [`${this.spec.kind} ${sizes}`, `depth ${this.layout.depth}`];
    if (this.spec.activation) parts.push(`hidden activation: ${this.spec.activation.description}`);
    if (this.spec.output) parts.push(`output: ${this.spec.output.description} (max error ${this.spec.output.maxError.toPrecision(3)})`);
    if (this.spec.post !== 'none') parts.push(`client applies ${this.spec.post}`);
    parts.push(`reply at level ${this.layout.replyLevel}`);
    return parts.join('; ');
  }

  /**
   * Evaluates the model on an encrypted-rows message; returns an encrypted-scores message. Requests of two or
   * more batches run on the worker pool when the server has more than one thread.
   * @example
   * ```ts
   * const encScores = await model.predict(client.encryptRows(rows));
   * ```
   */
  async predict(encRows: Uint8Array): Promise<Uint8Array> {
    if (this.#disposed) throw new Error('this model was disposed');
    const ctx = this.#keys.ctx;
    const { reader: r } = openMessage(encRows, WireKind.encryptedRows, ctx.parameterHash, this.#keys.keyId, 'encRows');
    const h = readRows(r, ctx.slots, 'encRows');
    if (h.layout !== this.#keys.layout) {
      throw new RangeError(`encRows use the ${h.layout} layout but the server's keys were made for the ${this.#keys.layout} layout`);
    }
    if (h.features !== this.features) {
      throw new RangeError(`encRows have ${h.features} features per row, but the model takes ${this.features}`);
    }
    assertHeapBelow(this.#server.heapLimitBytes);
    const batches: UncheckedBytes[][] = [];
    for (let b = 0; b < h.batches; b++) batches.push(h.ciphertexts.slice(b * h.perBatch, (b + 1) * h.perBatch));
    let outs: Uint8Array[];
    if (this.#server.threads > 1 && batches.length >= 2) {
      outs = await this.#server.runParallel(this.#id, this.spec, batches);
    } else {
      outs = [];
      for (const batch of batches) outs.push(...this.#compiled.evaluateBatch(batch));
    }
    return writeScores(ctx.parameterHash, this.#keys.keyId, {
      layout: h.layout,
      rows: h.rows,
      outputs: this.outputs,
      perCiphertext: h.perCiphertext,
      stride: h.layout === 'column' ? 1 : rowBlockWidth(h.features),
      post: this.spec.post,
      ciphertexts: outs,
    });
  }

  /**
   * Frees the encoded weights; idempotent.
   * @example
   * ```ts
   * model.dispose();
   * ```
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#compiled.dispose();
    this.#onDispose(this);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
