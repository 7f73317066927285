/**
 * Rényi differential privacy (RDP) of the basic mechanisms, one invocation at a time, and the conversion of an
 * RDP curve to (ε, δ).
 *
 * - Poisson-sampled Gaussian: Mironov, Talwar, Zhang 2019 (arXiv 1908.10530), §3.3. Integer orders use the
 *   binomial expansion; fractional orders use the exact two-sided series with the signed generalized binomial
 *   coefficients C(α, i) (the series of `dp_accounting`'s `_compute_log_a_frac` takes |C(α, i)| and is an upper
 *   bound, about 3% high at α = 1.5 in small-q cases). Terms are summed in a shifted linear scale with
 *   compensated summation; the tail is alternating with decreasing magnitude, so stopping once the next terms
 *   are 37 nats below the largest bounds the truncation error by about 1e-16 relative.
 * - Gaussian: α/(2σ²). Laplace: Mironov 2017, Prop. 6.
 * - Gaussian with sampling without replacement (replace-one relation): Wang, Balle, Kasiviswanathan 2019
 *   (AISTATS), Thm 27 for integer orders and the convex interpolation of their Cor. 10 for fractional orders.
 * - Conversion to (ε, δ): Balle, Barthe, Gaboardi, Hsu, Sato 2020, Thm 21 (as in Opacus and `dp_accounting`),
 *   or the older Mironov 2017, Prop. 3 (TF Privacy before 2021); both are selectable and reported.
 * @module
 */
import { assertDelta, assertNonNegative, assertInteger, assertOptions, describeValue } from '@ppml/core';
import { MAX_EXPANSION_ORDER, checkConversion, checkNoiseMultiplier, checkOrders, checkSampleRate } from './internal-args.ts';
import { compensatedSum, log1mExp, logAdd } from './internal-log-math.ts';
import { logErfc } from '../special.ts';

/** Orders accepted by the RDP functions: any array of numbers > 1 (Infinity allowed). */
export type RdpOrders = readonly number[] | Float64Array;

/** Options of {@link sampledGaussianRdp}. */
export interface SampledGaussianRdpOptions {
  /** Poisson sampling rate q in (0, 1]; each example is included independently with probability q. */
  sampleRate: number;
  /** Noise standard deviation divided by the L2 sensitivity (σ >= 0; 0 means no noise). */
  noiseMultiplier: number;
  /** Rényi orders (default {@link DEFAULT_RDP_ORDERS}). */
  orders?: RdpOrders;
}

const MAX_SERIES_TERMS = 2_000_000;

/**
 * Above this noise multiplier the series are not evaluated: σ² would overflow (σ > 1.3e154) and the
 * fractional-order series would run to its term limit. Sampling never increases RDP, so the unsampled Gaussian's
 * α/(2σ²) (below 1e-196 here, hence ε = 0 at any δ the accountants accept) is a valid closed-form bound.
 */
const HUGE_NOISE_MULTIPLIER = 1e100;

/**
 * Above this noise multiplier, and with q close to 1/2 (z0 = σ²·ln(1/q − 1) + ½ below 1000σ), fractional orders of
 * the sampled Gaussian use the convex chord between integer orders (an upper bound; see
 * {@link sampledGaussianRdpAt}): there the series decays only polynomially and would need millions of terms
 * (seconds per order), while ε is essentially 0 anyway.
 */
const CHORD_NOISE_MULTIPLIER = 1e4;

/** α/(2σ²) without overflowing σ². */
function gaussianRdpClosedForm(sigma: number, alpha: number): number {
  return alpha / (2 * sigma) / sigma;
}
const LN2 = Math.LN2;

/** ln C(α, i) for integer α and 0 <= i <= α, through a running product (exact enough for α <= 1e6). */
function logBinomialRow(alpha: number): Float64Array {
  const row = new Float64Array(alpha + 1);
  for (let i = 0; i < alpha; i++) row[i + 1] = row[i] + Math.log((alpha - i) / (i + 1));
  return row;
}

function logSumExp(xs: Float64Array, n: number): number {
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (xs[i] > m) m = xs[i];
  if (m === -Infinity || m === Infinity) return m;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(xs[i] - m);
  return m + Math.log(s);
}

