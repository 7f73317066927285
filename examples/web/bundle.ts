// Browser bundles of ppml code with esbuild: the `browser` export condition selects each package's browser entry
// and `#platform` files (no `node:` imports), `@ppml/source` runs them from src/ without a build, and node-seal's
// `.wasm` is copied next to the bundle, where its browser build and @ppml/he look for it. node-seal's Node branch
// has a dynamic `import("module")` that never runs in a browser: it stays external.
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { sealWasmUrl } from '@ppml/he/service';

/** One bundle: its path and size in bytes. */
export interface Bundle {
  readonly file: string;
  readonly bytes: number;
}

/**
 * Bundles `entry` (a file, or inline module source with `contents`) into `outdir/name.js`, minified, ES modules.
 * @example
 * ```ts
 * const { bytes } = await bundleForBrowser({ entry: 'page.ts', outdir: 'out', name: 'page' });
 * ```
 */
export async function bundleForBrowser(o: {
  entry?: string;
  contents?: string;
  outdir: string;
  name: string;
  minify?: boolean;
}): Promise<Bundle> {
  mkdirSync(o.outdir, { recursive: true });
  const file = join(o.outdir, `${o.name}.js`);
  const here = fileURLToPath(new URL('.', import.meta.url));
  await build({
    ...(o.entry !== undefined
      ? { entryPoints: [o.entry] }
      : { stdin: { contents: o.contents ?? '', resolveDir: here, loader: 'ts' as const, sourcefile: `${o.name}.ts` } }),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['@ppml/source', 'browser'],
    target: 'esnext',
    external: ['module'],
    minify: o.minify ?? true,
    outfile: file,
    logLevel: 'error',
  });
  copyFileSync(sealWasmUrl(), join(o.outdir, 'seal_throws.wasm'));
  return { file, bytes: statSync(file).size };
}
