// One hospital's process (started by run.ts; on a real deployment each hospital runs this on its own host). It
// reads only its own patients, joins the session over mutually authenticated TLS, and prints only what it may
// learn: its own figures, the joint statistics everyone agreed to reveal, and the scores of its own patients.
// The joint model stays secret-shared: no hospital sees it.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { numericColumn, numericRows, parseCsv } from '@ppml/core';
import { SmpcSession, certificateFingerprint, logisticRegressionPredict, secureAggregation, trainLogisticRegression } from '@ppml/smpc';

interface Config {
  party: number;
  names: string[];
  dataFile: string;
  counts: number[];
  peers: { host: string; port: number; fingerprint: string }[];
  keyFile: string;
  certFile: string;
  dealer: { host: string; port: number; fingerprint: string };
}
const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const me = config.party;
const certificatePem = readFileSync(config.certFile, 'utf8');

// My patients only. The last fifth of them is held out to score the joint model.
const table = parseCsv(readFileSync(config.dataFile, 'utf8'));
const featureNames = table.header.filter((n) => n !== 'target');
const d = featureNames.length;
const rows = numericRows(table, featureNames);
const labels = numericColumn(table, 'target');
const trainRows = (n: number) => n - Math.floor(n / 5);
const myTrain = trainRows(rows.length);
console.log(`my data: ${rows.length} patients x ${d} features (only this process reads them)`);

const session = await SmpcSession.connect({
  party: me,
  protocol: 'replicated',
  peers: config.peers,
  identity: { privateKeyPem: readFileSync(config.keyFile, 'utf8'), certificatePem, fingerprint: certificateFingerprint(certificatePem) },
  dealer: config.dealer,
  sessionId: 'breast-cancer-study',
  // Every hospital runs this same program: its hash is compared at connect.
  programId: createHash('sha256')
    .update(readFileSync(new URL(import.meta.url)))
    .digest('hex'),
  timeoutMs: 60_000,
  // Column sums of raw features reach about 10^5 (area ~ 2,500 x 190 patients): the largest bound 16
  // fractional bits allow, 2^37. Training declares its own, tighter bound for standardized features.
  maxAbs: 2 ** 37,
});
console.log(`connected to ${config.names.filter((_, h) => h !== me).join(' and ')} and the dealer (TLS 1.3, pinned certificates)`);
try {
  // Step 1: joint means and standard deviations. Each hospital contributes the sums and sums of squares of
  // its training rows; only the totals over all hospitals are revealed.
  const sums = new Float64Array(2 * d);
  for (let i = 0; i < myTrain; i++) {
    for (let j = 0; j < d; j++) {
      sums[j] += rows[i][j];
      sums[d + j] += rows[i][j] * rows[i][j];
    }
  }
  const totals = await secureAggregation(
    session,
    [0, 1, 2].map((h) => ({ party: h, values: h === me ? sums : { rows: 2 * d, cols: 1 } })),
  );
  const total = config.counts.reduce((s, n) => s + trainRows(n), 0);
  const mean = Array.from({ length: d }, (_, j) => totals[j] / total);
  const std = mean.map((m, j) => Math.sqrt(Math.max(totals[d + j] / total - m * m, 1e-12)));
  console.log(
    `learned (revealed to all): joint ${featureNames[0]} mean ${mean[0].toFixed(3)} sd ${std[0].toFixed(3)} over ${total} patients`,
  );

  // Step 2: a joint logistic regression on standardised rows, trained on secret shares.
  const standardise = (row: ArrayLike<number>) => Array.from(row, (v, j) => (v - mean[j]) / std[j]);
  const epochs = 10;
  const started = performance.now();
  const model = await trainLogisticRegression(
    session,
    [0, 1, 2].map((h) =>
      h === me
        ? { party: h, features: rows.slice(0, myTrain).flatMap(standardise), labels: labels.slice(0, myTrain) }
        : { party: h, rows: trainRows(config.counts[h]) },
    ),
    { features: d, epochs, learningRate: 1 },
  );
  console.log(
    `joint model trained (${epochs} epochs, ${total} secret rows) in ${((performance.now() - started) / 1000).toFixed(1)} s; it stays secret-shared`,
  );

  // Step 3: each hospital's held-out patients are scored with the secret model; the scores are revealed to
  // that hospital only.
  let myScores = new Float64Array(0);
  for (let h = 0; h < 3; h++) {
    const n = config.counts[h] - trainRows(config.counts[h]);
    // A public bound on the standardised features (values beyond it are clipped) keeps the model's products in
    // the fixed-point range; every hospital declares the same.
    const bound = { maxAbs: 32 };
    const mine = () => rows.slice(myTrain).flatMap((r) => standardise(r).map((v) => Math.max(-32, Math.min(32, v))));
    const x = h === me ? await session.share(h, mine(), [n, d], bound) : await session.share(h, { rows: n, cols: d }, undefined, bound);
    const p = logisticRegressionPredict(session, x, model.weights, model.bias);
    const got = await session.revealTo(h, p);
    if (h === me) myScores = got;
    session.free(x, p);
  }
  const heldOut = labels.slice(myTrain);
  const correct = Array.from(myScores).filter((p, i) => (p > 0.5 ? 1 : 0) === heldOut[i]).length;
  console.log(
    `learned (only this hospital): accuracy on my ${heldOut.length} held-out patients ${((100 * correct) / heldOut.length).toFixed(1)}%`,
  );
  const { online } = session.stats();
  console.log(`sent ${(online.bytesPerParty[me] / 2 ** 20).toFixed(1)} MiB in ${online.rounds} rounds`);
} finally {
  await session.close();
}
