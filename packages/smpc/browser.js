// The `browser` entry of @ppml/smpc. Secret-shared computation here runs parties on Node.js worker threads and
// talks TLS with node:tls: nothing of it can run in a browser. A bundle that resolves @ppml/smpc for a browser
// gets this module instead of code that would fail with `process is not defined`: every export is present (so
// the bundle builds) and every use throws a TypeError that says why.
const MESSAGE =
  '@ppml/smpc needs Node.js: its parties run on worker threads and connect with node:tls, which browsers do not have. ' +
  'Run the parties in Node.js processes (SmpcSession.connect) and send only public results to the browser.';

function unavailable() {
  throw new TypeError(MESSAGE);
}

/** Thrown by every use of @ppml/smpc in a browser. */
export const NODE_REQUIRED = MESSAGE;

export class ProtocolAbortError extends Error {
  constructor(message, options) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProtocolAbortError';
    this.party = options?.party ?? -1;
  }
}

export class SmpcSession {
  constructor() {
    unavailable();
  }
  static start() {
    return Promise.reject(new TypeError(MESSAGE));
  }
  static connect() {
    return Promise.reject(new TypeError(MESSAGE));
  }
}

export class SecretTensor {
  constructor() {
    unavailable();
  }
}

export const generateIdentity = unavailable;
export const certificateFingerprint = unavailable;
export const startDealer = () => Promise.reject(new TypeError(MESSAGE));
export const secureAggregation = () => Promise.reject(new TypeError(MESSAGE));
export const jointStatistics = () => Promise.reject(new TypeError(MESSAGE));
export const trainLogisticRegression = () => Promise.reject(new TypeError(MESSAGE));
export const logisticRegressionPredict = unavailable;
