/**
 * The `browser` entry of @ppml/smpc. Secret-shared computation here runs parties on Node.js worker threads and
 * talks TLS with `node:tls`: nothing of it can run in a browser. A bundle that resolves @ppml/smpc for a browser
 * gets this module instead of code that would fail with `process is not defined`: every export is present (so
 * the bundle builds) and every use throws a `TypeError` that says why.
 * @module
 */

/**
 * The message of every error this entry throws.
 * @example
 * ```ts
 * NODE_REQUIRED.startsWith('@ppml/smpc needs Node.js'); // true
 * ```
 */
export const NODE_REQUIRED: string =
  '@ppml/smpc needs Node.js: its parties run on worker threads and connect with node:tls, which browsers do not have. ' +
  'Run the parties in Node.js processes (SmpcSession.connect) and send only public results to the browser.';

function unavailable(): never {
  throw new TypeError(NODE_REQUIRED);
}

function rejected(): Promise<never> {
  return Promise.reject(new TypeError(NODE_REQUIRED));
}

/**
 * The package's error class, so that `instanceof` checks in shared code still work.
 * @example
 * ```ts
 * new ProtocolAbortError('stopped', { party: 1 }).party; // 1
 * ```
 */
export class ProtocolAbortError extends Error {
  party: number;
  constructor(message: string, options?: { cause?: unknown; party?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProtocolAbortError';
    this.party = options?.party ?? -1;
  }
}

/**
 * Unavailable in a browser: every use throws.
 * @example
 * ```ts
 * await SmpcSession.start({ parties: 3 }); // TypeError: @ppml/smpc needs Node.js: ...
 * ```
 */
export class SmpcSession {
  constructor() {
    unavailable();
  }
  static start(): Promise<never> {
    return rejected();
  }
  static connect(): Promise<never> {
    return rejected();
  }
}

/**
 * Unavailable in a browser.
 * @example
 * ```ts
 * new SecretTensor(); // TypeError: @ppml/smpc needs Node.js: ...
 * ```
 */
export class SecretTensor {
  constructor() {
    unavailable();
  }
}

/**
 * Unavailable in a browser.
 * @example
 * ```ts
 * generateIdentity(); // TypeError: @ppml/smpc needs Node.js: ...
 * ```
 */
export const generateIdentity: () => never = unavailable;
/** Unavailable in a browser. @example `certificateFingerprint(pem)` throws a TypeError. */
export const certificateFingerprint: () => never = unavailable;
/** Unavailable in a browser. @example `logisticRegressionPredict(s, x, w)` throws a TypeError. */
export const logisticRegressionPredict: () => never = unavailable;
/** Unavailable in a browser. @example `await startDealer(options)` rejects with a TypeError. */
export const startDealer: () => Promise<never> = rejected;
/** Unavailable in a browser. @example `await secureAggregation(s, parts)` rejects with a TypeError. */
export const secureAggregation: () => Promise<never> = rejected;
/** Unavailable in a browser. @example `await jointStatistics(s, parts)` rejects with a TypeError. */
export const jointStatistics: () => Promise<never> = rejected;
/** Unavailable in a browser. @example `await trainLogisticRegression(s, parts, o)` rejects with a TypeError. */
export const trainLogisticRegression: () => Promise<never> = rejected;
