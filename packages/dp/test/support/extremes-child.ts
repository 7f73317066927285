/**
 * Child script of accountant-extremes.test.ts: each case must return a value or throw a RangeError/TypeError
 * quickly; the parent's watchdog catches a hang. Prints one "ok <case> <outcome>" line per case.
 */
import {
  PldAccountant,
  RdpAccountant,
  calibrateNoiseMultiplier,
  computeEpsilon,
  dpSgdEvent,
  laplaceEvent,
  sampledGaussianRdp,
} from '../../src/accountant/index.ts';
import { logisticRegression, trainDpSgd } from '../../src/sgd/index.ts';

const x = [
  [1, 0],
  [0, 1],
  [1, 1],
  [0, 0],
];
const y = [1, 0, 1, 0];
const train = { model: logisticRegression({ features: 2 }), x, y, learningRate: 0.1, clipNorm: 1, delta: 1e-5 };
const cases: Array<[string, () => unknown]> = [
  [
    'computeEpsilon rdp sigma 1e308',
    () => computeEpsilon({ noiseMultiplier: 1e308, sampleRate: 0.01, steps: 100, delta: 1e-5, accountant: 'rdp' }),
  ],
  [
    'computeEpsilon pld sigma 1e308',
    () => computeEpsilon({ noiseMultiplier: 1e308, sampleRate: 0.01, steps: 100, delta: 1e-5, accountant: 'pld' }),
  ],
  [
    'compose sigma 1e308',
    () => [
      new RdpAccountant().compose(dpSgdEvent({ noiseMultiplier: 1e308, sampleRate: 0.01, steps: 100 })).getEpsilon(1e-5),
      new PldAccountant().compose(dpSgdEvent({ noiseMultiplier: 1e308, sampleRate: 0.01, steps: 100 })).getEpsilon(1e-5),
    ],
  ],
  [
    'sampledGaussianRdp orders 2, 1e9, 2^40+0.5',
    () => [...sampledGaussianRdp({ sampleRate: 0.01, noiseMultiplier: 1, orders: [2, 1e9, 2 ** 40 + 0.5] })],
  ],
  [
    'computeEpsilon orders 32, 1e9',
    () => computeEpsilon({ noiseMultiplier: 1, sampleRate: 0.01, steps: 100, delta: 1e-5, accountant: 'rdp', orders: [32, 1e9] }),
  ],
  ['pld laplace b 1e308', () => new PldAccountant().compose(laplaceEvent(1e308), 100).getEpsilon(1e-5)],
  [
    'calibrate target 1.79e308',
    () => calibrateNoiseMultiplier({ targetEpsilon: 1.79e308, delta: 1e-5, sampleRate: 0.01, steps: 100, accountant: 'rdp' }),
  ],
  [
    'trainDpSgd sigma 1e308',
    () => trainDpSgd({ ...train, model: logisticRegression({ features: 2 }), epochs: 1, batchSize: 2, noiseMultiplier: 1e308 }).epsilon,
  ],
  [
    'trainDpSgd sigma 1e-320',
    () => trainDpSgd({ ...train, model: logisticRegression({ features: 2 }), epochs: 1, batchSize: 2, noiseMultiplier: 1e-320 }).epsilon,
  ],
  [
    'trainDpSgd sampleRate 1e-320',
    () => trainDpSgd({ ...train, model: logisticRegression({ features: 2 }), epochs: 1, sampleRate: 1e-320, noiseMultiplier: 1 }).epsilon,
  ],
  [
    'trainDpSgd epochs 2^31',
    () =>
      trainDpSgd({ ...train, model: logisticRegression({ features: 2 }), epochs: 2147483648, batchSize: 2, noiseMultiplier: 1 }).epsilon,
  ],
  [
    'computeEpsilon sigma 1e-320',
    () => computeEpsilon({ noiseMultiplier: 1e-320, sampleRate: 0.01, steps: 100, delta: 1e-5, accountant: 'rdp' }),
  ],
];
for (const [name, f] of cases) {
  let outcome: string;
  try {
    outcome = `value ${JSON.stringify(f())}`;
  } catch (e) {
    if (!(e instanceof RangeError || e instanceof TypeError)) throw e;
    outcome = `${e.name}: ${e.message}`;
  }
  console.log(`ok ${name}: ${outcome}`);
}
