// Benchmark of @ppml/smpc across processes: 3 parties, each its own process, over mutually authenticated TLS
// 1.3 on loopback (a dealer server in this process), next to the same operations on worker threads measured in
// the same run (the baseline). Replicated sharing, 16 fractional bits. It reports:
//   - online throughput on loopback: mul with truncation and lessThan on --n elements (default 10^6), LR inference
//     rows/s (--rows rows x 20 features), as TLS/worker ratios;
//   - with --latency ms (default 10) added per hop by a relay on every party link: --n multiplications and
//     --ncmp comparisons (default 10^5), as wall time;
//   - bytes per element per party: the payload counters (which equal the in-process counters) and the bytes
//     written to TLS with frame headers (framing overhead).
// Preprocessing (dealer material, or the parties' own: dealer-free and malicious runs) is generated first
// (session.preprocess) and not timed; every timing starts after a barrier
// (a small reveal) so that all parties start together. Medians of --runs runs after warm-up.
//
//   - additive sharing across processes, dealer-free, semi-honest against malicious (SPDZ2k), on --spdz-n
//     elements and --spdz-rows rows.
// Run: node_modules/.bin/node bench/smpc-network.ts [--n 1000000] [--ncmp 100000] [--rows 100000] [--runs 3] [--latency 10]
//      [--spdz-n 1000] [--spdz-rows 50] [--warm 65536]
// The last line is machine-readable: SMPC_NETWORK_RESULTS {...}
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { ensureSourceCondition, median } from './support.ts';

ensureSourceCondition(import.meta.url);
const { SmpcSession, generateIdentity, logisticRegressionPredict, startDealer } = await import('@ppml/smpc');
type Session = import('@ppml/smpc').SmpcSession;
type Tensor = import('@ppml/smpc').SecretTensor;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const N = arg('n', 1_000_000);
// The comparisons run on the first NCMP elements: at most N.
const NCMP = Math.min(arg('ncmp', 100_000), N);
const ROWS = arg('rows', 100_000);
const RUNS = arg('runs', 3);
const LATENCY = arg('latency', 10);
/** Warm-up elements (the SPDZ2k run passes a small count: its material is made during the warm-up). */
const WARM = arg('warm', 65_536);
const FEATURES = 20;

