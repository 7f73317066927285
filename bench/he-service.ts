// The encrypted-inference service (@ppml/he/service) against the in-process server, and the browser client.
// Model: logistic regression on 30 standardised features with the server-side degree-3 sigmoid (N = 8192,
// depth 3, 4,096 samples per batch), weights scaled so that |x_j| <= 8 keeps z inside poly3's range. Prints:
// - throughput through HTTP on loopback (client and service in this process: signing, SHA-256 of the body,
//   fastify, the shared worker pool of 2 threads) against HeServer with 2 worker threads on the same batches,
//   goal >= 90%;
// - latency of one 4,096-sample batch through HTTP, p50 and p99 (and in-process for reference);
// - key registration: time of HeRemote.connect (check + upload + SEAL's checks on the service) and bytes;
// - the browser client in headless Chromium against Node: encryption and decryption of a 4,096-sample batch;
// - the size of each package's browser bundle (minified, and gzipped), and node-seal's .wasm.
// Figures from a shared 2-core VM are noisy (±30%).
//
// Usage (repository root): node_modules/.bin/node bench/he-service.ts [--quick]
import { mkdtempSync, rmSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ensureSourceCondition, median } from './support.ts';

ensureSourceCondition(import.meta.url);

const he = await import('@ppml/he');
const { createHeService, sealWasmUrl } = await import('@ppml/he/service');
const core = await import('@ppml/core');
const { bundleForBrowser } = await import('../examples/web/bundle.ts');
const { launchChromium } = await import('../test/browser/support/chromium.ts');
const { serveDirectory } = await import('../test/browser/support/static.ts');

const quick = process.argv.includes('--quick');
const F = 30;
const SLOTS = 4096;
const BATCHES = quick ? 4 : 8;
const ROUNDS = quick ? 3 : 5;
const LATENCY_RUNS = quick ? 10 : 30;
const THREADS = 2;

const fmt = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

const rng = core.seededTestRng(7);
const gauss = (): number => {
  const u = core.uniformDouble(rng) || 1e-300;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * core.uniformDouble(rng));
};
const raw = Float64Array.from({ length: F }, () => gauss() * 0.25);
const l1 = raw.reduce((s, w) => s + Math.abs(w), 0);
const bias = 0.1;
const weights = Array.from(raw, (w) => (w * (4.9 - bias)) / (8 * l1));
const rows = (n: number): Float64Array[] =>
  Array.from({ length: n }, () => Float64Array.from({ length: F }, () => Math.max(-8, Math.min(8, gauss()))));
const modelOptions = { weights, bias, sigmoid: 'poly3' as const, featureBounds: 8 };

console.log(
  `@ppml/he service benchmark on Node ${process.version}, ${THREADS} worker threads, ${SLOTS}-sample batches${quick ? ' (quick)' : ''}, ` +
    `load average ${loadavg()[0].toFixed(1)} at start`,
);

const service = await createHeService({
  models: { risk: { kind: 'logistic', ...modelOptions } },
  plan: { inputBound: 8, polyModulusDegree: 8192 },
  threads: THREADS,
  limits: { maxBodyBytes: 256 * 2 ** 20, maxConcurrentBatches: 64 },
});
const plan = service.info.plan;
console.log(`plan: N = ${plan.polyModulusDegree}, depth ${plan.depth}, primes [${plan.coeffModulusBits.join(', ')}]`);

// Key registration: fresh clients (key generation outside the timing), connect = check + upload + SEAL's checks.
const clientOptions = {
  polyModulusDegree: plan.polyModulusDegree,
  depth: plan.depth,
  scaleBits: plan.scaleBits,
  integerBits: plan.integerBits,
  inputBound: plan.inputBound,
};
const regTimes: number[] = [];
let keyBytes = 0;
for (let i = 0; i < ROUNDS; i++) {
  const c = await he.HeClient.create(clientOptions);
  c.exportEvaluationKeys();
  const t0 = performance.now();
  const r = await he.HeRemote.connect(service.url, { client: c });
  regTimes.push(performance.now() - t0);
  keyBytes = r.evaluationKeyBytes;
  r.close();
  c.close();
}
console.log(
  `key registration: ${median(regTimes).toFixed(0)} ms median over ${ROUNDS} clients, ${fmt(keyBytes)} bytes of evaluation keys (once per client)`,
);

