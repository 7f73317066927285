// Script twin of 02-financial.ipynb: the same code and prose, runnable without Jupyter:
//   pnpm exec node --conditions=@ppml/source examples/notebooks/02-financial.ts
// (or after `pnpm run build`, without the condition). Charts are written to examples/out/.
//
// # Private statistics and credit scoring on the German Credit data
//
// 1000 loan applicants from a German bank in the 1970s, 20 attributes each, labelled `good` or `bad` credit
// risk (examples/data/credit-g.SOURCE.md). The data is used here to demonstrate privacy techniques, not to
// build a credit-scoring tool: the labels are past decisions of one bank, and several columns (sex and
// marital status, age, foreign-worker status) are protected characteristics (see the fairness caveat in
// the SOURCE file).
//
// 1. Differential privacy (@ppml/dp): an analyst asks for counts, histograms and quantiles; every answer is
//    noisy, and a privacy budget refuses the query that would spend more than was agreed. This protects each
//    applicant from what the published statistics reveal about them. It does not protect against whoever
//    holds the raw data, and the accuracy loss is largest for small groups.
// 2. Secure multi-party computation (@ppml/smpc): a bank with a secret scoring model and a bank with
//    applicants' data compute the scores together; neither sees the other's input.
// 3. Homomorphic encryption (@ppml/he): an applicant-side client encrypts its features and a scoring server
//    computes the score without seeing them.
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
// The category lists below are the data dictionary's declared values (the ARFF header), not values read off
// the data: a list of categories taken from private data is itself a release (it reveals which rare values
// occur). `vacation` is declared but never occurs, which the DP histogram must not reveal either.
import { columnIndex, numericColumn, readCsv } from '@ppml/core';

const table = readCsv(dataFile('credit-g.csv'));
const column = (name: string): string[] => {
  const j = columnIndex(table, name);
  return table.rows.map((row) => row[j]);
};
const PURPOSES = [
  'new car',
  'used car',
  'furniture/equipment',
  'radio/tv',
  'domestic appliance',
  'repairs',
  'education',
  'vacation',
  'retraining',
  'business',
  'other',
];
const CHECKING = ['<0', '0<=X<200', '>=200', 'no checking'];
const HISTORY = ['no credits/all paid', 'all paid', 'existing paid', 'delayed previously', 'critical/other existing credit'];
const SAVINGS = ['<100', '100<=X<500', '500<=X<1000', '>=1000', 'no known savings'];
const amount = numericColumn(table, 'credit_amount');
const purpose = column('purpose');
const purposeIndex = purpose.map((p) => PURPOSES.indexOf(p));
console.log(`${table.rows.length} applicants; credit amounts from ${Math.min(...amount)} to ${Math.max(...amount)} DM`);

// ## 1. Differential privacy: queries under a budget
//
// The analyst is granted a total budget of epsilon = 1 (pure DP, delta = 0). Each query states its epsilon,
// the budget records it before any noise is drawn, and a query that would overspend is refused with
// `PrivacyBudgetExceededError` (nothing is computed, nothing is recorded). Budgets compose sequentially
// (epsilons add up), which is valid even when the analyst chooses the next query after seeing the previous
// answers. Amounts are clamped to [0, 20000] DM, bounds fixed in advance, not read off the data. The
// epsilons are dyadic fractions (1/8, 1/4) so that they add up exactly.
import { PrivacyBudget, PrivacyBudgetExceededError, dpCount, dpHistogram, dpQuantile } from '@ppml/dp';

const budget = new PrivacyBudget({ epsilon: 1 });
const AMOUNT_RANGE = { lower: 0, upper: 20000 };

