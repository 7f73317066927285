/**
 * In-process {@link Transport} over `MessagePort`s: one port per peer (a full mesh of `MessageChannel`s, no
 * relay through the coordinating thread). Buffers are transferred, not cloned; a message is `{ t: tag, b:
 * Uint8Array }`. Anything else from a peer is a protocol violation and aborts the party.
 *
 * Replays: every tag is accepted once for the life of the transport. A copy of a tag that is still unread, a
 * copy of a tag already received, and a message of an epoch this party has moved past all abort the party
 * (on a network a replayed message must never be handed to a later `receive`). Because a party asks for the
 * epochs of each lane in non-decreasing order (see `transport.ts`), a per-lane high-water mark (the current
 * epoch) plus the tags received in that epoch are enough: memory stays bounded by one operation's messages.
 * @module
 */
import type { MessagePort } from 'node:worker_threads';
import { describeValue } from '@ppml/core';
import { ProtocolAbortError } from '../errors.ts';
import { parseTag, type ParsedTag, type Transport } from './transport.ts';

interface Waiter {
  resolve: (b: Uint8Array) => void;
  reject: (e: Error) => void;
}

/** Per peer and lane: the epoch in progress and the tags of that epoch already received. */
interface Lane {
  epoch: number;
  readonly received: Set<string>;
}

const TAG_FORMS = `"<epoch>.<step>", "<lane>.<epoch>" or "<lane>"`;

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
  readonly #lanes: Map<string, Lane>[];
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
    this.#lanes = ports.map(() => new Map());
    ports.forEach((port, peer) => {
      if (port === null) return;
      port.on('message', (m: unknown) => this.#deliver(peer, m));
    });
  }

  /**
   * Number of tags remembered for replay detection (diagnostics): at most the tags of the epoch in progress
   * on each lane, whatever the number of messages exchanged so far.
   */
  get rememberedTags(): number {
    let n = 0;
    for (const lanes of this.#lanes) for (const lane of lanes.values()) n += lane.received.size;
    return n;
  }

  #deliver(peer: number, m: unknown): void {
    if (this.#failure) return;
    const msg = m as { t?: unknown; b?: unknown } | null;
    const parsed = msg !== null && typeof msg === 'object' ? parseTag(msg.t) : null;
    if (parsed === null || !((msg as { b?: unknown }).b instanceof Uint8Array)) {
      this.fail(new ProtocolAbortError(`malformed message from party ${peer}`, { party: peer }));
      return;
    }
    const tag = (msg as { t: string }).t;
    const bytes = (msg as { b: Uint8Array }).b;
    const lane = this.#lanes[peer].get(parsed.lane);
    if (lane !== undefined && (parsed.epoch < lane.epoch || lane.received.has(tag))) {
      this.fail(
        new ProtocolAbortError(
          `message ${tag} from party ${peer} repeats a tag that was already received or belongs to a finished step (a replayed or duplicated message)`,
          { party: peer },
        ),
      );
      return;
    }
    const w = this.#waiting[peer].get(tag);
    if (w) {
      this.#waiting[peer].delete(tag);
      this.#remember(peer, tag, parsed);
      w.resolve(bytes);
    } else if (this.#inbox[peer].has(tag)) {
      this.fail(new ProtocolAbortError(`duplicate message ${tag} from party ${peer}`, { party: peer }));
    } else {
      this.#inbox[peer].set(tag, bytes);
    }
  }

  #remember(peer: number, tag: string, parsed: ParsedTag): void {
    const lane = this.#lanes[peer].get(parsed.lane);
    if (lane !== undefined && parsed.epoch === lane.epoch) lane.received.add(tag);
  }

  /** Puts the transport in a failed state: every pending and future receive rejects with `e`. */
  fail(e: Error): void {
    if (this.#failure) return;
    this.#failure = e;
    for (const waiting of this.#waiting) {
      for (const w of waiting.values()) w.reject(e);
      waiting.clear();
    }
    for (const inbox of this.#inbox) inbox.clear();
    this.#onFailure(e);
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
    if (this.#failure) return Promise.reject(this.#failure);
    try {
      this.#peer(peer);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const parsed = parseTag(tag);
    if (parsed === null) return Promise.reject(new RangeError(`tag must have the form ${TAG_FORMS}, got ${describeValue(tag)}`));
    let lane = this.#lanes[peer].get(parsed.lane);
    let moved = false;
    if (lane === undefined) {
      lane = { epoch: parsed.epoch, received: new Set() };
      this.#lanes[peer].set(parsed.lane, lane);
      moved = true;
    } else if (parsed.epoch < lane.epoch) {
      return Promise.reject(
        new RangeError(`tag ${tag} was asked for after epoch ${lane.epoch} of its lane: epochs must be received in non-decreasing order`),
      );
    } else if (parsed.epoch > lane.epoch) {
      // The high-water mark moves: the tags remembered for the old epoch are covered by `epoch < lane.epoch`.
      lane.epoch = parsed.epoch;
      lane.received.clear();
      moved = true;
    }
    if (moved) {
      // A message of an earlier epoch still unread will never be read: the peer sent something the protocol
      // does not consume.
      const stale = this.#staleMessage(peer, parsed.lane, lane.epoch);
      if (stale !== null) {
        const e = new ProtocolAbortError(`message ${stale} from party ${peer} was never received before its step ended`, { party: peer });
        this.fail(e);
        return Promise.reject(e);
      }
    }
    if (lane.received.has(tag) || this.#waiting[peer].has(tag)) {
      return Promise.reject(new RangeError(`tag ${tag} from party ${peer} was already asked for: each tag is received once`));
    }
    const got = this.#inbox[peer].get(tag);
    if (got) {
      this.#inbox[peer].delete(tag);
      lane.received.add(tag);
      return Promise.resolve(got);
    }
    return new Promise((resolve, reject) => this.#waiting[peer].set(tag, { resolve, reject }));
  }

  /** An unread message of `lane` from `peer` with an epoch below `epoch`, if any. */
  #staleMessage(peer: number, lane: string, epoch: number): string | null {
    for (const tag of this.#inbox[peer].keys()) {
      const p = parseTag(tag) as ParsedTag;
      if (p.lane === lane && p.epoch < epoch) return tag;
    }
    return null;
  }

  /** Closes every port. */
  close(): void {
    for (const p of this.#ports) p?.close();
  }
}
