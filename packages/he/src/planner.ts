/**
 * CKKS parameter planner: from a circuit's multiplicative depth and the wanted precision and integer headroom it
 * chooses the polynomial modulus degree N and the coefficient-modulus bit sizes, within the 128-bit security
 * budget of the Homomorphic Encryption Standard as tabulated in SEAL's `hestdparms.h` (ternary secret).
 *
 * Layout of the modulus chain (Cheon, Kim, Kim, Song 2017, "CKKS", §3 rescaling; SEAL example `5_ckks_basics`):
 * `[q0, q1 … qd, P]` where the d middle primes have `scaleBits` bits (one is consumed by each rescale), the first
 * prime `q0` has `scaleBits + integerBits + 1` bits so that a result with |value| < 2^integerBits still fits
 * after the last rescale, and the special prime `P` (key switching only) is at least as large as the largest
 * data prime. A smaller special prime makes rotations return garbage while relinearisation still looks right,
 * so the planner never produces one. Plans above the budget are rejected with the smallest N that would fit.
 *
 * When the caller fixes neither the scale (`scaleBits`/`precisionBits`) nor N, the planner takes the smallest N
 * whose budget holds the chain at some scale between {@link MIN_AUTO_SCALE_BITS} and {@link DEFAULT_SCALE_BITS}
 * bits, with the largest such scale: a smaller ring halves the size of every ciphertext and key and the cost of
 * every operation, and per sample costs the same (N/2 slots). The default depth 1 (a linear layer, e.g.
 * logistic regression with the exact sigmoid at the client) then fits N = 4096 as [39, 30 | 39] = 108 of 109 bits.
 * @module
 */
import { assertArrayLike, assertInteger, assertOptions, describeValue } from '@ppml/core';

/** Polynomial modulus degrees the planner considers (slots = N / 2). */
export type PolyModulusDegree = 4096 | 8192 | 16384 | 32768;

/**
 * Candidate degrees, smallest first.
 * @example
 * ```ts
 * POLY_MODULUS_DEGREES.includes(8192); // true
 * ```
 */
export const POLY_MODULUS_DEGREES: readonly PolyModulusDegree[] = [4096, 8192, 16384, 32768];

/**
 * Largest total coefficient-modulus bit count at 128-bit classical security (HE Standard, SEAL `hestdparms.h`,
 * `SEAL_HE_STD_PARMS_128_TC`), by N.
 * @example
 * ```ts
 * MAX_COEFF_BITS_128[8192]; // 218
 * ```
 */
export const MAX_COEFF_BITS_128: Readonly<Record<number, number>> = {
  1024: 27,
  2048: 54,
  4096: 109,
  8192: 218,
  16384: 438,
  32768: 881,
};

/** What the planner needs to know about the circuit. */
export interface PlanOptions {
  /** Rescales along the deepest path (linear layer = 1, degree-3 polynomial = 2). Default 1. */
  depth?: number;
  /** Force a degree; the plan fails with a `RangeError` when it does not fit the security budget. */
  polyModulusDegree?: PolyModulusDegree;
  /**
   * log2 of the CKKS scale, 20..59. Default: `precisionBits + 14` when given, else 40 when `polyModulusDegree`
   * is given, else the largest scale in [30, 40] that fits the smallest ring (see the module notes).
   */
  scaleBits?: number;
  /** Wanted bits after the binary point of a fresh encryption; sets `scaleBits = precisionBits + 14`. */
  precisionBits?: number;
  /** Results (after the last rescale) must satisfy |value| < 2^integerBits. Default 8. */
  integerBits?: number;
  /** Rotation steps the circuit uses (Galois keys are generated for exactly these). Default none. */
  rotations?: readonly number[];
  /** Largest |input| the client may encrypt; larger values are rejected. Default 64. */
  inputBound?: number;
}

/** A CKKS parameter set; plain data, safe to send to workers and to print. */
export interface CkksPlan {
  readonly polyModulusDegree: PolyModulusDegree;
  /** Bit sizes `[q0, q1 … qd, P]`: data primes, then the special prime. */
  readonly coeffModulusBits: readonly number[];
  readonly scaleBits: number;
  readonly depth: number;
  readonly integerBits: number;
  /** Values per ciphertext: N / 2. */
  readonly slots: number;
  readonly rotations: readonly number[];
  readonly inputBound: number;
  /** Sum of `coeffModulusBits`. */
  readonly totalBits: number;
  /** The 128-bit budget for this N. */
  readonly maxTotalBits: number;
  readonly securityLevel: 128;
}

