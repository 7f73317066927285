/**
 * The network {@link Transport}: one TLS 1.3 stream per peer (mutually authenticated, pinned certificates; see
 * `network/mesh.ts`), framed as in `frames.ts`. On top of what TLS guarantees (no byte changed, dropped,
 * duplicated or reordered by the network), it enforces the protocol's own rules on what a peer sends: frames of
 * this session only, numbered without gaps, chunks of one message in order, only the lanes that peer may use,
 * and the replay rules of `mailbox.ts`. Any violation aborts the run and names the peer.
 *
 * Failures are explicit: a party that stops sends an ABORT frame with its reason to every peer before closing,
 * so every party learns who was blamed. A peer that closes its stream without a BYE (its process was killed, the
 * network failed) aborts the run at once. Every side sends a keepalive every `timeoutMs / 4`, so a peer that
 * sends nothing at all for `timeoutMs` has stopped (its process is frozen, or the network is down) and aborts the
 * run after that time, while a peer that is merely blocked waiting for a third party is not blamed.
 *
 * Memory is bounded both ways: at most {@link INBOX_HIGH_WATER} unread bytes per peer are buffered before this
 * party stops reading that peer's socket (TCP backpressure reaches the sender), and `drained()` lets the party
 * wait between operations while more than {@link SEND_HIGH_WATER} bytes are queued for a slow peer.
 *
 * Pairwise keys come from the TLS keying-material exporter (RFC 5705; TLS 1.3: RFC 8446 Sec. 7.5), bound to the
 * authenticated handshake: a party in the middle cannot substitute them.
 * @module
 */
import type { TLSSocket } from 'node:tls';
import { describeValue } from '@ppml/core';
import { ProtocolAbortError } from '../errors.ts';
import { ABORT, BYE, CHUNK, DATA, FrameReader, MAX_MESSAGE, PING, frameHeader, type Frame } from './frames.ts';
import { Mailbox, TAG_FORMS } from './mailbox.ts';
import { parseTag, type Transport } from './transport.ts';

/** Unread bytes from one peer above which this party stops reading that peer's socket. */
export const INBOX_HIGH_WATER: number = 256 * 2 ** 20;
/** Messages up to this length (64 MiB) are assembled in a buffer allocated at their first chunk. */
const PREALLOCATE = 64 * 2 ** 20;
/** Bytes queued for sending above which a party waits before starting another operation. */
export const SEND_HIGH_WATER: number = 64 * 2 ** 20;

/** One authenticated stream, after the agreement handshake. */
export interface TlsLink {
  readonly socket: TLSSocket;
  /** Bytes the handshake read past the peer's HELLO (the start of the peer's first frames). */
  readonly rest: Buffer;
  /** The lanes this peer may send on (`''` for operation messages, 'pre' for dealer material, 'req' for requests). */
  readonly lanes: ReadonlySet<string>;
}

/** Options of {@link TlsTransport}. */
export interface TlsTransportOptions {
  readonly party: number;
  readonly parties: number;
  /** One link per peer index (the dealer is peer `parties`); `null` for this party and for peers it has no link to. */
  readonly links: readonly (TlsLink | null)[];
  readonly digest: Uint8Array;
  /** Abort when a peer sends nothing, not even a keepalive, for this long (ms); 0: never (the dealer's side). */
  readonly timeoutMs: number;
  /** Interval of the keepalive frames this side sends (ms); default `timeoutMs / 4`, 0 for none. */
  readonly pingMs?: number;
  readonly onFailure: (e: ProtocolAbortError) => void;
  /** A peer's goodbye while a receive waits for it is normal (the dealer's side), not a fault. */
  readonly quietBye?: boolean;
}

interface PeerState {
  readonly link: TlsLink;
  readonly reader: FrameReader;
  nextIn: number;
  nextOut: number;
  /** The message being assembled from chunks. */
  partial: { tag: string; total: number; buffer: Uint8Array | null; chunks: Uint8Array[]; received: number } | null;
  lastHeard: number;
  bye: boolean;
  closed: boolean;
  paused: boolean;
}

