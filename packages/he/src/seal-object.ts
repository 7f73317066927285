/**
 * Checks on the SEAL objects embedded in `@ppml/he` messages (keys and ciphertexts from a peer), before and after
 * SEAL reads them.
 *
 * Before: every SEAL object starts with SEAL's 16-byte serialisation header (SEAL `serialization.h`,
 * `SEALHeader`): magic `0xA15E` (u16), header size 16 (u8), SEAL version major and minor (u8, u8), compression
 * mode (u8: 0 none, 1 zlib, 2 zstd), two reserved bytes, and the size of the whole object in bytes (u64). SEAL
 * reads only `size` bytes and ignores whatever follows, so {@link checkSealHeader} requires `size` to equal the
 * byte string exactly (trailing bytes are refused), and reports an object written by another SEAL version as
 * `reason: 'seal-version'` naming both versions (SEAL 4.1 reads only 4.1 objects; measured: 4.0 and 4.4 headers
 * are refused with "incompatible version").
 *
 * After: node-seal 7 is SEAL 4.1.2, whose `load` already runs SEAL's `is_valid_for` (metadata against the
 * context, and every coefficient below its prime; measured: a coefficient word set to 2^64 − 1 is refused with
 * "ciphertext data is invalid"). It does not expose `is_valid_for` itself, and a valid object may still be the
 * wrong one for ppml, so {@link checkCiphertext} checks what the evaluation relies on: the ciphertext's parms id
 * is one of the context's data levels and its prime count matches that level, N matches, it has two
 * polynomials, is in NTT form and not transparent, and has a scale that is finite, at least 1 and leaves room
 * for values below the level's modulus. (node-seal 7's `correctionFactor()` returns the scale, so BGV's
 * correction factor is not checked here; CKKS does not use it.)
 * @module
 */
import type { Ciphertext } from 'node-seal';
import type { HeContext } from './context.ts';
import { HeFormatError } from './errors.ts';

/** SEAL's serialisation magic. */
const SEAL_MAGIC = 0xa15e;
/** Bytes of SEAL's serialisation header. */
const SEAL_HEADER_BYTES = 16;

/**
 * The SEAL version whose objects this build reads and writes (node-seal 7.0.0 is SEAL 4.1.2).
 * @example
 * ```ts
 * `${SEAL_VERSION.major}.${SEAL_VERSION.minor}`; // '4.1'
 * ```
 */
export const SEAL_VERSION: { readonly major: number; readonly minor: number } = { major: 4, minor: 1 };

/**
 * Checks the SEAL serialisation header of one embedded object; throws {@link HeFormatError} (`'truncated'`,
 * `'corrupt'` or `'seal-version'`).
 * @example
 * ```ts
 * checkSealHeader(ciphertextBytes, 'encRows');
 * ```
 */
export function checkSealHeader(bytes: Uint8Array, what: string): void {
  if (bytes.length < SEAL_HEADER_BYTES) {
    throw new HeFormatError(`${what} hold a SEAL object of ${bytes.length} bytes, shorter than SEAL's ${SEAL_HEADER_BYTES}-byte header`, {
      reason: 'truncated',
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0, true) !== SEAL_MAGIC)
    throw new HeFormatError(`${what} hold a byte string that is not a SEAL object (bad SEAL magic)`);
  if (bytes[2] !== SEAL_HEADER_BYTES)
    throw new HeFormatError(`${what} hold a SEAL object with a header size of ${bytes[2]}, expected ${SEAL_HEADER_BYTES}`);
  const major = bytes[3];
  const minor = bytes[4];
  if (major !== SEAL_VERSION.major || minor !== SEAL_VERSION.minor) {
    throw new HeFormatError(
      `${what} hold a SEAL object written by SEAL ${major}.${minor}; this library runs SEAL ${SEAL_VERSION.major}.${SEAL_VERSION.minor} ` +
        `(node-seal 7), which reads only SEAL ${SEAL_VERSION.major}.${SEAL_VERSION.minor} objects: use SEAL ${SEAL_VERSION.major}.${SEAL_VERSION.minor}.x on the other side`,
      { reason: 'seal-version' },
    );
  }
  if (bytes[5] > 2) throw new HeFormatError(`${what} hold a SEAL object with unknown compression mode ${bytes[5]}`);
  if (view.getUint16(6, true) !== 0) throw new HeFormatError(`${what} hold a SEAL object whose reserved header bytes are set`);
  const size = view.getBigUint64(8, true);
  const n = BigInt(bytes.length);
  if (size > n) {
    throw new HeFormatError(`${what} hold a SEAL object whose header announces ${size} bytes, but its byte string has ${n}`, {
      reason: 'truncated',
    });
  }
  if (size < n) {
    throw new HeFormatError(`${what} hold ${n - size} bytes after a SEAL object of ${size} bytes (its header's size field)`);
  }
}

/** What a loaded ciphertext must be. */
export interface CiphertextExpectation {
  /** The level it must sit at (fresh uploads: the top level); any level of the chain when omitted. */
  readonly level?: number;
  /** The exact scale it must carry (fresh uploads: the plan's scale). */
  readonly scale?: number;
}

/**
 * Checks a ciphertext loaded from a peer against the context and returns its level; throws {@link HeFormatError}.
 * @example
 * ```ts
 * const level = checkCiphertext(ct, ctx, 'encScores');
 * ```
 */
export function checkCiphertext(ct: Ciphertext, ctx: HeContext, what: string, expect: CiphertextExpectation = {}): number {
  const bad = (why: string): HeFormatError => new HeFormatError(`${what} hold a ciphertext that ${why}`);
  const level = ctx.levelOf(ct);
  if (level === undefined) throw bad('is not at a data level of these encryption parameters');
  if (ct.coeffModulusSize() !== level + 1) throw bad(`has ${ct.coeffModulusSize()} primes at level ${level} (expected ${level + 1})`);
  if (ct.polyModulusDegree() !== ctx.plan.polyModulusDegree)
    throw bad(`has N = ${ct.polyModulusDegree()}, expected ${ctx.plan.polyModulusDegree}`);
  if (ct.size() !== 2) throw bad(`has ${ct.size()} polynomials (expected 2: relinearised)`);
  if (!ct.isNttForm()) throw bad('is not in NTT form (CKKS ciphertexts always are)');
  if (ct.isTransparent()) throw bad('is transparent (it encrypts nothing: its second polynomial is zero)');
  const scale = ct.scale();
  if (!Number.isFinite(scale) || scale < 1 || ctx.headroom(level, scale) < 1)
    throw bad(`has an impossible scale ${scale} for level ${level}`);
  if (expect.level !== undefined && level !== expect.level) throw bad(`is at level ${level}, expected ${expect.level}`);
  if (expect.scale !== undefined && scale !== expect.scale) throw bad(`has scale ${scale}, expected ${expect.scale}`);
  return level;
}
