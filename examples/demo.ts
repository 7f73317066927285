// The main demo (`pnpm run demo`): runs the medical and the financial example end to end through their script
// twins (examples/notebooks/01-medical.ts and 02-financial.ts, the same code as the notebooks; no Jupyter
// needed). Each example prints its figures (accuracies, epsilons, errors, timings: all computed in this run)
// and writes its charts as SVG files to examples/out/. Each runs in its own Node process with this process's
// flags (e.g. `--conditions=@ppml/source` to run against the package sources without a build); the demo exits
// non-zero if either fails.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const examples = [
  { name: 'medical (Breast Cancer Wisconsin): DP-SGD, encrypted scoring, three hospitals under SMPC', file: '01-medical.ts' },
  { name: 'financial (German Credit): DP queries under a budget, SMPC and HE credit scoring', file: '02-financial.ts' },
];

const started = performance.now();
console.log(`ppml demo on Node.js ${process.version}`);
const failures: string[] = [];
for (const example of examples) {
  const path = fileURLToPath(new URL(`notebooks/${example.file}`, import.meta.url));
  console.log(`\n${'='.repeat(100)}\n${example.name}\n${'='.repeat(100)}`);
  const t0 = performance.now();
  const run = spawnSync(process.execPath, [...process.execArgv, path], { stdio: 'inherit' });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (run.status === 0) {
    console.log(`\n${example.file} finished in ${seconds} s`);
  } else {
    const why = run.error?.message ?? (run.signal !== null ? `signal ${run.signal}` : `exit code ${String(run.status)}`);
    failures.push(`${example.file}: ${why}`);
    console.error(`\n${example.file} FAILED after ${seconds} s (${why})`);
  }
}

const outDir = fileURLToPath(new URL('out/', import.meta.url));
const charts = (existsSync(outDir) ? readdirSync(outDir) : []).filter((f) => /^0\d-.*\.svg$/.test(f)).sort();
console.log(`\ncharts in ${outDir}:\n${charts.map((f) => `  ${f}`).join('\n')}`);
console.log(`demo finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (failures.length > 0) {
  console.error(`failed:\n${failures.map((f) => `  ${f}`).join('\n')}`);
  process.exit(1);
}