const noisyTotal = dpCount(table.rows, { epsilon: 0.125, budget, label: 'number of applicants' });
// Each applicant falls in exactly one purpose, so the whole histogram costs one epsilon (parallel composition).
const purposeEdges = PURPOSES.map((_, i) => i - 0.5).concat(PURPOSES.length - 0.5);
const noisyByPurpose = dpHistogram(purposeIndex, { edges: purposeEdges, epsilon: 0.125, budget, label: 'applicants by purpose' });
const amountBins = 20;
const noisyAmounts = dpHistogram(amount, { ...AMOUNT_RANGE, bins: amountBins, epsilon: 0.25, budget, label: 'credit amount histogram' });
console.log(`noisy number of applicants: ${noisyTotal} (true: ${table.rows.length})`);
console.log(`noisy applicants by purpose: ${PURPOSES.map((p, i) => `${p} ${noisyByPurpose[i]}`).join(', ')}`);
console.log(
  '(the noise is symmetric around 0, so a small or empty group can come out negative; the counts are shown as ' +
    'released, since rounding them up to 0 would bias every total built from them)',
);

// Median credit amount for the two most common purposes. "Most common" is decided from the NOISY counts
// (post-processing is free); deciding it from the true counts would leak. The budget charges the two
// medians sequentially (0.25 each) although the groups are disjoint: conservative, but always valid. Each
// median is one of 201 candidate amounts (every 100 DM), picked at random with a preference for candidates
// whose rank is close to the middle (the exponential mechanism). With a smaller epsilon or a smaller group
// the answer can land far from the true median: the rank error grows like ln(candidates) / epsilon, which
// is a large part of a group of a few hundred applicants.
const topPurposes = PURPOSES.map((name, i) => ({ name, count: noisyByPurpose[i] }))
  .sort((a, b) => b.count - a.count)
  .slice(0, 3)
  .map((p) => p.name);
const amountsFor = (name: string): Float64Array => amount.filter((_, i) => purpose[i] === name);
const medians = topPurposes.slice(0, 2).map((name) => {
  const values = amountsFor(name);
  const noisy = dpQuantile(values, { q: 0.5, ...AMOUNT_RANGE, epsilon: 0.25, candidates: 201, budget, label: `median amount: ${name}` });
  const sorted = Array.from(values).sort((a, b) => a - b);
  return { name, noisy, exact: sorted[Math.floor(sorted.length / 2)] };
});
for (const m of medians) {
  console.log(`median credit amount, ${m.name.padEnd(20)} noisy ${m.noisy.toFixed(0).padStart(6)} DM (true ${m.exact} DM)`);
}
console.log(`spent epsilon ${budget.spent.epsilon}, remaining ${budget.remaining.epsilon}`);

// The whole budget is now spent. The median for the third most common purpose would cost another 0.25: the
// budget refuses it before touching the data.
try {
  dpQuantile(amountsFor(topPurposes[2]), {
    q: 0.5,
    ...AMOUNT_RANGE,
    epsilon: 0.25,
    candidates: 201,
    budget,
    label: `median amount: ${topPurposes[2]}`,
  });
  throw new Error('the budget accepted a query that overspends');
} catch (error) {
  if (!(error instanceof PrivacyBudgetExceededError)) throw error;
  console.log(`refused: ${error.message}`);
}
console.log('ledger:');
for (const entry of budget.ledger) console.log(`  ${entry.index}. ${entry.label}: epsilon ${entry.epsilon}`);