/** ln A_α for integer α >= 2 and 0 < q < 1 (MTZ19 eq. for integer orders). */
function logAInteger(q: number, sigma: number, alpha: number): number {
  const logC = logBinomialRow(alpha);
  const logq = Math.log(q);
  const log1mq = Math.log1p(-q);
  const inv2s2 = 1 / (2 * sigma * sigma);
  const terms = new Float64Array(alpha + 1);
  for (let i = 0; i <= alpha; i++) {
    terms[i] = logC[i] + i * logq + (alpha - i) * log1mq + (i * i - i) * inv2s2;
  }
  return logSumExp(terms, alpha + 1);
}

/** Number of tail terms used by the partial-sum averaging (Euler–van Wijngaarden) of the alternating tail. */
const ACCEL_TERMS = 32;

/**
 * ln A_α for fractional α > 1 and 0 < q < 1 (MTZ19 §3.3, signed series). Beyond i > α the coefficients
 * alternate in sign and the terms decay only polynomially (like i^{−α−2}) when z0/σ is small (q near 1/2 with a
 * large σ); there the alternating tail is summed by repeated averaging of its partial sums, accepted only when
 * two successive averaging levels agree to 1e-16 of the largest term.
 */
function logAFractional(q: number, sigma: number, alpha: number): number {
  const logq = Math.log(q);
  const log1mq = Math.log1p(-q);
  const inv2s2 = 1 / (2 * sigma * sigma);
  const z0 = sigma * sigma * (log1mq - logq) + 0.5;
  const c = Math.SQRT2 * sigma;
  const term0 = (i: number, lc: number): number =>
    lc + i * logq + (alpha - i) * log1mq + (i * i - i) * inv2s2 + logErfc((i - z0) / c) - LN2;
  const term1 = (i: number, lc: number): number => {
    const j = alpha - i;
    return lc + j * logq + i * log1mq + (j * j - j) * inv2s2 + logErfc((z0 - j) / c) - LN2;
  };
  let cap = 256;
  let logs = new Float64Array(cap);
  let signs = new Int8Array(cap);
  let n = 0;
  let maxLog = -Infinity;
  let logAbsCoef = 0;
  let sign = 1;
  let prev0 = Infinity;
  let prev1 = Infinity;
  let nextAccel = 0;
  let tail = 0;
  for (let i = 0; i < MAX_SERIES_TERMS; i++) {
    const s0 = term0(i, logAbsCoef);
    const s1 = term1(i, logAbsCoef);
    if (n + 2 > cap) {
      cap *= 2;
      const nl = new Float64Array(cap);
      nl.set(logs);
      logs = nl;
      const ns = new Int8Array(cap);
      ns.set(signs);
      signs = ns;
    }
    logs[n] = s0;
    signs[n++] = sign;
    logs[n] = s1;
    signs[n++] = sign;
    if (s0 > maxLog) maxLog = s0;
    if (s1 > maxLog) maxLog = s1;
    const ratio = (alpha - i) / (i + 1);
    if (ratio === 0) break;
    const decreasing = i > alpha + 1 && s0 <= prev0 && s1 <= prev1;
    if (decreasing && Math.max(s0, s1) < maxLog - 37) break;
    prev0 = s0;
    prev1 = s1;
    logAbsCoef += Math.log(Math.abs(ratio));
    if (ratio < 0) sign = -sign;
    // Terms decay like i^{−(α+2)}: estimate where direct summation would stop, and accelerate only if far.
    const directEnd = decreasing ? i * Math.exp((Math.max(s0, s1) - (maxLog - 37)) / (alpha + 2)) : Infinity;
    if (decreasing && i >= nextAccel && directEnd - i > 2 * ACCEL_TERMS && i > z0 + 3 * sigma && alpha - i < z0 - 3 * sigma) {
      // Partial sums of the next ACCEL_TERMS signed terms, then repeated pairwise averaging.
      const partial = new Float64Array(ACCEL_TERMS);
      let lc = logAbsCoef;
      let sg = sign;
      let acc = 0;
      for (let k = 0; k < ACCEL_TERMS; k++) {
        const ii = i + 1 + k;
        acc += sg * (Math.exp(term0(ii, lc) - maxLog) + Math.exp(term1(ii, lc) - maxLog));
        partial[k] = acc;
        const r = (alpha - ii) / (ii + 1);
        lc += Math.log(Math.abs(r));
        if (r < 0) sg = -sg;
      }
      let prevLevel = Number.NaN;
      for (let len = ACCEL_TERMS; len > 1; len--) {
        for (let k = 0; k + 1 < len; k++) partial[k] = 0.5 * (partial[k] + partial[k + 1]);
        if (len === 3) prevLevel = partial[0];
      }
      if (Math.abs(partial[0] - prevLevel) < 1e-16) {
        tail = partial[0];
        break;
      }
      nextAccel = 2 * i;
    }
  }
  const scaled = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) scaled[k] = signs[k] * Math.exp(logs[k] - maxLog);
  scaled[n] = tail;
  const s = compensatedSum(scaled, n + 1);
  return s > 0 ? maxLog + Math.log(s) : 0;
}

