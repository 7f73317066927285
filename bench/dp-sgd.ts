// DP-SGD against plain SGD, in one run, on the same model and data: time per epoch of trainDpSgd divided by that
// of trainSgd (the non-private loop with the same Poisson sampling), for logistic regression and for an MLP with
// two hidden layers of 64 units. Goal from the issue: <= 1.3x (Opacus: 2.6x-8x, ghost clipping about halves that).
//
// Three DP figures per case:
// - "DP/SGD": trainDpSgd as shipped by default (secure noise drawn on the training thread);
// - "par/SGD": trainDpSgd with parallelNoise (the noise of upcoming steps drawn on a worker thread);
// - "clip/SGD": the per-example clipping alone (ghost norms + reweighted gradient sum against the plain gradient
//   sum, same batches), i.e. the part Opacus' 2.6x-8x is about.
// plus the secure noise cost per step, samples per second, the heap high-water mark during training, and the
// process' peak RSS. Wall time per epoch is the median over the epochs of several alternating runs (the first epoch
// of each run, which includes JIT warm-up and the worker start, is left out). Because wall times on a shared
// machine swing with other processes' load, the "cpu" column gives the same ratio in CPU time of this process
// (median over runs), and clip/SGD is measured in CPU time too.
//
// Data: Breast Cancer Wisconsin (455 training rows, 30 standardised features) at two sampling rates, and a
// synthetic set of 20,000 rows with 30 features at batch 256 (closer to real training).
//
// The noise section times the exact secure Gaussian noise (`sampleGaussianNoise`: the table-driven exact discrete
// Gaussian on a power-of-two grid) in microseconds per parameter per step, next to Box–Muller on Math.random in the
// same run: Box–Muller on Math.random is NOT attack-safe (V8's generator is predictable, and floating-point noise
// leaks through its low bits), it is only the speed a naive implementation would have. Goal from the issues: at
// most 0.03 µs per parameter per step, and the small-batch DP/plain ratios (q = 0.1) at most 1.3x.
//
// The PyTorch anchors are the issue's published figures (PyTorch 1.13 float32 on OpenBLAS, one thread, per-sample
// gradients by Opacus-style hooks, same data and settings, measured on the project's 2-core VM); they are printed
// next to this run's figures for the built-in MLP, not re-measured here. The built-in MLP trains on float32
// WebAssembly SIMD kernels by default; the same section times it with `precision: 'float64'` (the JavaScript float64
// kernels) in alternating runs, so the speed-up of the SIMD kernels is a ratio measured in one run.
//
// The last section trains the same MLP 30-64-64-1 built as a TensorFlow.js model through `@ppml/dp/tfjs` on the
// wasm backend (XNNPACK, SIMD) at batch 256: DP-SGD epoch / plain SGD epoch (goal <= 1.5x), and DP-SGD with
// `clippedSum: 'float64'` (per-example gradients clipped and summed in float64) against the float32 ghost sum.
//
// Usage (repository root): node_modules/.bin/node bench/dp-sgd.ts [--quick] [--only <text>]
// --only keeps the cases whose name contains <text> (case-insensitive, e.g. `--only mlp`) and skips the noise,
// accounting and fromTfjs sections.
import { ensureSourceCondition, median } from './support.ts';

// The packages are run from source (re-launched with the source export condition when it is not set).
ensureSourceCondition(import.meta.url);

const core = await import('@ppml/core');
const dp = await import('@ppml/dp');
type DenseModel = import('@ppml/dp').DenseModel;

const quick = process.argv.includes('--quick');
const RUNS = quick ? 2 : 3;
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '').toLowerCase() : null;

