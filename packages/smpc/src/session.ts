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
  assertArrayLike,
  assertFiniteArray,
  assertFunction,
  assertInteger,
  assertOptions,
  deserializeError,
  describeValue,
  fixedPointBound,
  siblingModuleUrl,
  workerExecArgv,
  type SerializedError,
} from '@ppml/core';
import { ProtocolAbortError } from './errors.ts';
import { allKeys } from './option-keys.ts';
import {
  EXP_MAX,
  EXP_SATURATION,
  RECIPROCAL_DOMAIN,
  RING,
  SIGMOID_SATURATION,
  TRUNC,
  addRange,
  describeRange,
  hull,
  maxAbsOf,
  mulRange,
  negRange,
  publicRange,
  scaleRange,
  squareRange,
  subRange,
  symmetric,
  truncRange,
  within,
  type Range,
} from './bounds.ts';
import type { FaultInjection, FromWorker, Operation } from './messages.ts';
import { materialFor, zerosFor } from './plan.ts';
import { fieldsOf, type MaterialRequest } from './preprocessing.ts';

export type { FaultInjection } from './messages.ts';

/** The keys of {@link SmpcSessionOptions}; any other key is refused with a `TypeError`. */
/** Node's timers store the delay as a signed 32-bit integer of ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Most ring elements one preprocess call may ask for per kind of material (2^24: 128 MiB per array, and a
 * party holds a few arrays per kind): more would exhaust a worker's heap and abort the session.
 */
const MAX_PREPROCESS_ELEMENTS = 2 ** 24;

/** Default maxAbs is 2^(DEFAULT_MAX_ABS_BITS - f); see {@link SmpcSessionOptions.maxAbs}. */
const DEFAULT_MAX_ABS_BITS = 26;

const START_OPTION_KEYS = allKeys<SmpcSessionOptions>()('parties', 'protocol', 'fractionalBits', 'timeoutMs', 'maxAbs', 'onWorkerMessage', 'faultInjection');

/** Options of {@link SmpcSession.start}. */
export interface SmpcSessionOptions {
  /** Number of parties: >= 2 for 'additive', exactly 3 for 'replicated'. */
  readonly parties: number;
  /** 'additive' (n parties, dealer triples) or 'replicated' (3 parties, ABY3). Default 'additive'. */
  readonly protocol?: 'additive' | 'replicated';
  /** Fractional bits of the fixed-point encoding, an integer in [8, 20]. Default 16. */
  readonly fractionalBits?: number;
  /**
   * Abort when no party makes progress (finishes an operation or a communication round) for this long, in ms:
   * a number in [1, 2^31 - 1] (Node's timer limit). Default 60,000. Must exceed the longest purely local step
   * (e.g. a very large local matrix product).
   */
  readonly timeoutMs?: number;
  /**
   * Largest |x| accepted as input or public operand, at most 2^(53 - fractionalBits) (inputs are encoded
   * through doubles). It is also the bound every shared tensor declares unless `share` is given a tighter one:
   * operations check the propagated bounds and throw a `RangeError` where a result could leave the
   * fixed-point range. Default 2^(26 - fractionalBits) (1024 at 16 bits): a product of two inputs then uses 52
   * of the 62 bits the truncation allows, leaving room for sums and dot products of up to 1023 products.
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

/** Heap use of one worker thread, from {@link SmpcSession.memoryUsage}. */
export interface WorkerMemory {
  /** Bytes of the worker's JS heap in use. */
  readonly heapUsed: number;
  /** Bytes of memory outside the heap held by the worker's objects (typed-array backing stores: the shares). */
  readonly external: number;
}

/** Result of {@link SmpcSession.memoryUsage}. */
export interface SessionMemory {
  /** One entry per party. */
  readonly parties: readonly WorkerMemory[];
  readonly dealer: WorkerMemory;
  /**
   * True when every worker collected its garbage before reporting (the process runs with `--expose-gc`): the
   * figures are then live memory. Otherwise they include garbage not yet collected.
   */
  readonly collected: boolean;
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

/** The keys of one {@link PreprocessPlan.matmul} entry. */
const MATMUL_PLAN_KEYS = allKeys<NonNullable<PreprocessPlan['matmul']>[number]>()('m', 'k', 'n', 'count');

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
  /**
   * Public interval of ring integers (values times 2^f) that contains every element: from the bound declared
   * at `share`, propagated through each operation (see `bounds.ts`). It depends on declared bounds and shapes
   * only, never on the secret values.
   */
  readonly range: Range;

  /** @internal Tensors are made by {@link SmpcSession.share} and the session's operations. */
  constructor(session: SmpcSession, id: number, rows: number, cols: number, range: Range = RING) {
    if (!(session instanceof SmpcSession) || !Number.isSafeInteger(id) || !Number.isSafeInteger(rows) || !Number.isSafeInteger(cols)) {
      throw new TypeError('SecretTensor has no public constructor: use session.share(owner, values, shape)');
    }
    this.session = session;
    this.id = id;
    this.rows = rows;
    this.cols = cols;
    this.range = range;
  }