/**
 * RDP at one order of one Poisson-sampled Gaussian step (validated inputs).
 * @example
 * ```ts
 * sampledGaussianRdpAt(0.01, 1.1, 2.5);
 * ```
 */
export function sampledGaussianRdpAt(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (sigma === 0 || alpha === Infinity) return Infinity;
  if (q === 1 || sigma > HUGE_NOISE_MULTIPLIER || alpha > MAX_EXPANSION_ORDER) return gaussianRdpClosedForm(sigma, alpha);
  // 1/(2σ²) overflows for σ below about 1e-154: the i = α term alone then exceeds every double (RDP = ∞).
  if (1 / (2 * sigma * sigma) === Infinity) return Infinity;
  if (!Number.isInteger(alpha) && sigma > CHORD_NOISE_MULTIPLIER && Math.abs(Math.log(1 / q - 1)) * sigma < 1e3) {
    // ln A_α = ln E[(μ/μ0)^α] is convex in α (a log moment-generating function; Hölder), so the chord between the
    // neighbouring integer orders is an upper bound; A_1 = 1.
    const lo = Math.floor(alpha);
    const t = alpha - lo;
    const logLo = lo === 1 ? 0 : logAInteger(q, sigma, lo);
    const logHi = logAInteger(q, sigma, lo + 1);
    return Math.max(0, ((1 - t) * logLo + t * logHi) / (alpha - 1));
  }
  const logA = Number.isInteger(alpha) ? logAInteger(q, sigma, alpha) : logAFractional(q, sigma, alpha);
  return Math.max(0, logA / (alpha - 1));
}

/**
 * RDP of ONE step of the Poisson-sampled Gaussian mechanism at each order (Mironov, Talwar, Zhang 2019). Compose
 * T steps by multiplying by T. The relation is add-or-remove-one; q = 1 gives the plain Gaussian α/(2σ²).
 * @example
 * ```ts
 * const rdp = sampledGaussianRdp({ sampleRate: 0.01, noiseMultiplier: 1.1, orders: [1.5, 2, 32] });
 * ```
 */
export function sampledGaussianRdp(options: SampledGaussianRdpOptions): Float64Array {
  assertOptions('options', options, ['sampleRate', 'noiseMultiplier', 'orders']);
  const { sampleRate, noiseMultiplier, orders } = options;
  checkSampleRate(sampleRate);
  checkNoiseMultiplier(noiseMultiplier);
  const a = checkOrders(orders);
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = sampledGaussianRdpAt(sampleRate, noiseMultiplier, a[k]);
  return out;
}

/**
 * RDP of the Gaussian mechanism with noise multiplier σ (std / L2 sensitivity): α/(2σ²) at each order.
 * @example
 * ```ts
 * gaussianRdp({ noiseMultiplier: 2, orders: [2] }); // Float64Array [0.25]
 * ```
 */
export function gaussianRdp(options: { noiseMultiplier: number; orders?: RdpOrders }): Float64Array {
  assertOptions('options', options, ['noiseMultiplier', 'orders']);
  const { noiseMultiplier, orders } = options;
  checkNoiseMultiplier(noiseMultiplier);
  const a = checkOrders(orders);
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = noiseMultiplier === 0 ? Infinity : gaussianRdpClosedForm(noiseMultiplier, a[k]);
  return out;
}

/**
 * RDP at one order of the Laplace mechanism with pure-DP parameter ε = sensitivity/scale (validated).
 * @example
 * ```ts
 * laplaceRdpAt(1, 2); // RDP at order 2 of Laplace with ε = 1
 * ```
 */
export function laplaceRdpAt(eps: number, alpha: number): number {
  if (eps === Infinity) return Infinity;
  if (eps === 0) return 0;
  if (alpha === Infinity) return eps;
  if (alpha < 1.1) {
    // log1p(c·x)/x by its Taylor series, stable as α -> 1 (0 <= -c·x <= 0.1).
    const c = Math.expm1(eps * (1 - 2 * alpha)) / (2 * alpha - 1);
    const v = -c * (alpha - 1);
    let s = 0;
    let p = 1;
    for (let k = 1; k < 100; k++) {
      s += p / k;
      p *= v;
      if (p < 1e-20) break;
    }
    return eps + c * s;
  }
  return eps + Math.log1p(((alpha - 1) * Math.expm1(eps * (1 - 2 * alpha))) / (2 * alpha - 1)) / (alpha - 1);
}

