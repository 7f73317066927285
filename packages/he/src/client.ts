/**
 * The client side of encrypted inference: it plans parameters, generates the keys, keeps the secret key, exports
 * only public evaluation keys (relinearisation keys, plus Galois keys for the rotation steps of the row layout),
 * encrypts rows and decrypts scores. Rows are encrypted with SEAL's seeded symmetric encryption (the second
 * polynomial of each fresh ciphertext is replaced by a PRNG seed, SEAL `Serializable<Ciphertext>`), which halves
 * uploads: 1,921 bytes per sample for 30 features at N = 8192 and depth 3.
 *
 * Security notes (SEAL `SECURITY.md`): CKKS decryptions must not be shown to the server or an adversary who
 * can query (IND-CPA-D attacks, Li and Micciancio 2021); SEAL's randomness comes from the operating system, not
 * from `@ppml/core`'s `Rng`, because SEAL samples keys and noise inside WebAssembly.
 * @module
 */
import {
  type Matrix,
  assertArrayLike,
  assertInteger,
  assertOptions,
  deserializeError,
  describeValue,
  randomBytes,
  siblingModuleUrl,
  toMatrix,
  workerExecArgv,
} from '@ppml/core';
import { type TaskPool, platform } from '#platform';
import type { EncryptReply, EncryptTask } from './client-worker.ts';
import type { Ciphertext, ComprModeType, Decryptor, Encryptor, KeyGenerator, Plaintext, PublicKey, SecretKey } from 'node-seal';
import { HeContext, acquireContext } from './context.ts';
import { HeFormatError } from './errors.ts';
import { type Layout, checkLayout, readScores, rowBlockWidth, rowRotations, writeRows } from './layout.ts';
import { applyPost } from './models.ts';
import { type CkksPlan, type PlanOptions, type PolyModulusDegree, describePlan, planFromJSON, planParameters } from './planner.ts';
import { assertHeapBelow, checkHeapLimit, sealCall } from './seal.ts';
import { checkCiphertext, checkSealHeader } from './seal-object.ts';
import { readVector, writeVector } from './vector.ts';
import { KEY_ID_BYTES, WireKind, WireWriter, equalBytes, openMessage } from './wire.ts';

/** SEAL's compression of serialised ciphertexts and keys. */
export type Compression = 'none' | 'zstd';

/** Form of uploaded ciphertexts: seeded (half size) or full (fastest for the server to load). */
export type Upload = 'seeded' | 'full';

/** Options of {@link HeClient.create}. */
export interface HeClientOptions extends Omit<PlanOptions, 'rotations' | 'polyModulusDegree'> {
  /** N; chosen by the planner when omitted (4096 for the default depth 1, 8192 for depth 2 or 3). */
  polyModulusDegree?: PolyModulusDegree;
  /** `'column'` (default, throughput, no rotations) or `'row'` (latency, needs `features`). */
  layout?: Layout;
  /** Number of features per row: required for the row layout, checked on every `encryptRows` when given. */
  features?: number;
  /** Compression of uploads and keys: `'none'` (default, fastest) or `'zstd'` (about 20% smaller, slower). */
  compression?: Compression;
  /**
   * `'seeded'` (default): symmetric encryption whose second polynomial is a PRNG seed, half the upload
   * (1.9 KB per sample for 30 features at N = 8192) but the server re-expands the seed when it loads the
   * ciphertext (1.4 ms instead of 0.2 ms per ciphertext on an idle core, about 40% of the server's work per
   * batch). `'full'`: twice the bytes, cheapest to load; use it when the server's CPU is the bottleneck.
   */
  upload?: Upload;
  /** Soft cap on this thread's SEAL heap, in bytes (default 3 GiB). */
  heapLimitBytes?: number;
  /** Worker threads for {@link HeClient.encryptRowsAsync} (default 1: encrypt on the calling thread). */
  threads?: number;
}