  /** Number of elements. */
  get length(): number {
    return this.rows * this.cols;
  }

  /**
   * Public bound on |x| for every element (declared at `share`, propagated through the operations).
   * @example
   * ```ts
   * const x = await session.share(0, [1, 2], undefined, { maxAbs: 10 });
   * session.add(x, x).maxAbs; // 20
   * ```
   */
  get maxAbs(): number {
    return maxAbsOf(this.range, this.session.fractionalBits);
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
  /**
   * For a 1 x 1 result of {@link SmpcSession.max}: the tensor it is the maximum of. The tournament selects an
   * element exactly (a 0/1 product, no truncation), so x - max(x) <= 0 holds exactly and `sub` can give that
   * difference the range [lo - hi, 0] instead of the symmetric [lo - hi, hi - lo]: exp(x - max x) then lies
   * in exp's domain (the softmax pattern).
   */
  readonly #maxOf = new WeakMap<SecretTensor, SecretTensor>();
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
    // `private` binds TypeScript callers only; a JavaScript caller reaching `new SmpcSession(...)` gets a named
    // error instead of a half-built session.
    if (options === null || typeof options !== 'object' || !Array.isArray(workers) || !(dealer instanceof Worker)) {
      throw new TypeError('SmpcSession has no public constructor: use SmpcSession.start(options)');
    }
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
    // Unknown keys are refused, not ignored: a typo such as `timeoutMS` or an option this version does not
    // have (`dealer: 'none'`) would otherwise run with the defaults while the caller believes otherwise.
    assertOptions('options', options, START_OPTION_KEYS);
    const protocol = options.protocol ?? 'additive';
    if (typeof protocol !== 'string') {
      throw new TypeError(`protocol must be 'additive' or 'replicated', got ${describeValue(protocol)}`);
    }
    if (protocol !== 'additive' && protocol !== 'replicated') {
      throw new RangeError(`protocol must be 'additive' or 'replicated', got ${describeValue(protocol)}`);
    }
    const parties = options.parties;
    assertInteger('parties', parties, 2, 16);
    if (protocol === 'replicated' && parties !== 3) {
      throw new RangeError(`parties must be 3 for the replicated protocol, got ${parties}`);
    }
    const fractionalBits = options.fractionalBits ?? DEFAULT_FRACTIONAL_BITS;
    assertInteger('fractionalBits', fractionalBits, 8, 20);
    // A callback that is not a function would throw inside a worker listener at the first message, where
    // nothing can catch it: check it here.
    assertFunction('onWorkerMessage', options.onWorkerMessage, true);
    const timeoutMs = options.timeoutMs ?? 60_000;
    if (typeof timeoutMs !== 'number') throw new TypeError(`timeoutMs must be a number, got ${describeValue(timeoutMs)}`);
    // Node's timers hold a signed 32-bit delay: a longer one fires after 1 ms (TimeoutOverflowWarning), which
    // would abort the session at once.
    if (!(timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) {
      throw new RangeError(`timeoutMs must be a number in [1, ${MAX_TIMEOUT_MS}] (2^31 - 1 ms, about 24.8 days), got ${describeValue(timeoutMs)}`);
    }
    const maxAbs = options.maxAbs ?? 2 ** (DEFAULT_MAX_ABS_BITS - fractionalBits);
    if (typeof maxAbs !== 'number') throw new TypeError(`maxAbs must be a number, got ${describeValue(maxAbs)}`);
    // One bound, the encoder's: inputs are encoded through doubles, round(x 2^f) is exact only for
    // |x 2^f| <= 2^53 (core's fixedPointBound), and a larger value would make a party's encoder throw
    // mid-protocol and abort the session.
    const hardBound = fixedPointBound(fractionalBits);
    if (!(maxAbs > 0 && maxAbs <= hardBound)) {
      throw new RangeError(`maxAbs must be a number in (0, 2^${53 - fractionalBits}] for ${fractionalBits} fractional bits, got ${describeValue(maxAbs)}`);
    }
    const fault = options.faultInjection ?? null;
    if (fault !== null) {
      assertOptions('faultInjection', fault, allKeys<FaultInjection>()('party', 'operation', 'kind'));
      if (!Number.isInteger(fault.party) || fault.party < 0 || fault.party >= parties) {
        throw new RangeError(`faultInjection.party must be a party id in [0, ${parties - 1}], got ${describeValue(fault?.party)}`);
      }
      if (!['throw', 'exit', 'hang', 'corrupt'].includes(fault.kind)) {
        throw new RangeError(`faultInjection.kind must be 'throw', 'exit', 'hang' or 'corrupt', got ${describeValue(fault.kind)}`);
      }
      if (typeof fault.operation !== 'string') {
        throw new TypeError(`faultInjection.operation must be an operation name, got ${describeValue(fault.operation)}`);
      }
    }
    // Only the flags a worker needs (resolution conditions), never the parent's whole execArgv: flags such as
    // --expose-gc or --input-type are valid for a process but make `new Worker` throw or the worker fail.
    const partyUrl = siblingModuleUrl(import.meta.url, './party-worker');
    const dealerUrl = siblingModuleUrl(import.meta.url, './dealer-worker');
    const workerFault = fault === null ? null : { party: fault.party, operation: fault.operation, kind: fault.kind };
    const workers: Worker[] = [];
    for (let p = 0; p < parties; p++) {
      workers.push(
        new Worker(partyUrl, {
          execArgv: workerExecArgv(partyUrl),
          workerData: { party: p, parties, protocol, fractionalBits, fault: workerFault },
        }),
      );
    }
    const dealer = new Worker(dealerUrl, {
      execArgv: workerExecArgv(dealerUrl),
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
      if (this.#tap !== undefined) {
        // A throw escaping an event listener is an uncaught exception that ends the process: the user's
        // callback must not be able to do that. Its failure aborts this session instead, with the cause kept.
        try {
          this.#tap(who, m);
        } catch (e) {
          this.#abort(new ProtocolAbortError(`the onWorkerMessage callback threw: ${e instanceof Error ? e.message : describeValue(e)}`, { cause: e }));
          return;
        }
      }
      // Same reasoning for a message this thread cannot process: it aborts the run, it does not end the process.
      try {
        this.#onMessage(who, m);
      } catch (e) {
        const from = who === 'dealer' ? 'the dealer' : `party ${who}`;
        this.#abort(new ProtocolAbortError(`a message from ${from} could not be processed`, { cause: e, party: who === 'dealer' ? -1 : who }));
      }
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
    if (who === 'dealer' || m.type === 'ready' || m.type === 'progress' || m.type === 'memory') return;
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
    // Once termination has begun the workers stay ref'd until they exit (see #terminateAll).
    if (this.#terminating === null) {
      for (const w of this.#alive) {
        if (busy) w.ref();
        else w.unref();
      }
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
    // Idle workers are unref'd so that an idle session does not keep a script alive. A worker stays unref'd
    // while it terminates, so the event loop could empty before its 'exit' arrives: `terminate()` would then
    // never settle and a script awaiting close() would end with exit code 13 (unsettled top-level await).
    // Ref'ing each worker keeps the loop alive until it has exited.
    this.#terminating ??= Promise.all(
      [...this.#workers, this.#dealer].map((w) => {
        w.ref();
        return w.terminate();
      }),
    ).then(() => {
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

  #tensor(rows: number, cols: number, range: Range): SecretTensor {
    const t = new SecretTensor(this, this.#nextId++, rows, cols, range);
    this.#live.add(t.id);
    return t;
  }

  /**
   * The range of an operation's result (or of a product before its truncation), checked against `limit`
   * before anything is queued: a result that could leave it would be silently wrong in some runs.
   */
  #fits(op: string, r: Range, limit: Range, inputs: readonly SecretTensor[]): Range {
    if (within(r, limit)) return r;
    const f = this.fractionalBits;
    const from = inputs.map((x, i) => `|${inputs.length === 1 ? 'x' : String.fromCharCode(97 + i)}| <= ${x.maxAbs}`).join(', ');
    const what =
      limit === TRUNC
        ? `the product before truncation could reach ${describeRange(r, 2 * f)}, outside the truncation's range [-2^${62 - 2 * f}, 2^${62 - 2 * f})`
        : `the result could reach ${describeRange(r, f)}, outside the fixed-point range [-2^${63 - f}, 2^${63 - f})`;
    throw new RangeError(
      `${op}: ${what} given the public bounds ${from}. Declare tighter bounds: share(owner, values, shape, { maxAbs }) ` +
        `or SmpcSession.start({ maxAbs }), or scale the inputs down.`,
    );
  }

  #partyId(party: unknown, name: string): number {
    if (!Number.isInteger(party) || (party as number) < 0 || (party as number) >= this.parties) {
      throw new RangeError(`${name} must be a party id in [0, ${this.parties - 1}], got ${describeValue(party)}`);
    }
    return party as number;
  }

  #values(values: unknown, name: string, bound = this.maxAbs): Float64Array {
    if (typeof values === 'number') values = [values];
    assertFiniteArray(name, values as ArrayLike<number>);
    const arr = Float64Array.from(values as ArrayLike<number>);
    for (let i = 0; i < arr.length; i++) {
      if (Math.abs(arr[i]) > bound) {
        const range = bound === this.maxAbs ? 'the fixed-point input range' : 'the declared options.maxAbs';
        throw new RangeError(`${name}[${i}] must have |x| <= ${bound} (${range}), got ${arr[i]}`);
      }
    }
    return arr;
  }

  /**
   * Party `owner` secret-shares `values` (a vector, or a rows x cols matrix when `shape` is given). Only that
   * party receives the plaintext. `options.maxAbs` declares a public bound on |x| (default the session's
   * `maxAbs`, at most that), and `options.min` / `options.max` a public interval inside it (for `exp`, whose
   * domain ends at 6, and `reciprocal`, which needs x in [0.01, 500]). The declared interval becomes the
   * tensor's range ({@link SecretTensor.maxAbs}), from which every later operation checks that its result
   * stays in range. A tight bound lets longer sums and dot products pass; it is public, so choose it from what
   * is public (the data's documented scale), not from the secret values. Throws `RangeError` for unknown
   * parties, NaN, values outside the declared interval or a shape that does not match.
   * @example
   * ```ts
   * const x = await session.share(1, Float64Array.of(1, 2, 3, 4), [2, 2]);
   * const z = await session.share(0, standardized, [rows, 30], { maxAbs: 16 });
   * const d = await session.share(2, durations, undefined, { min: 0.01, max: 500 }); // reciprocal(d) is allowed
   * ```
   */
  async share(
    owner: number,
    values: ArrayLike<number>,
    shape?: readonly [number, number],
    options?: { readonly maxAbs?: number; readonly min?: number; readonly max?: number },
  ): Promise<SecretTensor> {
    this.#partyId(owner, 'owner');
    assertOptions('options', options, ['maxAbs', 'min', 'max'], true);
    const declared = options?.maxAbs ?? this.maxAbs;
    if (typeof declared !== 'number') throw new TypeError(`options.maxAbs must be a number, got ${describeValue(declared)}`);
    if (!(declared > 0 && declared <= this.maxAbs)) {
      throw new RangeError(`options.maxAbs must be a number in (0, ${this.maxAbs}] (the session's maxAbs), got ${describeValue(declared)}`);
    }
    for (const key of ['min', 'max'] as const) {
      const b = options?.[key];
      if (b === undefined) continue;
      if (typeof b !== 'number') throw new TypeError(`options.${key} must be a number, got ${describeValue(b)}`);
      if (!(b >= -declared && b <= declared)) {
        throw new RangeError(`options.${key} must be a number in [-${declared}, ${declared}] (|x| <= maxAbs), got ${describeValue(b)}`);
      }
    }
    const lo = options?.min ?? -declared;
    const hi = options?.max ?? declared;
    if (lo > hi) throw new RangeError(`options.min must be <= options.max, got min = ${lo} and max = ${hi}`);
    const v = this.#values(values, 'values', declared);
    if (options?.min !== undefined || options?.max !== undefined) {
      for (let i = 0; i < v.length; i++) {
        if (!(v[i] >= lo && v[i] <= hi)) throw new RangeError(`values[${i}] must be in [${lo}, ${hi}] (the declared options.min and options.max), got ${v[i]}`);
      }
    }
    if (v.length === 0) throw new RangeError('values must not be empty');
    if (shape !== undefined) {
      assertArrayLike('shape', shape, 2, 2);
      if (typeof shape[0] !== 'number' || typeof shape[1] !== 'number') {
        throw new TypeError(`shape must be [rows, cols] (two integers), got [${describeValue(shape[0])}, ${describeValue(shape[1])}]`);
      }
    }
    const [rows, cols] = shape ?? [v.length, 1];
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || rows * cols !== v.length) {
      throw new RangeError(`shape must be [rows, cols] with rows * cols = ${v.length}, got ${describeValue(shape)}`);
    }
    // |x| <= declared implies |round(x 2^f)| <= ceil(declared 2^f), and min <= x <= max implies
    // round(min 2^f) <= round(x 2^f) <= round(max 2^f): the encoder's rounding is monotone.
    const sym = symmetric(BigInt(Math.ceil(declared * 2 ** this.fractionalBits)));
    const enc = publicRange([lo, hi], this.fractionalBits);
    const range = { lo: options?.min === undefined ? sym.lo : enc.lo, hi: options?.max === undefined ? sym.hi : enc.hi };
    const t = this.#tensor(rows, cols, range);
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
    const f = this.fractionalBits;
    const range =
      name === 'add'
        ? this.#fits(name, addRange(a.range, b.range), RING, [a, b])
        : name === 'sub'
          ? this.#subRange(a, b)
          : truncRange(this.#fits(name, mulRange(a.range, b.range), TRUNC, [a, b]), f);
    const out = this.#tensor(shape.rows, shape.cols, range);
    void this.#submit(name, out.length, { op: name, out: out.id, a: a.id, b: b.id });
    return out;
  }

  #subRange(a: SecretTensor, b: SecretTensor): Range {
    const r = this.#fits('sub', subRange(a.range, b.range), RING, [a, b]);
    // b = max(a) is one of a's elements, exactly: a - b <= 0.
    return this.#maxOf.get(b) === a && r.hi > 0n ? { lo: r.lo, hi: 0n } : r;
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
   * Element-wise a - b (either may be 1 x 1 and is then broadcast; other shape mismatches throw). Local. When
   * b is `max(a)` of a vector (or of a 1 x n matrix), the result's range is known to be <= 0, so
   * `exp(sub(x, max(x)))` (the softmax pattern) stays inside exp's domain whatever x's bound.
   * @example
   * ```ts
   * const d = session.sub(a, b);
   * const e = session.exp(session.sub(x, session.max(x))); // every element in (0, 1]
   * ```
   */
  sub(a: SecretTensor, b: SecretTensor): SecretTensor {
    return this.#binary('sub', a, b);
  }

  /**
   * Element-wise fixed-point product with exact-wrap truncation (error at most 2^-f per product); either operand
   * may be 1 x 1 and is then broadcast, other shape mismatches throw. Additive: 2 rounds (Beaver opening,
   * truncation opening); replicated: 1 round. Throws `RangeError` when the public bounds allow a product outside
   * the truncation's range [-2^(62 - 2f), 2^(62 - 2f)).
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
    const f = this.fractionalBits;
    const one = 1n << BigInt(f);
    // Approximations: a margin of 1/64 around the mathematical range covers their documented errors.
    const margin = one >> 6n;
    let range: Range;
    let clamp = false;
    switch (name) {
      case 'neg':
        range = this.#fits(name, negRange(a.range), RING, [a]);
        break;
      case 'square':
        range = truncRange(this.#fits(name, squareRange(a.range), TRUNC, [a]), f);
        break;
      case 'relu':
        range = { lo: a.range.lo < 0n ? 0n : a.range.lo, hi: a.range.hi < 0n ? 0n : a.range.hi };
        break;
      case 'sigmoid':
        // Inputs beyond +-SIGMOID_SATURATION need the saturating variant (one more comparison), which gives
        // 0 or 1 there; inside it the cheaper one is exact to the documented error.
        clamp = !within(a.range, symmetric(BigInt(SIGMOID_SATURATION) << BigInt(f)));
        range = { lo: -margin, hi: one + margin };
        break;
      case 'exp': {
        // Above EXP_MAX the approximation is outside its documented error and soon outside the truncation's
        // range: refuse. Below -EXP_SATURATION the saturating variant gives 0 (e^-1024 is below 2^-20).
        if (a.range.hi > BigInt(EXP_MAX) << BigInt(f)) {
          throw new RangeError(
            `exp: x must be <= ${EXP_MAX} (the approximation's domain is [-${EXP_SATURATION}, ${EXP_MAX}]; below -${EXP_SATURATION} the result is 0), ` +
              `but x's public range is ${describeRange(a.range, f)}. Declare a tighter bound: share(owner, values, shape, { max: ${EXP_MAX} }) ` +
              `or { maxAbs: ${EXP_MAX} }, or shift by the maximum first: exp(sub(x, max(x))) has a range <= 0.`,
          );
        }
        clamp = a.range.lo < -(BigInt(EXP_SATURATION) << BigInt(f));
        // The result is in [0, e^hi] up to the relative error x^2/1500 + 1e-3 (documented on `exp`).
        const top = Math.max(-EXP_SATURATION, Number(a.range.hi) / 2 ** f);
        range = { lo: -margin, hi: BigInt(Math.ceil(Math.exp(top) * 1.05 * 2 ** f)) + margin };
        break;
      }
      case 'reciprocal': {
        // Newton-Raphson converges only on the documented domain (see RECIPROCAL_DOMAIN): refuse anything else.
        const domain = publicRange([RECIPROCAL_DOMAIN.lo, RECIPROCAL_DOMAIN.hi], f);
        if (!within(a.range, domain)) {
          throw new RangeError(
            `reciprocal: x must be in [${RECIPROCAL_DOMAIN.lo}, ${RECIPROCAL_DOMAIN.hi}] (outside it Newton-Raphson does not converge), ` +
              `but x's public range is ${describeRange(a.range, f)}. Declare the interval: ` +
              `share(owner, values, shape, { min: ${RECIPROCAL_DOMAIN.lo}, max: ${RECIPROCAL_DOMAIN.hi} }) or a tighter one, ` +
              `or move x into it with addPublic / mulPublic.`,
          );
        }
        // 1/x <= 1/lo, absolute error <= 1e-3/x + 3e-5 at 16 bits; 2% and one 1/64 margin cover every f.
        const top = 2 ** f / Number(a.range.lo);
        range = { lo: -margin, hi: BigInt(Math.ceil(top * 1.02 * 2 ** f)) + margin };
        break;
      }
    }
    const out = this.#tensor(a.rows, a.cols, range);
    void this.#submit(name, a.length, clamp ? { op: name, out: out.id, a: a.id, clamp } : { op: name, out: out.id, a: a.id });
    return out;
  }

  #publicOp(name: 'addPublic' | 'mulPublic' | 'lessThanPublic', a: SecretTensor, values: number | ArrayLike<number>): SecretTensor {
    this.#check(a, 'x');
    const v = this.#values(values, 'values');
    if (v.length !== 1 && v.length !== a.length) {
      throw new RangeError(`values must have 1 or ${a.length} elements, got ${v.length}`);
    }
    const f = this.fractionalBits;
    const pub = publicRange(v, f);
    const range =
      name === 'addPublic'
        ? this.#fits(name, addRange(a.range, pub), RING, [a])
        : name === 'mulPublic'
          ? truncRange(this.#fits(name, mulRange(a.range, pub), TRUNC, [a]), f)
          : (this.#fits('lessThan', subRange(a.range, pub), RING, [a]), { lo: 0n, hi: 1n << BigInt(f) });
    const out = this.#tensor(a.rows, a.cols, range);
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
   * (2 rounds); replicated: local products then 1 round. Throws `RangeError` at the call when k times the
   * largest product the public bounds allow (`a.maxAbs * b.maxAbs`) could leave the truncation's range
   * 2^(62 - 2f) (2^30 at 16 bits): declare tighter bounds at `share`.
   * @example
   * ```ts
   * const y = session.matmul(x, w); // (rows x d) (d x 1)
   * ```
   */
  matmul(a: SecretTensor, b: SecretTensor): SecretTensor {
    this.#check(a, 'a');
    this.#check(b, 'b');
    if (a.cols !== b.rows) throw new RangeError(`a.cols must equal b.rows, got ${a.rows}x${a.cols} and ${b.rows}x${b.cols}`);
    // Each output is a sum of k products, all truncated once: the whole sum must be in the truncation's range.
    const z = this.#fits('matmul', scaleRange(mulRange(a.range, b.range), a.cols), TRUNC, [a, b]);
    const out = this.#tensor(a.rows, b.cols, truncRange(z, this.fractionalBits));
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
    const out = this.#tensor(x.cols, x.rows, x.range);
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
    const terms = axis === undefined ? x.length : axis === 0 ? x.rows : x.cols;
    const range = this.#fits('sum', scaleRange(x.range, terms), RING, [x]);
    const out = axis === undefined ? this.#tensor(1, 1, range) : axis === 0 ? this.#tensor(1, x.cols, range) : this.#tensor(x.rows, 1, range);
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
    if (!Array.isArray(list)) throw new TypeError(`list must be a non-empty array of SecretTensor, got ${describeValue(list)}`);
    if (list.length === 0) throw new RangeError('list must be a non-empty array of SecretTensor');
    // An index loop, not forEach: a hole in a sparse array must be reported, not skipped.
    for (let i = 0; i < list.length; i++) this.#check(list[i], `list[${i}]`);
    const cols = list[0].cols;
    for (const x of list) if (x.cols !== cols) throw new RangeError(`every tensor must have ${cols} columns, got ${x.cols}`);
    const out = this.#tensor(
      list.reduce((s, x) => s + x.rows, 0),
      cols,
      hull(list.map((x) => x.range)),
    );
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
      throw new RangeError(`start and end must be integers with 0 <= start < end <= ${x.rows}, got ${describeValue(start)} and ${describeValue(end)}`);
    }
    const out = this.#tensor(end - start, x.cols, x.range);
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
    const out = this.#tensor(rows, cols, x.range);
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
      this.#fits('lessThan', subRange(a.range, b.range), RING, [a, b]);
      const out = this.#tensor(shape.rows, shape.cols, { lo: 0n, hi: 1n << BigInt(this.fractionalBits) });
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
   * Logistic sigmoid 1 / (1 + e^-x). Absolute error <= 5e-4 for every x at 16 fractional bits (exp of -|x|
   * by (1 - |x|/1024)^1024 at 26 bits, two Newton steps for the reciprocal on [1, 2]). When x's public range
   * exceeds +-1024 (typically after a matmul) one more comparison zeroes exp(-|x|) beyond 1024, where the
   * result is then exactly 0 or 1: 9 more rounds.
   * @example
   * ```ts
   * const p = session.sigmoid(logits);
   * ```
   */
  sigmoid(x: SecretTensor): SecretTensor {
    return this.#unary('sigmoid', x);
  }

  /**
   * e^x by (1 + x/1024)^1024 at max(f + 6, 22) fractional bits (CrypTen's limit method with two more squarings
   * and extra precision). Relative error <= x^2/1500 + 1e-3 for |x| <= 6 (0.16% for |x| <= 1), absolute error
   * <= 4e-4 for x <= 0, plus one unit 2^-f of the output. Measured bounds: test/approximations.test.ts (f = 16)
   * and test/approximation-domains.test.ts (f = 8, 16, 20).
   *
   * Domain, checked on x's public range at the call: x <= 6, else a `RangeError` (declare
   * `share(..., { max: 6 })` or `{ maxAbs: 6 }`, or use `exp(sub(x, max(x)))`, whose range is <= 0). Below
   * -1024 (where 1 + x/1024 is negative and its powers grow) the true value is under e^-1024, 0 at every
   * supported f: when x's range reaches below -1024, one more comparison [x < -1024] zeroes the base there
   * and the result is exactly 0 (9 more rounds, as sigmoid's saturating variant).
   * @example
   * ```ts
   * const x = await session.share(0, logits, undefined, { max: 6 });
   * const e = session.exp(x);
   * const p = session.exp(session.sub(scores, session.max(scores))); // any bound: the range is <= 0
   * ```
   */
  exp(x: SecretTensor): SecretTensor {
    return this.#unary('exp', x);
  }

  /**
   * 1/x for x in [0.01, 500] by Newton-Raphson (12 steps) from y0 = 3 e^(0.5 - x) + 0.003 (the start value in
   * CrypTen's documentation). At f = 16 the absolute error is <= 1e-3/x + 3e-5 (relative <= 0.1% below x = 1).
   * Outside [0.01, 500] the iteration does not converge, so x's public range must lie inside it: otherwise a
   * `RangeError` at the call (declare `share(..., { min: 0.01, max: 500 })` or tighter, or shift x into the
   * domain with `addPublic`).
   * @example
   * ```ts
   * const x = await session.share(0, Float64Array.of(0.5, 4, 250), undefined, { min: 0.01, max: 500 });
   * const inv = session.reciprocal(x);
   * ```
   */
  reciprocal(x: SecretTensor): SecretTensor {
    return this.#unary('reciprocal', x);
  }

  #reduce(name: 'max' | 'argmax', x: SecretTensor): SecretTensor {
    this.#check(x, 'x');
    const [rows, cols] = x.cols === 1 ? [1, x.rows] : [x.rows, x.cols];
    // The tournament compares differences of elements: they must not wrap.
    this.#fits(name, subRange(x.range, x.range), RING, [x]);
    const range = name === 'max' ? x.range : { lo: 0n, hi: 1n << BigInt(this.fractionalBits) };
    const out = name === 'max' ? (x.cols === 1 ? this.#tensor(1, 1, range) : this.#tensor(x.rows, 1, range)) : this.#tensor(x.rows, x.cols, range);
    if (name === 'max' && out.length === 1) this.#maxOf.set(out, x);
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
    assertOptions('plan', plan, allKeys<PreprocessPlan>()('mul', 'lessThan', 'truncations', 'relu', 'sigmoid', 'matmul'));
    if (plan.matmul !== undefined) {
      if (!Array.isArray(plan.matmul)) throw new TypeError(`plan.matmul must be an array, got ${describeValue(plan.matmul)}`);
      // An index loop, not forEach: a hole in a sparse array must be reported, not skipped.
      for (let i = 0; i < plan.matmul.length; i++) assertOptions(`plan.matmul[${i}]`, plan.matmul[i], MATMUL_PLAN_KEYS);
    }
    const f = this.fractionalBits;
    const additive = this.protocol === 'additive';
    // Ring elements of the largest array one item of `op` needs (dealer material, or replicated zero words).
    const perItem = (op: string): number => {
      let most = 1;
      for (const r of materialFor(op, 1, additive, f)) for (const fs of fieldsOf(r)) most = Math.max(most, r.count * fs.perItem);
      if (!additive) most = Math.max(most, zerosFor(op, 1).xor, zerosFor(op, 1).arith);
      return most;
    };
    // Counts are refused up front when the material could not be allocated, instead of killing a party or the
    // dealer mid-run (or looping 2^31 times below).
    const count = (v: unknown, name: string, per = 1): number => {
      if (v === undefined) return 0;
      const most = Math.floor(MAX_PREPROCESS_ELEMENTS / per);
      if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > most) {
        throw new RangeError(
          `${name} must be an integer in [0, ${most}] (one preprocess call allocates at most ${MAX_PREPROCESS_ELEMENTS} ring elements ` +
            `per kind of material; split larger plans over several calls), got ${describeValue(v)}`,
        );
      }
      return v as number;
    };
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
    plan1('mul', count(plan.mul, 'plan.mul', perItem('mul')));
    plan1('lessThan', count(plan.lessThan, 'plan.lessThan', perItem('lessThan')));
    plan1('mulPublic', count(plan.truncations, 'plan.truncations', perItem('mulPublic')));
    plan1('relu', count(plan.relu, 'plan.relu', perItem('relu')));
    // Sigmoids after a matrix product usually have inputs beyond +-1024: plan the saturating variant (a superset).
    plan1('sigmoidClamped', count(plan.sigmoid, 'plan.sigmoid', perItem('sigmoidClamped')));
    (plan.matmul ?? []).forEach((mm, i) => {
      const { m, k, n } = mm;
      for (const [v, name] of [[m, 'm'], [k, 'k'], [n, 'n']] as const) {
        if (count(v, `plan.matmul[${i}].${name}`) === 0) throw new RangeError(`plan.matmul[${i}].${name} must be >= 1`);
      }
      let per = 1;
      for (const r of materialFor('matmul', m * n, additive, f, { m, k, n })) for (const fs of fieldsOf(r)) per = Math.max(per, r.count * fs.perItem);
      if (per > MAX_PREPROCESS_ELEMENTS) {
        throw new RangeError(
          `plan.matmul[${i}] needs ${per} ring elements per matrix product (dealer matrix triples and truncations), more than the ` +
            `${MAX_PREPROCESS_ELEMENTS} one preprocess call allocates; got m = ${m}, k = ${k}, n = ${n}`,
        );
      }
      const c = count(mm.count ?? 1, `plan.matmul[${i}].count`, per);
      const one = materialFor('matmul', m * n, additive, f, { m, k, n });
      add(one.map((r) => ({ ...r, count: r.count * c })));
    });
    for (const r of merged.values()) {
      const elements = r.count * Math.max(...fieldsOf(r).map((fs) => fs.perItem));
      if (elements > MAX_PREPROCESS_ELEMENTS) {
        throw new RangeError(
          `plan needs ${elements} ring elements of '${r.kind}' material in total, more than the ${MAX_PREPROCESS_ELEMENTS} one preprocess call ` +
            `allocates; split it over several calls`,
        );
      }
    }
    if (zeros.xor > MAX_PREPROCESS_ELEMENTS || zeros.arith > MAX_PREPROCESS_ELEMENTS) {
      throw new RangeError(
        `plan needs ${Math.max(zeros.xor, zeros.arith)} shares of zero in total, more than the ${MAX_PREPROCESS_ELEMENTS} one preprocess call ` +
          `allocates; split it over several calls`,
      );
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
   * Heap use of every party and of the dealer, for diagnostics and leak tests. Run the process with
   * `node --expose-gc` to have each worker collect its garbage first (`collected: true`): the figures are then
   * live memory, which does not move with load or with V8's collection schedule. Reported between
   * operations; call it after {@link SmpcSession.sync} to measure an idle session.
   * @example
   * ```ts
   * await session.sync();
   * const { parties, collected } = await session.memoryUsage();
   * console.log(collected, parties.map((p) => p.heapUsed + p.external));
   * ```
   */
  async memoryUsage(): Promise<SessionMemory> {
    this.#usable();
    const workers = [...this.#workers, this.#dealer];
    const reports = workers.map(
      (w) =>
        new Promise<WorkerMemory & { collected: boolean }>((resolve) => {
          const onMessage = (m: FromWorker): void => {
            if (m.type !== 'memory') return;
            w.off('message', onMessage);
            resolve({ heapUsed: m.heapUsed, external: m.external, collected: m.collected });
          };
          w.on('message', onMessage);
          w.postMessage({ type: 'memory' });
        }),
    );
    // An abort or close while waiting rejects instead of leaving the caller hanging.
    let stop: (e: Error) => void = () => {};
    const stopped = new Promise<never>((_, reject) => {
      stop = reject;
      this.#onAbort.push(reject);
    });
    // Idle workers are unref'd: ref them while the replies are due, or a plain script's loop could empty.
    this.#setBusy(true);
    const timer = setTimeout(
      () => this.#abort(new ProtocolAbortError(`a worker sent no memory report within ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    let all: (WorkerMemory & { collected: boolean })[];
    try {
      all = await Promise.race([Promise.all(reports), stopped]);
    } finally {
      clearTimeout(timer);
      this.#onAbort = this.#onAbort.filter((r) => r !== stop);
      this.#setBusy(this.#pending.size > 0);
    }
    const parties = all.slice(0, this.parties).map(({ heapUsed, external }) => ({ heapUsed, external }));
    const d = all[this.parties] as WorkerMemory & { collected: boolean };
    return { parties, dealer: { heapUsed: d.heapUsed, external: d.external }, collected: all.every((r) => r.collected) };
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
    for (const r of this.#onAbort) r(closed);
    this.#onAbort = [];
    this.#setBusy(false);
    this.#closing = this.#terminateAll();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