/** Deterministic inputs (the same in every process; each owner shares its own). */
function data(n: number, seed: number, scale: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

interface Figures {
  mul: number[];
  cmp: number[];
  lr: number[];
  /** Bytes per element per party (payload) of mul and lessThan, from session.stats(). */
  bytes: Record<string, number>;
  /** Framed bytes / payload bytes over the whole run (network only). */
  framing?: number;
  latencyMul?: number;
  latencyCmp?: number;
}

/** The measured program: the same in the worker-thread session and in each party process. */
async function program(session: Session, me: number, latencyOnly: boolean): Promise<Figures> {
  const share = (owner: number, values: Float64Array, rows: number, cols: number): Promise<Tensor> =>
    me < 0 || me === owner ? session.share(owner, values, [rows, cols]) : session.share(owner, { rows, cols });
  const barrier = async (t: Tensor): Promise<void> => {
    const s = session.sum(session.sliceRows(t, 0, 1));
    await session.reveal(s);
  };
  const out: Figures = { mul: [], cmp: [], lr: [], bytes: {} };
  const a = await share(0, me < 0 || me === 0 ? data(N, 1, 100) : new Float64Array(0), N, 1);
  const b = await share(1, me < 0 || me === 1 ? data(N, 2, 100) : new Float64Array(0), N, 1);
  const timed = async (plan: Parameters<Session['preprocess']>[0], run: () => Tensor, name: string, elements: number): Promise<number> => {
    await session.preprocess(plan);
    await barrier(a);
    session.resetStats();
    const t = performance.now();
    const c = run();
    await session.sync();
    const ms = performance.now() - t;
    const s = session.stats().operations[name];
    if (s && s.count > 0) out.bytes[name] = Math.max(...s.bytesPerParty) / s.count / elements;
    session.free(c);
    return ms;
  };
  if (latencyOnly) {
    const ac = session.sliceRows(a, 0, NCMP);
    const bc = session.sliceRows(b, 0, NCMP);
    out.latencyMul = await timed({ mul: N }, () => session.mul(a, b), 'mul', N);
    out.latencyCmp = await timed({ lessThan: NCMP }, () => session.lessThan(ac, bc), 'lessThan', NCMP);
    return out;
  }
  // Warm-up: TurboFan optimizes the kernels on realistic sizes.
  for (let k = 0; k < 2; k++) {
    const w1 = session.sliceRows(a, 0, Math.min(WARM, N));
    const w2 = session.sliceRows(b, 0, Math.min(WARM, N));
    const outs = [session.mul(w1, w2), session.lessThan(w1, w2), session.sigmoid(w1)];
    await session.sync();
    session.free(w1, w2, ...outs);
  }
  const before = session.stats().network;
  for (let r = 0; r < RUNS; r++) out.mul.push(await timed({ mul: N }, () => session.mul(a, b), 'mul', N));
  for (let r = 0; r < RUNS; r++) out.cmp.push(await timed({ lessThan: N }, () => session.lessThan(a, b), 'lessThan', N));
  const after = session.stats().network;
  if (before && after) out.framing = (after.framedBytes - before.framedBytes) / (after.payloadBytes - before.payloadBytes);
  const X = await share(2, me < 0 || me === 2 ? data(ROWS * FEATURES, 3, 2) : new Float64Array(0), ROWS, FEATURES);
  const W = await share(0, me < 0 || me === 0 ? data(FEATURES, 4, 1) : new Float64Array(0), FEATURES, 1);
  for (let r = 0; r < RUNS; r++) {
    out.lr.push(
      await timed(
        { matmul: [{ m: ROWS, k: FEATURES, n: 1 }], sigmoid: ROWS },
        () => logisticRegressionPredict(session, X, W),
        'sigmoid',
        ROWS,
      ),
    );
  }
  return out;
}

// ---- a party process ----
if (process.argv[2] === '--party') {
  const c = JSON.parse(process.argv[3] as string);
  const session = await SmpcSession.connect({ ...c.options, timeoutMs: 600_000 });
  try {
    const figures = await program(session, c.options.party, c.latencyOnly);
    if (c.options.party === 0) console.log(`FIGURES ${JSON.stringify(figures)}`);
  } finally {
    await session.close();
  }
  process.exit(0);
}

// ---- the coordinating process ----
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A relay that delays every chunk by `ms` in both directions (order kept): a WAN hop on loopback. */
async function delayRelay(target: number, ms: number): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const up = net.connect(target, '127.0.0.1');
    for (const s of [client, up]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => {});
      s.on('close', () => {
        client.destroy();
        up.destroy();
      });
    }
    client.on('data', (d: Buffer) => setTimeout(() => up.writable && up.write(d), ms));
    up.on('data', (d: Buffer) => setTimeout(() => client.writable && client.write(d), ms));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function overTls(
  latencyOnly: boolean,
  latency: number,
  withDealer = true,
  security: 'semi-honest' | 'malicious' = 'semi-honest',
  protocol: 'replicated' | 'additive' = 'replicated',
  /** Arguments placed before this run's own in each party (the first occurrence of an option wins). */
  first: string[] = [],
): Promise<Figures> {
  const ids = [0, 1, 2].map(() => generateIdentity());
  const dealerId = generateIdentity();
  const dealer = withDealer
    ? await startDealer({
        identity: dealerId,
        protocol: 'replicated',
        parties: ids.map((i) => ({ fingerprint: i.fingerprint })),
      })
    : null;
  const peers: { host: string; port: number; fingerprint: string }[] = [];
  for (const id of ids) peers.push({ host: '127.0.0.1', port: await freePort(), fingerprint: id.fingerprint });
  const relays = latency > 0 ? await Promise.all([1, 2].map((p) => delayRelay(peers[p].port, latency))) : [];
  try {
    const children = ids.map((identity, party) => {
      // Party i dials the higher parties: through the relays when latency is added.
      const view = peers.map((p, i) => (latency > 0 && i > party ? { ...p, port: relays[i - 1].port } : p));
      const options = {
        party,
        protocol,
        peers: view,
        identity,
        ...(dealer === null ? {} : { dealer: { host: '127.0.0.1', port: dealer.port, fingerprint: dealerId.fingerprint } }),
        ...(security === 'malicious' ? { security } : {}),
        sessionId: 'bench',
      };
      const child = spawn(
        process.execPath,
        [
          ...process.execArgv,
          fileURLToPath(import.meta.url),
          '--party',
          JSON.stringify({ options, latencyOnly }),
          ...first,
          ...process.argv.slice(2),
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      return new Promise<string>((resolve, reject) =>
        child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`party ${party} exited with ${code}`)))),
      );
    });
    const outs = await Promise.all(children);
    const line = outs[0].split('\n').find((l) => l.startsWith('FIGURES ')) as string;
    return JSON.parse(line.slice(8)) as Figures;
  } finally {
    for (const r of relays) r.close();
    await dealer?.close();
  }
}

