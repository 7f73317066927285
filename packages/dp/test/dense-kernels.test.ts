// The built-in MLP's float32 WebAssembly SIMD training pass: the shipped bytes match dense.wat; forward/backward,
// ghost norms and (weighted) gradient sums agree with the float64 reference kernels within float32 tolerance, for
// odd widths, odd batch sizes, both activations and both heads; clipped contributions never exceed the clip norm;
// a DP-SGD run in float32 tracks the float64 run; without WebAssembly the float64 kernels take over.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { seededTestRng, uniformDouble } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import { DENSE_WASM_BASE64 } from '../src/kernels/dense-wasm.ts';
import { simdDenseKernelsAvailable } from '../src/kernels/dense-simd.ts';
import { type DenseModel, mlp, modelFromJSON, trainDpSgd } from '../src/sgd/index.ts';
import { GENERATED_PATH, compileDenseKernels, generatedModule } from '../../../scripts/dp-kernels.ts';

function batch(rows: number, features: number, classes: number, seed: string): { x: Float64Array; y: Float64Array } {
  const rng = seededTestRng(seed);
  const x = Float64Array.from({ length: rows * features }, () => 4 * uniformDouble(rng) - 2);
  const y = Float64Array.from({ length: rows }, () => Math.floor(uniformDouble(rng) * classes));
  return { x, y };
}

/** The same network in both precisions (float64 is the reference). */
function pair(sizes: number[], activation: 'relu' | 'tanh', seed: string): { f32: DenseModel; f64: DenseModel } {
  const f64 = mlp({ sizes, activation, rng: seededTestRng(seed), precision: 'float64' });
  const f32 = mlp({ sizes, activation, rng: seededTestRng(seed), precision: 'float32' });
  // Non-zero biases, so that the padded rows and columns of the float32 layout are exercised.
  const rng = seededTestRng(`${seed}-bias`);
  for (const g of f64.parameterGroups) {
    const nOut = sizes[Number(g.name.slice(5)) + 1];
    for (let k = g.offset + g.length - nOut; k < g.offset + g.length; k++) f64.parameters[k] = uniformDouble(rng) - 0.5;
  }
  f32.parameters.set(f64.parameters);
  return { f32, f64 };
}

/** |a - b| <= rtol * scale for every entry, where scale is the largest |b| (at least 1e-3); reports the worst. */
function expectAllClose(a: Float64Array, b: Float64Array, rtol: number, what: string): void {
  let scale = 1e-3;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let at = 0;
  for (let k = 0; k < b.length; k++) {
    const err = Math.abs(a[k] - b[k]);
    if (!(err <= worst)) {
      worst = err;
      at = k;
    }
  }
  expect(worst, `${what}[${at}]: |${a[at]} - ${b[at]}| (scale ${scale})`).toBeLessThanOrEqual(rtol * scale);
}

