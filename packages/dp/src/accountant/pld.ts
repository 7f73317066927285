/**
 * Privacy loss distributions (PLDs) on a uniform grid, composed with the FFT: the tight accountant.
 *
 * Follows Koskela, Jälkö, Honkela 2020 (FFT composition) and Google's `dp_accounting` PLD library, with the
 * pessimistic "connect-the-dots" discretization of Doroshenko, Ghazi, Kamath, Kumar, Manurangsi 2022: every
 * bucket (l_{k−1}, l_k] of the (monotone) privacy loss sends its P-mass to its two end points so that both its
 * P-mass and its Q-mass (P-mass × e^{−loss}) are preserved. The resulting hockey-stick curve is the chord of the
 * true, convex curve e^ε ↦ δ(ε), hence above it for every ε: the discrete PLD dominates the mechanism and
 * composition keeps the domination. The lower tail (mass 1e-15 or less) is moved up to the first grid point,
 * the upper tail to +∞ (pessimistic). Self-composition raises the FFT to a power on a window chosen by Chernoff
 * bounds, so the mass outside (aliased or dropped) is at most 1e-15 per side, and that bound is added to the
 * infinite mass. Both directions of the add-or-remove-one relation are composed and the worse one is reported.
 * FFT: `fft.js` (radix-4, power-of-two sizes).
 * @module
 */
import FFT from 'fft.js';
import { normalCdf } from '../special.ts';
import { goldenSectionMin } from './internal-log-math.ts';

/** A discrete PLD: mass `probs[i]` at loss `(offset + i)·h`, plus mass `infinity` at +∞. */
export interface DiscretePld {
  readonly h: number;
  readonly offset: number;
  readonly probs: Float64Array;
  readonly infinity: number;
}

/**
 * Thrown internally when a PLD would need more grid points than allowed (callers fall back to RDP).
 * @example
 * ```ts
 * try { selfCompose(pld, 1e9); } catch (e) { if (e instanceof PldGridTooLargeError) useRdp(); }
 * ```
 */
export class PldGridTooLargeError extends RangeError {
  override name = 'PldGridTooLargeError';
}

/** Noise multipliers above this are handled in closed form (see {@link singleEventPld}). */
const HUGE_NOISE_MULTIPLIER = 1e100;

/** Tail mass left out on each side when truncating. */
const TAIL = 1e-15;
/**
 * Largest FFT / grid size (2^23 points, 128 MiB of complex doubles).
 * @example
 * ```ts
 * MAX_PLD_POINTS; // 8388608
 * ```
 */
export const MAX_PLD_POINTS: number = 1 << 23;

interface FftLike {
  transform(out: Float64Array, data: Float64Array): void;
  realTransform(out: Float64Array, data: Float64Array): void;
  completeSpectrum(spectrum: Float64Array): void;
  inverseTransform(out: Float64Array, data: Float64Array): void;
}

const fftCache = new Map<number, FftLike>();

function makeFft(n: number): FftLike {
  let f = fftCache.get(n);
  if (f === undefined) {
    if (fftCache.size > 8) fftCache.clear();
    f = new FFT(n) as unknown as FftLike;
    fftCache.set(n, f);
  }
  return f;
}

function nextPow2(n: number): number {
  let p = 2;
  while (p < n) p *= 2;
  return p;
}

/** CDF and survival function of a base noise distribution shifted by `mean`. */
interface TwoSided {
  cdf: number;
  sf: number;
}

/** The additive noise of a base mechanism (sensitivity 1): μ0 centred at 0, μ1 at 1. */
interface BaseNoise {
  /** ℓ0(x) = ln(μ1(x)/μ0(x)), nondecreasing. */
  loss(x: number): number;
  /** sup{x : ℓ0(x) <= v}. */
  xOfLoss(v: number): number;
  /** inf{x : ℓ0(x) >= v} (equal to xOfLoss where ℓ0 is strictly increasing). */
  xOfLossInf(v: number): number;
  /** CDF and survival at x of the noise centred at `mean`. */
  tails(x: number, mean: number): TwoSided;
  /** x range holding all but TAIL of μ0 and μ1. */
  xRange(): [number, number];
  /** Whether the privacy loss is bounded and xRange reaches its extremes (Laplace), so the range's losses are the sup and inf. */
  readonly bounded: boolean;
}

