/**
 * Bad and extreme input to the mechanisms, queries and the budget: every refusal is a checked TypeError or
 * RangeError naming the parameter (never an engine error such as "x is not a function"), unknown option keys
 * are refused, every accepted call returns finite values, and a refused call spends nothing. The generated
 * cases are a fixed list (deterministic, well under a second).
 */
import { seededTestRng } from '@ppml/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyticGaussianSigma,
  classicGaussianSigma,
  exponentialMechanism,
  fillDiscreteGaussian,
  fillDiscreteLaplace,
  gaussianDelta,
  gaussianMechanism,
  laplaceGranularity,
  laplaceMechanism,
  permuteAndFlip,
  randomizedResponse,
  sampleBernoulliExp,
  sampleDiscreteGaussian,
  sampleDiscreteLaplace,
  sampleGaussianNoise,
  sampleGeometric,
  sampleLaplaceNoise,
} from '../src/mechanisms/index.ts';
import {
  dpCount,
  dpHistogram,
  dpMean,
  dpQuantile,
  dpSum,
  dpVariance,
  PrivacyBudget,
  PrivacyBudgetExceededError,
} from '../src/queries/index.ts';

/** Messages of errors raised by the engine rather than by a check of ours. */
const ENGINE =
  /is not a function|Cannot read prop|Cannot destructure|is not iterable|Invalid array length|Invalid typed array length|Cannot convert|Cannot mix BigInt|Maximum call stack|undefined \(reading/;

const WEIRD: readonly unknown[] = [
  null,
  undefined,
  true,
  'x',
  1n,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -1,
  0,
  1e-320,
  1e308,
  -1e308,
  2 ** 53 + 2,
  {},
  [],
  [1n],
  { length: 2 ** 40 },
  { length: Number.NaN },
  () => 1,
];

function finiteResult(r: unknown): boolean {
  if (typeof r === 'number') return Number.isFinite(r);
  if (r instanceof Float64Array) return r.every((v) => Number.isFinite(v));
  return true;
}

/** Calls f; a throw must be a checked error of ours, a result must be finite. Returns the error, if any. */
function checked(what: string, f: () => unknown): Error | undefined {
  let r: unknown;
  try {
    r = f();
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof RangeError || e instanceof PrivacyBudgetExceededError)) {
      throw new Error(`${what}: unexpected error ${String(e)}`);
    }
    if (ENGINE.test(e.message)) throw new Error(`${what}: engine error "${e.message}"`);
    return e;
  }
  if (!finiteResult(r)) throw new Error(`${what}: non-finite result ${String(r)}`);
  return undefined;
}

type Entry = readonly [string, Record<string, unknown>, (o: unknown) => unknown];

const rng = seededTestRng('validation');
const data = [1, 2, 3, 4, 5];

/** Each public entry point with valid options; the call uses the mechanism so that outputs are checked too. */
const ENTRIES: readonly Entry[] = [
  ['laplaceMechanism', { epsilon: 1, sensitivity: 1, rng }, (o) => laplaceMechanism(o as never).addNoise(3)],
  [
    'laplaceMechanism.addNoiseTo',
    { epsilon: 1, sensitivity: 1, clamp: [0, 10], rng },
    (o) => laplaceMechanism(o as never).addNoiseTo(data),
  ],
  [
    'gaussianMechanism',
    { epsilon: 1, delta: 1e-5, sensitivity: 1, rng },
    (o) => {
      const g = gaussianMechanism(o as never);
      if (!(Number.isFinite(g.guarantee.rho) && g.guarantee.rho > 0 && Number.isFinite(g.sigma))) throw new Error('bad guarantee');
      return g.addNoise(3);
    },
  ],
  ['exponentialMechanism', { epsilon: 1, sensitivity: 1, monotonic: false, rng }, (o) => exponentialMechanism(o as never).select(data)],
  ['permuteAndFlip', { epsilon: 1, sensitivity: 1, rng }, (o) => permuteAndFlip(o as never).select(data)],
  [
    'randomizedResponse',
    { epsilon: 1, categories: 3, rng },
    (o) => {
      const r = randomizedResponse(o as never);
      r.respond(1);
      return r.estimateCounts([10, 20, 30].slice(0, r.categories).concat(new Array(Math.max(0, r.categories - 3)).fill(0)));
    },
  ],
  ['analyticGaussianSigma', { epsilon: 1, delta: 1e-5, sensitivity: 1 }, (o) => analyticGaussianSigma(o as never)],
  ['classicGaussianSigma', { epsilon: 0.5, delta: 1e-5, sensitivity: 1 }, (o) => classicGaussianSigma(o as never)],
  ['gaussianDelta', { sigma: 4, epsilon: 1, sensitivity: 1 }, (o) => gaussianDelta(o as never)],
  ['laplaceGranularity', { epsilon: 1, sensitivity: 1 }, (o) => laplaceGranularity(o as never)],
  ['dpCount', { epsilon: 1, rng, label: 'count', budget: PrivacyBudget.odometer() }, (o) => dpCount(data, o as never)],
  ['dpSum', { epsilon: 1, lower: 0, upper: 10, rng }, (o) => dpSum(data, o as never)],
  ['dpMean', { epsilon: 1, lower: 0, upper: 10, rng }, (o) => dpMean(data, o as never)],
  ['dpVariance', { epsilon: 1, lower: 0, upper: 10, rng }, (o) => dpVariance(data, o as never)],
  ['dpHistogram', { epsilon: 1, lower: 0, upper: 10, bins: 5, rng }, (o) => dpHistogram(data, o as never)],
  ['dpHistogram edges', { epsilon: 1, edges: [0, 2, 10], rng }, (o) => dpHistogram(data, o as never)],
  ['dpQuantile', { epsilon: 1, lower: 0, upper: 10, q: 0.5, candidates: 11, rng }, (o) => dpQuantile(data, o as never)],
  [
    'PrivacyBudget',
    { epsilon: 1, delta: 1e-6, rho: 1 },
    (o) => new PrivacyBudget(o as never).spend({ epsilon: 1e-9, delta: 0, rho: 1e-9 }).index,
  ],
  [
    'PrivacyBudget.spend',
    { epsilon: 0.5, delta: 1e-7, rho: 0.1 },
    (o) => new PrivacyBudget({ epsilon: 1, delta: 1e-6, rho: 1 }).spend(o as never).epsilon,
  ],
];

