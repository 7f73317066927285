// Script twin of 00-smoke.ipynb: the same steps without Jupyter. Prints the Node version, draws 600 die rolls
// from @ppml/core's CSPRNG and writes the bar chart to examples/out/00-smoke.svg (rendered offline with
// Vega-Lite + Vega). Run with `pnpm exec node examples/notebooks/00-smoke.ts` after `pnpm run build`, or add
// `--conditions=@ppml/source` to run against the package sources.
import { fileURLToPath } from 'node:url';
import { cryptoRng, uniformInt } from '@ppml/core';
import { renderVegaLiteSvg, writeSvg } from '../src/plot.ts';
import type { TopLevelSpec } from '../src/plot.ts';

console.log(`Node.js ${process.version}`);

const faces = new Uint32Array(6);
for (let i = 0; i < 600; i++) faces[uniformInt(6, cryptoRng)] += 1;
console.log(`counts per face: ${Array.from(faces).join(', ')}`);

const spec: TopLevelSpec = {
  width: 240,
  height: 120,
  data: { values: Array.from(faces, (count, i) => ({ face: i + 1, count })) },
  mark: 'bar',
  encoding: {
    x: { field: 'face', type: 'ordinal', title: 'face' },
    y: { field: 'count', type: 'quantitative', title: 'rolls' },
  },
};
const out = fileURLToPath(new URL('../out/00-smoke.svg', import.meta.url));
console.log(`wrote ${writeSvg(out, await renderVegaLiteSvg(spec))}`);
