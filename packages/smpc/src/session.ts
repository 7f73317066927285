/**
 * The coordinating side of a secret-shared computation: {@link SmpcSession} starts one worker thread per party
 * plus a dealer thread, joins the parties by a full mesh of `MessageChannel`s (parties talk directly, never
 * through this thread), and queues operations on {@link SecretTensor} handles. Every operation runs inside the
 * party workers, in the same order on every party; this thread validates arguments, tracks shapes, counts
 * rounds and bytes, and watches for faults. It never holds a share: parties send it acknowledgements and
 * revealed plaintext only (see `onWorkerMessage` to audit that).
 *
 * Lifecycle (the failure modes of MP-SPDZ issue 558 and JIFF issue 37): a party that throws, exits, sends a
 * malformed message or makes no progress for `timeoutMs` aborts the whole run with a {@link ProtocolAbortError}
 * carrying the cause; every worker is then terminated. `close()` is idempotent.
 * @module
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import {
  DEFAULT_FRACTIONAL_BITS,
  assertFiniteArray,
  deserializeError,
  describeValue,
  siblingModuleUrl,
  type SerializedError,
} from '@ppml/core';
import { ProtocolAbortError } from './errors.ts';
import type { FaultInjection, FromWorker, Operation } from './messages.ts';
import { materialFor, zerosFor } from './plan.ts';
import type { MaterialRequest } from './preprocessing.ts';

export type { FaultInjection } from './messages.ts';

/** Options of {@link SmpcSession.start}. */
export interface SmpcSessionOptions {
  /** Number of parties: >= 2 for 'additive', exactly 3 for 'replicated'. */
  readonly parties: number;
  /** 'additive' (n parties, dealer triples) or 'replicated' (3 parties, ABY3). Default 'additive'. */
  readonly protocol?: 'additive' | 'replicated';
  /** Fractional bits of the fixed-point encoding, an integer in [8, 20]. Default 16. */
  readonly fractionalBits?: number;
  /**
   * Abort when no party makes progress (finishes an operation or a communication round) for this long, in ms.
   * Default 60,000. Must exceed the longest purely local step (e.g. a very large local matrix product).
   */
  readonly timeoutMs?: number;
  /**
   * Largest |x| accepted as input or public operand. Default 2^(31 - fractionalBits) (32768 at 16 bits), so that
   * the product of any two inputs stays within the truncation's range |x y| < 2^(62 - 2f).
   */
  readonly maxAbs?: number;
  /** Called with every message a worker sends to this thread (for audits and tests). */
  readonly onWorkerMessage?: (from: number | 'dealer', message: unknown) => void;
  /**
   * FOR TESTS ONLY: makes one party crash, exit, hang or send a malformed message when it starts the first
   * operation with the given name. Never set this in production code.
   */
  readonly faultInjection?: FaultInjection;
}

/** Communication of one kind of operation (or of all), per party. */
export interface OperationStats {
  /** Operations counted. */
  count: number;
  /** Communication rounds (summed over the operations). */
  rounds: number;
  /** Bytes sent by each party. */
  bytesPerParty: number[];
  /** Messages sent by each party. */
  messagesPerParty: number[];
}

/** Counters of a session since start or the last {@link SmpcSession.resetStats}. */
export interface SmpcStats {
  /** Online phase, all operations. */
  readonly online: OperationStats;
  /** Online phase per operation name. */
  readonly operations: Readonly<Record<string, OperationStats>>;
  /** Offline phase: bytes the dealer sent to each party (seeds and corrections), and requests made to it. */
  readonly offline: { readonly dealerBytesPerParty: number[]; readonly requests: number };
  /** Shared values each party holds now (handles not yet freed), as of its last finished operation. */
  readonly storedPerParty: number[];
}

/** How much preprocessing to generate ahead of the online phase ({@link SmpcSession.preprocess}). */
export interface PreprocessPlan {
  /** Element-wise fixed-point multiplications. */
  readonly mul?: number;
  /** Element-wise comparisons (lessThan, one per element; relu and sigmoid use one each). */
  readonly lessThan?: number;
  /** Extra truncations (public multiplications, matmul outputs). */
  readonly truncations?: number;
  /** Element-wise ReLUs. */
  readonly relu?: number;
  /** Element-wise sigmoids. */
  readonly sigmoid?: number;
  /** Matrix products A (m x k) times B (k x n), `count` of each shape. */
  readonly matmul?: readonly { readonly m: number; readonly k: number; readonly n: number; readonly count?: number }[];
}

/**
 * A handle to a secret-shared matrix (rows x cols, row-major); vectors are n x 1. The values live only in the
 * party workers. Release early with `session.free(x)` or `using`.
 * @example
 * ```ts
 * const x = await session.share(0, Float64Array.of(1, 2, 3));
 * x.rows; // 3
 * ```
 */
export class SecretTensor {
  readonly session: SmpcSession;
  readonly id: number;
  readonly rows: number;
  readonly cols: number;

