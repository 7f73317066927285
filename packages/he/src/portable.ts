/**
 * The part of `@ppml/he` that runs everywhere, Node and browsers alike: the client, the planner, models,
 * polynomials, the wire format, the remote client of the HTTP service and the request signatures. `index.ts`
 * (Node) adds the in-process server; `browser.ts` adds stubs that say the server is Node only.
 * @module
 */
export { default as SEAL } from 'node-seal';
export { HeClient, type HeClientOptions, type HeClientLoadOptions, type Compression, type Upload } from './client.ts';
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
export { loadSeal, setSealWasmUrl, wasmHeapBytes, DEFAULT_HEAP_LIMIT_BYTES, type Seal } from './seal.ts';
export { HeRemote, type HeRemoteOptions, type RemoteModelInfo, type ServiceInfo } from './remote.ts';
export {
  type ServiceReason,
  type ServiceErrorBody,
  type SignedFields,
  HeServiceError,
  API_PREFIX,
  SIGNATURE_HEADERS,
  ED25519_KEY_BYTES,
  newSigningKey,
  signingPublicKey,
  keySetIdOf,
  signRequest,
  verifyRequest,
} from './protocol.ts';
