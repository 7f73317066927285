// Benchmark of @ppml/smpc: 3 parties on worker threads, both protocols. Measures, on 1e6 elements by default:
// fixed-point multiplications per second (with truncation), comparisons per second, logistic regression
// inference rows per second (20 features), and the rounds and bytes per element of each operation. Online
// phase only (dealer material is generated first with session.preprocess, and timed separately). Medians of
// several runs after warm-up; the baseline is the same computation on plaintext Float64Arrays in this process.
// Replicated sharing runs twice: dealer-free (the default: the parties make truncation pairs, edaBits and daBits
// themselves) and with the trusted dealer; the offline phase's rate, rounds and bytes per element compare them.
//
// Additive sharing's offline phase: dealer-free 64-bit triples per second by oblivious transfer against the dealer.
// Additive sharing with malicious security (SPDZ2k) against semi-honest dealer-free additive sharing, on
// --spdz-n elements and --spdz-rows LR rows (its offline phase is far slower), and its authenticated triples.
//
// Run: node_modules/.bin/node bench/smpc.ts [--n 1000000] [--rows 100000] [--runs 5] [--ot-triples 200000]
//      [--spdz-n 1000] [--spdz-rows 50] [--spdz-triples 16384]
// The last line is machine-readable: SMPC_RESULTS {"mulPerSec":..., "cmpPerSec":..., "lrRowsPerSec":..., ...}
import { ensureSourceCondition, median } from './support.ts';

// Run against the sources (no build needed): re-launch with the workspace's source condition if it is missing.
ensureSourceCondition(import.meta.url);
const { SmpcSession, logisticRegressionPredict } = await import('@ppml/smpc');
// Internal: the dealer's own functions, for the offline triple rate against the parties' OT generator.
const { dealMaterial, receiveMaterial } = await import('../packages/smpc/src/preprocessing.ts');

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

const OT_TRIPLES = arg('ot-triples', 200_000);

