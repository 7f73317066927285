// The web example: trains the medical example's model (logistic regression with DP-SGD at epsilon = 1 on the
// Breast Cancer Wisconsin data, examples/data/breast_cancer.SOURCE.md), serves it with the encrypted-inference
// service of @ppml/he/service, and serves a page (index.html + page.ts bundled for the browser) that encrypts a
// patient's 30 features in the browser and decrypts the score there.
//   pnpm run web            # then open the printed URL
// `startWebExample` is also used by the browser test (test/browser/) and the benchmark.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numericColumn, numericRows, readCsv } from '@ppml/core';
import { type DenseModel, type Standardizer, fitStandardizer, logisticRegression, take, trainDpSgd, trainTestSplit } from '@ppml/dp';
import { type HeService, createHeService } from '@ppml/he/service';
import { dataFile } from '../src/files.ts';
import { bundleForBrowser } from './bundle.ts';

/** A running web example. */
export interface WebExample {
  /** The page's URL. */
  readonly url: string;
  readonly service: HeService;
  readonly model: DenseModel;
  readonly scaler: Standardizer;
  /** Held-out patients offered by the page (raw features). */
  readonly patients: readonly { readonly label: string; readonly values: readonly number[] }[];
  readonly inputBound: number;
  /** Bytes of the page's bundle (without the 1.3 MB `.wasm`). */
  readonly bundleBytes: number;
  close(): Promise<void>;
}

const EPSILON = 1;

/** The largest |w·x + b| over features within ±bound. */
function scoreBound(model: DenseModel, bound: number): number {
  let l1 = 0;
  for (const w of model.layerWeights(0)) l1 += Math.abs(w);
  return l1 * bound + Math.abs(model.layerBias(0)[0]);
}

/**
 * Trains the model, starts the service and the page server on 127.0.0.1 (OS-assigned ports unless given).
 * @example
 * ```ts
 * const web = await startWebExample();
 * console.log(web.url);
 * await web.close();
 * ```
 */
export async function startWebExample(options: { port?: number; servicePort?: number } = {}): Promise<WebExample> {
  const table = readCsv(dataFile('breast_cancer.csv'));
  const features = table.header.filter((name) => name !== 'target');
  const rows = numericRows(table, features);
  const labels = numericColumn(table, 'target');
  const split = trainTestSplit(rows.length, 0.2);
  const scaler = fitStandardizer(take(rows, split.train));
  const xTrain = scaler.transform(take(rows, split.train));
  const run = trainDpSgd({
    model: logisticRegression({ features: features.length }),
    x: xTrain,
    y: take(labels, split.train),
    epochs: 30,
    batchSize: 128,
    learningRate: 1,
    clipNorm: 1,
    targetEpsilon: EPSILON,
    delta: 1e-5,
  });
  const model = run.model;
  // The keys are planned for standardized features within ±inputBound; the page clips beyond it (a handful of
  // outliers lie past 6 standard deviations). The bound also caps |w·x + b| at ‖w‖₁·6 + |b|, which the default
  // 8 integer bits of headroom usually hold, so the plan stays at N = 4096 (ciphertexts a quarter of N = 8192's).
  const inputBound = 6;
  const testRows = take(rows, split.test);
  const testLabels = take(labels, split.test);
  const patients = Array.from({ length: Math.min(12, testRows.length) }, (_, i) => ({
    label: `held-out patient ${i + 1} (${testLabels[i] === 1 ? 'benign' : 'malignant'})`,
    values: Array.from(testRows[i]),
  }));

  const dir = mkdtempSync(join(tmpdir(), 'ppml-web-'));
  const here = fileURLToPath(new URL('.', import.meta.url));
  let page: Server | undefined;
  let service: HeService | undefined;
  try {
    const bundle = await bundleForBrowser({ entry: join(here, 'page.ts'), outdir: dir, name: 'page' });
    const files: Record<string, { body: Buffer | string; type: string }> = {
      '/': { body: readFileSync(join(here, 'index.html')), type: 'text/html; charset=utf-8' },
      '/page.js': { body: readFileSync(bundle.file), type: 'text/javascript; charset=utf-8' },
      '/seal_throws.wasm': { body: readFileSync(join(dir, 'seal_throws.wasm')), type: 'application/wasm' },
    };
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      const f = files[path === '/index.html' ? '/' : path];
      if (req.method !== 'GET' || f === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-store' }).end(f.body);
    });
    page = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    const origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    service = await createHeService({
      models: { risk: { kind: 'logistic', weights: Array.from(model.layerWeights(0)), bias: model.layerBias(0)[0] } },
      // Headroom for every score the clipped features allow (‖w‖₁·inputBound + |b|): the default 8 integer bits
      // (N = 4096) unless the DP noise made the weights larger, then as many as needed (the planner grows N).
      plan: { inputBound, integerBits: Math.max(8, Math.floor(Math.log2(scoreBound(model, inputBound))) + 1) },
      port: options.servicePort ?? 0,
      threads: 1,
      allowOrigins: [origin],
    });
    files['/config.json'] = {
      type: 'application/json',
      body: JSON.stringify({
        serviceUrl: service.url,
        model: 'risk',
        features,
        mean: Array.from(scaler.mean),
        std: Array.from(scaler.std),
        inputBound,
        epsilon: EPSILON,
        patients,
      }),
    };
    const svc = service;
    let closed: Promise<void> | undefined;
    return {
      url: `${origin}/`,
      service: svc,
      model,
      scaler,
      patients,
      inputBound,
      bundleBytes: bundle.bytes,
      close: () =>
        (closed ??= (async () => {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await svc.close();
          rmSync(dir, { recursive: true, force: true });
        })()),
    };
  } catch (e) {
    page?.close();
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = process.env['PORT'] === undefined ? 8080 : Number(process.env['PORT']);
  const web = await startWebExample({ port });
  console.log(`encrypted-inference web example: open ${web.url}  (service at ${web.service.url}; Ctrl-C stops)`);
  const stop = (): void => {
    void web.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