function breastCancer(): { x: Float64Array[]; y: number[] } {
  const table = core.readCsv(new URL('../examples/data/breast_cancer.csv', import.meta.url));
  const x = core.numericRows(
    table,
    table.header.filter((h) => h !== 'target'),
  );
  const y = core.numericColumn(table, 'target');
  const split = dp.trainTestSplit(x.length, 0.2, core.seededTestRng('breast-cancer-split'));
  const scaler = dp.fitStandardizer(dp.take(x, split.train));
  return { x: scaler.transform(dp.take(x, split.train)), y: dp.take(Array.from(y), split.train) };
}

function synthetic(n: number, d: number): { x: Float64Array[]; y: number[] } {
  const rng = core.seededTestRng('synthetic');
  const w = Float64Array.from({ length: d }, () => 2 * core.uniformDouble(rng) - 1);
  const x: Float64Array[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = Float64Array.from({ length: d }, () => 2 * core.uniformDouble(rng) - 1);
    let z = 0;
    for (let j = 0; j < d; j++) z += w[j] * r[j];
    x.push(r);
    y.push(core.uniformDouble(rng) < 1 / (1 + Math.exp(-3 * z)) ? 1 : 0);
  }
  return { x, y };
}

interface Case {
  name: string;
  data: { x: Float64Array[]; y: number[] };
  make: () => DenseModel;
  sampleRate: number;
  epochs: number;
}

type Mode = 'sgd' | 'dp' | 'par';

function heapMb(): number {
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** CPU time of this process (all threads) in ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Per-epoch wall times (ms) of one run without the first epoch, the CPU time per epoch over the whole run, and the
 * heap high-water mark.
 */
function timeRun(c: Case, mode: Mode): { epochs: number[]; cpu: number; heap: number } {
  const times: number[] = [];
  let heap = 0;
  let last = performance.now();
  const onProgress = (): void => {
    const now = performance.now();
    times.push(now - last);
    heap = Math.max(heap, heapMb());
    last = now;
  };
  const common = { model: c.make(), x: c.data.x, y: c.data.y, epochs: c.epochs, sampleRate: c.sampleRate, learningRate: 0.05, onProgress };
  const cpu0 = cpuMs();
  last = performance.now();
  if (mode === 'sgd') dp.trainSgd(common);
  else dp.trainDpSgd({ ...common, clipNorm: 1, noiseMultiplier: 1, delta: 1e-5, parallelNoise: mode === 'par' });
  return { epochs: times.slice(1), cpu: (cpuMs() - cpu0) / c.epochs, heap };
}

/** Clipping alone: ghost norms + reweighted sum against the plain sum, on the same Poisson batches. */
function clippingRatio(c: Case): number {
  const model = c.make();
  const n = c.data.x.length;
  const d = model.features;
  const x = new Float64Array(n * d);
  c.data.x.forEach((r, i) => {
    x.set(r, i * d);
  });
  const y = Float64Array.from(c.data.y);
  const rng = core.seededTestRng('clip-batches');
  const batches: { xb: Float64Array; yb: Float64Array; xSq: Float64Array; rows: number }[] = [];
  for (let s = 0; s < 60; s++) {
    const idx = dp.poissonSample(n, c.sampleRate, rng);
    const xb = new Float64Array(idx.length * d);
    const yb = new Float64Array(idx.length);
    const xSq = new Float64Array(idx.length);
    idx.forEach((k, i) => {
      xb.set(x.subarray(k * d, (k + 1) * d), i * d);
      yb[i] = y[k];
      xSq[i] = c.data.x[k].reduce((s, v) => s + v * v, 0);
    });
    batches.push({ xb, yb, xSq, rows: idx.length });
  }
  const grad = new Float64Array(model.parameters.length);
  const G = model.parameterGroups.length;
  const sq = new Float64Array(4 * n * G);
  const w = new Float64Array(4 * n);
  const plain = (): void => {
    for (const b of batches) {
      model.forwardBackward(b.xb, b.yb, b.rows);
      model.accumulateGradient(null, false, grad);
    }
  };
  const clipped = (): void => {
    for (const b of batches) {
      model.forwardBackward(b.xb, b.yb, b.rows, b.xSq);
      model.perSampleSquaredNorms(sq);
      for (let i = 0; i < b.rows; i++) {
        let s = 0;
        for (let l = 0; l < G; l++) s += sq[i * G + l];
        const norm = Math.sqrt(s);
        w[i] = norm > 1 ? 1 / norm : 1;
      }
      model.accumulateGradient(w, false, grad);
    }
  };
  plain();
  clipped();
  // Windows of at least ~40 ms so that scheduler noise on a shared machine averages out; 11 interleaved pairs.
  // CPU time of this process, not wall time, so that other processes on the machine matter less.
  let reps = 1;
  for (let t = performance.now(); performance.now() - t < 40; reps++) plain();
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < 11; r++) {
    let t = cpuMs();
    for (let k = 0; k < reps; k++) plain();
    a.push(cpuMs() - t);
    t = cpuMs();
    for (let k = 0; k < reps; k++) clipped();
    b.push(cpuMs() - t);
  }
  return median(b) / median(a);
}

