/**
 * Where the parties of a session run (internal): the session validates arguments, tracks shapes and bounds,
 * and queues operations; a {@link Cluster} carries them to the parties and their answers back. Two kinds:
 * worker threads in this process (`worker-cluster.ts`, every party and the dealer) and one network party in
 * this process (`network-cluster.ts`, the other parties and the dealer being other processes reached by TLS).
 * @module
 */
import type { ProtocolAbortError } from '../errors.ts';
import type { FromWorker, Operation } from '../messages.ts';

/** A memory report of one party or the dealer. */
export interface MemoryReport {
  readonly heapUsed: number;
  readonly external: number;
  readonly collected: boolean;
}

/** What a cluster tells its session. */
export interface ClusterEvents {
  /** A message from a hosted party (acknowledgement, result, progress, error) or from the dealer. */
  message(from: number | 'dealer', m: FromWorker): void;
  /** A party or the dealer failed outside an operation's answer (crash, exit, closed or stalled link). */
  fault(e: ProtocolAbortError): void;
}

/**
 * The parties of one session, as seen from the process that runs the session.
 * @example
 * ```ts
 * await cluster.start(events);
 * cluster.post(0, seq, { op: 'free', ids: [1] });
 * await cluster.terminate();
 * ```
 */
export interface Cluster {
  readonly parties: number;
  /** The parties whose operations this process runs and whose acknowledgements it waits for. */
  readonly hosted: readonly number[];
  /** Connects the parties; resolves when every hosted party is ready for operations. */
  start(events: ClusterEvents): Promise<void>;
  /** Hands operation `seq` to hosted party `party`. */
  post(party: number, seq: number, operation: Operation): void;
  /** Keeps the process alive while operations are pending (busy), lets it exit when idle. */
  setBusy(busy: boolean): void;
  /** Memory reports of every party (index `parties` is the dealer), where this process can measure them. */
  memory(): Promise<MemoryReport[]>;
  /**
   * Stops every hosted party and releases threads or sockets. Idempotent. With `reason` (an abort), a network
   * party first tells its peers why it stops.
   */
  terminate(reason?: Error): Promise<void>;
  /** Bytes this process sent: payloads and framed (network only). */
  traffic?(): { payloadBytes: number; framedBytes: number };
  /** Threads or links not yet released (for leak checks). */
  readonly active: number;
}
