/**
 * Locations of the example data and outputs, resolved from this module's own URL so that scripts run from any
 * working directory and notebooks (whose kernel starts in `examples/notebooks/`) find the same files: the
 * shipped CSV files in `examples/data/` (each described by a `*.SOURCE.md` next to it) and the git-ignored
 * output folder `examples/out/` for charts and executed notebooks. Nothing is downloaded.
 * @module
 */
import { fileURLToPath } from 'node:url';

const examplesDir = new URL('../', import.meta.url);

/**
 * Absolute path of a shipped data file in `examples/data/`.
 * @param name - file name, e.g. `'breast_cancer.csv'`.
 * @returns the absolute path.
 * @example
 * ```ts
 * const table = readCsv(dataFile('credit-g.csv'));
 * ```
 */
export function dataFile(name: string): string {
  return fileURLToPath(new URL(`data/${checkName(name)}`, examplesDir));
}

/**
 * Absolute path of an output file in the git-ignored folder `examples/out/`.
 * @param name - file name, e.g. `'01-medical-accuracy.svg'`.
 * @returns the absolute path (the folder is created by whoever writes, e.g. `writeSvg`).
 * @example
 * ```ts
 * writeSvg(outFile('chart.svg'), svg);
 * ```
 */
export function outFile(name: string): string {
  return fileURLToPath(new URL(`out/${checkName(name)}`, examplesDir));
}

function checkName(name: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new TypeError(`name must be a plain file name (letters, digits, '.', '_', '-'), got ${JSON.stringify(name)}`);
  }
  return name;
}
