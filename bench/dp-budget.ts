// Privacy budget ledgers, in one run:
// - spends per second of a budget in memory, in a SQLite file (`PrivacyBudget.open`) and in PostgreSQL
//   (`openPostgresBudget`, a throwaway server started here on 127.0.0.1 when the binaries are installed), each
//   composing with PLD (the default) and, as the baseline, the in-memory budget under basic composition
//   (exact decimal sums). Two workloads: Gaussian spends (merged exactly into one Gaussian) and alternating pure
//   spends of three different sizes (each one composed into the cached distribution with one convolution).
// - how the cost of one spend grows with the number already recorded (PLD, alternating pure spends): median
//   time of a spend after N spends, and its ratio to the cost after the first checkpoint. The composed
//   distribution is cached, so this grows with the width of the privacy-loss distribution (about sqrt(N)),
//   not with N.
//
// Usage (repository root): node_modules/.bin/node bench/dp-budget.ts [--quick]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSourceCondition, median } from './support.ts';

ensureSourceCondition(import.meta.url);

const dp = await import('@ppml/dp');
const { findPostgresBin, startPostgres } = await import('../packages/dp/test/support/postgres.ts');
const quick = process.argv.includes('--quick');
const SPENDS = quick ? 100 : 300;
const REPS = quick ? 2 : 3;
const CHECKPOINTS = quick ? [10, 100, 500] : [10, 100, 1000, 3000];

type Cost = { epsilon?: number; delta?: number; event?: ReturnType<typeof dp.gaussianEvent> | ReturnType<typeof dp.epsilonDeltaEvent> };
const caps = { epsilon: 100, delta: 1e-6 };
const gaussian = (): Cost => ({ event: dp.gaussianEvent(50) });
const pure = (i: number): Cost => ({ epsilon: [0.01, 0.011, 0.012][i % 3] });

interface Spender {
  spend(cost: Cost, label: string): unknown;
  close(): unknown;
}

/** Spends per second of `n` spends (awaited one after another). */
async function rate(open: () => Promise<Spender>, cost: (i: number) => Cost, n: number): Promise<number> {
  const b = await open();
  try {
    await b.spend(cost(0), 'warm-up');
    const t0 = performance.now();
    for (let i = 1; i <= n; i++) await b.spend(cost(i), `q${i}`);
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await b.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ppml-bench-budget-'));
let fileNo = 0;
const memory = (accountant: 'basic' | 'pld') => async (): Promise<Spender> => {
  const b = new dp.PrivacyBudget({ ...caps, accountant });
  return { spend: (c, l) => b.spend(c, l), close: () => {} };
};
const sqlite = async (): Promise<Spender> => {
  const b = await dp.PrivacyBudget.open({ path: join(dir, `b${fileNo++}.db`), ...caps });
  return { spend: (c, l) => b.spend(c, l), close: () => b.close() };
};
let server: Awaited<ReturnType<typeof startPostgres>> | undefined;
if (findPostgresBin() !== undefined) server = await startPostgres();
let pgNo = 0;
const postgres = async (): Promise<Spender> => {
  if (server === undefined) throw new Error('no PostgreSQL');
  const b = await dp.openPostgresBudget({ connection: server.url, name: `b${pgNo++}`, ...caps });
  return { spend: (c, l) => b.spend(c, l), close: () => b.close() };
};

const cases: Array<{ name: string; open: () => Promise<Spender>; cost: (i: number) => Cost }> = [
  { name: 'in memory, basic composition (baseline)', open: memory('basic'), cost: pure },
  { name: 'in memory, PLD, Gaussian spends', open: memory('pld'), cost: gaussian },
  { name: 'in memory, PLD, alternating pure spends', open: memory('pld'), cost: pure },
  { name: 'SQLite file, PLD, Gaussian spends', open: sqlite, cost: gaussian },
  { name: 'SQLite file, PLD, alternating pure spends', open: sqlite, cost: pure },
  ...(server === undefined
    ? []
    : [
        { name: 'PostgreSQL, PLD, Gaussian spends', open: postgres, cost: gaussian },
        { name: 'PostgreSQL, PLD, alternating pure spends', open: postgres, cost: pure },
      ]),
];
try {
  const rates = cases.map(() => [] as number[]);
  const ratios = cases.map(() => [] as number[]);
  for (let r = 0; r < REPS; r++) {
    const now: number[] = [];
    for (const c of cases) now.push(await rate(c.open, c.cost, SPENDS));
    now.forEach((x, i) => {
      rates[i].push(x);
      ratios[i].push(x / now[0]);
    });
  }
  const w = Math.max(...cases.map((c) => c.name.length));
  console.log(`dp budget bench (Node ${process.version}, ${REPS} interleaved repetitions of ${SPENDS} spends, medians)`);
  console.log(`${'ledger'.padEnd(w)}  ${'spends/s'.padStart(10)}  rate/baseline`);
  cases.forEach((c, i) => {
    console.log(`${c.name.padEnd(w)}  ${median(rates[i]).toFixed(0).padStart(10)}  ${median(ratios[i]).toFixed(4)}`);
  });
  if (server === undefined) console.log('PostgreSQL: skipped (initdb/postgres not found)');

  // Growth of one spend's cost with the number of spends recorded (in memory, PLD, alternating pure spends).
  const b = new dp.PrivacyBudget({ ...caps, accountant: 'pld' });
  let done = 0;
  const rows: Array<{ n: number; ms: number }> = [];
  for (const n of CHECKPOINTS) {
    while (done < n) b.spend(pure(done), `fill ${done++}`);
    const times: number[] = [];
    for (let k = 0; k < 15; k++) {
      const t0 = performance.now();
      b.spend(pure(done), `probe ${done++}`);
      times.push(performance.now() - t0);
    }
    rows.push({ n, ms: median(times) });
  }
  console.log('cost of one PLD spend (alternating pure spends) after N recorded spends:');
  for (const r of rows) {
    console.log(
      `  N = ${String(r.n).padStart(5)}: ${r.ms.toFixed(3)} ms per spend (${(r.ms / rows[0].ms).toFixed(2)}x the cost at N = ${rows[0].n}; N grew ${(r.n / rows[0].n).toFixed(0)}x)`,
    );
  }
} finally {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}