// ### Noisy against true histograms
//
// The true counts are shown only to judge the noise; a real analyst never sees them. Discrete Laplace noise
// of scale 1/epsilon (8 for purposes, 4 for amounts) is small against counts in the hundreds and large against counts of ten: the rare
// purposes (and the empty `vacation` bin) are where DP statistics get unreliable. Counts can come out
// negative; rounding them up to 0 is free post-processing, but is left out here to show the raw noise.
const truePurpose = PURPOSES.map((name) => purpose.filter((p) => p === name).length);
// The count axis starts at the lowest value shown (a negative noisy count stays visible) without padding below it.
const countDomain = (values: ArrayLike<number>): [number, number] => {
  const all = Array.from(values);
  return [Math.min(0, Math.floor(Math.min(...all))), Math.ceil(Math.max(...all) / 50) * 50];
};
await show('02-financial-purpose.svg', {
  width: 420,
  height: 200,
  title: { text: 'Applicants by purpose: DP histogram against the true counts', subtitle: 'epsilon 0.125; a noisy count can be negative' },
  data: {
    values: PURPOSES.flatMap((name, i) => [
      { purpose: name, kind: 'true', count: truePurpose[i] },
      { purpose: name, kind: 'DP (noisy)', count: noisyByPurpose[i] },
    ]),
  },
  mark: 'bar',
  encoding: {
    x: { field: 'purpose', type: 'nominal', sort: PURPOSES, title: null, axis: { labelAngle: -40 } },
    xOffset: { field: 'kind' },
    y: {
      field: 'count',
      type: 'quantitative',
      title: 'applicants',
      scale: { domain: countDomain([...truePurpose, ...noisyByPurpose]), nice: false },
    },
    color: { field: 'kind', type: 'nominal', title: null },
  },
});
const binWidth = (AMOUNT_RANGE.upper - AMOUNT_RANGE.lower) / amountBins;
const trueAmounts = new Array<number>(amountBins).fill(0);
for (const a of amount) trueAmounts[Math.min(amountBins - 1, Math.floor(a / binWidth))] += 1;
await show('02-financial-amounts.svg', {
  width: 420,
  height: 200,
  title: { text: 'Credit amount histogram: DP against true counts', subtitle: 'epsilon 0.25, 20 bins of 1,000 DM' },
  data: {
    values: trueAmounts.flatMap((count, k) => [
      { from: k * binWidth, kind: 'true', count },
      { from: k * binWidth, kind: 'DP (noisy)', count: noisyAmounts[k] },
    ]),
  },
  mark: { type: 'line', point: true, interpolate: 'step-after' },
  encoding: {
    x: { field: 'from', type: 'quantitative', title: 'credit amount (DM, bin start)' },
    y: {
      field: 'count',
      type: 'quantitative',
      title: 'applicants',
      scale: { domain: countDomain([...trueAmounts, ...noisyAmounts]), nice: false },
    },
    color: { field: 'kind', type: 'nominal', title: null },
  },
});

// ## 2. A secret scoring model (NOT private)
//
// Bank A owns a logistic-regression model that predicts good credit from the seven numeric attributes
// (standardised) and one-hot checking status, credit history and savings. It is trained here with
// @ppml/dp's `trainSgd`, the NON-PRIVATE baseline trainer: the model carries no DP guarantee and may
// memorise its training applicants. It is "secret" only in the sense that bank A will not show it to anyone;
// the following sections keep it (or the applicants' data) hidden during scoring. Not hidden: the scaling
// constants (means and standard deviations of bank A's training data), which the applicants' side needs to
// prepare its rows and receives in the clear, and the list of features. The accuracy is also reported by age
// group, as the data's fairness caveat asks; neither figure is private.
import { fitStandardizer, logisticRegression, take, trainSgd, trainTestSplit } from '@ppml/dp';

const NUMERIC = ['duration', 'credit_amount', 'installment_commitment', 'residence_since', 'age', 'existing_credits', 'num_dependents'];
const numericCols = NUMERIC.map((name) => numericColumn(table, name));
const oneHot = (name: string, values: string[]): number[][] => {
  const col = column(name);
  return col.map((v) => values.map((x) => (v === x ? 1 : 0)));
};
const categorical = [oneHot('checking_status', CHECKING), oneHot('credit_history', HISTORY), oneHot('savings_status', SAVINGS)];
const good = column('class').map((c) => (c === 'good' ? 1 : 0));
const ages = numericColumn(table, 'age');

const credit = trainTestSplit(table.rows.length, 0.3);
const numericRows = table.rows.map((_, i) => numericCols.map((c) => c[i]));
const numericScaler = fitStandardizer(take(numericRows, credit.train));
const design = (indices: Uint32Array): number[][] =>
  numericScaler.transform(take(numericRows, indices)).map((row, r) => [...Array.from(row), ...categorical.flatMap((c) => c[indices[r]])]);
const xTrain = design(credit.train);
const xTest = design(credit.test);
const yTrain = take(good, credit.train);
const yTest = take(good, credit.test);
const features = xTrain[0].length;

