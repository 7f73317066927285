// Bad input at the public boundary of the accountant events, zCDP conversions and the DP-SGD building blocks:
// each case below once reached the caller as an engine error (a destructuring or property read of null, a BigInt
// mixed into arithmetic, a typed array or Array sized by an absurd length) or looped over an array-like claiming
// 2^31 entries. Each must now be a TypeError/RangeError naming the parameter and what it accepts.
import { describe, expect, it } from 'vitest';
import {
  adaptiveClipUpdate,
  clipFactor,
  composedEvent,
  dpSgdEvent,
  effectiveGaussianNoiseMultiplier,
  gaussianEvent,
  hasGhostClipping,
  perLayerClipNorms,
  poissonSample,
  poissonSampleInto,
  randomPermutation,
  resolveAdaptiveClipping,
  sampledWithoutReplacementEvent,
  shuffledBatches,
  take,
  trainTestSplit,
  totalClipNorm,
  validateEvent,
  zcdpToDelta,
  zcdpToEpsilon,
} from '../src/index.ts';

/** Calls `f` with arguments the types forbid, as a JavaScript caller can. */
function call(f: (...args: never[]) => unknown, ...args: unknown[]): unknown {
  return (f as (...a: unknown[]) => unknown)(...args);
}

describe('accountant events and zCDP conversions', () => {
  it('sampledWithoutReplacementEvent(null, event) names options', () => {
    expect(() => call(sampledWithoutReplacementEvent, null, gaussianEvent(1))).toThrow(
      new TypeError('options must be an object, got null'),
    );
  });

  it('dpSgdEvent(undefined) names options', () => {
    expect(() => call(dpSgdEvent, undefined)).toThrow(new TypeError('options must be an object, got undefined'));
  });

  it('effectiveGaussianNoiseMultiplier(null) names event', () => {
    expect(() => call(effectiveGaussianNoiseMultiplier, null)).toThrow(new TypeError('event must be a privacy event object, got null'));
  });

  it('zcdpToDelta(undefined) names options', () => {
    expect(() => call(zcdpToDelta, undefined)).toThrow(new TypeError('options must be an object, got undefined'));
  });

  it('zcdpToEpsilon(null) names options', () => {
    expect(() => call(zcdpToEpsilon, null)).toThrow(new TypeError('options must be an object, got null'));
  });

  it('validateEvent refuses a misspelt field in a plain-object tree, naming its path and the allowed keys', () => {
    const parsed: unknown = JSON.parse(
      '{"kind":"composed","events":[{"kind":"poissonSampled","sampleRAte":0.5,"sampleRate":0.01,' +
        '"event":{"kind":"gaussian","noiseMultiplier":1}}]}',
    );
    expect(() => validateEvent(parsed)).toThrow(
      new TypeError('event.events[0] has an unknown key "sampleRAte" (did you mean "sampleRate"?); allowed keys: kind, sampleRate, event'),
    );
    expect(() => call(composedEvent, [{ kind: 'gaussian', noiseMultiplier: 1, sigma: 2 }])).toThrow(
      new TypeError('events[0] has an unknown key "sigma"; allowed keys: kind, noiseMultiplier'),
    );
  });
});

