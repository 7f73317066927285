/**
 * Clamped aggregate queries (count, sum, mean, variance, histogram, quantile) computed in exact fixed point
 * with floating-point-safe noise, and a privacy budget (filter and odometer) that refuses any overspend.
 * @module
 */
export {
  type PrivacyCost,
  type PrivacyBudgetOptions,
  type BudgetEntry,
  type BudgetAmounts,
  PrivacyBudget,
  PrivacyBudgetExceededError,
} from './budget.ts';
export { type QueryOptions, type BoundedQueryOptions, MIN_QUERY_EPSILON } from './common.ts';
export { dpCount, dpSum, dpMean, dpVariance } from './aggregates.ts';
export { type HistogramOptions, dpHistogram } from './histogram.ts';
export { type QuantileOptions, dpQuantile } from './quantile.ts';