describe('dense WebAssembly kernels', () => {
  it('the generated module holds exactly the bytes compiled from dense.wat', async () => {
    const bytes = await compileDenseKernels();
    expect(Buffer.from(bytes).toString('base64')).toBe(DENSE_WASM_BASE64);
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(generatedModule(bytes));
  });

  it('are available on this Node (WebAssembly SIMD)', () => {
    expect(simdDenseKernelsAvailable()).toBe(true);
  });

  it('without WebAssembly a float32 MLP falls back to the float64 kernels (child process)', () => {
    const script = fileURLToPath(new URL('./support/no-wasm-child.ts', import.meta.url));
    const node = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url));
    const r = spawnSync(node, ['--conditions=@ppml/source', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('simd false identical true');
  }, 90_000);

  const shapes: { sizes: number[]; activation: 'relu' | 'tanh' }[] = [
    { sizes: [30, 64, 64, 1], activation: 'relu' },
    { sizes: [5, 7, 3], activation: 'tanh' },
    { sizes: [3, 6, 5, 4], activation: 'relu' },
    { sizes: [1, 9, 1], activation: 'tanh' },
    { sizes: [13, 2], activation: 'relu' },
  ];
  // Batches of 1, an odd size, one that grows the workspace, and a small one after it (stale padding must not leak).
  const rowCounts = [1, 7, 61, 6];

  it.each(shapes)('float32 pass of $sizes ($activation) equals the float64 reference within float32 tolerance', ({ sizes, activation }) => {
    const { f32, f64 } = pair(sizes, activation, `shape-${sizes.join('-')}`);
    const G = f64.parameterGroups.length;
    const P = f64.parameters.length;
    for (const rows of rowCounts) {
      const { x, y } = batch(rows, sizes[0], f64.classes, `rows-${rows}`);
      const a = f64.forwardBackward(x, y, rows);
      const b = f32.forwardBackward(x, y, rows);
      expect(Math.abs(b.lossSum - a.lossSum)).toBeLessThanOrEqual(1e-5 * Math.max(1, a.lossSum));
      const sqA = new Float64Array(rows * G);
      const sqB = new Float64Array(rows * G);
      f64.perSampleSquaredNorms(sqA);
      f32.perSampleSquaredNorms(sqB);
      expectAllClose(sqB, sqA, 1e-5, `norms rows=${rows}`);
      const rng = seededTestRng(`w-${rows}`);
      const w = Float64Array.from({ length: rows * G }, () => uniformDouble(rng));
      for (const [weights, perGroup] of [
        [null, false],
        [w.subarray(0, rows), false],
        [w, true],
      ] as const) {
        const ga = new Float64Array(P);
        const gb = new Float64Array(P);
        f64.accumulateGradient(weights, perGroup, ga);
        f32.accumulateGradient(weights, perGroup, gb);
        expectAllClose(gb, ga, 1e-5, `gradient rows=${rows} weights=${weights === null ? 'none' : perGroup ? 'per group' : 'flat'}`);
      }
      // With supplied input norms the first layer's ghost norm is the same.
      const d = sizes[0];
      const xSq = Float64Array.from({ length: rows }, (_, i) => x.subarray(i * d, (i + 1) * d).reduce((s, v) => s + v * v, 0));
      f32.forwardBackward(x, y, rows, xSq);
      const sqC = new Float64Array(rows * G);
      f32.perSampleSquaredNorms(sqC);
      expectAllClose(sqC, sqA, 1e-5, `cached norms rows=${rows}`);
    }
  });

  it('an empty batch gives a zero gradient', () => {
    const { f32 } = pair([4, 5, 1], 'relu', 'empty');
    const s = f32.forwardBackward(new Float64Array(0), new Float64Array(0), 0);
    expect(s).toEqual({ lossSum: 0, correct: 0 });
    const g = new Float64Array(f32.parameters.length);
    f32.accumulateGradient(null, false, g);
    expect(g.every((v) => v === 0)).toBe(true);
  });

  it('a clipped contribution never exceeds the clip norm, flat or per layer, with or without supplied input norms', () => {
    // One example at a time: w = C / ‖g‖ from the ghost norms must give ‖w·g‖ <= C despite float32 rounding (the
    // supplied ‖x‖² comes from the float64 row, while the kernels use the row rounded to float32).
    const model = mlp({ sizes: [30, 64, 64, 1], activation: 'relu', rng: seededTestRng('clip'), precision: 'float32' });
    const G = model.parameterGroups.length;
    const sq = new Float64Array(G);
    const g = new Float64Array(model.parameters.length);
    const C = 0.37;
    const perLayer = C / Math.sqrt(G);
    for (let t = 0; t < 150; t++) {
      const { x, y } = batch(1, 30, 2, `clip-${t}`);
      for (const xSq of [undefined, Float64Array.of(x.reduce((s, v) => s + v * v, 0))]) {
        model.forwardBackward(x, y, 1, xSq);
        model.perSampleSquaredNorms(sq);
        const norm = Math.sqrt(sq.reduce((s, v) => s + v, 0));
        if (norm === 0) continue;
        g.fill(0);
        model.accumulateGradient(Float64Array.of(C / norm), false, g);
        let s = 0;
        for (const v of g) s += v * v;
        expect(Math.sqrt(s)).toBeLessThanOrEqual(C);
        // Per layer: each group scaled to perLayer exactly.
        g.fill(0);
        model.accumulateGradient(
          Float64Array.from(sq, (v) => (v > 0 ? perLayer / Math.sqrt(v) : 1)),
          true,
          g,
        );
        model.parameterGroups.forEach((group, l) => {
          let gs = 0;
          for (let k = group.offset; k < group.offset + group.length; k++) gs += g[k] * g[k];
          if (sq[l] > 0) expect(Math.sqrt(gs), `layer ${l}`).toBeLessThanOrEqual(perLayer);
        });
      }
    }
  });

  it('a float32 DP-SGD run tracks the float64 run with the same seed', () => {
    const n = 120;
    const { x } = batch(n, 6, 2, 'run');
    const rows = Array.from({ length: n }, (_, i) => x.subarray(i * 6, (i + 1) * 6));
    const labels = Array.from({ length: n }, (_, i) => (rows[i][0] + rows[i][1] > 0 ? 1 : 0));
    const { f32, f64 } = pair([6, 16, 8, 1], 'tanh', 'run');
    const common = { x: rows, y: labels, epochs: 3, sampleRate: 0.2, learningRate: 0.3, clipNorm: 1, noiseMultiplier: 0.8, delta: 1e-5 };
    const a = trainDpSgd({ ...common, model: f64, rng: seededTestRng('same-run') });
    const b = trainDpSgd({ ...common, model: f32, rng: seededTestRng('same-run') });
    expect(b.epsilon).toBe(a.epsilon);
    expectAllClose(f32.parameters, f64.parameters, 1e-4, 'parameters');
    expect(Math.abs((b.history[2].loss as number) - (a.history[2].loss as number))).toBeLessThan(1e-4);
  });

  it('keeps the precision through clone() and validates it', () => {
    const model = mlp({ sizes: [2, 3, 1], activation: 'relu', rng: seededTestRng(1) });
    expect(model.precision).toBe('float32');
    expect(model.clone().precision).toBe('float32');
    expect(mlp({ sizes: [2, 3, 1], activation: 'relu', precision: 'float64' }).clone().precision).toBe('float64');
    expect(modelFromJSON(JSON.stringify(model)).precision).toBe('float32');
    expect(() => mlp({ sizes: [2, 1], activation: 'relu', precision: 'float16' as 'float32' })).toThrow(/precision/);
  });
});
