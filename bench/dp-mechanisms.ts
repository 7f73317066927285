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
import { ensureSourceCondition, median } from './support.ts';

// The packages are run from source (re-launched with the source export condition when it is not set).
ensureSourceCondition(import.meta.url);

const dp = await import('@ppml/dp');
const quick = process.argv.includes('--quick');
const REPS = quick ? 3 : 7;
const BLOCK = quick ? 200_000 : 1_000_000;

/** Samples/second of one call of `fill` on `out`. */
function once(fill: (out: Float64Array) => void, out: Float64Array): number {
  const t0 = performance.now();
  fill(out);
  return out.length / ((performance.now() - t0) / 1000);
}

interface Case {
  readonly name: string;
  readonly fill: (out: Float64Array) => void;
  /** Index of the baseline case this one is compared with (itself for a baseline). */
  readonly baseline: number;
}

/**
 * Runs every case once per repetition, interleaved, so that load changes on a shared machine hit baseline and
 * secure samplers alike; returns the median rate of each case and the median of the per-repetition ratios.
 */
function measure(cases: readonly Case[], n: number): Array<{ rate: number; ratio: number }> {
  const out = new Float64Array(n);
  for (const c of cases) c.fill(out); // warm-up
  const rates = cases.map(() => [] as number[]);
  const ratios = cases.map(() => [] as number[]);
  for (let r = 0; r < REPS; r++) {
    const now = cases.map((c) => once(c.fill, out));
    cases.forEach((c, i) => {
      rates[i].push(now[i]);
      ratios[i].push(now[i] / now[c.baseline]);
    });
  }
  return cases.map((_, i) => ({ rate: median(rates[i]), ratio: median(ratios[i]) }));
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

const cases: Case[] = [
  { name: 'inverse-CDF Laplace, Math.random (unsafe baseline)', fill: (o) => inverseCdfLaplace(o, 1), baseline: 0 },
  { name: 'exact discrete Laplace, scale 10', fill: (o) => dp.fillDiscreteLaplace(o, 10), baseline: 0 },
  { name: 'exact discrete Laplace, scale 2^40', fill: (o) => dp.fillDiscreteLaplace(o, 2 ** 40), baseline: 0 },
  { name: 'secure Laplace noise (grid, sampleLaplaceNoise)', fill: (o) => dp.sampleLaplaceNoise(o, 1), baseline: 0 },
  { name: 'Box-Muller Gaussian, Math.random (unsafe baseline)', fill: (o) => boxMuller(o, 1), baseline: 4 },
  { name: 'exact discrete Gaussian, sigma 3', fill: (o) => dp.fillDiscreteGaussian(o, 3), baseline: 4 },
  { name: 'secure Gaussian noise (grid, sampleGaussianNoise)', fill: (o) => dp.sampleGaussianNoise(o, 1), baseline: 4 },
];
const res = measure(cases, BLOCK);

// One DP-SGD step of a 1M-parameter model: time to fill a 1e6 vector, secure vs Box-Muller, interleaved.
const vec = new Float64Array(1_000_000);
const tSecure: number[] = [];
const tBase: number[] = [];
for (let r = 0; r < REPS; r++) {
  tBase.push(1e6 / once((o) => boxMuller(o, 1), vec));
  tSecure.push(1e6 / once((o) => dp.sampleGaussianNoise(o, 1), vec));
}
const msSecure = median(tSecure) * 1000;
const msBase = median(tBase) * 1000;

const w = Math.max(...cases.map((c) => c.name.length));
console.log(
  `dp mechanisms bench (Node ${process.version}, ${REPS} interleaved repetitions of ${BLOCK.toLocaleString('en')} samples, medians)`,
);
console.log(`${'sampler'.padEnd(w)}  ${'rate'.padStart(11)}  secure/baseline`);
cases.forEach((c, i) => {
  console.log(`${c.name.padEnd(w)}  ${fmt(res[i].rate).padStart(11)}  ${res[i].ratio.toFixed(2)}`);
});
console.log(
  `sampleGaussianNoise on a 1e6 vector: ${msSecure.toFixed(0)} ms (Box-Muller on Math.random: ${msBase.toFixed(0)} ms, ` +
    `${(msSecure / msBase).toFixed(1)}x the time)`,
);
const dlRate = Math.min(res[1].rate, res[2].rate);
console.log(`goal: discrete Laplace >= 3 M/s per core -> ${dlRate >= 3e6 ? 'met' : 'not met'} in this run (${fmt(dlRate)})`);
