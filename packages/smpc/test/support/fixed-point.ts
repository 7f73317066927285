// Fixed-point helpers shared by the tests that compare shared products with the exact ring product.
import { encodeFixedPoint } from '@ppml/core';

export const F = 16;
export const SCALE = 2 ** F;

/** The ring element (as a signed BigInt) that encodes v at 16 fractional bits. */
export function ring(v: number): bigint {
  return BigInt.asIntN(64, encodeFixedPoint([v], { fractionalBits: F })[0]);
}

/** Revealed value minus floor(exact / 2^f), in units of 2^-f: 0 or 1 for exact-wrap truncation. */
export function ulpOffset(revealed: number, exact: bigint): bigint {
  return BigInt(Math.round(revealed * SCALE)) - (exact >> BigInt(F));
}