/**
 * RDP of the Laplace mechanism with noise multiplier b (scale / L1 sensitivity), i.e. ε = 1/b pure DP
 * (Mironov 2017, Prop. 6): ε + ln(1 + (α−1)(e^{(1−2α)ε} − 1)/(2α−1))/(α−1).
 * @example
 * ```ts
 * laplaceRdp({ noiseMultiplier: 1, orders: [2] });
 * ```
 */
export function laplaceRdp(options: { noiseMultiplier: number; orders?: RdpOrders }): Float64Array {
  assertOptions('options', options, ['noiseMultiplier', 'orders']);
  const { noiseMultiplier, orders } = options;
  checkNoiseMultiplier(noiseMultiplier);
  const a = checkOrders(orders);
  const eps = noiseMultiplier === 0 ? Infinity : 1 / noiseMultiplier;
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = laplaceRdpAt(eps, a[k]);
  return out;
}

/** ln of the k-th forward difference at 0 of h(m) = exp(m(m−1)/(2σ²)), or NaN when cancellation makes it unreliable. */
function logForwardDifference(k: number, inv2s2: number, logC: Float64Array): number {
  let pos = -Infinity;
  let neg = -Infinity;
  for (let m = 0; m <= k; m++) {
    const t = logC[m] + m * (m - 1) * inv2s2;
    if ((k - m) % 2 === 0) pos = logAdd(pos, t);
    else neg = logAdd(neg, t);
  }
  if (!(pos > neg)) return Number.NaN;
  const rel = Math.exp(neg - pos);
  // Each log-sum carries about k·2^-52 relative error; demand the difference be far above it.
  if (1 - rel < 1e-12 * (k + 1)) return Number.NaN;
  return pos + log1mExp(neg - pos);
}

function logSworInteger(q: number, sigma: number, alpha: number): number {
  if (alpha === 1) return 0;
  const inv2s2 = 1 / (2 * sigma * sigma);
  const eps2 = 2 * inv2s2;
  const logq = Math.log(q);
  const logCa = logBinomialRow(alpha);
  const logF2m1 = eps2 + log1mExp(-eps2);
  let logA = 0;
  logA = logAdd(logA, 2 * logq + logCa[2] + Math.min(Math.log(4) + logF2m1, eps2 + LN2));
  const useDiffs = alpha <= 256;
  const diffs = new Float64Array(alpha + 2).fill(Number.NaN);
  if (useDiffs) {
    for (let k = 2; k <= alpha + 1; k += 2) diffs[k] = logForwardDifference(k, inv2s2, logBinomialRow(k));
  }
  for (let i = 3; i <= alpha; i++) {
    let bound = LN2 + (i - 1) * i * inv2s2;
    if (useDiffs) {
      const lo = diffs[2 * Math.floor(i / 2)];
      const hi = diffs[2 * Math.ceil(i / 2)];
      const viaDiffs = Math.log(4) + 0.5 * (lo + hi);
      if (viaDiffs < bound) bound = viaDiffs;
    }
    logA = logAdd(logA, bound + i * logq + logCa[i]);
  }
  return logA;
}

/**
 * RDP at one order of one Gaussian step on a uniformly random subset of fixed size (validated inputs).
 * @example
 * ```ts
 * sampledWithoutReplacementGaussianRdpAt(0.01, 1, 4);
 * ```
 */
export function sampledWithoutReplacementGaussianRdpAt(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (sigma === 0 || alpha === Infinity) return Infinity;
  if (q === 1 || sigma > HUGE_NOISE_MULTIPLIER || alpha > MAX_EXPANSION_ORDER) return gaussianRdpClosedForm(sigma, alpha);
  if (1 / (2 * sigma * sigma) === Infinity) return Infinity;
  if (Number.isInteger(alpha)) return logSworInteger(q, sigma, alpha) / (alpha - 1);
  const lo = Math.floor(alpha);
  const hi = Math.ceil(alpha);
  const t = alpha - lo;
  return ((1 - t) * logSworInteger(q, sigma, lo) + t * logSworInteger(q, sigma, hi)) / (alpha - 1);
}

