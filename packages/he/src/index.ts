/**
 * @ppml/he: encrypted inference with CKKS (Cheon, Kim, Kim, Song 2017) on Microsoft SEAL through node-seal 7.
 *
 * - Planner: CKKS parameters from depth and precision within the 128-bit security budget (`planner.ts`).
 * - Client/server split with a versioned binary wire format (`client.ts`, `server.ts`, `wire.ts`).
 * - Models: linear, logistic (exact sigmoid at the client by default; a server-side polynomial only with declared
 *   feature bounds that keep z inside its range), softmax, MLPs with polynomial activations.
 * - Column-major batching (thousands of samples per ciphertext, no rotations) and a row-major mode.
 * - Deterministic release of every SEAL object; worker-thread sharding for large requests.
 *
 * node-seal's package exports only an `import` condition, so it is re-exported here as `SEAL` for CommonJS
 * callers (e.g. notebook cells).
 * @module
 */
export { default as SEAL } from 'node-seal';
export { HeClient, type HeClientOptions, type HeClientLoadOptions, type Compression, type Upload } from './client.ts';
export { HeServer, HeModel, type HeServerOptions } from './server.ts';
export { HeFormatError, type HeFormatReason } from './errors.ts';
export {
  type CkksPlan,
  type PlanOptions,
  type PolyModulusDegree,
  POLY_MODULUS_DEGREES,
  MAX_COEFF_BITS_128,
  DEFAULT_DEPTH,
  DEFAULT_SCALE_BITS,
  MIN_AUTO_SCALE_BITS,
  PLAN_OPTION_KEYS,
  DEFAULT_INTEGER_BITS,
  DEFAULT_INPUT_BOUND,
  planParameters,
  describePlan,
} from './planner.ts';
export { HeContext, acquireContext, clearContextCache } from './context.ts';
export { CkksOps, CUBIC_SHIFT_LIMIT } from './evaluate.ts';
export { EncryptedVector, type VectorOperand } from './vector.ts';
export {
  type ActivationName,
  type FitMethod,
  type PolynomialApproximation,
  ACTIVATIONS,
  SIGMOID_POLY3,
  approximate,
  approximateActivation,
  maxAbsError,
  polyval,
  polynomialDepth,
} from './poly.ts';
export {
  type ModelSpec,
  type DenseLayer,
  type PolynomialStep,
  type PostProcess,
  type SigmoidOption,
  type ActivationOption,
  type LinearWeights,
  type LogisticOptions,
  type MlpOptions,
  type DenseLayerInput,
  type ImportOptions,
  type ModelLayout,
  MAX_LAYER_WIDTH,
  linearSpec,
  logisticSpec,
  mlpSpec,
  specFromJSON,
  modelDepth,
  evaluatePlain,
  applyPost,
} from './models.ts';
export { type Layout, rowBlockWidth, rowRotations } from './layout.ts';
export { WIRE_VERSION, WireKind, readHeader, type WireHeader } from './wire.ts';
export { SEAL_VERSION } from './seal-object.ts';
export { loadSeal, wasmHeapBytes, DEFAULT_HEAP_LIMIT_BYTES, type Seal } from './seal.ts';
