// Benchmark of @ppml/smpc: 3 parties on worker threads, both protocols. Measures, on 1e6 elements by default:
// fixed-point multiplications per second (with truncation), comparisons per second, logistic regression
// inference rows per second (20 features), and the rounds and bytes per element of each operation. Online
// phase only (dealer material is generated first with session.preprocess, and timed separately). Medians of
// several runs after warm-up; the baseline is the same computation on plaintext Float64Arrays in this process.
// Replicated sharing runs twice: dealer-free (the default: the parties make truncation pairs, edaBits and daBits
// themselves) and with the trusted dealer; the offline phase's rate, rounds and bytes per element compare them.
//
// Run: node_modules/.bin/node bench/smpc.ts [--n 1000000] [--rows 100000] [--runs 5]
// The last line is machine-readable: SMPC_RESULTS {"mulPerSec":..., "cmpPerSec":..., "lrRowsPerSec":..., ...}
import { ensureSourceCondition, median } from './support.ts';

// Run against the sources (no build needed): re-launch with the workspace's source condition if it is missing.
ensureSourceCondition(import.meta.url);
const { SmpcSession, logisticRegressionPredict } = await import('@ppml/smpc');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const N = arg('n', 1_000_000);
const ROWS = arg('rows', 100_000);
const RUNS = arg('runs', 5);
const FEATURES = 20;

function random(n: number, scale: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (Math.random() - 0.5) * 2 * scale;
  return out;
}

/** Plaintext baseline in this process: element-wise product, comparison, logistic regression inference. */
function plaintext(x: Float64Array, y: Float64Array, rows: Float64Array, w: Float64Array): { mul: number; cmp: number; lr: number } {
  const n = x.length;
  const out = new Float64Array(n);
  const time = (fn: () => void): number => {
    fn();
    const ts: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      fn();
      ts.push(performance.now() - t);
    }
    return median(ts) / 1000;
  };
  const mul =
    n /
    time(() => {
      for (let i = 0; i < n; i++) out[i] = x[i] * y[i];
    });
  const cmp =
    n /
    time(() => {
      for (let i = 0; i < n; i++) out[i] = x[i] < y[i] ? 1 : 0;
    });
  const r = rows.length / FEATURES;
  const lr =
    r /
    time(() => {
      for (let i = 0; i < r; i++) {
        let z = 0;
        for (let j = 0; j < FEATURES; j++) z += rows[i * FEATURES + j] * w[j];
        out[i] = 1 / (1 + Math.exp(-z));
      }
    });
  return { mul, cmp, lr };
}

interface ProtocolResult {
  protocol: string;
  dealer: 'trusted' | 'none';
  mulPerSec: number;
  cmpPerSec: number;
  lrRowsPerSec: number;
  preprocessMulPerSec: number;
  preprocessCmpPerSec: number;
  /** Offline phase per element: rounds of one preprocess call and bytes each party sent (0 with a dealer). */
  offline: Record<string, { rounds: number; bytesPerParty: number }>;
  perElement: Record<string, { rounds: number; bytesPerParty: number }>;
  maxMulError: number;
}

