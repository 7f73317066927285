// Script twin of 01-medical.ipynb: the same code and prose, runnable without Jupyter:
//   pnpm exec node --conditions=@ppml/source examples/notebooks/01-medical.ts
// (or after `pnpm run build`, without the condition). Charts are written to examples/out/.
//
// # Private diagnosis on the Breast Cancer Wisconsin data
//
// 569 fine-needle aspirates of breast masses, 30 numeric features each, labelled benign (1) or malignant (0)
// (examples/data/breast_cancer.SOURCE.md). Three privacy techniques, each protecting something different:
//
// 1. Differential privacy (DP-SGD, @ppml/dp) protects the patients in the TRAINING data from what the
//    released model reveals about them: whoever gets the model learns almost nothing about whether any one
//    patient was in the training set. It does not hide the data from whoever runs the training, and it says
//    nothing about patients the model is later applied to.
// 2. Homomorphic encryption (CKKS, @ppml/he) protects the patients a model is APPLIED to: a clinic encrypts
//    its patients, a server scores the ciphertexts with its model, and only the clinic can decrypt. The
//    server sees neither the features nor the scores. It does not protect the model from the clinic (the
//    scores reveal something about the weights) and gives no integrity: a dishonest server could return
//    wrong scores.
// 3. Secure multi-party computation (@ppml/smpc) lets several hospitals compute on the UNION of their data
//    without pooling it: each value is split into random shares, and only the agreed results are revealed.
//    It protects the inputs during the computation, not from what the revealed results imply, and it assumes
//    the parties follow the protocol (semi-honest) and do not collude beyond what the protocol tolerates.
//
// ## Setup
//
// `show` renders a chart with Vega-Lite, shows it inline (as HTML, SVG and PNG, so that every notebook viewer
// finds a format it displays) and writes it to the output folder as SVG and PNG; `dataFile` finds the shipped
// data. The notebook defines both with public imports only (vega, vega-lite, resvg) so that it runs outside this
// repository too; the script twin takes the same functions from examples/src. This setup step (and the install
// cell before it) is the only place where the notebook and its twin differ.
import type { TopLevelSpec } from '../src/plot.ts';
import { renderVegaLiteSvg, writeChart } from '../src/plot.ts';
import { dataFile, outFile } from '../src/files.ts';

async function show(name: string, spec: TopLevelSpec): Promise<void> {
  const [svgPath, pngPath] = writeChart(outFile(name.replace(/\.svg$/, '')), await renderVegaLiteSvg(spec));
  console.log(`chart written to ${svgPath} and ${pngPath}`);
}

console.log(`Node.js ${process.version}`);

// ## The data
//
// The CSV ships with the repository; @ppml/core reads it. 80% of the rows train the models, 20% are held
// out for testing. The split is random (the CSPRNG), so every run's figures differ a little.
import { numericColumn, numericRows, readCsv } from '@ppml/core';
import { fitStandardizer, take, trainTestSplit } from '@ppml/dp';

const table = readCsv(dataFile('breast_cancer.csv'));
const featureNames = table.header.filter((name) => name !== 'target');
const rawRows = numericRows(table, featureNames);
const labels = numericColumn(table, 'target');
const split = trainTestSplit(rawRows.length, 0.2);
// Standardising with statistics of the training rows is NOT differentially private: the means and standard
// deviations are a (small) release about the training patients. A deployment would use public reference
// ranges or spend part of the budget on DP means (see the financial notebook's queries).
const scaler = fitStandardizer(take(rawRows, split.train));
const xTrain = scaler.transform(take(rawRows, split.train));
const yTrain = take(labels, split.train);
const xTest = scaler.transform(take(rawRows, split.test));
const yTest = take(labels, split.test);
console.log(
  `${rawRows.length} patients, ${featureNames.length} features; ${xTrain.length} for training, ${xTest.length} held out; ` +
    `${labels.filter((v) => v === 0).length} malignant`,
);

