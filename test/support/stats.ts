/**
 * Shared helpers for statistical and numeric tests in every package. Each statistical check states its
 * false-failure probability; callers pick a fixed seed so a run is reproducible.
 */
import { expect } from 'vitest';

/** z such that P(|Z| > z) = 1e-5 for a standard normal Z (Google's DP test recipe: 4.41717). */
export const Z_1E5 = 4.41717;

/** Asserts |actual - expected| <= tol (absolute), with a readable message. */
export function expectClose(actual: number, expected: number, tol: number, what = 'value'): void {
  const err = Math.abs(actual - expected);
  expect(err, `${what}: |${actual} - ${expected}| = ${err} > ${tol}`).toBeLessThanOrEqual(tol);
}

/** Asserts |actual - expected| <= rtol * |expected| (relative). */
export function expectRelClose(actual: number, expected: number, rtol: number, what = 'value'): void {
  const err = Math.abs(actual - expected);
  const lim = rtol * Math.abs(expected);
  expect(err, `${what}: |${actual} - ${expected}| = ${err} > ${lim} (rtol ${rtol})`).toBeLessThanOrEqual(lim);
}

/** Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/**
 * Upper quantile of the chi-square distribution with `df` degrees of freedom at tail probability `alpha`
 * (Wilson-Hilferty cube-root approximation; within about 1% of the exact quantile for df >= 10).
 */
export function chiSquareCritical(df: number, alpha: number): number {
  const z = normalQuantile(1 - alpha);
  const k = 2 / (9 * df);
  return df * (1 - k + z * Math.sqrt(k)) ** 3;
}

/** Pearson's chi-square statistic of observed counts against expected counts (same length). */
export function chiSquareStatistic(observed: ArrayLike<number>, expected: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i];
    s += ((observed[i] - e) * (observed[i] - e)) / e;
  }
  return s;
}

/** Pearson's statistic of the byte values of `bytes` against the uniform law on 256 values (255 degrees of freedom). */
export function byteUniformityStatistic(bytes: Uint8Array): number {
  const counts = new Float64Array(256);
  for (const v of bytes) counts[v]++;
  return chiSquareStatistic(counts, new Float64Array(256).fill(bytes.length / 256));
}

/** Sample mean and unbiased sample variance. */
export function meanVariance(xs: ArrayLike<number>): { mean: number; variance: number } {
  let m = 0;
  let m2 = 0;
  for (let i = 0; i < xs.length; i++) {
    const d = xs[i] - m;
    m += d / (i + 1);
    m2 += d * (xs[i] - m);
  }
  return { mean: m, variance: m2 / (xs.length - 1) };
}

/**
 * Google's recipe: the sample mean is within `z` standard errors of `mean` (z = 4.41717: false failure 1e-5).
 */
export function expectMeanWithin(xs: ArrayLike<number>, mean: number, variance: number, z = Z_1E5): void {
  const { mean: m } = meanVariance(xs);
  const se = Math.sqrt(variance / xs.length);
  expect(Math.abs(m - mean), `mean ${m} vs ${mean} (se ${se})`).toBeLessThanOrEqual(z * se);
}