/**
 * A transport over authenticated TLS streams (see the module comment).
 * @example
 * ```ts
 * const t = new TlsTransport({ party: 1, parties: 3, links, digest: sessionDigest('study'), timeoutMs: 60_000, onFailure: console.error });
 * t.send(2, '0.0', bytes);
 * ```
 */
export class TlsTransport implements Transport {
  readonly party: number;
  readonly parties: number;
  bytesSent = 0;
  messagesSent = 0;
  /** Bytes written to the TLS streams, framing included (payload plus headers). */
  wireBytesSent = 0;
  readonly #peers: (PeerState | null)[];
  readonly #box: Mailbox;
  readonly #digest: Uint8Array;
  readonly #timeoutMs: number;
  readonly #onFailure: (e: ProtocolAbortError) => void;
  readonly #watchdog: ReturnType<typeof setInterval>;
  readonly #pinger: ReturnType<typeof setInterval> | null;
  readonly #quietBye: boolean;
  #failure: ProtocolAbortError | null = null;
  #closed = false;
  readonly #allClosed: Promise<void>;
  /** Wakes `drained()` waiters on failure: a failed socket only ends, and a stalled peer never drains or closes it. */
  readonly #wakers = new Set<() => void>();

  constructor(options: TlsTransportOptions) {
    this.party = options.party;
    this.parties = options.parties;
    this.#digest = options.digest;
    this.#timeoutMs = options.timeoutMs;
    this.#onFailure = options.onFailure;
    this.#quietBye = options.quietBye === true;
    this.#box = new Mailbox(options.links.length, (e) => this.fail(e));
    this.#box.onConsumed = (peer) => this.#maybeResume(peer);
    const now = Date.now();
    this.#peers = options.links.map((link) =>
      link === null
        ? null
        : {
            link,
            reader: new FrameReader(),
            nextIn: 1,
            nextOut: 1,
            partial: null,
            lastHeard: now,
            bye: false,
            closed: false,
            paused: false,
          },
    );
    const closes: Promise<void>[] = [];
    this.#peers.forEach((st, peer) => {
      if (st === null) return;
      const s = st.link.socket;
      closes.push(new Promise((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve()))));
      s.setNoDelay(true);
      s.on('data', (d: Buffer) => this.#onData(peer, d));
      s.on('error', (e: Error) => this.#onClose(peer, e));
      s.on('close', () => this.#onClose(peer, null));
      if (st.link.rest.length > 0) this.#onData(peer, st.link.rest);
      s.resume();
    });
    this.#allClosed = Promise.all(closes).then(() => {});
    // Stall detection on party links (the dealer is awaited all the time for material that may never be needed).
    this.#watchdog = setInterval(() => this.#checkStalls(), Math.max(5, Math.min(500, this.#timeoutMs / 20)));
    this.#watchdog.unref();
    if (this.#timeoutMs <= 0) clearInterval(this.#watchdog);
    // Keepalives: a peer that is alive but blocked waiting for a third party keeps sending them, so only the
    // party that actually stopped is blamed for the silence.
    const pingMs = options.pingMs ?? this.#timeoutMs / 4;
    this.#pinger = pingMs > 0 ? setInterval(() => this.#ping(), Math.max(5, pingMs)) : null;
    this.#pinger?.unref();
  }

  /** Who `peer` is, for messages. */
  #name(peer: number): string {
    return peer === this.parties ? 'the dealer' : `party ${peer}`;
  }

  #blame(peer: number): number {
    return peer === this.parties || peer > this.parties ? -1 : peer;
  }

  /** Open links (sockets not yet closed). */
  get openLinks(): number {
    return this.#peers.filter((p) => p !== null && !p.closed).length;
  }

  /** Resolves when every socket has closed. */
  allClosed(): Promise<void> {
    return this.#allClosed;
  }

  #violation(peer: number, what: string): void {
    this.fail(new ProtocolAbortError(`${this.#name(peer)} sent ${what}`, { party: this.#blame(peer) }));
  }

  #onData(peer: number, d: Buffer): void {
    const st = this.#peers[peer] as PeerState;
    if (this.#failure !== null || this.#closed) return;
    st.lastHeard = Date.now();
    let frames: Frame[];
    try {
      frames = st.reader.push(d);
    } catch (e) {
      this.#violation(peer, `a malformed frame (${(e as Error).message})`);
      return;
    }
    for (const f of frames) {
      if (this.#failure !== null) return;
      this.#onFrame(peer, st, f);
    }
  }

  #onFrame(peer: number, st: PeerState, f: Frame): void {
    if (f.seq !== st.nextIn) {
      this.#violation(peer, `frame ${f.seq} where frame ${st.nextIn} was due (a duplicated, dropped or reordered frame)`);
      return;
    }
    st.nextIn++;
    if (!equalBytes(f.digest, this.#digest)) {
      this.#violation(peer, 'a frame of another session (its session id digest differs)');
      return;
    }
    if (f.kind === ABORT) {
      let reason = 'no reason given';
      let blamed = peer;
      try {
        const m = JSON.parse(Buffer.from(f.payload).toString('utf8')) as { message?: unknown; party?: unknown };
        if (typeof m.message === 'string') reason = m.message.slice(0, 2000);
        if (Number.isInteger(m.party) && (m.party as number) >= 0 && (m.party as number) < this.parties) blamed = m.party as number;
        else if (m.party === -1) blamed = -1;
      } catch {
        // An unreadable reason still aborts: the peer stopped.
      }
      this.fail(
        new ProtocolAbortError(`${this.#name(peer)} aborted the session: ${reason}`, {
          party: peer === this.parties && blamed === peer ? -1 : blamed,
        }),
      );
      return;
    }
    if (f.kind === PING) return;
    if (f.kind === BYE) {
      st.bye = true;
      this.#checkGone(peer, st);
      return;
    }
    if (f.kind !== DATA) {
      this.#violation(peer, `a frame of unknown kind ${f.kind}`);
      return;
    }
    if (st.bye) {
      this.#violation(peer, 'data after saying goodbye');
      return;
    }
    const parsed = parseTag(f.tag);
    if (parsed === null || !st.link.lanes.has(parsed.lane)) {
      this.#violation(peer, `a message with tag ${JSON.stringify(f.tag)}, which it may not use`);
      return;
    }
    if (f.total > MAX_MESSAGE || f.payload.length > f.total - f.offset || f.offset > f.total) {
      this.#violation(
        peer,
        `a chunk of ${f.payload.length} bytes at offset ${f.offset} of a ${f.total}-byte message (over the ${MAX_MESSAGE}-byte limit or past its end)`,
      );
      return;
    }
    let partial = st.partial;
    if (partial === null) {
      if (f.offset !== 0) {
        this.#violation(peer, `a chunk of message ${f.tag} at offset ${f.offset} before its start`);
        return;
      }
      // Up to PREALLOCATE bytes the message buffer is allocated at once and chunks are copied into it; a longer
      // message keeps its chunks as they come and joins them at the end, so that memory follows the bytes
      // actually received, not the length a peer announces.
      partial = { tag: f.tag, total: f.total, buffer: f.total <= PREALLOCATE ? new Uint8Array(f.total) : null, chunks: [], received: 0 };
      st.partial = partial;
    } else if (partial.tag !== f.tag || partial.received !== f.offset) {
      this.#violation(
        peer,
        `a chunk of message ${f.tag} at offset ${f.offset} while message ${partial.tag} was due at offset ${partial.received}`,
      );
      return;
    }
    // Copies: the payload is a view into the socket's buffer, at any alignment.
    if (partial.buffer !== null) partial.buffer.set(f.payload, f.offset);
    else partial.chunks.push(new Uint8Array(f.payload));
    partial.received += f.payload.length;
    if (partial.received === partial.total) {
      st.partial = null;
      let message = partial.buffer ?? partial.chunks[0] ?? new Uint8Array(0);
      if (partial.buffer === null && partial.chunks.length > 1) {
        message = new Uint8Array(partial.total);
        let at = 0;
        for (const c of partial.chunks) {
          message.set(c, at);
          at += c.length;
        }
      }
      this.#box.deliver(peer, partial.tag, message);
      if (!st.paused && this.#box.unreadBytes(peer) > INBOX_HIGH_WATER) {
        // Backpressure: stop reading until this party has consumed what the peer sent ahead.
        st.paused = true;
        st.link.socket.pause();
      }
    }
  }

  #maybeResume(peer: number): void {
    const st = this.#peers[peer];
    if (st?.paused && this.#box.unreadBytes(peer) <= INBOX_HIGH_WATER / 2) {
      st.paused = false;
      st.link.socket.resume();
    }
  }

  #onClose(peer: number, error: Error | null): void {
    const st = this.#peers[peer] as PeerState;
    const wasClosed = st.closed;
    st.closed = true;
    if (this.#failure !== null || this.#closed || wasClosed) return;
    if (!st.bye) {
      const how = error
        ? `its connection failed (${error.message})`
        : 'closed its connection without ending the session (its process stopped or the network failed)';
      this.fail(new ProtocolAbortError(`${this.#name(peer)} ${how}`, { party: this.#blame(peer), cause: error ?? undefined }));
      return;
    }
    this.#checkGone(peer, st);
  }

  /** A peer that said goodbye can no longer answer: a receive still waiting for it aborts the run. */
  #checkGone(peer: number, st: PeerState): void {
    if (this.#quietBye || !st.bye || this.#box.waitingSince(peer) < 0) return;
    this.fail(
      new ProtocolAbortError(
        `${this.#name(peer)} closed the session while this party still waited for its messages (the programs differ)`,
        { party: this.#blame(peer) },
      ),
    );
  }

  #ping(): void {
    if (this.#failure !== null || this.#closed) return;
    for (const st of this.#peers) {
      // A keepalive behind queued data would say nothing new: the data itself shows this side is alive.
      if (st === null || st.closed || st.bye || st.link.socket.destroyed || st.link.socket.writableLength > 0) continue;
      this.#write(st, PING, 'ping', new Uint8Array(0));
    }
  }

  #checkStalls(): void {
    if (this.#failure !== null || this.#closed) return;
    const now = Date.now();
    this.#peers.forEach((st, peer) => {
      // A peer this side stopped reading (backpressure) or that said goodbye is not expected to be heard from.
      if (this.#failure !== null || st === null || st.closed || st.bye || st.paused) return;
      if (now - st.lastHeard > this.#timeoutMs) {
        this.fail(
          new ProtocolAbortError(
            `${this.#name(peer)} sent nothing, not even a keepalive, for ${this.#timeoutMs} ms (timeoutMs): its process stopped or the network is down`,
            {
              party: this.#blame(peer),
            },
          ),
        );
      }
    });
  }

  #write(st: PeerState, kind: number, tag: string, bytes: Uint8Array): void {
    const s = st.link.socket;
    const total = bytes.byteLength;
    s.cork();
    let offset = 0;
    do {
      const n = Math.min(CHUNK, total - offset);
      const h = frameHeader(kind, this.#digest, st.nextOut++, tag, total, offset, n);
      s.write(h);
      if (n > 0) s.write(Buffer.from(bytes.buffer, bytes.byteOffset + offset, n));
      this.wireBytesSent += h.length + n;
      offset += n;
    } while (offset < total);
    s.uncork();
  }

  #link(peer: unknown): PeerState {
    const st = Number.isInteger(peer) ? this.#peers[peer as number] : undefined;
    if (!st) throw new RangeError(`peer must be another party (or the dealer) linked to this one, got ${describeValue(peer)}`);
    return st;
  }

  send(peer: number, tag: string, bytes: Uint8Array): void {
    const st = this.#link(peer);
    if (parseTag(tag) === null) throw new RangeError(`tag must have the form ${TAG_FORMS}, got ${describeValue(tag)}`);
    if (bytes.byteLength > MAX_MESSAGE) throw new RangeError(`a message must have at most ${MAX_MESSAGE} bytes, got ${bytes.byteLength}`);
    if (this.#failure !== null || this.#closed || st.closed) return;
    this.bytesSent += bytes.byteLength;
    this.messagesSent++;
    this.#write(st, DATA, tag, bytes);
  }

  receive(peer: number, tag: string): Promise<Uint8Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    let st: PeerState;
    try {
      st = this.#link(peer);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const p = this.#box.receive(peer, tag);
    if (st.bye || st.closed) this.#checkGone(peer, st);
    return p;
  }

  channelKey(peer: number, label: string): Uint8Array {
    const st = this.#link(peer);
    // RFC 5705 exporter over the TLS 1.3 session (RFC 8446 Sec. 7.5): the same bytes on both ends of this
    // authenticated connection, unknown to anyone else; the session digest binds it to this run.
    return new Uint8Array(st.link.socket.exportKeyingMaterial(16, `EXPORTER-ppml-smpc ${label}`, Buffer.from(this.#digest)));
  }

  async drained(): Promise<void> {
    for (const st of this.#peers) {
      if (st === null || st.closed) continue;
      const s = st.link.socket;
      while (s.writableLength > SEND_HIGH_WATER && !s.destroyed && this.#failure === null) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            s.off('drain', done);
            s.off('close', done);
            this.#wakers.delete(done);
            resolve();
          };
          s.once('drain', done);
          s.once('close', done);
          this.#wakers.add(done);
        });
      }
    }
    if (this.#failure) throw this.#failure;
  }

  /** Fails the run: every receive rejects, every peer gets an ABORT frame with the reason, the streams end. */
  fail(e: Error): void {
    if (this.#failure !== null) return;
    const err =
      e instanceof ProtocolAbortError
        ? e
        : new ProtocolAbortError(`party ${this.party} failed: ${e.message}`, { cause: e, party: this.party });
    this.#failure = err;
    clearInterval(this.#watchdog);
    if (this.#pinger !== null) clearInterval(this.#pinger);
    this.#box.fail(err);
    for (const wake of [...this.#wakers]) wake();
    if (!this.#closed) {
      const reason = new TextEncoder().encode(JSON.stringify({ message: err.message, party: err.party }));
      for (const st of this.#peers) {
        if (st === null || st.closed || st.link.socket.destroyed) continue;
        try {
          this.#write(st, ABORT, 'abort', reason);
        } catch {
          // The socket is already unusable: its peer sees the connection close instead.
        }
      }
    }
    this.#endAll();
    this.#onFailure(err);
  }

  #endAll(): void {
    for (const st of this.#peers) {
      if (st === null) continue;
      const s = st.link.socket;
      // Keep reading (and discarding) until the peer closes its side, so that the kernel never answers
      // unread data with a reset that could destroy the peer's own last messages.
      s.resume();
      s.end();
    }
  }

  /** Ends the session politely (BYE to every peer) and closes the streams. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#watchdog);
    if (this.#pinger !== null) clearInterval(this.#pinger);
    if (this.#failure === null) {
      for (const st of this.#peers) {
        if (st === null || st.closed || st.link.socket.destroyed) continue;
        this.#write(st, BYE, 'bye', new Uint8Array(0));
      }
    }
    this.#endAll();
  }

  /** Lets the sockets keep the process alive (`true`) or not (`false`, an idle session). */
  setRef(ref: boolean): void {
    for (const st of this.#peers) {
      if (st === null) continue;
      if (ref) st.link.socket.ref();
      else st.link.socket.unref();
    }
  }

  /** Destroys every socket at once (after close, when the peers do not close their side). */
  destroy(): void {
    for (const st of this.#peers) st?.link.socket.destroy();
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
