/**
 * How much dealer material each operation consumes, per element (internal). Used by
 * `SmpcSession.preprocess` to generate material ahead of the online phase, and by party 0 to order an
 * operation's material in one batch when it starts (instead of one dealer round trip per step).
 * The counts mirror `party.ts`; a miscount only costs an extra dealer request, never a wrong result.
 * @module
 */
import type { MaterialRequest } from './preprocessing.ts';

/**
 * Material for `count` elements of operation `op` under `protocol` with f fractional bits.
 * @example
 * ```ts
 * materialFor('mul', 1000, true, 16); // a triple and a truncation pair per element
 * ```
 */
export function materialFor(
  op: string,
  count: number,
  additive: boolean,
  f: number,
  shape?: { m: number; k: number; n: number },
): MaterialRequest[] {
  const out = new Map<string, MaterialRequest>();
  const put = (req: MaterialRequest): void => {
    if (req.count <= 0) return;
    const prev = out.get(req.key);
    out.set(req.key, prev ? { ...prev, count: prev.count + req.count } : req);
  };
  const trunc = (shift: number, k: number): void => put({ key: `trunc:${shift}`, kind: 'trunc', count: k * count, shift });
  const triples = (k: number): void => {
    if (additive) put({ key: 'triple', kind: 'triple', count: k * count });
  };
  const ltz = (k: number): void => {
    put({ key: 'edabit', kind: 'edabit', count: k * count });
    put({ key: 'dabit', kind: 'dabit', count: k * count });
    if (additive) put({ key: 'andTriple', kind: 'andTriple', count: 11 * k * count });
  };
  switch (op) {
    case 'mul':
    case 'square':
      triples(1);
      trunc(f, 1);
      break;
    case 'mulPublic':
      trunc(f, 1);
      break;
    case 'lessThan':
    case 'lessThanPublic':
      ltz(1);
      break;
    case 'relu':
      ltz(1);
      triples(1);
      break;
    case 'sigmoid':
    case 'sigmoidClamped': {
      // The saturating variant (inputs whose range exceeds +-1024) adds a comparison and a gate product.
      const clamped = op === 'sigmoidClamped' ? 1 : 0;
      const bits = Math.min(f + 10, 30);
      ltz(1 + clamped);
      triples(1 + 10 + 4 + 1 + clamped);
      if (bits - f - 10 < 0) trunc(f + 10 - bits, 1);
      trunc(bits, 10);
      if (bits > f) trunc(bits - f, 1);
      trunc(f, 5);
      break;
    }
    case 'matmul':
      if (shape) {
        if (additive) put({ key: `mm:${shape.m}x${shape.k}x${shape.n}`, kind: 'matTriple', count: 1, ...shape });
        trunc(f, 1);
      }
      break;
  }
  return [...out.values()];
}

/**
 * Shares of zero (replicated sharing) that `count` elements of `op` consume: binary words for the AND gates of
 * comparisons, arithmetic words for products that are re-shared without truncation.
 * @example
 * ```ts
 * zerosFor('lessThan', 1000); // { xor: 11000, arith: 0 }
 * ```
 */
export function zerosFor(op: string, count: number): { xor: number; arith: number } {
  switch (op) {
    case 'lessThan':
    case 'lessThanPublic':
      return { xor: 11 * count, arith: 0 };
    case 'relu':
      return { xor: 11 * count, arith: count };
    case 'sigmoid':
      return { xor: 11 * count, arith: 2 * count };
    case 'sigmoidClamped':
      return { xor: 22 * count, arith: 3 * count };
    default:
      return { xor: 0, arith: 0 };
  }
}

/**
 * Products that `count` elements of `op` check under malicious security (one verified triple and one share of zero
 * each): the additive protocol's triple counts, since both multiply at the same points, with a matrix product
 * done as its m k n element products.
 * @example
 * ```ts
 * checkedProductsFor('lessThan', 1000, 16); // { xor: 11000, arith: 0 }
 * ```
 */
export function checkedProductsFor(
  op: string,
  count: number,
  f: number,
  shape?: { m: number; k: number; n: number },
): { xor: number; arith: number } {
  let xor = 0;
  let arith = 0;
  for (const r of materialFor(op, count, true, f, shape)) {
    if (r.kind === 'triple') arith += r.count;
    else if (r.kind === 'andTriple') xor += r.count;
    else if (r.kind === 'matTriple') arith += r.count * (r.m ?? 0) * (r.k ?? 0) * (r.n ?? 0);
  }
  return { xor, arith };
}

/**
 * SPDZ2k material that `count` elements of `op` use (`protocols/spdz2k.ts`): random bits (64 per truncation and
 * per comparison) and triples (each product, 125 per comparison, m k n per matrix product), in the fields
 * `xor` (bits) and `arith` (triples) of the preprocess message.
 * @example
 * ```ts
 * spdz2kMaterialFor('mul', 1000, 16); // { xor: 64000, arith: 1000 }
 * ```
 */
export function spdz2kMaterialFor(
  op: string,
  count: number,
  f: number,
  shape?: { m: number; k: number; n: number },
): { xor: number; arith: number } {
  let bits = 0;
  let triples = 0;
  for (const r of materialFor(op, count, true, f, shape)) {
    if (r.kind === 'triple') triples += r.count;
    else if (r.kind === 'matTriple') triples += r.count * (r.m ?? 0) * (r.k ?? 0) * (r.n ?? 0);
    else if (r.kind === 'trunc') bits += 64 * r.count;
    else if (r.kind === 'edabit') {
      bits += 64 * r.count;
      triples += 125 * r.count;
    }
  }
  return { xor: bits, arith: triples };
}