/** Keys of {@link HeClientOptions}. */
const CLIENT_KEYS = [
  'depth',
  'scaleBits',
  'precisionBits',
  'integerBits',
  'inputBound',
  'polyModulusDegree',
  'layout',
  'features',
  'compression',
  'upload',
  'heapLimitBytes',
  'threads',
] as const;

/** Options of {@link HeClient.load}. */
export interface HeClientLoadOptions {
  heapLimitBytes?: number;
  upload?: Upload;
  compression?: Compression;
  threads?: number;
}

/**
 * Largest number of values one `encryptRows` call takes (rows × features): 2^27 doubles are a 1 GiB matrix and
 * about 2 GiB of ciphertexts, checked before anything is allocated.
 */
const MAX_ENCRYPT_VALUES = 2 ** 27;

/**
 * Largest `features` for a plan: the row layout packs a sample in a block of at most N/2 slots; the column
 * layout holds one fresh ciphertext per feature of a batch at once (2·N·(depth + 1)·8 bytes each), which must fit
 * the heap limit.
 */
function maxFeatures(plan: CkksPlan, layout: Layout, heapLimitBytes: number): number {
  if (layout === 'row') return plan.slots;
  const perCiphertext = 2 * plan.polyModulusDegree * (plan.depth + 1) * 8;
  return Math.max(1, Math.floor(heapLimitBytes / perCiphertext));
}

function checkThreads(threads: unknown): number {
  const t = threads ?? 1;
  assertInteger('threads', t, 1, 64);
  return t;
}

interface Restored {
  plan: CkksPlan;
  layout: Layout;
  features: number | undefined;
  compression: Compression;
  upload: Upload;
  secretKey?: Uint8Array;
  keyId?: Uint8Array;
}

/**
 * Holds the keys, encrypts rows and decrypts scores.
 * @example
 * ```ts
 * const client = await HeClient.create({ inputBound: 8 });
 * const server = await HeServer.create(client.exportEvaluationKeys());
 * const model = server.logisticRegression({ weights, bias });
 * const scores = client.decryptScores(await model.predict(client.encryptRows(rows)));
 * client.close(); server.close();
 * ```
 */
export class HeClient implements Disposable {
  readonly plan: CkksPlan;
  readonly layout: Layout;
  readonly features: number | undefined;
  readonly compression: Compression;
  readonly upload: Upload;
  readonly heapLimitBytes: number;
  /** Worker threads used by {@link HeClient.encryptRowsAsync}. */
  readonly threads: number;
  /** Random id of this key set, carried by every message. */
  readonly keyId: Uint8Array;
  readonly #ctx: HeContext;
  readonly #keygen: KeyGenerator;
  readonly #secretKey: SecretKey;
  readonly #publicKey: PublicKey;
  readonly #encryptor: Encryptor;
  readonly #decryptor: Decryptor;
  readonly #plain: Plaintext;
  readonly #cipher: Ciphertext;
  readonly #column: Float64Array;
  #evalKeys: Uint8Array | undefined;
  #pool: TaskPool | undefined;
  #closed = false;