const scoring = trainSgd({ model: logisticRegression({ features }), x: xTrain, y: yTrain, epochs: 40, batchSize: 32, learningRate: 0.1 });
console.log(scoring.statement);
const plainScores = scoring.model.predict(xTest);
const hits = (from: number[]): number => from.filter((i) => (plainScores[i] > 0.5 ? 1 : 0) === yTest[i]).length / from.length;
const everyone = yTest.map((_, i) => i);
const young = everyone.filter((i) => ages[credit.test[i]] < 25);
const older = everyone.filter((i) => ages[credit.test[i]] >= 25);
console.log(
  `${features} features; test accuracy ${(100 * hits(everyone)).toFixed(1)}% ` +
    `(predicting "good" for everyone: ${((100 * yTest.filter((v) => v === 1).length) / yTest.length).toFixed(1)}%); ` +
    `applicants under 25: ${(100 * hits(young)).toFixed(1)}% of ${young.length}, 25 and over: ${(100 * hits(older)).toFixed(1)}% of ${older.length}`,
);

// ## 3. Two banks score applicants under SMPC
//
// Bank B holds the test applicants' features; bank A holds the model. They run a 2-party additive
// secret-sharing protocol: A shares the weights, B shares its applicants, the parties compute
// sigmoid(x·w + b) on shares, and only bank B learns the scores (`revealTo`). Bank A learns nothing but the
// number of applicants; bank B learns nothing about the weights beyond what the scores themselves imply (many
// scores can reveal the model: this is inherent in revealing outputs, not a weakness of the protocol).
//
// Assumptions: both banks follow the protocol (semi-honest); the multiplication triples come from a dealer
// (a third worker here) that must not collude with either bank; fixed-point arithmetic with 16 fractional
// bits and a secure approximation of the sigmoid, so the scores differ slightly from the plaintext ones.
import { SmpcSession, logisticRegressionPredict } from '@ppml/smpc';

const BANK_A = 0;
const BANK_B = 1;
const sessionStart = performance.now();
const session = await SmpcSession.start({ parties: 2, protocol: 'additive' });
let smpcScores: Float64Array = new Float64Array(0);
try {
  const startMs = performance.now() - sessionStart;
  const scoreStart = performance.now();
  const w = await session.share(BANK_A, scoring.model.layerWeights(0), [features, 1]);
  const b = await session.share(BANK_A, scoring.model.layerBias(0), [1, 1]);
  const x = await session.share(BANK_B, xTest.flat(), [xTest.length, features]);
  const p = logisticRegressionPredict(session, x, w, b);
  smpcScores = await session.revealTo(BANK_B, p);
  session.free(w, b, x, p);
  const stats = session.stats();
  console.log(
    `SMPC: parties started in ${startMs.toFixed(0)} ms; ${xTest.length} applicants scored in ${(performance.now() - scoreStart).toFixed(0)} ms; ` +
      `${stats.online.rounds} rounds, ${(stats.online.bytesPerParty[BANK_A] / 1024).toFixed(0)} KiB sent by bank A, ` +
      `${(stats.online.bytesPerParty[BANK_B] / 1024).toFixed(0)} KiB by bank B`,
  );
} finally {
  await session.close();
}
const smpcError = Math.max(...Array.from(smpcScores, (s, i) => Math.abs(s - plainScores[i])));
let smpcAgree = 0;
for (let i = 0; i < smpcScores.length; i++) if (smpcScores[i] > 0.5 === plainScores[i] > 0.5) smpcAgree++;
console.log(
  `SMPC scores against plaintext: max |error| ${smpcError.toExponential(2)}; same decision for ${smpcAgree} of ${smpcScores.length}`,
);

