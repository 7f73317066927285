/**
 * The transport interface between parties: byte messages addressed by peer and tag. Protocols only see this
 * interface, so a network transport (sockets with an authenticated key per pair, sequence numbers and
 * backpressure) can replace the in-process one without touching protocol code. Tags are unique per message
 * (operation number, step), which lets messages arrive in any order.
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
  /** Resolves with the message `peer` sent under `tag` (each tag is received once). */
  receive(peer: number, tag: string): Promise<Uint8Array>;
  /** Total bytes this party has sent. */
  readonly bytesSent: number;
  /** Total messages this party has sent. */
  readonly messagesSent: number;
}