function gaussianNoise(sigma: number): BaseNoise {
  const z = 8.3; // Φ(−8.3) ≈ 5e-17
  return {
    loss: (x) => (2 * x - 1) / (2 * sigma * sigma),
    xOfLoss: (v) => sigma * sigma * v + 0.5,
    xOfLossInf: (v) => sigma * sigma * v + 0.5,
    tails: (x, mean) => {
      const t = (x - mean) / sigma;
      if (t < 0) {
        const cdf = normalCdf(t);
        return { cdf, sf: 1 - cdf };
      }
      const sf = normalCdf(-t);
      return { cdf: 1 - sf, sf };
    },
    xRange: () => [-z * sigma, 1 + z * sigma],
    bounded: false,
  };
}

function laplaceNoise(b: number): BaseNoise {
  const w = b * Math.log(1 / (2 * TAIL * 1e-2));
  return {
    loss: (x) => (Math.abs(x) - Math.abs(x - 1)) / b,
    xOfLoss: (v) => {
      if (v < -1 / b) return -Infinity;
      if (v >= 1 / b) return Infinity;
      return Math.max(0, Math.min(1, (1 + v * b) / 2));
    },
    xOfLossInf: (v) => {
      if (v <= -1 / b) return -Infinity;
      if (v > 1 / b) return Infinity;
      return Math.max(0, Math.min(1, (1 + v * b) / 2));
    },
    tails: (x, mean) => {
      const t = (x - mean) / b;
      if (t < 0) {
        const cdf = 0.5 * Math.exp(t);
        return { cdf, sf: 1 - cdf };
      }
      const sf = 0.5 * Math.exp(-t);
      return { cdf: 1 - sf, sf };
    },
    xRange: () => [-w, 1 + w],
    bounded: true,
  };
}

/** P(a < X <= b) from the CDF/SF at a <= b, choosing the form without cancellation. */
function intervalMass(cdfA: number, sfA: number, cdfB: number, sfB: number): number {
  let m: number;
  if (cdfB <= 0.5) m = cdfB - cdfA;
  else if (sfA <= 0.5) m = sfA - sfB;
  else m = 1 - cdfA - sfB;
  return Math.max(m, 0);
}

/** A base mechanism for the PLD builder. */
export type PldBase = { kind: 'gaussian'; noiseMultiplier: number } | { kind: 'laplace'; noiseMultiplier: number } | FiniteLoss;

/**
 * A privacy loss distribution with finitely many values (randomized response, an (ε, δ) pair), symmetric in
 * the two directions of the neighbouring relation; `key` identifies the mechanism for merging equal ones.
 */
export interface FiniteLoss {
  readonly kind: 'finite';
  readonly key: string;
  readonly losses: Float64Array;
  readonly masses: Float64Array;
  readonly infinity: number;
}

/**
 * Discretizes a finite PLD pessimistically: each loss is rounded up to the grid (`dp_accounting` does the same
 * for its pessimistic estimates), which can only raise δ(ε) and keeps E[e^{−L}] <= 1.
 * @example
 * ```ts
 * finitePld({ kind: 'finite', key: 'rr', losses: Float64Array.of(1, -1), masses: Float64Array.of(0.73, 0.27), infinity: 0 }, 1e-4);
 * ```
 */