const fmt = (v: number): string => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : v.toFixed(1));
console.log(
  `@ppml/smpc network benchmark on Node ${process.version}: 3 parties (replicated), ${N} elements, LR ${ROWS} rows x ${FEATURES} features, median of ${RUNS}`,
);
const workers = await SmpcSession.start({ parties: 3, protocol: 'replicated', timeoutMs: 600_000 });
let local: Figures;
try {
  local = await program(workers, -1, false);
} finally {
  await workers.close();
}
const tls = await overTls(false, 0);
const wan = await overTls(true, LATENCY);
// The same program across processes with no dealer (the parties make their material), and with malicious security.
const tlsFree = await overTls(false, 0, false);
const tlsMalicious = await overTls(false, 0, false, 'malicious');
// Additive sharing across processes, dealer-free: semi-honest against malicious (SPDZ2k), on --spdz-n elements and
// --spdz-rows rows (SPDZ2k's offline phase is far slower; it is made first and not timed).
const SPDZ_N = arg('spdz-n', 1000);
const SPDZ_ROWS = arg('spdz-rows', 50);
const small = ['--n', String(SPDZ_N), '--ncmp', String(SPDZ_N), '--rows', String(SPDZ_ROWS), '--warm', '32'];
const tlsAdditive = await overTls(false, 0, false, 'semi-honest', 'additive', small);
const tlsSpdz = await overTls(false, 0, false, 'malicious', 'additive', small);
const rate = (elements: number, ms: number[]): number => elements / (median(ms) / 1000);
const rows = [
  ['mul with truncation', rate(N, local.mul), rate(N, tls.mul), '/s'],
  ['lessThan', rate(N, local.cmp), rate(N, tls.cmp), '/s'],
  ['LR inference', rate(ROWS, local.lr), rate(ROWS, tls.lr), ' rows/s'],
] as const;
console.log('\nonline phase, loopback           worker threads    TLS processes    TLS / workers');
for (const [name, w, t, unit] of rows)
  console.log(`  ${name.padEnd(30)} ${(fmt(w) + unit).padStart(14)}   ${(fmt(t) + unit).padStart(14)}   ${(t / w).toFixed(2)}`);