/** Dealer-free triples per second: one worker per party runs the additive OT generator on MessagePorts. */
async function measureOtTriples(
  parties: number,
  count: number,
  runs: number,
  authenticated = false,
): Promise<{ perSec: number; medianRunPerSec: number; setupMs: number; roundsPerBatch: number; bytesPerTriple: number }> {
  const { MessageChannel, Worker } = await import('node:worker_threads');
  const src = new URL('../packages/smpc/src/', import.meta.url).href;
  // The party's loop, evaluated in each worker: base OTs (first request), then `runs` timed batches.
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const { MessagePortTransport } = await import('${src}transport/message-port.ts');
      const { MaterialPool } = await import('${src}preprocessing.ts');
      const { Channel } = await import('${src}protocols/protocol.ts');
      const { AdditiveProtocol } = await import('${src}protocols/additive.ts');
      const { AdditivePreprocessing } = await import('${src}protocols/additive-preprocessing.ts');
      const t = new MessagePortTransport(workerData.party, workerData.ports);
      const ch = new Channel(t, new MaterialPool(null));
      const { Spdz2kProtocol } = await import('${src}protocols/spdz2k.ts');
      const pre = new AdditivePreprocessing(ch, new AdditiveProtocol(ch));
      // SPDZ2k: authenticated 128-bit triples checked by sacrifice; otherwise semi-honest 64-bit triples.
      const spdz = workerData.authenticated ? new Spdz2kProtocol(ch, pre) : null;
      // prepareTriples tops the store up to a count (nothing consumes it here): ask for the running total.
      let total = 0;
      const make = (n) => (spdz ? spdz.prepareTriples(0, (total += n)) : pre.generate({ key: 'triple', kind: 'triple', count: n }));
      let t0 = performance.now();
      await make(64);
      const setupMs = performance.now() - t0;
      const times = [];
      let rounds = 0;
      let bytes = 0;
      let start = 0;
      for (let r = 0; r < workerData.runs + 1; r++) {
        const r0 = ch.rounds;
        const b0 = t.bytesSent;
        t0 = performance.now();
        if (r === 1) start = performance.timeOrigin + t0;
        await make(workerData.count);
        if (r > 0) times.push(performance.now() - t0);
        rounds = ch.rounds - r0;
        bytes = t.bytesSent - b0;
      }
      const end = performance.timeOrigin + performance.now();
      parentPort.postMessage({ times, setupMs, rounds, bytes, start, end });
      t.close();
    })();
  `;
  const ports: (import('node:worker_threads').MessagePort | null)[][] = Array.from({ length: parties }, () => Array(parties).fill(null));
  for (let i = 0; i < parties; i++) {
    for (let j = i + 1; j < parties; j++) {
      const c = new MessageChannel();
      ports[i][j] = c.port1;
      ports[j][i] = c.port2;
    }
  }
  const results = await Promise.all(
    ports.map(
      (p, party) =>
        new Promise<{ times: number[]; setupMs: number; rounds: number; bytes: number; start: number; end: number }>((resolve, reject) => {
          const transfer = p.filter((x) => x !== null);
          const w = new Worker(code, { eval: true, workerData: { party, ports: p, count, runs, authenticated }, transferList: transfer });
          w.once('message', (m) => {
            resolve(m);
            void w.terminate();
          });
          w.once('error', reject);
        }),
    ),
  );
  // The parties run their batches back to back, so one party's batch can overlap another's: the rate is the
  // triples of all timed runs over the wall time from the first party's start to the last party's end.
  const wall = Math.max(...results.map((x) => x.end)) - Math.min(...results.map((x) => x.start));
  const perRun = results[0].times.map((_, r) => Math.max(...results.map((x) => x.times[r])));
  const batches = Math.ceil(count / 16_384);
  return {
    perSec: (count * runs) / (wall / 1000),
    medianRunPerSec: count / (median(perRun) / 1000),
    setupMs: Math.max(...results.map((x) => x.setupMs)),
    roundsPerBatch: results[0].rounds / batches,
    bytesPerTriple: results[0].bytes / count,
  };
}

/** Trusted-dealer triples per second: the dealer's work plus every party's expansion, on this thread. */
function measureDealerTriples(parties: number, count: number, runs: number): number {
  const times: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    const t0 = performance.now();
    const msgs = dealMaterial({ key: 'triple', kind: 'triple', count }, parties, false);
    for (let p = 0; p < parties; p++) receiveMaterial(msgs[p], p, parties, false);
    if (r > 0) times.push(performance.now() - t0);
  }
  return count / (median(times) / 1000);
}

interface ProtocolResult {
  protocol: string;
  dealer: 'trusted' | 'none';
  security: 'semi-honest' | 'malicious';
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
  security: 'semi-honest' | 'malicious' = 'semi-honest',
  warm = 65_536,
): Promise<ProtocolResult> {
  const N = x.length;
  const session = await SmpcSession.start({ parties: 3, protocol, dealer, timeoutMs: 600_000, security });
  try {
    const a = await session.share(0, x);
    const b = await session.share(1, y);
    // Warm-up: let TurboFan optimize every kernel on realistic sizes.
    for (let k = 0; k < 2; k++) {
      const w1 = session.sliceRows(a, 0, Math.min(warm, x.length));
      const w2 = session.sliceRows(b, 0, Math.min(warm, x.length));
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
      security,
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
const label = (r: ProtocolResult): string =>
  r.security === 'malicious'
    ? 'replicated-malicious'
    : r.protocol === 'replicated' && r.dealer === 'trusted'
      ? 'replicated-dealer'
      : r.protocol;
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
// Malicious security with abort (replicated, dealer-free): the same online work, every opening redundant and
// every product checked with a verified triple; offline, the cut-and-bucket verification of the triples.
const malicious = await measure('replicated', 'none', x, y, rows, w, 'malicious');
results.push(malicious);
console.log('\nreplicated, dealer-free, malicious security with abort (online phase; checks before every reveal)');
console.log(`  mul with truncation  ${fmt(malicious.mulPerSec)}/s   (max error ${malicious.maxMulError.toExponential(2)})`);
console.log(`  lessThan             ${fmt(malicious.cmpPerSec)}/s`);
console.log(`  LR inference         ${fmt(malicious.lrRowsPerSec)} rows/s`);
console.log(
  `  parties, mul material + verified triples ${fmt(malicious.preprocessMulPerSec)}/s, lessThan ${fmt(malicious.preprocessCmpPerSec)}/s (offline)`,
);
for (const [name, s] of Object.entries(malicious.offline)) {
  console.log(
    `  offline ${name.padEnd(8)} ${String(s.rounds).padStart(3)} rounds per preprocess call, ${s.bytesPerParty.toFixed(1)} bytes per element per party`,
  );
}
for (const [name, s] of Object.entries(malicious.perElement)) {
  console.log(`  ${name.padEnd(10)} ${s.rounds.toFixed(0).padStart(3)} rounds, ${s.bytesPerParty.toFixed(1)} bytes per element per party`);
}
const slow = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
console.log(
  `\nmalicious / semi-honest slowdown, online, same run (goal <= 3x): mul ${slow(free.mulPerSec, malicious.mulPerSec)}, ` +
    `lessThan ${slow(free.cmpPerSec, malicious.cmpPerSec)}, LR ${slow(free.lrRowsPerSec, malicious.lrRowsPerSec)}; ` +
    `offline mul material ${slow(free.preprocessMulPerSec, malicious.preprocessMulPerSec)}, lessThan material ${slow(free.preprocessCmpPerSec, malicious.preprocessCmpPerSec)}`,
);
// Offline phase of additive sharing: 64-bit Beaver triples per second made by the 3 parties themselves (dealer-free,
// oblivious transfer: base OTs, IKNP extension, Gilboa products; one worker thread per party) against the
// trusted dealer's rate (dealing plus the parties' expansion, on this thread), medians of RUNS, same run.
const otTriples = await measureOtTriples(3, OT_TRIPLES, RUNS);
const dealerTriples = measureDealerTriples(3, OT_TRIPLES, RUNS);
console.log(`\noffline: triples/s dealer-free (OT) vs dealer (additive, 3 parties, ${OT_TRIPLES} 64-bit triples per run)`);
console.log(
  `  dealer-free (OT)     ${fmt(otTriples.perSec)}/s   (goal >= 100 k/s; all runs over wall time; median run ${fmt(otTriples.medianRunPerSec)}/s; base OTs once: ${otTriples.setupMs.toFixed(0)} ms)`,
);
console.log(`  trusted dealer       ${fmt(dealerTriples)}/s   (dealer / OT: ${(dealerTriples / otTriples.perSec).toFixed(1)}x)`);
console.log(
  `  per triple: ${otTriples.roundsPerBatch} rounds per batch of up to 16384, ${otTriples.bytesPerTriple.toFixed(0)} bytes sent per party`,
);

// Malicious security for additive sharing (SPDZ2k: MACs over Z_2^128, authenticated material made by the parties
// by OT, checked by sacrifice): online against semi-honest dealer-free additive sharing on the same (smaller)
// sizes, and the authenticated triples' rate against the semi-honest OT triples'.
const SPDZ_N = arg('spdz-n', 1000);
const SPDZ_ROWS = arg('spdz-rows', 50);
const xs = x.subarray(0, SPDZ_N);
const ys = y.subarray(0, SPDZ_N);
const rowsS = rows.subarray(0, SPDZ_ROWS * FEATURES);
const addFree = await measure('additive', 'none', xs, ys, rowsS, w, 'semi-honest', 64);
const spdz = await measure('additive', 'none', xs, ys, rowsS, w, 'malicious', 64);
console.log(`
additive, dealer-free, ${SPDZ_N} elements, LR ${SPDZ_ROWS} rows: semi-honest vs malicious (SPDZ2k) (online phase)`);
for (const [name, r] of [
  ['semi-honest', addFree],
  ['SPDZ2k', spdz],
] as const) {
  console.log(
    `  ${name.padEnd(12)} mul ${fmt(r.mulPerSec)}/s, lessThan ${fmt(r.cmpPerSec)}/s, LR ${fmt(r.lrRowsPerSec)} rows/s; ` +
      `offline mul material ${fmt(r.preprocessMulPerSec)}/s, lessThan material ${fmt(r.preprocessCmpPerSec)}/s`,
  );
  for (const [op, st] of Object.entries(r.perElement)) {
    console.log(
      `    ${op.padEnd(10)} ${st.rounds.toFixed(0).padStart(3)} rounds, ${st.bytesPerParty.toFixed(1)} bytes per element per party`,
    );
  }
  for (const [op, st] of Object.entries(r.offline)) {
    console.log(
      `    offline ${op.padEnd(8)} ${String(st.rounds).padStart(4)} rounds, ${st.bytesPerParty.toFixed(0)} bytes per element per party`,
    );
  }
}
console.log(
  `  SPDZ2k / semi-honest slowdown, online (goal <= 3x): mul ${slow(addFree.mulPerSec, spdz.mulPerSec)}, ` +
    `lessThan ${slow(addFree.cmpPerSec, spdz.cmpPerSec)}, LR ${slow(addFree.lrRowsPerSec, spdz.lrRowsPerSec)}; offline mul material ` +
    `${slow(addFree.preprocessMulPerSec, spdz.preprocessMulPerSec)}, lessThan material ${slow(addFree.preprocessCmpPerSec, spdz.preprocessCmpPerSec)}`,
);
const authTriples = await measureOtTriples(3, Math.min(OT_TRIPLES, arg('spdz-triples', 16_384)), RUNS, true);
console.log(
  `  SPDZ2k authenticated 128-bit triples (sacrificed) ${fmt(authTriples.perSec)}/s against semi-honest 64-bit OT triples ${fmt(otTriples.perSec)}/s ` +
    `(${(otTriples.perSec / authTriples.perSec).toFixed(1)}x); ${authTriples.bytesPerTriple.toFixed(0)} bytes sent per triple per party`,
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
    maliciousSlowdown: {
      mulOnline: free.mulPerSec / malicious.mulPerSec,
      cmpOnline: free.cmpPerSec / malicious.cmpPerSec,
      lrOnline: free.lrRowsPerSec / malicious.lrRowsPerSec,
    },
    spdz2k: {
      elements: SPDZ_N,
      slowdown: {
        mulOnline: addFree.mulPerSec / spdz.mulPerSec,
        cmpOnline: addFree.cmpPerSec / spdz.cmpPerSec,
        lrOnline: addFree.lrRowsPerSec / spdz.lrRowsPerSec,
      },
      mulPerSec: Math.round(spdz.mulPerSec),
      cmpPerSec: Math.round(spdz.cmpPerSec),
      lrRowsPerSec: Math.round(spdz.lrRowsPerSec),
      authenticatedTriplesPerSec: Math.round(authTriples.perSec),
      perElement: spdz.perElement,
      offline: spdz.offline,
    },
    additiveOfflineTriples: {
      otPerSec: Math.round(otTriples.perSec),
      dealerPerSec: Math.round(dealerTriples),
      bytesPerTriple: otTriples.bytesPerTriple,
    },
    dealerFreeVsDealer: {
      mulMaterial: results[0].preprocessMulPerSec / results[1].preprocessMulPerSec,
      cmpMaterial: results[0].preprocessCmpPerSec / results[1].preprocessCmpPerSec,
      mulOnline: results[0].mulPerSec / results[1].mulPerSec,
      cmpOnline: results[0].cmpPerSec / results[1].cmpPerSec,
      lrOnline: results[0].lrRowsPerSec / results[1].lrRowsPerSec,
    },
  })}`,
);
