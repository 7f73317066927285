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
 * The notebook's install cell, placed before its setup: outside this repository it installs the published
 * packages (and the chart renderers) next to the notebook with npm, so that the notebook runs anywhere after
 * this one cell; inside the repository the workspace already links the packages, built from source by
 * `pnpm run notebooks`, and nothing is installed.
 * @example
 * ```ts
 * console.log(NOTEBOOK_INSTALL.includes('@ppml/dp')); // true
 * ```
 */
export const NOTEBOOK_INSTALL: string = `import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const rootManifest = '../../package.json';
const insideRepository = existsSync(rootManifest) && JSON.parse(readFileSync(rootManifest, 'utf8')).name === 'ppml-monorepo';
if (insideRepository) {
  console.log('inside the ppml repository: using the workspace packages');
} else {
  const packages = ['@ppml/core', '@ppml/dp', '@ppml/he', '@ppml/smpc', '@tensorflow/tfjs-core@4.22.0', '@tensorflow/tfjs-layers@4.22.0', '@tensorflow/tfjs-backend-wasm@4.22.0', 'vega', 'vega-lite', '@resvg/resvg-js'];
  console.log(execFileSync('npm', ['install', '--no-audit', '--no-fund', ...packages], { encoding: 'utf8' }));
}`;

/**
 * The notebook's setup cell: only public imports (the packages, vega, vega-lite, resvg, tslab). It locates the
 * data (examples/data inside the repository, otherwise the notebook's own folder), defines `show`, which renders
 * a chart to SVG and PNG, writes both to the output folder and shows one output holding HTML, SVG and PNG (so
 * that Jupyter, GitHub, VS Code and nbviewer each find a format they display), and prints the Node version (the
 * notebook runner checks it against the pinned one). The script twin does the same through examples/src.
 * @example
 * ```ts
 * console.log(NOTEBOOK_SETUP.includes("from '@resvg/resvg-js'")); // true
 * ```
 */
export const NOTEBOOK_SETUP: string = `import * as tslab from 'tslab';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

const dataDir = existsSync('../data') ? '../data' : '.';
const outDir = existsSync('../data') ? '../out' : 'out';
function dataFile(name: string): string {
  const path = \`\${dataDir}/\${name}\`;
  if (!existsSync(path)) throw new Error(\`\${name} not found: put the data file next to this notebook (see its SOURCE.md for where it comes from)\`);
  return path;
}

// tslab's display functions send one MIME type per output; a chart is sent once with three, through the
// writer those functions use (tslab 1.0), falling back to a PNG output alone.
const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: ((data: object, update: boolean) => void) | null };

async function show(name: string, spec: TopLevelSpec): Promise<void> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, background: 'white', font: { loadSystemFonts: true } }).render().asPng();
  mkdirSync(outDir, { recursive: true });
  const base = \`\${outDir}/\${name.replace(/\\.svg$/, '')}\`;
  writeFileSync(\`\${base}.svg\`, svg);
  writeFileSync(\`\${base}.png\`, png);
  const data = { 'text/html': svg, 'image/svg+xml': svg, 'image/png': Buffer.from(png).toString('base64') };
  if (jupyter.lastWriteDisplayData) jupyter.lastWriteDisplayData({ data, metadata: {}, transient: {} }, false);
  else tslab.display.png(png);
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

const INSTALL_PROSE = `## Install

Run this cell first. Outside the ppml repository it installs the packages from npm into this folder (Node 24,
for @ppml/he's WebAssembly); inside the repository it uses the workspace's packages. The data file
(\`examples/data/\` in the repository, with its SOURCE.md) must sit next to the notebook when it runs elsewhere.`;

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
      if (setupNext) {
        // The install cell comes first, so that a notebook opened outside this repository runs after it.
        cells.push({ cell_type: 'markdown', id: 'install-md', metadata: {}, source: sourceLines(INSTALL_PROSE) });
        cells.push({
          cell_type: 'code',
          id: 'install-code',
          metadata: {},
          source: sourceLines(NOTEBOOK_INSTALL),
          execution_count: null,
          outputs: [],
        });
      }
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
    .filter((f) =>
      HEADING.test(
        readFileSync(join(dir, f), 'utf8')
          .split('\n')
          .find((l) => HEADING.test(l)) ?? '',
      ),
    )
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