async function measure(
  protocol: 'replicated' | 'additive',
  dealer: 'trusted' | 'none',
  x: Float64Array,
  y: Float64Array,
  rows: Float64Array,
  w: Float64Array,
): Promise<ProtocolResult> {
  const session = await SmpcSession.start({ parties: 3, protocol, dealer, timeoutMs: 600_000 });
  try {
    const a = await session.share(0, x);
    const b = await session.share(1, y);
    // Warm-up: let TurboFan optimize every kernel on realistic sizes.
    for (let k = 0; k < 2; k++) {
      const w1 = session.sliceRows(a, 0, Math.min(65_536, x.length));
      const w2 = session.sliceRows(b, 0, Math.min(65_536, x.length));
      const outs = [session.mul(w1, w2), session.lessThan(w1, w2), session.sigmoid(w1)];
      await session.sync();
      session.free(w1, w2, ...outs);
    }
    const perElement: ProtocolResult['perElement'] = {};
    const record = (name: string, elements: number): void => {
      const s = session.stats().operations[name];
      if (!s || s.count === 0) return;
      perElement[name] = { rounds: s.rounds / s.count, bytesPerParty: Math.max(...s.bytesPerParty) / s.count / elements };
    };

    const offline: ProtocolResult['offline'] = {};
    const recordOffline = (name: string, elements: number): void => {
      const o = session.stats().offline;
      offline[name] = { rounds: o.rounds, bytesPerParty: Math.max(...o.bytesPerParty) / elements };
    };
    const mulTimes: number[] = [];
    const preTimes: number[] = [];
    let maxMulError = 0;
    for (let r = 0; r < RUNS; r++) {
      session.resetStats();
      let t = performance.now();
      await session.preprocess({ mul: N });
      preTimes.push(performance.now() - t);
      recordOffline('mul', N);
      session.resetStats();
      t = performance.now();
      const c = session.mul(a, b);
      await session.sync();
      mulTimes.push(performance.now() - t);
      record('mul', N);
      if (r === 0) {
        const got = await session.reveal(c);
        for (let i = 0; i < N; i++) maxMulError = Math.max(maxMulError, Math.abs(got[i] - x[i] * y[i]));
      }
      session.free(c);
    }

    const cmpTimes: number[] = [];
    const cmpPreTimes: number[] = [];
    for (let r = 0; r < Math.max(3, Math.ceil(RUNS / 2)); r++) {
      session.resetStats();
      const t0 = performance.now();
      await session.preprocess({ lessThan: N });
      cmpPreTimes.push(performance.now() - t0);
      recordOffline('lessThan', N);
      session.resetStats();
      const t = performance.now();
      const c = session.lessThan(a, b);
      await session.sync();
      cmpTimes.push(performance.now() - t);
      record('lessThan', N);
      session.free(c);
    }

    const rowCount = rows.length / FEATURES;
    const X = await session.share(2, rows, [rowCount, FEATURES]);
    const W = await session.share(0, w, [FEATURES, 1]);
    const lrTimes: number[] = [];
    for (let r = 0; r < Math.max(3, Math.ceil(RUNS / 2)); r++) {
      session.resetStats();
      await session.preprocess({ matmul: [{ m: rowCount, k: FEATURES, n: 1 }], sigmoid: rowCount });
      recordOffline('lrRow', rowCount);
      session.resetStats();
      const t = performance.now();
      const p = logisticRegressionPredict(session, X, W);
      await session.sync();
      lrTimes.push(performance.now() - t);
      record('matmul', rowCount);
      record('sigmoid', rowCount);
      session.free(p);
    }
    session.free(a, b, X, W);
    return {
      protocol,
      dealer,
      offline,
      preprocessCmpPerSec: N / (median(cmpPreTimes) / 1000),
      mulPerSec: N / (median(mulTimes) / 1000),
      cmpPerSec: N / (median(cmpTimes) / 1000),
      lrRowsPerSec: rowCount / (median(lrTimes) / 1000),
      preprocessMulPerSec: N / (median(preTimes) / 1000),
      perElement,
      maxMulError,
    };
  } finally {
    await session.close();
  }
}

const fmt = (v: number): string => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : v.toFixed(1));