// ## 1. Differential privacy: DP-SGD at epsilon 1 and 3
//
// DP-SGD (Abadi et al. 2016) clips every patient's gradient to norm C, adds Gaussian noise to the sum, and
// samples each batch by Poisson sampling; an accountant (Rényi DP) turns the noise level, sampling rate and
// number of steps into (epsilon, delta). `targetEpsilon` calibrates the noise so that the whole run spends at
// most that epsilon. The non-private baseline uses the same loop without clipping or noise (`trainSgd`).
//
// What the guarantee covers: any single training example (add/remove one patient), for the model and
// everything computed from it. What it does not cover: the standardisation above, the choice of
// hyperparameters (tuned here by hand, not privately), and patients with several rows (one row per patient
// here).
import { logisticRegression, trainDpSgd, trainSgd } from '@ppml/dp';
import type { DenseModel, TrainResult } from '@ppml/dp';

const DELTA = 1e-5;
const training = { epochs: 30, batchSize: 128, learningRate: 1 };

function accuracy(model: DenseModel, x: Float64Array[], y: number[]): number {
  const p = model.predict(x);
  let correct = 0;
  for (let i = 0; i < y.length; i++) if ((p[i] > 0.5 ? 1 : 0) === y[i]) correct++;
  return correct / y.length;
}

function trainPrivate(epsilon: number): TrainResult<DenseModel> {
  return trainDpSgd({
    model: logisticRegression({ features: featureNames.length }),
    x: xTrain,
    y: yTrain,
    ...training,
    clipNorm: 1,
    targetEpsilon: epsilon,
    delta: DELTA,
  });
}

const baseline = trainSgd({ model: logisticRegression({ features: featureNames.length }), x: xTrain, y: yTrain, ...training });
const baselineAccuracy = accuracy(baseline.model, xTest, yTest);
console.log(`non-private model: test accuracy ${(100 * baselineAccuracy).toFixed(1)}%`);
console.log(baseline.statement);

const dp1 = trainPrivate(1);
const dp3 = trainPrivate(3);
// Figures for people use the statement's rounding (sigma to 4 significant digits); exact values stay in the result.
for (const [target, run] of [
  [1, dp1],
  [3, dp3],
] as const) {
  console.log(
    `DP-SGD for target epsilon ${target} (noise multiplier sigma = ${Number(run.noiseMultiplier.toPrecision(4))}): ` +
      `test accuracy ${(100 * accuracy(run.model, xTest, yTest)).toFixed(1)}%`,
  );
}
console.log('\nPrivacy statement of the epsilon = 1 model:\n');
console.log(dp1.statement);