export function finitePld(loss: FiniteLoss, h: number): DiscretePld {
  let lo = Infinity;
  let hi = -Infinity;
  const idx = new Float64Array(loss.losses.length);
  for (let i = 0; i < idx.length; i++) {
    idx[i] = Math.ceil(loss.losses[i] / h);
    if (loss.masses[i] > 0) {
      lo = Math.min(lo, idx[i]);
      hi = Math.max(hi, idx[i]);
    }
  }
  if (lo === Infinity) return { h, offset: 0, probs: new Float64Array(1), infinity: loss.infinity };
  const n = hi - lo + 1;
  if (!(n <= MAX_PLD_POINTS)) {
    throw new PldGridTooLargeError(`the privacy loss distribution needs ${n} grid points (limit ${MAX_PLD_POINTS})`);
  }
  const probs = new Float64Array(n);
  for (let i = 0; i < idx.length; i++) if (loss.masses[i] > 0) probs[idx[i] - lo] += loss.masses[i];
  return { h, offset: lo, probs, infinity: loss.infinity };
}

/**
 * Discretizes one (possibly Poisson-subsampled, rate q) Gaussian or Laplace step in one direction:
 * 'remove' is P = (1−q)μ0 + qμ1 against Q = μ0, 'add' is P = μ0 against Q = (1−q)μ0 + qμ1.
 * @example
 * ```ts
 * const remove = singleEventPld({ kind: 'gaussian', noiseMultiplier: 1 }, 0.01, 'remove', 1e-4);
 * ```
 */
