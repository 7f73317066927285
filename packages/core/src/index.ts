/**
 * @ppml/core: what two or more ppml packages share.
 *
 * - Randomness: the {@link Rng} interface, the pooled CSPRNG, a seeded generator for tests, exact samplers.
 * - Fixed point: doubles to and from Z_2^64 ring elements.
 * - Validation: argument checks with messages that name the parameter and the allowed range.
 * - Errors across worker boundaries, CSV for the example data, worker module URLs.
 * @module
 */
export {
  type Rng,
  type Seed,
  PooledRng,
  CryptoRng,
  cryptoRng,
  SeededTestRng,
  seededTestRng,
  randomBytes,
  uniformInt,
  uniformBigInt,
  uniformDouble,
  bernoulli,
  bernoulliRational,
  assertRng,
  MAX_RANDOM_BYTES,
} from './random.ts';
export {
  type FixedPointOptions,
  DEFAULT_FRACTIONAL_BITS,
  fixedPointBound,
  encodeFixedPoint,
  decodeFixedPoint,
} from './fixed-point.ts';
export {
  type Matrix,
  type RangeOptions,
  describeValue,
  assertFinite,
  assertPositive,
  assertNonNegative,
  assertInRange,
  assertInteger,
  assertEpsilon,
  assertDelta,
  assertFiniteArray,
  assertSameLength,
  toFloat64Array,
  toMatrix,
  assertOptions,
  assertFunction,
  assertArrayLike,
} from './validate.ts';
export { type SerializedError, type ErrorConstructorLike, serializeError, deserializeError } from './errors.ts';
export { type CsvTable, parseCsv, readCsv, columnIndex, numericColumn, numericRows } from './csv.ts';
export { siblingModuleUrl, workerExecArgv } from './module-url.ts';
