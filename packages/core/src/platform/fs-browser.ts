/**
 * Reading files in a browser bundle (selected by the `#fs` import under the `browser` condition): there is no
 * file system, so this throws a `TypeError` that says what to do instead. Keeps `node:fs` off browser paths.
 * @module
 */

/**
 * Throws: files are Node only.
 * @example
 * ```ts
 * const table = parseCsv(await (await fetch('/data.csv')).text()); // in a browser, instead of readCsv
 * ```
 */
export function readTextFile(path: string | URL): string {
  throw new TypeError(`reading ${String(path)} needs a file system (Node only); in a browser, fetch the text and use parseCsv`);
}
