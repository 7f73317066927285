import { SmpcSession } from '../src/index.ts';
const N = 500_000;
const x = new Float64Array(N).map(() => Math.random() * 20 - 10);
for (const protocol of ['replicated'] as const) {
  const s = await SmpcSession.start({ parties: 3, protocol });
  const a = await s.share(0, x);
  for (let rep = 0; rep < 3; rep++) {
    let t = performance.now();
    await s.preprocess({ lessThan: N });
    const tp = performance.now() - t;
    t = performance.now();
    const c = s.lessThan(a, 0.5);
    await s.sync();
    console.log(protocol, 'pre', tp.toFixed(0), 'cmp', (performance.now() - t).toFixed(0), 'ms', (N / (performance.now() - t) / 1000).toFixed(3), 'M/s');
    s.free(c);
  }
  await s.close();
}