  constructor(session: SmpcSession, id: number, rows: number, cols: number) {
    this.session = session;
    this.id = id;
    this.rows = rows;
    this.cols = cols;
  }

  /** Number of elements. */
  get length(): number {
    return this.rows * this.cols;
  }

  [Symbol.dispose](): void {
    this.session.free(this);
  }
}

interface Pending {
  readonly name: string;
  readonly elements: number;
  readonly waiting: Set<number>;
  readonly resultFrom: number;
  result: Float64Array | null;
  rounds: number;
  readonly resolve: (v: Float64Array | null) => void;
  readonly reject: (e: Error) => void;
}

function emptyStats(parties: number): OperationStats {
  return { count: 0, rounds: 0, bytesPerParty: new Array<number>(parties).fill(0), messagesPerParty: new Array<number>(parties).fill(0) };
}

/**
 * A secret-shared computation among parties on worker threads.
 * @example
 * ```ts
 * const session = await SmpcSession.start({ parties: 3, protocol: 'replicated' });
 * const a = await session.share(0, Float64Array.of(1.5, -2));
 * const b = await session.share(1, Float64Array.of(4, 0.25));
 * const c = session.mul(a, b);
 * console.log(await session.reveal(c)); // Float64Array [6, -0.5]
 * await session.close();
 * ```
 */
export class SmpcSession {
  readonly parties: number;
  readonly protocol: 'additive' | 'replicated';
  readonly fractionalBits: number;
  readonly timeoutMs: number;
  readonly maxAbs: number;
  readonly #workers: Worker[];
  readonly #dealer: Worker;
  readonly #alive = new Set<Worker>();
  readonly #pending = new Map<number, Pending>();
  readonly #tap: ((from: number | 'dealer', message: unknown) => void) | undefined;
  #seq = 0;
  #nextId = 1;
  #live = new Set<number>();
  #abortError: ProtocolAbortError | null = null;
  #closing: Promise<void> | null = null;
  #lastProgress = Date.now();
  #watchdog: ReturnType<typeof setInterval> | null = null;
  #stored: number[];
  #stats: { online: OperationStats; operations: Record<string, OperationStats>; dealer: number[]; requests: number };

  private constructor(
    options: Required<Pick<SmpcSessionOptions, 'parties' | 'protocol' | 'fractionalBits' | 'timeoutMs' | 'maxAbs'>>,
    workers: Worker[],
    dealer: Worker,
    tap: SmpcSessionOptions['onWorkerMessage'],
  ) {
    this.parties = options.parties;
    this.protocol = options.protocol;
    this.fractionalBits = options.fractionalBits;
    this.timeoutMs = options.timeoutMs;
    this.maxAbs = options.maxAbs;
    this.#workers = workers;
    this.#dealer = dealer;
    this.#tap = tap;
    this.#stats = { online: emptyStats(this.parties), operations: {}, dealer: new Array<number>(this.parties).fill(0), requests: 0 };
    this.#stored = new Array<number>(this.parties).fill(0);
    for (const w of [...workers, dealer]) this.#alive.add(w);
  }