// ### Accuracy against epsilon
//
// DP-SGD is random: the same epsilon gives a different model on every run. Five runs per epsilon show the
// spread; the dashed line is the non-private model. Smaller epsilon means more noise and lower accuracy.
const epsilons = [0.25, 0.5, 1, 2, 3, 8];
const runsPerEpsilon = 5;
const accuracyPoints: { epsilon: number; accuracy: number }[] = [];
for (const epsilon of epsilons) {
  for (let r = 0; r < runsPerEpsilon; r++) {
    accuracyPoints.push({ epsilon, accuracy: accuracy(trainPrivate(epsilon).model, xTest, yTest) });
  }
  const mine = accuracyPoints.filter((pt) => pt.epsilon === epsilon).map((pt) => pt.accuracy);
  const mean = mine.reduce((s, a) => s + a, 0) / mine.length;
  console.log(`epsilon ${String(epsilon).padStart(4)}: mean test accuracy ${(100 * mean).toFixed(1)}% over ${mine.length} runs`);
}
await show('01-medical-accuracy.svg', {
  width: 360,
  height: 220,
  title: {
    text: 'DP-SGD: test accuracy against epsilon',
    subtitle: 'delta = 1e-5; five runs per epsilon and their mean; dashed: non-private model',
  },
  layer: [
    {
      data: { values: accuracyPoints },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epsilon', type: 'quantitative', scale: { type: 'log' }, title: 'epsilon (log scale)' },
        y: { aggregate: 'mean', field: 'accuracy', type: 'quantitative', scale: { zero: false }, title: 'test accuracy' },
      },
    },
    {
      data: { values: accuracyPoints },
      mark: { type: 'point', opacity: 0.35 },
      encoding: { x: { field: 'epsilon', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' } },
    },
    {
      data: { values: [{ accuracy: baselineAccuracy }] },
      mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
      encoding: { y: { field: 'accuracy', type: 'quantitative' } },
    },
  ],
});

// ### User-level privacy: several rows per patient
//
// Real clinical data has several rows per person (visits, repeated measurements), and a guarantee per ROW then
// says little about a PERSON. The shipped data has one aspirate per patient, so this section GENERATES repeat
// measurements to show the difference: each training patient gets 1 to 4 rows, the first one their real
// (standardised) row and the others copies with every feature perturbed by Gaussian noise of standard deviation
// 0.1, a stand-in for measurement error. These extra rows are synthetic, made here from the shipped data: they are
// NOT real repeated visits, and the figures below are about this constructed data set (it differs on every run).
//
// Both runs below report epsilon = 1, but they protect different things:
// - example-level DP-SGD treats every row as if it were a different person; for a patient with up to 4 rows the
//   statement can give a per-patient figure only by group privacy (`maxExamplesPerUser: 4`), which is far weaker;
// - user-level DP-SGD (`userIds`) samples PATIENTS (Poisson sampling over patients), averages each sampled
//   patient's gradient over their rows and clips that update as a whole (DP-FedAvg, McMahan et al. 2018), so the
//   accountant's epsilon is per patient.
import { uniformInt } from '@ppml/core';
import { sampleGaussianNoise } from '@ppml/dp';

const visits: Float64Array[] = [];
const visitLabels: number[] = [];
const patientOfVisit: number[] = [];
xTrain.forEach((row, patient) => {
  const count = 1 + uniformInt(4);
  for (let v = 0; v < count; v++) {
    const noise = v === 0 ? new Float64Array(row.length) : sampleGaussianNoise(new Float64Array(row.length), 0.1);
    visits.push(Float64Array.from(row, (x, j) => x + noise[j]));
    visitLabels.push(yTrain[patient]);
    patientOfVisit.push(patient);
  }
});
console.log(`${xTrain.length} training patients, ${visits.length} rows (1 to 4 per patient, generated as described above)`);

const perRow = trainDpSgd({
  model: logisticRegression({ features: featureNames.length }),
  x: visits,
  y: visitLabels,
  ...training,
  clipNorm: 1,
  targetEpsilon: 1,
  delta: DELTA,
  maxExamplesPerUser: 4,
});
const perPatient = trainDpSgd({
  model: logisticRegression({ features: featureNames.length }),
  x: visits,
  y: visitLabels,
  userIds: patientOfVisit,
  epochs: training.epochs,
  batchSize: 64, // expected patients per batch
  learningRate: training.learningRate,
  clipNorm: 1,
  targetEpsilon: 1,
  delta: DELTA,
});
const groupLine = perRow.statement.split('\n').find((line) => line.startsWith('User-level DP')) ?? '';
console.log(
  `example-level DP-SGD: test accuracy ${(100 * accuracy(perRow.model, xTest, yTest)).toFixed(1)}%, epsilon ${perRow.epsilon.toFixed(3)} per ROW`,
);
console.log(`  per patient: ${groupLine}`);
console.log(
  `user-level DP-SGD:    test accuracy ${(100 * accuracy(perPatient.model, xTest, yTest)).toFixed(1)}%, epsilon ${perPatient.epsilon.toFixed(3)} per PATIENT (${perPatient.privacyUnit}-level)`,
);
console.log('\nPrivacy statement of the user-level model:\n');
console.log(perPatient.statement);

// ### Your own network: a TensorFlow.js model trained with DP-SGD
//
// `@ppml/dp/tfjs` trains a network built with TensorFlow.js (here 30-16-1 with a ReLU hidden layer and dropout,
// on the wasm backend, whose WebAssembly ships inside its npm package) through the same `trainDpSgd` and
// `trainSgd`, with the same accountant and statement. `fromTfjs` computes per-example gradient norms the way
// Opacus does (one forward and one backward pass, "ghost" norms, one weighted matrix product for the clipped
// sum); dropout is off during private training. A layer it has no per-example rule for (a GRU, batch
// normalisation) is refused by name. After training, the tfjs model holds the weights: `predict` and `save`
// work as usual. The same network is trained once without privacy (plain SGD) and once with DP-SGD at epsilon 1.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { fromTfjs } from '@ppml/dp/tfjs';

await tf.setBackend('wasm');
const tfjsTraining = { epochs: 30, batchSize: 64, learningRate: 0.5 };

function smallNetwork(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 16, inputShape: [featureNames.length], activation: 'relu' }),
      tfl.layers.dropout({ rate: 0.1 }),
      tfl.layers.dense({ units: 1, activation: 'sigmoid' }),
    ],
  });
}