console.log(
  `@ppml/smpc benchmark on Node ${process.version}: 3 parties, ${N} elements, LR ${ROWS} rows x ${FEATURES} features, median of ${RUNS} runs`,
);
const x = random(N, 100);
const y = random(N, 100);
const rows = random(ROWS * FEATURES, 2);
const w = random(FEATURES, 1);
const base = plaintext(x, y, rows, w);
const results: ProtocolResult[] = [];
const label = (r: ProtocolResult): string => (r.protocol === 'replicated' && r.dealer === 'trusted' ? 'replicated-dealer' : r.protocol);
for (const [protocol, dealer] of [
  ['replicated', 'none'],
  ['replicated', 'trusted'],
  ['additive', 'trusted'],
] as const) {
  const r = await measure(protocol, dealer, x, y, rows, w);
  results.push(r);
  console.log(`\n${protocol}, ${dealer === 'none' ? 'dealer-free' : 'trusted dealer'} (online phase)`);
  console.log(
    `  mul with truncation  ${fmt(r.mulPerSec)}/s   (goal >= 5 M/s; plaintext is ${(base.mul / r.mulPerSec).toFixed(0)}x faster; max error ${r.maxMulError.toExponential(2)})`,
  );
  console.log(`  lessThan             ${fmt(r.cmpPerSec)}/s   (goal >= 0.5 M/s; plaintext ${(base.cmp / r.cmpPerSec).toFixed(0)}x faster)`);
  console.log(
    `  LR inference         ${fmt(r.lrRowsPerSec)} rows/s   (goal >= 100 k; plaintext ${(base.lr / r.lrRowsPerSec).toFixed(0)}x faster)`,
  );
  const who = dealer === 'none' ? 'parties' : 'dealer';
  console.log(`  ${who}, mul material ${fmt(r.preprocessMulPerSec)}/s, lessThan material ${fmt(r.preprocessCmpPerSec)}/s (offline)`);
  for (const [name, s] of Object.entries(r.offline)) {
    console.log(
      `  offline ${name.padEnd(8)} ${String(s.rounds).padStart(3)} rounds per preprocess call, ${s.bytesPerParty.toFixed(1)} bytes per element per party`,
    );
  }
  for (const [name, s] of Object.entries(r.perElement)) {
    console.log(
      `  ${name.padEnd(10)} ${s.rounds.toFixed(0).padStart(3)} rounds, ${s.bytesPerParty.toFixed(1)} bytes per element per party`,
    );
  }
}
const [free, dealt] = results;
console.log(
  `\nreplicated, dealer-free / trusted dealer (same run): offline mul material ${(free.preprocessMulPerSec / dealt.preprocessMulPerSec).toFixed(2)}x, ` +
    `lessThan material ${(free.preprocessCmpPerSec / dealt.preprocessCmpPerSec).toFixed(2)}x; online mul ${(free.mulPerSec / dealt.mulPerSec).toFixed(2)}x, ` +
    `lessThan ${(free.cmpPerSec / dealt.cmpPerSec).toFixed(2)}x, LR ${(free.lrRowsPerSec / dealt.lrRowsPerSec).toFixed(2)}x`,
);
const best = results[0];
console.log(
  `SMPC_RESULTS ${JSON.stringify({
    protocol: best.protocol,
    parties: 3,
    elements: N,
    mulPerSec: Math.round(best.mulPerSec),
    cmpPerSec: Math.round(best.cmpPerSec),
    lrRowsPerSec: Math.round(best.lrRowsPerSec),
    plaintext: { mulPerSec: Math.round(base.mul), cmpPerSec: Math.round(base.cmp), lrRowsPerSec: Math.round(base.lr) },
    byProtocol: Object.fromEntries(
      results.map((r) => [
        label(r),
        {
          dealer: r.dealer,
          mulPerSec: Math.round(r.mulPerSec),
          cmpPerSec: Math.round(r.cmpPerSec),
          lrRowsPerSec: Math.round(r.lrRowsPerSec),
          preprocessMulPerSec: Math.round(r.preprocessMulPerSec),
          preprocessCmpPerSec: Math.round(r.preprocessCmpPerSec),
          offline: r.offline,
          perElement: r.perElement,
        },
      ]),
    ),
    dealerFreeVsDealer: {
      mulMaterial: results[0].preprocessMulPerSec / results[1].preprocessMulPerSec,
      cmpMaterial: results[0].preprocessCmpPerSec / results[1].preprocessCmpPerSec,
      mulOnline: results[0].mulPerSec / results[1].mulPerSec,
      cmpOnline: results[0].cmpPerSec / results[1].cmpPerSec,
      lrOnline: results[0].lrRowsPerSec / results[1].lrRowsPerSec,
    },
  })}`,
);
