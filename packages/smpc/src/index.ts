/**
 * @ppml/smpc: secret-shared computation with parties on worker threads, or one party per process across
 * machines over mutually authenticated TLS.
 *
 * - {@link SmpcSession}: start parties (additive n-party sharing with dealer triples or, `dealer: 'none'`, triples by
 *   oblivious transfer; or replicated 3-party
 *   sharing, dealer-free by default: the parties make their own preprocessing), share inputs, compute on {@link SecretTensor} handles, reveal results, close.
 *   `security: 'malicious'` checks every opening and product before a reveal (replicated: redundant openings and
 *   verified triples; additive: SPDZ2k MACs over Z_2^128). `SmpcSession.connect` joins a session across machines
 *   as one party.
 * - {@link generateIdentity}, {@link startDealer}: a party's pinned self-signed certificate; the dealer process.
 * - {@link ProtocolAbortError}: the one error to branch on (a party crashed, hung or misbehaved).
 * - Applications: secure aggregation, joint statistics, logistic regression inference and training.
 * - {@link Transport}: the interface a network transport implements to run parties on separate machines.
 * @module
 */
export { ProtocolAbortError } from './errors.ts';
export {
  SmpcSession,
  SecretTensor,
  type SmpcSessionOptions,
  type SmpcConnectOptions,
  type PeerOption,
  type SmpcStats,
  type OperationStats,
  type PreprocessPlan,
  type FaultInjection,
  type SessionMemory,
  type WorkerMemory,
} from './session.ts';
export type { Transport } from './transport/transport.ts';
export { secureAggregation, type Contribution } from './apps/aggregation.ts';
export { jointStatistics, type JointStatistics } from './apps/statistics.ts';
export {
  logisticRegressionPredict,
  trainLogisticRegression,
  type TrainingPart,
  type TrainingOptions,
} from './apps/logistic.ts';
export { generateIdentity, certificateFingerprint, type Identity, type IdentityOptions } from './identity.ts';
export { startDealer, type DealerOptions, type DealerHandle } from './network/dealer.ts';