  private constructor(ctx: HeContext, r: Restored, heapLimitBytes: number, threads: number) {
    if (!(ctx instanceof HeContext))
      throw new TypeError('HeClient has no public constructor: use HeClient.create(options) or HeClient.load(clientKeys)');
    this.#ctx = ctx;
    this.threads = threads;
    this.plan = r.plan;
    this.layout = r.layout;
    this.features = r.features;
    this.compression = r.compression;
    this.upload = r.upload;
    this.heapLimitBytes = heapLimitBytes;
    this.keyId = r.keyId ?? randomBytes(KEY_ID_BYTES);
    const seal = ctx.seal;
    const made: { delete(): void }[] = [];
    try {
      if (r.secretKey === undefined) {
        this.#keygen = new seal.KeyGenerator(ctx.context);
        made.push(this.#keygen);
      } else {
        using sk = new seal.SecretKey();
        const bytes = r.secretKey;
        checkSealHeader(bytes, 'clientKeys');
        sealCall('loading the secret key', () => sk.loadFromArray(ctx.context, bytes), true);
        this.#keygen = new seal.KeyGenerator(ctx.context, sk);
        made.push(this.#keygen);
      }
      this.#secretKey = this.#keygen.secretKey();
      made.push(this.#secretKey);
      this.#publicKey = this.#keygen.createPublicKey();
      made.push(this.#publicKey);
      this.#encryptor = new seal.Encryptor(ctx.context, this.#publicKey, this.#secretKey);
      made.push(this.#encryptor);
      this.#decryptor = new seal.Decryptor(ctx.context, this.#secretKey);
      made.push(this.#decryptor);
      this.#plain = new seal.Plaintext();
      made.push(this.#plain);
      this.#cipher = new seal.Ciphertext();
    } catch (e) {
      for (const m of made.reverse()) m.delete();
      throw e;
    }
    this.#column = new Float64Array(ctx.slots);
  }

  /**
   * Plans parameters for `options` (depth 1 by default: N = 4096, scale 2^30; see `planParameters`), builds
   * (or reuses) the context and generates a fresh secret key.
   * @example
   * ```ts
   * const client = await HeClient.create({ inputBound: 8 }); // for the default models (depth 1)
   * const deep = await HeClient.create({ depth: 3, inputBound: 8 }); // for a server-side cubic sigmoid
   * ```
   */
  static async create(options: HeClientOptions = {}): Promise<HeClient> {
    assertOptions('options', options as unknown, CLIENT_KEYS);
    const layout = checkLayout(options.layout ?? 'column');
    const features = options.features;
    if (features !== undefined) assertInteger('features', features, 1, Number.MAX_SAFE_INTEGER);
    if (layout === 'row' && features === undefined)
      throw new RangeError("features is required for layout 'row' (it sets the rotation steps)");
    const compression = options.compression ?? 'none';
    if (compression !== 'none' && compression !== 'zstd')
      throw new RangeError(`compression must be 'none' or 'zstd', got ${describeValue(compression)}`);
    const upload = options.upload ?? 'seeded';
    if (upload !== 'seeded' && upload !== 'full') throw new RangeError(`upload must be 'seeded' or 'full', got ${describeValue(upload)}`);
    const heap = checkHeapLimit(options.heapLimitBytes);
    const { depth, scaleBits, precisionBits, integerBits, inputBound, polyModulusDegree } = options;
    const planOptions: PlanOptions = { depth, scaleBits, precisionBits, integerBits, inputBound, polyModulusDegree };
    for (const k of Object.keys(planOptions) as (keyof PlanOptions)[]) if (planOptions[k] === undefined) delete planOptions[k];
    // Bound features before rowRotations (or anything else) works with it.
    const base = planParameters(planOptions);
    if (features !== undefined && features > maxFeatures(base, layout, heap)) {
      throw new RangeError(
        layout === 'row'
          ? `features must be at most ${base.slots} for the row layout at N = ${base.polyModulusDegree}, got ${features}`
          : `features must be at most ${maxFeatures(base, layout, heap)} (one ${2 * base.polyModulusDegree * (base.depth + 1) * 8}-byte ciphertext per feature of a batch, ` +
              `within heapLimitBytes ${heap}), got ${features}`,
      );
    }
    const plan = layout === 'row' ? planParameters({ ...planOptions, rotations: rowRotations(features as number) }) : base;
    const threads = checkThreads(options.threads);
    const ctx = await acquireContext(plan);
    try {
      return new HeClient(ctx, { plan, layout, features, compression, upload }, heap, threads);
    } catch (e) {
      ctx.release();
      throw e;
    }
  }

  /**
   * Restores a client from {@link HeClient.exportClientKeys} (same secret key, same parameters); `upload` and
   * `compression` may be changed, since servers holding this key set accept either form.
   * @example
   * ```ts
   * const again = await HeClient.load(client.exportClientKeys());
   * ```
   */
  static async load(clientKeys: Uint8Array, options: HeClientLoadOptions = {}): Promise<HeClient> {
    assertOptions('options', options as unknown, ['heapLimitBytes', 'upload', 'compression', 'threads']);
    const heap = checkHeapLimit(options.heapLimitBytes);
    const threads = checkThreads(options.threads);
    const { header, reader: r } = openMessage(clientKeys, WireKind.clientKeys, undefined, undefined, 'clientKeys');
    const meta = r.json() as Record<string, unknown>;
    const secretKey = r.bytes();
    r.end();
    let plan: CkksPlan;
    try {
      plan = planFromJSON(meta.plan);
    } catch (e) {
      throw new HeFormatError('clientKeys hold an invalid parameter plan', { cause: e });
    }
    const layout = meta.layout === 'row' ? 'row' : 'column';
    const features = typeof meta.features === 'number' ? meta.features : undefined;
    if (features !== undefined && (!Number.isInteger(features) || features < 1 || features > maxFeatures(plan, layout, heap))) {
      throw new HeFormatError(`clientKeys name an impossible feature count ${features}`);
    }
    const compression = options.compression ?? (meta.compression === 'zstd' ? 'zstd' : 'none');
    const upload = options.upload ?? (meta.upload === 'full' ? 'full' : 'seeded');
    if (compression !== 'none' && compression !== 'zstd')
      throw new RangeError(`compression must be 'none' or 'zstd', got ${describeValue(compression)}`);
    if (upload !== 'seeded' && upload !== 'full') throw new RangeError(`upload must be 'seeded' or 'full', got ${describeValue(upload)}`);
    const ctx = await acquireContext(plan);
    try {
      if (!equalBytes(header.parameterHash, ctx.parameterHash)) {
        throw new HeFormatError('clientKeys were made under other encryption parameters', { reason: 'parameters' });
      }
      const keyId = header.keyId.slice();
      return new HeClient(ctx, { plan, layout, features, compression, upload, secretKey, keyId }, heap, threads);
    } catch (e) {
      ctx.release();
      throw e;
    }
  }

  #open(): HeContext {
    if (this.#closed) throw new Error('this HeClient is closed');
    return this.#ctx;
  }

  #compr(): ComprModeType {
    const seal = this.#ctx.seal;
    return this.compression === 'zstd' ? seal.ComprModeType.zstd : seal.ComprModeType.none;
  }

  /** The parameter hash carried by every message of this client (hex). */
  get parameterId(): string {
    return this.#ctx.id;
  }

  /** Slots per ciphertext (N / 2). */
  get slots(): number {
    return this.#ctx.slots;
  }

  /** One line describing the parameters. */
  describe(): string {
    return `${describePlan(this.plan)}, ${this.layout} layout`;
  }

  /**
   * The public evaluation keys for the server: parameters, seeded relinearisation keys and (row layout only)
   * Galois keys for the needed rotation steps. Contains no secret key. Cached after the first call.
   * @example
   * ```ts
   * const server = await HeServer.create(client.exportEvaluationKeys());
   * ```
   */
  exportEvaluationKeys(): Uint8Array {
    const ctx = this.#open();
    if (this.#evalKeys) return this.#evalKeys;
    const mode = this.#compr();
    const relin = (() => {
      using s = sealCall('creating relinearisation keys', () => this.#keygen.createRelinKeysSerializable());
      return s.saveToArray(mode) as Uint8Array;
    })();
    let galois: Uint8Array = new Uint8Array(0);
    if (this.plan.rotations.length > 0) {
      using g = sealCall('creating Galois keys', () =>
        this.#keygen.createGaloisKeysSerializableWithSteps(Int32Array.from(this.plan.rotations)),
      );
      galois = g.saveToArray(mode) as Uint8Array;
    }
    this.#evalKeys = new WireWriter()
      .json({ plan: this.plan, layout: this.layout, features: this.features ?? null })
      .bytes(relin)
      .bytes(galois)
      .finish(WireKind.evaluationKeys, ctx.parameterHash, this.keyId);
    return this.#evalKeys;
  }

  /**
   * Everything needed to restore this client, INCLUDING THE SECRET KEY: store it like a password, never send it
   * to the server.
   * @example
   * ```ts
   * writeFileSync('client.key', client.exportClientKeys(), { mode: 0o600 });
   * ```
   */
  exportClientKeys(): Uint8Array {
    const ctx = this.#open();
    const sk = this.#secretKey.saveToArray(this.#ctx.seal.ComprModeType.none) as Uint8Array;
    return new WireWriter()
      .json({ plan: this.plan, layout: this.layout, features: this.features ?? null, compression: this.compression, upload: this.upload })
      .bytes(sk)
      .finish(WireKind.clientKeys, ctx.parameterHash, this.keyId);
  }

  #checkValue(v: number, r: number, c: number): void {
    if (Math.abs(v) > this.plan.inputBound) {
      throw new RangeError(
        `rows[${r}][${c}] must be within the planned input range [-${this.plan.inputBound}, ${this.plan.inputBound}], got ${v}`,
      );
    }
  }

  #encryptInto(out: Uint8Array[]): void {
    const ctx = this.#ctx;
    sealCall('encoding', () => ctx.encoder.encode(this.#column, ctx.scale, this.#plain));
    if (this.upload === 'full') {
      sealCall('encrypting', () => this.#encryptor.encryptSymmetric(this.#plain, this.#cipher));
      out.push(this.#cipher.saveToArray(this.#compr()) as Uint8Array);
      return;
    }
    using s = sealCall('encrypting', () => this.#encryptor.encryptSymmetricSerializable(this.#plain));
    out.push(s.saveToArray(this.#compr()) as Uint8Array);
  }

  /**
   * Encrypts rows (all of the same width, finite, within ±inputBound) in the client's layout. Returns the wire
   * message to send to the server.
   * @example
   * ```ts
   * const enc = client.encryptRows([[0.1, 0.2], [0.3, -0.4]]);
   * ```
   */
  encryptRows(rows: ReadonlyArray<ArrayLike<number>>): Uint8Array {
    const m = this.#checkRows(rows);
    return this.#frame(m, this.encryptMatrix(m.data, m.rows, m.cols));
  }

  /**
   * {@link HeClient.encryptRows} on `threads` worker threads (the `threads` option of `create`/`load`) when the
   * rows span two or more batches; each worker restores this client's keys once. Same output bytes layout.
   * The secret key is copied into the workers, which run in this process. In a browser it encrypts on the
   * calling thread.
   * @example
   * ```ts
   * const client = await HeClient.create({ threads: 2 });
   * const enc = await client.encryptRowsAsync(rows);
   * ```
   */
  async encryptRowsAsync(rows: ReadonlyArray<ArrayLike<number>>): Promise<Uint8Array> {
    const m = this.#checkRows(rows);
    const per = this.layout === 'column' ? this.#ctx.slots : this.#ctx.slots / rowBlockWidth(m.cols);
    const batches = Math.ceil(m.rows / per);
    // Browsers have no worker pool here: encrypt on this thread.
    if (this.threads < 2 || batches < 2 || platform.name !== 'node') return this.#frame(m, this.encryptMatrix(m.data, m.rows, m.cols));
    if (this.#pool === undefined) {
      const url = siblingModuleUrl(import.meta.url, './client-worker');
      this.#pool = platform.startPool({
        filename: url.href,
        threads: this.threads,
        workerData: { clientKeys: this.exportClientKeys() },
        // Only the flags a worker needs: the parent's own flags (e.g. --expose-gc) are refused in workers.
        execArgv: workerExecArgv(url),
      });
    }
    const pool = this.#pool;
    if (pool === undefined) return this.#frame(m, this.encryptMatrix(m.data, m.rows, m.cols));
    const chunks = Math.min(this.threads, batches);
    const rowsPer = Math.ceil(batches / chunks) * per;
    const jobs: Promise<EncryptReply>[] = [];
    for (let r = 0; r < m.rows; r += rowsPer) {
      const n = Math.min(rowsPer, m.rows - r);
      const data = m.data.slice(r * m.cols, (r + n) * m.cols);
      const task: EncryptTask = { data, rows: n, cols: m.cols };
      jobs.push(pool.run(task, { transferList: [data.buffer as ArrayBuffer] }) as Promise<EncryptReply>);
    }
    const cts: Uint8Array[] = [];
    const replies = await Promise.all(jobs);
    const crcs = new Uint32Array(replies.reduce((n, r) => n + ('error' in r ? 0 : r.crcs.length), 0));
    for (const reply of replies) {
      if ('error' in reply) throw deserializeError(reply.error, { HeFormatError });
      crcs.set(reply.crcs, cts.length);
      for (let i = 0; i + 1 < reply.offsets.length; i++) cts.push(reply.packed.subarray(reply.offsets[i], reply.offsets[i + 1]));
    }
    return this.#frame(m, cts, crcs);
  }

  #checkRows(rows: ReadonlyArray<ArrayLike<number>>): Matrix {
    const ctx = this.#open();
    // Sizes first: toMatrix allocates rows × features doubles before it looks at a row.
    assertArrayLike('rows', rows, 1);
    const width = this.features ?? (rows[0] as ArrayLike<number> | undefined)?.length;
    if (typeof width === 'number' && rows.length * width > MAX_ENCRYPT_VALUES) {
      throw new RangeError(
        `rows must hold at most ${MAX_ENCRYPT_VALUES} values per call (rows × features), got ${rows.length} × ${width}; encrypt in smaller calls`,
      );
    }
    const m = toMatrix('rows', rows, this.features);
    if (m.rows < 1) throw new RangeError('rows must contain at least one row');
    if (m.cols < 1) throw new RangeError('rows must have at least one column');
    const bound = this.plan.inputBound;
    const data = m.data;
    for (let i = 0; i < data.length; i++) {
      if (Math.abs(data[i]) > bound) this.#checkValue(data[i], Math.floor(i / m.cols), i % m.cols);
    }
    if (this.layout === 'row' && rowBlockWidth(m.cols) > ctx.slots) {
      throw new RangeError(`rows must have at most ${ctx.slots} columns in the row layout, got ${m.cols}`);
    }
    assertHeapBelow(this.heapLimitBytes);
    return m;
  }

  #frame(m: Matrix, cts: Uint8Array[], crcs?: Uint32Array): Uint8Array {
    const ctx = this.#ctx;
    const per = this.layout === 'column' ? ctx.slots : ctx.slots / rowBlockWidth(m.cols);
    return writeRows(ctx.parameterHash, this.keyId, {
      layout: this.layout,
      rows: m.rows,
      features: m.cols,
      perCiphertext: per,
      ciphertexts: cts,
      crcs,
    });
  }

  /**
   * @internal The serialised ciphertexts for `rows` × `cols` checked values (row-major) in this client's layout,
   * batch after batch. Used by {@link HeClient.encryptRows} and the encryption workers.
   */
  encryptMatrix(data: Float64Array, rows: number, cols: number): Uint8Array[] {
    const ctx = this.#open();
    const S = ctx.slots;
    const col = this.#column;
    const cts: Uint8Array[] = [];
    if (this.layout === 'column') {
      const batches = Math.ceil(rows / S);
      for (let b = 0; b < batches; b++) {
        const n = Math.min(S, rows - b * S);
        for (let j = 0; j < cols; j++) {
          col.fill(0);
          for (let i = 0; i < n; i++) col[i] = data[(b * S + i) * cols + j];
          this.#encryptInto(cts);
        }
      }
      return cts;
    }
    const W = rowBlockWidth(cols);
    const per = S / W;
    const batches = Math.ceil(rows / per);
    for (let b = 0; b < batches; b++) {
      col.fill(0);
      const n = Math.min(per, rows - b * per);
      for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) col[i * W + j] = data[(b * per + i) * cols + j];
      this.#encryptInto(cts);
    }
    return cts;
  }

  /**
   * Encrypts one vector of up to N/2 values (each finite and within ±inputBound) for `server.vector`.
   * @example
   * ```ts
   * const enc = client.encryptVector([1, 2, 3]);
   * ```
   */
  encryptVector(values: ArrayLike<number>): Uint8Array {
    const ctx = this.#open();
    assertArrayLike('values', values, 1, ctx.slots);
    this.#column.fill(0);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new RangeError(`values[${i}] must be a finite number, got ${describeValue(v)}`);
      if (Math.abs(v) > this.plan.inputBound) {
        throw new RangeError(
          `values[${i}] must be within the planned input range [-${this.plan.inputBound}, ${this.plan.inputBound}], got ${v}`,
        );
      }
      this.#column[i] = v;
    }
    assertHeapBelow(this.heapLimitBytes);
    const out: Uint8Array[] = [];
    this.#encryptInto(out);
    return writeVector(ctx.parameterHash, this.keyId, values.length, out[0]);
  }

  /**
   * Decrypts an encrypted-vector message (from `EncryptedVector.toBytes`).
   * @example
   * ```ts
   * const v = client.decryptVector(bytes); // Float64Array of the vector's length
   * ```
   */
  decryptVector(encVector: Uint8Array): Float64Array {
    const ctx = this.#open();
    const { length, ciphertext } = readVector(encVector, ctx.parameterHash, this.keyId, ctx.slots);
    const ct = new ctx.seal.Ciphertext();
    try {
      checkSealHeader(ciphertext, 'encVector');
      sealCall('loading a vector ciphertext', () => ct.loadFromArray(ctx.context, ciphertext), true);
      checkCiphertext(ct, ctx, 'encVector');
      sealCall('decrypting', () => this.#decryptor.decrypt(ct, this.#plain));
      const values = sealCall('decoding', () => ctx.encoder.decodeFloat64(this.#plain)) as Float64Array;
      return values.slice(0, length);
    } finally {
      ct.delete();
    }
  }

  /**
   * Decrypts a scores message: one value per row (row-major rows × outputs for several outputs), with the
   * client-side head (sigmoid or softmax) applied when the model asked for it.
   * @example
   * ```ts
   * const p = client.decryptScores(await model.predict(enc));
   * ```
   */
  decryptScores(encScores: Uint8Array): Float64Array {
    const ctx = this.#open();
    const { reader: r } = openMessage(encScores, WireKind.encryptedScores, ctx.parameterHash, this.keyId, 'encScores');
    const h = readScores(r, ctx.slots, 'encScores');
    const out = new Float64Array(h.rows * h.outputs);
    const batches = Math.ceil(h.rows / h.perCiphertext);
    const seal = ctx.seal;
    const ct = new seal.Ciphertext();
    try {
      for (let b = 0; b < batches; b++) {
        for (let k = 0; k < h.outputs; k++) {
          const bytes = h.ciphertexts[b * h.outputs + k];
          checkSealHeader(bytes, 'encScores');
          sealCall('loading a score ciphertext', () => ct.loadFromArray(ctx.context, bytes), true);
          checkCiphertext(ct, ctx, 'encScores');
          sealCall('decrypting', () => this.#decryptor.decrypt(ct, this.#plain));
          const values = sealCall('decoding', () => ctx.encoder.decodeFloat64(this.#plain)) as Float64Array;
          const n = Math.min(h.perCiphertext, h.rows - b * h.perCiphertext);
          for (let i = 0; i < n; i++) out[(b * h.perCiphertext + i) * h.outputs + k] = values[i * h.stride];
        }
      }
    } finally {
      ct.delete();
    }
    return applyPost(h.post, out, h.outputs);
  }

  /**
   * Frees the keys and releases the context; idempotent.
   * @example
   * ```ts
   * client.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) void pool.destroy();
    this.#plain.delete();
    this.#cipher.delete();
    this.#decryptor.delete();
    this.#encryptor.delete();
    this.#publicKey.delete();
    this.#secretKey.delete();
    this.#keygen.delete();
    this.#ctx.release();
  }

  /** Same as {@link HeClient.close}. */
  dispose(): void {
    this.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
