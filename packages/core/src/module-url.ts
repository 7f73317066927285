/**
 * Locating a sibling module (a worker entry) in a way that works both from `src/` (Node 24 runs `.ts` files
 * directly) and from the compiled `dist/`. tsc rewrites import specifiers but not strings inside
 * `new URL('./party.ts', import.meta.url)`, so the extension is chosen at run time from the caller's own URL.
 * @module
 */
import { describeValue } from './validate.ts';

/**
 * The URL of module `name` (without extension) next to the module whose `import.meta.url` is `base`.
 * @example
 * ```ts
 * const worker = new Worker(siblingModuleUrl(import.meta.url, './party-worker'));
 * ```
 */
export function siblingModuleUrl(base: string, name: string): URL {
  if (typeof base !== 'string') throw new TypeError(`base must be a module URL string (import.meta.url), got ${describeValue(base)}`);
  if (typeof name !== 'string') throw new TypeError(`name must be a relative module path string, got ${describeValue(name)}`);
  const ext = base.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`${name}${ext}`, base);
}

/**
 * The `execArgv` for a worker whose entry is `entry`: only the flags a ppml worker needs, never the parent's
 * whole `process.execArgv`. Copying the parent's flags breaks under flags that are valid for a process but not
 * for a worker (`--expose-gc`, `--input-type=module`, `--title`: `ERR_WORKER_INVALID_EXEC_ARGV`). Kept: the
 * parent's resolution conditions (`--conditions` / `-C`), so that a worker resolves packages as its parent
 * does, plus `--conditions=@ppml/source` when the entry is a `.ts` file (running from source).
 * @example
 * ```ts
 * const url = siblingModuleUrl(import.meta.url, './party-worker');
 * const worker = new Worker(url, { execArgv: workerExecArgv(url) });
 * ```
 */
export function workerExecArgv(entry: URL | string): string[] {
  if (typeof entry !== 'string' && !(entry instanceof URL)) {
    throw new TypeError(`entry must be a URL or a URL string, got ${describeValue(entry)}`);
  }
  const args: string[] = [];
  const parent = process.execArgv;
  for (let i = 0; i < parent.length; i++) {
    const a = parent[i] as string;
    if (a.startsWith('--conditions=')) args.push(a);
    else if (a.startsWith('-C') && a.length > 2) args.push(`--conditions=${a.slice(a[2] === '=' ? 3 : 2)}`);
    else if ((a === '--conditions' || a === '-C') && i + 1 < parent.length) {
      args.push(`--conditions=${parent[++i] as string}`);
    }
  }
  const href = typeof entry === 'string' ? entry : entry.href;
  if (href.endsWith('.ts') && !args.includes('--conditions=@ppml/source')) args.push('--conditions=@ppml/source');
  return args;
}
