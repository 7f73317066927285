/**
 * Fixed-point encoding of doubles into the ring Z_2^64 (two's complement in a `BigUint64Array`) and back.
 * A value x is stored as round(x * 2^f) mod 2^64 with `f` fractional bits (16 by default, as in CrypTen and
 * SecretFlow SPU's FM64 default). Used by secret sharing (ring arithmetic) and by differentially private sums,
 * where fixed point keeps float rounding from breaking the sensitivity (Casacuberta et al. 2022, arXiv
 * 2207.10635, Sec. 4).
 *
 * Both directions are vectorised on the 32-bit halves of each word (no per-element `BigInt()`, about 4x faster),
 * and encoding throws a `RangeError` instead of wrapping when a value does not fit.
 * @module
 */
import { assertArrayLike, assertOptions, describeValue } from './validate.ts';

/** Default number of fractional bits. */
export const DEFAULT_FRACTIONAL_BITS = 16;

/** Options of {@link encodeFixedPoint} and {@link decodeFixedPoint}. */
export interface FixedPointOptions {
  /** Fractional bits f in [0, 52]; the resolution is 2^-f. Default 16. */
  fractionalBits?: number;
  /**
   * Largest |x| accepted by {@link encodeFixedPoint}. Default 2^(53 - f), so that round(x * 2^f) is an exact
   * double and the encoding is exact to 2^-(f+1). Protocols that multiply pass a smaller bound to keep headroom.
   */
  maxAbs?: number;
  /** Destination array, reused to avoid allocation; must have the input's length. */
  out?: BigUint64Array;
}

const TWO_32 = 4_294_967_296;
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

function checkBits(f: unknown): number {
  if (typeof f !== 'number' || !Number.isInteger(f) || f < 0 || f > 52) {
    throw new RangeError(`fractionalBits must be an integer in [0, 52], got ${describeValue(f)}`);
  }
  return f;
}

/**
 * The largest |x| that {@link encodeFixedPoint} accepts by default for `fractionalBits` f: 2^(53 - f).
 * @example
 * ```ts
 * fixedPointBound(16); // 137438953472 (2^37)
 * ```
 */
export function fixedPointBound(fractionalBits: number = DEFAULT_FRACTIONAL_BITS): number {
  return 2 ** (53 - checkBits(fractionalBits));
}

/**
 * Encodes doubles as fixed-point ring elements: round(x * 2^f) mod 2^64, ties to +Infinity.
 * The round trip error is at most 2^-(f+1). Throws `RangeError` for NaN, infinities or |x| > maxAbs.
 * @example
 * ```ts
 * const ring = encodeFixedPoint(Float64Array.of(1.5, -2)); // BigUint64Array [98304n, 18446744073709420544n]
 * ```
 */
export function encodeFixedPoint(values: ArrayLike<number>, options: FixedPointOptions = {}): BigUint64Array {
  assertOptions('options', options, ['fractionalBits', 'maxAbs', 'out']);
  assertArrayLike('values', values);
  if (options.out !== undefined && !(options.out instanceof BigUint64Array)) {
    throw new TypeError(`out must be a BigUint64Array, got ${describeValue(options.out)}`);
  }
  const f = checkBits(options.fractionalBits ?? DEFAULT_FRACTIONAL_BITS);
  const defaultMax = 2 ** (53 - f);
  const maxAbs = options.maxAbs ?? defaultMax;
  if (typeof maxAbs !== 'number' || !(maxAbs > 0 && maxAbs <= defaultMax)) {
    throw new RangeError(`maxAbs must be a number in (0, 2^${53 - f}], got ${describeValue(maxAbs)}`);
  }
  const n = values.length;
  const out = options.out ?? new BigUint64Array(n);
  if (out.length !== n) throw new RangeError(`out must have length ${n}, got ${out.length}`);
  const scale = 2 ** f;
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) out[i] = BigInt.asUintN(64, BigInt(Math.round(checked(values, i, maxAbs) * scale)));
    return out;
  }
  const w = new Uint32Array(out.buffer, out.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) {
    const v = Math.round(checked(values, i, maxAbs) * scale); // |v| <= 2^53: exact
    const hi = Math.floor(v / TWO_32);
    w[2 * i] = v - hi * TWO_32; // low word in [0, 2^32)
    w[2 * i + 1] = hi >>> 0; // two's complement of the high word
  }
  return out;
}

function checked(values: ArrayLike<number>, i: number, maxAbs: number): number {
  const x = values[i];
  if (typeof x !== 'number' || !(Math.abs(x) <= maxAbs)) {
    throw new RangeError(`values[${i}] must be a finite number with |x| <= ${maxAbs}, got ${describeValue(x)}`);
  }
  return x;
}

/**
 * Decodes fixed-point ring elements (two's complement) back to doubles: signed(v) / 2^f.
 * Values with |signed(v)| > 2^53 are rounded to the nearest double.
 * @example
 * ```ts
 * decodeFixedPoint(encodeFixedPoint([0.25]))[0]; // 0.25
 * ```
 */
export function decodeFixedPoint(
  ring: BigUint64Array,
  options: Omit<FixedPointOptions, 'maxAbs' | 'out'> & { out?: Float64Array } = {},
): Float64Array {
  if (!(ring instanceof BigUint64Array)) throw new TypeError(`ring must be a BigUint64Array, got ${describeValue(ring)}`);
  assertOptions('options', options, ['fractionalBits', 'out']);
  if (options.out !== undefined && !(options.out instanceof Float64Array)) {
    throw new TypeError(`out must be a Float64Array, got ${describeValue(options.out)}`);
  }
  const f = checkBits(options.fractionalBits ?? DEFAULT_FRACTIONAL_BITS);
  const n = ring.length;
  const out = options.out ?? new Float64Array(n);
  if (out.length !== n) throw new RangeError(`out must have length ${n}, got ${out.length}`);
  const inv = 2 ** -f;
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) out[i] = Number(BigInt.asIntN(64, ring[i])) * inv;
    return out;
  }
  const w = new Uint32Array(ring.buffer, ring.byteOffset, 2 * n);
  for (let i = 0; i < n; i++) out[i] = ((w[2 * i + 1] | 0) * TWO_32 + w[2 * i]) * inv;
  return out;
}
