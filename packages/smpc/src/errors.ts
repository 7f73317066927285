/**
 * The one error class of @ppml/smpc that callers branch on: a protocol run was aborted because a party threw,
 * exited, stopped answering within the timeout, or sent a malformed message. Every party is stopped when it is
 * raised; the original failure is kept in `cause`. Argument errors stay built-in `TypeError`/`RangeError`.
 * @module
 */

/**
 * A secret-shared computation was aborted; the session is unusable afterwards and all party workers have been
 * terminated. `party` is the party blamed (or -1 when unknown), `cause` the underlying failure.
 * @example
 * ```ts
 * try {
 *   await session.reveal(x);
 * } catch (e) {
 *   if (e instanceof ProtocolAbortError) console.error(`party ${e.party} failed`, e.cause);
 * }
 * ```
 */
export class ProtocolAbortError extends Error {
  /** The party blamed for the abort, or -1 when unknown. */
  party: number;

  constructor(message: string, options?: { cause?: unknown; party?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProtocolAbortError';
    this.party = options?.party ?? -1;
  }
}