function networkAccuracy(net: tfl.LayersModel, x: Float64Array[], y: number[]): number {
  const input = tf.tensor2d(x.map((row) => Array.from(row)));
  const output = net.predict(input) as tf.Tensor;
  const p = output.dataSync();
  input.dispose();
  output.dispose();
  let correct = 0;
  for (let i = 0; i < y.length; i++) if ((p[i] > 0.5 ? 1 : 0) === y[i]) correct++;
  return correct / y.length;
}

const plainNet = smallNetwork();
const plainModel = fromTfjs(plainNet, { loss: 'binaryCrossentropy' });
const tfjsBaseline = trainSgd({ model: plainModel, x: xTrain, y: yTrain, ...tfjsTraining });
const privateNet = smallNetwork();
const privateModel = fromTfjs(privateNet, { loss: 'binaryCrossentropy' });
const tfjsPrivate = trainDpSgd({ model: privateModel, x: xTrain, y: yTrain, ...tfjsTraining, clipNorm: 1, targetEpsilon: 1, delta: DELTA });
console.log(`tfjs network ${tfjsBaseline.model.parameters.length} parameters, backend ${tf.getBackend()}`);
console.log(`  without privacy: test accuracy ${(100 * networkAccuracy(plainNet, xTest, yTest)).toFixed(1)}%`);
console.log(
  `  DP-SGD, epsilon ${tfjsPrivate.epsilon.toFixed(3)} (sigma = ${Number(tfjsPrivate.noiseMultiplier.toPrecision(4))}): ` +
    `test accuracy ${(100 * networkAccuracy(privateNet, xTest, yTest)).toFixed(1)}%`,
);
console.log('\nPrivacy statement of the private tfjs network:\n');
console.log(tfjsPrivate.statement);
plainModel.dispose();
privateModel.dispose();

// ## 2. Homomorphic encryption: serving the DP model to a clinic
//
// The epsilon = 1 model is served by a server; a clinic encrypts its held-out patients with CKKS (Microsoft
// SEAL, N = 8192, 128-bit security), the server computes the scores on ciphertexts, and the clinic decrypts.
// The client keeps the secret key; the server holds only evaluation keys.
//
// Two ways to finish the logistic regression: `sigmoid: 'client'` has the server compute the linear score
// w·x + b and the client apply the exact sigmoid after decryption (the default); a degree-3 polynomial fitted
// to the sigmoid lets the server return probabilities, at the cost of approximation error. A polynomial is the
// sigmoid only on the range it was fitted on, so the server accepts one only with declared feature bounds and
// checks that every score w·x + b they allow (‖w‖₁·bound + |b|) lies inside that range.
//
// Security caveat: CKKS in SEAL is not IND-CPA-D secure (Li and Micciancio 2021). Decrypted results carry
// information about the secret key's noise, so the clinic must NOT send decrypted scores (or anything
// computed from them) back to the server. Also, the server learns how many patients were scored, and the
// clinic learns the scores, which over many queries reveal the model.
import { approximateActivation, HeClient, HeServer, polyval } from '@ppml/he';

const heModel = dp1.model;
const weights = heModel.layerWeights(0);
const bias = heModel.layerBias(0)[0];
const plainProbabilities = heModel.predict(xTest);
const inputBound = 2 ** Math.ceil(Math.log2(Math.max(...xTest.map((r) => Math.max(...Array.from(r, Math.abs)))) + 1));
// The widest score the client's features (|x_j| <= inputBound) can produce: the cubic is fitted on that range.
const logitRange = Math.ceil(Array.from(weights).reduce((s, w) => s + Math.abs(w) * inputBound, Math.abs(bias)));

