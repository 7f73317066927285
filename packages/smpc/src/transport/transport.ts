/**
 * The transport interface between parties: byte messages addressed by peer and tag. Protocols only see this
 * interface, so a network transport (sockets with an authenticated key per pair, sequence numbers and
 * backpressure) can replace the in-process one without touching protocol code.
 *
 * Tags are unique per message for the life of a session and have one of three forms (see {@link parseTag}):
 * `"<epoch>.<step>"` (operation number, communication step within it), `"<lane>.<epoch>"` (a named stream of
 * numbered messages, such as dealer material `pre.3`), or a bare `"<lane>"` (one message, such as the key
 * agreement's `hello`). A party asks for the epochs of a lane in non-decreasing order (it runs operations
 * strictly one after the other), which lets a transport reject a replayed or repeated tag with memory bounded
 * by the tags of one epoch, instead of remembering every tag ever received.
 *
 * The dealer is one more peer on the same transport: with n parties, peer index n is the dealer link (party 0
 * sends it requests on lane `req`, and every party receives material from it on lane `pre`).
 * @module
 */

/**
 * Point-to-point byte messages between the parties of one protocol run.
 * @example
 * ```ts
 * transport.send(1, '7.0', bytes);            // ownership of bytes.buffer moves to the transport
 * const reply = await transport.receive(1, '7.1');
 * ```
 */
export interface Transport {
  /** This party's index in [0, parties). */
  readonly party: number;
  /** Number of parties. */
  readonly parties: number;
  /** Sends `bytes` to `peer` under `tag`. The buffer may be transferred: the caller must not reuse it. */
  send(peer: number, tag: string, bytes: Uint8Array): void;
  /**
   * Resolves with the message `peer` sent under `tag`. Each tag is received once, and the epochs of a lane
   * are asked for in non-decreasing order; a second copy of a tag is a protocol violation.
   */
  receive(peer: number, tag: string): Promise<Uint8Array>;
  /** Total bytes this party has sent (message payloads, without any framing). */
  readonly bytesSent: number;
  /** Total messages this party has sent. */
  readonly messagesSent: number;
  /**
   * Puts the transport in a failed state: every pending and future `receive` rejects with `e`. A network
   * transport also tells its peers why this party stopped (an explicit abort message).
   */
  fail(e: Error): void;
  /** Releases the links (ports or sockets). Idempotent. */
  close(): void;
  /**
   * A 16-byte key bound to the authenticated channel with `peer`, the same on both ends of that channel (TLS:
   * the keying-material exporter, RFC 5705 / RFC 8446 Sec. 7.5). Absent when the channel is not authenticated
   * by a key exchange (in-process ports): parties then agree keys over the transport.
   */
  channelKey?(peer: number, label: string): Uint8Array;
  /**
   * Resolves when the bytes queued for sending are below the transport's high-water mark (backpressure): a
   * party awaits it between operations so that a slow peer cannot make it buffer without limit.
   */
  drained?(): Promise<void>;
}

/** A tag split into its lane (`''` for operation tags) and epoch. */
export interface ParsedTag {
  readonly lane: string;
  readonly epoch: number;
}

const OPERATION_TAG = /^(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,14})$/;
const LANE_TAG = /^([A-Za-z][A-Za-z0-9_-]{0,31})(?:\.(0|[1-9]\d{0,14}))?$/;

/**
 * Splits a tag into lane and epoch, or returns `null` when it has none of the three forms.
 * @example
 * ```ts
 * parseTag('7.2');   // { lane: '', epoch: 7 }
 * parseTag('pre.3'); // { lane: 'pre', epoch: 3 }
 * parseTag('hello'); // { lane: 'hello', epoch: 0 }
 * ```
 */
export function parseTag(tag: unknown): ParsedTag | null {
  if (typeof tag !== 'string') return null;
  const op = OPERATION_TAG.exec(tag);
  if (op !== null) return { lane: '', epoch: Number(op[1]) };
  const lane = LANE_TAG.exec(tag);
  if (lane !== null) return { lane: lane[1] as string, epoch: lane[2] === undefined ? 0 : Number(lane[2]) };
  return null;
}