/** Box–Muller on Math.random into `out` (baseline only: NOT attack-safe, see the header). */
function boxMullerMathRandom(out: Float64Array, sigma: number): void {
  for (let i = 0; i < out.length; i += 2) {
    const r = sigma * Math.sqrt(-2 * Math.log(1 - Math.random()));
    const t = 2 * Math.PI * Math.random();
    out[i] = r * Math.cos(t);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(t);
  }
}

/** Median microseconds per value of `fill` over 15 windows of about 100,000 values each (P values per call). */
function microsPerValue(params: number, fill: (out: Float64Array) => void): number {
  const out = new Float64Array(params);
  const reps = Math.max(5, Math.floor(100_000 / params));
  for (let i = 0; i < reps; i++) fill(out);
  const times: number[] = [];
  for (let w = 0; w < 15; w++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fill(out);
    times.push(((performance.now() - t0) * 1000) / (reps * params));
  }
  return median(times);
}

function noiseMsPerStep(params: number): number {
  const noise = new Float64Array(params);
  const reps = Math.max(5, Math.floor(100_000 / params));
  dp.sampleGaussianNoise(noise, 1);
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) dp.sampleGaussianNoise(noise, 1);
  return (performance.now() - t0) / reps;
}

const bc = breastCancer();
const syn = synthetic(quick ? 5000 : 20_000, 30);
const mlpOf = (): DenseModel => dp.mlp({ sizes: [30, 64, 64, 1], activation: 'relu', rng: core.seededTestRng(1) });
/** The same MLP on the float64 JavaScript kernels (the reference arithmetic, and the only one before the SIMD kernels). */
const mlp64Of = (): DenseModel => dp.mlp({ sizes: [30, 64, 64, 1], activation: 'relu', rng: core.seededTestRng(1), precision: 'float64' });
const lrOf = (): DenseModel => dp.logisticRegression({ features: 30 });
const cases: Case[] = [
  { name: 'LR, breast cancer, q=0.1', data: bc, make: lrOf, sampleRate: 0.1, epochs: 150 },
  { name: 'LR, breast cancer, q=0.5', data: bc, make: lrOf, sampleRate: 0.5, epochs: 300 },
  { name: 'MLP 2x64, breast cancer, q=0.1', data: bc, make: mlpOf, sampleRate: 0.1, epochs: 12 },
  { name: 'MLP 2x64, breast cancer, q=0.5', data: bc, make: mlpOf, sampleRate: 0.5, epochs: 6 },
  { name: 'LR, synthetic 20k, B=256', data: syn, make: lrOf, sampleRate: 256 / syn.x.length, epochs: 4 },
  { name: 'MLP 2x64, synthetic 20k, B=256', data: syn, make: mlpOf, sampleRate: 256 / syn.x.length, epochs: 3 },
].filter((c) => only === null || c.name.toLowerCase().includes(only));