export function singleEventPld(base: PldBase, q: number, direction: 'remove' | 'add', h: number): DiscretePld {
  if (q === 0) return { h, offset: 0, probs: Float64Array.of(1), infinity: 0 };
  if (base.kind === 'finite') {
    if (q !== 1) throw new RangeError('finite privacy loss distributions are amplified before they are discretized');
    return finitePld(base, h);
  }
  if (base.noiseMultiplier === 0) return { h, offset: 0, probs: new Float64Array(1), infinity: 1 };
  if (base.noiseMultiplier > HUGE_NOISE_MULTIPLIER) {
    // Closed form (σ² would overflow and the grid with it): a pair at total variation τ is dominated by the PLD
    // {0: 1 − τ, +∞: τ} (its hockey-stick curve (1 − τ)(1 − γ)⁺ + τ bounds γ·τ + (1 − γ)⁺ for every γ > 0).
    // τ <= q·TV(μ0, μ1): Gaussian TV = 2Φ(1/(2σ)) − 1 <= 1/(σ√(2π)); Laplace TV = 1 − e^{−1/(2b)}.
    const b = base.noiseMultiplier;
    const tv = q * (base.kind === 'gaussian' ? 1 / (b * Math.sqrt(2 * Math.PI)) : -Math.expm1(-1 / (2 * b)));
    return { h, offset: 0, probs: Float64Array.of(1 - tv), infinity: tv };
  }
  const noise = base.kind === 'gaussian' ? gaussianNoise(base.noiseMultiplier) : laplaceNoise(base.noiseMultiplier);
  const logq = Math.log(q);
  // Privacy loss as a function of x, and the x at which it crosses a loss value l.
  const lossOfBase = (v: number): number => (q === 1 ? v : Math.log1p(q * Math.expm1(v)));
  // remove: L = ln(1 − q + q e^{ℓ0}) <= l  <=>  ℓ0 <= ln(e^l − 1 + q) − ln q.
  // add:    L = −ln(1 − q + q e^{ℓ0}) <= l <=>  ℓ0 >= ln(e^{−l} − 1 + q) − ln q.
  const baseOfLoss = (l: number): number => {
    const u = direction === 'remove' ? Math.expm1(l) + q : Math.expm1(-l) + q;
    if (u <= 0) return -Infinity;
    return Math.log(u) - logq;
  };
  const [xLo, xHi] = noise.xRange();
  const lA = lossOfBase(noise.loss(xLo));
  const lB = lossOfBase(noise.loss(xHi));
  const lossLo = direction === 'remove' ? lA : -lB;
  const lossHi = direction === 'remove' ? lB : -lA;
  let kLo = Math.floor(lossLo / h);
  let kHi = Math.max(kLo + 1, Math.ceil(lossHi / h));
  // The grid must reach the extreme losses despite rounding of k·h (0.25 / 1e-4 rounds to 2500, and 2500 · 1e-4 to
  // just below 0.25): otherwise the mass on a flat top of the loss (Laplace: every x >= 1) falls beyond the last
  // grid point and is counted at +∞, a valid but useless bound.
  while (kLo * h > lossLo) kLo--;
  while (kHi * h < lossHi) kHi++;
  const n = kHi - kLo + 1;
  if (!(n <= MAX_PLD_POINTS)) {
    throw new PldGridTooLargeError(`the privacy loss distribution needs ${n} grid points (limit ${MAX_PLD_POINTS})`);
  }
  // x boundary of each grid loss, and the CDF / survival of μ0 and μ1 there.
  const cdf0 = new Float64Array(n);
  const sf0 = new Float64Array(n);
  const cdf1 = new Float64Array(n);
  const sf1 = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const v = baseOfLoss((kLo + k) * h);
    // remove: {L <= l} = {x <= xOfLoss(v)}; add: {L <= l} = {ℓ0 >= v} = {x >= xOfLossInf(v)}.
    // At or above the largest loss of a bounded loss every x qualifies; inverting the rounded loss could instead
    // land on the start of the flat top (Laplace: x = 1) and send its mass to +∞.
    const top = noise.bounded && (kLo + k) * h >= lossHi;
    const x = top ? (direction === 'remove' ? Infinity : -Infinity) : direction === 'remove' ? noise.xOfLoss(v) : noise.xOfLossInf(v);
    const a = tailsAt(noise, x, 0);
    cdf0[k] = a.cdf;
    sf0[k] = a.sf;
    const b = tailsAt(noise, x, 1);
    cdf1[k] = b.cdf;
    sf1[k] = b.sf;
  }
  const probs = new Float64Array(n);
  const mixP = (m0: number, m1: number): number => (1 - q) * m0 + q * m1;
  let infinity: number;
  const split = 1 / -Math.expm1(-h);
  if (direction === 'remove') {
    // L increasing in x: bucket (l_{k−1}, l_k] is x in (x_{k−1}, x_k].
    probs[0] = mixP(cdf0[0], cdf1[0]);
    for (let k = 1; k < n; k++) {
      const m0 = intervalMass(cdf0[k - 1], sf0[k - 1], cdf0[k], sf0[k]);
      const m1 = intervalMass(cdf1[k - 1], sf1[k - 1], cdf1[k], sf1[k]);
      distribute(probs, k, mixP(m0, m1), m0, (kLo + k - 1) * h, split);
    }
    infinity = mixP(sf0[n - 1], sf1[n - 1]);
  } else {
    // L decreasing in x: bucket (l_{k−1}, l_k] is x in [x_k, x_{k−1}).
    probs[0] = sf0[0];
    for (let k = 1; k < n; k++) {
      const m0 = intervalMass(cdf0[k], sf0[k], cdf0[k - 1], sf0[k - 1]);
      const m1 = intervalMass(cdf1[k], sf1[k], cdf1[k - 1], sf1[k - 1]);
      distribute(probs, k, m0, mixP(m0, m1), (kLo + k - 1) * h, split);
    }
    infinity = cdf0[n - 1];
  }
  return trim({ h, offset: kLo, probs, infinity });
}

function tailsAt(noise: BaseNoise, x: number, mean: number): TwoSided {
  if (x === -Infinity) return { cdf: 0, sf: 1 };
  if (x === Infinity) return { cdf: 1, sf: 0 };
  return noise.tails(x, mean);
}

/**
 * Connect-the-dots split of a bucket (l_{k−1}, l_k] with P-mass p and Q-mass qm: mass b at l_k and p − b at
 * l_{k−1} with b + (p − b) = p and (p − b)e^{−l_{k−1}} + b e^{−l_k} = qm.
 */
