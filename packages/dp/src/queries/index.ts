/**
 * Clamped aggregate queries (count, sum, mean, variance, histogram, quantile) computed in exact fixed point
 * with floating-point-safe noise, user-level versions with contribution bounds, partition selection and
 * group-by counts over unknown keys, and a privacy budget (filter and odometer) that refuses any overspend.
 * @module
 */
export {
  type PrivacyCost,
  type PrivacyBudgetOptions,
  type BudgetEntry,
  type BudgetAmounts,
  type OpenBudgetOptions,
  PrivacyBudget,
  PrivacyBudgetExceededError,
} from './budget.ts';
export { type QueryOptions, type BoundedQueryOptions, MIN_QUERY_EPSILON } from './common.ts';
export { dpCount, dpSum, dpMean, dpVariance } from './aggregates.ts';
export {
  type HistogramOptions,
  type GroupByCountOptions,
  type GroupByCounts,
  type GroupBySumOptions,
  type GroupBySums,
  dpHistogram,
  dpGroupByCount,
  dpGroupBySum,
} from './histogram.ts';
export type { Key as PartitionKey, ContributionBounds } from './contribution-bounds.ts';
export {
  type UserCountOptions,
  type UserBoundedOptions,
  type UserLevelResult,
  dpUserCount,
  dpUserSum,
  dpUserMean,
} from './user-level.ts';
export {
  type PartitionSelectionMethod,
  type PartitionSelectionParameters,
  type SelectPartitionsOptions,
  type SelectedPartitions,
  optimalKeepProbability,
  laplaceSelectionDelta,
  laplaceSelectionThreshold,
  gaussianSelectionDelta,
  gaussianSelectionThreshold,
  dpSelectPartitions,
} from './partition-selection.ts';
export { type QuantileOptions, dpQuantile } from './quantile.ts';
export { type QueryGuarantee, type QueryDescription, describeQuery } from './describe.ts';
