/**
 * The receiving half every transport shares (internal): messages addressed by peer and tag, waiters for tags
 * not yet arrived, and the replay rules of `transport.ts`. Every tag is accepted once for the life of the
 * transport. A copy of a tag that is still unread, a copy of a tag already received, and a message of an epoch
 * this party has moved past all fail the transport (on a network a replayed message must never be handed to a
 * later `receive`). Because a party asks for the epochs of each lane in non-decreasing order, a per-lane
 * high-water mark (the current epoch) plus the tags received in that epoch are enough: memory stays bounded by
 * one operation's messages.
 *
 * Unread messages are bounded too: {@link Mailbox.unreadBytes} counts what a peer sent ahead of the receiver, so
 * a network transport can stop reading that peer's socket above a high-water mark (TCP backpressure) instead of
 * letting a fast or hostile peer grow this party's memory without limit.
 * @module
 */
import { describeValue } from '@ppml/core';
import { ProtocolAbortError } from '../errors.ts';
import { parseTag, type ParsedTag } from './transport.ts';

interface Waiter {
  resolve: (b: Uint8Array) => void;
  reject: (e: Error) => void;
  /** Date.now() when the receive started (for stall detection). */
  readonly since: number;
}

/** Per peer and lane: the epoch in progress and the tags of that epoch already received. */
interface Lane {
  epoch: number;
  readonly received: Set<string>;
}

/** The tag forms, for error messages. */
export const TAG_FORMS = `"<epoch>.<step>", "<lane>.<epoch>" or "<lane>"`;

/**
 * Inbox, waiters and replay state for `peers` peers.
 * @example
 * ```ts
 * const box = new Mailbox(3, (e) => console.error(e));
 * box.deliver(1, '0.0', bytes);
 * const got = await box.receive(1, '0.0');
 * ```
 */
export class Mailbox {
  readonly #inbox: Map<string, Uint8Array>[];
  readonly #waiting: Map<string, Waiter>[];
  readonly #lanes: Map<string, Lane>[];
  readonly #unread: number[];
  #failure: Error | null = null;
  readonly #onFailure: (e: Error) => void;
  /** Called after a receive took a message out of the inbox of `peer` (a transport may resume reading it). */
  onConsumed: (peer: number) => void = () => {};

  constructor(peers: number, onFailure: (e: Error) => void) {
    this.#onFailure = onFailure;
    this.#inbox = Array.from({ length: peers }, () => new Map());
    this.#waiting = Array.from({ length: peers }, () => new Map());
    this.#lanes = Array.from({ length: peers }, () => new Map());
    this.#unread = new Array<number>(peers).fill(0);
  }

  /** The failure that stopped this mailbox, or `null`. */
  get failure(): Error | null {
    return this.#failure;
  }

  /** Number of tags remembered for replay detection (at most one epoch per lane). */
  get rememberedTags(): number {
    let n = 0;
    for (const lanes of this.#lanes) for (const lane of lanes.values()) n += lane.received.size;
    return n;
  }

  /** Bytes received from `peer` and not yet asked for. */
  unreadBytes(peer: number): number {
    return this.#unread[peer] ?? 0;
  }

  /** The oldest pending receive on `peer`: its start time, or -1 when nothing is awaited from that peer. */
  waitingSince(peer: number): number {
    let oldest = -1;
    for (const w of this.#waiting[peer]?.values() ?? []) if (oldest < 0 || w.since < oldest) oldest = w.since;
    return oldest;
  }

  /** Hands a message from `peer` to its waiter or the inbox, enforcing the replay rules. */
  deliver(peer: number, tag: unknown, bytes: unknown): void {
    if (this.#failure) return;
    const parsed = parseTag(tag);
    if (parsed === null || !(bytes instanceof Uint8Array)) {
      this.fail(new ProtocolAbortError(`malformed message from party ${peer}`, { party: peer }));
      return;
    }
    const t = tag as string;
    const lane = this.#lanes[peer].get(parsed.lane);
    if (lane !== undefined && (parsed.epoch < lane.epoch || lane.received.has(t))) {
      this.fail(
        new ProtocolAbortError(
          `message ${t} from party ${peer} repeats a tag that was already received or belongs to a finished step (a replayed or duplicated message)`,
          { party: peer },
        ),
      );
      return;
    }
    const w = this.#waiting[peer].get(t);
    if (w) {
      this.#waiting[peer].delete(t);
      this.#remember(peer, t, parsed);
      w.resolve(bytes);
    } else if (this.#inbox[peer].has(t)) {
      this.fail(new ProtocolAbortError(`duplicate message ${t} from party ${peer}`, { party: peer }));
    } else {
      this.#inbox[peer].set(t, bytes);
      this.#unread[peer] += bytes.byteLength;
    }
  }

  #remember(peer: number, tag: string, parsed: ParsedTag): void {
    const lane = this.#lanes[peer].get(parsed.lane);
    if (lane !== undefined && parsed.epoch === lane.epoch) lane.received.add(tag);
  }

  /** Puts the mailbox in a failed state: every pending and future receive rejects with `e`. */
  fail(e: Error): void {
    if (this.#failure) return;
    this.#failure = e;
    for (const waiting of this.#waiting) {
      for (const w of waiting.values()) w.reject(e);
      waiting.clear();
    }
    for (const inbox of this.#inbox) inbox.clear();
    this.#unread.fill(0);
    this.#onFailure(e);
  }

  /** Resolves with the message `peer` sent under `tag` (see `Transport.receive`). */
  receive(peer: number, tag: string): Promise<Uint8Array> {
    if (this.#failure) return Promise.reject(this.#failure);
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
      this.#unread[peer] -= got.byteLength;
      lane.received.add(tag);
      this.onConsumed(peer);
      return Promise.resolve(got);
    }
    return new Promise((resolve, reject) => this.#waiting[peer].set(tag, { resolve, reject, since: Date.now() }));
  }

  /** An unread message of `lane` from `peer` with an epoch below `epoch`, if any. */
  #staleMessage(peer: number, lane: string, epoch: number): string | null {
    for (const tag of this.#inbox[peer].keys()) {
      const p = parseTag(tag) as ParsedTag;
      if (p.lane === lane && p.epoch < epoch) return tag;
    }
    return null;
  }
}