  /**
   * Starts the party workers and the dealer and connects them. Resolves when every party is ready (for
   * replicated sharing, after the pairwise X25519 key agreement).
   * @example
   * ```ts
   * const session = await SmpcSession.start({ parties: 2, protocol: 'additive', timeoutMs: 10_000 });
   * ```
   */
  static async start(options: SmpcSessionOptions): Promise<SmpcSession> {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object, got ${describeValue(options)}`);
    }
    const protocol = options.protocol ?? 'additive';
    if (protocol !== 'additive' && protocol !== 'replicated') {
      throw new RangeError(`protocol must be 'additive' or 'replicated', got ${describeValue(protocol)}`);
    }
    const parties = options.parties;
    if (!Number.isInteger(parties) || parties < 2 || parties > 16) {
      throw new RangeError(`parties must be an integer in [2, 16], got ${describeValue(parties)}`);
    }
    if (protocol === 'replicated' && parties !== 3) {
      throw new RangeError(`parties must be 3 for the replicated protocol, got ${parties}`);
    }
    const fractionalBits = options.fractionalBits ?? DEFAULT_FRACTIONAL_BITS;
    if (!Number.isInteger(fractionalBits) || fractionalBits < 8 || fractionalBits > 20) {
      throw new RangeError(`fractionalBits must be an integer in [8, 20], got ${describeValue(fractionalBits)}`);
    }
    const timeoutMs = options.timeoutMs ?? 60_000;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new RangeError(`timeoutMs must be a finite number > 0, got ${describeValue(timeoutMs)}`);
    }
    const bound = 2 ** (31 - fractionalBits);
    const maxAbs = options.maxAbs ?? bound;
    const hardBound = 2 ** (61 - fractionalBits);
    if (typeof maxAbs !== 'number' || !(maxAbs > 0 && maxAbs <= hardBound)) {
      throw new RangeError(`maxAbs must be a number in (0, 2^${61 - fractionalBits}], got ${describeValue(maxAbs)}`);
    }
    const fault = options.faultInjection ?? null;
    if (fault !== null) {
      if (typeof fault !== 'object' || !Number.isInteger(fault.party) || fault.party < 0 || fault.party >= parties) {
        throw new RangeError(`faultInjection.party must be a party id in [0, ${parties - 1}], got ${describeValue(fault?.party)}`);
      }
      if (!['throw', 'exit', 'hang', 'corrupt'].includes(fault.kind)) {
        throw new RangeError(`faultInjection.kind must be 'throw', 'exit', 'hang' or 'corrupt', got ${describeValue(fault.kind)}`);
      }
      if (typeof fault.operation !== 'string') {
        throw new TypeError(`faultInjection.operation must be an operation name, got ${describeValue(fault.operation)}`);
      }
    }
    const execArgv = [...process.execArgv];
    const workers: Worker[] = [];
    for (let p = 0; p < parties; p++) {
      workers.push(
        new Worker(siblingModuleUrl(import.meta.url, './party-worker'), {
          execArgv,
          workerData: { party: p, parties, protocol, fractionalBits, fault },
        }),
      );
    }
    const dealer = new Worker(siblingModuleUrl(import.meta.url, './dealer-worker'), {
      execArgv,
      workerData: { parties, protocol },
    });
    const session = new SmpcSession({ parties, protocol, fractionalBits, timeoutMs, maxAbs }, workers, dealer, options.onWorkerMessage);
    await session.#connect();
    return session;
  }

  async #connect(): Promise<void> {
    const n = this.parties;
    const ports: (MessagePort | null)[][] = this.#workers.map(() => new Array<MessagePort | null>(n + 1).fill(null));
    const dealerPorts: (MessagePort | null)[] = new Array<MessagePort | null>(n + 1).fill(null);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const ch = new MessageChannel();
        ports[i][j] = ch.port1;
        ports[j][i] = ch.port2;
      }
      const ch = new MessageChannel();
      ports[i][n] = ch.port1;
      dealerPorts[i] = ch.port2;
    }
    const ready = [...this.#workers, this.#dealer].map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const onMsg = (m: FromWorker): void => {
            if (m.type === 'ready') {
              w.off('message', onMsg);
              resolve();
            }
          };
          w.on('message', onMsg);
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`worker exited with code ${code} during start-up`)));
        }),
    );
    this.#workers.forEach((w, p) => this.#listen(w, p));
    this.#listen(this.#dealer, 'dealer');
    this.#workers.forEach((w, p) => {
      const list = ports[p];
      w.postMessage({ type: 'init', ports: list }, list.filter((x): x is MessagePort => x !== null) as never[]);
    });
    this.#dealer.postMessage(
      { type: 'init', ports: dealerPorts },
      dealerPorts.filter((x): x is MessagePort => x !== null) as never[],
    );
    const startMs = Math.max(this.timeoutMs, 30_000); // module loading on a busy machine can take seconds
    const timer = setTimeout(() => this.#abort(new ProtocolAbortError(`parties did not start within ${startMs} ms`)), startMs);
    try {
      await Promise.race([Promise.all(ready), new Promise<void>((_, reject) => this.#onAbort.push(reject))]);
    } catch (e) {
      await this.#terminateAll();
      throw e instanceof ProtocolAbortError ? e : new ProtocolAbortError('a party failed to start', { cause: e });
    } finally {
      clearTimeout(timer);
    }
    this.#setBusy(false);
  }

  #onAbort: ((e: Error) => void)[] = [];

  #listen(w: Worker, who: number | 'dealer'): void {
    w.on('message', (m: FromWorker) => {
      this.#tap?.(who, m);
      this.#onMessage(who, m);
    });
    w.on('error', (e: Error) => {
      this.#abort(
        new ProtocolAbortError(`${who === 'dealer' ? 'the dealer' : `party ${who}`} crashed: ${e.message}`, {
          cause: e,
          party: who === 'dealer' ? -1 : who,
        }),
      );
    });
    w.on('messageerror', (e: Error) => {
      this.#abort(new ProtocolAbortError(`a message from ${who === 'dealer' ? 'the dealer' : `party ${who}`} could not be read`, { cause: e }));
    });
    w.on('exit', (code: number) => {
      this.#alive.delete(w);
      if (this.#closing === null && this.#abortError === null) {
        this.#abort(
          new ProtocolAbortError(`${who === 'dealer' ? 'the dealer' : `party ${who}`} exited with code ${code}`, {
            party: who === 'dealer' ? -1 : who,
          }),
        );
      }
    });
  }

  #onMessage(who: number | 'dealer', m: FromWorker): void {
    this.#lastProgress = Date.now();
    if (m.type === 'error') {
      const cause = deserializeError(m.error as SerializedError, { ProtocolAbortError });
      const blamed = cause instanceof ProtocolAbortError && cause.party >= 0 ? cause.party : who === 'dealer' ? -1 : who;
      this.#abort(
        new ProtocolAbortError(`${who === 'dealer' ? 'the dealer' : `party ${who}`} failed: ${cause.message}`, {
          cause,
          party: blamed,
        }),
      );
      return;
    }
    if (m.type === 'dealt') {
      this.#stats.dealer[m.party] += m.bytes;
      return;
    }
    if (who === 'dealer' || m.type === 'ready' || m.type === 'progress') return;
    const p = this.#pending.get(m.seq);
    if (!p) return;
    if (m.type === 'result') {
      if (who === p.resultFrom) p.result = m.values;
      return;
    }
    const record = (s: OperationStats): void => {
      s.bytesPerParty[who] += m.bytes;
      s.messagesPerParty[who] += m.messages;
    };
    const opStats = (this.#stats.operations[p.name] ??= emptyStats(this.parties));
    record(opStats);
    record(this.#stats.online);
    this.#stored[who] = m.stored;
    this.#stats.requests += m.requests;
    p.waiting.delete(who);
    p.rounds = Math.max(p.rounds, m.rounds);
    if (p.waiting.size === 0) {
      const rounds = p.rounds;
      opStats.count++;
      opStats.rounds += rounds;
      this.#stats.online.count++;
      this.#stats.online.rounds += rounds;
      this.#pending.delete(m.seq);
      if (this.#pending.size === 0) this.#setBusy(false);
      p.resolve(p.result);
    }
  }

  #setBusy(busy: boolean): void {
    for (const w of this.#alive) {
      if (busy) w.ref();
      else w.unref();
    }
    if (busy && this.#watchdog === null) {
      this.#lastProgress = Date.now();
      this.#watchdog = setInterval(() => this.#checkProgress(), Math.max(10, Math.min(250, this.timeoutMs / 4)));
      this.#watchdog.unref();
    } else if (!busy && this.#watchdog !== null) {
      clearInterval(this.#watchdog);
      this.#watchdog = null;
    }
  }

  #checkProgress(): void {
    if (this.#pending.size === 0) return;
    if (Date.now() - this.#lastProgress <= this.timeoutMs) return;
    const [seq, p] = this.#pending.entries().next().value as [number, Pending];
    const stuck = [...p.waiting].join(', ');
    this.#abort(
      new ProtocolAbortError(`no progress within ${this.timeoutMs} ms: operation '${p.name}' #${seq} still waits for party ${stuck}`, {
        party: p.waiting.size === 1 ? [...p.waiting][0] : -1,
      }),
    );
  }

  #abort(e: ProtocolAbortError): void {
    if (this.#abortError !== null || this.#closing !== null) return;
    this.#abortError = e;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
    for (const r of this.#onAbort) r(e);
    this.#onAbort = [];
    this.#setBusy(false);
    void this.#terminateAll();
  }

  #terminating: Promise<void> | null = null;
  #terminateAll(): Promise<void> {
    this.#terminating ??= Promise.all([...this.#workers, this.#dealer].map((w) => w.terminate())).then(() => {
      for (const w of [...this.#workers, this.#dealer]) this.#alive.delete(w);
    });
    return this.#terminating;
  }

  /** Number of worker threads (parties and dealer) that have not exited. */
  get activeWorkers(): number {
    return this.#alive.size;
  }

  /** The abort error if the session was aborted, else `null`. */
  get abortError(): ProtocolAbortError | null {
    return this.#abortError;
  }

  #usable(): void {
    if (this.#abortError) throw this.#abortError;
    if (this.#closing) throw new ProtocolAbortError('the session is closed');
  }

  #submit(name: string, elements: number, operation: Operation, resultFrom = -1, ownerOnly?: { owner: number; stripped: Operation }): Promise<Float64Array | null> {
    this.#usable();
    const seq = this.#seq++;
    const promise = new Promise<Float64Array | null>((resolve, reject) => {
      this.#pending.set(seq, { name, elements, waiting: new Set(this.#workers.map((_, p) => p)), resultFrom, result: null, rounds: 0, resolve, reject });
    });
    if (this.#pending.size === 1) this.#setBusy(true);
    this.#workers.forEach((w, p) => {
      const op = ownerOnly && p !== ownerOnly.owner ? ownerOnly.stripped : operation;
      w.postMessage({ type: 'op', seq, operation: op });
    });
    promise.catch(() => {});
    return promise;
  }

  #check(x: unknown, name: string): SecretTensor {
    if (!(x instanceof SecretTensor)) throw new TypeError(`${name} must be a SecretTensor, got ${describeValue(x)}`);
    if (x.session !== this) throw new RangeError(`${name} belongs to another session`);
    if (!this.#live.has(x.id)) throw new RangeError(`${name} was freed`);
    return x;
  }

  #tensor(rows: number, cols: number): SecretTensor {
    const t = new SecretTensor(this, this.#nextId++, rows, cols);
    this.#live.add(t.id);
    return t;
  }

  #partyId(party: unknown, name: string): number {
    if (!Number.isInteger(party) || (party as number) < 0 || (party as number) >= this.parties) {
      throw new RangeError(`${name} must be a party id in [0, ${this.parties - 1}], got ${describeValue(party)}`);
    }
    return party as number;
  }

  #values(values: unknown, name: string): Float64Array {
    if (typeof values === 'number') values = [values];
    assertFiniteArray(name, values as ArrayLike<number>);
    const arr = Float64Array.from(values as ArrayLike<number>);
    for (let i = 0; i < arr.length; i++) {
      if (Math.abs(arr[i]) > this.maxAbs) {
        throw new RangeError(`${name}[${i}] must have |x| <= ${this.maxAbs} (the fixed-point input range), got ${arr[i]}`);
      }
    }
    return arr;
  }

  /**
   * Party `owner` secret-shares `values` (a vector, or a rows x cols matrix when `shape` is given). Only that
   * party receives the plaintext. Throws `RangeError` for unknown parties, NaN, values beyond `maxAbs` or a
   * shape that does not match.
   * @example
   * ```ts
   * const x = await session.share(1, Float64Array.of(1, 2, 3, 4), [2, 2]);
   * ```
   */
  async share(owner: number, values: ArrayLike<number>, shape?: readonly [number, number]): Promise<SecretTensor> {
    this.#partyId(owner, 'owner');
    const v = this.#values(values, 'values');
    if (v.length === 0) throw new RangeError('values must not be empty');
    const [rows, cols] = shape ?? [v.length, 1];
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || rows * cols !== v.length) {
      throw new RangeError(`shape must be [rows, cols] with rows * cols = ${v.length}, got ${describeValue(shape)}`);
    }
    const t = this.#tensor(rows, cols);
    const op: Operation = { op: 'input', out: t.id, owner, count: v.length, values: v };
    await this.#submit('share', v.length, op, -1, { owner, stripped: { op: 'input', out: t.id, owner, count: v.length } });
    return t;
  }

  #binary(name: 'add' | 'sub' | 'mul', a: SecretTensor, b: SecretTensor): SecretTensor {
    this.#check(a, 'a');
    this.#check(b, 'b');
    let shape: SecretTensor = a;
    if (b.length === 1) shape = a;
    else if (a.length === 1) shape = b;
    else if (a.rows !== b.rows || a.cols !== b.cols) {
      throw new RangeError(`a and b must have the same shape (or one must be 1 x 1), got ${a.rows}x${a.cols} and ${b.rows}x${b.cols}`);
    }
    const out = this.#tensor(shape.rows, shape.cols);
    void this.#submit(name, out.length, { op: name, out: out.id, a: a.id, b: b.id });
    return out;
  }

  /**
   * Element-wise a + b (either may be 1 x 1 and is then broadcast; other shape mismatches throw). Local, no
   * communication.
   * @example
   * ```ts
   * const c = session.add(a, b);
   * ```
   */
  add(a: SecretTensor, b: SecretTensor): SecretTensor {
    return this.#binary('add', a, b);
  }

  /**
   * Element-wise a - b (either may be 1 x 1 and is then broadcast; other shape mismatches throw). Local.
   * @example
   * ```ts
   * const d = session.sub(a, b);
   * ```
   */
  sub(a: SecretTensor, b: SecretTensor): SecretTensor {
    return this.#binary('sub', a, b);
  }

  /**
   * Element-wise fixed-point product with exact-wrap truncation (error at most 2^-f per product); either operand
   * may be 1 x 1 and is then broadcast, other shape mismatches throw. Additive: 2 rounds (Beaver opening,
   * truncation opening); replicated: 1 round.
   * @example
   * ```ts
   * const c = session.mul(a, b);
   * ```
   */
  mul(a: SecretTensor, b: SecretTensor): SecretTensor {
    return this.#binary('mul', a, b);
  }

  /**
   * Element-wise a * a.
   * @example
   * ```ts
   * const sq = session.square(a);
   * ```
   */
  square(a: SecretTensor): SecretTensor {
    return this.#unary('square', a);
  }

  #unary(name: 'neg' | 'relu' | 'sigmoid' | 'exp' | 'reciprocal' | 'square', a: SecretTensor): SecretTensor {
    this.#check(a, 'x');
    const out = this.#tensor(a.rows, a.cols);
    void this.#submit(name, a.length, { op: name, out: out.id, a: a.id });
    return out;
  }

  #publicOp(name: 'addPublic' | 'mulPublic' | 'lessThanPublic', a: SecretTensor, values: number | ArrayLike<number>): SecretTensor {
    this.#check(a, 'x');
    const v = this.#values(values, 'values');
    if (v.length !== 1 && v.length !== a.length) {
      throw new RangeError(`values must have 1 or ${a.length} elements, got ${v.length}`);
    }
    const out = this.#tensor(a.rows, a.cols);
    void this.#submit(name, a.length, { op: name, out: out.id, a: a.id, values: v });
    return out;
  }

  /**
   * Adds public values (a number or one value per element). Local.
   * @example
   * ```ts
   * const y = session.addPublic(x, 1);
   * ```
   */
  addPublic(x: SecretTensor, values: number | ArrayLike<number>): SecretTensor {
    return this.#publicOp('addPublic', x, values);
  }

  /**
   * Multiplies by public values (a number or one per element), with one truncation round.
   * @example
   * ```ts
   * const half = session.mulPublic(x, 0.5);
   * ```
   */
  mulPublic(x: SecretTensor, values: number | ArrayLike<number>): SecretTensor {
    return this.#publicOp('mulPublic', x, values);
  }

  /**
   * Negation. Local.
   * @example
   * ```ts
   * const y = session.neg(x);
   * ```
   */
  neg(x: SecretTensor): SecretTensor {
    return this.#unary('neg', x);
  }

  /**
   * Matrix product a (m x k) times b (k x n), one truncation per output. Additive: a dealer matrix triple
   * (2 rounds); replicated: local products then 1 round.
   * @example
   * ```ts
   * const y = session.matmul(x, w); // (rows x d) (d x 1)
   * ```
   */
  matmul(a: SecretTensor, b: SecretTensor): SecretTensor {
    this.#check(a, 'a');
    this.#check(b, 'b');
    if (a.cols !== b.rows) throw new RangeError(`a.cols must equal b.rows, got ${a.rows}x${a.cols} and ${b.rows}x${b.cols}`);
    const out = this.#tensor(a.rows, b.cols);
    void this.#submit('matmul', out.length, { op: 'matmul', out: out.id, a: a.id, b: b.id, m: a.rows, k: a.cols, n: b.cols });
    return out;
  }

  /**
   * Transpose. Local.
   * @example
   * ```ts
   * const xt = session.transpose(x);
   * ```
   */
  transpose(x: SecretTensor): SecretTensor {
    this.#check(x, 'x');
    const out = this.#tensor(x.cols, x.rows);
    void this.#submit('transpose', x.length, { op: 'transpose', out: out.id, a: x.id, rows: x.rows, cols: x.cols });
    return out;
  }

  /**
   * Sum of all elements (1 x 1), of each column (`axis` 0: 1 x cols) or of each row (`axis` 1: rows x 1). Local.
   * @example
   * ```ts
   * const total = session.sum(x);
   * ```
   */
  sum(x: SecretTensor, axis?: 0 | 1): SecretTensor {
    this.#check(x, 'x');
    if (axis !== undefined && axis !== 0 && axis !== 1) throw new RangeError(`axis must be 0, 1 or undefined, got ${describeValue(axis)}`);
    const out = axis === undefined ? this.#tensor(1, 1) : axis === 0 ? this.#tensor(1, x.cols) : this.#tensor(x.rows, 1);
    void this.#submit('sum', x.length, { op: 'sum', out: out.id, a: x.id, rows: x.rows, cols: x.cols, axis: axis ?? -1 });
    return out;
  }

  /**
   * Stacks matrices with the same number of columns on top of each other. Local.
   * @example
   * ```ts
   * const all = session.concatRows([x0, x1]);
   * ```
   */
  concatRows(list: readonly SecretTensor[]): SecretTensor {
    if (!Array.isArray(list) || list.length === 0) throw new RangeError('list must be a non-empty array of SecretTensor');
    list.forEach((x, i) => this.#check(x, `list[${i}]`));
    const cols = list[0].cols;
    for (const x of list) if (x.cols !== cols) throw new RangeError(`every tensor must have ${cols} columns, got ${x.cols}`);
    const out = this.#tensor(list.reduce((s, x) => s + x.rows, 0), cols);
    void this.#submit('concat', out.length, { op: 'concat', out: out.id, ids: list.map((x) => x.id) });
    return out;
  }

  /**
   * Rows [start, end) of a matrix. Local.
   * @example
   * ```ts
   * const batch = session.sliceRows(x, 0, 32);
   * ```
   */
  sliceRows(x: SecretTensor, start: number, end: number): SecretTensor {
    this.#check(x, 'x');
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > x.rows || start >= end) {
      throw new RangeError(`start and end must be integers with 0 <= start < end <= ${x.rows}, got ${start} and ${end}`);
    }
    const out = this.#tensor(end - start, x.cols);
    void this.#submit('slice', out.length, { op: 'slice', out: out.id, a: x.id, start: start * x.cols, end: end * x.cols });
    return out;
  }

  /**
   * The same values viewed with another shape (rows * cols must match). Local.
   * @example
   * ```ts
   * const m = session.reshape(v, 2, 3); // a 6 x 1 vector as 2 x 3
   * ```
   */
  reshape(x: SecretTensor, rows: number, cols: number): SecretTensor {
    this.#check(x, 'x');
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || rows * cols !== x.length) {
      throw new RangeError(`rows * cols must equal ${x.length}, got ${describeValue(rows)} x ${describeValue(cols)}`);
    }
    const out = this.#tensor(rows, cols);
    void this.#submit('slice', out.length, { op: 'slice', out: out.id, a: x.id, start: 0, end: x.length });
    return out;
  }

  /**
   * Element-wise [a < b] as fixed-point 0 or 1; `b` may be a tensor of the same shape (or 1 x 1) or public
   * values. A2B with a Kogge-Stone adder: 8 rounds.
   * @example
   * ```ts
   * const below = session.lessThan(x, 0.5);
   * ```
   */
  lessThan(a: SecretTensor, b: SecretTensor | number | ArrayLike<number>): SecretTensor {
    if (b instanceof SecretTensor) {
      this.#check(a, 'a');
      this.#check(b, 'b');
      if (b.length !== 1 && a.length !== 1 && (a.rows !== b.rows || a.cols !== b.cols)) {
        throw new RangeError(`a and b must have the same shape, got ${a.rows}x${a.cols} and ${b.rows}x${b.cols}`);
      }
      const shape = a.length === 1 ? b : a;
      const out = this.#tensor(shape.rows, shape.cols);
      void this.#submit('lessThan', out.length, { op: 'lessThan', out: out.id, a: a.id, b: b.id });
      return out;
    }
    return this.#publicOp('lessThanPublic', a, b);
  }

  /**
   * max(x, 0) element-wise: one comparison and one product.
   * @example
   * ```ts
   * const h = session.relu(z);
   * ```
   */
  relu(x: SecretTensor): SecretTensor {
    return this.#unary('relu', x);
  }

  /**
   * Logistic sigmoid 1 / (1 + e^-x). Absolute error <= 5e-4 for |x| <= 1024 at 16 fractional bits (exp of -|x|
   * by (1 - |x|/1024)^1024 at 26 bits, two Newton steps for the reciprocal on [1, 2]).
   * @example
   * ```ts
   * const p = session.sigmoid(logits);
   * ```
   */
  sigmoid(x: SecretTensor): SecretTensor {
    return this.#unary('sigmoid', x);
  }

  /**
   * e^x by (1 + x/1024)^1024 at f + 6 fractional bits (CrypTen's limit method with two more squarings and extra
   * precision). At f = 16: valid for x in [-1024, 6]; relative error <= x^2/1500 + 1e-3 for |x| <= 6 (0.16% for
   * |x| <= 1), absolute error <= 4e-4 for x <= 0. Measured bounds: test/approximations.test.ts.
   * @example
   * ```ts
   * const e = session.exp(x);
   * ```
   */
  exp(x: SecretTensor): SecretTensor {
    return this.#unary('exp', x);
  }

  /**
   * 1/x for x in [0.01, 500] by Newton-Raphson (12 steps) from y0 = 3 e^(0.5 - x) + 0.003 (the start value in
   * CrypTen's documentation). At f = 16 the absolute error is <= 1e-3/x + 3e-5 (relative <= 0.1% below x = 1).
   * Outside the range the iteration does not converge; the result is then meaningless.
   * @example
   * ```ts
   * const inv = session.reciprocal(x);
   * ```
   */
  reciprocal(x: SecretTensor): SecretTensor {
    return this.#unary('reciprocal', x);
  }

  #reduce(name: 'max' | 'argmax', x: SecretTensor): SecretTensor {
    this.#check(x, 'x');
    const [rows, cols] = x.cols === 1 ? [1, x.rows] : [x.rows, x.cols];
    const out = name === 'max' ? (x.cols === 1 ? this.#tensor(1, 1) : this.#tensor(x.rows, 1)) : this.#tensor(x.rows, x.cols);
    void this.#submit(name, x.length, { op: name, out: out.id, a: x.id, rows, cols });
    return out;
  }

  /**
   * Maximum of a vector (1 x 1) or of each row of a matrix (rows x 1), by a tournament of ceil(log2 n)
   * comparisons.
   * @example
   * ```ts
   * const best = session.max(scores);
   * ```
   */
  max(x: SecretTensor): SecretTensor {
    return this.#reduce('max', x);
  }

  /**
   * One-hot position of the maximum of a vector, or of each row of a matrix (same shape as x, fixed-point 0/1).
   * Ties go to the first maximal element.
   * @example
   * ```ts
   * const onehot = session.argmax(scores);
   * ```
   */
  argmax(x: SecretTensor): SecretTensor {
    return this.#reduce('argmax', x);
  }

  /**
   * Reveals x to every party and returns the plaintext.
   * @example
   * ```ts
   * const values = await session.reveal(x);
   * ```
   */
  async reveal(x: SecretTensor): Promise<Float64Array> {
    this.#check(x, 'x');
    return (await this.#submit('reveal', x.length, { op: 'reveal', a: x.id, to: -1 }, 0)) as Float64Array;
  }

  /**
   * Reveals x to party `party` only (the others learn nothing) and returns what that party received.
   * @example
   * ```ts
   * const mine = await session.revealTo(2, x);
   * ```
   */
  async revealTo(party: number, x: SecretTensor): Promise<Float64Array> {
    this.#partyId(party, 'party');
    this.#check(x, 'x');
    return (await this.#submit('reveal', x.length, { op: 'reveal', a: x.id, to: party }, party)) as Float64Array;
  }

  /**
   * Releases the parties' memory for these handles (freeing a handle twice is a no-op).
   * @example
   * ```ts
   * session.free(a, b);
   * ```
   */
  free(...xs: SecretTensor[]): void {
    if (this.#closing || this.#abortError) return;
    const ids: number[] = [];
    for (const x of xs) {
      if (!(x instanceof SecretTensor)) throw new TypeError(`x must be a SecretTensor, got ${describeValue(x)}`);
      if (x.session !== this) throw new RangeError('x belongs to another session');
      if (!this.#live.delete(x.id)) continue; // already freed: freeing twice is harmless
      ids.push(x.id);
    }
    if (ids.length > 0) void this.#submit('free', 0, { op: 'free', ids });
  }

  /**
   * Offline phase: has the dealer generate material for the planned operations now (and, for replicated
   * sharing, has the parties expand their shares of zero), so that the online phase only computes locally and
   * opens masked values. Resolves when every party holds it.
   * @example
   * ```ts
   * await session.preprocess({ mul: 1_000_000, lessThan: 10_000 });
   * ```
   */
  async preprocess(plan: PreprocessPlan): Promise<void> {
    const count = (v: unknown, name: string): number => {
      if (v === undefined) return 0;
      if (!Number.isSafeInteger(v) || (v as number) < 0) throw new RangeError(`${name} must be an integer >= 0, got ${describeValue(v)}`);
      return v as number;
    };
    const f = this.fractionalBits;
    const additive = this.protocol === 'additive';
    const merged = new Map<string, MaterialRequest>();
    const add = (list: MaterialRequest[]): void => {
      for (const r of list) {
        const prev = merged.get(r.key);
        merged.set(r.key, prev ? { ...prev, count: prev.count + r.count } : r);
      }
    };
    const zeros = { xor: 0, arith: 0 };
    const plan1 = (op: string, n: number): void => {
      add(materialFor(op, n, additive, f));
      if (!additive) {
        const z = zerosFor(op, n);
        zeros.xor += z.xor;
        zeros.arith += z.arith;
      }
    };
    plan1('mul', count(plan.mul, 'plan.mul'));
    plan1('lessThan', count(plan.lessThan, 'plan.lessThan'));
    plan1('mulPublic', count(plan.truncations, 'plan.truncations'));
    plan1('relu', count(plan.relu, 'plan.relu'));
    plan1('sigmoid', count(plan.sigmoid, 'plan.sigmoid'));
    for (const mm of plan.matmul ?? []) {
      const { m, k, n } = mm;
      for (const [v, name] of [[m, 'm'], [k, 'k'], [n, 'n']] as const) {
        if (count(v, `plan.matmul[].${name}`) === 0) throw new RangeError(`plan.matmul[].${name} must be >= 1`);
      }
      for (let c = count(mm.count ?? 1, 'plan.matmul[].count'); c > 0; c--) add(materialFor('matmul', m * n, additive, f, { m, k, n }));
    }
    const reqs = [...merged.values()];
    if (reqs.length === 0 && zeros.xor + zeros.arith === 0) return;
    await this.#submit('preprocess', 0, { op: 'preprocess', requests: reqs, zeros });
  }

  /**
   * Waits until every queued operation has finished on every party (rejects with the abort error if any failed).
   * @example
   * ```ts
   * session.mul(a, b);
   * await session.sync();
   * ```
   */
  async sync(): Promise<void> {
    this.#usable();
    await Promise.all([...this.#pending.values()].map((p) => new Promise<void>((resolve, reject) => {
      const prev = p.resolve;
      const prevReject = p.reject;
      (p as { resolve: (v: Float64Array | null) => void }).resolve = (v) => {
        prev(v);
        resolve();
      };
      (p as { reject: (e: Error) => void }).reject = (e) => {
        prevReject(e);
        reject(e);
      };
    })));
    this.#usable();
  }

  /**
   * Rounds, bytes and messages per party, online (per operation) and offline (dealer).
   * @example
   * ```ts
   * const { online } = session.stats();
   * console.log(online.rounds, online.bytesPerParty);
   * ```
   */
  stats(): SmpcStats {
    return structuredClone({
      online: this.#stats.online,
      operations: this.#stats.operations,
      offline: { dealerBytesPerParty: this.#stats.dealer, requests: this.#stats.requests },
      storedPerParty: this.#stored,
    });
  }

  /**
   * Zeroes the counters of {@link SmpcSession.stats}.
   * @example
   * ```ts
   * session.resetStats();
   * ```
   */
  resetStats(): void {
    this.#stats = { online: emptyStats(this.parties), operations: {}, dealer: new Array<number>(this.parties).fill(0), requests: 0 };
  }

  /**
   * Stops every worker. Idempotent; pending operations reject with `ProtocolAbortError`.
   * @example
   * ```ts
   * await session.close();
   * await session.close(); // no-op
   * ```
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    const closed = new ProtocolAbortError('the session was closed');
    for (const p of this.#pending.values()) p.reject(closed);
    this.#pending.clear();
    this.#setBusy(false);
    this.#closing = this.#terminateAll();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