console.log(
  `DP-SGD vs plain SGD, Node ${process.version}; sigma = 1, C = 1, RDP accounting every epoch; ${RUNS} alternating runs per mode, median epoch time`,
);
const pad = (s: string, n: number): string => s.padEnd(n);
console.log(
  `${pad('case', 33)}${pad('params', 7)}${pad('batch', 6)}${pad('SGD ms/ep', 10)}${pad('DP ms/ep', 9)}${pad('DP/SGD', 7)}${pad('cpu', 7)}${pad('par/SGD', 8)}${pad('clip/SGD', 9)}${pad('noise ms/step', 14)}${pad('samples/s SGD | DP', 20)}heap MB SGD/DP`,
);
const results: {
  name: string;
  dpRatio: number;
  cpuRatio: number;
  parRatio: number;
  clipRatio: number;
  sgd: number;
  dp: number;
  /** CPU ms per epoch of this process (median over runs; each run's mean includes its first epoch). */
  cpuSgd: number;
  cpuDp: number;
  case: Case;
}[] = [];
for (const c of cases) {
  timeRun(c, 'sgd');
  timeRun(c, 'dp');
  const epochs: Record<Mode, number[]> = { sgd: [], dp: [], par: [] };
  const cpu: Record<Mode, number[]> = { sgd: [], dp: [], par: [] };
  const heap: Record<Mode, number> = { sgd: 0, dp: 0, par: 0 };
  for (let r = 0; r < RUNS; r++) {
    const order: Mode[] = r % 2 === 0 ? ['sgd', 'dp', 'par'] : ['par', 'dp', 'sgd'];
    for (const mode of order) {
      const t = timeRun(c, mode);
      epochs[mode].push(...t.epochs);
      cpu[mode].push(t.cpu);
      heap[mode] = Math.max(heap[mode], t.heap);
    }
  }
  const sgd = median(epochs.sgd);
  const dpMs = median(epochs.dp);
  const par = median(epochs.par);
  const params = c.make().parameters.length;
  const clip = clippingRatio(c);
  const n = c.data.x.length;
  const cpuRatio = median(cpu.dp) / median(cpu.sgd);
  results.push({
    name: c.name,
    dpRatio: dpMs / sgd,
    cpuRatio,
    parRatio: par / sgd,
    clipRatio: clip,
    sgd,
    dp: dpMs,
    cpuSgd: median(cpu.sgd),
    cpuDp: median(cpu.dp),
    case: c,
  });
  console.log(
    `${pad(c.name, 33)}${pad(String(params), 7)}${pad((c.sampleRate * n).toFixed(0), 6)}${pad(sgd.toFixed(2), 10)}${pad(dpMs.toFixed(2), 9)}${pad(`${(dpMs / sgd).toFixed(2)}x`, 7)}${pad(`${cpuRatio.toFixed(2)}x`, 7)}${pad(`${(par / sgd).toFixed(2)}x`, 8)}${pad(`${clip.toFixed(2)}x`, 9)}${pad(noiseMsPerStep(params).toFixed(3), 14)}${pad(`${(n / (sgd / 1000)).toFixed(0)} | ${(n / (dpMs / 1000)).toFixed(0)}`, 20)}${heap.sgd.toFixed(1)}/${Math.max(heap.dp, heap.par).toFixed(1)}`,
  );
}
if (only === null) {
  console.log('\nnoise per parameter per step, sigma = 1 (median of 15 windows, interleaved in this run):');
  const noiseRows: { params: number; exact: number; naive: number }[] = [];
  for (const params of [31, 6209, 100_000]) {
    const exact = microsPerValue(params, (o) => dp.sampleGaussianNoise(o, 1));
    const naive = microsPerValue(params, (o) => boxMullerMathRandom(o, 1));
    noiseRows.push({ params, exact, naive });
    console.log(
      `  P = ${pad(String(params), 7)} exact secure (table discrete Gaussian): ${exact.toFixed(4)} µs; ` +
        `Box–Muller on Math.random (not attack-safe): ${naive.toFixed(4)} µs; exact / Box–Muller ${(exact / naive).toFixed(2)}x`,
    );
  }

  let t0 = performance.now();
  const sigma = dp.calibrateNoiseMultiplier({ targetEpsilon: 1, delta: 1e-5, sampleRate: 0.1, steps: 100, accountant: 'rdp' });
  const calibrationMs = performance.now() - t0;
  t0 = performance.now();
  const eps = dp.computeEpsilon({ noiseMultiplier: sigma, sampleRate: 0.1, steps: 100, delta: 1e-5, accountant: 'rdp' });
  const epsilonMs = performance.now() - t0;
  console.log(
    `accounting: calibration (RDP, eps 1, q 0.1, 100 steps) sigma = ${sigma.toFixed(4)} in ${calibrationMs.toFixed(1)} ms; one epsilon (${eps.toFixed(4)}) in ${epsilonMs.toFixed(2)} ms`,
  );
  console.log(`peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB`);
  const small = results.filter((r) => r.name.includes('breast cancer, q=0.1'));
  console.log(
    `small batches (Breast Cancer, q = 0.1, default configuration): ` +
      small.map((r) => `${r.name.split(',')[0]} ${r.dpRatio.toFixed(2)}x wall, ${r.cpuRatio.toFixed(2)}x CPU`).join('; ') +
      ` (goal <= 1.3x); exact noise at P = 6209: ${noiseRows[1].exact.toFixed(4)} µs per parameter per step ` +
      `(goal <= 0.03 µs: ${noiseRows[1].exact <= 0.03 ? 'met' : 'NOT met'})`,
  );
}
for (const r of results) {
  // The verdict is on the default configuration (what a user gets); parallel noise is reported beside it.
  console.log(
    `${pad(r.name, 33)} goal <= 1.3x: ${r.dpRatio <= 1.3 ? 'met' : 'NOT met'} (wall: default ${r.dpRatio.toFixed(2)}x, parallel noise ${r.parRatio.toFixed(2)}x; CPU time ${r.cpuRatio.toFixed(2)}x; clipping alone ${r.clipRatio.toFixed(2)}x)`,
  );
}

