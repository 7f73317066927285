/**
 * Reading a text file in Node (selected by the `#fs` import outside browsers).
 * @module
 */
import { readFileSync } from 'node:fs';

/**
 * The UTF-8 text of a file.
 * @example
 * ```ts
 * const text = readTextFile(new URL('./data.csv', import.meta.url));
 * ```
 */
export function readTextFile(path: string | URL): string {
  return readFileSync(path, 'utf8');
}
