import { SmpcSession } from '../src/index.ts';
const N = 1_000_000;
const x = new Float64Array(N).map(() => Math.random() * 20 - 10);
const protocol = (process.argv[2] ?? 'replicated') as 'replicated' | 'additive';
const s = await SmpcSession.start({ parties: 3, protocol });
const a = await s.share(0, x);
const b = await s.share(1, x);
for (let rep = 0; rep < 5; rep++) {
  await s.preprocess({ mul: N });
  const t = performance.now();
  const c = s.mul(a, b);
  await s.sync();
  console.log('mul', (performance.now() - t).toFixed(0));
  s.free(c);
}
await s.close();
