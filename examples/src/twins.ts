/**
 * Keeps each example notebook (`examples/notebooks/NN-name.ipynb`) identical to its script twin
 * (`NN-name.ts`): the twin is the source, and the notebook is generated from it. Top-level comment blocks that
 * start with a Markdown heading (`// # ...`, `// ## ...`) become Markdown cells (the `// ` prefixes removed;
 * every heading starts a new cell); the code between two such blocks becomes one code cell. Lines before the first heading (how to run the
 * script) are left out. The one code cell that must differ is the setup cell under `// ## Setup`: the
 * notebook kernel (tslab) type-checks only files inside the notebook folder, so the notebook loads the shared
 * modules of `examples/src` with `require` and shows charts inline instead of importing them.
 *
 * The generated notebook has no outputs, no execution counts and a stable `id` per cell (nbformat 4.5), as
 * the notebook runner requires. Usage: `pnpm exec node examples/src/twins.ts` rewrites every notebook that has
 * a twin; `--check` only reports notebooks that differ (exit code 1).
 * @module
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The notebook's setup cell: loads the chart and file functions of `examples/src` (with their signatures
 * stated, since the kernel cannot type-check files outside the notebook folder), defines `show`, which
 * renders a chart inline and also writes it to `examples/out/`, and prints the Node version (the notebook
 * runner checks it against the pinned one).
 * @example
 * ```ts
 * console.log(NOTEBOOK_SETUP.includes("require('../src/plot.ts')")); // true
 * ```
 */
export const NOTEBOOK_SETUP: string = `import * as tslab from 'tslab';
import type { TopLevelSpec } from 'vega-lite';

const { renderVegaLiteSvg, writeSvg } = require('../src/plot.ts') as {
  renderVegaLiteSvg(spec: TopLevelSpec): Promise<string>;
  writeSvg(path: string, svg: string): string;
};
const { dataFile, outFile } = require('../src/files.ts') as {
  dataFile(name: string): string;
  outFile(name: string): string;
};

async function show(name: string, spec: TopLevelSpec): Promise<void> {
  const svg = await renderVegaLiteSvg(spec);
  writeSvg(outFile(name), svg);
  tslab.display.html(svg);
}

console.log(\`Node.js \${process.version}\`);`;

interface Cell {
  readonly cell_type: 'markdown' | 'code';
  readonly id: string;
  readonly metadata: Record<string, never>;
  readonly source: string[];
  readonly execution_count?: null;
  readonly outputs?: [];
}

const HEADING = /^\/\/ {1,}#{1,6} /;

function sourceLines(text: string): string[] {
  const lines = text.split('\n');
  return lines.map((line, i) => (i < lines.length - 1 ? `${line}\n` : line));
}

function trimBlank(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start].trim() === '') start++;
  while (end > start && lines[end - 1].trim() === '') end--;
  return lines.slice(start, end);
}

function slug(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s.slice(0, 40).replace(/-+$/, '') || 'cell';
}

/**
 * Builds the notebook JSON (nbformat 4.5, tslab kernel) from a twin script's source text.
 * @param twin - the `.ts` twin's source.
 * @returns the notebook as formatted JSON text, ending with a newline.
 * @example
 * ```ts
 * const json = notebookFromTwin(readFileSync('examples/notebooks/01-medical.ts', 'utf8'));
 * ```
 */
export function notebookFromTwin(twin: string): string {
  if (typeof twin !== 'string') throw new TypeError(`twin must be the source text of a script, got ${typeof twin}`);
  const lines = twin.replace(/\r\n/g, '\n').split('\n');
  const first = lines.findIndex((line) => HEADING.test(line));
  if (first < 0) throw new RangeError('twin must contain a top-level heading comment such as "// # Title"');
  const cells: Cell[] = [];
  const used = new Set<string>();
  let section = 'intro';
  const id = (kind: string): string => {
    let base = `${section}-${kind}`;
    for (let k = 2; used.has(base); k++) base = `${section}-${kind}-${k}`;
    used.add(base);
    return base;
  };
  let i = first;
  let setupNext = false;
  let sawSetup = false;
  while (i < lines.length) {
    if (HEADING.test(lines[i])) {
      const md: string[] = [lines[i++].replace(/^\/\/ ?/, '')];
      while (i < lines.length && lines[i].startsWith('//') && !HEADING.test(lines[i])) {
        md.push(lines[i].replace(/^\/\/ ?/, ''));
        i++;
      }
      section = slug(md[0].replace(/^#+ /, ''));
      setupNext = /^#+ Setup\s*$/.test(md[0]);
      sawSetup ||= setupNext;
      cells.push({ cell_type: 'markdown', id: id('md'), metadata: {}, source: sourceLines(trimBlank(md).join('\n')) });
      continue;
    }
    const code: string[] = [];
    while (i < lines.length && !HEADING.test(lines[i])) code.push(lines[i++]);
    const body = trimBlank(code);
    if (body.length === 0) continue;
    const text = setupNext ? NOTEBOOK_SETUP : body.join('\n');
    setupNext = false;
    cells.push({ cell_type: 'code', id: id('code'), metadata: {}, source: sourceLines(text), execution_count: null, outputs: [] });
  }
  if (!sawSetup) throw new RangeError('twin must contain a "// ## Setup" section whose code the notebook replaces');
  const notebook = {
    cells,
    metadata: {
      kernelspec: { display_name: 'TypeScript (workspace Node)', language: 'typescript', name: 'tslab' },
      language_info: {
        codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true },
        file_extension: '.ts',
        mimetype: 'text/typescript',
        name: 'typescript',
      },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return `${JSON.stringify(notebook, null, 1)}\n`;
}

/**
 * The twins in a folder: every `NN-name.ts` next to which `NN-name.ipynb` is (or is to be) generated.
 * @param dir - the notebook folder.
 * @returns pairs of absolute paths.
 * @example
 * ```ts
 * for (const { twin, notebook } of twinsIn('examples/notebooks')) console.log(twin, notebook);
 * ```
 */
export function twinsIn(dir: string): { twin: string; notebook: string }[] {
  return readdirSync(dir)
    .filter((f) => /^\d\d-[\w-]+\.ts$/.test(f))
    .filter((f) => HEADING.test(readFileSync(join(dir, f), 'utf8').split('\n').find((l) => HEADING.test(l)) ?? ''))
    .sort()
    .map((f) => ({ twin: join(dir, f), notebook: join(dir, `${basename(f, '.ts')}.ipynb`) }));
}

if (import.meta.main) {
  const dir = fileURLToPath(new URL('../notebooks/', import.meta.url));
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { twin, notebook } of twinsIn(dir)) {
    const json = notebookFromTwin(readFileSync(twin, 'utf8'));
    const current = existsSync(notebook) ? readFileSync(notebook, 'utf8') : '';
    if (current === json) {
      console.log(`up to date: ${basename(notebook)}`);
    } else if (check) {
      stale++;
      console.error(`out of sync with ${basename(twin)}: ${basename(notebook)}`);
    } else {
      writeFileSync(notebook, json);
      console.log(`wrote ${basename(notebook)} from ${basename(twin)}`);
    }
  }
  if (stale > 0) process.exit(1);
}