const keysStart = performance.now();
const client = await HeClient.create({ polyModulusDegree: 8192, depth: 3, inputBound });
const server = await HeServer.create(client.exportEvaluationKeys(), { threads: 1 });
const setupMs = performance.now() - keysStart;
let exactErrors: Float64Array = new Float64Array(0);
let polyErrors: Float64Array = new Float64Array(0);
let polyEncErrors: Float64Array = new Float64Array(0);
try {
  const encryptStart = performance.now();
  const encrypted = client.encryptRows(xTest);
  const encryptMs = performance.now() - encryptStart;

  const exact = server.logisticRegression({ weights, bias, sigmoid: 'client' });
  const poly = server.logisticRegression({ weights, bias, sigmoid: { degree: 3, range: logitRange }, featureBounds: inputBound });
  try {
    const scoreStart = performance.now();
    const encScores = await exact.predict(encrypted);
    const scoreMs = performance.now() - scoreStart;
    const decryptStart = performance.now();
    const heProbabilities = client.decryptScores(encScores);
    const decryptMs = performance.now() - decryptStart;
    const heProbabilitiesPoly = client.decryptScores(await poly.predict(encrypted));

    exactErrors = heProbabilities.map((p, i) => Math.abs(p - plainProbabilities[i]));
    polyErrors = heProbabilitiesPoly.map((p, i) => Math.abs(p - plainProbabilities[i]));
    // The same cubic evaluated in plaintext: what the encrypted polynomial must reproduce (CKKS error only).
    const cubic = approximateActivation('sigmoid', 3, [-logitRange, logitRange]);
    const testLogits = heModel.logits(xTest);
    polyEncErrors = heProbabilitiesPoly.map((p, i) => Math.abs(p - polyval(cubic.coefficients, testLogits[i])));
    let agree = 0;
    for (let i = 0; i < xTest.length; i++) if (heProbabilitiesPoly[i] > 0.5 === plainProbabilities[i] > 0.5) agree++;
    console.log(
      `keys and context ${setupMs.toFixed(0)} ms; encrypt ${xTest.length} patients ${encryptMs.toFixed(0)} ms ` +
        `(${(encrypted.length / 1024).toFixed(0)} KiB uploaded); score ${scoreMs.toFixed(0)} ms; decrypt ${decryptMs.toFixed(0)} ms`,
    );
    console.log(
      `encrypted vs plaintext probabilities, exact sigmoid at the client: max |error| ${Math.max(...exactErrors).toExponential(2)}`,
    );
    console.log(
      `degree-3 sigmoid on [-${logitRange}, ${logitRange}] at the server: max |error| ${Math.max(...polyErrors).toExponential(2)}, ` +
        `same label for ${agree} of ${xTest.length} patients; against the same cubic in plaintext ` +
        `${Math.max(...polyEncErrors).toExponential(2)} (the fit on [-${logitRange}, ${logitRange}] is off by up to ${cubic.maxError.toFixed(3)})`,
    );
    // A polynomial is not confined to [0, 1]: the cubic overshoots near the ends of its range, so its raw outputs
    // are not probabilities. They are clipped to [0, 1] for display and decisions; the table keeps the raw values.
    const clip = (p: number): number => Math.min(1, Math.max(0, p));
    const outside = heProbabilitiesPoly.filter((p) => p < 0 || p > 1);
    console.log(
      `server cubic outputs outside [0, 1]: ${outside.length} of ${xTest.length}` +
        (outside.length > 0
          ? ` (from ${Math.min(...outside).toFixed(3)} to ${Math.max(...outside).toFixed(3)}), clipped to [0, 1] for display`
          : ''),
    );
    console.table(
      Array.from({ length: 5 }, (_, i) => ({
        plaintext: plainProbabilities[i].toFixed(4),
        'HE, exact sigmoid': heProbabilities[i].toFixed(4),
        'HE, cubic (raw)': heProbabilitiesPoly[i].toFixed(4),
        'HE, cubic (clipped)': clip(heProbabilitiesPoly[i]).toFixed(4),
      })),
    );
  } finally {
    exact.dispose();
    poly.dispose();
  }
} finally {
  client.close();
  await server.close();
}