// PyTorch anchors (issue table, ms per epoch: DP with Opacus-style hooks, plain), for the MLP cases.
const PYTORCH: Record<string, { dp: number; plain: number }> = {
  'MLP 2x64, breast cancer, q=0.1': { dp: 10.0, plain: 2.2 },
  'MLP 2x64, breast cancer, q=0.5': { dp: 4.3, plain: 0.66 },
  'MLP 2x64, synthetic 20k, B=256': { dp: 206, plain: 36 },
};
console.log(
  '\nbuilt-in MLP 30-64-64-1 (float32 WebAssembly SIMD kernels, the default) next to PyTorch (published anchors, same machine class; ms per epoch),\n' +
    "and the same MLP with precision: 'float64' (JavaScript float64 kernels) timed in this run, alternating float32 and float64 runs:",
);
for (const r of results) {
  const py = PYTORCH[r.name];
  if (py === undefined) continue;
  const f64Case: Case = { ...r.case, make: mlp64Of };
  const t32: Record<'sgd' | 'dp', number[]> = { sgd: [], dp: [] };
  const t64: Record<'sgd' | 'dp', number[]> = { sgd: [], dp: [] };
  timeRun(f64Case, 'sgd');
  for (let k = 0; k < RUNS; k++) {
    for (const mode of ['sgd', 'dp'] as const) {
      t64[mode].push(...timeRun(f64Case, mode).epochs);
      t32[mode].push(...timeRun(r.case, mode).epochs);
    }
  }
  const f32 = { sgd: median(t32.sgd), dp: median(t32.dp) };
  const f64 = { sgd: median(t64.sgd), dp: median(t64.dp) };
  console.log(
    `  ${pad(r.name, 33)} float64 kernels: DP ${f64.dp.toFixed(2)}, plain ${f64.sgd.toFixed(2)}; ` +
      `float32 SIMD in the same runs: DP ${f32.dp.toFixed(2)}, plain ${f32.sgd.toFixed(2)} ` +
      `(speed-up DP ${(f64.dp / f32.dp).toFixed(1)}x, plain ${(f64.sgd / f32.sgd).toFixed(1)}x)`,
  );
  const scale = quick && r.name.includes('synthetic') ? ' (--quick: 5,000 rows, scale x4 to compare)' : '';
  console.log(
    `  ${pad(r.name, 33)} DP ${r.dp.toFixed(2)} vs ${py.dp} (goal <= PyTorch: ${r.dp <= py.dp ? 'met' : 'NOT met'}); ` +
      `plain ${r.sgd.toFixed(2)} vs ${py.plain} (${(r.sgd / py.plain).toFixed(2)}x, goal <= 1.5x: ${r.sgd <= 1.5 * py.plain ? 'met' : 'NOT met'}); ` +
      `CPU ms/epoch DP ${r.cpuDp.toFixed(2)}, plain ${r.cpuSgd.toFixed(2)}${scale}`,
  );
}