const client = await he.HeClient.create(clientOptions);
const remote = await he.HeRemote.connect(service.url, { client });
const bodies = Array.from({ length: BATCHES }, () => client.encryptRows(rows(SLOTS)));
const all = client.encryptRows(rows(SLOTS * BATCHES));
console.log(`upload: ${fmt(bodies[0].length)} bytes per ${SLOTS}-sample batch (${fmt(bodies[0].length / SLOTS)} B/sample)`);

const server = await he.HeServer.create(client.exportEvaluationKeys(), { threads: THREADS });
const model = server.logisticRegression(modelOptions);
await server.warmup();
// Warm the service's workers (keys loaded, model compiled, code tiered up) with the same number of batches.
for (let i = 0; i < 2; i++) await Promise.all(bodies.map((b) => remote.predictEncrypted('risk', b)));

const inProc: number[] = [];
const http: number[] = [];
const httpOne: number[] = [];
// Main-thread busy time (event-loop utilisation): what the HTTP path (client and service share this thread
// here) costs on top of the workers' evaluation, which both paths share.
const busyIn: number[] = [];
const busyHttp: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  let elu = performance.eventLoopUtilization();
  let t0 = performance.now();
  await model.predict(all);
  inProc.push(performance.now() - t0);
  busyIn.push(performance.eventLoopUtilization(elu).active / BATCHES);
  elu = performance.eventLoopUtilization();
  t0 = performance.now();
  await Promise.all(bodies.map((b) => remote.predictEncrypted('risk', b)));
  http.push(performance.now() - t0);
  busyHttp.push(performance.eventLoopUtilization(elu).active / BATCHES);
  t0 = performance.now();
  await remote.predictEncrypted('risk', all);
  httpOne.push(performance.now() - t0);
}
const sps = (ms: number): number => (SLOTS * BATCHES * 1000) / ms;
const tIn = median(inProc);
const tHttp = median(http);
const tHttpOne = median(httpOne);
console.log(`in-process HeServer, ${BATCHES} batches in one predict: ${fmt(sps(tIn))} samples/s (${tIn.toFixed(0)} ms)`);
console.log(
  `HTTP, ${BATCHES} concurrent one-batch requests: ${fmt(sps(tHttp))} samples/s (${tHttp.toFixed(0)} ms); HTTP / in-process = ${((tIn / tHttp) * 100).toFixed(1)}% (goal >= 90%)`,
);
console.log(
  `main-thread busy time per batch: in-process ${median(busyIn).toFixed(1)} ms, HTTP ${median(busyHttp).toFixed(1)} ms ` +
    '(signing and SHA-256 of the body at the client, transfer, SHA-256 and checks at the service, all on the 2 cores the workers use)',
);
console.log(
  `HTTP, one ${BATCHES}-batch request: ${fmt(sps(tHttpOne))} samples/s (${tHttpOne.toFixed(0)} ms); HTTP / in-process = ${((tIn / tHttpOne) * 100).toFixed(1)}%`,
);

const lat: number[] = [];
const latIn: number[] = [];
for (let i = 0; i < LATENCY_RUNS; i++) {
  let t0 = performance.now();
  await remote.predictEncrypted('risk', bodies[i % BATCHES]);
  lat.push(performance.now() - t0);
  t0 = performance.now();
  await model.predict(bodies[i % BATCHES]);
  latIn.push(performance.now() - t0);
}
console.log(
  `latency of one ${SLOTS}-sample batch over ${LATENCY_RUNS} sequential requests: HTTP p50 ${quantile(lat, 0.5).toFixed(1)} ms, p99 ${quantile(lat, 0.99).toFixed(1)} ms; ` +
    `in-process (evaluated on the calling thread) p50 ${quantile(latIn, 0.5).toFixed(1)} ms, p99 ${quantile(latIn, 0.99).toFixed(1)} ms`,
);