function distribute(probs: Float64Array, k: number, p: number, qm: number, lPrev: number, split: number): void {
  if (!(p > 0)) return;
  let b = (p - Math.exp(lPrev) * qm) * split;
  if (!(b > 0)) b = 0;
  else if (b > p) b = p;
  probs[k] += b;
  probs[k - 1] += p - b;
}

/** Drops leading/trailing zeros and moves negligible tails (<= TAIL) pessimistically: lower up, upper to +∞. */
function trim(pld: DiscretePld): DiscretePld {
  const { probs } = pld;
  const n = probs.length;
  let lo = 0;
  let lowMass = 0;
  while (lo < n - 1 && lowMass + probs[lo] <= TAIL) lowMass += probs[lo++];
  let hi = n - 1;
  let highMass = 0;
  while (hi > lo && highMass + probs[hi] <= TAIL) highMass += probs[hi--];
  if (lo === 0 && hi === n - 1) return pld;
  const out = probs.slice(lo, hi + 1);
  out[0] += lowMass;
  return { h: pld.h, offset: pld.offset + lo, probs: out, infinity: pld.infinity + highMass };
}

/** ln Σ_j m_j e^{t·x_j} for masses m at (sorted) positions x. */
function logMgf(pos: Float64Array, mass: Float64Array, t: number): number {
  const n = pos.length;
  const m = t > 0 ? t * pos[n - 1] : t * pos[0];
  let s = 0;
  for (let j = 0; j < n; j++) s += mass[j] * Math.exp(t * pos[j] - m);
  return m + Math.log(s);
}

/**
 * Index window [lo, hi] (relative to count·offset) holding all but TAIL of the count-fold sum on each side, by
 * Chernoff bounds optimized over the exponent (golden-section search; any exponent gives a valid bound).
 */
function chernoffWindow(probs: Float64Array, count: number): [number, number] {
  const n = probs.length;
  const mass = probs;
  const posHi = new Float64Array(n);
  for (let k = 0; k < n; k++) posHi[k] = k;
  const posLo = posHi;
  const logTail = Math.log(TAIL);
  const search = (sign: 1 | -1): number => {
    const pos = sign > 0 ? posHi : posLo;
    // Tail bound at exponent sign·e^u, quasi-convex in u: golden-section search on u in [ln 1e-9, ln 50].
    const f = (u: number): number => {
      const t = sign * Math.exp(u);
      // Upper end: U(t) = (count·ln M(t) − ln TAIL)/t; lower end: −L(t) = the same over |t|.
      return (count * logMgf(pos, mass, t) - logTail) / Math.abs(t);
    };
    return goldenSectionMin(f, Math.log(1e-9), Math.log(50), 24, 0);
  };
  const hi = search(1);
  const lo = -search(-1);
  const max = count * (n - 1);
  return [Math.max(0, Math.floor(Number.isFinite(lo) ? lo : 0)), Math.min(max, Math.ceil(Number.isFinite(hi) ? hi : max))];
}

/**
 * Width in loss units of the Chernoff window of the count-fold composition of a PLD.
 * @example
 * ```ts
 * composedLossWidth(singleEventPld({ kind: 'gaussian', noiseMultiplier: 1 }, 0.01, 'remove', 1e-3), 1000);
 * ```
 */
export function composedLossWidth(pld: DiscretePld, count: number): number {
  if (pld.probs.length === 1) return pld.h;
  const [lo, hi] = chernoffWindow(pld.probs, count);
  return (hi - lo + 1) * pld.h;
}

/**
 * count-fold self-composition of a PLD by an FFT power on a Chernoff window.
 * @example
 * ```ts
 * const t = selfCompose(singleEventPld({ kind: 'gaussian', noiseMultiplier: 1 }, 0.01, 'remove', 1e-4), 1000);
 * ```
 */
