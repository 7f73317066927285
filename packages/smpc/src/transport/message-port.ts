/**
 * In-process {@link Transport} over `MessagePort`s: one port per peer (a full mesh of `MessageChannel`s, no
 * relay through the coordinating thread). Buffers are transferred, not cloned; a message is `{ t: tag, b:
 * Uint8Array }`. Anything else from a peer is a protocol violation and aborts the party. The replay rules and
 * the inbox live in `mailbox.ts`, shared with the network transport.
 * @module
 */
import type { MessagePort } from 'node:worker_threads';
import { describeValue } from '@ppml/core';
import { Mailbox, TAG_FORMS } from './mailbox.ts';
import { parseTag, type Transport } from './transport.ts';

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
  readonly #box: Mailbox;
  #closed = false;

  /** `parties` counts the protocol parties; extra ports (a dealer) may follow them in `ports`. */
  constructor(party: number, ports: (MessagePort | null)[], onFailure: (e: Error) => void = () => {}, parties: number = ports.length) {
    this.party = party;
    this.parties = parties;
    this.#ports = ports;
    this.#box = new Mailbox(ports.length, onFailure);
    ports.forEach((port, peer) => {
      if (port === null) return;
      port.on('message', (m: unknown) => {
        const msg = m !== null && typeof m === 'object' ? (m as { t?: unknown; b?: unknown }) : {};
        this.#box.deliver(peer, msg.t, msg.b);
      });
    });
  }

  /**
   * Number of tags remembered for replay detection (diagnostics): at most the tags of the epoch in progress
   * on each lane, whatever the number of messages exchanged so far.
   */
  get rememberedTags(): number {
    return this.#box.rememberedTags;
  }

  /** Puts the transport in a failed state: every pending and future receive rejects with `e`. */
  fail(e: Error): void {
    this.#box.fail(e);
  }

  #peer(peer: unknown): MessagePort {
    const port = Number.isInteger(peer) ? this.#ports[peer as number] : undefined;
    if (!port) throw new RangeError(`peer must be another party in [0, ${this.#ports.length}), got ${describeValue(peer)}`);
    return port;
  }

  send(peer: number, tag: string, bytes: Uint8Array): void {
    const port = this.#peer(peer);
    if (parseTag(tag) === null) throw new RangeError(`tag must have the form ${TAG_FORMS}, got ${describeValue(tag)}`);
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
    if (this.#box.failure) return Promise.reject(this.#box.failure);
    try {
      this.#peer(peer);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return this.#box.receive(peer, tag);
  }

  /** Closes every port. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#ports) p?.close();
  }
}
