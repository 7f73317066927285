/**
 * Accountants and calibration: RDP (Mironov 2017; sampled Gaussian of Mironov, Talwar, Zhang 2019), the tight
 * PLD accountant (Koskela et al. 2020; `dp_accounting`), zCDP (Canonne, Kamath, Steinke 2020), optimal advanced
 * composition (Kairouz, Oh, Viswanath 2015), noise calibration (Opacus's `get_noise_multiplier`) and a privacy
 * statement printer (TF Privacy's `compute_dp_sgd_privacy_statement`), plus the special functions they use.
 * @module
 */
// `erfc` and `normalCdf` are exported by the mechanisms module; the accountants' own (same accuracy) stay internal.
export { DEFAULT_RDP_ORDERS, DP_ACCOUNTING_RDP_ORDERS, TF_PRIVACY_RDP_ORDERS } from './orders.ts';
export {
  type RdpOrders,
  type SampledGaussianRdpOptions,
  type SampledWithoutReplacementGaussianRdpOptions,
  type RdpConversion,
  type RdpEpsilon,
  type RdpDelta,
  type RdpToEpsilonOptions,
  sampledGaussianRdp,
  gaussianRdp,
  laplaceRdp,
  sampledWithoutReplacementGaussianRdp,
  rdpToEpsilon,
  rdpToDelta,
} from './rdp.ts';
export {
  type DpEvent,
  type GaussianEvent,
  type LaplaceEvent,
  type PoissonSampledEvent,
  type SampledWithoutReplacementEvent,
  type ComposedEvent,
  type SelfComposedEvent,
  type EpsilonDeltaEvent,
  type RandomizedResponseEvent,
  type ExponentialMechanismEvent,
  gaussianEvent,
  laplaceEvent,
  epsilonDeltaEvent,
  randomizedResponseEvent,
  exponentialMechanismEvent,
  pureEpsilonOf,
  poissonSampledEvent,
  sampledWithoutReplacementEvent,
  composedEvent,
  selfComposedEvent,
  dpSgdEvent,
  validateEvent,
  effectiveGaussianNoiseMultiplier,
} from './events.ts';
export {
  type NeighboringRelation,
  type PrivacyAccountant,
  type RdpAccountantOptions,
  RdpAccountant,
} from './rdp-accountant.ts';
export { type PldAccountantOptions, PldAccountant, MAX_PLD_POINTS } from './pld-accountant.ts';
export { type BasicAccountantOptions, BasicAccountant } from './basic-accountant.ts';
export {
  type AccountantKind,
  type AccountantOptions,
  type Accountant,
  type RegisteredAccountant,
  type EventEpsilonOptions,
  ACCOUNTANT_KINDS,
  createAccountant,
  isAccountantKind,
  checkAccountantKind,
  accountantLabel,
  eventEpsilon,
} from './registry.ts';
export {
  type ComputeEpsilonOptions,
  type CalibrateNoiseOptions,
  MAX_NOISE_MULTIPLIER,
  MAX_TARGET_EPSILON,
  computeEpsilon,
  calibrateNoiseMultiplier,
} from './calibrate.ts';
export {
  type QueryNoiseOptions,
  type CalibrateNoiseParameterOptions,
  calibrateNoise,
  calibrateGaussianNoise,
  calibrateLaplaceNoise,
} from './calibrate-query.ts';
export { zcdpToDelta, zcdpToEpsilon, gaussianZcdpRho, pureDpToZcdpRho } from './zcdp.ts';
export {
  type AdvancedCompositionOptions,
  MAX_ADVANCED_COMPOSITION_COUNT,
  advancedComposition,
  advancedCompositionInverse,
} from './kov.ts';
export { type PrivacyStatementOptions, privacyStatement } from './statement.ts';
