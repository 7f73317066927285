// Runs in Chromium (bundled by browser.test.ts): @ppml/dp's Laplace mechanism, computeEpsilon and a small
// trainDpSgd, @ppml/core's CSV parsing, and the Node-only parts' typed errors, from one bundle. Results go to
// `globalThis.result` for the test to read.
import { parseCsv, readCsv } from '@ppml/core';
import { computeEpsilon, laplaceMechanism, logisticRegression, trainDpSgd } from '@ppml/dp';
import { HeServer } from '@ppml/he';

function errorOf(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return `${e instanceof Error ? e.name : typeof e}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

async function run(): Promise<unknown> {
  const lap = laplaceMechanism({ epsilon: 1, sensitivity: 1 });
  const draws = Array.from({ length: 2000 }, () => lap.addNoise(0));
  const epsilon = computeEpsilon({ noiseMultiplier: 1.5, sampleRate: 0.04, steps: 2250, delta: 1e-5, accountant: 'rdp' });
  // Two well-separated classes in 2-D: y = 1 when x0 + x1 > 0.
  const x: Float64Array[] = [];
  const y: number[] = [];
  for (let i = 0; i < 400; i++) {
    const a = ((i * 7919) % 400) / 200 - 1;
    const b = ((i * 104729) % 400) / 200 - 1;
    x.push(Float64Array.of(a, b));
    y.push(a + b > 0 ? 1 : 0);
  }
  const t0 = performance.now();
  const trained = trainDpSgd({
    model: logisticRegression({ features: 2 }),
    x,
    y,
    epochs: 10,
    batchSize: 64,
    learningRate: 1,
    clipNorm: 1,
    targetEpsilon: 3,
    delta: 1e-5,
  });
  const ms = performance.now() - t0;
  const p = trained.model.predict(x);
  let correct = 0;
  for (let i = 0; i < y.length; i++) if ((p[i] > 0.5 ? 1 : 0) === y[i]) correct++;
  return {
    draws,
    epsilon,
    accuracy: correct / y.length,
    trainedEpsilon: trained.epsilon,
    trainMs: ms,
    csv: parseCsv('a,b\n1,"x,y"\n').rows,
    readCsvError: errorOf(() => readCsv('data.csv')),
    heServerError: await HeServer.create(new Uint8Array(0)).then(
      () => 'no error',
      (e: unknown) => String(e),
    ),
  };
}

const g = globalThis as unknown as { result?: unknown; failure?: string };
run().then(
  (r) => {
    g.result = r;
  },
  (e: unknown) => {
    g.failure = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
  },
);
