// Executes every example notebook (examples/notebooks/*.ipynb) with the TypeScript kernel tslab running on the
// workspace's pinned Node, and writes the executed copies to examples/out/ (git-ignored). Steps:
//   1. installs Debian's `jupyter-nbconvert` (apt-get, no recommends) when `jupyter nbconvert --version` fails;
//   2. writes the kernelspec <repo>/.jupyter/kernels/tslab/kernel.json (git-ignored, absolute paths) whose argv
//      starts the kernel through node_modules/.bin/tslab, the shim that prefers the workspace Node over the
//      system one, and points JUPYTER_PATH/JUPYTER_CONFIG_DIR/JUPYTER_RUNTIME_DIR at <repo>/.jupyter, so
//      nothing is read from or written to the home folder;
//   3. checks that the committed notebooks carry no outputs and that every cell has an `id`;
//   4. runs `jupyter nbconvert --to notebook --execute` per notebook; when it fails, runs it again with
//      `--allow-errors` and prints each failing cell's error and stderr output (tslab reports type errors
//      only there);
//   5. checks that every notebook prints a `Node.js vX.Y.Z` line naming the pinned Node version, which proves
//      the kernel did not fall back to the system Node;
//   6. numbers the executed code cells (tslab sends no `execute_input` message, so nbconvert records no
//      execution counts; the cells ran in order, so they get 1..n as Jupyter would show them) and checks that
//      every code cell has a count and every chart cell (one that calls `show(`) an output with `image/png`
//      and `image/svg+xml`, which GitHub, VS Code and nbviewer display.
// Exits non-zero on any cell error. Usage: `pnpm run notebooks [name ...]` (builds first; names filter by
// file name, e.g. `01-medical`).
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const notebookDir = join(root, 'examples', 'notebooks');
const outDir = join(root, 'examples', 'out');
const jupyterDir = join(root, '.jupyter');
/** Per-cell execution limit in seconds: HE and SMPC cells on a busy 2-core machine can take minutes. */
const CELL_TIMEOUT_S = 900;
/** Kernel start limit in seconds (tslab compiles its first cell with TypeScript). */
const STARTUP_TIMEOUT_S = 180;
const VERSION_LINE = /\bNode\.js (v\d+\.\d+\.\d+)\b/g;

const jupyterEnv: NodeJS.ProcessEnv = {
  ...process.env,
  JUPYTER_PATH: jupyterDir,
  JUPYTER_CONFIG_DIR: join(jupyterDir, 'config'),
  JUPYTER_RUNTIME_DIR: join(jupyterDir, 'runtime'),
  JUPYTER_PLATFORM_DIRS: '1',
};

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

function outputOf(r: SpawnSyncReturns<string>): string {
  return `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `${r.error.message}\n` : ''}`;
}

function die(message: string): never {
  console.error(`notebooks: ${message}`);
  process.exit(1);
}

// ------------------------------------------------------------------ 1. Jupyter

function nbconvertVersion(): string | null {
  const r = run('jupyter', ['nbconvert', '--version'], jupyterEnv);
  return r.status === 0 ? r.stdout.trim() : null;
}

function ensureJupyter(): void {
  const found = nbconvertVersion();
  if (found !== null) {
    console.log(`jupyter nbconvert ${found}`);
    return;
  }
  console.log('jupyter nbconvert not found: installing Debian package jupyter-nbconvert');
  const started = Date.now();
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'jupyter-nbconvert']]) {
    const r = run('apt-get', args, aptEnv);
    if (r.status !== 0) {
      die(`apt-get ${args.join(' ')} failed (needs root and a Debian package index):\n${outputOf(r)}`);
    }
  }
  const installed = nbconvertVersion();
  if (installed === null) die('jupyter nbconvert still fails after installing jupyter-nbconvert');
  console.log(`installed jupyter nbconvert ${installed} in ${seconds(started)}`);
}

// ------------------------------------------------------------------ 2. kernelspec

function pinnedNodeVersion(): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    devDependencies?: Record<string, string>;
  };
  const pinned = pkg.devDependencies?.node;
  if (pinned === undefined || !/^\d+\.\d+\.\d+$/.test(pinned)) {
    die(`root package.json must pin devDependencies.node exactly, got ${String(pinned)}`);
  }
  return `v${pinned}`;
}

