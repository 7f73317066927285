// The trainers end to end on the Breast Cancer Wisconsin data (standardised with training-split statistics, fixed
// seeded split), plus accounting, progress reports, sampling modes, custom models and bad input.
import { seededTestRng } from '@ppml/core';
import { describe, expect, it } from 'vitest';
import { computeEpsilon } from '../src/accountant/index.ts';
import {
  type DenseModel,
  type EpochProgress,
  type TrainableModel,
  logisticRegression,
  mlp,
  modelFromJSON,
  softmaxRegression,
  trainDpSgd,
  trainSgd,
} from '../src/sgd/index.ts';
import { featureNames, split, X, xTrain, xTest, yTrain, yTest, testAccuracy } from './support/breast-cancer.ts';

describe('Breast Cancer Wisconsin, logistic regression', () => {
  it('uses the documented data and split', () => {
    expect(featureNames.length).toBe(30);
    expect(X.length).toBe(569);
    expect(split.train.length + split.test.length).toBe(569);
    expect(split.test.length).toBe(113);
  });

  it('non-private SGD reaches test accuracy >= 0.95', () => {
    const result = trainSgd({
      model: logisticRegression({ features: 30 }),
      x: xTrain,
      y: yTrain,
      epochs: 20,
      sampleRate: 0.05,
      learningRate: 0.5,
      rng: seededTestRng('sgd'),
    });
    expect(result.private).toBe(false);
    expect(result.epsilon).toBe(Number.POSITIVE_INFINITY);
    expect(result.statement).toMatch(/^NOT PRIVATE/);
    expect(result.history.length).toBe(20);
    expect(testAccuracy(result.model)).toBeGreaterThanOrEqual(0.95);
  });

  it('DP-SGD with epsilon = 1, delta = 1e-5 reaches test accuracy >= 0.90 and stays within the budget', () => {
    const progress: EpochProgress[] = [];
    const result = trainDpSgd({
      model: logisticRegression({ features: 30 }),
      x: xTrain,
      y: yTrain,
      epochs: 10,
      sampleRate: 0.1,
      learningRate: 0.5,
      clipNorm: 1,
      targetEpsilon: 1,
      delta: 1e-5,
      rng: seededTestRng('dp-sgd'),
      onProgress: (p) => progress.push(p),
      validation: { x: xTest, y: yTest },
    });
    expect(result.private).toBe(true);
    expect(result.epsilon).toBeLessThanOrEqual(1);
    expect(result.epsilon).toBeGreaterThan(0.9); // the calibration does not waste budget
    expect(result.delta).toBe(1e-5);
    expect(result.steps).toBe(100);
    expect(result.sampleRate).toBe(0.1);
    // The accountant is told exactly the run: Poisson rate q, all steps, sigma.
    expect(result.epsilon).toBe(
      computeEpsilon({ noiseMultiplier: result.noiseMultiplier, sampleRate: 0.1, steps: 100, delta: 1e-5, accountant: 'rdp' }),
    );
    expect(testAccuracy(result.model)).toBeGreaterThanOrEqual(0.9);
    // Per-epoch history: epsilon grows, ends at the reported value, loss/accuracy are present.
    expect(progress).toEqual(result.history);
    expect(result.history.length).toBe(10);
    for (let e = 1; e < result.history.length; e++) {
      expect(result.history[e].epsilon).toBeGreaterThan(result.history[e - 1].epsilon);
    }
    expect(result.history[9].epsilon).toBe(result.epsilon);
    expect(result.history[9].accuracy).toBeGreaterThan(0.8);
    expect(result.history[9].validationAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(Number.isFinite(result.history[9].loss)).toBe(true);
    expect(result.history.reduce((s, h) => s + h.meanBatchSize, 0) / 10).toBeGreaterThan(35);
    // The statement names sampling, clipping, sigma, relation, accountant and delta.
    expect(result.statement).toMatch(/Poisson/);
    expect(result.statement).toMatch(/expected batch size/);
    expect(result.statement).toMatch(/add or remove one example/);
    expect(result.statement).toMatch(/RDP/);
    expect(result.statement).toContain('1e-5');
    // The trained model serialises for serving.
    const served = modelFromJSON(JSON.parse(JSON.stringify(result.model)));
    expect(Array.from(served.predict(xTest.slice(0, 5)))).toEqual(Array.from(result.model.predict(xTest.slice(0, 5))));
  });
});

describe('trainDpSgd options', () => {
  const small = { x: xTrain.slice(0, 120), y: yTrain.slice(0, 120) };

  it('with a given noise multiplier reports the accountant epsilon for the run', () => {
    const r = trainDpSgd({
      model: logisticRegression({ features: 30 }),
      ...small,
      steps: 25,
      batchSize: 12,
      learningRate: 0.5,
      clipNorm: 1,
      noiseMultiplier: 1.2,
      delta: 1e-5,
      rng: seededTestRng('sigma'),
    });
    expect(r.noiseMultiplier).toBe(1.2);
    expect(r.steps).toBe(25);
    expect(r.epochs).toBe(3); // 10 steps per epoch at q = 0.1
    expect(r.sampleRate).toBeCloseTo(0.1, 15);
    expect(r.epsilon).toBe(computeEpsilon({ noiseMultiplier: 1.2, sampleRate: 12 / 120, steps: 25, delta: 1e-5, accountant: 'rdp' }));
  });

  it('accounts with the PLD accountant when asked (tighter than RDP)', () => {
    const common = { ...small, epochs: 2, sampleRate: 0.1, learningRate: 0.5, clipNorm: 1, noiseMultiplier: 2, delta: 1e-5 };
    const pld = trainDpSgd({ ...common, model: logisticRegression({ features: 30 }), accountant: 'pld', rng: seededTestRng('pld') });
    const rdp = trainDpSgd({ ...common, model: logisticRegression({ features: 30 }), rng: seededTestRng('pld') });
    expect(pld.accountant).toBe('pld');
    expect(pld.epsilon).toBe(computeEpsilon({ noiseMultiplier: 2, sampleRate: 0.1, steps: 20, delta: 1e-5, accountant: 'pld' }));
    expect(pld.epsilon).toBeLessThan(rdp.epsilon);
    expect(pld.statement).toMatch(/PLD accountant/);
    const user = trainDpSgd({ ...common, model: logisticRegression({ features: 30 }), maxExamplesPerUser: 3, rng: seededTestRng('user') });
    expect(user.statement).toMatch(/User-level DP/);
    expect(user.statement).toMatch(/at most 3 examples per user/);
  });

  it('shuffled fixed-size batches are accounted without amplification under replace-one (sensitivity 2C: sigma/2 per epoch)', () => {
    const r = trainDpSgd({
      model: logisticRegression({ features: 30 }),
      ...small,
      epochs: 2,
      batchSize: 25,
      sampling: 'shuffle',
      learningRate: 0.5,
      clipNorm: 1,
      noiseMultiplier: 3,
      delta: 1e-5,
      rng: seededTestRng('shuffle'),
    });
    expect(r.sampling).toBe('shuffle');
    expect(r.steps).toBe(8);
    expect(r.history.map((h) => h.meanBatchSize)).toEqual([25, 25]);
    // Was sigma = 3 at sensitivity C (add-or-remove-one), which under-reported: a displaced example moves a
    // batch sum by 2C, so each epoch is a Gaussian with multiplier 3/2.
    expect(r.epsilon).toBe(computeEpsilon({ noiseMultiplier: 1.5, sampleRate: 1, steps: 2, delta: 1e-5, accountant: 'rdp' }));
    expect(r.neighboringRelation).toBe('replace-one');
    expect(r.statement).toMatch(/NOT Poisson/);
    expect(r.statement).toMatch(/replace one example/);
    expect(r.statement).toMatch(/N is treated as public/);
  });

  it('trains through empty Poisson batches (they still get noise)', () => {
    const model = logisticRegression({ features: 30 });
    const r = trainDpSgd({
      model,
      x: xTrain.slice(0, 5),
      y: yTrain.slice(0, 5),
      steps: 50,
      sampleRate: 0.02,
      learningRate: 0.1,
      clipNorm: 1,
      noiseMultiplier: 1,
      delta: 1e-5,
      rng: seededTestRng('empty-batches'),
    });
    expect(r.history[0].meanBatchSize).toBeLessThan(1);
    expect(model.parameters.every((v) => Number.isFinite(v))).toBe(true);
    expect(model.parameters.some((v) => v !== 0)).toBe(true);
  });

  it('ghost clipping and materialised per-example gradients give the same training run', () => {
    // A wrapper exposing only the generic per-example interface goes through clipAndSum; the same seed must
    // reproduce the built-in (ghost) run up to float rounding.
    const ghost = mlp({ sizes: [30, 8, 1], activation: 'tanh', rng: seededTestRng('init'), precision: 'float64' });
    const inner = ghost.clone();
    const generic: TrainableModel = {
      features: inner.features,
      classes: inner.classes,
      parameters: inner.parameters,
      parameterGroups: inner.parameterGroups,
      perSampleGradients: (x, y, rows) => inner.perSampleGradients(x, y, rows),
      evaluate: (x, y, rows) => inner.evaluate(x, y, rows),
    };
    for (const clipping of ['flat', 'per-layer'] as const) {
      const common = { ...small, epochs: 2, sampleRate: 0.1, learningRate: 0.3, clipNorm: 0.5, noiseMultiplier: 1, delta: 1e-5, clipping };
      const a = trainDpSgd({ ...common, model: ghost, rng: seededTestRng(`same-${clipping}`) });
      const b = trainDpSgd({ ...common, model: generic, rng: seededTestRng(`same-${clipping}`) });
      for (let k = 0; k < ghost.parameters.length; k++) expect(Math.abs(ghost.parameters[k] - inner.parameters[k])).toBeLessThan(1e-9);
      expect(b.history[1].loss).toBeCloseTo(a.history[1].loss as number, 9);
    }
    // The non-private loop takes the generic path too.
    const base = { ...small, epochs: 1, sampleRate: 0.1, learningRate: 0.3 };
    trainSgd({ ...base, model: ghost, rng: seededTestRng('sgd-same') });
    trainSgd({ ...base, model: generic, rng: seededTestRng('sgd-same') });
    for (let k = 0; k < ghost.parameters.length; k++) expect(Math.abs(ghost.parameters[k] - inner.parameters[k])).toBeLessThan(1e-9);
  });

  it('parallelNoise draws the noise on a worker thread with the same accounting', () => {
    const model = logisticRegression({ features: 30 });
    const r = trainDpSgd({
      model,
      ...small,
      epochs: 3,
      sampleRate: 0.1,
      learningRate: 0.5,
      clipNorm: 1,
      noiseMultiplier: 1,
      delta: 1e-5,
      parallelNoise: true,
    });
    expect(r.epsilon).toBe(computeEpsilon({ noiseMultiplier: 1, sampleRate: 0.1, steps: 30, delta: 1e-5, accountant: 'rdp' }));
    expect(model.parameters.every((v) => Number.isFinite(v))).toBe(true);
    expect(model.parameters.some((v) => v !== 0)).toBe(true);
    const opts = {
      model,
      ...small,
      epochs: 1,
      sampleRate: 0.1,
      learningRate: 0.5,
      clipNorm: 1,
      noiseMultiplier: 1,
      delta: 1e-5,
      parallelNoise: true,
    };
    expect(() => trainDpSgd({ ...opts, rng: seededTestRng(1) })).toThrow(/cannot be combined with a custom rng/);
    expect(() => trainDpSgd({ ...opts, adaptiveClipping: true })).toThrow(/cannot be combined with adaptiveClipping/);
  });

  it('supports softmax regression, per-layer clipping and adaptive clipping', () => {
    const r = trainDpSgd({
      model: softmaxRegression({ features: 30, classes: 2 }),
      ...small,
      epochs: 3,
      sampleRate: 0.25,
      learningRate: 0.5,
      clipNorm: 5,
      adaptiveClipping: { targetQuantile: 0.5 },
      noiseMultiplier: 1,
      delta: 1e-5,
      rng: seededTestRng('adaptive'),
    });
    expect(r.clipNorm).toBeLessThan(5); // standardised-feature gradients have median norm well below 5
    expect(r.history[2].clipNorm).toBe(r.clipNorm);
    expect(r.statement).toMatch(/adaptive/);
    const net = trainDpSgd({
      model: mlp({ sizes: [30, 4, 2], activation: 'relu', rng: seededTestRng(2) }),
      ...small,
      epochs: 1,
      sampleRate: 0.25,
      learningRate: 0.5,
      clipNorm: [0.5, 0.5],
      clipping: 'per-layer',
      noiseMultiplier: 1,
      delta: 1e-5,
      rng: seededTestRng('per-layer'),
    });
    expect(net.statement).toMatch(/per-layer/);
  });
});

describe('bad input gives clear errors', () => {
  const base = {
    x: xTrain.slice(0, 10),
    y: yTrain.slice(0, 10),
    epochs: 1,
    sampleRate: 0.5,
    learningRate: 0.1,
    clipNorm: 1,
    noiseMultiplier: 1,
    delta: 1e-5,
  };
  const model = (): DenseModel => logisticRegression({ features: 30 });
  // trainSgd rejects the DP-only keys (unknown to it), so its calls get the options without them.
  const { clipNorm: _c, noiseMultiplier: _n, delta: _d, ...sgdBase } = base;

  it('mismatched x and y lengths', () => {
    expect(() => trainDpSgd({ ...base, model: model(), y: yTrain.slice(0, 9) })).toThrow(
      'x and y must have the same length, got 10 rows and 9 labels',
    );
    expect(() => trainSgd({ ...sgdBase, model: model(), y: yTrain.slice(0, 9) })).toThrow(/same length/);
  });

  it('labels out of range', () => {
    expect(() => trainDpSgd({ ...base, model: model(), y: [...base.y.slice(0, 9), 2] })).toThrow(
      'y[9] must be 0 or 1 for a binary model, got 2',
    );
    const sm = softmaxRegression({ features: 30, classes: 3 });
    expect(() => trainDpSgd({ ...base, model: sm, y: [...base.y.slice(0, 9), 3] })).toThrow(
      /y\[9\] must be a class index in \[0, 2\], got 3/,
    );
    expect(() => trainDpSgd({ ...base, model: sm, y: [...base.y.slice(0, 9), 0.5] })).toThrow(RangeError);
  });

  it('NaN features and wrong widths', () => {
    const x = base.x.map((r) => Float64Array.from(r));
    x[3][7] = Number.NaN;
    expect(() => trainDpSgd({ ...base, model: model(), x })).toThrow('x[3][7] must be a finite number, got NaN');
    expect(() => trainDpSgd({ ...base, model: logisticRegression({ features: 29 }) })).toThrow(/x\[0\] must have 29 columns, got 30/);
  });

  it('clipNorm <= 0', () => {
    expect(() => trainDpSgd({ ...base, model: model(), clipNorm: 0 })).toThrow('clipNorm must be a finite number > 0, got 0');
    expect(() => trainDpSgd({ ...base, model: model(), clipNorm: -2 })).toThrow(RangeError);
  });

  it('sampleRate outside (0, 1]', () => {
    expect(() => trainDpSgd({ ...base, model: model(), sampleRate: 0 })).toThrow('sampleRate must be a number in (0, 1], got 0');
    expect(() => trainDpSgd({ ...base, model: model(), sampleRate: 1.01 })).toThrow(RangeError);
    expect(() => trainSgd({ ...sgdBase, model: model(), sampleRate: -0.1 })).toThrow(/sampleRate/);
  });

  it('a model whose gradient size does not match its parameters', () => {
    const bad: TrainableModel = {
      features: 30,
      classes: 2,
      parameters: new Float64Array(31),
      parameterGroups: [{ name: 'all', offset: 0, length: 31 }],
      perSampleGradients: (_x, _y, rows) => Array.from({ length: rows }, () => new Float64Array(30)),
    };
    expect(() => trainDpSgd({ ...base, model: bad })).toThrow('per-sample gradient 0 has length 30, but the model has 31 parameters');
    expect(() => trainSgd({ ...sgdBase, model: bad })).toThrow(/but the model has 31 parameters/);
    const noRule = { ...bad, perSampleGradients: undefined } as unknown as TrainableModel;
    expect(() => trainDpSgd({ ...base, model: noRule })).toThrow(/perSampleGradients must be a function/);
    const badGroups: TrainableModel = { ...bad, parameterGroups: [{ name: 'all', offset: 0, length: 30 }] };
    expect(() => trainDpSgd({ ...base, model: badGroups })).toThrow(/cover 30 parameters but model.parameters has 31/);
  });

  it('missing or conflicting budget, steps and batch options', () => {
    expect(() => trainDpSgd({ ...base, model: model(), targetEpsilon: 1 })).toThrow(/exactly one of noiseMultiplier and targetEpsilon/);
    expect(() => trainDpSgd({ ...base, model: model(), steps: 3 })).toThrow(/exactly one of epochs and steps/);
    expect(() => trainDpSgd({ ...base, model: model(), batchSize: 3 })).toThrow(/exactly one of sampleRate and batchSize/);
    expect(() => trainDpSgd({ ...base, model: model(), delta: 0 })).toThrow(/delta must be a number in \(0, 1\)/);
    expect(() => trainDpSgd({ ...base, model: model(), learningRate: Number.NaN })).toThrow(/learningRate/);
    expect(() => trainDpSgd({ ...base, model: model(), sampling: 'shuffle' })).toThrow(/needs batchSize/);
    expect(() => trainDpSgd({ ...base, model: model(), clipping: 'per-layer', clipNorm: [1, 2] })).toThrow(/one bound per layer/);
  });
});