describe('generated bad input: checked errors naming the parameter, finite results otherwise', () => {
  it('each entry point with valid options works', () => {
    for (const [name, opts, call] of ENTRIES) expect(checked(name, () => call({ ...opts }))).toBeUndefined();
  });

  it('a non-object options argument is reported as `options` (or `cost` for spend)', () => {
    for (const [name, , call] of ENTRIES) {
      for (const bad of [null, undefined, 1, 'x', 1n, [], () => 1]) {
        const e = checked(`${name}(${String(bad)})`, () => call(bad));
        expect(e, name).toBeInstanceOf(TypeError);
        expect(e?.message, name).toMatch(name === 'PrivacyBudget.spend' ? /^cost must be an object/ : /^options must be an object/);
      }
    }
  });

  it('unknown option keys are refused with a TypeError naming the key and the allowed ones', () => {
    for (const [name, opts, call] of ENTRIES) {
      const e = checked(name, () => call({ ...opts, epsilonn: 1 }));
      expect(e, name).toBeInstanceOf(TypeError);
      expect(e?.message, name).toMatch(/^(options|cost) has an unknown key "epsilonn"; allowed keys: .*epsilon/);
      const hint = checked(name, () => call({ ...opts, Epsilon: 1 }));
      expect(hint?.message, name).toMatch(/unknown key "Epsilon" \(did you mean "epsilon"\?\)/);
    }
  });

  it('every option replaced by every weird value: a checked error naming that option, or a finite result', () => {
    let refused = 0;
    for (const [name, opts, call] of ENTRIES) {
      for (const key of Object.keys(opts)) {
        for (const bad of WEIRD) {
          const e = checked(`${name} ${key}=${String(bad)}`, () => call({ ...opts, [key]: bad }));
          if (e !== undefined) {
            refused++;
            expect(e.message, `${name} ${key}=${String(bad)}`).toMatch(new RegExp(`${key}|options`));
          }
        }
      }
    }
    expect(refused).toBeGreaterThan(300);
  });

  it('data arguments: weird values and array-likes with absurd lengths are refused before any allocation', () => {
    const calls: [string, (x: unknown) => unknown][] = [
      ['dpCount', (x) => dpCount(x as never, { epsilon: 1 })],
      ['dpSum', (x) => dpSum(x as never, { epsilon: 1, lower: 0, upper: 1 })],
      ['dpMean', (x) => dpMean(x as never, { epsilon: 1, lower: 0, upper: 1 })],
      ['dpVariance', (x) => dpVariance(x as never, { epsilon: 1, lower: 0, upper: 1 })],
      ['dpHistogram', (x) => dpHistogram(x as never, { epsilon: 1, lower: 0, upper: 1, bins: 2 })],
      ['dpQuantile', (x) => dpQuantile(x as never, { epsilon: 1, lower: 0, upper: 1, q: 0.5 })],
      ['addNoiseTo', (x) => laplaceMechanism({ epsilon: 1, sensitivity: 1 }).addNoiseTo(x as never)],
      ['gaussian addNoiseTo', (x) => gaussianMechanism({ epsilon: 1, delta: 1e-5, sensitivity: 1 }).addNoiseTo(x as never)],
      ['addNoise', (x) => laplaceMechanism({ epsilon: 1, sensitivity: 1 }).addNoise(x as never)],
      ['select', (x) => exponentialMechanism({ epsilon: 1, sensitivity: 1 }).select(x as never)],
      ['permuteAndFlip select', (x) => permuteAndFlip({ epsilon: 1, sensitivity: 1 }).select(x as never)],
      ['respond', (x) => randomizedResponse({ epsilon: 1 }).respond(x as never)],
      ['estimateCounts', (x) => randomizedResponse({ epsilon: 1 }).estimateCounts(x as never)],
      ['sampleLaplaceNoise', (x) => sampleLaplaceNoise(x as never, 1)],
      ['sampleGaussianNoise', (x) => sampleGaussianNoise(x as never, 1)],
    ];
    const extra: unknown[] = [[1, 2n], [1, Number.NaN], [1e308, -1e308], { length: 3, 0: 1, 1: 2, 2: 3 }, new Array(2 ** 32 - 1)];
    const cases = [...WEIRD, ...extra];
    calls.push(['noiseScale', (x) => laplaceMechanism({ epsilon: 1, sensitivity: 1 }).noiseScale(x as never)]);
    calls.push(['noiseSigma', (x) => gaussianMechanism({ epsilon: 1, delta: 1e-5, sensitivity: 1 }).noiseSigma(x as never)]);
    for (const [name, call] of calls) for (let i = 0; i < cases.length; i++) checked(`${name}(case ${i})`, () => call(cases[i]));
    expect(() => dpMean({ length: Number.NaN } as never, { epsilon: 1, lower: 0, upper: 1 })).toThrow(TypeError);
    expect(() => dpVariance({ length: Number.NaN } as never, { epsilon: 1, lower: 0, upper: 1 })).toThrow(/values must be an array/);
    expect(() => dpSum([1, 2n] as never, { epsilon: 1, lower: 0, upper: 1 })).toThrow(
      /values\[1\] must be a finite number, got 2n|values\[1\]/,
    );
  });

  it('samplers check rng, scale and sigma', () => {
    for (const bad of WEIRD) {
      if (bad === undefined) continue;
      for (const [name, f] of [
        ['sampleBernoulliExp', () => sampleBernoulliExp(0.5, bad as never)],
        ['sampleGeometric', () => sampleGeometric(2, bad as never)],
        ['sampleDiscreteLaplace', () => sampleDiscreteLaplace(2, bad as never)],
        ['sampleDiscreteGaussian', () => sampleDiscreteGaussian(2, bad as never)],
        ['fillDiscreteLaplace', () => fillDiscreteLaplace(new Float64Array(2), 2, bad as never)],
        ['fillDiscreteGaussian', () => fillDiscreteGaussian(new Float64Array(2), 2, bad as never)],
        ['sampleLaplaceNoise', () => sampleLaplaceNoise(new Float64Array(2), 2, bad as never)],
        ['sampleGaussianNoise', () => sampleGaussianNoise(new Float64Array(2), 2, bad as never)],
      ] as const) {
        const e = checked(`${name} rng=${String(bad)}`, f);
        expect(e?.message, name).toMatch(/^rng must be an Rng/);
      }
      checked(`sampleLaplaceNoise scale=${String(bad)}`, () => sampleLaplaceNoise(new Float64Array(2), bad as never));
      checked(`sampleGaussianNoise sigma=${String(bad)}`, () => sampleGaussianNoise(new Float64Array(2), bad as never));
    }
  });
});