function writeKernelSpec(): string {
  const tslab = join(root, 'node_modules', '.bin', 'tslab');
  const node = join(root, 'node_modules', '.bin', 'node');
  if (!existsSync(tslab)) die(`${tslab} is missing: tslab must be a root devDependency (run pnpm install)`);
  if (!existsSync(node)) die(`${node} is missing: the kernel would run on the system Node (run pnpm install)`);
  const dir = join(jupyterDir, 'kernels', 'tslab');
  mkdirSync(dir, { recursive: true });
  const spec = {
    argv: [tslab, 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (workspace Node)',
    language: 'typescript',
  };
  const file = join(dir, 'kernel.json');
  writeFileSync(file, `${JSON.stringify(spec, null, 2)}\n`);
  return file;
}

// ------------------------------------------------------------------ notebook JSON

interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[] | undefined>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

interface NotebookCell {
  id?: string;
  cell_type: string;
  source: string | string[];
  execution_count?: number | null;
  outputs?: NotebookOutput[];
}

interface Notebook {
  cells: NotebookCell[];
}

const joined = (text: string | string[] | undefined): string => (Array.isArray(text) ? text.join('') : (text ?? ''));

function readNotebook(path: string): Notebook {
  const nb = JSON.parse(readFileSync(path, 'utf8')) as Notebook;
  if (!Array.isArray(nb.cells)) die(`${path} is not a notebook (no cells array)`);
  return nb;
}

/** Problems that make a committed notebook unfit: outputs, execution counts, cells without ids. */
function committedProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  nb.cells.forEach((cell, i) => {
    if (typeof cell.id !== 'string' || cell.id === '') problems.push(`cell ${i + 1} has no id`);
    if (cell.cell_type !== 'code') return;
    if ((cell.outputs ?? []).length > 0) problems.push(`cell ${i + 1} has outputs`);
    if (cell.execution_count !== null && cell.execution_count !== undefined) {
      problems.push(`cell ${i + 1} has an execution count`);
    }
  });
  return problems;
}

/** Text of every stream and display output, for the version check. */
function allText(nb: Notebook): string {
  let text = '';
  for (const cell of nb.cells) {
    for (const out of cell.outputs ?? []) {
      text += joined(out.text);
      text += joined(out.data?.['text/plain']);
      text += '\n';
    }
  }
  return text;
}

function firstLine(source: string | string[]): string {
  const line =
    joined(source)
      .split('\n')
      .find((l) => l.trim() !== '') ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

/**
 * Prints each cell's error and stderr outputs and returns how many cells had any. tslab reports a type error
 * only as stderr text (the `error` output then says just `<Error>:`), so both count.
 */
function reportCellErrors(nb: Notebook): number {
  let errors = 0;
  nb.cells.forEach((cell, i) => {
    const bad = (cell.outputs ?? []).filter((o) => o.output_type === 'error' || o.name === 'stderr');
    if (bad.length === 0) return;
    errors += 1;
    console.error(`  cell ${i + 1}${cell.id ? ` [${cell.id}]` : ''}: ${firstLine(cell.source)}`);
    for (const o of bad) {
      const body =
        o.output_type === 'error' ? [`${o.ename ?? 'Error'}: ${o.evalue ?? ''}`, ...(o.traceback ?? [])].join('\n') : joined(o.text);
      for (const line of body.trimEnd().split('\n')) console.error(`    ${line}`);
    }
  });
  return errors;
}

// ------------------------------------------------------------------ 6. executed copies

/** Gives the code cells of an executed notebook the execution counts 1..n, in order. */
function numberCells(nb: Notebook): Notebook {
  let count = 0;
  for (const cell of nb.cells) if (cell.cell_type === 'code') cell.execution_count = ++count;
  return nb;
}

/** Code cells without an execution count, and chart cells without PNG and SVG outputs. */
function executedShapeProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== 'code') return;
    if (typeof cell.execution_count !== 'number') problems.push(`cell ${i + 1} has no execution count`);
    if (!/\bawait show\(/.test(joined(cell.source))) return;
    const images = (cell.outputs ?? []).filter(
      (o) => o.output_type === 'display_data' && o.data?.['image/png'] !== undefined && o.data?.['image/svg+xml'] !== undefined,
    );
    if (images.length === 0) problems.push(`chart cell ${i + 1} has no output with image/png and image/svg+xml`);
  });
  return problems;
}

// ------------------------------------------------------------------ 4. execute

