/**
 * The session API: {@link SmpcSession} queues operations on {@link SecretTensor} handles, validates arguments,
 * tracks shapes and public ranges (`bounds.ts`), and counts rounds and bytes (`operation-queue.ts`). Where the
 * parties run is a {@link Cluster}: `SmpcSession.start` runs every party and the dealer on worker threads of this
 * process, joined by a full mesh of `MessageChannel`s (`cluster/worker-cluster.ts`); `SmpcSession.connect`
 * runs one party in this process, reaching the others and the dealer over mutually authenticated TLS
 * (`cluster/network-cluster.ts`). Either way every operation runs inside the parties, in the same order on every
 * party, and this side never holds a share: parties report acknowledgements and revealed plaintext only (see
 * `onWorkerMessage` to audit that). Option checks live in `session-options.ts`.
 *
 * Lifecycle (the failure modes of MP-SPDZ issue 558 and JIFF issue 37): a party that throws, exits, sends a
 * malformed message or makes no progress for `timeoutMs` aborts the whole run with a {@link ProtocolAbortError}
 * carrying the cause; every worker is then terminated (or every link closed, after an abort message to the
 * peers). `close()` is idempotent.
 * @module
 */
import {
  assertArrayLike,
  assertFiniteArray,
  assertInteger,
  assertOptions,
  deserializeError,
  describeValue,
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
import type { Cluster, MemoryReport } from './cluster/cluster.ts';
import { NetworkCluster } from './cluster/network-cluster.ts';
import { WorkerCluster } from './cluster/worker-cluster.ts';
import { WIRE_VERSION } from './network/mesh.ts';
import { checkConnectOptions, checkStartOptions, type SmpcConnectOptions, type SmpcSessionOptions } from './session-options.ts';
import { sessionDigest } from './transport/frames.ts';
import type { FromWorker, Operation } from './messages.ts';
import { SecretTensor, registerSession } from './secret-tensor.ts';
import { OperationQueue, type Pending, type SmpcStats } from './operation-queue.ts';
import { checkedProductsFor, materialFor, spdz2kMaterialFor, zerosFor } from './plan.ts';
import { fieldsOf, type MaterialRequest } from './preprocessing.ts';

export type { FaultInjection } from './messages.ts';
export type { SmpcSessionOptions, SmpcConnectOptions, PeerOption } from './session-options.ts';
export type { OperationStats, SmpcStats } from './operation-queue.ts';
export { SecretTensor } from './secret-tensor.ts';

/**
 * Most ring elements one preprocess call may ask for per kind of material (2^24: 128 MiB per array, and a
 * party holds a few arrays per kind): more would exhaust a worker's heap and abort the session.
 */
const MAX_PREPROCESS_ELEMENTS = 2 ** 24;
/** Random bits or triples one preprocess call makes under SPDZ2k (64 MiB of bits, 192 MiB of triples). */
const MAX_SPDZ2K_PREPROCESS = 2 ** 21;

/** Most elements of one input given by its shape alone (2^27: a 1 GiB share on the receiving parties). */
const MAX_INPUT_ELEMENTS = 2 ** 27;

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
  /** The dealer worker's memory; null when there is no dealer (dealer-free replicated sharing, or `connect`). */
  readonly dealer: WorkerMemory | null;
  /**
   * True when every worker collected its garbage before reporting (the process runs with `--expose-gc`): the
   * figures are then live memory. Otherwise they include garbage not yet collected.
   */
  readonly collected: boolean;
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
  /** 'trusted' when a dealer supplies the preprocessing, 'none' when the parties make it themselves. */
  readonly dealer: 'trusted' | 'none';
  /** 'semi-honest', or 'malicious' (every opening and product checked before a reveal; see the options). */
  readonly security: 'semi-honest' | 'malicious';
  /** Statistical security parameter of the malicious mode (40 by default; unused when semi-honest). */
  readonly statisticalSecurity: number;
  readonly fractionalBits: number;
  readonly timeoutMs: number;
  readonly maxAbs: number;
  readonly #cluster: Cluster;
  readonly #queue: OperationQueue;
  readonly #tap: ((from: number | 'dealer', message: unknown) => void) | undefined;
  #nextId = 1;
  #live = new Set<number>();
  /**
   * For a 1 x 1 result of {@link SmpcSession.max}: the tensor it is the maximum of. The tournament selects an
   * element exactly (a 0/1 product, no truncation), so x - max(x) <= 0 holds exactly and `sub` can give that
   * difference the range [lo - hi, 0] instead of the symmetric [lo - hi, hi - lo]: exp(x - max x) then lies
   * in exp's domain (the softmax pattern).
   */
  readonly #maxOf = new WeakMap<SecretTensor, SecretTensor>();
  /**
   * Across machines: the inputs as shared, by owner. Revealing one of them would send a party's raw input to
   * the others, so `reveal` refuses it (only computed tensors, or revealing an input to its own owner).
   */
  readonly #inputOf = new WeakMap<SecretTensor, number>();
  #abortError: ProtocolAbortError | null = null;
  #closing: Promise<void> | null = null;
  #lastProgress = Date.now();
  #watchdog: ReturnType<typeof setInterval> | null = null;

  private constructor(
    options: Required<
      Pick<SmpcSessionOptions, 'parties' | 'protocol' | 'fractionalBits' | 'timeoutMs' | 'maxAbs' | 'security' | 'statisticalSecurity'>
    > & {
      readonly withDealer: boolean;
    },
    cluster: Cluster,
    tap: SmpcSessionOptions['onWorkerMessage'],
  ) {
    // `private` binds TypeScript callers only; a JavaScript caller reaching `new SmpcSession(...)` gets a named
    // error instead of a half-built session.
    if (
      options === null ||
      typeof options !== 'object' ||
      cluster === null ||
      typeof cluster !== 'object' ||
      !Array.isArray((cluster as Cluster).hosted)
    ) {
      throw new TypeError('SmpcSession has no public constructor: use SmpcSession.start(options)');
    }
    this.parties = options.parties;
    this.protocol = options.protocol;
    this.dealer = options.withDealer ? 'trusted' : 'none';
    this.security = options.security;
    this.statisticalSecurity = options.statisticalSecurity;
    this.fractionalBits = options.fractionalBits;
    this.timeoutMs = options.timeoutMs;
    this.maxAbs = options.maxAbs;
    this.#cluster = cluster;
    this.#tap = tap;
    this.#queue = new OperationQueue(this.parties, this.security === 'malicious' && this.#cluster.hosted.length > 1);
    registerSession(this);
  }

  /**
   * Starts the party workers (and, with `dealer: 'trusted'`, the default for the additive protocol, the dealer) and connects
   * them. Resolves when every party is ready (for replicated sharing, after the pairwise X25519 key agreement).
   * Replicated sharing is dealer-free by default: the parties make their truncation pairs and comparison masks
   * themselves, and no dealer thread exists.
   * @example
   * ```ts
   * const session = await SmpcSession.start({ parties: 2, protocol: 'additive', timeoutMs: 10_000 });
   * ```
   */
  static async start(options: SmpcSessionOptions): Promise<SmpcSession> {
    const { parties, protocol, fractionalBits, timeoutMs, maxAbs, fault, withDealer, security, statisticalSecurity } =
      checkStartOptions(options);
    const workerFault = fault;
    // Module loading on a busy machine can take seconds: start-up gets at least 30 s.
    const cluster = new WorkerCluster({
      parties,
      protocol,
      fractionalBits,
      fault: workerFault,
      startMs: Math.max(timeoutMs, 30_000),
      dealer: withDealer,
      security,
      statisticalSecurity,
    });
    const session = new SmpcSession(
      { parties, protocol, fractionalBits, timeoutMs, maxAbs, withDealer, security, statisticalSecurity },
      cluster,
      options.onWorkerMessage,
    );
    await session.#connect();
    return session;
  }

  /**
   * Joins a session across machines as party `options.party`: this process runs that one party and holds only
   * its own inputs. It listens on `peers[party]`, dials the higher parties and the dealer if any (TLS 1.3, mutual
   * authentication, every certificate pinned by its SHA-256 fingerprint), checks that every party agrees on
   * the session id, protocol, fixed-point parameters, party count and program id, and resolves when all links
   * are up (within `timeoutMs`). Every party must then run the same operations in the same order (the same
   * program); each gives its own inputs to `share(me, values)` and the shape of the others' to
   * `share(owner, { rows, cols })`. `reveal` returns the values on every party; `revealTo(p, x)` returns them
   * on party p and an empty array elsewhere. `stats()` counts this party's traffic only. A peer that stops,
   * closes its connection, stalls for `timeoutMs` or breaks the protocol aborts every party with a
   * {@link ProtocolAbortError} naming it.
   * @example
   * ```ts
   * const me = generateIdentity();
   * const session = await SmpcSession.connect({
   *   party: 1, protocol: 'replicated', identity: me, sessionId: 'study-2026-12',
   *   peers: [{ host: 'a.example', port: 7001, fingerprint: fpA }, { host: '0.0.0.0', port: 7002, fingerprint: me.fingerprint }, { host: 'c.example', port: 7003, fingerprint: fpC }],
   *   // no dealer needed (additive sharing then makes its triples by oblivious transfer); with one:
   *   // dealer: { host: 'd.example', port: 7000, fingerprint: fpD },
   * });
   * const x = await session.share(0, { rows: 100, cols: 1 }); // party 0's input: its shape only
   * const y = await session.share(1, myValues);              // this party's input
   * console.log(await session.reveal(session.mul(x, y)));
   * await session.close();
   * ```
   */
  static async connect(options: SmpcConnectOptions): Promise<SmpcSession> {
    const o = checkConnectOptions(options);
    const cluster = new NetworkCluster({
      party: o.party,
      peers: o.peers,
      dealer: o.dealer,
      credentials: o.credentials,
      hello: {
        version: WIRE_VERSION,
        role: 'party',
        party: o.party,
        sessionId: o.sessionId,
        // Not compared: tells the dealer how often to send keepalives.
        timeoutMs: o.timeoutMs,
        protocol: o.protocol,
        preprocessing: o.withDealer ? 'dealer' : 'parties',
        security: o.security,
        statisticalSecurity: o.statisticalSecurity,
        parties: o.parties,
        fractionalBits: o.fractionalBits,
        maxAbs: o.maxAbs,
        programId: o.programId,
      },
      digest: sessionDigest(o.sessionId),
      protocol: o.protocol,
      fractionalBits: o.fractionalBits,
      timeoutMs: o.timeoutMs,
      security: o.security,
      statisticalSecurity: o.statisticalSecurity,
    });
    const session = new SmpcSession(o, cluster, options.onWorkerMessage);
    await session.#connect();
    return session;
  }

  /** This process's party id when it runs one party of a session across machines (`connect`), else -1. */
  get party(): number {
    return this.#cluster.hosted.length === 1 ? (this.#cluster.hosted[0] as number) : -1;
  }

  async #connect(): Promise<void> {
    let stop: (e: Error) => void = () => {};
    const stopped = new Promise<never>((_, reject) => {
      stop = reject;
      this.#onAbort.push(reject);
    });
    try {
      await Promise.race([this.#cluster.start({ message: (who, m) => this.#receive(who, m), fault: (e) => this.#abort(e) }), stopped]);
    } catch (e) {
      await this.#cluster.terminate();
      throw e instanceof ProtocolAbortError ? e : new ProtocolAbortError('a party failed to start', { cause: e });
    } finally {
      this.#onAbort = this.#onAbort.filter((r) => r !== stop);
    }
    this.#setBusy(false);
  }

  #onAbort: ((e: Error) => void)[] = [];

  #receive(who: number | 'dealer', m: FromWorker): void {
    if (this.#tap !== undefined) {
      // A throw escaping an event listener is an uncaught exception that ends the process: the user's
      // callback must not be able to do that. Its failure aborts this session instead, with the cause kept.
      try {
        this.#tap(who, m);
      } catch (e) {
        this.#abort(
          new ProtocolAbortError(`the onWorkerMessage callback threw: ${e instanceof Error ? e.message : describeValue(e)}`, { cause: e }),
        );
        return;
      }
    }
    // Same reasoning for a message this thread cannot process: it aborts the run, it does not end the process.
    try {
      this.#onMessage(who, m);
    } catch (e) {
      const from = who === 'dealer' ? 'the dealer' : `party ${who}`;
      this.#abort(
        new ProtocolAbortError(`a message from ${from} could not be processed`, { cause: e, party: who === 'dealer' ? -1 : who }),
      );
    }
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
      this.#queue.dealt(m.party, m.bytes);
      return;
    }
    if (who === 'dealer' || m.type === 'ready' || m.type === 'progress' || m.type === 'memory') return;
    if (m.type === 'result') {
      this.#queue.result(who, m.seq, m.values);
      return;
    }
    if (this.#queue.done(who, m) && this.#queue.size === 0) this.#setBusy(false);
  }

  #setBusy(busy: boolean): void {
    this.#cluster.setBusy(busy);
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
    if (this.#queue.size === 0) return;
    // Across machines the transport blames a silent peer after timeoutMs; this watchdog is the backstop for a
    // hang with every link alive (material that never comes), so it waits twice as long there.
    if (Date.now() - this.#lastProgress <= (this.party >= 0 ? 2 : 1) * this.timeoutMs) return;
    const [seq, p] = this.#queue.oldest() as [number, Pending];
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
    this.#queue.rejectAll(e);
    for (const r of this.#onAbort) r(e);
    this.#onAbort = [];
    this.#setBusy(false);
    void this.#terminateAll(e);
  }

  #terminateAll(reason?: ProtocolAbortError): Promise<void> {
    return this.#cluster.terminate(reason);
  }

  /** Number of worker threads (parties and dealer) that have not exited; for a connected session, open links. */
  get activeWorkers(): number {
    return this.#cluster.active;
  }

  /** The abort error if the session was aborted, else `null`. */
  get abortError(): ProtocolAbortError | null {
    return this.#abortError;
  }

  #usable(): void {
    if (this.#abortError) throw this.#abortError;
    if (this.#closing) throw new ProtocolAbortError('the session is closed');
  }

  #submit(
    name: string,
    elements: number,
    operation: Operation,
    resultFrom = -1,
    ownerOnly?: { owner: number; stripped: Operation },
  ): Promise<Float64Array | null> {
    this.#usable();
    const { seq, promise } = this.#queue.add(name, elements, this.#cluster.hosted, resultFrom);
    if (this.#queue.size === 1) this.#setBusy(true);
    for (const p of this.#cluster.hosted) {
      this.#cluster.post(p, seq, ownerOnly && p !== ownerOnly.owner ? ownerOnly.stripped : operation);
    }
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

  /** The range a shared input declares (checked options of `share`). */
  #declaredRange(declared: number, options: { readonly min?: number; readonly max?: number } | undefined): Range {
    // |x| <= declared implies |round(x 2^f)| <= ceil(declared 2^f), and min <= x <= max implies
    // round(min 2^f) <= round(x 2^f) <= round(max 2^f): the encoder's rounding is monotone.
    const sym = symmetric(BigInt(Math.ceil(declared * 2 ** this.fractionalBits)));
    const enc = publicRange([options?.min ?? -declared, options?.max ?? declared], this.fractionalBits);
    return { lo: options?.min === undefined ? sym.lo : enc.lo, hi: options?.max === undefined ? sym.hi : enc.hi };
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
   *
   * In a session across machines ({@link SmpcSession.connect}) only the owner's process has the values: it calls
   * `share(me, values)`, and every other party calls `share(owner, { rows, cols })` with the shape alone (and the
   * same bound options). A process that passes values for another party's input, or only a shape for its own,
   * gets a `TypeError` before anything is sent.
   * @example
   * ```ts
   * const x = await session.share(1, Float64Array.of(1, 2, 3, 4), [2, 2]);
   * const theirs = await session.share(0, { rows: 100, cols: 1 }); // connect(): party 0's input, shape only
   * const z = await session.share(0, standardized, [rows, 30], { maxAbs: 16 });
   * const d = await session.share(2, durations, undefined, { min: 0.01, max: 500 }); // reciprocal(d) is allowed
   * ```
   */
  async share(
    owner: number,
    values: ArrayLike<number> | { readonly rows: number; readonly cols: number },
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
    const me = this.party;
    const shapeOnly =
      values !== null && typeof values === 'object' && !ArrayBuffer.isView(values) && !Array.isArray(values) && !('length' in values);
    if (me < 0 && shapeOnly) {
      throw new TypeError(
        "values must be the owner's values: a session from SmpcSession.start runs every party in this process (a shape alone is for SmpcSession.connect)",
      );
    }
    if (me >= 0 && owner === me && shapeOnly) {
      throw new TypeError(`values: party ${me} (this process) owns this input, so it must pass the values, not only a shape`);
    }
    if (me >= 0 && owner !== me && !shapeOnly) {
      throw new TypeError(
        `values: party ${owner}'s input stays on party ${owner}'s machine; this process (party ${me}) passes only its shape { rows, cols }, never values`,
      );
    }
    if (shapeOnly) {
      assertOptions('values', values, ['rows', 'cols']);
      const { rows, cols } = values as { rows: number; cols: number };
      assertInteger('values.rows', rows, 1, MAX_INPUT_ELEMENTS);
      assertInteger('values.cols', cols, 1, MAX_INPUT_ELEMENTS);
      if (rows * cols > MAX_INPUT_ELEMENTS)
        throw new RangeError(`values.rows * values.cols must be at most ${MAX_INPUT_ELEMENTS}, got ${rows * cols}`);
      if (shape !== undefined) throw new RangeError('shape must be undefined when values is a shape { rows, cols }');
      const t = this.#tensor(rows, cols, this.#declaredRange(declared, options));
      this.#inputOf.set(t, owner);
      await this.#submit('share', rows * cols, { op: 'input', out: t.id, owner, count: rows * cols });
      return t;
    }
    const v = this.#values(values, 'values', declared);
    if (options?.min !== undefined || options?.max !== undefined) {
      for (let i = 0; i < v.length; i++) {
        if (!(v[i] >= lo && v[i] <= hi))
          throw new RangeError(`values[${i}] must be in [${lo}, ${hi}] (the declared options.min and options.max), got ${v[i]}`);
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
    const t = this.#tensor(rows, cols, this.#declaredRange(declared, options));
    if (me >= 0) this.#inputOf.set(t, owner);
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
    let range: Range;
    if (name === 'addPublic') range = this.#fits(name, addRange(a.range, pub), RING, [a]);
    else if (name === 'mulPublic') range = truncRange(this.#fits(name, mulRange(a.range, pub), TRUNC, [a]), f);
    else {
      this.#fits('lessThan', subRange(a.range, pub), RING, [a]);
      range = { lo: 0n, hi: 1n << BigInt(f) };
    }
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
    const out =
      axis === undefined ? this.#tensor(1, 1, range) : axis === 0 ? this.#tensor(1, x.cols, range) : this.#tensor(x.rows, 1, range);
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
      throw new RangeError(
        `start and end must be integers with 0 <= start < end <= ${x.rows}, got ${describeValue(start)} and ${describeValue(end)}`,
      );
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
    const out =
      name === 'max' ? (x.cols === 1 ? this.#tensor(1, 1, range) : this.#tensor(x.rows, 1, range)) : this.#tensor(x.rows, x.cols, range);
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
    this.#notRawInput(x, -1);
    const from = Math.max(this.party, 0);
    return (await this.#submit('reveal', x.length, { op: 'reveal', a: x.id, to: -1 }, from)) as Float64Array;
  }

  #notRawInput(x: SecretTensor, to: number): void {
    const owner = this.#inputOf.get(x);
    if (owner === undefined || owner === to) return;
    throw new RangeError(
      `x is party ${owner}'s raw input: across machines only computed tensors are revealed (or an input to its own owner), ` +
        "so that no process can send another party's data; reveal a result computed from it instead",
    );
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
    this.#notRawInput(x, party);
    // Across machines the other parties' processes get an empty array: they learn nothing.
    return (
      ((await this.#submit('reveal', x.length, { op: 'reveal', a: x.id, to: party }, party)) as Float64Array | null) ?? new Float64Array(0)
    );
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
   * Offline phase: has the dealer generate material for the planned operations now, or, dealer-free, has the
   * parties make it among themselves (counted in `stats().offline`); for replicated sharing the parties also
   * expand their shares of zero. The online phase then only computes locally and opens masked values.
   * Resolves when every party holds it.
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
    // Under malicious security every product is checked: it takes a verified triple and a share of zero.
    const checked = this.security === 'malicious';
    // SPDZ2k (additive, malicious) makes its own random bits and triples: counts travel as zeros.xor / .arith.
    const spdz2k = additive && checked;
    const plan1 = (op: string, n: number): void => {
      if (spdz2k) {
        const z = spdz2kMaterialFor(op, n, f);
        zeros.xor += z.xor;
        zeros.arith += z.arith;
        return;
      }
      add(materialFor(op, n, additive, f));
      if (!additive) {
        const z = checked ? checkedProductsFor(op, n, f) : zerosFor(op, n);
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
      for (const [v, name] of [
        [m, 'm'],
        [k, 'k'],
        [n, 'n'],
      ] as const) {
        if (count(v, `plan.matmul[${i}].${name}`) === 0) throw new RangeError(`plan.matmul[${i}].${name} must be >= 1`);
      }
      let per = 1;
      for (const r of materialFor('matmul', m * n, additive, f, { m, k, n }))
        for (const fs of fieldsOf(r)) per = Math.max(per, r.count * fs.perItem);
      if (per > MAX_PREPROCESS_ELEMENTS) {
        throw new RangeError(
          `plan.matmul[${i}] needs ${per} ring elements per matrix product (dealer matrix triples and truncations), more than the ` +
            `${MAX_PREPROCESS_ELEMENTS} one preprocess call allocates; got m = ${m}, k = ${k}, n = ${n}`,
        );
      }
      const c = count(mm.count ?? 1, `plan.matmul[${i}].count`, per);
      if (spdz2k) {
        const z = spdz2kMaterialFor('matmul', m * n, f, { m, k, n });
        zeros.xor += c * z.xor;
        zeros.arith += c * z.arith;
        return;
      }
      const one = materialFor('matmul', m * n, additive, f, { m, k, n });
      add(one.map((r) => ({ ...r, count: r.count * c })));
      if (checked) zeros.arith += c * checkedProductsFor('matmul', m * n, f, { m, k, n }).arith;
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
    // SPDZ2k keeps its material authenticated in Z_2^128 (32 bytes per bit, 96 per triple): a lower limit, so that
    // a plan fails here instead of exhausting a party's memory.
    const most = spdz2k ? MAX_SPDZ2K_PREPROCESS : MAX_PREPROCESS_ELEMENTS;
    if (zeros.xor > most || zeros.arith > most) {
      throw new RangeError(
        `plan needs ${Math.max(zeros.xor, zeros.arith)} ${spdz2k ? 'random bits or triples' : 'shares of zero'} in total, more than the ${most} one preprocess call ` +
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
    await this.#queue.settled();
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
    const reports = this.#cluster.memory();
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
    let all: MemoryReport[];
    try {
      all = await Promise.race([reports, stopped]);
    } finally {
      clearTimeout(timer);
      this.#onAbort = this.#onAbort.filter((r) => r !== stop);
      this.#setBusy(this.#queue.size > 0);
    }
    const parties = all.slice(0, this.parties).map(({ heapUsed, external }) => ({ heapUsed, external }));
    const d = all[this.parties];
    return {
      parties,
      dealer: d === undefined ? null : { heapUsed: d.heapUsed, external: d.external },
      collected: all.every((r) => r.collected),
    };
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
    const network = this.#cluster.traffic?.();
    const stats = this.#queue.stats();
    return network === undefined ? stats : { ...stats, network: { ...network } };
  }

  /**
   * Zeroes the counters of {@link SmpcSession.stats}.
   * @example
   * ```ts
   * session.resetStats();
   * ```
   */
  resetStats(): void {
    this.#queue.resetStats();
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
    this.#queue.rejectAll(closed);
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