describe('ranges whose results the code can represent (no Infinity or NaN)', () => {
  it('laplaceMechanism refuses a scale above 2^960 (sensitivity 1e308 used to return +-Infinity)', () => {
    expect(() => laplaceMechanism({ epsilon: 1, sensitivity: 1e308 })).toThrow(RangeError);
    expect(() => laplaceMechanism({ epsilon: 1, sensitivity: 1e308 })).toThrow(/sensitivity \/ epsilon must be at most 2\^960/);
    expect(() => laplaceMechanism({ epsilon: 1, sensitivity: 1 }).addNoise(1e308)).toThrow(/x must have magnitude at most 2\^1000/);
    expect(() => laplaceMechanism({ epsilon: 1, sensitivity: 1, clamp: [-1e308, 1e308] })).toThrow(/clamp/);
    const big = laplaceMechanism({ epsilon: 1, sensitivity: 2 ** 960, rng: seededTestRng('big') });
    for (let i = 0; i < 200; i++) expect(Number.isFinite(big.addNoise(2 ** 1000))).toBe(true);
    expect(sampleLaplaceNoise(new Float64Array(100), 2 ** 960, seededTestRng('s')).every(Number.isFinite)).toBe(true);
    expect(() => sampleLaplaceNoise(new Float64Array(1), 1e308)).toThrow(/scale/);
  });

  it('property: laplaceMechanism over a wide range of parameters either refuses with a RangeError or gives finite outputs', () => {
    const r = seededTestRng('laplace-range');
    fc.assert(
      fc.property(
        fc.integer({ min: -1074, max: 1023 }),
        fc.integer({ min: -60, max: 1023 }),
        fc.double({ min: -(2 ** 1000), max: 2 ** 1000, noNaN: true }),
        (s, e, x) => {
          const sensitivity = 2 ** s;
          const epsilon = 2 ** e;
          let lap: ReturnType<typeof laplaceMechanism>;
          try {
            lap = laplaceMechanism({ epsilon, sensitivity, rng: r });
          } catch (err) {
            return err instanceof RangeError && !ENGINE.test(err.message);
          }
          return Number.isFinite(lap.addNoise(x)) && Number.isFinite(lap.noiseScale(1));
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('property: gaussianMechanism has a finite positive rho and finite sigma, or refuses with a RangeError', () => {
    const r = seededTestRng('gauss-range');
    fc.assert(
      fc.property(
        fc.double({ min: 1e-300, max: 1e300, noNaN: true }),
        fc.double({ min: 1e-300, max: 0.999, noNaN: true }),
        fc.double({ min: 1e-300, max: 1e300, noNaN: true }),
        (epsilon, delta, sensitivity) => {
          let g: ReturnType<typeof gaussianMechanism>;
          try {
            g = gaussianMechanism({ epsilon, delta, sensitivity, rng: r });
          } catch (err) {
            return err instanceof RangeError && !ENGINE.test(err.message);
          }
          const { rho } = g.guarantee;
          return (
            Number.isFinite(rho) &&
            rho > 0 &&
            Number.isFinite(g.sigma) &&
            Number.isFinite(g.addNoise(1)) &&
            Number.isFinite(g.noiseSigma(3))
          );
        },
      ),
      { numRuns: 200, seed: 11 },
    );
    // extreme corners named in the issue
    for (const [epsilon, delta, sensitivity] of [
      [1, 1e-5, 1e300],
      [1, 1e-5, 1e-300],
      [1e300, 1e-5, 1],
      [1e-300, 1e-5, 1],
      [1e-300, 1e-300, 1e300],
      [700, 0.5, 1e-300],
    ]) {
      const e = checked(
        `gaussian ${epsilon} ${delta} ${sensitivity}`,
        () => gaussianMechanism({ epsilon, delta, sensitivity }).guarantee.rho,
      );
      if (e !== undefined) expect(e).toBeInstanceOf(RangeError);
    }
  });

  it('queries: bounds that would overflow the sum or the sum of squares are refused', () => {
    expect(() => dpSum(data, { epsilon: 1, lower: -1e308, upper: 1e308 })).toThrow(/lower and upper must have magnitude at most 2\^900/);
    expect(() => dpVariance(data, { epsilon: 1, lower: 0, upper: 2 ** 800 })).toThrow(/upper - lower must be at most 2\^451/);
    expect(() => dpHistogram(data, { epsilon: 1, lower: -1e308, upper: 1e308, bins: 3 })).toThrow(/magnitude at most 2\^1000/);
    const r = seededTestRng('q-range');
    const huge = new Float64Array(1000).fill(2 ** 900);
    expect(Number.isFinite(dpSum(huge, { epsilon: 2 ** -40, lower: -(2 ** 900), upper: 2 ** 900, rng: r }))).toBe(true);
    expect(Number.isFinite(dpMean(huge, { epsilon: 2 ** -40, lower: -(2 ** 900), upper: 2 ** 900, rng: r }))).toBe(true);
    expect(Number.isFinite(dpVariance(huge, { epsilon: 2 ** -40, lower: 0, upper: 2 ** 451, rng: r }))).toBe(true);
    expect(Number.isFinite(dpQuantile(huge, { epsilon: 1, q: 0.5, lower: -(2 ** 900), upper: 2 ** 900, rng: r }))).toBe(true);
  });

  it('selection and randomized response: extreme scores and epsilons are refused or give finite answers', () => {
    expect(() => exponentialMechanism({ epsilon: 1, sensitivity: 1 }).select([1e308, -1e308])).toThrow(/scores\[0\]/);
    expect(() => exponentialMechanism({ epsilon: 1e300, sensitivity: 1e-300 })).toThrow(/epsilon \/ sensitivity/);
    expect(() => randomizedResponse({ epsilon: 1e-300 })).toThrow(/epsilon must be a finite number >= 2\^-50/);
    const rr = randomizedResponse({ epsilon: 2 ** -50, categories: 2 });
    expect(rr.estimateCounts([2 ** 53, 2 ** 53]).every(Number.isFinite)).toBe(true);
    expect(randomizedResponse({ epsilon: 800 }).estimateCounts([3, 4]).every(Number.isFinite)).toBe(true);
    expect(() => rr.estimateCounts([1e308, 1e308])).toThrow(/reportedCounts\[0\]/);
  });
});

describe('budgets: checked, and never spent by a call that then fails', () => {
  it('a budget that is not a PrivacyBudget is a TypeError naming budget, before anything runs', () => {
    for (const bad of [{}, { spend: 1 }, { spend: () => undefined }, 1, 'b', null]) {
      expect(() => dpCount(data, { epsilon: 1, budget: bad as never })).toThrow(/^budget must be a PrivacyBudget/);
      expect(() => dpMean(data, { epsilon: 1, lower: 0, upper: 1, budget: bad as never })).toThrow(TypeError);
    }
  });

  it('validation of every argument happens before the spend: a failing call leaves the budget unchanged', () => {
    const budget = new PrivacyBudget({ epsilon: 1 });
    const bad: (() => unknown)[] = [
      () => dpSum([1, Number.NaN], { epsilon: 0.5, lower: 0, upper: 1, budget }),
      () => dpMean([1], { epsilon: 0.5, lower: 1, upper: 0, budget }),
      () => dpVariance([1], { epsilon: 0.5, lower: 0, upper: 2 ** 800, budget }),
      () => dpHistogram([1], { epsilon: 0.5, lower: 0, upper: 1, bins: 0, budget }),
      () => dpQuantile([1], { epsilon: 0.5, lower: 0, upper: 1, q: 2, budget }),
      () => dpCount([1], { epsilon: 0.5, budget, rng: {} as never }),
      () => dpCount([1], { epsilon: 0.5, budget, label: 3 as never }),
      () => dpCount([], { epsilon: 0.5, budget }),
      () => dpCount([1], { epsilon: 0.5, budget, extra: 1 } as never),
    ];
    for (const f of bad) expect(f).toThrow();
    expect(budget.ledger).toHaveLength(0);
    expect(budget.spent.epsilon).toBe(0);
  });

  it('a refused spend leaves the budget exactly as it was (ledger, spent, remaining)', () => {
    const budget = new PrivacyBudget({ epsilon: 1, delta: 1e-6, rho: 0.5 });
    budget.spend({ epsilon: 0.7, delta: 5e-7, rho: 0.2 }, 'first');
    const before = { spent: budget.spent, remaining: budget.remaining, ledger: budget.ledger };
    expect(() => budget.spend({ epsilon: 0.4 }, 'too much epsilon')).toThrow(PrivacyBudgetExceededError);
    expect(() => budget.spend({ epsilon: 0.1, delta: 6e-7, rho: 0.01 }, 'too much delta')).toThrow(
      /delta: spent 5e-7 \+ requested 6e-7 > cap 0.000001/,
    );
    expect(() => budget.spend({ epsilon: 0.1, delta: 0, rho: 0.4 }, 'too much rho')).toThrow(PrivacyBudgetExceededError);
    expect(() => dpCount(data, { epsilon: 0.4, budget })).toThrow(PrivacyBudgetExceededError);
    expect({ spent: budget.spent, remaining: budget.remaining, ledger: budget.ledger }).toEqual(before);
  });

  it('PrivacyBudgetExceededError checks its own arguments', () => {
    expect(() => new PrivacyBudgetExceededError({ __proto__: null } as never, {} as never)).toThrow(/^message must be a string/);
    expect(() => new PrivacyBudgetExceededError('m', null as never)).toThrow(/^options must be an object/);
  });

  it('PrivacyBudget.run checks compute before spending', () => {
    const budget = new PrivacyBudget({ epsilon: 1 });
    return expect(budget.run({ epsilon: 0.5 }, 'x', 1 as never))
      .rejects.toThrow(/^compute must be a function/)
      .then(() => {
        expect(budget.ledger).toHaveLength(0);
      });
  });
});