// fromTfjs on the wasm backend: the same MLP as a TensorFlow.js model, DP-SGD against plain SGD at batch 256.
if (only === null) {
  const tf = await import('@tensorflow/tfjs-core');
  const tfl = await import('@tensorflow/tfjs-layers');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  const { fromTfjs } = await import('@ppml/dp/tfjs');
  const makeNet = (): import('@tensorflow/tfjs-layers').LayersModel =>
    tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 64, inputShape: [30], activation: 'relu' }),
        tfl.layers.dense({ units: 64, activation: 'relu' }),
        tfl.layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
  const data = synthetic(quick ? 5000 : 20_000, 30);
  const q = 256 / data.x.length;
  const epochs = 3;
  type TfjsMode = 'sgd' | 'dp' | 'dp64';
  const timeTfjs = (mode: TfjsMode): number[] => {
    const model = fromTfjs(makeNet(), { loss: 'binaryCrossentropy', clippedSum: mode === 'dp64' ? 'float64' : 'float32' });
    const times: number[] = [];
    let last = performance.now();
    const onProgress = (): void => {
      const now = performance.now();
      times.push(now - last);
      last = now;
    };
    const common = { model, x: data.x, y: data.y, epochs, sampleRate: q, learningRate: 0.05, onProgress };
    last = performance.now();
    if (mode === 'sgd') dp.trainSgd(common);
    else dp.trainDpSgd({ ...common, clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 });
    model.dispose();
    return times.slice(1);
  };
  timeTfjs('sgd');
  const t: Record<TfjsMode, number[]> = { sgd: [], dp: [], dp64: [] };
  for (let r = 0; r < RUNS; r++) {
    for (const mode of r % 2 === 0 ? (['sgd', 'dp', 'dp64'] as const) : (['dp64', 'dp', 'sgd'] as const)) t[mode].push(...timeTfjs(mode));
  }
  const sgdMs = median(t.sgd);
  const dpMs = median(t.dp);
  const dp64Ms = median(t.dp64);
  console.log(
    `\nfromTfjs MLP 30-64-64-1 on tfjs-backend-wasm (SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}), synthetic ${data.x.length} x 30, batch 256: ` +
      `plain ${sgdMs.toFixed(1)} ms/epoch, DP ${dpMs.toFixed(1)} ms/epoch, DP/plain ${(dpMs / sgdMs).toFixed(2)}x (goal <= 1.5x: ${dpMs / sgdMs <= 1.5 ? 'met' : 'NOT met'}); ` +
      `DP with clippedSum 'float64' ${dp64Ms.toFixed(1)} ms/epoch (${(dp64Ms / dpMs).toFixed(2)}x the float32 ghost sum)`,
  );
}