/**
 * Default circuit depth: one linear layer (the default logistic regression applies the exact sigmoid at the
 * client). A server-side polynomial needs more: a degree-3 sigmoid after a linear layer needs depth 3.
 * @example
 * ```ts
 * planParameters().depth === DEFAULT_DEPTH; // true
 * ```
 */
export const DEFAULT_DEPTH = 1;
/**
 * Default (and largest automatically chosen) log2 scale.
 * @example
 * ```ts
 * planParameters().scaleBits === DEFAULT_SCALE_BITS; // true
 * ```
 */
export const DEFAULT_SCALE_BITS = 40;
/**
 * Smallest log2 scale the planner chooses by itself to fit a smaller ring (a fresh encryption then carries
 * about 2^-24 absolute error; ask for more with `scaleBits` or `precisionBits`).
 * @example
 * ```ts
 * planParameters({ depth: 1 }).scaleBits >= MIN_AUTO_SCALE_BITS; // true
 * ```
 */
export const MIN_AUTO_SCALE_BITS = 30;
/**
 * Default integer headroom of results, in bits.
 * @example
 * ```ts
 * planParameters().integerBits === DEFAULT_INTEGER_BITS; // true
 * ```
 */
export const DEFAULT_INTEGER_BITS = 8;
/**
 * Default largest |input|.
 * @example
 * ```ts
 * planParameters().inputBound === DEFAULT_INPUT_BOUND; // true
 * ```
 */
export const DEFAULT_INPUT_BOUND = 64;

function bitsFor(depth: number, scaleBits: number, integerBits: number): number[] {
  const first = scaleBits + integerBits + 1;
  const special = Math.max(first, scaleBits);
  return [first, ...Array.from({ length: depth }, () => scaleBits), special];
}

/**
 * Keys of {@link PlanOptions}.
 * @example
 * ```ts
 * PLAN_OPTION_KEYS.includes('depth'); // true
 * ```
 */
export const PLAN_OPTION_KEYS: readonly (keyof PlanOptions)[] = [
  'depth',
  'polyModulusDegree',
  'scaleBits',
  'precisionBits',
  'integerBits',
  'rotations',
  'inputBound',
];

/** Total bits of the chain for `depth` rescales: (depth + 2)·scale + 2·integerBits + 2 (first and special prime). */
function totalFor(depth: number, scaleBits: number, integerBits: number): number {
  return bitsFor(depth, scaleBits, integerBits).reduce((a, b) => a + b, 0);
}

/**
 * Chooses CKKS parameters for a circuit of the given depth, at 128-bit security.
 * @example
 * ```ts
 * const plan = planParameters({ depth: 3 }); // N = 8192, bits [49, 40, 40, 40, 49] = 218
 * ```
 */
