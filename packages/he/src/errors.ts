/**
 * The one error class of `@ppml/he`. Callers must branch on it: bytes that came over the wire (evaluation
 * keys, encrypted rows, encrypted scores, client key files) were truncated, corrupted, produced under other
 * encryption parameters, or are of another kind or version. Everything else is a built-in `TypeError` /
 * `RangeError` naming the parameter. SEAL ciphertexts are not authenticated (SEAL `SECURITY.md`), so this is an
 * integrity check against accidents, not a defence against a forger: use an authenticated transport.
 * @module
 */

/**
 * Why bytes were rejected: `'version'` is this library's wire format version, `'seal-version'` the version of
 * SEAL that wrote an embedded key or ciphertext (the message names both versions).
 */
export type HeFormatReason = 'truncated' | 'corrupt' | 'version' | 'seal-version' | 'kind' | 'parameters' | 'keys';

/**
 * Bytes that cannot be read as the expected `@ppml/he` object.
 * @example
 * ```ts
 * try { client.decryptScores(bytes); } catch (e) { if (e instanceof HeFormatError && e.reason === 'parameters') resend(); }
 * ```
 */
export class HeFormatError extends Error {
  /** Which check failed. */
  readonly reason: HeFormatReason;

  /** `options.reason` defaults to `'corrupt'`; the signature also fits `deserializeError` from `@ppml/core`. */
  constructor(message: string, options?: { cause?: unknown; reason?: HeFormatReason }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeFormatError';
    this.reason = options?.reason ?? 'corrupt';
  }
}
