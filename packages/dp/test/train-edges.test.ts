/**
 * Regression tests for the trainers' edge cases: one consistent privacy statement, empty epochs, divergence,
 * option checks (unknown keys, null options, rng / onProgress / validation, BigInt elements, absurd lengths) and
 * the parallel-noise worker under `node --expose-gc` (child process: vitest's own flags would hide the problem).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { seededTestRng } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import {
  clipAndSum,
  clipPerSampleGradients,
  dpSgdStep,
  logisticRegression,
  mlp,
  softmaxRegression,
  trainDpSgd,
  trainSgd,
} from '../src/sgd/index.ts';
import { xTrain, yTrain } from './support/breast-cancer.ts';

describe('the DP-SGD privacy statement is one statement with one set of numbers', () => {
  it('the medical-demo setup: steps and epochs agree, sigma printed once, every warning says what to do', () => {
    const r = trainDpSgd({
      model: logisticRegression({ features: 30 }),
      x: xTrain,
      y: yTrain,
      epochs: 30,
      batchSize: 150,
      learningRate: 0.5,
      clipNorm: 1,
      targetEpsilon: 3,
      delta: 1e-5,
      rng: seededTestRng('statement'),
    });
    const s = r.statement;
    expect(s).toContain(`${r.steps} steps = ${r.epochs} epoch(s)`);
    expect(s).not.toMatch(/composition\(s\)|footnote|\(\*\)/);
    // sigma appears once, rounded to 4 significant digits; the exact value stays in the result object.
    const shown = Number(r.noiseMultiplier.toPrecision(4)).toString();
    expect(s.match(/sigma = [0-9.]+/g)).toEqual([`sigma = ${shown}`]);
    expect(s).not.toContain(String(r.noiseMultiplier).length > shown.length ? String(r.noiseMultiplier) : '\u0000');
    // epsilon is rounded up (never under-reported) to 3 significant digits.
    const eps = Number(/epsilon = ([0-9.]+), delta/.exec(s)?.[1]);
    expect(eps).toBeGreaterThanOrEqual(r.epsilon);
    expect(eps).toBeLessThan(r.epsilon * 1.01);
    for (const line of s.split('\n').filter((l) => l.startsWith('Warning'))) expect(line).toMatch(/To tighten it|use delta >=|pass/);
    expect(s).toMatch(/N is treated as public/);
    expect(s).toMatch(/add or remove one example/);
    // A partial last epoch is said so, and the order-at-the-edge warning says what to do.
    const w = trainDpSgd({
      model: logisticRegression({ features: 30 }),
      x: xTrain,
      y: yTrain,
      steps: 95,
      batchSize: 128,
      learningRate: 1,
      clipNorm: 1,
      noiseMultiplier: 50,
      delta: 1e-5,
      rng: seededTestRng('edge-order'),
    });
    expect(w.statement).toContain('95 steps in 32 epoch(s) of up to 3 steps (the last one partial)');
    expect(w.statement).toMatch(/Warning: the optimal RDP order \(63\).*To tighten it, train with accountant: 'pld'/);
  });
});

describe('trainer edge cases', () => {
  const small = { x: xTrain.slice(0, 40), y: yTrain.slice(0, 40) };
  const dp = { ...small, epochs: 1, sampleRate: 0.1, learningRate: 0.5, clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 };

  it('an epoch whose Poisson batches were all empty reports loss null and 0 examples, never NaN', () => {
    const r = trainSgd({
      model: logisticRegression({ features: 30 }),
      x: xTrain.slice(0, 2),
      y: yTrain.slice(0, 2),
      epochs: 400,
      sampleRate: 0.001 * 1.5,
      learningRate: 0.1,
      rng: seededTestRng('empty-epoch'),
    });
    const empty = r.history.filter((h) => h.examples === 0);
    expect(empty.length).toBeGreaterThan(0);
    for (const h of empty) {
      expect(h.loss).toBeNull();
      expect(h.accuracy).toBeNull();
    }
    for (const h of r.history) expect(Number.isNaN(h.loss)).toBe(false);
  });

  it('a learning rate of 1.7e308 is refused; a diverging run throws a RangeError saying to lower it', () => {
    expect(() => trainDpSgd({ ...dp, model: logisticRegression({ features: 30 }), learningRate: 1.7e308 })).toThrow(
      /learningRate must be a number in \(0, 1000000\]/,
    );
    const huge = xTrain.slice(0, 40).map((row) => row.map((v) => v * 1e200));
    expect(() =>
      trainSgd({
        ...small,
        x: huge,
        model: logisticRegression({ features: 30 }),
        epochs: 3,
        sampleRate: 0.5,
        learningRate: 1e6,
        rng: seededTestRng(1),
      }),
    ).toThrow(/diverged.*lower learningRate/);
  });

  it('options: non-object, unknown keys, rng, onProgress, validation, BigInt, absurd lengths', () => {
    const m = () => logisticRegression({ features: 30 });
    expect(() => trainDpSgd(null as never)).toThrow(/^options must be an object, got null/);
    expect(() => trainSgd(7 as never)).toThrow(/^options must be an object/);
    expect(() => trainDpSgd({ ...dp, model: m(), learningrate: 1 } as never)).toThrow(
      /unknown key "learningrate" \(did you mean "learningRate"\?\)/,
    );
    expect(() => trainSgd({ ...small, model: m(), epochs: 1, sampleRate: 0.1, learningRate: 0.1, noiseMultiplier: 1 } as never)).toThrow(
      /unknown key "noiseMultiplier"/,
    );
    expect(() => trainDpSgd({ ...dp, model: m(), rng: {} as never })).toThrow(/^rng must be an Rng/);
    expect(() => trainDpSgd({ ...dp, model: m(), onProgress: 1 as never })).toThrow(TypeError);
    expect(() => trainDpSgd({ ...dp, model: m(), onProgress: 1 as never })).toThrow(/onProgress/);
    expect(() => trainDpSgd({ ...dp, model: m(), validation: null as never })).toThrow(/^validation must be an object/);
    expect(() => trainDpSgd({ ...dp, model: m(), validation: { x: small.x, y: small.y, z: 1 } as never })).toThrow(
      /validation has an unknown key "z"/,
    );
    const bigX = small.x.map((r) => [...r]) as unknown[][];
    bigX[2][3] = 1n;
    expect(() => trainDpSgd({ ...dp, model: m(), x: bigX as never })).toThrow(/x\[2\]\[3\] must be a number/);
    expect(() => trainDpSgd({ ...dp, model: m(), y: [...small.y.slice(0, 39), 1n] as never })).toThrow(/y\[39\] must be a number/);
    expect(() => trainDpSgd({ ...dp, model: m(), x: new Array(2 ** 31) })).toThrow(/^x must have a length in/);
    expect(() => trainDpSgd({ ...dp, model: m(), y: { length: 1e15 } as never })).toThrow(/^y must be an array/);
  });
});

describe('options objects of the sgd building blocks reject unknown keys', () => {
  it('models, clipping, dpSgdStep, adaptive clipping', () => {
    expect(() => logisticRegression({ features: 3, bias: true } as never)).toThrow(/unknown key "bias"/);
    expect(() => logisticRegression(null as never)).toThrow(/^options must be an object/);
    expect(() => softmaxRegression({ features: 3, classes: 3, clases: 3 } as never)).toThrow(/unknown key "clases"/);
    expect(() => mlp({ sizes: [2, 1], activation: 'tanh', seed: 1 } as never)).toThrow(/unknown key "seed"/);
    expect(() => mlp({ sizes: [2, 1], activation: 'tanh', rng: {} as never })).toThrow(/rng/);
    expect(() => clipAndSum([Float64Array.of(1)], { clipNorm: 1, clipnorm: 1 } as never)).toThrow(/did you mean "clipNorm"/);
    expect(() => clipPerSampleGradients([Float64Array.of(1)], null as never)).toThrow(/^options must be an object/);
    expect(() =>
      dpSgdStep({ perSampleGradients: [Float64Array.of(1)], clipNorm: 1, noiseMultiplier: 1, expectedBatchSize: 1, lr: 1 } as never),
    ).toThrow(/unknown key "lr"/);
    expect(
      dpSgdStep({ perSampleGradients: [Float64Array.of(3)], clipNorm: 1, noiseMultiplier: 1, expectedBatchSize: 1, rng: seededTestRng(1) })
        .batchSize,
    ).toBe(1);
    expect(() =>
      trainDpSgd({
        ...xy(),
        model: logisticRegression({ features: 30 }),
        epochs: 1,
        sampleRate: 0.1,
        learningRate: 0.1,
        clipNorm: 1,
        noiseMultiplier: 1,
        delta: 1e-5,
        adaptiveClipping: { quantile: 0.5 } as never,
      }),
    ).toThrow(/adaptiveClipping has an unknown key "quantile"/);
  });
  it('a model too large to allocate is refused up front', () => {
    expect(() => logisticRegression({ features: 2147483648 })).toThrow(/at most 134217728 are supported/);
    expect(() => mlp({ sizes: [1e5, 1e5, 1], activation: 'relu' })).toThrow(RangeError);
  });
});

function xy(): { x: number[][]; y: number[] } {
  return { x: xTrain.slice(0, 20).map((r) => [...r]), y: [...yTrain.slice(0, 20)] };
}

describe('parallel noise worker flags', () => {
  it('works when the parent runs under node --expose-gc (child process)', () => {
    const script = fileURLToPath(new URL('./support/parallel-noise-child.ts', import.meta.url));
    const node = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url));
    const r = spawnSync(node, ['--expose-gc', '--conditions=@ppml/source', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.error).toBeUndefined();
    expect(r.stderr).not.toMatch(/ERR_WORKER_INVALID_EXEC_ARGV/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ok \d+ finite values/);
  }, 90_000);
});