function nbconvertArgs(input: string, name: string, allowErrors: boolean): string[] {
  return [
    'nbconvert',
    '--to',
    'notebook',
    '--execute',
    `--ExecutePreprocessor.kernel_name=tslab`,
    `--ExecutePreprocessor.timeout=${CELL_TIMEOUT_S}`,
    `--ExecutePreprocessor.startup_timeout=${STARTUP_TIMEOUT_S}`,
    ...(allowErrors ? ['--allow-errors'] : []),
    '--output-dir',
    outDir,
    '--output',
    name,
    input,
  ];
}

/** Runs one notebook; returns null on success or a failure description. */
function execute(input: string, expectedNode: string): string | null {
  const name = basename(input, '.ipynb');
  const started = Date.now();
  const first = run('jupyter', nbconvertArgs(input, name, false), jupyterEnv);
  const executed = join(outDir, `${name}.ipynb`);
  if (first.status !== 0) {
    console.error(`FAIL ${name} (${seconds(started)}): nbconvert exited with ${String(first.status)}`);
    // A timeout or a dead kernel would only repeat itself: re-run with --allow-errors for cell errors only.
    const fatal = /CellTimeoutError|DeadKernelError|Kernel didn't respond|NoSuchKernel/.test(outputOf(first));
    const again = fatal ? null : run('jupyter', nbconvertArgs(input, name, true), jupyterEnv);
    const errors = again?.status === 0 && existsSync(executed) ? reportCellErrors(readNotebook(executed)) : 0;
    if (errors === 0) {
      // No cell error recorded: the kernel died, timed out or never started. Show nbconvert's own log.
      const log = outputOf(first).trimEnd().split('\n').slice(-40);
      for (const line of log) console.error(`    ${line}`);
    }
    return `${name}: ${errors > 0 ? `${errors} cell(s) with errors or stderr output` : 'nbconvert failed'}`;
  }
  const nb = readNotebook(executed);
  const errors = nb.cells.filter((c) => (c.outputs ?? []).some((o) => o.output_type === 'error')).length;
  if (errors > 0) {
    reportCellErrors(nb);
    return `${name}: ${errors} cell(s) raised errors`;
  }
  const shape = executedShapeProblems(numberCells(nb));
  writeFileSync(executed, `${JSON.stringify(nb, null, 1)}\n`);
  if (shape.length > 0) return `${name}: ${shape.join('; ')}`;
  const versions = [...allText(nb).matchAll(VERSION_LINE)].map((m) => m[1]);
  const wrong = versions.filter((v) => v !== expectedNode);
  if (wrong.length > 0) return `${name}: kernel ran on Node ${wrong.join(', ')}, expected ${expectedNode}`;
  if (versions.length === 0) return `${name}: no 'Node.js vX.Y.Z' line in the outputs`;
  console.log(`ok   ${name} (${seconds(started)}, kernel on Node ${versions[0]}) -> examples/out/${name}.ipynb`);
  return null;
}

// ------------------------------------------------------------------ main

const started = Date.now();
const expectedNode = pinnedNodeVersion();
if (process.version !== expectedNode) {
  console.warn(`warning: this script runs on Node ${process.version}; the kernel is expected on ${expectedNode}`);
}
const filters = process.argv.slice(2);
const notebooks = readdirSync(notebookDir)
  .filter((f) => f.endsWith('.ipynb'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
  .map((f) => join(notebookDir, f));
if (notebooks.length === 0) die(`no notebooks in examples/notebooks match ${filters.join(' ') || '*.ipynb'}`);

let unfit = false;
for (const nb of notebooks) {
  const problems = committedProblems(readNotebook(nb));
  if (problems.length > 0) {
    unfit = true;
    console.error(`${basename(nb)} must be committed clean: ${problems.join('; ')}`);
  }
}
if (unfit) die('clear outputs with `jupyter nbconvert --clear-output --inplace <file>` and give every cell an id');

ensureJupyter();
console.log(`kernelspec ${writeKernelSpec()}`);
mkdirSync(outDir, { recursive: true });

const failures: string[] = [];
for (const nb of notebooks) {
  const failure = execute(nb, expectedNode);
  if (failure !== null) failures.push(failure);
}
console.log(`${notebooks.length - failures.length} of ${notebooks.length} notebooks ran cleanly (${seconds(started)})`);
for (const f of failures) console.error(`  ${f}`);
process.exit(failures.length > 0 ? 1 : 0);