/** Options of {@link sampledWithoutReplacementGaussianRdp}. */
export interface SampledWithoutReplacementGaussianRdpOptions {
  /** Size n of the dataset the batch is drawn from (public under the replace-one relation). */
  datasetSize: number;
  /** Batch size m (0 <= m <= n), drawn uniformly without replacement. */
  sampleSize: number;
  /** Noise standard deviation divided by the L2 sensitivity. */
  noiseMultiplier: number;
  /** Rényi orders (default {@link DEFAULT_RDP_ORDERS}). */
  orders?: RdpOrders;
}

/**
 * RDP (upper bound) of ONE step of the Gaussian mechanism on a batch of fixed size m drawn without replacement
 * from n examples, under the replace-one relation (Wang, Balle, Kasiviswanathan 2019, Thm 27 and Cor. 10).
 * @example
 * ```ts
 * sampledWithoutReplacementGaussianRdp({ datasetSize: 1000, sampleSize: 10, noiseMultiplier: 1, orders: [2, 4] });
 * ```
 */
export function sampledWithoutReplacementGaussianRdp(options: SampledWithoutReplacementGaussianRdpOptions): Float64Array {
  assertOptions('options', options, ['datasetSize', 'sampleSize', 'noiseMultiplier', 'orders']);
  const { datasetSize, sampleSize, noiseMultiplier, orders } = options;
  assertInteger('datasetSize', datasetSize, 1);
  assertInteger('sampleSize', sampleSize, 0, datasetSize);
  checkNoiseMultiplier(noiseMultiplier);
  const a = checkOrders(orders);
  const q = sampleSize / datasetSize;
  const out = new Float64Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = sampledWithoutReplacementGaussianRdpAt(q, noiseMultiplier, a[k]);
  return out;
}

/** How an RDP curve is turned into (ε, δ). */
export type RdpConversion = 'balle2020' | 'mironov2017';

/** Result of {@link rdpToEpsilon}. */
export interface RdpEpsilon {
  /** The smallest ε over the orders (>= 0, possibly Infinity). */
  epsilon: number;
  /** The order that achieved it. */
  order: number;
  /** True when that order is the first or last of the list: more orders could give a smaller ε. */
  orderAtBoundary: boolean;
  /** The conversion used. */
  conversion: RdpConversion;
}

/** Result of {@link rdpToDelta}. */
export interface RdpDelta {
  delta: number;
  order: number;
  orderAtBoundary: boolean;
  conversion: RdpConversion;
}

/** Options of {@link rdpToEpsilon}. */
export interface RdpToEpsilonOptions {
  orders: RdpOrders;
  /** Total RDP at each order (same length as `orders`). */
  rdp: ArrayLike<number>;
  delta: number;
  /** Default 'balle2020' (Balle et al. 2020, Thm 21; Opacus, dp_accounting). */
  conversion?: RdpConversion;
}

function checkCurve(orders: RdpOrders, rdp: unknown): Float64Array {
  const a = checkOrders(orders);
  if (rdp === null || typeof rdp !== 'object' || typeof (rdp as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`rdp must be an array of numbers >= 0, got ${describeValue(rdp)}`);
  }
  const r = rdp as ArrayLike<number>;
  if (r.length !== a.length) {
    throw new RangeError(`rdp must have the same length as orders (${a.length}), got length ${r.length}`);
  }
  for (let i = 0; i < r.length; i++) {
    const v = r[i];
    if (typeof v !== 'number') throw new TypeError(`rdp[${i}] must be a number >= 0, got ${describeValue(v)}`);
    if (!(v >= 0)) throw new RangeError(`rdp[${i}] must be a number >= 0 (Infinity allowed), got ${describeValue(v)}`);
  }
  return a;
}

/**
 * ε at one order (validated inputs).
 * @example
 * ```ts
 * epsilonAtOrder(2, 0.1, Math.log(1e-5), 'balle2020');
 * ```
 */
export function epsilonAtOrder(alpha: number, r: number, logDelta: number, conversion: RdpConversion): number {
  if (r === Infinity) return Infinity;
  if (alpha === Infinity) return r;
  if (conversion === 'mironov2017') return r - logDelta / (alpha - 1);
  const delta = Math.exp(logDelta);
  if (delta * delta + Math.expm1(-r) > 0) return 0; // KL bound: δ <= sqrt(1 - e^{-KL}).
  if (alpha <= 1.01) return Infinity;
  return r + Math.log1p(-1 / alpha) - (logDelta + Math.log(alpha)) / (alpha - 1);
}