console.log('\nacross processes, loopback       dealer-free      malicious        dealer-free / dealer   malicious / dealer-free');
for (const [name, get, elements, unit] of [
  ['mul with truncation', (f: Figures) => f.mul, N, '/s'],
  ['lessThan', (f: Figures) => f.cmp, N, '/s'],
  ['LR inference', (f: Figures) => f.lr, ROWS, ' rows/s'],
] as const) {
  const d = rate(elements, get(tls));
  const free = rate(elements, get(tlsFree));
  const mal = rate(elements, get(tlsMalicious));
  console.log(
    `  ${name.padEnd(30)} ${(fmt(free) + unit).padStart(14)}   ${(fmt(mal) + unit).padStart(14)}   ${(free / d).toFixed(2).padStart(10)}   ${(mal / free).toFixed(2).padStart(18)}`,
  );
}
console.log(`\nadditive, across processes, loopback, ${SPDZ_N} elements, ${SPDZ_ROWS} rows   semi-honest   SPDZ2k   SPDZ2k / semi-honest`);
for (const [name, get, elements, unit] of [
  ['mul with truncation', (f: Figures) => f.mul, SPDZ_N, '/s'],
  ['lessThan', (f: Figures) => f.cmp, SPDZ_N, '/s'],
  ['LR inference', (f: Figures) => f.lr, SPDZ_ROWS, ' rows/s'],
] as const) {
  const sh = rate(elements, get(tlsAdditive));
  const mal = rate(elements, get(tlsSpdz));
  console.log(
    `  ${name.padEnd(30)} ${(fmt(sh) + unit).padStart(14)}   ${(fmt(mal) + unit).padStart(14)}   ${(mal / sh).toFixed(2).padStart(10)}`,
  );
}
console.log(`\nwith ${LATENCY} ms added per hop (a relay on every party link):`);
console.log(`  ${N} multiplications   ${(wan.latencyMul as number).toFixed(0)} ms   (goal <= 1500 ms)`);
console.log(`  ${NCMP} comparisons      ${(wan.latencyCmp as number).toFixed(0)} ms   (goal <= 2000 ms)`);
console.log('\nbytes per element per party (payload: TLS processes / worker threads)');
for (const name of ['mul', 'lessThan'])
  console.log(`  ${name.padEnd(10)} ${tls.bytes[name]?.toFixed(1)} / ${local.bytes[name]?.toFixed(1)}`);
console.log(
  `  frame headers add ${(((tls.framing as number) - 1) * 100).toFixed(3)}% to the bytes written to TLS (TLS records add 22 B per 16 KiB, 0.13%)`,
);
console.log(
  `SMPC_NETWORK_RESULTS ${JSON.stringify({
    elements: N,
    workers: {
      mulPerSec: Math.round(rate(N, local.mul)),
      cmpPerSec: Math.round(rate(N, local.cmp)),
      lrRowsPerSec: Math.round(rate(ROWS, local.lr)),
    },
    tls: { mulPerSec: Math.round(rate(N, tls.mul)), cmpPerSec: Math.round(rate(N, tls.cmp)), lrRowsPerSec: Math.round(rate(ROWS, tls.lr)) },
    tlsDealerFree: {
      mulPerSec: Math.round(rate(N, tlsFree.mul)),
      cmpPerSec: Math.round(rate(N, tlsFree.cmp)),
      lrRowsPerSec: Math.round(rate(ROWS, tlsFree.lr)),
    },
    tlsMalicious: {
      mulPerSec: Math.round(rate(N, tlsMalicious.mul)),
      cmpPerSec: Math.round(rate(N, tlsMalicious.cmp)),
      lrRowsPerSec: Math.round(rate(ROWS, tlsMalicious.lr)),
    },
    tlsAdditive: {
      elements: SPDZ_N,
      semiHonest: {
        mulPerSec: Math.round(rate(SPDZ_N, tlsAdditive.mul)),
        cmpPerSec: Math.round(rate(SPDZ_N, tlsAdditive.cmp)),
        lrRowsPerSec: Math.round(rate(SPDZ_ROWS, tlsAdditive.lr)),
      },
      spdz2k: {
        mulPerSec: Math.round(rate(SPDZ_N, tlsSpdz.mul)),
        cmpPerSec: Math.round(rate(SPDZ_N, tlsSpdz.cmp)),
        lrRowsPerSec: Math.round(rate(SPDZ_ROWS, tlsSpdz.lr)),
      },
    },
    latencyMs: LATENCY,
    wan: { mulMs: Math.round(wan.latencyMul as number), mul: N, cmpMs: Math.round(wan.latencyCmp as number), cmp: NCMP },
    bytesPerElement: { tls: tls.bytes, workers: local.bytes },
    framingOverhead: (tls.framing as number) - 1,
  })}`,
);
