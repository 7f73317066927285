/**
 * The Breast Cancer Wisconsin data as the DP-SGD tests use it: a fixed seeded 80/20 split, features
 * standardised with statistics of the training rows, and a test-accuracy helper for binary models.
 */
import { numericColumn, numericRows, readCsv, seededTestRng } from '@ppml/core';
import { type DenseModel, fitStandardizer, take, trainTestSplit } from '../../src/sgd/index.ts';

const table = readCsv(new URL('../../../../examples/data/breast_cancer.csv', import.meta.url));
export const featureNames = table.header.filter((h) => h !== 'target');
export const X = numericRows(table, featureNames);
export const Y = numericColumn(table, 'target');
export const split = trainTestSplit(X.length, 0.2, seededTestRng('breast-cancer-split'));
const scaler = fitStandardizer(take(X, split.train));
export const xTrain = scaler.transform(take(X, split.train));
export const xTest = scaler.transform(take(X, split.test));
export const yTrain = take(Y, split.train);
export const yTest = take(Y, split.test);

/** Share of held-out rows whose thresholded P(y = 1) matches the label. */
export function testAccuracy(model: DenseModel): number {
  const p = model.predict(xTest);
  let correct = 0;
  p.forEach((v, i) => {
    if ((v >= 0.5 ? 1 : 0) === yTest[i]) correct++;
  });
  return correct / yTest.length;
}