// ### HE error against plaintext
//
// Per patient, the absolute difference between the decrypted probability and the plaintext model's. With the
// sigmoid at the client the only error is CKKS's rounding noise. The server-side cubic reproduces the same
// cubic evaluated in plaintext to CKKS precision (the middle series), but differs from the true sigmoid by its
// approximation error, largest for confident predictions far from the decision boundary. A cubic also turns back beyond
// about 1.5 times its fitting range and then gives the wrong label, so the server refuses a polynomial whose range
// does not hold every score the declared feature bounds allow; the wider that range, the larger the approximation
// error: the reason the exact sigmoid at the client is the safer choice, and the default.
// A log axis cannot show an error of exactly 0 (a double rounding that cancels), so errors below 1e-12 are drawn
// at 1e-12 as triangles, a different mark named in the legend, so that they do not read as measured values.
const FLOOR = 1e-12;
const errorPoints: { patient: number; error: number; variant: string; measured: string }[] = [];
const addErrors = (errors: Float64Array, variant: string): void => {
  errors.forEach((e, i) => {
    errorPoints.push({ patient: i, error: Math.max(e, FLOOR), variant, measured: e < FLOOR ? 'below 1e-12 (drawn at 1e-12)' : 'measured' });
  });
};
addErrors(exactErrors, 'exact sigmoid at the client');
addErrors(polyEncErrors, 'server cubic vs the same cubic in plaintext');
addErrors(polyErrors, 'server cubic vs the exact sigmoid');
await show('01-medical-he-error.svg', {
  width: 420,
  height: 220,
  title: { text: 'Encrypted scoring: error of each decrypted probability', subtitle: '|decrypted - plaintext| per held-out patient' },
  data: { values: errorPoints },
  mark: { type: 'point', filled: true, opacity: 0.7 },
  encoding: {
    x: { field: 'patient', type: 'quantitative', title: 'held-out patient' },
    y: {
      field: 'error',
      type: 'quantitative',
      scale: { type: 'log', domain: [FLOOR, 1] },
      axis: { format: '.0e', tickCount: 12 },
      title: 'absolute error (log scale)',
    },
    color: { field: 'variant', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 0 } },
    shape: {
      field: 'measured',
      type: 'nominal',
      title: null,
      scale: { domain: ['measured', 'below 1e-12 (drawn at 1e-12)'], range: ['circle', 'triangle-down'] },
      legend: { orient: 'bottom', direction: 'vertical', labelLimit: 0 },
    },
  },
});

// ## 3. Secure multi-party computation: three hospitals
//
// The training rows are dealt to three hospitals, a third each. They run a 3-party replicated secret-sharing
// protocol (Araki et al. 2016; ABY3): every value is split into three random shares, any single hospital's
// shares look uniformly random, and no trusted dealer is needed. Security holds against one semi-honest
// hospital; two colluding hospitals can reconstruct everything. The parties run here on worker threads of
// one process; the protocol messages are the same as across a network.
//
// ### Step 1: joint feature means
//
// Joint feature means and standard deviations: each hospital contributes its local column sums and
// sums of squares, and secure aggregation reveals only the totals (not any hospital's own sums). Only
// additions happen, so this session accepts large inputs (`maxAbs` up to 2^37, the largest a double encodes with 16 fractional bits). The totals are exact aggregates, not
// differentially private.
import { SmpcSession, logisticRegressionPredict, secureAggregation, trainLogisticRegression } from '@ppml/smpc';

const hospitals = [0, 1, 2].map((h) => {
  const own = split.train.filter((_, i) => i % 3 === h);
  return { party: h, rows: take(rawRows, own), labels: take(labels, own) };
});
const d = featureNames.length;
const totalRows = hospitals.reduce((s, h) => s + h.rows.length, 0);

const statsStart = performance.now();
const statsSession = await SmpcSession.start({ parties: 3, protocol: 'replicated', maxAbs: 2 ** 37 });
let jointMean: Float64Array = new Float64Array(d);
let jointStd: Float64Array = new Float64Array(d);
try {
  const totals = await secureAggregation(
    statsSession,
    hospitals.map((h) => {
      const sums = new Float64Array(2 * d);
      for (const row of h.rows) {
        for (let j = 0; j < d; j++) {
          sums[j] += row[j];
          sums[d + j] += row[j] * row[j];
        }
      }
      return { party: h.party, values: sums };
    }),
  );
  jointMean = totals.slice(0, d).map((s) => s / totalRows);
  jointStd = jointMean.map((m, j) => Math.sqrt(Math.max(totals[d + j] / totalRows - m * m, 1e-12)));
} finally {
  await statsSession.close();
}
const pooled = fitStandardizer(hospitals.flatMap((h) => h.rows));
const meanError = Math.max(...Array.from(jointMean, (m, j) => Math.abs(m - pooled.mean[j]) / pooled.std[j]));
console.log(
  `joint means and standard deviations of ${d} features over ${totalRows} patients in ${(performance.now() - statsStart).toFixed(0)} ms; ` +
    `largest difference from pooling the data: ${meanError.toExponential(2)} standard deviations`,
);
console.log(`e.g. ${featureNames[0]}: mean ${jointMean[0].toFixed(3)}, sd ${jointStd[0].toFixed(3)}`);

