/**
 * Errors that cross a worker-thread boundary. `postMessage` keeps built-in classes (`RangeError`) but turns a
 * subclass such as `ProtocolAbortError` into a plain `Error` and drops its own fields, so workers send a
 * {@link SerializedError} and the receiving side rebuilds the typed error with {@link deserializeError}.
 * Used by the SMPC parties and the HE worker pool.
 * @module
 */
import { describeValue } from './validate.ts';

/** A structured-clone-safe description of an error, its class name, own fields and cause chain. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly fields?: Record<string, unknown>;
  readonly cause?: SerializedError;
}

/** A constructor that {@link deserializeError} can rebuild: `new Ctor(message, { cause })`. */
export type ErrorConstructorLike = new (message: string, options?: { cause?: unknown }) => Error;

const BUILT_INS: Record<string, ErrorConstructorLike> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * Turns any thrown value into a {@link SerializedError} (own enumerable fields that clone are kept).
 * @example
 * ```ts
 * port.postMessage({ error: serializeError(e) });
 * ```
 */
export function serializeError(e: unknown, depth = 0): SerializedError {
  if (!(e instanceof Error)) {
    let message: string;
    try {
      message = String(e);
    } catch {
      message = describeValue(e); // objects without a prototype cannot be converted to a string
    }
    return { name: 'Error', message };
  }
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(e)) {
    const v = (e as unknown as Record<string, unknown>)[key];
    if (key === 'cause' || typeof v === 'function') continue;
    if (v === null || ['string', 'number', 'boolean', 'bigint', 'undefined'].includes(typeof v)) fields[key] = v;
  }
  const out: { -readonly [K in keyof SerializedError]: SerializedError[K] } = {
    name: e.name,
    message: e.message,
    fields,
  };
  if (e.stack !== undefined) out.stack = e.stack;
  if (e.cause !== undefined && depth < 8) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

/**
 * Rebuilds an error from {@link serializeError}'s output, using `classes` (by `name`) and the built-in error
 * classes; unknown names become an `Error` with that `name`.
 * @example
 * ```ts
 * const err = deserializeError(msg.error, { ProtocolAbortError });
 * ```
 */
export function deserializeError(s: SerializedError, classes: Record<string, ErrorConstructorLike> = {}): Error {
  if (s === null || typeof s !== 'object' || typeof s.name !== 'string' || typeof s.message !== 'string') {
    throw new TypeError(`s must be a SerializedError ({ name, message }), got ${describeValue(s)}`);
  }
  if (classes === null || typeof classes !== 'object') {
    throw new TypeError(`classes must be an object of error classes by name, got ${describeValue(classes)}`);
  }
  const found = Object.hasOwn(classes, s.name) ? classes[s.name] : undefined;
  const Ctor = (typeof found === 'function' ? found : undefined) ?? BUILT_INS[s.name] ?? Error;
  const cause = s.cause === undefined ? undefined : deserializeError(s.cause, classes);
  const err = cause === undefined ? new Ctor(s.message) : new Ctor(s.message, { cause });
  if (err.name !== s.name) Object.defineProperty(err, 'name', { value: s.name, configurable: true, writable: true });
  if (s.fields) Object.assign(err, s.fields);
  if (s.stack !== undefined) err.stack = s.stack;
  return err;
}