describe('DP-SGD building blocks', () => {
  it('hasGhostClipping(null) names model', () => {
    expect(() => call(hasGhostClipping, null)).toThrow(new TypeError('model must be a TrainableModel object, got null'));
  });

  it('clipFactor with a BigInt norm names norm', () => {
    expect(() => call(clipFactor, 2n ** 64n, 1)).toThrow(new TypeError('norm must be a finite number >= 0, got 18446744073709551616n'));
  });

  it('clipFactor with an object without prototype names norm', () => {
    expect(() => call(clipFactor, Object.create(null), 1.79e308)).toThrow(
      new TypeError('norm must be a finite number >= 0, got an object (Object)'),
    );
  });

  it('clipFactor with a bad clip norm names clipNorm', () => {
    expect(() => clipFactor(1, Number.NaN)).toThrow(new RangeError('clipNorm must be a finite number > 0, got NaN'));
  });

  it('perLayerClipNorms(6, 1.79e308) names layers and its range', () => {
    expect(() => perLayerClipNorms(6, 1.79e308)).toThrow(new RangeError('layers must be an integer in [1, 1048576], got 1.79e+308'));
  });

  it('totalClipNorm({ length: 2147483648 }) is refused before any loop', () => {
    expect(() => call(totalClipNorm, { length: 2147483648 })).toThrow(new TypeError('clipNorms must be an array, got an object (Object)'));
  });

  it('totalClipNorm of huge bounds neither overflows early nor returns Infinity', () => {
    expect(totalClipNorm([3e200, 4e200])).toBeCloseTo(5e200, -190);
    expect(() => totalClipNorm([1.7e308, 1.7e308])).toThrow(RangeError);
  });

  it('adaptiveClipUpdate with a non-object names options', () => {
    expect(() => call(adaptiveClipUpdate, 9.4e-323)).toThrow(new TypeError('options must be an object, got 9.4e-323'));
  });

  it('adaptiveClipUpdate without settings names settings', () => {
    expect(() => call(adaptiveClipUpdate, { clipNorm: 1, unclipped: 1, batchSize: 2, expectedBatchSize: 2 })).toThrow(
      new TypeError('settings must be an object, got undefined'),
    );
  });

  it('adaptiveClipUpdate with more unclipped examples than the batch names unclipped', () => {
    const settings = resolveAdaptiveClipping({}, 1, 25);
    expect(() => adaptiveClipUpdate({ clipNorm: 1, unclipped: 3, batchSize: 2, expectedBatchSize: 25, settings })).toThrow(
      new RangeError('unclipped must be an integer in [0, 2], got 3'),
    );
  });

  it('take(100, { length: 2 ** 40 }) names items', () => {
    expect(() => call(take, 100, { length: 2 ** 40 })).toThrow(new TypeError('items must be an array, got 100'));
  });

  it('take(items, { length: 2 ** 40 }) names indices', () => {
    expect(() => call(take, [1, 2], { length: 2 ** 40 })).toThrow(new TypeError('indices must be an array, got an object (Object)'));
  });

  it('take refuses a fractional index instead of returning undefined', () => {
    expect(() => take([1, 2], [0.5])).toThrow(new RangeError('indices[0] must be an integer in [0, 2), got 0.5'));
  });
});

// Each sampler draws one random word per example: 2^31 examples ran for minutes (the bad-input suite's
// watchdog reported hangs), so populations are capped at 2^27, the most rows the trainer accepts.
describe('batch samplers refuse populations they cannot draw in bounded time', () => {
  const range = 'n must be an integer in [0, 134217728]';
  it('poissonSample(2147483648, 0.5) names n and its range', () => {
    expect(() => poissonSample(2147483648, 0.5)).toThrow(new RangeError(`${range}, got 2147483648`));
  });

  it('randomPermutation(2147483647) names n and its range', () => {
    expect(() => randomPermutation(2147483647)).toThrow(new RangeError(`${range}, got 2147483647`));
  });

  it('shuffledBatches(2147483647, 100) names n and its range', () => {
    expect(() => shuffledBatches(2147483647, 100)).toThrow(new RangeError('n must be an integer in [1, 134217728], got 2147483647'));
  });

  it('trainTestSplit(2147483647, 0.2) names n and its range', () => {
    expect(() => trainTestSplit(2147483647, 0.2)).toThrow(new RangeError(`${range}, got 2147483647`));
  });

  it('poissonSampleInto with a non-typed-array out names out', () => {
    expect(() => call(poissonSampleInto, null, 10, 0.5)).toThrow(new TypeError('out must be a Uint32Array, got null'));
  });

  it('poissonSampleInto with a non-Rng names rng', () => {
    expect(() => call(poissonSampleInto, new Uint32Array(4), 4, 0.5, 7)).toThrow(
      /^rng must be an Rng \(an object with fillBytes and nextUint32 methods\), got 7$/,
    );
  });
});
