/**
 * One party in this process, the other parties and the dealer in other processes reached over TLS (internal):
 * the mode of `SmpcSession.connect`. The party runtime runs on this thread over a {@link TlsTransport}; this
 * process only ever holds its own inputs, its shares, and what is revealed to it.
 * @module
 */
import { ProtocolAbortError } from '../errors.ts';
import type { Operation, SecurityModel } from '../messages.ts';
import { connectMesh, type PeerAddress } from '../network/mesh.ts';
import type { Hello } from '../network/handshake.ts';
import { runParty, type PartyRuntime } from '../runtime/party-runtime.ts';
import { TlsTransport } from '../transport/tls.ts';
import type { Cluster, ClusterEvents, MemoryReport } from './cluster.ts';

// Trip V8's ArrayBuffer detach protector once, before any kernel is optimized (see party-worker.ts): the party
// kernels run on this thread.
const throwaway = new ArrayBuffer(8);
structuredClone(throwaway, { transfer: [throwaway] });

/** What {@link NetworkCluster} needs (all checked by the session before any socket opens). */
export interface NetworkClusterOptions {
  readonly party: number;
  readonly peers: readonly PeerAddress[];
  /** Null for dealer-free replicated sharing. */
  readonly dealer: PeerAddress | null;
  readonly credentials: { readonly key: string; readonly cert: string };
  readonly hello: Hello;
  readonly digest: Uint8Array;
  readonly protocol: 'additive' | 'replicated';
  readonly fractionalBits: number;
  readonly timeoutMs: number;
  readonly security: SecurityModel;
  readonly statisticalSecurity: number;
}

/**
 * This process's party of a session across machines.
 * @example
 * ```ts
 * const cluster = new NetworkCluster(options);
 * await cluster.start(events);
 * ```
 */
export class NetworkCluster implements Cluster {
  readonly parties: number;
  readonly hosted: readonly number[];
  readonly #o: NetworkClusterOptions;
  #transport: TlsTransport | null = null;
  #runtime: PartyRuntime | null = null;
  #terminating: Promise<void> | null = null;

  constructor(options: NetworkClusterOptions) {
    this.#o = options;
    this.parties = options.peers.length;
    this.hosted = [options.party];
  }

  /** The transport (after start), for its counters. */
  get transport(): TlsTransport | null {
    return this.#transport;
  }

  traffic(): { payloadBytes: number; framedBytes: number } {
    return { payloadBytes: this.#transport?.bytesSent ?? 0, framedBytes: this.#transport?.wireBytesSent ?? 0 };
  }

  get active(): number {
    return this.#transport?.openLinks ?? 0;
  }

  async start(events: ClusterEvents): Promise<void> {
    const o = this.#o;
    const links = await connectMesh({
      party: o.party,
      peers: o.peers,
      dealer: o.dealer,
      credentials: o.credentials,
      hello: o.hello,
      digest: o.digest,
      timeoutMs: o.timeoutMs,
    });
    if (this.#terminating !== null) {
      for (const l of links) l?.socket.destroy();
      throw new ProtocolAbortError('the session was closed while connecting');
    }
    const transport = new TlsTransport({
      party: o.party,
      parties: this.parties,
      links,
      digest: o.digest,
      timeoutMs: o.timeoutMs,
      onFailure: (e) => events.fault(e),
    });
    this.#transport = transport;
    this.#runtime = await runParty({
      transport,
      dealer: o.dealer === null ? null : this.parties,
      protocol: o.protocol,
      fractionalBits: o.fractionalBits,
      security: o.security,
      statisticalSecurity: o.statisticalSecurity,
      revealEverywhere: true,
      report: (m) => events.message(o.party, m),
    });
  }

  post(party: number, seq: number, operation: Operation): void {
    if (party === this.#o.party) this.#runtime?.submit(seq, operation);
  }

  setBusy(busy: boolean): void {
    // As with worker threads, an idle session does not keep a script alive: a script that ends without
    // close() exits, and its peers see the connection end without a goodbye (an abort that names this party).
    // While operations are pending the links keep the process alive.
    this.#transport?.setRef(busy);
  }

  async memory(): Promise<MemoryReport[]> {
    const m = process.memoryUsage();
    const zero = { heapUsed: 0, external: 0, collected: false };
    const out: MemoryReport[] = Array.from({ length: this.parties + (this.#o.dealer === null ? 0 : 1) }, () => zero);
    out[this.#o.party] = { heapUsed: m.heapUsed, external: m.external, collected: false };
    return out;
  }

  terminate(reason?: Error): Promise<void> {
    this.#terminating ??= (async () => {
      const t = this.#transport;
      if (t === null) return;
      if (reason !== undefined) t.fail(reason);
      t.close();
      // A polite close lingers until the peers close their side: a peer that is still computing has yet to
      // read the last messages and the goodbye, and cutting the connection now (a reset) could discard them.
      // A peer that does not close within timeoutMs is cut off; after an abort (the ABORT frames are written)
      // half a second is enough.
      const linger = reason === undefined ? this.#o.timeoutMs : 500;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([t.allClosed(), new Promise<void>((r) => (timer = setTimeout(r, linger)))]);
      clearTimeout(timer);
      t.destroy();
    })();
    return this.#terminating;
  }
}