export function selfCompose(pld: DiscretePld, count: number): DiscretePld {
  if (count === 1) return pld;
  const finite = 1 - pld.infinity;
  const infinity = -Math.expm1(count * Math.log1p(-pld.infinity));
  const n = pld.probs.length;
  if (n === 1) {
    return { h: pld.h, offset: pld.offset * count, probs: Float64Array.of(finite > 0 ? finite ** count : 0), infinity };
  }
  const [lo, hi] = chernoffWindow(pld.probs, count);
  const width = hi - lo + 1;
  if (!(width >= 1 && width <= MAX_PLD_POINTS)) {
    // (An empty or inverted window comes from a distribution with almost all of its mass at +∞.)
    throw new PldGridTooLargeError(`composing ${count} events needs a window of ${width} points (limit ${MAX_PLD_POINTS})`);
  }
  const size = nextPow2(width);
  if (size > MAX_PLD_POINTS) {
    throw new PldGridTooLargeError(`composing ${count} events needs an FFT of ${size} points (limit ${MAX_PLD_POINTS})`);
  }
  const data = new Float64Array(size);
  for (let k = 0; k < n; k++) data[k % size] += pld.probs[k];
  const fft = makeFft(size);
  const spec = new Float64Array(2 * size);
  fft.realTransform(spec, data);
  fft.completeSpectrum(spec);
  for (let k = 0; k < size; k++) {
    const re = spec[2 * k];
    const im = spec[2 * k + 1];
    const mag = Math.hypot(re, im);
    const logR = count * Math.log(mag);
    if (!(logR > -745)) {
      spec[2 * k] = 0;
      spec[2 * k + 1] = 0;
      continue;
    }
    const r = Math.exp(logR);
    const th = count * Math.atan2(im, re);
    spec[2 * k] = r * Math.cos(th);
    spec[2 * k + 1] = r * Math.sin(th);
  }
  const out = new Float64Array(2 * size);
  fft.inverseTransform(out, spec);
  const probs = new Float64Array(width);
  for (let s = 0; s < width; s++) {
    const v = out[2 * ((lo + s) % size)];
    probs[s] = Math.max(v, 0);
  }
  return trim({ h: pld.h, offset: count * pld.offset + lo, probs, infinity: infinity + 2 * TAIL });
}

/** Number of nonzero entries of `xs`, counting at most up to `limit`. */
function nonZeros(xs: Float64Array, limit: number): number {
  let n = 0;
  for (let i = 0; i < xs.length && n < limit; i++) if (xs[i] !== 0) n++;
  return n;
}

/**
 * Composition of two PLDs on the same grid (FFT convolution).
 * @example
 * ```ts
 * const both = compose(a, b); // a, b on the same grid
 * ```
 */
export function compose(a: DiscretePld, b: DiscretePld): DiscretePld {
  const infinity = a.infinity + b.infinity - a.infinity * b.infinity;
  const na = a.probs.length;
  const nb = b.probs.length;
  const width = na + nb - 1;
  if (na === 1 || nb === 1) {
    const [one, other] = na === 1 ? [a, b] : [b, a];
    const probs = other.probs.map((x) => x * one.probs[0]);
    return trim({ h: a.h, offset: a.offset + b.offset, probs, infinity });
  }
  const nzA = nonZeros(a.probs, 33);
  const nzB = nonZeros(b.probs, 33);
  if (Math.min(nzA, nzB) <= 32) {
    // A sparse factor (randomized response, an (ε, δ) pair: two or three points on a wide grid): direct
    // convolution over its nonzero points, O(n·nonzeros), exact.
    const [long, short] = nzA > nzB ? [a.probs, b.probs] : [b.probs, a.probs];
    const probs = new Float64Array(width);
    for (let j = 0; j < short.length; j++) {
      const w = short[j];
      if (w === 0) continue;
      for (let i = 0; i < long.length; i++) probs[i + j] += w * long[i];
    }
    return trim({ h: a.h, offset: a.offset + b.offset, probs, infinity });
  }
  const size = nextPow2(width);
  if (size > MAX_PLD_POINTS) {
    throw new PldGridTooLargeError(`composing needs an FFT of ${size} points (limit ${MAX_PLD_POINTS})`);
  }
  const fft = makeFft(size);
  const da = new Float64Array(size);
  da.set(a.probs);
  const db = new Float64Array(size);
  db.set(b.probs);
  const sa = new Float64Array(2 * size);
  const sb = new Float64Array(2 * size);
  fft.realTransform(sa, da);
  fft.completeSpectrum(sa);
  fft.realTransform(sb, db);
  fft.completeSpectrum(sb);
  for (let k = 0; k < size; k++) {
    const re = sa[2 * k] * sb[2 * k] - sa[2 * k + 1] * sb[2 * k + 1];
    const im = sa[2 * k] * sb[2 * k + 1] + sa[2 * k + 1] * sb[2 * k];
    sa[2 * k] = re;
    sa[2 * k + 1] = im;
  }
  const out = new Float64Array(2 * size);
  fft.inverseTransform(out, sa);
  const probs = new Float64Array(width);
  for (let s = 0; s < width; s++) probs[s] = Math.max(out[2 * s], 0);
  return trim({ h: a.h, offset: a.offset + b.offset, probs, infinity });
}

