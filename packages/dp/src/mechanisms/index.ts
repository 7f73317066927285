/**
 * Floating-point-safe differential-privacy mechanisms: exact integer samplers (Canonne, Kamath & Steinke
 * 2020), Laplace and Gaussian mechanisms on a power-of-two grid (Google's differential-privacy library),
 * analytic Gaussian calibration (Balle & Wang 2018), the exponential mechanism and permute-and-flip, and
 * randomized response.
 * @module
 */
export {
  type BigRational,
  MAX_DISCRETE_GAUSSIAN_SIGMA,
  MAX_DISCRETE_LAPLACE_SCALE,
  sampleBernoulliExp,
  sampleGeometric,
  sampleDiscreteLaplace,
  sampleDiscreteGaussian,
  fillDiscreteLaplace,
  fillDiscreteGaussian,
} from './samplers.ts';
export {
  type GaussianCalibration,
  type GaussianDeltaParams,
  analyticGaussianSigma,
  classicGaussianSigma,
  gaussianDelta,
} from './calibration.ts';
export {
  LAPLACE_GRANULARITY_BITS,
  GAUSSIAN_GRANULARITY_BITS,
  ceilPowerOfTwo,
  laplaceGranularity,
  gaussianGranularity,
} from './granularity.ts';
export {
  type LaplaceOptions,
  type LaplaceMechanism,
  MIN_LAPLACE_EPSILON,
  MAX_LAPLACE_SCALE,
  MAX_MECHANISM_INPUT,
  laplaceMechanism,
  sampleLaplaceNoise,
} from './laplace.ts';
export { type GaussianOptions, type GaussianMechanism, gaussianMechanism, sampleGaussianNoise } from './gaussian.ts';
export {
  type SelectionOptions,
  type SelectionMechanism,
  exponentialMechanism,
  permuteAndFlip,
} from './exponential.ts';
export { decimalFloor, decimalCeil } from './decimal.ts';
export {
  type RandomizedResponseOptions,
  type RandomizedResponse,
  randomizedResponse,
} from './randomized-response.ts';