// ## 4. Encrypted credit scoring under HE
//
// Now the applicants' side (bank B, or an applicant's app) encrypts the features with CKKS and sends the
// ciphertexts to bank A, which evaluates its model on them and returns encrypted scores w·x + b that only the
// client can decrypt; the client applies the exact sigmoid (the default: one multiplicative level, so the
// planner picks the smallest ring, N = 4096).
// Unlike SMPC, bank A's model is in plaintext on bank A's server and no third party is involved; bank A sees
// only ciphertexts. As in SMPC, the client learns the scores, which over many queries reveal the model.
//
// Caveat: CKKS in SEAL is not IND-CPA-D secure (Li and Micciancio 2021). The client must not return
// decrypted scores, or decisions derived from them, to bank A; doing so can leak the secret key.
import { HeClient, HeServer } from '@ppml/he';

const testLogits = scoring.model.logits(xTest);
console.log(
  `plaintext scores w·x + b of the test applicants lie in [${Math.min(...testLogits).toFixed(2)}, ${Math.max(...testLogits).toFixed(2)}]`,
);
const keysStart = performance.now();
const client = await HeClient.create({ inputBound: 16 });
const server = await HeServer.create(client.exportEvaluationKeys(), { threads: 1 });
let heScores: Float64Array = new Float64Array(0);
try {
  const setupMs = performance.now() - keysStart;
  const model = server.logisticRegression({
    weights: scoring.model.layerWeights(0),
    bias: scoring.model.layerBias(0)[0],
  });
  try {
    const heStart = performance.now();
    const encrypted = client.encryptRows(xTest);
    const encScores = await model.predict(encrypted);
    heScores = client.decryptScores(encScores);
    console.log(
      `HE: keys ${setupMs.toFixed(0)} ms; encrypt, score and decrypt ${xTest.length} applicants ${(performance.now() - heStart).toFixed(0)} ms; ` +
        `${(encrypted.length / 1024).toFixed(0)} KiB up, ${(encScores.length / 1024).toFixed(0)} KiB down`,
    );
  } finally {
    model.dispose();
  }
} finally {
  client.close();
  await server.close();
}
const heError = Math.max(...Array.from(heScores, (s, i) => Math.abs(s - plainScores[i])));
let heAgree = 0;
for (let i = 0; i < heScores.length; i++) if (heScores[i] > 0.5 === plainScores[i] > 0.5) heAgree++;
console.log(
  `HE scores (exact sigmoid at the client) against plaintext: max |error| ${heError.toExponential(2)}; same decision for ${heAgree} of ${heScores.length}`,
);

// ### Private scores against plaintext scores
//
// Each point is one applicant: the plaintext model's probability of good credit on the x axis, the score
// computed under SMPC or HE on the y axis. Points on the diagonal are exact, and both techniques land on it:
// SMPC's error comes from fixed point (16 fractional bits), HE's from CKKS's rounding noise (the sigmoid itself
// is exact, applied by the client after decryption); both are far below what the eye can see, as the maximum
// errors printed above show.
await show('02-financial-scores.svg', {
  width: 300,
  height: 300,
  title: 'Scores under SMPC and HE against plaintext',
  data: {
    values: Array.from(plainScores, (plain, i) => [
      { plain, secure: smpcScores[i], technique: 'SMPC (2 banks)' },
      { plain, secure: heScores[i], technique: 'HE (CKKS, exact sigmoid at the client)' },
    ]).flat(),
  },
  mark: { type: 'point', opacity: 0.5 },
  encoding: {
    x: { field: 'plain', type: 'quantitative', title: 'plaintext probability of good credit' },
    y: { field: 'secure', type: 'quantitative', title: 'privately computed score' },
    color: { field: 'technique', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 0 } },
  },
});

// ## What was shown
//
// - A privacy budget turns "ask anything" into a fixed, auditable allowance: every answer is noisy, the
//   ledger records what was spent, and the query that would overspend is refused before it runs.
// - SMPC lets a model owner and a data owner compute scores that only the data owner sees; it relies on the
//   parties not colluding (here also with the dealer) and reveals exact outputs.
// - HE does the same with two parties and no dealer, at a higher computational cost; decrypted scores must
//   stay with the client.
// - None of these techniques makes the model fair or its labels true: the data's protected attributes and
//   historical decisions remain a separate, unsolved problem.