/**
 * δ(ε) = P(L = ∞) + Σ_{l > ε} p_l (1 − e^{ε − l}) (hockey-stick divergence).
 * @example
 * ```ts
 * pldDelta(selfCompose(singleEventPld({ kind: 'gaussian', noiseMultiplier: 1 }, 1, 'remove', 1e-4), 3), 1);
 * ```
 */
export function pldDelta(pld: DiscretePld, epsilon: number): number {
  const { h, offset, probs } = pld;
  let d = 0;
  for (let k = probs.length - 1; k >= 0; k--) {
    const l = (offset + k) * h;
    if (l <= epsilon) break;
    d += probs[k] * -Math.expm1(epsilon - l);
  }
  return Math.min(1, Math.max(0, pld.infinity + d));
}

/**
 * Smallest ε >= 0 with δ(ε) <= delta (Infinity if the infinite mass alone exceeds delta).
 * @example
 * ```ts
 * pldEpsilon(selfCompose(singleEventPld({ kind: 'gaussian', noiseMultiplier: 1 }, 1, 'remove', 1e-4), 3), 1e-5);
 * ```
 */
export function pldEpsilon(pld: DiscretePld, delta: number): number {
  if (pld.infinity > delta) return Infinity;
  const { h, offset, probs } = pld;
  const n = probs.length;
  let massUpper = 0;
  // Σ p_l e^{−(l − lTop)}, scaled by e^{lTop} to stay in range; the scale is undone at the end.
  let massLower = 0;
  const lTop = (offset + n - 1) * h;
  const stepUp = Math.exp(h);
  let factor = 1; // e^{−(l − lTop)} for the current l, divided by e^{lTopShift}
  let lTopShift = 0;
  const budget = delta - pld.infinity;
  for (let k = n - 1; k >= 0; k--) {
    const l = (offset + k) * h;
    massUpper += probs[k];
    massLower += probs[k] * factor;
    factor *= stepUp;
    if (factor > 1e200) {
      // Keep e^{−(l − lTop)} finite on very wide supports: fold a factor 1e-200 into lTop.
      factor *= 1e-200;
      massLower *= 1e-200;
      lTopShift += 200 * Math.LN10;
    }
    // On [l_{k−1}, l_k): δ(ε) − inf = massUpper − e^{ε − lTop}·massLower.
    const lPrev = l - h;
    const dAtPrev = massUpper - Math.exp(lPrev - lTop + lTopShift) * massLower;
    if (dAtPrev > budget || k === 0) {
      if (massLower <= 0) return Math.max(0, l);
      const eps = lTop - lTopShift + Math.log((massUpper - budget) / massLower);
      return Math.max(0, Math.min(l, eps));
    }
  }
  return 0;
}