// Node client: encryption and decryption of one batch.
const nodeEnc: number[] = [];
const nodeDec: number[] = [];
const batchRows = rows(SLOTS);
for (let i = 0; i < ROUNDS + 2; i++) {
  let t0 = performance.now();
  const enc = client.encryptRows(batchRows);
  const te = performance.now() - t0;
  const reply = await remote.predictEncrypted('risk', enc);
  t0 = performance.now();
  client.decryptScores(reply);
  if (i > 1) {
    nodeEnc.push(te);
    nodeDec.push(performance.now() - t0);
  }
}
remote.close();
await server.close();
client.close();
await service.close();

// Browser: the same in Chromium, against a service that allows the page's origin.
const dir = mkdtempSync(join(tmpdir(), 'ppml-bench-'));
const page = await serveDirectory(dir);
const browserService = await createHeService({
  models: { risk: { kind: 'logistic', ...modelOptions } },
  plan: { inputBound: 8, polyModulusDegree: 8192 },
  threads: THREADS,
  limits: { maxBodyBytes: 64 * 2 ** 20 },
  allowOrigins: [page.url.replace(/\/$/, '')],
});
const browserMain = `
import { HeRemote } from '@ppml/he';
const g = globalThis;
async function run() {
  const remote = await HeRemote.connect(${JSON.stringify(browserService.url)});
  const rows = Array.from({ length: ${SLOTS} }, (_, i) => Float64Array.from({ length: ${F} }, (_, j) => Math.sin(i * 31 + j) * 2));
  const enc = [], dec = [];
  // Two warm-up rounds: Chromium tiers WebAssembly up later than Node (first encryptions 2-3x slower).
  for (let r = 0; r < ${ROUNDS + 2}; r++) {
    let t0 = performance.now();
    const body = remote.client.encryptRows(rows);
    const te = performance.now() - t0;
    const reply = await remote.predictEncrypted('risk', body);
    t0 = performance.now();
    remote.client.decryptScores(reply);
    const td = performance.now() - t0;
    if (r > 1) { enc.push(te); dec.push(td); }
  }
  remote.close();
  return { enc, dec };
}
run().then((r) => { g.result = r; }, (e) => { g.failure = String(e && e.stack || e); });
`;
await bundleForBrowser({ contents: browserMain, outdir: dir, name: 'bench' });
writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="./bench.js"></script>');
const chromium = await launchChromium();
try {
  const tab = await chromium.browser.newPage();
  await tab.goto(page.url);
  await tab.waitForFunction(() => 'result' in globalThis || 'failure' in globalThis, undefined, { timeout: 600_000 });
  const failure = await tab.evaluate(() => (globalThis as { failure?: string }).failure);
  if (failure !== undefined) throw new Error(`browser benchmark failed: ${failure}`);
  const r = (await tab.evaluate(() => (globalThis as { result?: unknown }).result)) as { enc: number[]; dec: number[] };
  const ce = median(r.enc);
  const cd = median(r.dec);
  const ne = median(nodeEnc);
  const nd = median(nodeDec);
  console.log(
    `encrypt one ${SLOTS}-sample batch (${F} features): Chromium ${ce.toFixed(0)} ms, Node ${ne.toFixed(0)} ms (Chromium/Node ${(ce / ne).toFixed(2)}x); ` +
      `decrypt its scores: Chromium ${cd.toFixed(1)} ms, Node ${nd.toFixed(1)} ms (${(cd / nd).toFixed(2)}x)`,
  );
} finally {
  await chromium.close();
  await browserService.close();
  await page.close();
}

// Bundle sizes of each package's browser entry (esbuild, minified; everything the entry imports).
for (const pkg of ['core', 'dp', 'he'] as const) {
  const b = await bundleForBrowser({ contents: `export * from '@ppml/${pkg}';`, outdir: dir, name: `ppml-${pkg}` });
  const gz = gzipSync(readFileSync(b.file)).length;
  console.log(`browser bundle of @ppml/${pkg}: ${fmt(b.bytes / 1024)} KiB minified, ${fmt(gz / 1024)} KiB gzipped`);
}
console.log(`node-seal's seal_throws.wasm (loaded by @ppml/he in the browser): ${fmt(statSync(sealWasmUrl()).size / 1024)} KiB`);
rmSync(dir, { recursive: true, force: true });
