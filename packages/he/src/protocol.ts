/**
 * The HTTP protocol between {@link HeRemote} and the service of `@ppml/he/service`, shared by both sides (and by
 * browsers, so only Web APIs and noble libraries are used here).
 *
 * Every request that touches a key set is signed with the client's Ed25519 key (RFC 8032, `@noble/curves`):
 * the signature covers a domain tag, the method, the path, the key-set id, a millisecond timestamp, a random
 * 128-bit nonce and the SHA-256 of the body. The service checks the signature against the public key registered
 * with the key set, refuses a timestamp outside its clock-skew window and a nonce it has seen within that window,
 * so a captured request can be neither replayed nor re-targeted to another body, path or key set. The bodies
 * are `@ppml/he` wire messages (`wire.ts`); errors are JSON `{ error: { reason, message } }`.
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, randomBytes } from '@noble/hashes/utils.js';
import { describeValue } from '@ppml/core';
import { platform } from '#platform';
import type { HeFormatReason } from './errors.ts';

/**
 * Version prefix of every route.
 * @example
 * ```ts
 * `${url}${API_PREFIX}/models`;
 * ```
 */
export const API_PREFIX = '/v1';

/**
 * Request headers of the signature scheme.
 * @example
 * ```ts
 * headers[SIGNATURE_HEADERS.keySet] = keySetId;
 * ```
 */
export const SIGNATURE_HEADERS = {
  keySet: 'x-ppml-key-set',
  publicKey: 'x-ppml-public-key',
  timestamp: 'x-ppml-timestamp',
  nonce: 'x-ppml-nonce',
  signature: 'x-ppml-signature',
} as const;

/** Domain tag of signed requests (a signature for another protocol or version never verifies here). */
const DOMAIN = 'ppml-he-request-v1';

/**
 * Why the service refused a request: the wire format's reasons for bytes, plus the service's own.
 * - `bad-request`: malformed headers, options or body type; `too-large`: body over the limit (413);
 * - `unknown-model`, `unknown-key-set` (404); `signature` (bad or foreign signature), `stale` (timestamp outside
 *   the window), `replay` (nonce seen before) (401/403); `features` and `layout`: rows that do not fit the model;
 * - `busy` (429), `shutting-down`, `timeout` (503), `internal` (500: the service's fault, never the client's).
 */
export type ServiceReason =
  | HeFormatReason
  | 'bad-request'
  | 'too-large'
  | 'unknown-model'
  | 'unknown-key-set'
  | 'signature'
  | 'stale'
  | 'replay'
  | 'features'
  | 'layout'
  | 'busy'
  | 'shutting-down'
  | 'timeout'
  | 'internal';

/** JSON body of an error reply. */
export interface ServiceErrorBody {
  readonly error: { readonly reason: ServiceReason; readonly message: string };
}

/**
 * A refused request, as {@link HeRemote} sees it: the HTTP status and the service's typed reason.
 * @example
 * ```ts
 * try { await remote.predict('risk', rows); } catch (e) { if (e instanceof HeServiceError && e.status === 429) retryLater(); }
 * ```
 */
export class HeServiceError extends Error {
  readonly status: number;
  readonly reason: ServiceReason;
  constructor(status: number, reason: ServiceReason, message: string) {
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
      throw new TypeError(`status must be an HTTP status code (100-599), got ${describeValue(status)}`);
    }
    if (typeof reason !== 'string') throw new TypeError(`reason must be a string, got ${describeValue(reason)}`);
    if (typeof message !== 'string') throw new TypeError(`message must be a string, got ${describeValue(message)}`);
    super(`HTTP ${status} (${reason}): ${message}`);
    this.name = 'HeServiceError';
    this.status = status;
    this.reason = reason;
  }
}

/** Bytes of an Ed25519 secret key (seed) and of a public key. */
export const ED25519_KEY_BYTES = 32;

