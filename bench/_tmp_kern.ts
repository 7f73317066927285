import { ensureSourceCondition, median } from './support.ts';
ensureSourceCondition(import.meta.url);
const core = await import('@ppml/core');
const nw = await import('../packages/dp/src/sgd/network.ts');
const old = await import('../packages/dp/src/sgd/_tmp_network_old.ts');
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
for (const B of [46, 256]) {
  const mk = (m: typeof nw) => m.mlp({ sizes: [30, 64, 64, 1], activation: 'relu', rng: core.seededTestRng(1) });
  const a = mk(nw), b = mk(old as unknown as typeof nw);
  const rng = core.seededTestRng('x');
  const x = Float64Array.from({ length: B * 30 }, () => 2 * core.uniformDouble(rng) - 1);
  const y = Float64Array.from({ length: B }, (_, i) => i % 2);
  const g1 = new Float64Array(6209), g2 = new Float64Array(6209);
  const sq = new Float64Array(B * 3); const w = new Float64Array(B).fill(0.7);
  const run = (m: typeof a, g: Float64Array, dp: boolean) => { m.forwardBackward(x, y, B); if (dp) m.perSampleSquaredNorms(sq); m.accumulateGradient(dp ? w : null, false, g); };
  run(a, g1, true); run(b, g2, true);
  let same = true; for (let k = 0; k < 6209; k++) if (g1[k] !== g2[k]) same = false;
  console.log('bit-identical', same);
  const reps = B === 46 ? 400 : 80;
  const ta: number[] = [], tb: number[] = [];
  for (let r = 0; r < 9; r++) {
    let t = cpu(); for (let k = 0; k < reps; k++) run(a, g1, true); ta.push((cpu() - t) / reps);
    t = cpu(); for (let k = 0; k < reps; k++) run(b, g2, true); tb.push((cpu() - t) / reps);
  }
  console.log(`B=${B} new ${median(ta).toFixed(3)} ms/step, old ${median(tb).toFixed(3)} ms/step, speedup ${(median(tb) / median(ta)).toFixed(2)}x`);
}
