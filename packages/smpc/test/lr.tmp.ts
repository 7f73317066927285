import { SmpcSession, logisticRegressionPredict } from '../src/index.ts';
const R = 100_000, D = 20;
const rows = new Float64Array(R * D).map(() => Math.random() * 4 - 2);
const w = new Float64Array(D).map(() => Math.random() * 2 - 1);
const protocol = (process.argv[2] ?? 'replicated') as 'replicated' | 'additive';
const s = await SmpcSession.start({ parties: 3, protocol });
const X = await s.share(2, rows, [R, D]);
const W = await s.share(0, w, [D, 1]);
for (let rep = 0; rep < 4; rep++) {
  let t = performance.now();
  await s.preprocess({ matmul: [{ m: R, k: D, n: 1 }], sigmoid: R });
  const tp = performance.now() - t;
  s.resetStats();
  t = performance.now();
  const p = logisticRegressionPredict(s, X, W);
  await s.sync();
  const tm = performance.now() - t;
  console.log(protocol, 'pre', tp.toFixed(0), 'lr', tm.toFixed(0), 'ms', (R / tm).toFixed(1), 'k rows/s', 'requests', s.stats().offline.requests);
  s.free(p);
}
await s.close();
