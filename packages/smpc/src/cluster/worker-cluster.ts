/**
 * Every party and the dealer on worker threads of this process (internal), joined by a full mesh of
 * `MessageChannel`s: parties talk directly, never through this thread. This is the single-machine mode of
 * `SmpcSession.start`; the party threads run the same runtime as network processes.
 * @module
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { siblingModuleUrl, workerExecArgv } from '@ppml/core';
import { ProtocolAbortError } from '../errors.ts';
import type { FaultInjection, FromWorker, Operation, SecurityModel } from '../messages.ts';
import type { Cluster, ClusterEvents, MemoryReport } from './cluster.ts';

/**
 * Worker threads for `parties` parties plus, unless `dealer` is false (dealer-free replicated sharing), the
 * dealer.
 * @example
 * ```ts
 * const cluster = new WorkerCluster({ parties: 3, protocol: 'replicated', fractionalBits: 16, fault: null, startMs: 30_000 });
 * await cluster.start(events);
 * ```
 */
export class WorkerCluster implements Cluster {
  readonly parties: number;
  readonly hosted: readonly number[];
  readonly #workers: Worker[] = [];
  readonly #dealer: Worker | null;
  readonly #alive = new Set<Worker>();
  readonly #startMs: number;
  #terminating: Promise<void> | null = null;

  constructor(options: {
    readonly parties: number;
    readonly protocol: 'additive' | 'replicated';
    readonly fractionalBits: number;
    readonly fault: FaultInjection | null;
    readonly startMs: number;
    /** Start a dealer worker (default true); false for dealer-free replicated sharing. */
    readonly dealer?: boolean;
    readonly security?: SecurityModel;
    readonly statisticalSecurity?: number;
  }) {
    const { parties, protocol, fractionalBits, fault } = options;
    const security = options.security ?? 'semi-honest';
    const statisticalSecurity = options.statisticalSecurity ?? 40;
    const withDealer = options.dealer !== false;
    this.parties = parties;
    this.hosted = Array.from({ length: parties }, (_, p) => p);
    this.#startMs = options.startMs;
    // Only the flags a worker needs (resolution conditions), never the parent's whole execArgv: flags such as
    // --expose-gc or --input-type are valid for a process but make `new Worker` throw or the worker fail.
    const partyUrl = siblingModuleUrl(import.meta.url, '../party-worker');
    const dealerUrl = siblingModuleUrl(import.meta.url, '../dealer-worker');
    for (let p = 0; p < parties; p++) {
      this.#workers.push(
        new Worker(partyUrl, {
          execArgv: workerExecArgv(partyUrl),
          workerData: { party: p, parties, protocol, fractionalBits, fault, dealer: withDealer, security, statisticalSecurity },
        }),
      );
    }
    this.#dealer = withDealer ? new Worker(dealerUrl, { execArgv: workerExecArgv(dealerUrl), workerData: { parties, protocol } }) : null;
    for (const w of this.#all) this.#alive.add(w);
  }

  /** The party workers and, if there is one, the dealer worker. */
  get #all(): Worker[] {
    return this.#dealer === null ? [...this.#workers] : [...this.#workers, this.#dealer];
  }

  get active(): number {
    return this.#alive.size;
  }

  async start(events: ClusterEvents): Promise<void> {
    const n = this.parties;
    const ports: (MessagePort | null)[][] = this.#workers.map(() => new Array<MessagePort | null>(n + 1).fill(null));
    const dealerPorts: (MessagePort | null)[] = new Array<MessagePort | null>(n + 1).fill(null);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const ch = new MessageChannel();
        ports[i][j] = ch.port1;
        ports[j][i] = ch.port2;
      }
      if (this.#dealer === null) continue;
      const ch = new MessageChannel();
      ports[i][n] = ch.port1;
      dealerPorts[i] = ch.port2;
    }
    let failStart: (e: Error) => void = () => {};
    const failed = new Promise<never>((_, reject) => (failStart = reject));
    const ready = this.#all.map(
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
    const wrapped: ClusterEvents = {
      message: (who, m) => {
        if (m.type === 'error')
          failStart(
            new ProtocolAbortError(`${who === 'dealer' ? 'the dealer' : `party ${who}`} failed during start-up: ${m.error.message}`),
          );
        events.message(who, m);
      },
      fault: (e) => {
        failStart(e);
        events.fault(e);
      },
    };
    this.#workers.forEach((w, p) => {
      this.#listen(w, p, wrapped);
    });
    if (this.#dealer !== null) this.#listen(this.#dealer, 'dealer', wrapped);
    this.#workers.forEach((w, p) => {
      const list = ports[p];
      w.postMessage({ type: 'init', ports: list }, list.filter((x): x is MessagePort => x !== null) as never[]);
    });
    this.#dealer?.postMessage({ type: 'init', ports: dealerPorts }, dealerPorts.filter((x): x is MessagePort => x !== null) as never[]);
    const timer = setTimeout(() => failStart(new ProtocolAbortError(`parties did not start within ${this.#startMs} ms`)), this.#startMs);
    try {
      await Promise.race([Promise.all(ready), failed]);
    } catch (e) {
      await this.terminate();
      throw e instanceof ProtocolAbortError ? e : new ProtocolAbortError('a party failed to start', { cause: e });
    } finally {
      clearTimeout(timer);
    }
    this.setBusy(false);
  }

  #listen(w: Worker, who: number | 'dealer', events: ClusterEvents): void {
    const name = who === 'dealer' ? 'the dealer' : `party ${who}`;
    const party = who === 'dealer' ? -1 : who;
    w.on('message', (m: FromWorker) => events.message(who, m));
    w.on('error', (e: Error) => events.fault(new ProtocolAbortError(`${name} crashed: ${e.message}`, { cause: e, party })));
    w.on('messageerror', (e: Error) => events.fault(new ProtocolAbortError(`a message from ${name} could not be read`, { cause: e })));
    w.on('exit', (code: number) => {
      this.#alive.delete(w);
      if (this.#terminating === null) events.fault(new ProtocolAbortError(`${name} exited with code ${code}`, { party }));
    });
  }

  post(party: number, seq: number, operation: Operation): void {
    this.#workers[party]?.postMessage({ type: 'op', seq, operation });
  }

  setBusy(busy: boolean): void {
    // Once termination has begun the workers stay ref'd until they exit (see terminate).
    if (this.#terminating !== null) return;
    for (const w of this.#alive) {
      if (busy) w.ref();
      else w.unref();
    }
  }

  memory(): Promise<MemoryReport[]> {
    return Promise.all(
      this.#all.map(
        (w) =>
          new Promise<MemoryReport>((resolve) => {
            const onMessage = (m: FromWorker): void => {
              if (m.type !== 'memory') return;
              w.off('message', onMessage);
              resolve({ heapUsed: m.heapUsed, external: m.external, collected: m.collected });
            };
            w.on('message', onMessage);
            w.postMessage({ type: 'memory' });
          }),
      ),
    );
  }

  terminate(): Promise<void> {
    // Idle workers are unref'd so that an idle session does not keep a script alive. A worker stays unref'd
    // while it terminates, so the event loop could empty before its 'exit' arrives: `terminate()` would then
    // never settle and a script awaiting close() would end with exit code 13 (unsettled top-level await).
    // Ref'ing each worker keeps the loop alive until it has exited.
    this.#terminating ??= Promise.all(
      this.#all.map((w) => {
        w.ref();
        return w.terminate();
      }),
    ).then(() => {
      for (const w of this.#all) this.#alive.delete(w);
    });
    return this.#terminating;
  }
}