// ### Step 2: a joint model, scored at each hospital
//
// Each hospital standardises its rows with the joint statistics and secret-shares
// them; full-batch gradient descent runs on the shares (SecureML-style), so the weights stay secret too.
// Step 3, predictions: each hospital's patients are scored with the secret joint model and the scores are
// revealed ONLY to that hospital (`revealTo`). This model is not differentially private: revealing it, or
// many of its predictions, can leak training data.
//
// The check at the end compares with the same gradient descent run on pooled plaintext data, which only
// this demonstration can do.
const standardise = (row: ArrayLike<number>): number[] => Array.from(row, (v, j) => (v - jointMean[j]) / jointStd[j]);
const epochsSmpc = 15;
const learningRateSmpc = 1;

const smpcStart = performance.now();
const session = await SmpcSession.start({ parties: 3, protocol: 'replicated' });
const smpcProbabilities: Float64Array[] = [];
try {
  const model = await trainLogisticRegression(
    session,
    hospitals.map((h) => ({ party: h.party, features: h.rows.flatMap(standardise), labels: h.labels })),
    { features: d, epochs: epochsSmpc, learningRate: learningRateSmpc },
  );
  const trainMs = performance.now() - smpcStart;
  const predictStart = performance.now();
  for (const h of hospitals) {
    const x = await session.share(h.party, h.rows.flatMap(standardise), [h.rows.length, d]);
    const p = logisticRegressionPredict(session, x, model.weights, model.bias);
    smpcProbabilities.push(await session.revealTo(h.party, p));
    session.free(x, p);
  }
  session.free(model.weights, model.bias);
  console.log(
    `joint training (${epochsSmpc} epochs on ${totalRows} secret rows) ${trainMs.toFixed(0)} ms; ` +
      `scoring every hospital's patients ${(performance.now() - predictStart).toFixed(0)} ms`,
  );
} finally {
  await session.close();
}

const pooledRows = hospitals.flatMap((h) => h.rows.map(standardise));
const pooledLabels = hospitals.flatMap((h) => h.labels);
const w = new Float64Array(d);
let b = 0;
for (let e = 0; e < epochsSmpc; e++) {
  const gw = new Float64Array(d);
  let gb = 0;
  pooledRows.forEach((x, i) => {
    const err = 1 / (1 + Math.exp(-x.reduce((s, v, j) => s + v * w[j], b))) - pooledLabels[i];
    for (let j = 0; j < d; j++) gw[j] += err * x[j];
    gb += err;
  });
  for (let j = 0; j < d; j++) w[j] -= (learningRateSmpc / totalRows) * gw[j];
  b -= (learningRateSmpc / totalRows) * gb;
}
let maxDiff = 0;
let correct = 0;
let k = 0;
hospitals.forEach((h, hi) => {
  h.rows.forEach((row, i) => {
    const x = standardise(row);
    const plain = 1 / (1 + Math.exp(-x.reduce((s, v, j) => s + v * w[j], b)));
    const secret = smpcProbabilities[hi][i];
    maxDiff = Math.max(maxDiff, Math.abs(plain - secret));
    if ((secret > 0.5 ? 1 : 0) === h.labels[i]) correct++;
    k++;
  });
});
console.log(
  `joint model: training accuracy ${((100 * correct) / k).toFixed(1)}% over the three hospitals; ` +
    `largest |SMPC - plaintext| probability ${maxDiff.toExponential(2)} (fixed point, 16 fractional bits)`,
);

// ## What was shown
//
// - DP-SGD bounds what the released model says about any one training patient, at a measurable cost in
//   accuracy that shrinks as epsilon grows; it says nothing about preprocessing or hyperparameter choices.
//   When a patient has several rows, only user-level training (`userIds`) gives that bound per patient.
// - CKKS lets a server score patients it cannot see, with decrypted scores equal to the plaintext ones up to
//   rounding (exact sigmoid) or approximation (polynomial sigmoid); decrypted scores stay with the clinic.
// - Secret sharing lets hospitals compute joint statistics and a joint model without pooling rows; what
//   they reveal (totals, predictions) is exact and can itself leak, so combine it with DP where that matters.
