/**
 * Locating a sibling module (a worker entry) in a way that works both from `src/` (Node 24 runs `.ts` files
 * directly) and from the compiled `dist/`. tsc rewrites import specifiers but not strings inside
 * `new URL('./party.ts', import.meta.url)`, so the extension is chosen at run time from the caller's own URL.
 * @module
 */

/**
 * The URL of module `name` (without extension) next to the module whose `import.meta.url` is `base`.
 * @example
 * ```ts
 * const worker = new Worker(siblingModuleUrl(import.meta.url, './party-worker'));
 * ```
 */
export function siblingModuleUrl(base: string, name: string): URL {
  const ext = base.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`${name}${ext}`, base);
}
