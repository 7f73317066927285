/**
 * In-process {@link Transport} over `MessagePort`s: one port per peer (a full mesh of `MessageChannel`s, no
 * relay through the coordinating thread). Buffers are transferred, not cloned; a message is `{ t: tag, b:
 * Uint8Array }`. Anything else from a peer is a protocol violation and aborts the party.
 * @module
 */
import type { MessagePort } from 'node:worker_threads';
import { ProtocolAbortError } from '../errors.ts';
import type { Transport } from './transport.ts';

interface Waiter {
  resolve: (b: Uint8Array) => void;
  reject: (e: Error) => void;
}

/**
 * A transport whose peers are reached through `MessagePort`s (`ports[peer]`, `null` for this party itself).
 * @example
 * ```ts
 * const t = new MessagePortTransport(0, [null, port01, port02]);
 * t.send(1, '0.0', new Uint8Array(8));
 * ```
 */
export class MessagePortTransport implements Transport {
  readonly party: number;
  readonly parties: number;
  bytesSent = 0;
  messagesSent = 0;
  /** Test-only fault: when set, the next message sent is cut short by 3 bytes. */
  corruptNext = false;
  readonly #ports: (MessagePort | null)[];
  readonly #inbox: Map<string, Uint8Array>[];
  readonly #waiting: Map<string, Waiter>[];
  #failure: Error | null = null;
  readonly #onFailure: (e: Error) => void;

  /** `parties` counts the protocol parties; extra ports (a dealer) may follow them in `ports`. */
  constructor(party: number, ports: (MessagePort | null)[], onFailure: (e: Error) => void = () => {}, parties: number = ports.length) {
    this.party = party;
    this.parties = parties;
    this.#ports = ports;
    this.#onFailure = onFailure;
    this.#inbox = ports.map(() => new Map());
    this.#waiting = ports.map(() => new Map());
    ports.forEach((port, peer) => {
      if (port === null) return;
      port.on('message', (m: unknown) => this.#deliver(peer, m));
    });
  }

  #deliver(peer: number, m: unknown): void {
    if (this.#failure) return;
    const msg = m as { t?: unknown; b?: unknown } | null;
    if (msg === null || typeof msg !== 'object' || typeof msg.t !== 'string' || !(msg.b instanceof Uint8Array)) {
      this.fail(new ProtocolAbortError(`malformed message from party ${peer}`, { party: peer }));
      return;
    }
    const w = this.#waiting[peer].get(msg.t);
    if (w) {
      this.#waiting[peer].delete(msg.t);
      w.resolve(msg.b);
    } else if (this.#inbox[peer].has(msg.t)) {
      this.fail(new ProtocolAbortError(`duplicate message ${msg.t} from party ${peer}`, { party: peer }));
    } else {
      this.#inbox[peer].set(msg.t, msg.b);
    }
  }

  /** Puts the transport in a failed state: every pending and future receive rejects with `e`. */
  fail(e: Error): void {
    if (this.#failure) return;
    this.#failure = e;
    for (const waiting of this.#waiting) {
      for (const w of waiting.values()) w.reject(e);
      waiting.clear();
    }
    this.#onFailure(e);
  }

  send(peer: number, tag: string, bytes: Uint8Array): void {
    const port = this.#ports[peer];
    if (!port) throw new RangeError(`peer must be another party in [0, ${this.#ports.length}), got ${peer}`);
    let b = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    if (this.corruptNext) {
      this.corruptNext = false;
      b = b.slice(0, Math.max(0, b.length - 3));
    }
    this.bytesSent += b.byteLength;
    this.messagesSent++;
    port.postMessage({ t: tag, b }, [b.buffer as ArrayBuffer]);
  }

  receive(peer: number, tag: string): Promise<Uint8Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    const got = this.#inbox[peer].get(tag);
    if (got) {
      this.#inbox[peer].delete(tag);
      return Promise.resolve(got);
    }
    return new Promise((resolve, reject) => this.#waiting[peer].set(tag, { resolve, reject }));
  }

  /** Closes every port. */
  close(): void {
    for (const p of this.#ports) p?.close();
  }
}
