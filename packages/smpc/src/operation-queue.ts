/**
 * The session's queue of operations in flight and its counters (internal): every operation gets a sequence
 * number, waits for the acknowledgement of each party this process hosts, and resolves with the revealed values
 * when it reveals; acknowledgements carry each party's rounds, bytes and messages, summed here per operation
 * name and in total.
 * @module
 */
import { ProtocolAbortError } from './errors.ts';
import type { FromWorker } from './messages.ts';

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
  /**
   * Offline phase (`preprocess`): bytes the dealer sent to each party (seeds and corrections) and requests made
   * to it; and, for dealer-free replicated sharing, the rounds and bytes the parties exchanged to make the
   * material themselves (0 with a dealer). Material made during an operation counts in that operation.
   */
  readonly offline: {
    readonly dealerBytesPerParty: number[];
    readonly requests: number;
    readonly rounds: number;
    readonly bytesPerParty: number[];
  };
  /** Shared values each party holds now (handles not yet freed), as of its last finished operation. */
  readonly storedPerParty: number[];
  /**
   * Across machines (`connect`): this party's traffic since the session started, as message payload bytes
   * (what `online` and `offline` count) and as bytes written to the TLS streams with the frame headers.
   */
  readonly network?: { readonly payloadBytes: number; readonly framedBytes: number };
}

/** One operation in flight. */
export interface Pending {
  readonly name: string;
  readonly elements: number;
  readonly waiting: Set<number>;
  readonly resultFrom: number;
  result: Float64Array | null;
  /** Under malicious security, the values every other party revealed (compared with `result` at the end). */
  readonly others: Float64Array[];
  rounds: number;
  readonly resolve: (v: Float64Array | null) => void;
  readonly reject: (e: Error) => void;
}

function emptyStats(parties: number): OperationStats {
  return { count: 0, rounds: 0, bytesPerParty: new Array<number>(parties).fill(0), messagesPerParty: new Array<number>(parties).fill(0) };
}

type Done = Extract<FromWorker, { type: 'done' }>;

/**
 * Operations in flight and the counters of {@link SmpcStats}.
 * @example
 * ```ts
 * const queue = new OperationQueue(3);
 * const { seq, promise } = queue.add('mul', 1000, [0, 1, 2], -1);
 * ```
 */
export class OperationQueue {
  readonly #parties: number;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  #stored: number[];
  #stats!: {
    online: OperationStats;
    operations: Record<string, OperationStats>;
    dealer: number[];
    requests: number;
    offline: OperationStats;
  };

  /**
   * With `crossCheck` (malicious security on worker threads), a reveal to everyone resolves only when every party
   * reported the same values: a corrupted party cannot hand the controlling thread a value of its own.
   */
  readonly #crossCheck: boolean;

  constructor(parties: number, crossCheck = false) {
    this.#parties = parties;
    this.#crossCheck = crossCheck;
    this.#stored = new Array<number>(parties).fill(0);
    this.resetStats();
  }

  /** Operations not yet acknowledged by every hosted party. */
  get size(): number {
    return this.#pending.size;
  }

  /** The oldest operation in flight, if any. */
  oldest(): [number, Pending] | undefined {
    return this.#pending.entries().next().value;
  }

  /** Registers operation `name` awaited from `waiting`; `resultFrom` is the party whose revealed values it resolves with. */
  add(
    name: string,
    elements: number,
    waiting: Iterable<number>,
    resultFrom: number,
  ): { seq: number; promise: Promise<Float64Array | null> } {
    const seq = this.#seq++;
    const promise = new Promise<Float64Array | null>((resolve, reject) => {
      this.#pending.set(seq, {
        name,
        elements,
        waiting: new Set(waiting),
        resultFrom,
        result: null,
        others: [],
        rounds: 0,
        resolve,
        reject,
      });
    });
    promise.catch(() => {});
    return { seq, promise };
  }

  /** Bytes the dealer sent to a party. */
  dealt(party: number, bytes: number): void {
    this.#stats.dealer[party] += bytes;
  }

  /** Revealed values from `who` for operation `seq`. */
  result(who: number, seq: number, values: Float64Array): void {
    const p = this.#pending.get(seq);
    if (p && who === p.resultFrom) p.result = values;
    else if (p && this.#crossCheck) p.others.push(values);
  }

  /** An acknowledgement; returns true when it completed its operation. */
  done(who: number, m: Done): boolean {
    const p = this.#pending.get(m.seq);
    if (!p) return false;
    const record = (s: OperationStats): void => {
      s.bytesPerParty[who] += m.bytes;
      s.messagesPerParty[who] += m.messages;
    };
    // The offline phase's own traffic (dealer-free generation) is not online work.
    const offline = p.name === 'preprocess';
    const opStats = this.#opStats(p.name);
    const phase = offline ? this.#stats.offline : this.#stats.online;
    record(opStats);
    record(phase);
    this.#stored[who] = m.stored;
    this.#stats.requests += m.requests;
    p.waiting.delete(who);
    p.rounds = Math.max(p.rounds, m.rounds);
    if (p.waiting.size > 0) return false;
    opStats.count++;
    opStats.rounds += p.rounds;
    phase.count++;
    phase.rounds += p.rounds;
    this.#pending.delete(m.seq);
    if (p.result !== null && p.others.some((o) => !sameValues(o, p.result as Float64Array))) {
      p.reject(new ProtocolAbortError(`the parties revealed different values for operation '${p.name}' #${m.seq}`));
      return true;
    }
    p.resolve(p.result);
    return true;
  }

  #opStats(name: string): OperationStats {
    let s = this.#stats.operations[name];
    if (s === undefined) {
      s = emptyStats(this.#parties);
      this.#stats.operations[name] = s;
    }
    return s;
  }

  /** Rejects every operation in flight with `e`. */
  rejectAll(e: Error): void {
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  /** Resolves when every operation now in flight has finished (rejects if one fails). */
  async settled(): Promise<void> {
    await Promise.all(
      [...this.#pending.values()].map(
        (p) =>
          new Promise<void>((resolve, reject) => {
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
          }),
      ),
    );
  }

  /** A copy of the counters (see {@link SmpcStats}). */
  stats(): SmpcStats {
    return structuredClone({
      online: this.#stats.online,
      operations: this.#stats.operations,
      offline: {
        dealerBytesPerParty: this.#stats.dealer,
        requests: this.#stats.requests,
        rounds: this.#stats.offline.rounds,
        bytesPerParty: this.#stats.offline.bytesPerParty,
      },
      storedPerParty: this.#stored,
    });
  }

  /** Zeroes the counters (not the stored-values figures). */
  resetStats(): void {
    this.#stats = {
      online: emptyStats(this.#parties),
      operations: {},
      dealer: new Array<number>(this.#parties).fill(0),
      requests: 0,
      offline: emptyStats(this.#parties),
    };
  }
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