export function planParameters(options: PlanOptions = {}): CkksPlan {
  assertOptions('options', options as unknown, PLAN_OPTION_KEYS);
  const depth = options.depth ?? DEFAULT_DEPTH;
  assertInteger('depth', depth, 1, 30);
  let scaleBits = options.scaleBits;
  if (scaleBits === undefined && options.precisionBits !== undefined) {
    assertInteger('precisionBits', options.precisionBits, 6, 45);
    scaleBits = options.precisionBits + 14;
  }
  const integerBits = options.integerBits ?? DEFAULT_INTEGER_BITS;
  if (scaleBits === undefined && options.polyModulusDegree === undefined) {
    assertInteger('integerBits', integerBits, 1, 59 - MIN_AUTO_SCALE_BITS);
    // The smallest ring that holds the chain at a scale in [MIN_AUTO_SCALE_BITS, DEFAULT_SCALE_BITS], largest scale.
    for (const n of POLY_MODULUS_DEGREES) {
      let s = Math.min(DEFAULT_SCALE_BITS, 59 - integerBits);
      while (s >= MIN_AUTO_SCALE_BITS && totalFor(depth, s, integerBits) > MAX_COEFF_BITS_128[n]) s--;
      if (s >= MIN_AUTO_SCALE_BITS) {
        scaleBits = s;
        break;
      }
    }
  }
  scaleBits ??= Math.min(DEFAULT_SCALE_BITS, 59 - integerBits);
  assertInteger('scaleBits', scaleBits, 20, 59);
  assertInteger('integerBits', integerBits, 1, 59 - scaleBits);
  const inputBound = options.inputBound ?? DEFAULT_INPUT_BOUND;
  if (typeof inputBound !== 'number' || !(inputBound > 0) || !Number.isFinite(inputBound)) {
    throw new RangeError(`inputBound must be a finite number > 0, got ${describeValue(inputBound)}`);
  }
  if (options.rotations !== undefined) assertArrayLike('rotations', options.rotations, 0, 64);
  const rotations = [...new Set(options.rotations ?? [])].sort((a, b) => a - b);
  const bits = bitsFor(depth, scaleBits, integerBits);
  const total = bits.reduce((a, b) => a + b, 0);
  const candidates = options.polyModulusDegree === undefined ? POLY_MODULUS_DEGREES : [options.polyModulusDegree];
  if (options.polyModulusDegree !== undefined && !POLY_MODULUS_DEGREES.includes(options.polyModulusDegree)) {
    throw new RangeError(
      `polyModulusDegree must be one of ${POLY_MODULUS_DEGREES.join(', ')}, got ${describeValue(options.polyModulusDegree)}`,
    );
  }
  const n = candidates.find((c) => total <= MAX_COEFF_BITS_128[c]);
  if (n === undefined) {
    const fit = POLY_MODULUS_DEGREES.find((c) => total <= MAX_COEFF_BITS_128[c]);
    const hint =
      fit === undefined
        ? 'reduce the depth, scaleBits or integerBits'
        : `use polyModulusDegree ${fit}, or reduce the depth, scaleBits or integerBits`;
    const at = options.polyModulusDegree ?? POLY_MODULUS_DEGREES[POLY_MODULUS_DEGREES.length - 1];
    throw new RangeError(
      `depth ${depth} at scale 2^${scaleBits} with ${integerBits} integer bits needs ${total} coefficient-modulus bits ` +
        `[${bits.join(', ')}], above the 128-bit security budget of ${MAX_COEFF_BITS_128[at]} bits for N = ${at}; ${hint}`,
    );
  }
  for (const r of rotations) assertInteger('rotation step', r, -(n / 2 - 1), n / 2 - 1);
  return {
    polyModulusDegree: n,
    coeffModulusBits: bits,
    scaleBits,
    depth,
    integerBits,
    slots: n / 2,
    rotations,
    inputBound,
    totalBits: total,
    maxTotalBits: MAX_COEFF_BITS_128[n],
    securityLevel: 128,
  };
}

/**
 * One line describing a plan, for logs and benchmark output.
 * @example
 * ```ts
 * describePlan(planParameters({ depth: 3 })); // 'CKKS N=8192 (4096 slots), q = [49, 40, 40, 40 | 49] = 218/218 bits, ...'
 * ```
 */
export function describePlan(plan: CkksPlan): string {
  plan = planFromJSON(plan);
  const data = plan.coeffModulusBits.slice(0, -1).join(', ');
  const special = plan.coeffModulusBits[plan.coeffModulusBits.length - 1];
  return (
    `CKKS N=${plan.polyModulusDegree} (${plan.slots} slots), q = [${data} | ${special}] = ${plan.totalBits}/${plan.maxTotalBits} bits, ` +
    `scale 2^${plan.scaleBits}, depth ${plan.depth}, |result| < 2^${plan.integerBits}, |input| <= ${plan.inputBound}, ` +
    `${plan.rotations.length === 0 ? 'no rotations' : `rotations [${plan.rotations.join(', ')}]`}, 128-bit security`
  );
}

/**
 * Checks that an object read from the wire is a well-formed plan and re-derives it (never trusts its totals).
 * @example
 * ```ts
 * const plan = planFromJSON(JSON.parse(JSON.stringify(planParameters({ depth: 2 }))));
 * ```
 */
export function planFromJSON(value: unknown): CkksPlan {
  if (value === null || typeof value !== 'object') throw new TypeError(`plan must be a CkksPlan object, got ${describeValue(value)}`);
  const v = value as Record<string, unknown>;
  // Every field must be present: a missing one would silently take its default and describe another plan.
  for (const k of ['depth', 'polyModulusDegree', 'scaleBits', 'integerBits', 'inputBound'] as const) {
    if (typeof v[k] !== 'number') throw new TypeError(`plan.${k} must be a number, got ${describeValue(v[k])}`);
  }
  if (!Array.isArray(v.rotations)) throw new TypeError(`plan.rotations must be an array, got ${describeValue(v.rotations)}`);
  const plan = planParameters({
    depth: v.depth as number,
    polyModulusDegree: v.polyModulusDegree as PolyModulusDegree,
    scaleBits: v.scaleBits as number,
    integerBits: v.integerBits as number,
    rotations: v.rotations as number[],
    inputBound: v.inputBound as number,
  });
  return plan;
}
