/**
 * `@ppml/he` in a browser bundle (the `browser` export condition): everything of `portable.ts`, plus `HeServer`
 * and `HeModel` as stubs that throw a `TypeError` saying the server side is Node only, so that code shared with
 * Node still bundles. Load node-seal's `.wasm` from next to the bundle, or set its URL with `setSealWasmUrl`.
 * @module
 */
export * from './portable.ts';

const NODE_ONLY = 'runs in Node only (worker threads); in a browser, score through the HTTP service with HeRemote';

/**
 * Stub: the in-process server is Node only.
 * @example
 * ```ts
 * // in Node: const server = await HeServer.create(evalKeys);
 * ```
 */
export class HeServer {
  constructor() {
    throw new TypeError(`HeServer ${NODE_ONLY}`);
  }
  /** Throws: Node only. */
  static async create(_evalKeys?: unknown, _options?: unknown): Promise<never> {
    throw new TypeError(`HeServer ${NODE_ONLY}`);
  }
}

/**
 * Stub: server-side models are Node only.
 * @example
 * ```ts
 * // in Node: const model = server.logisticRegression({ weights, bias });
 * ```
 */
export class HeModel {
  constructor() {
    throw new TypeError(`HeModel ${NODE_ONLY}`);
  }
}