function checkBytes(name: string, b: unknown, length?: number): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array, got ${describeValue(b)}`);
  if (length !== undefined && b.length !== length) throw new RangeError(`${name} must have ${length} bytes, got ${b.length}`);
}

function checkFields(f: unknown): asserts f is SignedFields {
  if (f === null || typeof f !== 'object')
    throw new TypeError(`fields must be an object { method, path, keySetId, bodyDigest }, got ${describeValue(f)}`);
  const o = f as Record<string, unknown>;
  for (const k of ['method', 'path', 'keySetId'] as const) {
    if (typeof o[k] !== 'string') throw new TypeError(`fields.${k} must be a string, got ${describeValue(o[k])}`);
  }
  checkBytes('fields.bodyDigest', o.bodyDigest, 32);
  if (o.timestamp !== undefined && (typeof o.timestamp !== 'number' || !Number.isSafeInteger(o.timestamp) || o.timestamp < 0)) {
    throw new RangeError(`fields.timestamp must be a non-negative integer (ms), got ${describeValue(o.timestamp)}`);
  }
  if (o.nonce !== undefined && (typeof o.nonce !== 'string' || !/^[0-9a-f]{32}$/.test(o.nonce))) {
    throw new RangeError(`fields.nonce must be 32 lower-case hex digits, got ${describeValue(o.nonce)}`);
  }
}

/**
 * A fresh Ed25519 signing key (32 random bytes from the platform CSPRNG).
 * @example
 * ```ts
 * const signingKey = newSigningKey(); // store it with the client's keys
 * ```
 */
export function newSigningKey(): Uint8Array {
  return ed25519.utils.randomSecretKey();
}

/**
 * The Ed25519 public key of a signing key.
 * @example
 * ```ts
 * const pub = signingPublicKey(signingKey);
 * ```
 */
export function signingPublicKey(signingKey: Uint8Array): Uint8Array {
  checkBytes('signingKey', signingKey, ED25519_KEY_BYTES);
  return ed25519.getPublicKey(signingKey);
}

/**
 * The key-set id the service gives a client: 128 bits of SHA-256(signing public key ‖ parameter hash ‖ HE key
 * id), hex. The HE key id is chosen with the secret key and kept by `exportClientKeys`/`HeClient.load`, so a
 * restored client with the same signing key has the same id before it registers (and need not upload its
 * evaluation keys again), and registering twice is idempotent.
 * @example
 * ```ts
 * const id = keySetIdOf(signingPublicKey(signingKey), hexToBytes(client.parameterId), client.keyId);
 * ```
 */
export function keySetIdOf(publicKey: Uint8Array, parameterHash: Uint8Array, keyId: Uint8Array): string {
  checkBytes('publicKey', publicKey, ED25519_KEY_BYTES);
  checkBytes('parameterHash', parameterHash, 32);
  checkBytes('keyId', keyId, 16);
  return bytesToHex(sha256(concatBytes(publicKey, parameterHash, keyId))).slice(0, 32);
}

/** The fields a signature covers. */
export interface SignedFields {
  readonly method: string;
  readonly path: string;
  /** The key-set id, or '' for a registration (which proves possession of the key being registered). */
  readonly keySetId: string;
  readonly timestamp: number;
  /** 32 hex digits. */
  readonly nonce: string;
  /** SHA-256 of the body. */
  readonly bodyDigest: Uint8Array;
}

/**
 * The exact bytes an Ed25519 signature of a request covers.
 * @example
 * ```ts
 * const msg = signedMessage({ method: 'POST', path: '/v1/models/risk/predict', keySetId, timestamp, nonce, bodyDigest });
 * ```
 */
export function signedMessage(f: SignedFields): Uint8Array {
  return new TextEncoder().encode(
    [DOMAIN, f.method.toUpperCase(), f.path, f.keySetId, String(f.timestamp), f.nonce, bytesToHex(f.bodyDigest)].join('\n'),
  );
}

/**
 * Signature headers for a request.
 * @example
 * ```ts
 * const headers = signRequest(signingKey, { method: 'POST', path, keySetId, bodyDigest });
 * ```
 */
export function signRequest(
  signingKey: Uint8Array,
  f: Omit<SignedFields, 'timestamp' | 'nonce'> & { timestamp?: number; nonce?: string },
): Record<string, string> {
  checkBytes('signingKey', signingKey, ED25519_KEY_BYTES);
  checkFields(f);
  const timestamp = f.timestamp ?? Date.now();
  const nonce = f.nonce ?? bytesToHex(randomBytes(16));
  const signature = ed25519.sign(signedMessage({ ...f, timestamp, nonce }), signingKey);
  const h: Record<string, string> = {
    [SIGNATURE_HEADERS.timestamp]: String(timestamp),
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: bytesToHex(signature),
  };
  if (f.keySetId !== '') h[SIGNATURE_HEADERS.keySet] = f.keySetId;
  return h;
}

/**
 * Whether `signature` (hex) is a valid Ed25519 signature of the request by `publicKey`; false for malformed input.
 * @example
 * ```ts
 * if (!verifyRequest(publicKey, signatureHex, fields)) refuse();
 * ```
 */
export function verifyRequest(publicKey: Uint8Array, signature: string, f: SignedFields): boolean {
  checkBytes('publicKey', publicKey, ED25519_KEY_BYTES);
  checkFields(f);
  if (typeof f.timestamp !== 'number') throw new TypeError(`fields.timestamp must be a number, got ${describeValue(f.timestamp)}`);
  if (typeof f.nonce !== 'string') throw new TypeError(`fields.nonce must be a string, got ${describeValue(f.nonce)}`);
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature)) return false;
  try {
    return ed25519.verify(hexToBytes(signature), signedMessage(f), publicKey);
  } catch {
    return false;
  }
}

/**
 * SHA-256 of `bytes`: node:crypto in Node, WebCrypto in browsers (noble-hashes where WebCrypto is absent).
 * @example
 * ```ts
 * const digest = await sha256Async(body);
 * ```
 */
export async function sha256Async(bytes: Uint8Array): Promise<Uint8Array> {
  checkBytes('bytes', bytes);
  return platform.sha256(bytes);
}