/**
 * Minimizes ε over the orders (validated inputs).
 * @example
 * ```ts
 * minimizeEpsilon(Float64Array.of(2, 4), [0.1, 0.3], 1e-5, 'balle2020').epsilon;
 * ```
 */
export function minimizeEpsilon(orders: Float64Array, rdp: ArrayLike<number>, delta: number, conversion: RdpConversion): RdpEpsilon {
  const logDelta = Math.log(delta);
  let best = Infinity;
  let idx = 0;
  for (let k = 0; k < orders.length; k++) {
    const e = epsilonAtOrder(orders[k], rdp[k], logDelta, conversion);
    if (e < best) {
      best = e;
      idx = k;
    }
  }
  return {
    epsilon: Math.max(0, best),
    order: orders[idx],
    orderAtBoundary: best > 0 && best < Infinity && (idx === 0 || idx === orders.length - 1) && orders.length > 1,
    conversion,
  };
}

/**
 * Minimizes δ over the orders (validated inputs).
 * @example
 * ```ts
 * minimizeDelta(Float64Array.of(2, 4), [0.1, 0.3], 1, 'balle2020').delta;
 * ```
 */
export function minimizeDelta(orders: Float64Array, rdp: ArrayLike<number>, epsilon: number, conversion: RdpConversion): RdpDelta {
  let best = Infinity;
  let idx = 0;
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k];
    const r = rdp[k];
    let logDelta: number;
    if (r === Infinity) logDelta = Infinity;
    else if (a === Infinity) logDelta = r <= epsilon ? -Infinity : Infinity;
    else if (conversion === 'mironov2017') logDelta = (a - 1) * (r - epsilon);
    else {
      logDelta = r === 0 ? -Infinity : 0.5 * log1mExp(-r);
      if (a > 1.01) logDelta = Math.min(logDelta, (a - 1) * (r - epsilon + Math.log1p(-1 / a)) - Math.log(a));
    }
    if (logDelta < best) {
      best = logDelta;
      idx = k;
    }
  }
  return {
    delta: Math.min(1, Math.exp(best)),
    order: orders[idx],
    orderAtBoundary: best > -Infinity && best < 0 && (idx === 0 || idx === orders.length - 1) && orders.length > 1,
    conversion,
  };
}

/**
 * Converts a total RDP curve to the smallest ε such that the mechanism is (ε, δ)-DP, optimizing over the orders.
 * Default conversion: Balle et al. 2020, Thm 21: ε = min_α [RDP(α) + ln((α−1)/α) − (ln δ + ln α)/(α−1)].
 * @example
 * ```ts
 * const orders = [2, 4, 8, 16, 32];
 * const rdp = sampledGaussianRdp({ sampleRate: 0.01, noiseMultiplier: 1, orders }).map((r) => r * 1000);
 * rdpToEpsilon({ orders, rdp, delta: 1e-5 }).epsilon;
 * ```
 */
export function rdpToEpsilon(options: RdpToEpsilonOptions): RdpEpsilon {
  assertOptions('options', options, ['orders', 'rdp', 'delta', 'conversion']);
  const { orders, rdp, delta, conversion = 'balle2020' } = options;
  const a = checkCurve(orders, rdp);
  assertDelta(delta);
  checkConversion(conversion);
  return minimizeEpsilon(a, rdp, delta, conversion);
}

/**
 * Converts a total RDP curve to the smallest δ such that the mechanism is (ε, δ)-DP (inverse of
 * {@link rdpToEpsilon}; Balle et al. 2020, Thm 21, and the KL bound δ <= sqrt(1 − e^{−RDP})).
 * @example
 * ```ts
 * rdpToDelta({ orders: [2, 4], rdp: [0.1, 0.2], epsilon: 1 }).delta;
 * ```
 */
export function rdpToDelta(options: { orders: RdpOrders; rdp: ArrayLike<number>; epsilon: number; conversion?: RdpConversion }): RdpDelta {
  assertOptions('options', options, ['orders', 'rdp', 'epsilon', 'conversion']);
  const { orders, rdp, epsilon, conversion = 'balle2020' } = options;
  const a = checkCurve(orders, rdp);
  assertNonNegative('epsilon', epsilon);
  checkConversion(conversion);
  return minimizeDelta(a, rdp, epsilon, conversion);
}
