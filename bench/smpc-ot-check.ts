// Benchmark of the KOS consistency check of IKNP OT extension in @ppml/smpc (Keller, Orsini and Scholl, CRYPTO
// 2015), one thread:
// - one extension batch of 2^20 OTs between one receiver and one sender (both ends' columns, transposition and
//   first 128-bit pads), unchecked (the baseline) and checked (KOS_PADDING more OTs, the seed, the receiver's
//   answer and the sender's verification): medians and the ratio checked / unchecked;
// - the checked cross products over Z_2^128 that SPDZ2k's offline phase runs (crossProducts128, yBits 128),
//   3 parties joined by MessageChannels in this thread, 2^14 items: items per second.
//
// Run: node_modules/.bin/node --expose-gc bench/smpc-ot-check.ts [--runs 7] [--items 16384]
import { ensureSourceCondition, median } from './support.ts';

ensureSourceCondition(import.meta.url);
const { IknpReceiver, IknpSender, KAPPA, tweakedPads } = await import('../packages/smpc/src/ot/iknp.ts');
const { ghashSum } = await import('../packages/smpc/src/ot/gf128.ts');
const { group } = await import('../packages/smpc/test/support/ot-group.ts');
const { randomBytes } = await import('node:crypto');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const RUNS = arg('runs', 7);
const ITEMS = arg('items', 2 ** 14);
const M = 2 ** 20;

const k0 = Array.from({ length: KAPPA }, () => new Uint8Array(randomBytes(16)));
const k1 = Array.from({ length: KAPPA }, () => new Uint8Array(randomBytes(16)));
const s = Uint8Array.from(randomBytes(KAPPA), (b) => b & 1);
const receiver = new IknpReceiver(k0, k1);
const sender = new IknpSender(
  s,
  k0.map((k, i) => (s[i] === 1 ? k1[i] : k)),
);
const choices = new Uint8Array(randomBytes(M / 8));

/** Collects garbage first when run with --expose-gc, so one batch's garbage is not charged to the next. */
const gc = (globalThis as { gc?: () => void }).gc;

/** The check's own work in the last checked batch: the sender's sum over its rows, the answer, the verification. */
let checkWork = 0;
let t0Shift = 0;

function batch(checked: boolean): number {
  gc?.();
  const t0 = performance.now();
  if (checked) {
    const r = receiver.extendRows(choices, M, { checked: true });
    const q = sender.extendRows(r.u, M, 1, { checked: true });
    const c0 = performance.now();
    q.verify(r.answer(q.seed));
    const c1 = performance.now();
    // The sender's sum inside extendRows, timed again on its rows (and left out of the batch's time).
    ghashSum(q.seed, new Uint8Array(q.rows.buffer));
    const c2 = performance.now();
    checkWork = c1 - c0 + (c2 - c1);
    t0Shift = c2 - c1;
    sender.pads128(q.rows, 0);
    tweakedPads(r.rows, 0);
  } else {
    const r = receiver.extendRows(choices, M);
    sender.pads128(sender.extendRows(r.u, M, 1), 0);
    tweakedPads(r.rows, 0);
  }
  return performance.now() - t0;
}

// Warm-up, then the two alternate so that machine noise hits both alike.
batch(false);
batch(true);
const plain: number[] = [];
const checked: number[] = [];
const work: number[] = [];
for (let r = 0; r < RUNS; r++) {
  plain.push(batch(false));
  checked.push(batch(true) - t0Shift);
  work.push(checkWork);
}
const mp = median(plain);
const mc = median(checked);
console.log(`IKNP batch of 2^20 OTs, one thread (median of ${RUNS}):`);
console.log(`  unchecked (baseline): ${mp.toFixed(1)} ms`);
const mw = median(work);
console.log(`  the check's own work (both ends): ${mw.toFixed(1)} ms, ${((mw / mp) * 100).toFixed(1)}% of the baseline`);
console.log(
  `  KOS-checked:          ${mc.toFixed(1)} ms   ratio ${(mc / mp).toFixed(3)} (check overhead ${((mc / mp - 1) * 100).toFixed(1)}%)`,
);

const g = group(3, 'bench-ot-check');
try {
  const words = (n: number): BigUint64Array => new BigUint64Array(randomBytes(8 * n).buffer);
  const inputs = g.pres.map(() => [words(ITEMS), words(ITEMS), words(ITEMS), words(ITEMS)]);
  const run = async (): Promise<number> => {
    gc?.();
    const t0 = performance.now();
    await Promise.all(g.pres.map((p, i) => p.crossProducts128(inputs[i][0], inputs[i][1], inputs[i][2], inputs[i][3], 128)));
    return performance.now() - t0;
  };
  await run(); // base OTs and warm-up
  const times: number[] = [];
  for (let r = 0; r < Math.max(3, RUNS >> 1); r++) times.push(await run());
  const t = median(times);
  console.log(
    `crossProducts128 (yBits 128, KOS-checked), 3 parties in one thread, ${ITEMS} items: ${t.toFixed(0)} ms, ${((ITEMS / t) * 1000).toFixed(0)} items/s`,
  );
} finally {
  g.close();
}
