// Secure noise samplers against float-unsafe baselines, in one run: samples per second (median of several
// repetitions) of
// - the exact discrete Laplace sampler (goal from the issue: >= 3 M/s per core) and the floating-point-safe
//   Laplace noise of `laplaceMechanism` (granularity grid, 2^39..2^40 steps per scale), against inverse-CDF
//   Laplace on Math.random (the textbook sampler Mironov 2012 attacks);
// - the exact discrete Gaussian and `sampleGaussianNoise` (2^29..2^30 grid steps per sigma), against
//   Box-Muller on Math.random, and the time to fill a 1e6-entry vector (one DP-SGD step of a 1M-parameter model).
// Ratios are secure / baseline throughput measured in the same run (1.0 would be "as fast as the unsafe code").
//
// Usage (repository root): node_modules/.bin/node bench/dp-mechanisms.ts [--quick]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The packages are run from source: re-launch with the source export condition when it is not set.
if (!process.execArgv.some((a) => a.includes('@ppml/source'))) {
  const r = spawnSync(
    process.execPath,
    ['--conditions=@ppml/source', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}

const dp = await import('@ppml/dp');
const quick = process.argv.includes('--quick');
const REPS = quick ? 3 : 7;
const BLOCK = quick ? 200_000 : 1_000_000;

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median samples/second of `fill(out)` over REPS repetitions (after one warm-up). */
function rate(fill: (out: Float64Array) => void, n = BLOCK): number {
  const out = new Float64Array(n);
  fill(out);
  const rates: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    fill(out);
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

function timeMs(fill: (out: Float64Array) => void, n: number): number {
  const out = new Float64Array(n);
  fill(out);
  const ts: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    fill(out);
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

// Float-unsafe baselines (never use these for privacy).
function inverseCdfLaplace(out: Float64Array, scale: number): void {
  for (let i = 0; i < out.length; i++) {
    const u = Math.random() - 0.5;
    out[i] = -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  }
}
function boxMuller(out: Float64Array, sigma: number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - Math.random();
    const u2 = Math.random();
    const r = sigma * Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
}

const fmt = (x: number): string => `${(x / 1e6).toFixed(2)} M/s`;
const rows: Array<[string, string, string]> = [];

const lapBase = rate((o) => inverseCdfLaplace(o, 1));
const dl10 = rate((o) => dp.fillDiscreteLaplace(o, 10));
const dlBig = rate((o) => dp.fillDiscreteLaplace(o, 2 ** 40));
const lapNoise = rate((o) => dp.sampleLaplaceNoise(o, 1));
rows.push(['inverse-CDF Laplace, Math.random (unsafe baseline)', fmt(lapBase), '1.00']);
rows.push(['exact discrete Laplace, scale 10', fmt(dl10), (dl10 / lapBase).toFixed(2)]);
rows.push(['exact discrete Laplace, scale 2^40', fmt(dlBig), (dlBig / lapBase).toFixed(2)]);
rows.push(['secure Laplace noise (grid, sampleLaplaceNoise)', fmt(lapNoise), (lapNoise / lapBase).toFixed(2)]);

const gBase = rate((o) => boxMuller(o, 1));
const dg = rate((o) => dp.fillDiscreteGaussian(o, 3));
const gNoise = rate((o) => dp.sampleGaussianNoise(o, 1));
rows.push(['Box-Muller Gaussian, Math.random (unsafe baseline)', fmt(gBase), '1.00']);
rows.push(['exact discrete Gaussian, sigma 3', fmt(dg), (dg / gBase).toFixed(2)]);
rows.push(['secure Gaussian noise (grid, sampleGaussianNoise)', fmt(gNoise), (gNoise / gBase).toFixed(2)]);

const vec = 1_000_000;
const tBase = timeMs((o) => boxMuller(o, 1), vec);
const tSecure = timeMs((o) => dp.sampleGaussianNoise(o, 1), vec);

const w = Math.max(...rows.map((r) => r[0].length));
console.log(`dp mechanisms bench (Node ${process.version}, ${REPS} repetitions of ${BLOCK.toLocaleString('en')} samples, medians)`);
console.log(`${'sampler'.padEnd(w)}  ${'rate'.padStart(11)}  vs baseline`);
for (const [name, r, ratio] of rows) console.log(`${name.padEnd(w)}  ${r.padStart(11)}  ${ratio}`);
console.log(
  `sampleGaussianNoise on a 1e6 vector: ${tSecure.toFixed(0)} ms (Box-Muller on Math.random: ${tBase.toFixed(0)} ms, ` +
    `secure/unsafe time ${(tSecure / tBase).toFixed(1)}x)`,
);
console.log(`goal: discrete Laplace >= 3 M/s per core -> ${dl10 >= 3e6 && dlBig >= 3e6 ? 'met' : 'not met'} in this run`);
