// Child process of dense-kernels.test.ts: an engine without WebAssembly (the global removed before the package
// loads). A float32 MLP must fall back to the float64 kernels and train exactly like a float64 one.
import { seededTestRng } from '@ppml/core';

Reflect.deleteProperty(globalThis, 'WebAssembly');
const { simdDenseKernelsAvailable } = await import('../../src/kernels/dense-simd.ts');
const { mlp, trainDpSgd } = await import('../../src/sgd/index.ts');

const x = Array.from({ length: 60 }, (_, i) => [Math.sin(i), Math.cos(3 * i), (i % 7) / 7 - 0.5]);
const y = x.map((r) => (r[0] + r[1] > 0 ? 1 : 0));
const run = (precision: 'float32' | 'float64'): Float64Array => {
  const model = mlp({ sizes: [3, 8, 1], activation: 'tanh', rng: seededTestRng('init'), precision });
  trainDpSgd({
    model,
    x,
    y,
    epochs: 2,
    sampleRate: 0.2,
    learningRate: 0.3,
    clipNorm: 1,
    noiseMultiplier: 1,
    delta: 1e-5,
    rng: seededTestRng('no-wasm'),
  });
  return model.parameters;
};
const a = run('float32');
const b = run('float64');
const identical = a.length === b.length && a.every((v, k) => Object.is(v, b[k]));
console.log(`simd ${simdDenseKernelsAvailable()} identical ${identical}`);
