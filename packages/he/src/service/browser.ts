/**
 * `@ppml/he/service` in a browser bundle: the service needs Node (sockets, worker threads, files). Importing this
 * entry works, so shared code can be bundled; calling it throws a `TypeError` that says so. Browsers use
 * `HeRemote` from `@ppml/he`.
 * @module
 */

/**
 * Throws: the service runs in Node only.
 * @example
 * ```ts
 * // in Node: import { createHeService } from '@ppml/he/service';
 * ```
 */
export function createHeService(_options?: unknown): never {
  throw new TypeError(
    "createHeService is Node only (it opens sockets and starts worker threads); in a browser, use HeRemote from '@ppml/he'",
  );
}
